//! A real FTP server for tests: pyftpdlib in a child process.
//!
//! [`PyFtpd::start`] serves a directory to anonymous users (read-only) and to
//! the account [`USER`]/[`PASSWORD`] (read-only unless
//! [`PyFtpdBuilder::writable`]). The server listens on `127.0.0.1` (or `::1`)
//! on a port the kernel picks; `tests/py/ftpd.py` prints it on its first line
//! of stdout. The child is killed when the [`PyFtpd`] is dropped, and exits by
//! itself when the test process goes away (its stdin closes).
//!
//! The interpreter is `$FTP_MIRROR_PYTHON`, else `<workspace>/.venv/bin/python`.
//! Without pyftpdlib the helper panics and says to run `scripts/test.sh`.
//!
//! ```no_run
//! use ftp_mirror_tests::pyftpd::PyFtpd;
//!
//! let root = tempfile::tempdir().unwrap();
//! std::fs::write(root.path().join("a.txt"), b"hello").unwrap();
//! let server = PyFtpd::builder(root.path()).writable().start();
//! println!("serving on {}:{}", server.host(), server.port());
//! ```

use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The password account's user name.
pub const USER: &str = "tester";
/// The password account's password.
pub const PASSWORD: &str = "s3cret-pw";
/// pyftpdlib permissions for reading: change directory, list, retrieve.
pub const READ_PERMS: &str = "elr";
/// pyftpdlib permissions for everything: read plus append, delete, rename,
/// mkdir, store, chmod and set mtime.
pub const ALL_PERMS: &str = "elradfmwMT";

/// The environment variable naming the Python interpreter to use.
pub const PYTHON_ENV: &str = "FTP_MIRROR_PYTHON";

/// How long the server may take to print its port.
const START_DEADLINE: Duration = Duration::from_secs(20);
/// The server exits by itself after this long, even if never killed.
const LIFETIME_SECS: u64 = 900;
/// The most stderr kept from the server.
const MAX_LOG: usize = 256 * 1024;

/// Options for a pyftpdlib server; build one with [`PyFtpd::builder`].
#[derive(Clone, Debug)]
pub struct PyFtpdBuilder {
    root: PathBuf,
    ipv6: bool,
    user: Option<(String, String)>,
    user_perms: String,
    anonymous: bool,
    anon_perms: String,
    mlst: bool,
    stat_paths: bool,
    max_download_rate: u32,
    max_cons_per_ip: u32,
    banner: Option<String>,
    verbose: bool,
}

impl PyFtpdBuilder {
    /// Sets the password account (default [`USER`]/[`PASSWORD`]).
    pub fn user(mut self, name: &str, password: &str) -> Self {
        self.user = Some((name.to_string(), password.to_string()));
        self
    }

    /// Removes the password account: only anonymous logins work.
    pub fn no_user(mut self) -> Self {
        self.user = None;
        self
    }

    /// Sets the account's pyftpdlib permission letters (default [`READ_PERMS`]).
    pub fn permissions(mut self, perms: &str) -> Self {
        self.user_perms = perms.to_string();
        self
    }

    /// Gives the account every permission ([`ALL_PERMS`]): STOR, APPE,
    /// DELE, MKD, RMD, RNFR/RNTO work.
    pub fn writable(self) -> Self {
        self.permissions(ALL_PERMS)
    }

    /// Allows or refuses anonymous logins (allowed by default).
    pub fn anonymous(mut self, allowed: bool) -> Self {
        self.anonymous = allowed;
        self
    }

    /// Sets the anonymous user's permission letters (default [`READ_PERMS`]).
    pub fn anonymous_permissions(mut self, perms: &str) -> Self {
        self.anon_perms = perms.to_string();
        self
    }

    /// Sends data no faster than `bytes_per_sec` per data connection, so a
    /// transfer lasts long enough to be interrupted.
    pub fn max_download_rate(mut self, bytes_per_sec: u32) -> Self {
        self.max_download_rate = bytes_per_sec;
        self
    }

    /// Answers `STAT <path>` with 504, as servers without control-connection
    /// listings do (`STAT` alone still gives the status).
    pub fn no_stat_paths(mut self) -> Self {
        self.stat_paths = false;
        self
    }

    /// Removes MLST and MLSD, so FEAT does not offer them and a client has to
    /// fall back to LIST.
    pub fn no_mlst(mut self) -> Self {
        self.mlst = false;
        self
    }

    /// Limits connections per client address (0, the default, is unlimited);
    /// pyftpdlib answers one more with `421`.
    pub fn max_cons_per_ip(mut self, n: u32) -> Self {
        self.max_cons_per_ip = n;
        self
    }

    /// Sets the text of the `220` greeting.
    pub fn banner(mut self, text: &str) -> Self {
        self.banner = Some(text.to_string());
        self
    }

    /// Listens on `::1` instead of `127.0.0.1`. Check
    /// [`crate::has_ipv6_loopback`] first.
    pub fn ipv6(mut self) -> Self {
        self.ipv6 = true;
        self
    }

    /// Makes the server log every command (see [`PyFtpd::log`]).
    pub fn verbose(mut self) -> Self {
        self.verbose = true;
        self
    }

    /// Starts the server and waits until it listens.
    ///
    /// # Panics
    /// When Python or pyftpdlib is missing (with a hint to run
    /// `scripts/test.sh`) or the server does not start within 20 seconds.
    pub fn start(self) -> PyFtpd {
        let python = python_path();
        let script = crate::workspace_root().join("tests/py/ftpd.py");
        let host = if self.ipv6 { "::1" } else { "127.0.0.1" };
        let mut cmd = Command::new(&python);
        cmd.arg("-u")
            .arg(&script)
            .arg("--root")
            .arg(&self.root)
            .args(["--host", host])
            .args(["--lifetime", &LIFETIME_SECS.to_string()])
            .args(["--max-cons-per-ip", &self.max_cons_per_ip.to_string()])
            .args([
                "--log-level",
                if self.verbose { "DEBUG" } else { "WARNING" },
            ]);
        if let Some((user, password)) = &self.user {
            cmd.args([
                "--user",
                user,
                "--password",
                password,
                "--perm",
                &self.user_perms,
            ]);
        }
        if self.anonymous {
            cmd.args(["--anonymous", "--anon-perm", &self.anon_perms]);
        }
        if self.max_download_rate > 0 {
            cmd.arg("--max-download-rate")
                .arg(self.max_download_rate.to_string());
        }
        if !self.stat_paths {
            cmd.arg("--no-stat-paths");
        }
        if !self.mlst {
            cmd.arg("--no-mlst");
        }
        if let Some(banner) = &self.banner {
            cmd.args(["--banner", banner]);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => panic!(
                "cannot run {} ({e}); run scripts/test.sh to create .venv with pyftpdlib, \
                 or point {PYTHON_ENV} at a Python with pyftpdlib",
                python.display()
            ),
        };
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(stderr) = child.stderr.take() {
            collect_log(stderr, Arc::clone(&log));
        }
        let stdin = child.stdin.take();
        let port = match child
            .stdout
            .take()
            .ok_or_else(|| "no stdout".to_string())
            .and_then(read_port)
        {
            Ok(port) => port,
            Err(why) => {
                let _ = child.kill();
                let status = child.wait().ok();
                // Give the stderr reader a moment to collect the last lines.
                thread::sleep(Duration::from_millis(100));
                let log = log.lock().map(|l| l.clone()).unwrap_or_default();
                let hint = if status.and_then(|s| s.code()) == Some(3) {
                    format!(
                        "pyftpdlib is not installed for {}: run scripts/test.sh (it creates .venv \
                         and installs pyftpdlib), or point {PYTHON_ENV} at a Python that has it",
                        python.display()
                    )
                } else {
                    format!(
                        "{} {} failed to start: {why}",
                        python.display(),
                        script.display()
                    )
                };
                panic!("{hint}\nserver stderr:\n{log}");
            }
        };
        let ip: IpAddr = if self.ipv6 {
            Ipv6Addr::LOCALHOST.into()
        } else {
            Ipv4Addr::LOCALHOST.into()
        };
        PyFtpd {
            child,
            _stdin: stdin,
            addr: SocketAddr::new(ip, port),
            log,
        }
    }
}

/// A running pyftpdlib server; killed on drop.
#[derive(Debug)]
pub struct PyFtpd {
    child: Child,
    // Held open so the server's stdin watcher keeps it alive; closing it
    // (also when this process dies) makes the server exit.
    _stdin: Option<ChildStdin>,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl PyFtpd {
    /// Starts a server on `root` with the defaults: anonymous read-only, the
    /// account [`USER`]/[`PASSWORD`] read-only, MLST/MLSD offered, no
    /// connection limit, `127.0.0.1`.
    pub fn start(root: &Path) -> PyFtpd {
        PyFtpd::builder(root).start()
    }

    /// Options for a server on `root`, starting from the defaults of [`PyFtpd::start`].
    pub fn builder(root: &Path) -> PyFtpdBuilder {
        PyFtpdBuilder {
            root: root.to_path_buf(),
            ipv6: false,
            user: Some((USER.to_string(), PASSWORD.to_string())),
            user_perms: READ_PERMS.to_string(),
            anonymous: true,
            anon_perms: READ_PERMS.to_string(),
            mlst: true,
            stat_paths: true,
            max_download_rate: 0,
            max_cons_per_ip: 0,
            banner: None,
            verbose: false,
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The host to connect to: `127.0.0.1` or `::1`.
    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// An `ftp://` URL for the server (with the default account when
    /// `with_user`), e.g. for curl, wget or lftp.
    pub fn url(&self, with_user: bool) -> String {
        let host = match self.addr.ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        };
        if with_user {
            format!("ftp://{USER}:{PASSWORD}@{host}:{}/", self.port())
        } else {
            format!("ftp://{host}:{}/", self.port())
        }
    }

    /// What the server wrote to stderr so far (warnings; every command when
    /// started [`verbose`](PyFtpdBuilder::verbose)).
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for PyFtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The interpreter: `$FTP_MIRROR_PYTHON`, else `<workspace>/.venv/bin/python`.
pub fn python_path() -> PathBuf {
    match std::env::var_os(PYTHON_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => crate::workspace_root().join(".venv/bin/python"),
    }
}

/// Reads the port from the first stdout line, with [`START_DEADLINE`].
fn read_port(stdout: impl Read + Send + 'static) -> Result<u16, String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let r = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(r);
    });
    match rx.recv_timeout(START_DEADLINE) {
        Ok(Ok(line)) if line.is_empty() => Err("it exited before printing its port".into()),
        Ok(Ok(line)) => line
            .trim()
            .parse()
            .map_err(|_| format!("its first line is not a port: {line:?}")),
        Ok(Err(e)) => Err(format!("reading its stdout: {e}")),
        Err(_) => Err(format!("no port printed within {START_DEADLINE:?}")),
    }
}

/// Copies the child's stderr into `log` (bounded) on a thread.
fn collect_log(stderr: impl Read + Send + 'static, log: Arc<Mutex<String>>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if let Ok(mut l) = log.lock() {
                        if l.len() < MAX_LOG {
                            l.push_str(&String::from_utf8_lossy(&line));
                        }
                    }
                }
            }
        }
    });
}
