//! The `ftp-mirror` command: a thin layer over the `ftp-mirror` library.
//! It parses arguments, calls the library, prints events and reports, and
//! maps the outcome to an exit code (see `exit`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod demo_cmd;
mod exit;
mod get_cmd;
mod logging;
mod ls_cmd;
mod progress;
mod run_cmd;
mod serve_cmd;
mod signals;
mod summary;

/// Mirror directory trees from FTP servers, fast and safely.
#[derive(Parser, Debug)]
#[command(name = "ftp-mirror", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a mirror plan (XML): every module, or those named with --module.
    Run(run_cmd::RunArgs),
    /// Fetch one file, or mirror one directory, from an ftp:// URL.
    Get(get_cmd::GetArgs),
    /// List a remote directory.
    Ls(ls_cmd::LsArgs),
    /// Serve a directory read-only over FTP.
    Serve(serve_cmd::ServeArgs),
    /// Run the main job on a built-in sample: serve a tree, mirror two modules, distribute them.
    Demo(demo_cmd::DemoArgs),
}

/// Options shared by `run`, `get` and `demo`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Show what would be fetched, kept and copied; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write a machine-readable report to FILE (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Sessions per server (for `run`: overrides the plan's NUM_CONNECTION; default 4).
    #[arg(short = 'j', long = "connections", value_name = "N",
          value_parser = parse_connections)]
    pub connections: Option<usize>,
    /// DEBUG, INFO, WARNING or ERROR (overrides LOG_LEVEL).
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub log_level: Option<log::LevelFilter>,
    /// No progress bar or progress lines.
    #[arg(long)]
    pub no_progress: bool,
    /// List directories with STAT and pipelined MLST over the control
    /// connection: no data connection per directory, one or two round trips
    /// instead of three. Only for servers whose STAT lists every entry (pyftpdlib,
    /// ftp-mirror serve); ProFTPD hides dot files unless `ListOptions -a`
    /// is set.
    #[arg(long)]
    pub stat_listings: bool,
    /// Active mode: the server connects to this machine for every transfer
    /// (EPRT, or PORT). Only where the server can reach this machine.
    #[arg(long)]
    pub active: bool,
    /// Send every command alone and wait for its reply, for servers that
    /// drop commands sent ahead (login, EPSV with its transfer).
    #[arg(long)]
    pub no_pipelining: bool,
    /// Leave out remote files and directories matching GLOB (repeatable):
    /// matched against the path below the module's root; without `/` it
    /// matches the name at any depth (`*.tmp`), a leading `/` anchors at
    /// the root, a trailing `/` matches directories only (`.incoming/`),
    /// `*` stops at `/`, `**` crosses it (`**/*.iso`).
    #[arg(long = "exclude", value_name = "GLOB", value_parser = parse_exclude)]
    pub exclude: Vec<ftp_mirror::filter::Pattern>,
}

impl CommonArgs {
    /// Checks before the run that the `--json` file can be written, so a
    /// long run does not end with its report lost. The file is created if
    /// missing and left as it is otherwise (it is replaced at the end).
    pub fn check_json_target(&self) -> Result<(), String> {
        match &self.json {
            Some(path) if !self.json_on_stdout() => std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map(drop)
                .map_err(|e| format!("cannot write the report to {}: {e}", path.display())),
            _ => Ok(()),
        }
    }

    /// Whether `--json -` sends the report to stdout (which then carries
    /// the JSON alone).
    pub fn json_on_stdout(&self) -> bool {
        self.json.as_ref().is_some_and(|p| p.as_os_str() == "-")
    }

    /// The engine options these arguments ask for.
    pub fn run_options(&self) -> ftp_mirror::run::RunOptions {
        let mut opts = ftp_mirror::run::RunOptions {
            dry_run: self.dry_run,
            connections: self.connections,
            ..ftp_mirror::run::RunOptions::default()
        };
        if self.stat_listings {
            opts.listing = ftp_mirror::walk::ListingMode::Stat;
        }
        if self.active {
            opts.client.data_mode = ftp_proto::client::DataMode::Active;
        }
        if self.no_pipelining {
            opts.client.pipeline = false;
        }
        opts.exclude = ftp_mirror::filter::Exclude::from_patterns(self.exclude.iter().cloned());
        opts.interrupt = signals::interrupt();
        opts
    }
}

fn parse_connections(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err(format!("{s:?} is not a number of sessions from 1 to 256")),
    }
}

fn parse_exclude(s: &str) -> Result<ftp_mirror::filter::Pattern, String> {
    ftp_mirror::filter::Pattern::new(s).map_err(|e| e.to_string())
}

fn parse_level(s: &str) -> Result<log::LevelFilter, String> {
    ftp_mirror::plan::LogLevel::parse(s)
        .map(|l| l.to_level_filter())
        .ok_or_else(|| format!("unknown log level {s:?} (DEBUG, INFO, WARNING or ERROR)"))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let level = match &cli.command {
        Command::Run(a) => a.common.log_level,
        Command::Get(a) => a.common.log_level,
        Command::Demo(a) => a.common.log_level,
        _ => None,
    };
    logging::init(level.unwrap_or(log::LevelFilter::Info));
    match &cli.command {
        Command::Run(args) => run_cmd::run(args),
        Command::Get(args) => get_cmd::run(args),
        Command::Ls(args) => ls_cmd::run(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Demo(args) => demo_cmd::run(args),
    }
}
