//! Distribution: copying a finished module to its destinations.
//!
//! Each destination directory `D` gets its new copy built beside it, in
//! `.<D's name>.ftp-mirror-new`:
//! - a file whose size and modification time (to the second) equal those of
//!   the same path in the existing `D` is hard-linked from `D` (copied when
//!   linking is not possible), so unchanged files cost nothing;
//! - other files are copied from the stage with their modification time;
//! - once every file is placed, the directories take the stage's directory
//!   times, deepest first (the top directory's own time is left alone; a
//!   time that cannot be set is only logged);
//! - a half-built directory left by an earlier failed attempt is reused:
//!   files already there with the right size and time are kept, anything
//!   the module no longer has is removed.
//!
//! The complete copy is then swapped in whole (see [`crate::stage::swap_in`])
//! and the old one removed. Until the swap, `D` is untouched; after it, `D`
//! is the new copy. So every destination ends with either the old copy or
//! the new one, never a mix. Destinations are served in parallel and one
//! failing does not stop the others.

use std::collections::HashSet;
use std::fs::{self, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use walkdir::WalkDir;

use crate::events::{Event, EventSink};
use crate::interrupt::Interrupt;
use crate::stage::{
    copy_dir_times, copy_file, same_state, sibling, swap_in, warn_dir_times, StageError,
};

/// One place a module is copied to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The machine's name from the plan.
    pub machine: String,
    /// The destination directory.
    pub path: PathBuf,
}

/// What a distribution to one destination did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DistributeStats {
    /// Files copied from the stage.
    pub files_copied: u64,
    /// Unchanged files hard-linked (or locally copied) from the old copy.
    pub files_linked: u64,
    /// Files already complete in a half-built copy from an earlier attempt.
    pub files_kept: u64,
    /// Bytes copied from the stage.
    pub bytes_copied: u64,
}

/// The outcome for one destination.
#[derive(Debug)]
pub struct Outcome {
    /// The destination.
    pub target: Target,
    /// What was done, or why it failed (the destination then holds its old copy).
    pub result: Result<DistributeStats, StageError>,
    /// How long it took.
    pub elapsed: Duration,
}

/// Copies `source` to every target, in parallel, and reports each. When
/// `interrupt` is triggered, copies still being built stop between two
/// entries (their half-built copies are reused next time) and fail with an
/// [`io::ErrorKind::Interrupted`] error; their destinations are untouched.
pub fn distribute_all(
    module: &str,
    source: &Path,
    targets: &[Target],
    events: &dyn EventSink,
    interrupt: &Interrupt,
) -> Vec<Outcome> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|target| {
                scope.spawn(move || {
                    events.event(&Event::DistributeStarted {
                        module: module.to_string(),
                        destination: target.path.clone(),
                    });
                    let started = Instant::now();
                    let result = distribute_until(source, &target.path, interrupt);
                    if let Err(e) = &result {
                        log::error!(
                            "module {module}: distribution to {} failed: {e}",
                            target.path.display()
                        );
                    }
                    events.event(&Event::DistributeFinished {
                        module: module.to_string(),
                        destination: target.path.clone(),
                        error: result.as_ref().err().map(|e| e.to_string()),
                    });
                    Outcome {
                        target: target.clone(),
                        result,
                        elapsed: started.elapsed(),
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(targets)
            .map(|(handle, target)| {
                handle.join().unwrap_or_else(|_| Outcome {
                    target: target.clone(),
                    result: Err(StageError::new(
                        "distribute to",
                        &target.path,
                        io::Error::other("the copying thread panicked"),
                    )),
                    elapsed: Duration::ZERO,
                })
            })
            .collect()
    })
}

/// Dry run: how many files a distribution to `dest` would copy and link,
/// given the files a mirror would fetch and keep (paths relative to the
/// module) and the current stage copy (`None` if there is none yet). A
/// fetched file is always copied; a kept one is linked when `dest` holds it
/// with the stage copy's size and time. Nothing is written; bytes are not
/// counted.
pub fn preview(
    stage: Option<&Path>,
    dest: &Path,
    would_fetch: &[String],
    would_keep: &[String],
) -> DistributeStats {
    let mut stats = DistributeStats {
        files_copied: would_fetch.len() as u64,
        ..DistributeStats::default()
    };
    for rel in would_keep {
        let current = stage.and_then(|s| fs::metadata(s.join(rel)).ok());
        let there = fs::symlink_metadata(dest.join(rel)).ok();
        match (current, there) {
            (Some(a), Some(b)) if b.is_file() && same_state(&a, &b) => stats.files_linked += 1,
            _ => stats.files_copied += 1,
        }
    }
    stats
}

/// Makes `dest` an exact copy of `source`, swapping it in whole.
pub fn distribute_to(source: &Path, dest: &Path) -> Result<DistributeStats, StageError> {
    distribute_until(source, dest, &Interrupt::new())
}

/// [`distribute_to`], stopping before the swap when `interrupt` is
/// triggered (see [`distribute_all`]).
pub fn distribute_until(
    source: &Path,
    dest: &Path,
    interrupt: &Interrupt,
) -> Result<DistributeStats, StageError> {
    let no_name = || {
        StageError::new(
            "distribute to",
            dest,
            io::Error::new(io::ErrorKind::InvalidInput, "no directory name"),
        )
    };
    let new = sibling(dest, "new").ok_or_else(no_name)?;
    let old = sibling(dest, "old").ok_or_else(no_name)?;
    recover(dest, &old)?;
    if let Ok(meta) = fs::symlink_metadata(dest) {
        if !meta.is_dir() {
            return Err(StageError::new(
                "distribute to",
                dest,
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists and is not a directory",
                ),
            ));
        }
    }
    let stats = build(source, dest, &new, interrupt)?;
    swap_in(&new, dest, &old)?;
    if fs::symlink_metadata(&old).is_ok() {
        if let Err(e) = fs::remove_dir_all(&old) {
            // The destination is complete; only the old copy lingers (the
            // next run removes it).
            log::warn!("cannot remove the replaced copy {}: {e}", old.display());
        }
    }
    Ok(stats)
}

/// Repairs an interrupted swap at `dest` (old copy put back) or removes a
/// replaced copy whose deletion was interrupted.
fn recover(dest: &Path, old: &Path) -> Result<(), StageError> {
    if fs::symlink_metadata(old).is_err() {
        return Ok(());
    }
    if fs::symlink_metadata(dest).is_err() {
        log::warn!(
            "putting back {} left by an interrupted swap",
            dest.display()
        );
        fs::rename(old, dest).map_err(|e| StageError::new("restore", dest, e))
    } else {
        fs::remove_dir_all(old).map_err(|e| StageError::new("remove", old, e))
    }
}

/// Builds the copy of `source` in `new`, reusing what `new` and `dest` hold.
fn build(
    source: &Path,
    dest: &Path,
    new: &Path,
    interrupt: &Interrupt,
) -> Result<DistributeStats, StageError> {
    fs::create_dir_all(new).map_err(|e| StageError::new("create", new, e))?;
    let mut stats = DistributeStats::default();
    let mut wanted: HashSet<PathBuf> = HashSet::new();
    // Directories of the old copy reached through real directories only:
    // a file is reused from there, never from under a link (`latest -> v2`
    // in the old copy, a directory now, would hand out v2's files).
    let mut real_in_dest: HashSet<PathBuf> = HashSet::from([PathBuf::new()]);
    for entry in WalkDir::new(source).min_depth(1).follow_links(false) {
        if interrupt.is_set() {
            let why = io::Error::new(io::ErrorKind::Interrupted, "interrupted");
            return Err(StageError::new("distribute to", dest, why));
        }
        let entry = entry.map_err(|e| StageError::new("read", source, io::Error::other(e)))?;
        let rel = entry
            .path()
            .strip_prefix(source)
            .map_err(|e| StageError::new("read", entry.path(), io::Error::other(e)))?;
        let target = new.join(rel);
        let kind = entry.file_type();
        let parent_real = rel.parent().is_some_and(|p| real_in_dest.contains(p));
        if kind.is_dir() {
            if parent_real && fs::symlink_metadata(dest.join(rel)).is_ok_and(|m| m.is_dir()) {
                real_in_dest.insert(rel.to_path_buf());
            }
            if fs::symlink_metadata(&target).is_ok_and(|m| !m.is_dir()) {
                remove_any(&target)?;
            }
            fs::create_dir_all(&target).map_err(|e| StageError::new("create", &target, e))?;
        } else if kind.is_file() {
            let meta = entry
                .metadata()
                .map_err(|e| StageError::new("read", entry.path(), io::Error::other(e)))?;
            let existing = parent_real.then(|| dest.join(rel));
            place_file(
                entry.path(),
                &meta,
                existing.as_deref(),
                &target,
                &mut stats,
            )?;
        } else if kind.is_symlink() {
            place_link(entry.path(), &target)?;
        }
        wanted.insert(rel.to_path_buf());
    }
    prune(new, &wanted)?;
    // Last: placing and removing entries changes a directory's time.
    warn_dir_times(&copy_dir_times(source, new));
    Ok(stats)
}

/// Puts one file at `target`: kept, linked from `existing` (the old copy's
/// file, when it may be reused), or copied.
fn place_file(
    src: &Path,
    meta: &Metadata,
    existing: Option<&Path>,
    target: &Path,
    stats: &mut DistributeStats,
) -> Result<(), StageError> {
    match fs::symlink_metadata(target) {
        Ok(have) if have.is_file() && same_state(&have, meta) => {
            stats.files_kept += 1;
            return Ok(());
        }
        Ok(_) => remove_any(target)?,
        Err(_) => {}
    }
    let existing = existing.filter(|e| {
        fs::symlink_metadata(e).is_ok_and(|have| have.is_file() && same_state(&have, meta))
    });
    if let Some(existing) = existing {
        if fs::hard_link(existing, target).is_ok() || copy_file(existing, target).is_ok() {
            stats.files_linked += 1;
            return Ok(());
        }
        // Could not reuse it: fall through and copy from the stage.
        let _ = fs::remove_file(target);
    }
    let bytes = copy_file(src, target).map_err(|e| StageError::new("copy to", target, e))?;
    stats.files_copied += 1;
    stats.bytes_copied += bytes;
    Ok(())
}

#[cfg(unix)]
fn place_link(src: &Path, target: &Path) -> Result<(), StageError> {
    let link = fs::read_link(src).map_err(|e| StageError::new("read", src, e))?;
    if fs::read_link(target).is_ok_and(|have| have == link) {
        return Ok(());
    }
    if fs::symlink_metadata(target).is_ok() {
        remove_any(target)?;
    }
    std::os::unix::fs::symlink(&link, target).map_err(|e| StageError::new("link", target, e))
}

#[cfg(not(unix))]
fn place_link(src: &Path, target: &Path) -> Result<(), StageError> {
    copy_file(src, target)
        .map(|_| ())
        .map_err(|e| StageError::new("copy to", target, e))
}

/// Removes from `new` everything whose relative path is not in `wanted`.
fn prune(new: &Path, wanted: &HashSet<PathBuf>) -> Result<(), StageError> {
    let mut walk = WalkDir::new(new)
        .min_depth(1)
        .follow_links(false)
        .into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|e| StageError::new("read", new, io::Error::other(e)))?;
        let Ok(rel) = entry.path().strip_prefix(new) else {
            continue;
        };
        if !wanted.contains(rel) {
            if entry.file_type().is_dir() {
                walk.skip_current_dir();
            }
            remove_any(entry.path())?;
        }
    }
    Ok(())
}

fn remove_any(path: &Path) -> Result<(), StageError> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    result.map_err(|e| StageError::new("remove", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::set_dir_mtime;
    use std::time::SystemTime;

    fn write(path: &Path, content: &str, secs: u64) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
        let when = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }

    /// Every path under `dir` with its content (directories as "/").
    fn snapshot(dir: &Path) -> Vec<(String, String)> {
        let mut out: Vec<_> = WalkDir::new(dir)
            .min_depth(1)
            .into_iter()
            .map(|e| {
                let e = e.unwrap();
                let rel = e
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let content = if e.file_type().is_dir() {
                    "/".into()
                } else {
                    fs::read_to_string(e.path()).unwrap()
                };
                (rel, content)
            })
            .collect();
        out.sort();
        out
    }

    #[cfg(unix)]
    fn inode(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(path).unwrap().ino()
    }

    #[test]
    fn first_copy_then_incremental_update() {
        let root = tempfile::tempdir().unwrap();
        let (src, dest) = (root.path().join("stage/pub"), root.path().join("web/pub"));
        write(&src.join("same.txt"), "same", 1000);
        write(&src.join("dir/changed.txt"), "v1", 1000);
        write(&src.join("gone.txt"), "bye", 1000);
        fs::create_dir_all(src.join("empty")).unwrap();
        let first = distribute_to(&src, &dest).unwrap();
        assert_eq!(
            (first.files_copied, first.files_linked, first.bytes_copied),
            (3, 0, 9)
        );
        assert_eq!(snapshot(&dest), snapshot(&src));
        assert_eq!(
            fs::metadata(dest.join("same.txt"))
                .unwrap()
                .modified()
                .unwrap(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1000)
        );
        #[cfg(unix)]
        let same_inode = inode(&dest.join("same.txt"));

        write(&src.join("dir/changed.txt"), "v2", 2000);
        fs::remove_file(src.join("gone.txt")).unwrap();
        write(&src.join("new.txt"), "new", 2000);
        let second = distribute_to(&src, &dest).unwrap();
        assert_eq!((second.files_copied, second.files_linked), (2, 1));
        assert_eq!(snapshot(&dest), snapshot(&src));
        #[cfg(unix)]
        assert_eq!(
            inode(&dest.join("same.txt")),
            same_inode,
            "unchanged file is linked, not copied"
        );
        // Nothing is left beside the destination.
        let mut names: Vec<_> = fs::read_dir(root.path().join("web"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, vec!["pub"]);
    }

    #[test]
    fn directories_take_the_stage_times() {
        let root = tempfile::tempdir().unwrap();
        let (src, dest) = (root.path().join("src"), root.path().join("dest"));
        write(&src.join("a/b/file"), "f", 1000);
        fs::create_dir_all(src.join("empty")).unwrap();
        let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let mtime = |p: &Path| fs::metadata(p).unwrap().modified().unwrap();
        for (dir, secs) in [("a/b", 3000), ("a", 2000), ("empty", 4000)] {
            set_dir_mtime(&src.join(dir), at(secs)).unwrap();
        }
        // A half-built copy with something to remove in `a/b`.
        let new = sibling(&dest, "new").unwrap();
        write(&new.join("a/b/stray"), "x", 5);
        distribute_to(&src, &dest).unwrap();
        for dir in ["a", "a/b", "empty"] {
            assert_eq!(mtime(&dest.join(dir)), mtime(&src.join(dir)), "{dir}");
        }
        // An update (a new file in `a/b`) ends with the stage's times too.
        write(&src.join("a/b/new"), "n", 1000);
        set_dir_mtime(&src.join("a/b"), at(5000)).unwrap();
        distribute_to(&src, &dest).unwrap();
        assert_eq!(mtime(&dest.join("a/b")), at(5000));
        assert_eq!(mtime(&dest.join("a")), at(2000));
    }

    #[test]
    fn half_built_copy_is_reused_and_cleaned() {
        let root = tempfile::tempdir().unwrap();
        let (src, dest) = (root.path().join("src"), root.path().join("dest"));
        write(&src.join("a"), "aaa", 1000);
        write(&src.join("b/c"), "ccc", 1000);
        let new = sibling(&dest, "new").unwrap();
        write(&new.join("a"), "aaa", 1000);
        write(&new.join("b/c"), "stale", 5);
        write(&new.join("stray/file"), "x", 5);
        let stats = distribute_to(&src, &dest).unwrap();
        assert_eq!((stats.files_kept, stats.files_copied), (1, 1));
        assert_eq!(snapshot(&dest), snapshot(&src));
        assert!(!new.exists());
    }

    #[test]
    fn a_file_at_the_destination_is_refused_and_left_alone() {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("src");
        write(&src.join("a"), "a", 1000);
        let dest = root.path().join("dest");
        fs::write(&dest, "precious").unwrap();
        assert!(distribute_to(&src, &dest).is_err());
        assert_eq!(fs::read_to_string(&dest).unwrap(), "precious");
    }

    #[test]
    fn one_failing_destination_does_not_stop_the_others() {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("src");
        write(&src.join("f"), "content", 1000);
        // A regular file where a parent directory should be: cannot be created.
        fs::write(root.path().join("blocked"), "").unwrap();
        let targets = vec![
            Target {
                machine: "m1".into(),
                path: root.path().join("d1/pub"),
            },
            Target {
                machine: "m2".into(),
                path: root.path().join("blocked/pub"),
            },
            Target {
                machine: "m3".into(),
                path: root.path().join("d3/pub"),
            },
        ];
        let seen = std::sync::Mutex::new(Vec::new());
        let sink = |e: &Event| seen.lock().unwrap().push(e.clone());
        let outcomes = distribute_all("M", &src, &targets, &sink, &Interrupt::new());
        assert_eq!(outcomes.len(), 3);
        assert!(outcomes[0].result.is_ok());
        assert!(outcomes[1].result.is_err());
        assert!(outcomes[2].result.is_ok());
        assert_eq!(outcomes[1].target.machine, "m2");
        for ok in ["d1/pub/f", "d3/pub/f"] {
            assert_eq!(fs::read_to_string(root.path().join(ok)).unwrap(), "content");
        }
        let finished = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, Event::DistributeFinished { .. }))
            .count();
        assert_eq!(finished, 3);
    }

    #[test]
    fn preview_counts_without_writing() {
        let root = tempfile::tempdir().unwrap();
        let (stage, dest) = (root.path().join("stage"), root.path().join("dest"));
        write(&stage.join("same"), "s", 1000);
        write(&stage.join("differs"), "d", 1000);
        write(&dest.join("same"), "s", 1000);
        write(&dest.join("differs"), "d", 2000);
        let keep = vec![
            "same".to_string(),
            "differs".to_string(),
            "missing".to_string(),
        ];
        let stats = preview(Some(&stage), &dest, &["new".to_string()], &keep);
        assert_eq!((stats.files_copied, stats.files_linked), (3, 1));
        let fresh = preview(None, &root.path().join("nowhere"), &[], &keep);
        assert_eq!((fresh.files_copied, fresh.files_linked), (3, 0));
        assert!(!root.path().join("nowhere").exists());
    }

    #[test]
    fn an_interrupt_stops_the_copy_and_leaves_the_destination_alone() {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("stage");
        write(&src.join("a.txt"), "new", 2_000);
        let dest = root.path().join("web");
        write(&dest.join("a.txt"), "old", 1_000);
        let interrupt = Interrupt::new();
        interrupt.trigger();
        let err = distribute_until(&src, &dest, &interrupt).unwrap_err();
        assert!(err.to_string().contains("interrupted"), "{err}");
        assert_eq!(fs::read(dest.join("a.txt")).unwrap(), b"old");
        // The next distribution finishes the job.
        distribute_to(&src, &dest).unwrap();
        assert_eq!(fs::read(dest.join("a.txt")).unwrap(), b"new");
    }

    #[test]
    fn interrupted_swap_is_repaired() {
        let root = tempfile::tempdir().unwrap();
        let (src, dest) = (root.path().join("src"), root.path().join("dest"));
        write(&src.join("f"), "new", 2000);
        write(&dest.join("f"), "old", 1000);
        let old = sibling(&dest, "old").unwrap();
        fs::rename(&dest, &old).unwrap();
        distribute_to(&src, &dest).unwrap();
        assert_eq!(fs::read_to_string(dest.join("f")).unwrap(), "new");
        assert!(!old.exists());
    }
}
