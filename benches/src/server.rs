//! The FTP servers under test: pyftpdlib (one real server for every tool)
//! and our own `ftp-serve`.

use std::io::{self, BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Which server a scenario runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServerKind {
    /// pyftpdlib from the repository's `.venv`.
    Pyftpdlib,
    /// Our `ftp-serve` crate, run in the harness process.
    FtpServe,
}

impl ServerKind {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Pyftpdlib => "pyftpdlib",
            ServerKind::FtpServe => "ftp-serve",
        }
    }

    /// Parses a report name.
    pub fn from_name(name: &str) -> Option<ServerKind> {
        match name {
            "pyftpdlib" => Some(ServerKind::Pyftpdlib),
            "ftp-serve" => Some(ServerKind::FtpServe),
            _ => None,
        }
    }
}

/// A running server; stopped when dropped.
pub struct RunningServer {
    addr: SocketAddr,
    inner: Inner,
}

enum Inner {
    Python {
        child: Child,
        stdin: Option<ChildStdin>,
    },
    /// Kept for its `Drop`, which stops the server.
    FtpServe(#[allow(dead_code)] ftp_serve::ServerHandle),
}

impl RunningServer {
    /// The control address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        match &mut self.inner {
            Inner::Python { child, stdin } => {
                // Closing stdin makes the server exit; kill it in any case.
                drop(stdin.take());
                let _ = child.kill();
                let _ = child.wait();
            }
            Inner::FtpServe(_) => {}
        }
    }
}

/// The repository root (the parent of this crate's directory).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The Python interpreter with pyftpdlib: `$FTP_MIRROR_PYTHON`, else the
/// repository's `.venv/bin/python`.
pub fn python() -> PathBuf {
    match std::env::var_os("FTP_MIRROR_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo_root().join(".venv/bin/python"),
    }
}

/// Starts `kind` serving `root` read-only on 127.0.0.1 and waits until it
/// accepts connections.
pub fn start(kind: ServerKind, root: &Path) -> io::Result<RunningServer> {
    match kind {
        ServerKind::Pyftpdlib => start_pyftpdlib(root),
        ServerKind::FtpServe => start_ftp_serve(root),
    }
}

fn start_pyftpdlib(root: &Path) -> io::Result<RunningServer> {
    let python = python();
    if !python.exists() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{} not found: run scripts/test.sh or scripts/bench.sh once to create .venv with pyftpdlib",
                python.display()
            ),
        ));
    }
    let script = repo_root().join("benches/py/serve_pyftpdlib.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .arg(root)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot start {}: {e}", python.display())))?;
    let stdin = child.stdin.take();
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next();
        let _ = tx.send(first);
        // Keep draining so the server never blocks on a full pipe.
        for _ in lines {}
    });
    let line = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Some(Ok(line))) => line,
        other => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(format!(
                "pyftpdlib did not report its port: {other:?}"
            )));
        }
    };
    let port: u16 = line
        .strip_prefix("PORT ")
        .and_then(|p| p.trim().parse().ok())
        .ok_or_else(|| {
            io::Error::other(format!("unexpected first line from pyftpdlib: {line:?}"))
        })?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let server = RunningServer {
        addr,
        inner: Inner::Python { child, stdin },
    };
    wait_listening(addr, Duration::from_secs(10))?;
    Ok(server)
}

fn start_ftp_serve(root: &Path) -> io::Result<RunningServer> {
    let config = ftp_serve::ServerConfig {
        root: root.to_path_buf(),
        // Room for 16 sessions per tool plus stragglers from a previous run.
        max_sessions: 128,
        ..Default::default()
    };
    let handle = ftp_serve::Server::bind(config)?.spawn()?;
    let addr = handle.local_addr();
    wait_listening(addr, Duration::from_secs(10))?;
    Ok(RunningServer {
        addr,
        inner: Inner::FtpServe(handle),
    })
}

fn wait_listening(addr: SocketAddr, limit: Duration) -> io::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}
