//! Logs go to stderr and, when the plan names one, to a LOG file too.
//!
//! While a progress bar is on screen, a log line is printed above it rather
//! than through it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use log::{LevelFilter, Log, Metadata, Record};

use crate::progress;

struct Logger {
    file: Mutex<Option<File>>,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// Targets (module paths) whose INFO lines are dropped, e.g. the embedded
/// server's per-session lines during the demo.
static QUIET: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// Drops INFO (and DEBUG, unless the level is DEBUG) lines from `target`.
pub fn quiet(target: &'static str) {
    if let Ok(mut q) = QUIET.lock() {
        q.push(target);
    }
}

/// Installs the logger at `level` (`RUST_LOG` is not consulted: the plan
/// and `--log-level` decide). Safe to call once per process.
pub fn init(level: LevelFilter) {
    let logger = LOGGER.get_or_init(|| Logger {
        file: Mutex::new(None),
    });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

/// Changes the level after `init` (the plan's LOG_LEVEL is known only once
/// the plan is read).
pub fn set_level(level: LevelFilter) {
    log::set_max_level(level);
}

/// Also writes every log line to `path` (appending).
pub fn add_file(path: &Path) -> std::io::Result<()> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    if let Some(logger) = LOGGER.get() {
        if let Ok(mut slot) = logger.file.lock() {
            *slot = Some(file);
        }
    }
    Ok(())
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        if metadata.level() > log::max_level() {
            return false;
        }
        if metadata.level() == log::Level::Info {
            let quiet = QUIET
                .lock()
                .map(|q| q.iter().any(|t| metadata.target().starts_with(t)));
            return !quiet.unwrap_or(false);
        }
        true
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let now = ftp_mirror::report::format_rfc3339(std::time::SystemTime::now());
        let line = format!(
            "{now} {:<5} {}: {}",
            record.level(),
            record.target(),
            record.args()
        );
        progress::suspend(|| eprintln!("{line}"));
        if let Ok(mut slot) = self.file.lock() {
            if let Some(f) = slot.as_mut() {
                let _ = writeln!(f, "{line}");
            }
        }
    }

    fn flush(&self) {
        if let Ok(mut slot) = self.file.lock() {
            if let Some(f) = slot.as_mut() {
                let _ = f.flush();
            }
        }
    }
}
