//! Mirroring one remote tree into a local directory: [`sync_tree`].
//!
//! The walk is parallel (see [`crate::walk`]): workers list directories and
//! fetch files from the same [`Pool`], files start downloading while the
//! walk goes on, and each worker holds at most one session at a time and
//! none while it waits for work, so a pool limit of one cannot deadlock.
//!
//! What happens to each entry of a listing:
//! - Names that could escape the directory or break a command (empty, `.`,
//!   `..`, `/`, NUL, CR, LF) are refused: recorded as failures, never
//!   written (see [`crate::walk::check_name`]).
//! - Entries matching [`SyncOptions::exclude`] are left out (`Excluded`
//!   event, counted in [`SyncStats::excluded`]): a directory is not listed,
//!   a file not fetched, and neither is kept in `dest`.
//! - A symbolic link is made again in `dest`, with the listed target, when
//!   that target stays inside the mirror (relative, and resolved lexically
//!   from the link's directory it never climbs above the root; see
//!   [`crate::walk::check_link_target`]), replacing whatever `dest` held
//!   at that name without following it; counted in [`SyncStats::links`].
//!   Other links, links whose target the listing does not give (MLSD
//!   `OS.unix=slink` without one) and special files are skipped with a
//!   warning.
//! - Directories are created locally (empty ones too) and listed in turn.
//!   The time each had in its parent's listing is remembered (one entry
//!   per directory) and set once the walk is over (see below).
//! - A file whose size and mtime match is not fetched again: first `dest`
//!   is looked at (an interrupted earlier run), then `previous` (the copy
//!   being replaced), whose file is hard-linked into `dest` (copied when
//!   linking fails). Times are compared at one-second resolution; the
//!   engine sets every local mtime from the listed time, so LIST times
//!   (approximate, in the server's zone) compare just as well as MLSD
//!   ones. When the listing lacks a time and a local file of the right
//!   size exists, one MDTM is asked; when MDTM is refused the size alone
//!   decides. When the listing lacks a size, one SIZE is asked.
//! - Anything else is fetched (see [`crate::fetch`]): into `.NAME.part`,
//!   resumed with REST where possible, verified, renamed into place.
//!
//! Transient failures (4yz, dropped connections, timeouts, short files) are
//! retried with exponential backoff up to `max_retries` times; permanent
//! ones (5yz, local write errors) are recorded in [`SyncStats::failures`]
//! and the walk goes on. When every directory was listed, entries of `dest`
//! the server does not have are removed, so `dest` equals the remote tree
//! less what is excluded. Then, and only then (not in a dry run, not when
//! the walk is interrupted or fails as a whole), the directories of `dest`
//! get their listed modification times, deepest first, treated like file
//! times: a LIST time that still stands for the previous copy's directory
//! time keeps that time. `dest` itself keeps its own time (no listing
//! gives the root's), and a time that cannot be set is only a `Warning`.
//!
//! The engine never prints; it reports through the [`EventSink`]
//! (`DirListed`, `FileQueued`, `FileUnchanged`, `Excluded`, throttled `Bytes`,
//! `FileDone`, `Retry`, `Failed`, `Warning`). `ModuleStarted` and
//! `ModuleFinished` are the caller's.

mod dirtimes;
mod engine;
mod throttle;

use std::io;
use std::path::PathBuf;

use crate::events::EventSink;
use crate::filter::Exclude;
use crate::interrupt::Interrupt;
use crate::pool::{Pool, PoolError};
use crate::walk::ListingMode;

/// What to mirror, where, and how.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Module id, for events.
    pub module: String,
    /// The remote directory (raw bytes). Empty means the login directory.
    pub remote_root: Vec<u8>,
    /// The new copy being built. It may already hold complete files and
    /// `.part` files from an interrupted earlier run: they are reused and
    /// resumed.
    pub dest: PathBuf,
    /// The current copy: unchanged files are hard-linked from here (copied
    /// when linking fails) instead of downloaded.
    pub previous: Option<PathBuf>,
    /// List and compare only; write nothing at all.
    pub dry_run: bool,
    /// Attempts after the first, per file or directory, for transient errors.
    pub max_retries: u32,
    /// Buffer size for transfers, in bytes (the sessions' own buffer is set
    /// in the pool's client config; this one is kept for callers).
    pub buffer_size: usize,
    /// Threads listing and downloading; at most the pool's limit is used.
    pub workers: usize,
    /// Which listing commands to use (MLSD/LIST, or STAT with MLST).
    pub listing: ListingMode,
    /// Entries to leave out, matched against their path relative to
    /// `remote_root`: an excluded directory is not listed, an excluded file
    /// not fetched, and neither is kept in `dest` (see [`crate::filter`]).
    pub exclude: Exclude,
    /// Stops the walk when triggered: no new listing or transfer starts,
    /// running downloads stop at their next chunk and keep their `.part`
    /// files, and [`sync_tree`] returns [`SyncError::Interrupted`].
    pub interrupt: Interrupt,
}

impl SyncOptions {
    /// Options with the usual defaults: no previous copy, not a dry run,
    /// 3 retries, 64 KiB buffers, 4 workers, nothing excluded.
    pub fn new(
        module: impl Into<String>,
        remote_root: impl Into<Vec<u8>>,
        dest: impl Into<PathBuf>,
    ) -> SyncOptions {
        SyncOptions {
            module: module.into(),
            remote_root: remote_root.into(),
            dest: dest.into(),
            previous: None,
            dry_run: false,
            max_retries: 3,
            buffer_size: 64 * 1024,
            workers: 4,
            listing: ListingMode::Auto,
            exclude: Exclude::none(),
            interrupt: Interrupt::new(),
        }
    }
}

/// What a [`sync_tree`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Files downloaded (and verified).
    pub files_fetched: u64,
    /// Files kept from `dest` or carried over from `previous`.
    pub files_unchanged: u64,
    /// Bytes received over the network, retries included (a resumed file
    /// counts only the bytes that were missing).
    pub bytes_fetched: u64,
    /// Bytes of every regular file the server listed (the tree's size).
    pub bytes_total: u64,
    /// Directories listed, the root included.
    pub dirs: u64,
    /// Transient failures that were retried.
    pub retries: u64,
    /// Entries left out by [`SyncOptions::exclude`] (an excluded directory
    /// counts as one: nothing below it was listed).
    pub excluded: u64,
    /// Symbolic links made in `dest` (already there or new), or in a dry
    /// run that would be.
    pub links: u64,
    /// `(relative path, error)` for every permanent failure, sorted.
    pub failures: Vec<(String, String)>,
    /// Dry run: relative paths that would be fetched, sorted.
    pub would_fetch: Vec<String>,
    /// Dry run: relative paths that are unchanged, sorted.
    pub would_keep: Vec<String>,
    /// Dry run: files of the current copy the server no longer has, which
    /// a real run would leave out of the new copy, sorted.
    pub would_delete: Vec<String>,
}

/// Why a module as a whole could not be mirrored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// No session could be had: login refused, server unreachable or full.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// The remote root could not be listed.
    #[error("cannot list {path}: {source}")]
    Root {
        /// The remote root, decoded lossily.
        path: String,
        /// The error.
        #[source]
        source: ftp_proto::Error,
    },
    /// [`SyncOptions::interrupt`] was triggered. `dest` holds what was
    /// done so far (complete files, resumable `.part` files), counted in
    /// the stats.
    #[error("interrupted")]
    Interrupted(Box<SyncStats>),
    /// The local directory could not be created.
    #[error("cannot create {}: {source}", path.display())]
    Local {
        /// The directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// Mirrors `opts.remote_root` into `opts.dest` with sessions from `pool`.
///
/// Returns `Err` only when the module as a whole cannot be mirrored (login
/// refused, root not listable, `dest` not creatable, the server lost for
/// good mid-walk). Per-file failures are in [`SyncStats::failures`]; after
/// `Ok` with no failures, `dest` holds exactly the remote tree: regular
/// files and directories, each with the modification time the server
/// listed for it (but `dest` itself, whose time no listing gives; a
/// directory time that could not be set is a `Warning` event, not a
/// failure), and the symbolic links whose targets stay inside it.
/// Permissions and owners are not copied.
///
/// Several modules may run `sync_tree` on the same pool at once, from
/// different threads. The calling thread must not hold a session of `pool`
/// itself: with a limit of one, the walk would wait for it for ever (a
/// wait that times out because every session is busy is not a failure;
/// the worker waits again).
pub fn sync_tree(
    pool: &Pool,
    opts: &SyncOptions,
    events: &dyn EventSink,
) -> Result<SyncStats, SyncError> {
    engine::Engine::new(pool, opts, events).run()
}
