//! Backup rotation: `<leaf>` is the newest backup, then `<leaf>.1`,
//! `<leaf>.2`, … (older as the number grows).
//!
//! - [`KeepHistory::No`]: only `<leaf>`, replaced by each new backup.
//! - [`KeepHistory::Last(N)`](KeepHistory::Last): `<leaf>` … `<leaf>.{N-1}`;
//!   the oldest is deleted when a new one arrives.
//! - [`KeepHistory::All`]: every backup is kept; each new one shifts all the
//!   others up by one number.
//!
//! Every step is a rename, or a rename to `.<leaf>.ftp-mirror-drop` followed
//! by a delete, so an interrupted rotation leaves at worst a gap in the
//! numbers, which the next rotation tolerates.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};

use super::{copy_tree, sibling, StageError};
use crate::plan::KeepHistory;

/// The name of backup number `index`: `<leaf>` for 0, else `<leaf>.<index>`.
pub fn backup_name(leaf: &OsStr, index: usize) -> OsString {
    let mut name = leaf.to_os_string();
    if index > 0 {
        name.push(format!(".{index}"));
    }
    name
}

/// Makes room for a new newest backup at `dir/<leaf>`: shifts the existing
/// backups up by one and deletes those beyond what `keep` allows.
pub fn rotate(dir: &Path, leaf: &OsStr, keep: KeepHistory) -> Result<(), StageError> {
    // Highest number that may exist once the new backup is in place.
    let max_index = keep.limit().map(|n| n.get() - 1);
    let mut numbered = numbered_backups(dir, leaf)?;
    numbered.sort_unstable_by(|a, b| b.cmp(a));
    let newest = dir.join(leaf);
    let shifting = std::fs::symlink_metadata(&newest).is_ok();
    for index in numbered {
        let path = dir.join(backup_name(leaf, index));
        let target = if shifting { index + 1 } else { index };
        if max_index.is_some_and(|max| target > max) {
            drop_dir(dir, leaf, &path)?;
        } else if shifting {
            let to = dir.join(backup_name(leaf, index + 1));
            std::fs::rename(&path, &to).map_err(|e| StageError::new("rotate", &path, e))?;
        }
    }
    if shifting {
        if max_index == Some(0) {
            drop_dir(dir, leaf, &newest)?;
        } else {
            let to = dir.join(backup_name(leaf, 1));
            std::fs::rename(&newest, &to).map_err(|e| StageError::new("rotate", &newest, e))?;
        }
    }
    Ok(())
}

/// Moves the directory `copy` into `dir` as the newest backup of `leaf`
/// after rotating; copies when `dir` is on another file system.
pub(super) fn store(
    copy: &Path,
    dir: &Path,
    leaf: &OsStr,
    keep: KeepHistory,
) -> Result<PathBuf, StageError> {
    std::fs::create_dir_all(dir).map_err(|e| StageError::new("create", dir, e))?;
    rotate(dir, leaf, keep)?;
    let target = dir.join(leaf);
    match std::fs::rename(copy, &target) {
        Ok(()) => return Ok(target),
        Err(e) if is_cross_device(&e) => {}
        Err(e) => return Err(StageError::new("back up", &target, e)),
    }
    log::info!(
        "{} is on another file system: copying the backup",
        dir.display()
    );
    store_by_copy(copy, dir, leaf)
}

/// The cross-file-system path of [`store`]: copies `copy` to
/// `dir/.<leaf>.ftp-mirror-tmp`, renames that to `dir/<leaf>` (which must
/// be free) and deletes `copy`.
pub(super) fn store_by_copy(copy: &Path, dir: &Path, leaf: &OsStr) -> Result<PathBuf, StageError> {
    let target = dir.join(leaf);
    let tmp = temp_path(dir, leaf);
    remove_if_present(&tmp)?;
    copy_tree(copy, &tmp).map_err(|e| StageError::new("copy backup to", &tmp, e))?;
    std::fs::rename(&tmp, &target).map_err(|e| StageError::new("back up", &target, e))?;
    std::fs::remove_dir_all(copy).map_err(|e| StageError::new("remove", copy, e))?;
    Ok(target)
}

/// Removes a half-copied backup or a half-deleted old one. Returns whether
/// there was anything.
pub(super) fn clean_leftovers(dir: &Path, leaf: &OsStr) -> Result<bool, StageError> {
    let mut found = false;
    for path in [temp_path(dir, leaf), drop_path(dir, leaf)] {
        found |= remove_if_present(&path)?;
    }
    Ok(found)
}

/// The numbers `k ≥ 1` for which `dir/<leaf>.k` exists.
fn numbered_backups(dir: &Path, leaf: &OsStr) -> Result<Vec<usize>, StageError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StageError::new("list", dir, e)),
    };
    let prefix = leaf.as_encoded_bytes();
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StageError::new("list", dir, e))?;
        let name = entry.file_name();
        let Some(rest) = name
            .as_encoded_bytes()
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix(b"."))
        else {
            continue;
        };
        let Ok(digits) = std::str::from_utf8(rest) else {
            continue;
        };
        if let Ok(index) = digits.parse::<usize>() {
            if index >= 1 && index.to_string() == digits {
                found.push(index);
            }
        }
    }
    Ok(found)
}

/// Renames `path` out of the way, then deletes it.
fn drop_dir(dir: &Path, leaf: &OsStr, path: &Path) -> Result<(), StageError> {
    let trash = drop_path(dir, leaf);
    remove_if_present(&trash)?;
    std::fs::rename(path, &trash).map_err(|e| StageError::new("rotate", path, e))?;
    remove_if_present(&trash).map(|_| ())
}

fn temp_path(dir: &Path, leaf: &OsStr) -> PathBuf {
    sibling(&dir.join(leaf), "tmp").unwrap_or_else(|| dir.join(".ftp-mirror-tmp"))
}

fn drop_path(dir: &Path, leaf: &OsStr) -> PathBuf {
    sibling(&dir.join(leaf), "drop").unwrap_or_else(|| dir.join(".ftp-mirror-drop"))
}

fn remove_if_present(path: &Path) -> Result<bool, StageError> {
    let result = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => Err(e),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    result
        .map(|_| true)
        .map_err(|e| StageError::new("remove", path, e))
}

#[cfg(unix)]
pub(crate) fn is_cross_device(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::EXDEV)
}

#[cfg(not(unix))]
pub(crate) fn is_cross_device(error: &io::Error) -> bool {
    // Windows: ERROR_NOT_SAME_DEVICE.
    error.raw_os_error() == Some(17)
}
