//! The engine behind [`super::sync_tree`]: the jobs, what a worker does
//! with each, retries, statistics and the final clean-up.

use std::collections::HashSet;
use std::fs;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ftp_proto::client::Client;
use ftp_proto::{Entry, EntryKind, FileTime};

use super::dirtimes::DirTimes;
use super::throttle::Throttle;
use super::{SyncError, SyncOptions, SyncStats};
use crate::events::{backoff, Event, EventSink};
use crate::fetch::{
    ensure_dir, fetch_once, has_size, is_real_dir_path, is_unchanged, link_or_copy, local_path,
    make_symlink, prune, record_name, remove_any, temp_name, FetchError, FetchTarget,
};
use crate::pool::{Pool, PoolError, PooledSession};
use crate::walk::{
    check_link_target, check_name, list_dir, walk, Jobs, ListingSupport, NameProblem, Priority,
    QuitFlag,
};

/// Deeper trees are refused (a server presenting a link loop as a
/// directory would otherwise never end).
const MAX_DEPTH: usize = 256;
/// What a `Retry` event names when getting a session failed.
const LOGIN: &[u8] = b"login";
/// First and largest pause before retrying a transient failure.
const RETRY_BACKOFF: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(30));

/// A unit of work in the walk's queue.
enum Job {
    /// List a directory (relative path, `""` for the root), with its STAT
    /// listing when the parent's listing read it already.
    List {
        rel: Vec<u8>,
        depth: usize,
        stat: Option<Vec<Entry>>,
    },
    /// Fetch (or first check) a file.
    Fetch(FileJob),
}

struct FileJob {
    /// Relative path of the file.
    rel: Vec<u8>,
    /// Relative path of its temporary file.
    part_rel: Vec<u8>,
    size: Option<u64>,
    modified: Option<FileTime>,
    /// Ask SIZE/MDTM for what the listing lacked, then decide again
    /// whether the file must be fetched.
    check: bool,
    /// `FileQueued` was sent.
    announced: bool,
    /// The previous copy's directory of this file is reached through real
    /// directories only, so its file there may be reused.
    previous_ok: bool,
}

/// A directory that was listed: what its local copy must keep.
struct Listed {
    rel: Vec<u8>,
    keep: HashSet<Vec<u8>>,
}

/// Why a worker could not get a session.
enum NoSession {
    /// The walk is stopping.
    Quit,
    /// The pool failed; retry later (counts as an attempt).
    Transient(PoolError),
}

pub(super) struct Engine<'a> {
    pool: &'a Pool,
    opts: &'a SyncOptions,
    events: &'a dyn EventSink,
    /// The remote root without a trailing `/` (but `/` stays `/`).
    root: Vec<u8>,
    stats: Mutex<SyncStats>,
    listed: Mutex<Vec<Listed>>,
    /// Temporary files (relative paths) of downloads that failed for a
    /// transient reason: kept so that the next run resumes them.
    resumable: Mutex<HashSet<Vec<u8>>>,
    /// Listed times of the directories, set after the clean-up.
    dir_times: DirTimes,
    /// Dry run: the links that would be made (relative paths), so that the
    /// current copy's links are not reported as deleted.
    dry_links: Mutex<HashSet<String>>,
    fatal: Mutex<Option<SyncError>>,
    quit: QuitFlag,
    /// Listing commands the server refused.
    listing: ListingSupport,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `parent/name` as raw bytes (`name` alone at the root).
fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(parent.len() + 1 + name.len());
    if !parent.is_empty() {
        p.extend_from_slice(parent);
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// Whether another attempt may help after a protocol error.
fn is_transient(e: &ftp_proto::Error) -> bool {
    !e.is_permanent() && !matches!(e, ftp_proto::Error::InvalidArgument { .. })
}

impl<'a> Engine<'a> {
    pub(super) fn new(
        pool: &'a Pool,
        opts: &'a SyncOptions,
        events: &'a dyn EventSink,
    ) -> Engine<'a> {
        let mut root = opts.remote_root.clone();
        while root.len() > 1 && root.ends_with(b"/") {
            root.pop();
        }
        Engine {
            pool,
            opts,
            events,
            root,
            stats: Mutex::new(SyncStats::default()),
            listed: Mutex::new(Vec::new()),
            resumable: Mutex::new(HashSet::new()),
            dir_times: DirTimes::default(),
            dry_links: Mutex::new(HashSet::new()),
            fatal: Mutex::new(None),
            quit: QuitFlag::default(),
            listing: ListingSupport::new(opts.listing),
        }
    }

    pub(super) fn run(self) -> Result<SyncStats, SyncError> {
        if !self.opts.dry_run {
            if let Err(source) = fs::create_dir_all(&self.opts.dest) {
                let e = SyncError::Local {
                    path: self.opts.dest.clone(),
                    source,
                };
                self.event(Event::Failed {
                    module: self.opts.module.clone(),
                    path: String::new(),
                    error: e.to_string(),
                });
                return Err(e);
            }
        }
        let limit_before = self.pool.limit();
        let workers = self.opts.workers.clamp(1, limit_before.max(1));
        self.pool.warm_up(workers);
        let root = Job::List {
            rel: Vec::new(),
            depth: 0,
            stat: None,
        };
        let priority = |job: &Job| match job {
            Job::List { .. } => Priority::High,
            Job::Fetch(_) => Priority::Normal,
        };
        walk(
            workers,
            vec![root],
            priority,
            |job, out| self.handle(job, out),
            &self.quit,
        );

        let limit_after = self.pool.limit();
        if limit_after < limit_before {
            self.warn(format!(
                "{} allows only {limit_after} session(s); {limit_before} were configured",
                self.pool.key()
            ));
        }
        if self.opts.interrupt.is_set() {
            // Before `fatal`: a retry cut short by the interrupt may have
            // given up with an error that is not the server's fault. No
            // clean-up: the `.part` files and whatever else is in the new
            // copy are for the next run to reuse.
            let stats = std::mem::take(&mut *lock(&self.stats));
            return Err(SyncError::Interrupted(Box::new(stats)));
        }
        if let Some(e) = lock(&self.fatal).take() {
            return Err(e);
        }
        if !self.opts.dry_run {
            self.clean_up();
            self.set_dir_times();
        }
        let mut stats = std::mem::take(&mut *lock(&self.stats));
        stats.failures.sort();
        stats.would_fetch.sort();
        stats.would_keep.sort();
        if self.opts.dry_run {
            if let Some(previous) = &self.opts.previous {
                let links = std::mem::take(&mut *lock(&self.dry_links));
                stats.would_delete = gone_from_server(previous, &stats, &links);
            }
        }
        Ok(stats)
    }

    fn handle(&self, job: Job, out: &mut Jobs<'_, Job>) {
        if self.opts.interrupt.is_set() {
            // Stop the walk: the queued jobs are dropped, running ones end
            // at their next check.
            self.quit.quit();
            return;
        }
        match job {
            Job::List { rel, depth, stat } => self.list(rel, depth, stat, out),
            Job::Fetch(file) => self.fetch(file),
        }
    }

    // ---- listing ----

    fn list(
        &self,
        rel: Vec<u8>,
        depth: usize,
        mut stat: Option<Vec<Entry>>,
        out: &mut Jobs<'_, Job>,
    ) {
        let path = self.remote_dir(&rel);
        let excluded_subdir = |name: &[u8]| {
            !self.opts.exclude.is_empty() && self.opts.exclude.is_excluded(&join(&rel, name), true)
        };
        let mut attempt = 0;
        let listing = loop {
            attempt += 1;
            let mut session = match self.session() {
                Ok(s) => s,
                Err(NoSession::Quit) => return,
                Err(NoSession::Transient(e)) => {
                    if self.pause(LOGIN, attempt, &e.to_string()) {
                        continue;
                    }
                    return self.abort(SyncError::Pool(e));
                }
            };
            let listed = list_dir(
                &mut session,
                path.as_deref(),
                &self.listing,
                stat.take(),
                &excluded_subdir,
            );
            drop(session);
            match listed {
                Ok(listing) => break listing,
                Err(e) => {
                    if is_transient(&e) && self.pause(&rel, attempt, &e.to_string()) {
                        continue;
                    }
                    if rel.is_empty() {
                        return self.abort(SyncError::Root {
                            path: lossy(&self.root),
                            source: e,
                        });
                    }
                    return self.fail(&rel, e.to_string());
                }
            }
        };
        self.event(Event::DirListed {
            module: self.opts.module.clone(),
            path: lossy(&rel),
            entries: listing.entries.len(),
        });
        lock(&self.stats).dirs += 1;
        self.consider_entries(&rel, depth, listing.entries, listing.prefetched, out);
    }

    /// Decides what to do with every entry of a listed directory.
    fn consider_entries(
        &self,
        rel: &[u8],
        depth: usize,
        mut entries: Vec<Entry>,
        prefetched: Vec<(Vec<u8>, Vec<Entry>)>,
        out: &mut Jobs<'_, Job>,
    ) {
        let mut prefetched: std::collections::HashMap<Vec<u8>, Vec<Entry>> =
            prefetched.into_iter().collect();
        // Once per directory: may its files be reused from the previous
        // copy? Not through a link there (`latest -> v2` then, a directory
        // now): that would reuse v2's files.
        let previous_ok = self
            .opts
            .previous
            .as_ref()
            .is_some_and(|p| is_real_dir_path(p, rel));
        // Directories first: their listings are queued before the files of
        // this one are compared, so the walk spreads early.
        entries.sort_by_key(|e| !e.is_dir());
        let names: HashSet<Vec<u8>> = entries.iter().map(|e| e.name.clone()).collect();
        let mut keep = HashSet::with_capacity(entries.len() * 2);
        let mut seen = HashSet::with_capacity(entries.len());
        for entry in entries {
            let child = join(rel, &entry.name);
            let name = check_name(&entry.name);
            // Some listings include `.` and `..` themselves: harmless.
            if entry.is_dir() && matches!(name, Err(NameProblem::Dots)) {
                continue;
            }
            // Before the name checks, so that a pattern can leave out a
            // name this mirror would refuse (and fail the module for).
            if let Some(pattern) = self.opts.exclude.matching(&child, entry.is_dir()) {
                self.excluded(&child, entry.is_dir(), pattern.as_str());
                continue;
            }
            if !seen.insert(entry.name.clone()) {
                self.fail(
                    &child,
                    "listed more than once; only one entry was used".into(),
                );
                continue;
            }
            if let Err(problem) = name {
                self.fail(
                    &child,
                    format!("refused a name from the listing: {problem}"),
                );
                continue;
            }
            match &entry.kind {
                EntryKind::Dir => {
                    if depth + 1 > MAX_DEPTH {
                        self.fail(&child, format!("deeper than {MAX_DEPTH} levels"));
                        continue;
                    }
                    if !self.opts.dry_run {
                        if let Err(e) = ensure_dir(&local_path(&self.opts.dest, &child)) {
                            self.fail(&child, format!("cannot create the directory: {e}"));
                            continue;
                        }
                    }
                    keep.insert(entry.name.clone());
                    if !self.opts.dry_run {
                        self.dir_times.record(&child, entry.modified);
                    }
                    out.push(Job::List {
                        rel: child,
                        depth: depth + 1,
                        stat: prefetched.remove(&entry.name),
                    });
                }
                EntryKind::File => {
                    let part_name = temp_name(&entry.name, |n| names.contains(n));
                    keep.insert(entry.name.clone());
                    let job = FileJob {
                        part_rel: join(rel, &part_name),
                        rel: child,
                        size: entry.size,
                        modified: entry.modified,
                        check: false,
                        announced: false,
                        previous_ok,
                    };
                    self.consider_file(job, out);
                }
                EntryKind::Symlink {
                    target: Some(target),
                } => {
                    if self.consider_link(rel, &child, target) {
                        keep.insert(entry.name.clone());
                    }
                }
                EntryKind::Symlink { target: None } => self.warn(format!(
                    "skipping symbolic link {}: the listing does not give its target",
                    self.display(&child)
                )),
                _ => self.warn(format!(
                    "skipping {}: not a file or directory",
                    self.display(&child)
                )),
            }
        }
        if !self.opts.dry_run {
            lock(&self.listed).push(Listed {
                rel: rel.to_vec(),
                keep,
            });
        }
    }

    /// A symbolic link from the listing of `dir`: made at `rel` in `dest`
    /// when its target stays inside the mirror (see [`check_link_target`]),
    /// else skipped with a warning. Whatever `dest` holds at `rel` is
    /// replaced, never followed. `true` when the link is (or, in a dry run,
    /// would be) in the new copy.
    fn consider_link(&self, dir: &[u8], rel: &[u8], target: &[u8]) -> bool {
        let shown = || String::from_utf8_lossy(target).escape_debug().to_string();
        let written = match check_link_target(dir, target) {
            Ok(written) => written,
            Err(problem) => {
                self.warn(format!(
                    "skipping symbolic link {} -> {}: {problem}",
                    self.display(rel),
                    shown()
                ));
                return false;
            }
        };
        if self.opts.dry_run {
            log::debug!(
                "would make symbolic link {} -> {}",
                self.display(rel),
                lossy(&written)
            );
            lock(&self.dry_links).insert(lossy(rel));
        } else {
            match make_symlink(&local_path(&self.opts.dest, rel), &written) {
                Ok(made) => log::debug!(
                    "symbolic link {} -> {}{}",
                    self.display(rel),
                    lossy(&written),
                    if made { "" } else { " (already there)" }
                ),
                Err(e) => {
                    self.fail(rel, format!("cannot make the symbolic link: {e}"));
                    return false;
                }
            }
        }
        lock(&self.stats).links += 1;
        true
    }

    /// A file from a listing: keep it, carry it over, or queue it.
    fn consider_file(&self, mut job: FileJob, out: &mut Jobs<'_, Job>) {
        lock(&self.stats).bytes_total += job.size.unwrap_or(0);
        match (job.size, job.modified.is_some()) {
            (Some(_), true) => {
                if self.keep_if_unchanged(&job) {
                    return;
                }
            }
            _ => {
                // The listing lacked a size or time: SIZE/MDTM before
                // deciding, but only when a local file could match.
                let dest = local_path(&self.opts.dest, &job.rel);
                let prev = self.opts.previous.as_ref().map(|p| local_path(p, &job.rel));
                let candidate =
                    has_size(&dest, job.size) || prev.is_some_and(|p| has_size(&p, job.size));
                if candidate || job.size.is_none() {
                    job.check = true;
                    out.push(Job::Fetch(job));
                    return;
                }
            }
        }
        self.queue_fetch(job, out);
    }

    fn queue_fetch(&self, mut job: FileJob, out: &mut Jobs<'_, Job>) {
        if self.announce_fetch(&job) {
            job.announced = true;
            out.push(Job::Fetch(job));
        }
    }

    /// Reports that `job` must be fetched; in a dry run records it instead
    /// and returns `false` (nothing is fetched).
    fn announce_fetch(&self, job: &FileJob) -> bool {
        self.event(Event::FileQueued {
            module: self.opts.module.clone(),
            path: lossy(&job.rel),
            size: job.size,
        });
        if self.opts.dry_run {
            lock(&self.stats).would_fetch.push(lossy(&job.rel));
            return false;
        }
        true
    }

    /// Keeps the file from `dest` or carries it over from `previous` when it
    /// is unchanged there. Needs the size; without a time the size decides.
    fn keep_if_unchanged(&self, job: &FileJob) -> bool {
        let Some(size) = job.size else {
            return false;
        };
        let modified = job.modified.as_ref();
        let dest = local_path(&self.opts.dest, &job.rel);
        if is_unchanged(&dest, size, modified) {
            self.unchanged(job, size);
            return true;
        }
        let Some(previous) = self.opts.previous.as_ref().filter(|_| job.previous_ok) else {
            return false;
        };
        let prev = local_path(previous, &job.rel);
        if !is_unchanged(&prev, size, modified) {
            return false;
        }
        if !self.opts.dry_run {
            let part = local_path(&self.opts.dest, &job.part_rel);
            if let Err(e) = link_or_copy(&prev, &dest, &part, modified) {
                self.warn(format!(
                    "cannot carry {} over from the previous copy ({e}); fetching it",
                    self.display(&job.rel)
                ));
                return false;
            }
        }
        self.unchanged(job, size);
        true
    }

    fn unchanged(&self, job: &FileJob, size: u64) {
        {
            let mut stats = lock(&self.stats);
            stats.files_unchanged += 1;
            if self.opts.dry_run {
                stats.would_keep.push(lossy(&job.rel));
            }
        }
        self.event(Event::FileUnchanged {
            module: self.opts.module.clone(),
            path: lossy(&job.rel),
            size,
        });
    }

    /// An entry left out by an exclude pattern: not listed or fetched, not
    /// kept in `dest`.
    fn excluded(&self, rel: &[u8], dir: bool, pattern: &str) {
        log::debug!("excluded {} (pattern {pattern:?})", self.display(rel));
        lock(&self.stats).excluded += 1;
        self.event(Event::Excluded {
            module: self.opts.module.clone(),
            path: lossy(rel),
            dir,
            pattern: pattern.to_string(),
        });
    }

    // ---- fetching ----

    fn fetch(&self, mut job: FileJob) {
        let remote = self.remote_file(&job.rel);
        let dest = local_path(&self.opts.dest, &job.rel);
        let part = local_path(&self.opts.dest, &job.part_rel);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut session = match self.session() {
                Ok(s) => s,
                Err(NoSession::Quit) => return,
                Err(NoSession::Transient(e)) => {
                    if self.pause(LOGIN, attempt, &e.to_string()) {
                        continue;
                    }
                    return self.abort(SyncError::Pool(e));
                }
            };
            if job.check {
                match self.complete_metadata(&mut session, &remote, &mut job) {
                    Ok(()) => {}
                    Err(e) => {
                        drop(session);
                        if is_transient(&e) && self.pause(&job.rel, attempt, &e.to_string()) {
                            continue;
                        }
                        return self.fail(&job.rel, e.to_string());
                    }
                }
                job.check = false;
                if self.keep_if_unchanged(&job) {
                    return;
                }
                if !job.announced {
                    if !self.announce_fetch(&job) {
                        return;
                    }
                    job.announced = true;
                }
            }
            let target = FetchTarget {
                remote: &remote,
                dest: &dest,
                part: &part,
                size: job.size,
                modified: job.modified.as_ref(),
                interrupt: Some(&self.opts.interrupt),
            };
            let mut throttle = Throttle::new();
            let result = fetch_once(&mut session, &target, &mut |n| {
                if let Some(delta) = throttle.add(n) {
                    self.bytes(delta);
                }
            });
            drop(session);
            if let Some(delta) = throttle.take() {
                self.bytes(delta);
            }
            lock(&self.stats).bytes_fetched += throttle.total();
            match result {
                Ok(done) => {
                    lock(&self.stats).files_fetched += 1;
                    self.event(Event::FileDone {
                        module: self.opts.module.clone(),
                        path: lossy(&job.rel),
                        bytes: done.size,
                    });
                    return;
                }
                Err(_) if self.opts.interrupt.is_set() => {
                    // Kept for the next run, which resumes it.
                    let record = record_name(&job.part_rel);
                    lock(&self.resumable).extend([job.part_rel.clone(), record]);
                    return;
                }
                Err(e) => {
                    if let FetchError::Long { expected, .. } = e {
                        // The file changed since it was listed: start over
                        // with its new size (counted again after SIZE).
                        let _ = remove_any(&part);
                        let mut stats = lock(&self.stats);
                        stats.bytes_total = stats.bytes_total.saturating_sub(expected);
                        drop(stats);
                        job.size = None;
                        job.modified = None;
                        job.check = true;
                    }
                    if e.is_transient() && self.pause(&job.rel, attempt, &e.to_string()) {
                        continue;
                    }
                    if e.is_transient() {
                        let record = record_name(&job.part_rel);
                        lock(&self.resumable).extend([job.part_rel.clone(), record]);
                    } else {
                        let _ = remove_any(&part);
                    }
                    return self.fail(&job.rel, e.to_string());
                }
            }
        }
    }

    /// Asks SIZE when the listing gave no size, and MDTM when it gave no
    /// time. A permanent refusal (a server without SIZE or MDTM, or one
    /// that will not tell for this file) leaves them unknown: the size is
    /// then not verified and the time not compared; RETR has the last word.
    fn complete_metadata(
        &self,
        client: &mut Client,
        remote: &[u8],
        job: &mut FileJob,
    ) -> ftp_proto::Result<()> {
        let unsupported = |e: &ftp_proto::Error| e.is_permanent();
        if job.size.is_none() {
            match client.size(remote) {
                Ok(n) => {
                    job.size = Some(n);
                    lock(&self.stats).bytes_total += n;
                }
                Err(e) if unsupported(&e) && client.is_reusable() => {}
                Err(e) => return Err(e),
            }
        }
        if job.modified.is_none() {
            match client.mdtm(remote) {
                Ok(t) => job.modified = Some(t),
                Err(e)
                    if (unsupported(&e) || matches!(e, ftp_proto::Error::BadReply { .. }))
                        && client.is_reusable() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    // ---- sessions, retries, reporting ----

    /// A session from the pool. A wait that timed out only because every
    /// session was busy (other workers or modules are transferring) is not
    /// a failure: the worker waits again.
    fn session(&self) -> Result<PooledSession, NoSession> {
        loop {
            if self.stopping() {
                return Err(NoSession::Quit);
            }
            match self.pool.get() {
                // The walk may have been stopped while this worker waited.
                Ok(_) if self.quit.is_set() => return Err(NoSession::Quit),
                Ok(s) => return Ok(s),
                Err(PoolError::Timeout {
                    last_error: None, ..
                }) => {
                    log::debug!(
                        "every session to {} is busy; waiting again",
                        self.pool.key()
                    );
                }
                // Retrying would only repeat the pool's own attempts.
                Err(e @ (PoolError::Refused { .. } | PoolError::Unreachable { .. })) => {
                    self.abort(SyncError::Pool(e));
                    return Err(NoSession::Quit);
                }
                Err(e) => return Err(NoSession::Transient(e)),
            }
        }
    }

    /// Before attempt `attempt + 1` of `what` (a relative path, or
    /// [`LOGIN`] when no session could be had): reports the retry and
    /// sleeps. `false` when the retries are spent or the walk is stopping.
    fn pause(&self, what: &[u8], attempt: u32, error: &str) -> bool {
        if attempt > self.opts.max_retries || self.stopping() {
            return false;
        }
        let delay = backoff(attempt, RETRY_BACKOFF.0, RETRY_BACKOFF.1);
        lock(&self.stats).retries += 1;
        self.event(Event::Retry {
            module: self.opts.module.clone(),
            what: lossy(what),
            attempt,
            error: error.to_string(),
            delay,
        });
        let until = Instant::now() + delay;
        while !self.stopping() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
        !self.stopping()
    }

    /// Whether the walk is ending: stopped (a fatal error) or interrupted.
    fn stopping(&self) -> bool {
        self.quit.is_set() || self.opts.interrupt.is_set()
    }

    /// Records a permanent failure of one path; the walk goes on.
    fn fail(&self, rel: &[u8], error: String) {
        log::warn!("{}: {}", self.display(rel), error);
        self.event(Event::Failed {
            module: self.opts.module.clone(),
            path: lossy(rel),
            error: error.clone(),
        });
        lock(&self.stats).failures.push((lossy(rel), error));
    }

    /// Stops the walk: the module cannot be mirrored.
    fn abort(&self, e: SyncError) {
        let mut fatal = lock(&self.fatal);
        if fatal.is_none() {
            self.event(Event::Failed {
                module: self.opts.module.clone(),
                path: String::new(),
                error: e.to_string(),
            });
            *fatal = Some(e);
        }
        self.quit.quit();
    }

    fn warn(&self, message: String) {
        log::warn!("{message}");
        self.event(Event::Warning { message });
    }

    fn bytes(&self, delta: u64) {
        self.event(Event::Bytes {
            module: self.opts.module.clone(),
            delta,
        });
    }

    fn event(&self, e: Event) {
        self.events.event(&e);
    }

    /// A relative path for messages: `module:path`.
    fn display(&self, rel: &[u8]) -> String {
        format!("{}:/{}", self.opts.module, lossy(rel))
    }

    /// The remote path of a directory (`None`: the login directory).
    fn remote_dir(&self, rel: &[u8]) -> Option<Vec<u8>> {
        if rel.is_empty() && self.root.is_empty() {
            None
        } else {
            Some(self.remote_file(rel))
        }
    }

    /// The remote path of `rel` under the root.
    fn remote_file(&self, rel: &[u8]) -> Vec<u8> {
        if self.root.is_empty() {
            return rel.to_vec();
        }
        if rel.is_empty() {
            return self.root.clone();
        }
        let mut p = self.root.clone();
        if !p.ends_with(b"/") {
            p.push(b'/');
        }
        p.extend_from_slice(rel);
        p
    }

    /// Removes from every listed directory what the server does not have,
    /// leftover temporary files included (but not those of downloads that
    /// failed for a transient reason in this run: the next run resumes them).
    fn clean_up(&self) {
        let listed = std::mem::take(&mut *lock(&self.listed));
        let resumable = std::mem::take(&mut *lock(&self.resumable));
        for dir in listed {
            let path = local_path(&self.opts.dest, &dir.rel);
            let keep =
                |name: &[u8]| dir.keep.contains(name) || resumable.contains(&join(&dir.rel, name));
            for (path, e) in prune(&path, keep) {
                let rel = path
                    .strip_prefix(&self.opts.dest)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_else(|_| path.display().to_string());
                self.fail(rel.as_bytes(), format!("cannot remove: {e}"));
            }
        }
    }

    /// Gives the new copy's directories their listed times, after the
    /// clean-up (see [`super::dirtimes`]). A time that cannot be set is a
    /// warning, not a failure: one for all of them, naming the first.
    fn set_dir_times(&self) {
        let failed = self
            .dir_times
            .apply(&self.opts.dest, self.opts.previous.as_deref());
        if let Some((rel, e)) = failed.first() {
            self.warn(format!(
                "cannot set the modification time of {} director{} (first: {}: {e})",
                failed.len(),
                if failed.len() == 1 { "y" } else { "ies" },
                self.display(rel)
            ));
        }
    }
}

/// Dry run: the files and links of `previous` (the current copy) that the
/// walk found neither to fetch, to keep nor to link: a real run would leave
/// them out.
fn gone_from_server(
    previous: &std::path::Path,
    stats: &SyncStats,
    links: &HashSet<String>,
) -> Vec<String> {
    let remote: std::collections::HashSet<&str> = stats
        .would_fetch
        .iter()
        .chain(&stats.would_keep)
        .map(String::as_str)
        .collect();
    let mut gone: Vec<String> = walkdir::WalkDir::new(previous)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .filter_map(|e| {
            let rel = e
                .path()
                .strip_prefix(previous)
                .ok()?
                .to_string_lossy()
                .into_owned();
            (!remote.contains(rel.as_str()) && !links.contains(&rel)).then_some(rel)
        })
        .collect();
    gone.sort();
    gone
}
