//! Helpers shared by the `mirror_*` end-to-end tests: servers, plan text,
//! full snapshots and run options.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ftp_mirror::events::{Event, EventSink};
use ftp_mirror::plan::Plan;
use ftp_mirror::report::RunReport;
use ftp_mirror::run::{run_plan, RunOptions};
use ftp_proto::client::{Config, Password, Timeouts};
use ftp_serve::{Server, ServerConfig, ServerHandle};

/// Every test is stopped after this long.
pub const LIMIT: Duration = Duration::from_secs(120);

/// Starts an anonymous ftp-serve on `root`.
pub fn serve(root: &Path) -> ServerHandle {
    serve_with(root, None)
}

/// Starts an ftp-serve on `root` that accepts only `user`/`password` when given.
pub fn serve_with(root: &Path, credentials: Option<(&str, &str)>) -> ServerHandle {
    let config = ServerConfig {
        root: root.to_path_buf(),
        credentials: credentials.map(|(u, p)| (u.to_string(), Password::new(p))),
        ..ServerConfig::default()
    };
    Server::bind(config)
        .expect("bind ftp-serve")
        .spawn()
        .expect("spawn ftp-serve")
}

/// Options for tests: few retries, short waits.
pub fn options() -> RunOptions {
    RunOptions {
        max_retries: 1,
        wait_timeout: Some(Duration::from_secs(20)),
        client: Config {
            timeouts: Timeouts {
                connect: Duration::from_secs(5),
                control: Duration::from_secs(10),
                data_connect: Duration::from_secs(5),
                data: Duration::from_secs(10),
                final_reply: Duration::from_secs(10),
            },
            ..Config::default()
        },
        ..RunOptions::default()
    }
}

/// One `<module>` element.
pub struct ModuleSpec<'a> {
    pub id: &'a str,
    pub addr: SocketAddr,
    pub location: &'a str,
    pub stage: &'a Path,
    /// `(backup_location, keep_history)`: sets keep_original="yes".
    pub backup: Option<(&'a Path, &'a str)>,
    /// `<ftp_uid>` and the whole `<ftp_password ...>` element.
    pub login: Option<(&'a str, String)>,
}

impl ModuleSpec<'_> {
    pub fn xml(&self) -> String {
        let mut attrs = format!("id=\"{}\" common_name=\"{} files\"", self.id, self.id);
        let mut backup = String::new();
        if let Some((dir, keep)) = self.backup {
            attrs.push_str(&format!(" keep_original=\"yes\" keep_history=\"{keep}\""));
            backup = format!("<backup_location>{}</backup_location>", dir.display());
        }
        let login = match &self.login {
            Some((user, password)) => format!("<ftp_uid>{user}</ftp_uid>{password}"),
            None => String::new(),
        };
        format!(
            "<module {attrs}>\n  <ftp_info machine_name=\"{}\">{login}<ftp_location>{}</ftp_location></ftp_info>\n  \
             <stage_location>{}</stage_location>{backup}\n</module>\n",
            self.addr,
            self.location,
            self.stage.display()
        )
    }
}

/// A `<machine>` element distributing `(module id, local_location)` pairs.
pub fn machine_xml(name: &str, entries: &[(&str, &Path)]) -> String {
    let mut xml = format!("<machine machine_name=\"{name}\">\n");
    for (id, path) in entries {
        xml.push_str(&format!(
            "  <distribute_module><module_name id=\"{id}\"/><local_location>{}</local_location></distribute_module>\n",
            path.display()
        ));
    }
    xml.push_str("</machine>\n");
    xml
}

/// A whole plan, with an inline DTD as operators write them.
pub fn plan_xml(modules: &[ModuleSpec], machines: &[String]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE download [\n  <!ELEMENT download ANY>\n]>\n<download>\n<config_list>\n  \
         <config_item id=\"NUM_CONNECTION\">3</config_item>\n  <config_item id=\"FTP_TIMEOUT\">20</config_item>\n\
         </config_list>\n<module_list>\n",
    );
    for m in modules {
        xml.push_str(&m.xml());
    }
    xml.push_str("</module_list>\n<machine_list>\n");
    for m in machines {
        xml.push_str(m);
    }
    xml.push_str("</machine_list>\n</download>\n");
    xml
}

/// Parses the plan (panics with the error) and runs it with `opts`.
pub fn run(xml: &str, opts: &RunOptions) -> RunReport {
    let plan = Plan::from_str(xml).unwrap_or_else(|e| panic!("plan: {e}\n{xml}"));
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    run_plan(&plan, opts, &ftp_mirror::events::NoEvents)
}

/// Writes `content` at `path` with the modification time `secs` after 1970.
pub fn write_at(path: &Path, content: &[u8], secs: u64) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, content).unwrap();
    let when = UNIX_EPOCH + Duration::from_secs(secs);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

/// One entry of a [`full_snapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Dir,
    File {
        content: Vec<u8>,
        modified: SystemTime,
    },
    Link(PathBuf),
}

/// Every path under `root` (hidden ones too) with contents and times;
/// empty when `root` does not exist.
pub fn full_snapshot(root: &Path) -> BTreeMap<PathBuf, Item> {
    let mut out = BTreeMap::new();
    if root.exists() {
        collect(root, Path::new(""), &mut out);
    }
    out
}

fn collect(root: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, Item>) {
    for entry in fs::read_dir(root.join(rel)).unwrap() {
        let entry = entry.unwrap();
        let rel = rel.join(entry.file_name());
        let path = root.join(&rel);
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            out.insert(rel.clone(), Item::Dir);
            collect(root, &rel, out);
        } else if meta.is_file() {
            let item = Item::File {
                content: fs::read(&path).unwrap(),
                modified: meta.modified().unwrap(),
            };
            out.insert(rel, item);
        } else {
            out.insert(rel, Item::Link(fs::read_link(&path).unwrap()));
        }
    }
}

/// An event sink that keeps every event.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<Event>>);

impl EventSink for Recorder {
    fn event(&self, event: &Event) {
        self.0.lock().unwrap().push(event.clone());
    }
}

/// The names directly in `dir`, sorted (empty when it does not exist).
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}
