//! The virtual file system: client paths mapped into the served root, and
//! the confinement that keeps every access inside it.
//!
//! Two layers keep a client in:
//! 1. [`join`] normalizes a client path lexically against the working
//!    directory: `.` and empty components vanish and `..` never climbs above
//!    `/`, so the result names a place under the root by construction.
//! 2. [`Root::resolve`] then canonicalizes the on-disk path (following every
//!    symbolic link) and refuses it unless the result is still under the
//!    canonical root. Files are then opened by that canonical path.
//!
//! Names are raw bytes throughout (`OsStr` on Unix), so names that are not
//! UTF-8 can be listed and fetched.

use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The canonical directory served as `/`.
#[derive(Debug)]
pub(crate) struct Root {
    canonical: PathBuf,
}

/// A path that resolved to something inside the root.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// The canonical on-disk path (no symbolic links left).
    pub(crate) path: PathBuf,
    /// The metadata of what it names.
    pub(crate) meta: Metadata,
}

/// Why a path cannot be used. All of them are reported to the client as
/// `550`, so a client cannot learn what exists outside the root.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Nothing there (or a dangling link, or a name with a NUL byte).
    NotFound,
    /// A symbolic link leads outside the root.
    Outside,
    /// The file system said no (permissions, I/O error).
    Io(io::Error),
}

impl Root {
    /// Canonicalizes `dir`, which must be a directory.
    pub(crate) fn new(dir: &Path) -> io::Result<Root> {
        let canonical = fs::canonicalize(dir)?;
        if !fs::metadata(&canonical)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a directory", canonical.display()),
            ));
        }
        Ok(Root { canonical })
    }

    /// The canonical root directory.
    pub(crate) fn path(&self) -> &Path {
        &self.canonical
    }

    /// Maps a normalized virtual path (from [`join`]) to its on-disk path
    /// and checks, after following symbolic links, that it stays inside.
    pub(crate) fn resolve(&self, virtual_path: &[u8]) -> Result<Resolved, Refusal> {
        let relative = virtual_path.strip_prefix(b"/").unwrap_or(virtual_path);
        let joined = self.canonical.join(OsStr::from_bytes(relative));
        self.confine(&joined)
    }

    /// Canonicalizes `path` (anything under the root, possibly a link) and
    /// checks that the result is inside the root.
    pub(crate) fn confine(&self, path: &Path) -> Result<Resolved, Refusal> {
        let canonical = fs::canonicalize(path).map_err(refusal)?;
        if !canonical.starts_with(&self.canonical) {
            log::debug!(
                "refused {}: resolves outside the served root",
                path.display()
            );
            return Err(Refusal::Outside);
        }
        let meta = fs::metadata(&canonical).map_err(refusal)?;
        Ok(Resolved {
            path: canonical,
            meta,
        })
    }
}

fn refusal(err: io::Error) -> Refusal {
    match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::InvalidInput | io::ErrorKind::NotADirectory => {
            Refusal::NotFound
        }
        _ => Refusal::Io(err),
    }
}

/// Joins a client path onto the working directory `cwd` and normalizes it.
///
/// `cwd` must itself be normalized (it always is: it only ever comes from
/// here). An argument starting with `/` is absolute. The result starts with
/// `/`, has no empty, `.` or `..` components and no trailing `/` (except the
/// root itself); `..` at the root stays at the root.
pub(crate) fn join(cwd: &[u8], arg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cwd.len() + arg.len() + 1);
    if arg.first() == Some(&b'/') {
        out.push(b'/');
    } else {
        out.extend_from_slice(cwd);
    }
    for component in arg.split(|&b| b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => pop(&mut out),
            name => {
                if out.len() > 1 {
                    out.push(b'/');
                }
                out.extend_from_slice(name);
            }
        }
    }
    out
}

/// Removes the last component of a normalized path (the root stays `/`).
fn pop(path: &mut Vec<u8>) {
    let cut = path.iter().rposition(|&b| b == b'/').unwrap_or(0);
    path.truncate(cut.max(1));
}

/// The last component of a normalized virtual path (`/` for the root).
pub(crate) fn file_name(virtual_path: &[u8]) -> &[u8] {
    match virtual_path.iter().rposition(|&b| b == b'/') {
        Some(i) if i + 1 < virtual_path.len() => &virtual_path[i + 1..],
        _ => virtual_path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_normalizes_and_never_climbs_above_the_root() {
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b"/", b"", b"/"),
            (b"/", b"a", b"/a"),
            (b"/a", b"b/c", b"/a/b/c"),
            (b"/a", b"/x", b"/x"),
            (b"/a/b", b"..", b"/a"),
            (b"/a", b"..", b"/"),
            (b"/", b"..", b"/"),
            (b"/", b"../../etc/passwd", b"/etc/passwd"),
            (b"/a", b"/../secret", b"/secret"),
            (b"/a", b"./b/./../c/", b"/a/c"),
            (b"/", b"//a//b//", b"/a/b"),
            (b"/", b"a b/ c ", b"/a b/ c "),
            (b"/", b"...", b"/..."),
            (b"/d", b"\xff\xfe", b"/d/\xff\xfe"),
        ];
        for &(cwd, arg, want) in cases {
            assert_eq!(
                join(cwd, arg),
                want,
                "{:?} + {:?}",
                String::from_utf8_lossy(cwd),
                String::from_utf8_lossy(arg)
            );
        }
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name(b"/"), b"/");
        assert_eq!(file_name(b"/a"), b"a");
        assert_eq!(file_name(b"/a/b c"), b"b c");
    }

    #[test]
    fn resolve_confines_symlinks() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/f"), b"data").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink("sub/f", dir.path().join("in")).unwrap();
        std::os::unix::fs::symlink("nowhere", dir.path().join("dangling")).unwrap();
        let root = Root::new(dir.path()).unwrap();

        let f = root.resolve(b"/in").unwrap();
        assert!(f.meta.is_file());
        assert!(f.path.ends_with("sub/f"));
        assert!(root.resolve(b"/").unwrap().meta.is_dir());
        assert!(matches!(root.resolve(b"/out"), Err(Refusal::Outside)));
        assert!(matches!(root.resolve(b"/dangling"), Err(Refusal::NotFound)));
        assert!(matches!(root.resolve(b"/missing"), Err(Refusal::NotFound)));
        assert!(matches!(root.resolve(b"/sub/f/x"), Err(Refusal::NotFound)));
        assert!(matches!(root.resolve(b"/a\0b"), Err(Refusal::NotFound)));
        assert!(Root::new(&dir.path().join("sub/f")).is_err());
    }
}
