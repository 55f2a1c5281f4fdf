//! The tools compared, and the exact command line of each (one function per
//! tool, so a changed CLI is a one-place fix).
//!
//! Settings that would distort the comparison are documented here and in
//! `docs/benchmarks.md`:
//! - ftp-mirror-stat: `ftp-mirror get` with `--stat-listings`, ftp-mirror's
//!   opt-in control-connection listing: every directory is listed with
//!   `STAT <dir>` plus pipelined `MLST` on the control connection instead of
//!   MLSD over a data connection. It is opt-in because some servers (ProFTPD
//!   without `ListOptions -a`) hide dot files from STAT; pyftpdlib shows
//!   them. It is measured next to plain `ftp-mirror` (default settings) so
//!   both listing modes are on record, on pyftpdlib and on ftp-serve.
//! - lftp: `ftp:ssl-allow no` (no AUTH TLS attempt; no tool here uses TLS),
//!   `net:max-retries 2` and `net:reconnect-interval-base 1` (fail fast instead
//!   of retrying for minutes), `cmd:fail-exit yes`. Everything else is lftp's
//!   default, including `ftp:sync-mode` (lftp's command pipelining) and
//!   `mirror:parallel-directories`.
//! - lftp-stat: lftp as above plus `ftp:use-stat-for-list yes`, lftp's
//!   opt-in control-connection listing: directories are listed with
//!   `STAT .` on the control connection instead of LIST over a data
//!   connection (off by default in lftp, as what STAT shows differs between
//!   servers). It is there so ftp-mirror-stat also meets a peer that lists
//!   the same way. It also needs `ftp:use-mlsd no`: lftp's mirror lists with
//!   MLSD whenever the server's FEAT offers MLST (pyftpdlib does), and
//!   `ftp:use-stat-for-list` only replaces LIST, so without it lftp-stat
//!   sent exactly lftp's commands (checked in a proxy trace). Listing with
//!   STAT, lftp then asks MDTM for every file (a LIST-style listing has no
//!   exact times); that is part of what its STAT mode costs.
//! - rclone: `--retries 1 --low-level-retries 2` (no whole-run retries),
//!   `--multi-thread-streams 0` (its ranged multi-stream download of large
//!   files fails intermittently against pyftpdlib with 426),
//!   checkers = transfers = sessions, an on-the-fly `:ftp,...` remote, and
//!   `--ftp-concurrency N` so it uses N connections like everyone else
//!   (`rclone-uncapped` leaves that out: its checkers and transfers then
//!   open up to 2N connections).
//! - wget: `-m -nH` over one connection (reported as 1 session); `-m` implies
//!   `-N`, which makes the unchanged re-run skip files by timestamp.
//! - curl: fetches the files of a tree one after another over one session,
//!   only for the large-file tree (it cannot mirror).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::runner::find_in_path;

/// A tool under comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tool {
    /// Our `ftp-mirror get`.
    FtpMirror,
    /// Our `ftp-mirror get --stat-listings` (directories listed with STAT
    /// and MLST over the control connection).
    FtpMirrorStat,
    /// `lftp -c "mirror -P N"`.
    Lftp,
    /// `lftp -c "set ftp:use-mlsd no; set ftp:use-stat-for-list yes; mirror -P N"`.
    LftpStat,
    /// `rclone copy` capped at N FTP connections (`--ftp-concurrency N`).
    Rclone,
    /// `rclone copy --transfers N --checkers N` without a connection cap:
    /// checkers and transfers then use up to 2N connections.
    RcloneUncapped,
    /// `wget -m`.
    Wget,
    /// `curl` fetching listed files.
    Curl,
    /// A Python ftplib session pool (`benches/py/ftplib_pool.py`).
    FtplibPool,
}

/// Every tool, ours first (the default `--tools`).
pub const ALL_TOOLS: [Tool; 9] = [
    Tool::FtpMirror,
    Tool::FtpMirrorStat,
    Tool::Lftp,
    Tool::LftpStat,
    Tool::Rclone,
    Tool::RcloneUncapped,
    Tool::Wget,
    Tool::Curl,
    Tool::FtplibPool,
];

impl Tool {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Tool::FtpMirror => "ftp-mirror",
            Tool::FtpMirrorStat => "ftp-mirror-stat",
            Tool::Lftp => "lftp",
            Tool::LftpStat => "lftp-stat",
            Tool::Rclone => "rclone",
            Tool::RcloneUncapped => "rclone-uncapped",
            Tool::Wget => "wget",
            Tool::Curl => "curl",
            Tool::FtplibPool => "ftplib-pool",
        }
    }

    /// Parses a report name.
    pub fn from_name(name: &str) -> Option<Tool> {
        ALL_TOOLS.into_iter().find(|t| t.name() == name)
    }

    /// True for ftp-mirror and its variants (every tool whose name starts
    /// with `ftp-mirror`); every other tool is a peer.
    pub fn is_ftp_mirror(self) -> bool {
        self.name().starts_with("ftp-mirror")
    }

    /// The tool this one is a setting of (`ftp-mirror-stat` is
    /// `ftp-mirror`, `lftp-stat` is `lftp`); itself for the others. A variant
    /// behaves like its base in everything but the command line.
    pub fn base(self) -> Tool {
        match self {
            Tool::FtpMirrorStat => Tool::FtpMirror,
            Tool::LftpStat => Tool::Lftp,
            t => t,
        }
    }

    /// Sessions (control connections) the tool may use when `requested`
    /// are asked for.
    pub fn sessions(self, requested: usize) -> usize {
        match self.base() {
            Tool::Wget | Tool::Curl => 1,
            Tool::RcloneUncapped => 2 * requested,
            _ => requested,
        }
    }

    /// True for tools that always use one session (measured once per RTT).
    pub fn single_session(self) -> bool {
        matches!(self.base(), Tool::Wget | Tool::Curl)
    }

    /// True when an unchanged re-run skips what is already there.
    pub fn incremental(self) -> bool {
        matches!(
            self.base(),
            Tool::FtpMirror | Tool::Lftp | Tool::Rclone | Tool::RcloneUncapped | Tool::Wget
        )
    }

    /// True when the tool mirrors whole trees (curl only fetches named files).
    pub fn mirrors_trees(self) -> bool {
        self.base() != Tool::Curl
    }

    /// File names the tool leaves in the destination on purpose.
    pub fn ignored_names(self) -> &'static [&'static str] {
        match self.base() {
            Tool::Wget => &[".listing"],
            _ => &[],
        }
    }

    /// The external program this tool needs, or the reason it is missing.
    pub fn check_available(self, env: &ToolEnv) -> Result<(), String> {
        let need = |p: &Path, hint: &str| {
            if p.is_file() {
                Ok(())
            } else {
                Err(format!(
                    "{} not found at {} ({hint})",
                    self.name(),
                    p.display()
                ))
            }
        };
        match self.base() {
            Tool::FtpMirror => need(
                &env.ftp_mirror,
                "build it with `cargo build --release -p ftp-mirror-cli` or set FTP_MIRROR_BIN",
            ),
            Tool::FtplibPool => need(&env.python, "run scripts/bench.sh --setup to create .venv"),
            _ => match find_in_path(self.program()) {
                Some(_) => Ok(()),
                None => Err(format!(
                    "{} is not installed: run `scripts/bench.sh --setup` \
                     (apt-get install -y lftp rclone wget curl)",
                    self.program()
                )),
            },
        }
    }

    fn program(self) -> &'static str {
        match self {
            Tool::FtpMirror | Tool::FtpMirrorStat => "ftp-mirror",
            Tool::Lftp | Tool::LftpStat => "lftp",
            Tool::Rclone | Tool::RcloneUncapped => "rclone",
            Tool::Wget => "wget",
            Tool::Curl => "curl",
            Tool::FtplibPool => "python",
        }
    }

    /// The command that mirrors the server at `job.addr` into `job.dest`.
    pub fn command(self, env: &ToolEnv, job: &Job) -> Command {
        match self {
            Tool::FtpMirror => ftp_mirror_command(env, job),
            Tool::FtpMirrorStat => ftp_mirror_stat_command(env, job),
            Tool::Lftp => lftp_command(job),
            Tool::LftpStat => lftp_stat_command(job),
            Tool::Rclone => rclone_command(env, job, true),
            Tool::RcloneUncapped => rclone_command(env, job, false),
            Tool::Wget => wget_command(job),
            Tool::Curl => curl_command(job),
            Tool::FtplibPool => ftplib_pool_command(env, job),
        }
    }
}

/// Where the tools live.
#[derive(Clone, Debug)]
pub struct ToolEnv {
    /// The `ftp-mirror` binary.
    pub ftp_mirror: PathBuf,
    /// Python with the standard library (the pool only needs ftplib).
    pub python: PathBuf,
    /// `benches/py/ftplib_pool.py`.
    pub pool_script: PathBuf,
    /// `rclone obscure` of the anonymous password (rclone wants it obscured).
    pub rclone_pass: String,
    /// Directory for rclone's config and cache (kept out of $HOME).
    pub scratch: PathBuf,
    /// The `bench-exec` wrapper that measures a tool's own peak RSS (see
    /// `src/bin/bench-exec.rs`); without it RSS includes the harness's.
    pub exec_wrapper: Option<PathBuf>,
}

impl ToolEnv {
    /// Locates the tools: `$FTP_MIRROR_BIN` or `target/release/ftp-mirror`,
    /// the benchmark Python, and obscures the rclone password when rclone is
    /// installed.
    pub fn discover(scratch: &Path) -> ToolEnv {
        let root = crate::server::repo_root();
        let ftp_mirror = match std::env::var_os("FTP_MIRROR_BIN") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => root.join("target/release/ftp-mirror"),
        };
        let rclone_pass = find_in_path("rclone")
            .and_then(|rclone| {
                let out = Command::new(rclone)
                    .args(["obscure", "anonymous@"])
                    .output()
                    .ok()?;
                out.status
                    .success()
                    .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
            })
            .unwrap_or_default();
        ToolEnv {
            ftp_mirror,
            python: crate::server::python(),
            pool_script: root.join("benches/py/ftplib_pool.py"),
            rclone_pass,
            scratch: scratch.to_path_buf(),
            exec_wrapper: crate::runner::find_exec_wrapper(),
        }
    }
}

/// One mirroring job.
#[derive(Clone, Debug)]
pub struct Job {
    /// The server (or the latency proxy in front of it).
    pub addr: SocketAddr,
    /// The local destination directory.
    pub dest: PathBuf,
    /// Requested parallel sessions.
    pub sessions: usize,
    /// Files of the tree, relative (for curl).
    pub files: Vec<String>,
}

fn url(job: &Job) -> String {
    format!("ftp://{}/", job.addr)
}

/// `ftp-mirror get ftp://HOST:PORT/ DEST -j N --no-progress`.
fn ftp_mirror_command(env: &ToolEnv, job: &Job) -> Command {
    let mut c = Command::new(&env.ftp_mirror);
    c.arg("get")
        .arg(url(job))
        .arg(&job.dest)
        .arg("-j")
        .arg(job.sessions.to_string())
        .arg("--no-progress");
    c
}

/// `ftp-mirror get ftp://HOST:PORT/ DEST -j N --no-progress --stat-listings`.
fn ftp_mirror_stat_command(env: &ToolEnv, job: &Job) -> Command {
    let mut c = ftp_mirror_command(env, job);
    c.arg("--stat-listings");
    c
}

/// `lftp -c "set ...; open ...; mirror -P N --only-newer / DEST"`.
fn lftp_command(job: &Job) -> Command {
    lftp_with_settings(job, "")
}

/// `lftp -c "set ...; set ftp:use-mlsd no; set ftp:use-stat-for-list yes; open ...;
/// mirror -P N --only-newer / DEST"` (`ftp:use-mlsd no`, or lftp keeps
/// listing with MLSD; see the module documentation).
fn lftp_stat_command(job: &Job) -> Command {
    lftp_with_settings(job, "set ftp:use-mlsd no; set ftp:use-stat-for-list yes; ")
}

/// The lftp command line with `extra` (`set ...;` commands) after the common
/// settings.
fn lftp_with_settings(job: &Job, extra: &str) -> Command {
    let script = format!(
        "set net:max-retries 2; set net:reconnect-interval-base 1; set net:timeout 30; \
         set ftp:ssl-allow no; set cmd:fail-exit yes; {extra}\
         open -u anonymous,anonymous@ -p {port} {host}; \
         mirror -P {n} --only-newer / \"{dest}\"",
        port = job.addr.port(),
        host = job.addr.ip(),
        n = job.sessions,
        dest = job.dest.display(),
    );
    let mut c = Command::new("lftp");
    c.arg("-c").arg(script);
    c
}

/// `rclone copy :ftp,host=..,port=..,user=anonymous,pass=..: DEST --transfers N --checkers N`,
/// with `--ftp-concurrency N` when `capped` (at most N connections).
fn rclone_command(env: &ToolEnv, job: &Job, capped: bool) -> Command {
    let remote = format!(
        ":ftp,host={},port={},user=anonymous,pass={}:",
        job.addr.ip(),
        job.addr.port(),
        env.rclone_pass
    );
    let mut c = Command::new("rclone");
    c.arg("copy")
        .arg(remote)
        .arg(&job.dest)
        .args(["--transfers", &job.sessions.to_string()])
        .args(["--checkers", &job.sessions.to_string()])
        .args(["--retries", "1", "--low-level-retries", "2", "-q"])
        // rclone 1.60 fetches files over 250 MiB in 4 ranged streams; against
        // pyftpdlib those intermittently fail with "426 Transfer aborted"
        // (a stream closes its data connection early), so one stream per file.
        .args(["--multi-thread-streams", "0"])
        .env("RCLONE_CONFIG", env.scratch.join("rclone.conf"))
        .env("RCLONE_CACHE_DIR", env.scratch.join("rclone-cache"));
    if capped {
        c.args(["--ftp-concurrency", &job.sessions.to_string()]);
    }
    c
}

/// `wget -m -nH -q -P DEST ftp://HOST:PORT/` (one connection).
fn wget_command(job: &Job) -> Command {
    let mut c = Command::new("wget");
    c.args(["-m", "-nH", "-q", "--tries=2", "--timeout=30", "-P"])
        .arg(&job.dest)
        .arg(url(job));
    c
}

/// `curl -sS --fail --create-dirs -o DEST/F1 URL1 -o DEST/F2 URL2 ...`
/// (one session, files one after another).
fn curl_command(job: &Job) -> Command {
    let mut c = Command::new("curl");
    c.args(["-sS", "--fail", "--create-dirs", "--connect-timeout", "30"]);
    for f in &job.files {
        c.arg("-o")
            .arg(job.dest.join(f))
            .arg(format!("{}{}", url(job), f));
    }
    c
}

/// `python benches/py/ftplib_pool.py --host H --port P --dest DEST --sessions N`.
fn ftplib_pool_command(env: &ToolEnv, job: &Job) -> Command {
    let mut c = Command::new(&env.python);
    c.arg(&env.pool_script)
        .args(["--host", &job.addr.ip().to_string()])
        .args(["--port", &job.addr.port().to_string()])
        .arg("--dest")
        .arg(&job.dest)
        .args(["--sessions", &job.sessions.to_string()]);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            addr: "127.0.0.1:2121".parse().expect("addr"),
            dest: PathBuf::from("/tmp/out"),
            sessions: 16,
            files: vec!["x/a.dat".into(), "b.dat".into()],
        }
    }

    fn env() -> ToolEnv {
        ToolEnv {
            ftp_mirror: PathBuf::from("/bin/ftp-mirror"),
            python: PathBuf::from("/usr/bin/python3"),
            pool_script: PathBuf::from("/x/ftplib_pool.py"),
            rclone_pass: "OBSCURED".into(),
            scratch: PathBuf::from("/tmp/s"),
            exec_wrapper: None,
        }
    }

    fn argv(c: &Command) -> Vec<String> {
        std::iter::once(c.get_program())
            .chain(c.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn command_lines() {
        let (env, job) = (env(), job());
        assert_eq!(
            argv(&Tool::FtpMirror.command(&env, &job)),
            [
                "/bin/ftp-mirror",
                "get",
                "ftp://127.0.0.1:2121/",
                "/tmp/out",
                "-j",
                "16",
                "--no-progress"
            ]
        );
        let stat = argv(&Tool::FtpMirrorStat.command(&env, &job));
        assert_eq!(stat[..7], argv(&Tool::FtpMirror.command(&env, &job))[..]);
        assert_eq!(stat[7..], ["--stat-listings"]);
        let lftp = argv(&Tool::Lftp.command(&env, &job));
        assert!(
            lftp[2].contains("open -u anonymous,anonymous@ -p 2121 127.0.0.1"),
            "{lftp:?}"
        );
        assert!(
            lftp[2].contains("mirror -P 16 --only-newer / \"/tmp/out\""),
            "{lftp:?}"
        );
        assert!(!lftp[2].contains("use-stat-for-list"), "{lftp:?}");
        let lftp_stat = argv(&Tool::LftpStat.command(&env, &job));
        assert_eq!(
            lftp_stat[2],
            lftp[2].replace(
                "set cmd:fail-exit yes; ",
                "set cmd:fail-exit yes; set ftp:use-mlsd no; set ftp:use-stat-for-list yes; "
            )
        );
        let rclone = argv(&Tool::Rclone.command(&env, &job));
        assert_eq!(
            rclone[2],
            ":ftp,host=127.0.0.1,port=2121,user=anonymous,pass=OBSCURED:"
        );
        assert!(rclone.windows(2).any(|w| w == ["--transfers", "16"]));
        assert!(rclone.windows(2).any(|w| w == ["--checkers", "16"]));
        assert!(rclone.windows(2).any(|w| w == ["--ftp-concurrency", "16"]));
        let uncapped = argv(&Tool::RcloneUncapped.command(&env, &job));
        assert!(!uncapped.iter().any(|a| a == "--ftp-concurrency"));
        assert_eq!(Tool::RcloneUncapped.sessions(16), 32);
        let curl = argv(&Tool::Curl.command(&env, &job));
        assert!(curl
            .windows(3)
            .any(|w| w == ["-o", "/tmp/out/x/a.dat", "ftp://127.0.0.1:2121/x/a.dat"]));
        assert_eq!(Tool::Wget.sessions(16), 1);
        assert_eq!(Tool::from_name("ftplib-pool"), Some(Tool::FtplibPool));
    }

    #[test]
    fn variants_behave_like_their_base() {
        for (variant, base, name) in [
            (Tool::FtpMirrorStat, Tool::FtpMirror, "ftp-mirror-stat"),
            (Tool::LftpStat, Tool::Lftp, "lftp-stat"),
        ] {
            assert_eq!(Tool::from_name(name), Some(variant));
            assert_eq!(variant.base(), base);
            assert_eq!(variant.sessions(16), base.sessions(16));
            assert_eq!(variant.single_session(), base.single_session());
            assert!(variant.incremental() && variant.mirrors_trees());
            assert_eq!(variant.ignored_names(), base.ignored_names());
            assert_eq!(variant.program(), base.program());
        }
        let ours: Vec<Tool> = ALL_TOOLS
            .into_iter()
            .filter(|t| t.is_ftp_mirror())
            .collect();
        assert_eq!(ours, [Tool::FtpMirror, Tool::FtpMirrorStat]);
        // Ours first, each variant right after its base.
        assert_eq!(
            ALL_TOOLS[..4],
            [
                Tool::FtpMirror,
                Tool::FtpMirrorStat,
                Tool::Lftp,
                Tool::LftpStat
            ]
        );
    }
}
