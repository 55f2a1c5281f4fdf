//! Copying files and trees with their modification times.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use walkdir::WalkDir;

/// What a copy did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Files copied.
    pub files: u64,
    /// Bytes copied.
    pub bytes: u64,
    /// Directories created.
    pub dirs: u64,
}

/// Copies one regular file to `dst` (created or truncated) and gives it the
/// source's modification time and permissions.
pub fn copy_file(src: &Path, dst: &Path) -> io::Result<u64> {
    let mut from = File::open(src)?;
    let meta = from.metadata()?;
    let mut to = File::create(dst)?;
    let bytes = io::copy(&mut from, &mut to)?;
    to.set_modified(meta.modified()?)?;
    to.set_permissions(meta.permissions())?;
    Ok(bytes)
}

/// Copies the tree `src` to `dst` (which must not exist): directories
/// (with their times, below the top one), regular files with their times
/// and permissions, and symbolic links as links. A directory time that
/// cannot be set is only logged.
pub fn copy_tree(src: &Path, dst: &Path) -> io::Result<CopyStats> {
    let mut stats = CopyStats::default();
    for entry in WalkDir::new(src).follow_links(false) {
        let entry = entry.map_err(io::Error::other)?;
        let rel = entry.path().strip_prefix(src).map_err(io::Error::other)?;
        let target = dst.join(rel);
        let kind = entry.file_type();
        if kind.is_dir() {
            fs::create_dir(&target)?;
            stats.dirs += 1;
        } else if kind.is_file() {
            stats.bytes += copy_file(entry.path(), &target)?;
            stats.files += 1;
        } else if kind.is_symlink() {
            copy_link(entry.path(), &target)?;
        }
    }
    warn_dir_times(&copy_dir_times(src, dst));
    Ok(stats)
}

/// Sets a directory's modification time (its access time is left alone).
pub fn set_dir_mtime(dir: &Path, time: SystemTime) -> io::Result<()> {
    File::open(dir)?.set_modified(time)
}

/// Gives every directory below `dst` the modification time of the same
/// directory below `src`, deepest first; `dst`'s own time is left alone.
/// Directories `dst` lacks are skipped, and a time that already matches
/// is not set again. Call it once nothing is added to or removed from
/// `dst` any more: that changes a directory's time. Returns the
/// directories whose time could not be read or set, with why.
pub fn copy_dir_times(src: &Path, dst: &Path) -> Vec<(PathBuf, io::Error)> {
    let mut failed = Vec::new();
    let mut dirs = Vec::new();
    for entry in WalkDir::new(src).min_depth(1).follow_links(false) {
        match entry {
            Ok(e) if e.file_type().is_dir() => {
                let time = e
                    .metadata()
                    .map_err(io::Error::from)
                    .and_then(|m| m.modified());
                match (time, e.path().strip_prefix(src)) {
                    (Ok(time), Ok(rel)) => dirs.push((rel.to_path_buf(), time)),
                    (Err(err), _) => failed.push((e.path().to_path_buf(), err)),
                    (_, Err(_)) => {}
                }
            }
            Ok(_) => {}
            Err(err) => {
                let path = err.path().unwrap_or(src).to_path_buf();
                failed.push((path, io::Error::from(err)));
            }
        }
    }
    // A walk lists a directory before what it holds: backwards, every
    // directory comes after its subdirectories.
    for (rel, time) in dirs.into_iter().rev() {
        let target = dst.join(&rel);
        let Ok(m) = fs::symlink_metadata(&target) else {
            continue;
        };
        if m.is_dir() && m.modified().ok() != Some(time) {
            if let Err(e) = set_dir_mtime(&target, time) {
                failed.push((target, e));
            }
        }
    }
    failed
}

/// Logs what [`copy_dir_times`] could not do: one warning, with the first
/// failure (a file system that refuses times refuses them all).
pub(crate) fn warn_dir_times(failed: &[(PathBuf, io::Error)]) {
    if let Some((path, e)) = failed.first() {
        log::warn!(
            "cannot set the modification time of {} director{} (first: {}: {e})",
            failed.len(),
            if failed.len() == 1 { "y" } else { "ies" },
            path.display()
        );
    }
}

#[cfg(unix)]
fn copy_link(src: &Path, dst: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(fs::read_link(src)?, dst)
}

#[cfg(not(unix))]
fn copy_link(src: &Path, dst: &Path) -> io::Result<()> {
    copy_file(src, dst).map(|_| ())
}
