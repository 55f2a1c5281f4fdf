//! Progress events: how the engine reports what it does (it never prints).
//!
//! A caller passes an [`EventSink`]; the engine calls it from its worker
//! threads, so a sink must be cheap and thread-safe. The CLI turns events
//! into a progress bar or periodic lines.

use std::path::PathBuf;
use std::time::Duration;

/// Something the engine did or is about to do.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A module started (its listing begins).
    ModuleStarted {
        /// Module id.
        module: String,
    },
    /// A remote directory was listed.
    DirListed {
        /// Module id.
        module: String,
        /// Remote path relative to the module root (`""` for the root).
        path: String,
        /// Number of entries.
        entries: usize,
    },
    /// A file was found that must be fetched (totals grow while the walk goes on).
    FileQueued {
        /// Module id.
        module: String,
        /// Path relative to the module root.
        path: String,
        /// Size from the listing, if known.
        size: Option<u64>,
    },
    /// A file was found unchanged and carried over from the previous copy.
    FileUnchanged {
        /// Module id.
        module: String,
        /// Path relative to the module root.
        path: String,
        /// Its size.
        size: u64,
    },
    /// An entry of a listing was left out by an exclude pattern: a file not
    /// fetched, or a directory not listed (nothing below it is looked at).
    Excluded {
        /// Module id.
        module: String,
        /// Path relative to the module root.
        path: String,
        /// Whether it is a directory.
        dir: bool,
        /// The first pattern that matched, as given.
        pattern: String,
    },
    /// Bytes arrived for a file being fetched.
    Bytes {
        /// Module id.
        module: String,
        /// New bytes since the previous `Bytes` event for this file.
        delta: u64,
    },
    /// A file was fetched, verified and put in place.
    FileDone {
        /// Module id.
        module: String,
        /// Path relative to the module root.
        path: String,
        /// Its final size.
        bytes: u64,
    },
    /// A transient failure; the operation will be tried again after `delay`.
    Retry {
        /// Module id.
        module: String,
        /// What is retried (a path, or `"login"`).
        what: String,
        /// The attempt that failed, from 1.
        attempt: u32,
        /// The error, without secrets.
        error: String,
        /// How long the engine waits before the next attempt.
        delay: Duration,
    },
    /// A file or directory failed for good; the run goes on.
    Failed {
        /// Module id.
        module: String,
        /// Path relative to the module root (`""` for the whole module).
        path: String,
        /// The error, without secrets.
        error: String,
    },
    /// A module finished (successfully or not).
    ModuleFinished {
        /// Module id.
        module: String,
        /// Whether nothing failed (every file mirrored and the copy in
        /// place, or a dry run that could list everything).
        ok: bool,
    },
    /// A finished module is being copied to a destination.
    DistributeStarted {
        /// Module id.
        module: String,
        /// The destination directory.
        destination: PathBuf,
    },
    /// A copy to a destination ended.
    DistributeFinished {
        /// Module id.
        module: String,
        /// The destination directory.
        destination: PathBuf,
        /// `None` on success, else the error.
        error: Option<String>,
    },
    /// Something worth telling that is not a failure.
    Warning {
        /// The message, without secrets.
        message: String,
    },
}

/// Receives [`Event`]s from the engine's threads.
pub trait EventSink: Send + Sync {
    /// Called once per event, from any thread.
    fn event(&self, event: &Event);
}

impl<F: Fn(&Event) + Send + Sync> EventSink for F {
    fn event(&self, event: &Event) {
        self(event)
    }
}

/// A sink that drops every event.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn event(&self, _: &Event) {}
}

/// How long to wait before retry number `attempt` (from 1): exponential from
/// `base`, capped at `max`.
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1).min(16))
        .unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(max)
}
