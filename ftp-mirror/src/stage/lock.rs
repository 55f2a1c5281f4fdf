//! A lock file that keeps two runs from staging the same module at once.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Held while a module is being staged; released on drop (and by the OS
/// when the process ends). The lock file itself stays.
#[derive(Debug)]
pub struct StageLock {
    _file: File,
    path: PathBuf,
}

impl StageLock {
    /// Takes an exclusive lock on `path` (created if missing) without
    /// waiting. `Ok(None)`: someone else holds it.
    pub fn try_acquire(path: &Path) -> io::Result<Option<StageLock>> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        if !try_lock(&file)? {
            return Ok(None);
        }
        Ok(Some(StageLock {
            _file: file,
            path: path.to_path_buf(),
        }))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: the descriptor is open for the whole call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let error = io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(error)
    }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> io::Result<bool> {
    Ok(true)
}
