//! The mirror plan: which modules to mirror from which servers, where to
//! stage them, how many earlier copies to keep and where to distribute them.
//!
//! A plan is read from the XML format operators already use (see
//! `docs/plan-format.md`), inline `<!DOCTYPE download [...]>` included:
//!
//! ```
//! use ftp_mirror::plan::{KeepHistory, Plan};
//!
//! let plan = Plan::from_str(r#"<?xml version="1.0"?>
//! <!DOCTYPE download [ <!ENTITY stage "/srv/stage"> ]>
//! <download>
//!   <module_list>
//!     <module id="NIGHTLY" keep_original="yes" keep_history="3">
//!       <alias_name_list><alias_name>latest</alias_name></alias_name_list>
//!       <ftp_info machine_name="ftp.example.net:2121">
//!         <ftp_location>/builds/nightly</ftp_location>
//!       </ftp_info>
//!       <stage_location>&stage;</stage_location>
//!       <backup_location>/srv/backup</backup_location>
//!     </module>
//!   </module_list>
//! </download>"#).unwrap();
//!
//! let nightly = &plan.select(&["latest"]).unwrap()[0];
//! assert_eq!(nightly.id, "NIGHTLY");
//! assert_eq!(nightly.server.port, 2121);
//! assert_eq!(nightly.server.user, "anonymous");
//! assert_eq!(nightly.local_dir(), std::path::Path::new("/srv/stage/nightly"));
//! assert_eq!(nightly.keep_history, KeepHistory::Last(3));
//! assert_eq!(plan.settings.num_connection, 4);
//! ```
//!
//! Unknown elements and attributes are ignored with a warning (kept in
//! [`Plan::warnings`] with their line and logged); anything missing or wrong
//! is a [`PlanError`] naming the element and its line. Passwords are held in
//! [`Password`], whose `Debug` prints `***`, so neither `Debug` of a plan nor
//! any error shows them.

mod base64;
mod parse;
mod validate;

pub(crate) use validate::normalize;

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use ftp_proto::client::Password;

/// Sessions per server when `NUM_CONNECTION` is absent.
pub const DEFAULT_NUM_CONNECTION: usize = 4;
/// Seconds a transfer waits for a free session when `FTP_TIMEOUT` is absent.
pub const DEFAULT_FTP_TIMEOUT_SECS: u64 = 600;
/// Transfer buffer in KiB when `BUFFER_SIZE` is absent.
pub const DEFAULT_BUFFER_KIB: usize = 64;
/// The largest accepted `BUFFER_SIZE`, in KiB (64 MiB).
pub const MAX_BUFFER_KIB: usize = 64 * 1024;
/// The largest accepted `NUM_CONNECTION`.
pub const MAX_NUM_CONNECTION: usize = 256;

/// A parsed and checked mirror plan.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The `config_list` settings, with defaults filled in.
    pub settings: Settings,
    /// The modules, in plan order.
    pub modules: Vec<Module>,
    /// The distribution machines, in plan order.
    pub machines: Vec<Machine>,
    /// Unknown elements and attributes that were ignored, each with its line.
    pub warnings: Vec<String>,
}

/// The `config_list` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `LOG`: a log file written in addition to stderr.
    pub log_file: Option<PathBuf>,
    /// `NUM_CONNECTION`: the most sessions open at once to one server.
    pub num_connection: usize,
    /// `FTP_TIMEOUT`: how long a transfer may wait for a free session.
    pub ftp_timeout: Duration,
    /// `LOG_LEVEL`.
    pub log_level: LogLevel,
    /// `BUFFER_SIZE`, converted from KiB to bytes.
    pub buffer_size: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            log_file: None,
            num_connection: DEFAULT_NUM_CONNECTION,
            ftp_timeout: Duration::from_secs(DEFAULT_FTP_TIMEOUT_SECS),
            log_level: LogLevel::Info,
            buffer_size: DEFAULT_BUFFER_KIB * 1024,
        }
    }
}

/// The `LOG_LEVEL` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogLevel {
    /// `DEBUG`
    Debug,
    /// `INFO` (the default)
    Info,
    /// `WARNING` (also `WARN`)
    Warning,
    /// `ERROR`
    Error,
}

impl LogLevel {
    /// Parses `DEBUG`, `INFO`, `WARNING`/`WARN` or `ERROR`, in any case.
    pub fn parse(text: &str) -> Option<LogLevel> {
        match text.trim().to_ascii_uppercase().as_str() {
            "DEBUG" => Some(LogLevel::Debug),
            "INFO" => Some(LogLevel::Info),
            "WARNING" | "WARN" => Some(LogLevel::Warning),
            "ERROR" => Some(LogLevel::Error),
            _ => None,
        }
    }

    /// The matching `log` filter.
    pub fn to_level_filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Warning => log::LevelFilter::Warn,
            LogLevel::Error => log::LevelFilter::Error,
        }
    }
}

/// One remote directory to mirror (`module_list/module`).
#[derive(Clone, Debug)]
pub struct Module {
    /// The unique id used in logs, reports and on the command line.
    pub id: String,
    /// Further names (`alias_name_list/alias_name`), empty ones dropped.
    pub aliases: Vec<String>,
    /// `common_name`, kept for reports.
    pub common_name: Option<String>,
    /// `install_depot_name`, kept for reports.
    pub install_depot_name: Option<String>,
    /// The server and the account (`ftp_info`).
    pub server: Server,
    /// The remote directory (`ftp_info/ftp_location`), as written (trimmed).
    pub ftp_location: String,
    /// `stage_location`: the tree lands in `stage_location/<leaf>`.
    pub stage_location: PathBuf,
    /// `backup_location`: where earlier copies go when `keep_original` is set.
    pub backup_location: Option<PathBuf>,
    /// `keep_original="yes"`: keep the replaced copy in `backup_location`.
    pub keep_original: bool,
    /// `keep_history`: how many replaced copies to keep.
    pub keep_history: KeepHistory,
    /// The line of the `<module>` element.
    pub line: u32,
}

impl Module {
    /// The last part of `ftp_location`: the directory name in the stage.
    pub fn leaf(&self) -> &str {
        leaf_of(&self.ftp_location).unwrap_or_default()
    }

    /// Where the current copy lives: `stage_location/<leaf>`.
    pub fn local_dir(&self) -> PathBuf {
        self.stage_location.join(self.leaf())
    }

    /// The remote directory as raw bytes, as the FTP client takes it.
    pub fn remote_root(&self) -> Vec<u8> {
        self.ftp_location.as_bytes().to_vec()
    }

    /// Whether `name` is this module's id or one of its aliases.
    pub fn is_named(&self, name: &str) -> bool {
        self.id == name || self.aliases.iter().any(|a| a == name)
    }
}

/// An FTP server and the account used on it.
#[derive(Clone, Debug)]
pub struct Server {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port (21 unless `host:port` says otherwise).
    pub port: u16,
    /// `ftp_uid` (`anonymous` when absent).
    pub user: String,
    /// `ftp_password`, decoded; `Debug` prints `***`.
    pub password: Password,
}

/// How many replaced copies a module keeps (`keep_history`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepHistory {
    /// `no` (the default): exactly one backup, replaced each time.
    No,
    /// A number N ≥ 1: the N newest replaced copies, rotated newest first
    /// as `<leaf>`, `<leaf>.1`, … `<leaf>.{N-1}`.
    Last(usize),
    /// `yes`: every replaced copy, rotated without limit.
    All,
}

impl KeepHistory {
    /// How many backups are kept at most (`None`: no limit).
    pub fn limit(self) -> Option<NonZeroUsize> {
        match self {
            KeepHistory::No => NonZeroUsize::new(1),
            KeepHistory::Last(n) => NonZeroUsize::new(n.max(1)),
            KeepHistory::All => None,
        }
    }
}

/// A distribution machine (`machine_list/machine`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    /// `machine_name`.
    pub name: String,
    /// Its `distribute_module` entries.
    pub distributions: Vec<Distribution>,
    /// The line of the `<machine>` element.
    pub line: u32,
}

/// One `distribute_module` entry: copy a module to a local directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distribution {
    /// The module's id (an alias in the plan is resolved to the id).
    pub module: String,
    /// `local_location`: the directory that receives the copy.
    pub local_location: PathBuf,
    /// The line of the `<distribute_module>` element.
    pub line: u32,
}

/// A plan that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The plan file could not be read.
    #[error("cannot read plan {}: {source}", path.display())]
    Io {
        /// The plan file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not well-formed XML (the message has the position).
    #[error("plan is not valid XML: {0}")]
    Xml(String),
    /// An element or value is missing or wrong.
    #[error("line {line}: {message}")]
    Invalid {
        /// The line of the element at fault.
        line: u32,
        /// What is wrong, naming the element.
        message: String,
    },
    /// A name given on the command line is neither a module id nor an alias.
    #[error("unknown module {name:?} (known: {})", known.join(", "))]
    UnknownModule {
        /// The name asked for.
        name: String,
        /// The module ids of the plan.
        known: Vec<String>,
    },
    /// An error in a plan file, with the file's path.
    #[error("{}: {source}", path.display())]
    InFile {
        /// The plan file.
        path: PathBuf,
        /// The error.
        source: Box<PlanError>,
    },
}

impl Plan {
    /// Parses and checks a plan. Warnings are logged and kept in
    /// [`Plan::warnings`].
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Plan, PlanError> {
        let mut plan = parse::parse(text)?;
        validate::check(&plan)?;
        let shared = validate::shared_logins(&plan);
        plan.warnings.extend(shared);
        for warning in &plan.warnings {
            log::warn!("plan: {warning}");
        }
        Ok(plan)
    }

    /// Reads, parses and checks a plan file. Errors name the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Plan, PlanError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Plan::from_str(&text).map_err(|e| PlanError::InFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// The modules named by `names` (ids or aliases), in plan order and each
    /// once; all modules when `names` is empty.
    pub fn select<S: AsRef<str>>(&self, names: &[S]) -> Result<Vec<&Module>, PlanError> {
        if names.is_empty() {
            return Ok(self.modules.iter().collect());
        }
        for name in names {
            let name = name.as_ref();
            if !self.modules.iter().any(|m| m.is_named(name)) {
                return Err(PlanError::UnknownModule {
                    name: name.to_string(),
                    known: self.modules.iter().map(|m| m.id.clone()).collect(),
                });
            }
        }
        Ok(self
            .modules
            .iter()
            .filter(|m| names.iter().any(|n| m.is_named(n.as_ref())))
            .collect())
    }

    /// The module with this id or alias.
    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.is_named(name))
    }

    /// Every destination of the module `id`, with its machine, in plan order.
    pub fn destinations_of<'a>(
        &'a self,
        id: &'a str,
    ) -> impl Iterator<Item = (&'a Machine, &'a Distribution)> + 'a {
        self.machines.iter().flat_map(move |machine| {
            machine
                .distributions
                .iter()
                .filter(move |d| d.module == id)
                .map(move |d| (machine, d))
        })
    }
}

impl std::str::FromStr for Plan {
    type Err = PlanError;

    /// Same as the inherent [`Plan::from_str`].
    fn from_str(text: &str) -> Result<Plan, PlanError> {
        Plan::from_str(text)
    }
}

/// The last non-empty `/`-separated part of a remote path, if it can name a
/// local directory (not `.` or `..`).
pub(crate) fn leaf_of(remote: &str) -> Option<&str> {
    let leaf = remote.rsplit('/').find(|part| !part.is_empty())?;
    (leaf != "." && leaf != "..").then_some(leaf)
}

#[cfg(test)]
mod tests;
