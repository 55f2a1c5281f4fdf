//! Helpers shared by the `engine_*` tests: servers, pools, an event
//! recorder and mtime checks.

#![allow(dead_code)] // each test file uses its own subset

use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ftp_mirror::events::{Event, EventSink};
use ftp_mirror::pool::{Pool, PoolConfig, ServerAuth, ServerKey};
use ftp_mirror::sync::{sync_tree, SyncError, SyncOptions, SyncStats};
use ftp_proto::client::{Config, Password, Timeouts};
use ftp_serve::{Server, ServerConfig, ServerHandle};

/// Every test's hard limit.
pub const LIMIT: Duration = Duration::from_secs(60);

/// An ftp-serve instance serving `root` (anonymous logins).
pub fn serve(root: &Path) -> ServerHandle {
    serve_with(ServerConfig {
        root: root.to_path_buf(),
        ..ServerConfig::default()
    })
}

/// An ftp-serve instance with this configuration.
pub fn serve_with(config: ServerConfig) -> ServerHandle {
    Server::bind(config)
        .and_then(|s| s.spawn())
        .expect("start ftp-serve")
}

/// Client settings with short timeouts, so a failing test fails quickly.
pub fn client_config() -> Config {
    Config {
        timeouts: Timeouts::all(Duration::from_secs(10)),
        ..Config::default()
    }
}

/// A pool of at most `max` sessions to `host:port` as `user`.
pub fn pool(host: &str, port: u16, user: &str, password: &str, max: usize) -> Pool {
    Pool::new(
        ServerAuth {
            key: ServerKey {
                host: host.to_string(),
                port,
                user: user.to_string(),
            },
            password: Password::new(password),
        },
        PoolConfig {
            max_sessions: max,
            wait_timeout: Duration::from_secs(10),
            client: client_config(),
        },
    )
}

/// An anonymous pool to an ftp-serve instance.
pub fn anon_pool(server: &ServerHandle, max: usize) -> Pool {
    let addr = server.local_addr();
    pool(
        &addr.ip().to_string(),
        addr.port(),
        "anonymous",
        "guest@",
        max,
    )
}

/// Options mirroring the server's `/` into `dest`.
pub fn options(dest: &Path) -> SyncOptions {
    SyncOptions {
        max_retries: 2,
        ..SyncOptions::new("TEST", "/", dest)
    }
}

/// Records every event.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<Event>>,
}

impl EventSink for Recorder {
    fn event(&self, event: &Event) {
        self.events
            .lock()
            .expect("recorder lock")
            .push(event.clone());
    }
}

impl Recorder {
    /// A copy of the events so far.
    pub fn all(&self) -> Vec<Event> {
        self.events.lock().expect("recorder lock").clone()
    }

    /// How many events `pred` accepts.
    pub fn count(&self, pred: impl Fn(&Event) -> bool) -> usize {
        self.all().iter().filter(|e| pred(e)).count()
    }

    /// Paths of the `FileDone` events, sorted.
    pub fn done(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .all()
            .into_iter()
            .filter_map(|e| match e {
                Event::FileDone { path, .. } => Some(path),
                _ => None,
            })
            .collect();
        v.sort();
        v
    }

    /// The sum of the `Bytes` events.
    pub fn bytes(&self) -> u64 {
        self.all()
            .iter()
            .map(|e| match e {
                Event::Bytes { delta, .. } => *delta,
                _ => 0,
            })
            .sum()
    }
}

/// Runs `sync_tree` on its own thread with the test's hard limit.
pub fn sync(
    pool: &Pool,
    opts: &SyncOptions,
    events: std::sync::Arc<Recorder>,
) -> Result<SyncStats, SyncError> {
    let (pool, opts) = (pool.clone(), opts.clone());
    ftp_mirror_tests::within(LIMIT, "sync_tree", move || {
        sync_tree(&pool, &opts, &*events)
    })
}

/// Seconds since the epoch of a file's mtime.
pub fn mtime_secs(path: &Path) -> i64 {
    let m = fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("mtime of {}: {e}", path.display()));
    match m.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// Sets a file's mtime to `secs` since the epoch.
pub fn set_mtime(path: &Path, secs: u64) {
    let f = fs::File::options()
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap_or_else(|e| panic!("set mtime of {}: {e}", path.display()));
}

/// Every regular file below `root`, with its mtime in seconds, sorted by
/// relative path.
pub fn file_mtimes(root: &Path) -> Vec<(std::path::PathBuf, i64)> {
    ftp_mirror_tests::tree::snapshot(root)
        .into_iter()
        .filter(|(_, n)| matches!(n, ftp_mirror_tests::tree::Node::File(_)))
        .map(|(rel, _)| {
            let secs = mtime_secs(&root.join(&rel));
            (rel, secs)
        })
        .collect()
}
