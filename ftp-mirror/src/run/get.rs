//! `ftp-mirror get URL DEST`: one directory or one file, no plan.
//!
//! A directory is mirrored to `DEST` itself with the same staging as a plan
//! module: the copy is built in `.<DEST name>.ftp-mirror-new` beside `DEST`
//! (kept for resume after a failure) and swapped in whole; the previous
//! content of `DEST` is then deleted, so `DEST` ends up holding exactly the
//! remote tree. `DEST` must therefore name a directory of its own: `/`,
//! `.`, `..` and any directory holding the current working directory are
//! refused, and so is a non-empty directory that an earlier `get` did not
//! make (recognised by the lock file `.<name>.ftp-mirror-lock` every run
//! leaves beside `DEST`).
//!
//! A file is fetched to `DEST`, or to `DEST/<name>` when `DEST` is an
//! existing directory, through `.<name>.ftp-mirror-part` beside it and
//! renamed into place when complete. The part is resumed with `REST` on a
//! retry or a later run only while `SIZE` and `MDTM` still give the size and
//! time recorded when it was started (see [`PartOrigin`]); otherwise it is
//! started again. A local file with the remote size and modification time
//! is left alone.
//!
//! Whether the URL names a directory or a file is asked with `MLST` when
//! the server offers it, else by trying `CWD`, then `SIZE`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ftp_proto::client::Progress;
use ftp_proto::FileTime;

use super::{Mirror, RunOptions};
use crate::events::{backoff, Event, EventSink};
use crate::fetch::{
    discard_part, open_part, record_path, remove_any, resume_point, PartOrigin, Writeback,
};
use crate::plan::{DEFAULT_FTP_TIMEOUT_SECS, DEFAULT_NUM_CONNECTION};
use crate::pool::{Pool, PoolConfig, ServerAuth, ServerKey};
use crate::report::{ModuleReport, ModuleStatus, RunReport};
use crate::stage::{sibling, Stage};
use crate::url::FtpUrl;

/// The error of a single-file `get` stopped by the interrupt.
const INTERRUPTED: &str = "interrupted; the next run resumes";

/// First and longest pause between two attempts at a file.
const RETRY_DELAY: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(30));

/// Mirrors the directory or fetches the file `url` names to `dest`. The
/// report has one module entry, named by the URL (without its password).
pub fn run_url(url: &FtpUrl, dest: &Path, opts: &RunOptions, events: &dyn EventSink) -> RunReport {
    let started = Instant::now();
    let mut report = RunReport::new();
    let id = url.to_string();
    let auth = ServerAuth {
        key: ServerKey {
            host: url.host.clone(),
            port: url.port,
            user: url.user.clone().unwrap_or_else(|| "anonymous".to_string()),
        },
        password: url.resolve_password(),
    };
    let pool = Pool::new(
        auth,
        PoolConfig {
            max_sessions: opts.connections.unwrap_or(DEFAULT_NUM_CONNECTION).max(1),
            wait_timeout: opts
                .wait_timeout
                .unwrap_or(Duration::from_secs(DEFAULT_FTP_TIMEOUT_SECS)),
            client: opts.client.clone(),
        },
    );
    let mut module = ModuleReport::new(id.clone());
    events.event(&Event::ModuleStarted { module: id.clone() });
    let outcome = match probe(&pool, &url.path) {
        Ok(Kind::Dir) => mirror_dir(&id, url, dest, &pool, opts, events, &mut module)
            .map_err(|Refused(e)| (ModuleStatus::Refused, e)),
        Ok(Kind::File) => {
            fetch_file(&id, url, dest, &pool, opts, events, &mut module).map_err(|e| {
                if opts.interrupt.is_set() {
                    (ModuleStatus::Interrupted, e)
                } else {
                    (ModuleStatus::Failed, e)
                }
            })
        }
        Err(e) => Err((ModuleStatus::Failed, e)),
    };
    if let Err((status, error)) = outcome {
        events.event(&Event::Failed {
            module: id.clone(),
            path: String::new(),
            error: error.clone(),
        });
        module.status = status;
        module.errors.push(error);
        module.set_elapsed(started.elapsed());
        events.event(&Event::ModuleFinished {
            module: id,
            ok: false,
        });
    }
    report.modules.push(module);
    report.interrupted = opts.interrupt.is_set();
    report.elapsed = started.elapsed();
    report
}

/// What a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Dir,
    File,
}

/// Asks the server whether `path` is a directory or a file.
fn probe(pool: &Pool, path: &[u8]) -> Result<Kind, String> {
    if path.iter().all(|&b| b == b'/') {
        return Ok(Kind::Dir);
    }
    let shown = String::from_utf8_lossy(path).into_owned();
    let mut session = pool.get().map_err(|e| e.to_string())?;
    let has_mlst = session.features().is_ok_and(|f| f.has("MLST"));
    if has_mlst {
        match session.mlst(path) {
            Ok(entry) if entry.is_dir() => return Ok(Kind::Dir),
            Ok(entry) if entry.is_file() => return Ok(Kind::File),
            Ok(_) => {} // a link or something else: try the commands below
            Err(e) if e.is_permanent() => {
                return Err(format!("{shown}: no such file or directory ({e})"))
            }
            Err(e) => return Err(format!("{shown}: {e}")),
        }
    }
    let home = session.pwd().map_err(|e| e.to_string())?;
    match session.cwd(path) {
        Ok(()) => {
            if session.cwd(&home).is_err() {
                // Do not hand a session in an unknown directory to others.
                session.discard();
            }
            return Ok(Kind::Dir);
        }
        Err(e) if e.is_permanent() => {}
        Err(e) => return Err(format!("{shown}: {e}")),
    }
    match session.size(path) {
        Ok(_) => Ok(Kind::File),
        Err(e) => Err(format!(
            "{shown}: neither a directory nor a readable file ({e})"
        )),
    }
}

/// A destination `get` will not replace (bad usage: exit code 2).
struct Refused(String);

fn mirror_dir(
    id: &str,
    url: &FtpUrl,
    dest: &Path,
    pool: &Pool,
    opts: &RunOptions,
    events: &dyn EventSink,
    module: &mut ModuleReport,
) -> Result<(), Refused> {
    let dest = checked_destination(dest).map_err(Refused)?;
    if fs::symlink_metadata(&dest).is_ok_and(|m| !m.is_dir()) {
        return Err(Refused(format!(
            "{} is not a directory (a file or a link); the URL names a directory, \
             which is mirrored into one. Choose another DEST",
            dest.display()
        )));
    }
    if holds_foreign_files(&dest) {
        return Err(Refused(format!(
            "{} already holds files and was not made by ftp-mirror get; it would be replaced by the mirror. \
             Remove it or choose another DEST",
            dest.display()
        )));
    }
    let stage = Stage::new(dest.clone(), None)
        .ok_or_else(|| Refused(format!("{}: not a directory name", dest.display())))?;
    let job = Mirror {
        id,
        remote_root: url.path.clone(),
        stage: &stage,
        pool,
        buffer_size: opts.client.buffer_size,
        opts,
        events,
        announce: false,
    };
    job.run(module);
    Ok(())
}

/// `dest` made absolute and normalized; refuses a path that has no name of
/// its own or that holds the working directory (it would be replaced).
fn checked_destination(dest: &Path) -> Result<PathBuf, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let absolute = crate::plan::normalize(&cwd.join(dest));
    if absolute.file_name().is_none() || cwd.starts_with(&absolute) {
        return Err(format!(
            "{}: refusing to replace this directory (it is the root or holds the current directory); name a new or mirror-only directory",
            dest.display()
        ));
    }
    Ok(absolute)
}

/// Whether `dest` is a non-empty directory that no earlier `get` made:
/// every mirror leaves its lock file `.<name>.ftp-mirror-lock` beside it.
fn holds_foreign_files(dest: &Path) -> bool {
    let not_empty = fs::read_dir(dest).is_ok_and(|mut entries| entries.next().is_some());
    not_empty && !sibling(dest, "lock").is_some_and(|lock| lock.exists())
}

#[allow(clippy::too_many_arguments)]
fn fetch_file(
    id: &str,
    url: &FtpUrl,
    dest: &Path,
    pool: &Pool,
    opts: &RunOptions,
    events: &dyn EventSink,
    module: &mut ModuleReport,
) -> Result<(), String> {
    let started = Instant::now();
    let name = file_name(&url.path).ok_or_else(|| format!("{url}: the URL names no file"))?;
    // `DEST/` names a directory even when it does not exist yet: it is
    // made (not its parents), so the file is not downloaded only to fail
    // its rename at the end.
    let wants_dir = {
        use std::os::unix::ffi::OsStrExt;
        dest.as_os_str().as_bytes().ends_with(b"/")
    };
    if wants_dir && !dest.is_dir() && !opts.dry_run {
        fs::create_dir(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    }
    let target = if dest.is_dir() || wants_dir {
        dest.join(&name)
    } else {
        dest.to_path_buf()
    };
    let part =
        sibling(&target, "part").ok_or_else(|| format!("{}: not a file name", target.display()))?;
    let shown = String::from_utf8_lossy(&url.path).into_owned();
    module.path = Some(target.display().to_string());

    let (size, modified) = {
        let mut session = pool.get().map_err(|e| e.to_string())?;
        (session.size(&url.path).ok(), session.mdtm(&url.path).ok())
    };
    let origin = PartOrigin::new(&url.path, size, modified.as_ref());
    let modified = modified.as_ref().and_then(system_time);
    module.bytes_total = size.unwrap_or(0);
    if is_unchanged(&target, size, modified) {
        events.event(&Event::FileUnchanged {
            module: id.to_string(),
            path: shown.clone(),
            size: size.unwrap_or(0),
        });
        module.files_unchanged = 1;
        module.would_keep = if opts.dry_run {
            vec![shown]
        } else {
            Vec::new()
        };
        finish(id, module, opts, started, events);
        return Ok(());
    }
    if opts.dry_run {
        module.would_fetch = vec![shown];
        finish(id, module, opts, started, events);
        return Ok(());
    }
    events.event(&Event::FileQueued {
        module: id.to_string(),
        path: shown.clone(),
        size,
    });
    let total = download(id, &origin, &part, pool, opts, events, module)?;
    if let Some(when) = modified {
        let set = File::options()
            .write(true)
            .open(&part)
            .and_then(|f| f.set_modified(when));
        if let Err(e) = set {
            log::warn!("cannot set the time of {}: {e}", part.display());
        }
    }
    fs::rename(&part, &target).map_err(|e| {
        format!(
            "cannot rename {} to {}: {e}",
            part.display(),
            target.display()
        )
    })?;
    if let Err(e) = remove_any(&record_path(&part)) {
        log::warn!("cannot remove {}: {e}", record_path(&part).display());
    }
    events.event(&Event::FileDone {
        module: id.to_string(),
        path: shown,
        bytes: total,
    });
    module.files_fetched = 1;
    module.bytes_total = total;
    finish(id, module, opts, started, events);
    Ok(())
}

/// Why one download attempt failed.
enum Failure {
    /// Writing the local file failed: no point in retrying.
    Local(std::io::Error),
    /// No session could be had.
    Pool(crate::pool::PoolError),
    /// The transfer failed.
    Ftp(ftp_proto::Error),
}

/// Downloads `origin` into `part`, resuming what it holds when it was
/// started from the same origin, retrying transient failures. Returns the
/// file's final length.
fn download(
    id: &str,
    origin: &PartOrigin,
    part: &Path,
    pool: &Pool,
    opts: &RunOptions,
    events: &dyn EventSink,
    module: &mut ModuleReport,
) -> Result<u64, String> {
    let (path, size) = (origin.remote.as_slice(), origin.size);
    let shown = String::from_utf8_lossy(path).into_owned();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let offset = resume_point(part, origin);
        let mut fetched = 0u64;
        let result = (|| -> Result<u64, Failure> {
            let file = open_part(part, offset, origin).map_err(Failure::Local)?;
            let mut file = Writeback::new(file, offset, Some(&opts.interrupt));
            let mut session = pool.get().map_err(Failure::Pool)?;
            let mut last = offset;
            let mut progress = |p: Progress| {
                let delta = p.bytes.saturating_sub(last);
                last = p.bytes;
                fetched += delta;
                events.event(&Event::Bytes {
                    module: id.to_string(),
                    delta,
                });
            };
            let got = session
                .retr_expecting(path, offset, size, &mut file, &mut progress)
                .map_err(Failure::Ftp)?;
            Ok(offset + got)
        })();
        module.bytes_fetched += fetched;
        let error = match result {
            // Complete: put in place even if an interrupt came meanwhile.
            Ok(total) if size.is_none_or(|s| s == total) => return Ok(total),
            // The `.part` file and its origin record stay: the next run
            // resumes.
            _ if opts.interrupt.is_set() => return Err(INTERRUPTED.into()),
            Ok(total) => format!("short transfer: {total} of {} bytes", size.unwrap_or(0)),
            Err(Failure::Local(e)) => return Err(format!("cannot write {}: {e}", part.display())),
            Err(Failure::Pool(e)) if e.is_transient() => e.to_string(),
            Err(Failure::Pool(e)) => return Err(e.to_string()),
            Err(Failure::Ftp(e)) if e.is_transient() => e.to_string(),
            Err(Failure::Ftp(e)) if offset > 0 && e.is_permanent() => {
                // Perhaps REST is refused: start over from zero.
                log::info!("{shown}: resuming at {offset} failed ({e}); starting over");
                let _ = discard_part(part);
                e.to_string()
            }
            Err(Failure::Ftp(e)) => return Err(format!("{shown}: {e}")),
        };
        if attempt > opts.max_retries {
            return Err(format!("{shown}: {error} (after {attempt} attempts)"));
        }
        let delay = backoff(attempt, RETRY_DELAY.0, RETRY_DELAY.1);
        module.retries += 1;
        events.event(&Event::Retry {
            module: id.to_string(),
            what: shown.clone(),
            attempt,
            error,
            delay,
        });
        let until = Instant::now() + delay;
        while !opts.interrupt.is_set() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
        }
    }
}

/// Marks the single-file module done.
fn finish(
    id: &str,
    module: &mut ModuleReport,
    opts: &RunOptions,
    started: Instant,
    events: &dyn EventSink,
) {
    module.status = if opts.dry_run {
        ModuleStatus::DryRun
    } else {
        ModuleStatus::Ok
    };
    module.set_elapsed(started.elapsed());
    events.event(&Event::ModuleFinished {
        module: id.to_string(),
        ok: true,
    });
}

/// Whether `target` is a file with this size and (to the second) time.
fn is_unchanged(target: &Path, size: Option<u64>, modified: Option<SystemTime>) -> bool {
    let (Some(size), Some(modified)) = (size, modified) else {
        return false;
    };
    let Ok(meta) = fs::metadata(target) else {
        return false;
    };
    let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs());
    meta.is_file() && meta.len() == size && meta.modified().ok().and_then(secs) == secs(modified)
}

fn system_time(t: &FileTime) -> Option<SystemTime> {
    let secs = u64::try_from(t.unix_secs).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, t.nanos.min(999_999_999)))
}

/// The last part of a remote path as a local file name.
fn file_name(path: &[u8]) -> Option<std::ffi::OsString> {
    let last = path.split(|&b| b == b'/').rev().find(|p| !p.is_empty())?;
    if last == b"." || last == b".." || last.contains(&0) {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(std::ffi::OsStr::from_bytes(last).to_os_string())
    }
    #[cfg(not(unix))]
    {
        Some(String::from_utf8_lossy(last).into_owned().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_from_remote_paths() {
        assert_eq!(
            file_name(b"pub/a.iso").as_deref(),
            Some(std::ffi::OsStr::new("a.iso"))
        );
        assert_eq!(
            file_name(b"/a b/").as_deref(),
            Some(std::ffi::OsStr::new("a b"))
        );
        assert_eq!(file_name(b"pub/.."), None);
        assert_eq!(file_name(b"/"), None);
    }

    #[test]
    fn destinations_that_would_swallow_the_working_directory_are_refused() {
        assert!(checked_destination(Path::new(".")).is_err());
        assert!(checked_destination(Path::new("..")).is_err());
        assert!(checked_destination(Path::new("/")).is_err());
        let ok = checked_destination(Path::new("mirror/./x/../y")).unwrap();
        assert!(
            ok.is_absolute() && ok.ends_with("mirror/y"),
            "{}",
            ok.display()
        );
    }

    #[test]
    fn unchanged_needs_size_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, "12345").unwrap();
        let when = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(when)
            .unwrap();
        assert!(is_unchanged(&path, Some(5), Some(when)));
        assert!(!is_unchanged(&path, Some(6), Some(when)));
        assert!(!is_unchanged(
            &path,
            Some(5),
            Some(when + Duration::from_secs(2))
        ));
        assert!(!is_unchanged(&path, Some(5), None));
        assert!(!is_unchanged(
            &dir.path().join("missing"),
            Some(5),
            Some(when)
        ));
    }
}
