//! Whether two trees hold the same files: same relative paths and kinds,
//! for files the same size and modification time (to the second), for
//! symbolic links the same target.
//!
//! Used to skip a swap when a run changed nothing, so an unchanged night
//! does not push a real older copy out of the backup rotation.
//!
//! Directory times are deliberately not compared. A directory's time on
//! the server also moves when something the mirror does not hold comes or
//! goes there (an excluded entry, a refused symbolic link, an upload's
//! temporary file that is gone again): swapping for that alone would rotate a real
//! older copy out of the backups for a tree with the same content. Instead
//! [`Stage::discard_if_unchanged`](super::Stage::discard_if_unchanged)
//! gives the current copy's directories the new copy's times in place.

use std::fs::Metadata;
use std::io;
use std::path::Path;
use std::time::UNIX_EPOCH;

use walkdir::WalkDir;

/// `Ok(true)` when `a` and `b` hold the same tree. Symbolic links are the
/// same when their targets are (their times are not compared, nor what
/// they point at: that is compared where it is in the tree); other special
/// files make the trees count as different.
pub fn same_tree(a: &Path, b: &Path) -> io::Result<bool> {
    let walk = |root: &Path| {
        WalkDir::new(root)
            .min_depth(1)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
    };
    let mut left = walk(a);
    let mut right = walk(b);
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ok(true),
            (Some(l), Some(r)) => {
                let (l, r) = (l.map_err(io::Error::from)?, r.map_err(io::Error::from)?);
                let same_path = l.path().strip_prefix(a).ok() == r.path().strip_prefix(b).ok();
                if !same_path || !same_entry(&l, &r)? {
                    return Ok(false);
                }
            }
            _ => return Ok(false),
        }
    }
}

fn same_entry(l: &walkdir::DirEntry, r: &walkdir::DirEntry) -> io::Result<bool> {
    let (lt, rt) = (l.file_type(), r.file_type());
    if lt.is_dir() && rt.is_dir() {
        // Whatever their times (see the module's documentation).
        return Ok(true);
    }
    if lt.is_symlink() && rt.is_symlink() {
        return Ok(std::fs::read_link(l.path())? == std::fs::read_link(r.path())?);
    }
    if !(lt.is_file() && rt.is_file()) {
        return Ok(false);
    }
    let (lm, rm) = (
        l.metadata().map_err(io::Error::from)?,
        r.metadata().map_err(io::Error::from)?,
    );
    Ok(same_state(&lm, &rm))
}

/// Same size and the same modification time to the second (file systems
/// keep times with different precision). A file without a readable time
/// never counts as the same.
pub(crate) fn same_state(a: &Metadata, b: &Metadata) -> bool {
    let secs = |m: &Metadata| {
        m.modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
    };
    a.len() == b.len() && secs(a).is_some() && secs(a) == secs(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::time::{Duration, SystemTime};

    fn write(p: &Path, data: &[u8], secs: u64) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
        let f = fs::File::options().write(true).open(p).unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
            .unwrap();
    }

    #[test]
    fn compares_paths_sizes_and_times() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for root in [a.path(), b.path()] {
            write(&root.join("x/one.txt"), b"one", 1_000);
            write(&root.join("two.txt"), b"two", 2_000);
            fs::create_dir_all(root.join("empty")).unwrap();
        }
        assert!(same_tree(a.path(), b.path()).unwrap());
        write(&b.path().join("two.txt"), b"two", 2_001);
        assert!(!same_tree(a.path(), b.path()).unwrap(), "time differs");
        write(&b.path().join("two.txt"), b"TWO!", 2_000);
        assert!(!same_tree(a.path(), b.path()).unwrap(), "size differs");
        write(&b.path().join("two.txt"), b"two", 2_000);
        fs::remove_dir(b.path().join("empty")).unwrap();
        assert!(
            !same_tree(a.path(), b.path()).unwrap(),
            "a directory is gone"
        );
        fs::create_dir_all(b.path().join("empty")).unwrap();
        write(&b.path().join("extra"), b"", 5);
        assert!(!same_tree(a.path(), b.path()).unwrap(), "an extra file");
    }

    #[test]
    fn compares_links_by_target() {
        use std::os::unix::fs::symlink;
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for root in [a.path(), b.path()] {
            write(&root.join("v1/notes.txt"), b"one", 1_000);
            write(&root.join("v2/notes.txt"), b"two", 2_000);
            symlink("v2", root.join("latest")).unwrap();
            symlink("../v1", root.join("v2/prev")).unwrap();
        }
        assert!(same_tree(a.path(), b.path()).unwrap());
        fs::remove_file(b.path().join("latest")).unwrap();
        symlink("v1", b.path().join("latest")).unwrap();
        assert!(!same_tree(a.path(), b.path()).unwrap(), "another target");
        fs::remove_file(b.path().join("latest")).unwrap();
        write(&b.path().join("latest"), b"two", 2_000);
        assert!(
            !same_tree(a.path(), b.path()).unwrap(),
            "a file, not a link"
        );
        fs::remove_file(b.path().join("latest")).unwrap();
        assert!(!same_tree(a.path(), b.path()).unwrap(), "the link is gone");
        // A dangling link is compared by its target too.
        symlink("v9", b.path().join("latest")).unwrap();
        fs::remove_file(a.path().join("latest")).unwrap();
        symlink("v9", a.path().join("latest")).unwrap();
        assert!(same_tree(a.path(), b.path()).unwrap());
    }
}
