//! Shared helpers for the integration tests in `tests/tests/`.
//!
//! - [`pyftpd`]: a real FTP server (Python's pyftpdlib) in a child process.
//! - [`fake`]: a scripted fake FTP server on a thread, for fault cases.
//! - [`tree`]: sample directory trees and a tree comparison.
//! - [`within`]: runs a closure with a deadline, so a hang fails the test.
//!
//! The tests need pyftpdlib in `<workspace>/.venv` (or the interpreter named by
//! `FTP_MIRROR_PYTHON`); `scripts/test.sh` sets both up. A test that needs it
//! and cannot find it fails with that hint; it never skips silently.

pub mod fake;
pub mod pyftpd;
pub mod tree;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The root of the Cargo workspace (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// Runs `f` on its own thread and returns its result, panicking if it takes
/// longer than `limit` (a hung client then fails the test instead of hanging
/// the whole run). A panic inside `f` is passed on.
///
/// ```
/// use std::time::Duration;
/// let n = ftp_mirror_tests::within(Duration::from_secs(5), "adding", || 2 + 2);
/// assert_eq!(n, 4);
/// ```
pub fn within<T, F>(limit: Duration, what: &str, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name(format!("within: {what}"))
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn a thread");
    match rx.recv_timeout(limit) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("{what}: the closure ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: still running after {limit:?} (hang?)")
        }
    }
}

/// Measures how long `f` takes.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let v = f();
    (v, start.elapsed())
}

/// Whether the kernel has an IPv6 loopback (binding `[::1]:0` works).
pub fn has_ipv6_loopback() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}
