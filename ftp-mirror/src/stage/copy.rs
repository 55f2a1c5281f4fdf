//! Copying files and trees with their modification times.

use std::fs::{self, File};
use std::io;
use std::path::Path;

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

/// Copies the tree `src` to `dst` (which must not exist): directories,
/// regular files with their times and permissions, and symbolic links as
/// links.
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
    Ok(stats)
}

#[cfg(unix)]
fn copy_link(src: &Path, dst: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(fs::read_link(src)?, dst)
}

#[cfg(not(unix))]
fn copy_link(src: &Path, dst: &Path) -> io::Result<()> {
    copy_file(src, dst).map(|_| ())
}
