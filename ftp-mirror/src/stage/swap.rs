//! Putting a complete directory in place of another one.

use std::io;
use std::path::Path;

use super::StageError;

/// How [`swap_in`] put the new directory in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swapped {
    /// There was no current directory: the new one was renamed into place.
    Installed,
    /// Exchanged atomically (`renameat2(RENAME_EXCHANGE)`); the replaced
    /// directory is now at `old`.
    Exchanged,
    /// Two renames (current → `old`, new → current): the current path was
    /// briefly absent. The replaced directory is at `old`.
    Renamed,
}

/// Puts `new` at `current`. When `current` exists, the replaced directory
/// ends up at `old`, which must not exist. On error, `current` is as before
/// (or, should even the roll-back rename fail, at `old`, which
/// [`Stage::recover`](super::Stage::recover) puts back).
///
/// Before anything is renamed, the file system holding `new` is flushed to
/// disk, so a power cut just after the swap cannot leave empty or partial
/// files under the new copy's names.
pub fn swap_in(new: &Path, current: &Path, old: &Path) -> Result<Swapped, StageError> {
    flush_to_disk(new).map_err(|e| StageError::new("flush", new, e))?;
    if std::fs::symlink_metadata(old).is_ok() {
        return Err(StageError::new(
            "swap in",
            old,
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a replaced copy is still there",
            ),
        ));
    }
    if std::fs::symlink_metadata(current).is_err() {
        if let Some(parent) = current.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StageError::new("create", parent, e))?;
        }
        std::fs::rename(new, current).map_err(|e| StageError::new("swap in", current, e))?;
        return Ok(Swapped::Installed);
    }
    match exchange(new, current) {
        Ok(true) => {
            // `new` now names the replaced copy; park it under `old`.
            std::fs::rename(new, old).map_err(|e| StageError::new("park", old, e))?;
            return Ok(Swapped::Exchanged);
        }
        Ok(false) => {}
        Err(e) => return Err(StageError::new("swap in", current, e)),
    }
    std::fs::rename(current, old).map_err(|e| StageError::new("swap in", current, e))?;
    if let Err(e) = std::fs::rename(new, current) {
        if let Err(back) = std::fs::rename(old, current) {
            log::error!("cannot put {} back: {back}", current.display());
        }
        return Err(StageError::new("swap in", current, e));
    }
    Ok(Swapped::Renamed)
}

/// Writes every dirty page of the file system holding `dir` to disk (one
/// `syncfs` call, far cheaper than an fsync per file).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn flush_to_disk(dir: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;

    let handle = std::fs::File::open(dir)?;
    // SAFETY: the descriptor is open for the duration of the call.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Writes the files under `dir` to disk: `sync` where `syncfs` is missing.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn flush_to_disk(_dir: &Path) -> io::Result<()> {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    Ok(())
}

/// Exchanges two existing paths atomically. `Ok(false)`: not supported here
/// (the caller falls back to renames); `Err`: a real failure.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    let to_c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
    };
    let (a, b) = (to_c(a)?, to_c(b)?);
    // SAFETY: both pointers are valid NUL-terminated strings that live
    // across the call; renameat2 does not keep them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE as _,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        // Not implemented by the kernel or this file system.
        Some(libc::ENOSYS) | Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) => Ok(false),
        _ => Err(error),
    }
}

/// Exchanges two existing paths atomically: not available on this OS.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn exchange(_a: &Path, _b: &Path) -> io::Result<bool> {
    Ok(false)
}
