//! The local side of a mirror: temporary names, modification times, the
//! "unchanged?" test, carrying files over from the previous copy, and
//! removing what the server no longer has.
//!
//! Names are raw bytes (`OsStrExt`), so a name that is not UTF-8 on the
//! server is stored with the same bytes locally.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ftp_proto::{FileTime, TimeAccuracy};

/// The longest file name most local file systems accept.
pub(crate) const NAME_MAX: usize = 255;

/// The temporary name a file is downloaded under before it is verified and
/// renamed into place: `.NAME.part` in the same directory. When that would
/// be too long, or `taken` says the server lists a file of that name (or of
/// its origin record, see [`record_name`](super::record_name)) in the same
/// directory, another name is chosen (`.NAME.1.part`, ..., or a hashed
/// `.ftp-mirror-HASH.part` for long names).
///
/// ```
/// use ftp_mirror::fetch::temp_name;
///
/// assert_eq!(temp_name(b"a.iso", |_| false), b".a.iso.part");
/// assert_eq!(temp_name(b"a", |n| n == b".a.part"), b".a.1.part");
/// assert!(temp_name(&[b'x'; 255], |_| false).len() <= 255);
/// ```
pub fn temp_name(name: &[u8], taken: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let build = |infix: &[u8]| {
        let mut t = Vec::with_capacity(name.len() + 16);
        t.push(b'.');
        t.extend_from_slice(name);
        t.extend_from_slice(infix);
        t.extend_from_slice(b".part");
        t
    };
    let free = |t: &[u8]| !taken(t) && !taken(&super::record_name(t));
    if name.len() + 6 + 4 <= NAME_MAX {
        let first = build(b"");
        if free(&first) {
            return first;
        }
        for k in 1..100u32 {
            let t = build(format!(".{k}").as_bytes());
            if free(&t) {
                return t;
            }
        }
    }
    format!(".ftp-mirror-{:016x}.part", fnv1a(name)).into_bytes()
}

/// FNV-1a, 64 bits: a stable hash for temporary names (the same name gives
/// the same temporary name in every run, so an interrupted download resumes).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `base` joined with a relative path of raw bytes (`a/b/c`, or empty for
/// `base` itself).
pub fn local_path(base: &Path, rel: &[u8]) -> PathBuf {
    if rel.is_empty() {
        base.to_path_buf()
    } else {
        base.join(OsStr::from_bytes(rel))
    }
}

/// The `SystemTime` a listed time stands for. Approximate (LIST) times are
/// taken as if they were UTC: they are only compared with themselves.
pub fn system_time(t: &FileTime) -> Option<SystemTime> {
    let nanos = t.nanos.min(999_999_999);
    if t.unix_secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(t.unix_secs.unsigned_abs(), nanos))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(t.unix_secs.unsigned_abs()))?
            .checked_add(Duration::from_nanos(u64::from(nanos)))
    }
}

/// Whole seconds since the epoch (floored) of a local time.
fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() > 0 {
                -secs - 1
            } else {
                -secs
            }
        }
    }
}

/// Whether a local modification time stands for the listed time `remote`.
///
/// Times are compared at one-second resolution: the engine sets every
/// local mtime from the listed time, so an unchanged file lists the same
/// value again. For a LIST time that gives only a day (old files in `ls -l`,
/// MS-DOS dates) the day is compared, so a file whose listing changes from
/// `Nov 21 10:00` to `Nov 21 2024` as it ages is not fetched again.
pub fn same_time(local: SystemTime, remote: &FileTime) -> bool {
    let secs = unix_secs(local);
    match remote.accuracy {
        TimeAccuracy::Approximate { day_only: true, .. } => {
            secs.div_euclid(86_400) == remote.unix_secs.div_euclid(86_400)
        }
        _ => secs == remote.unix_secs,
    }
}

/// Whether `path` is a regular file (not a link) of `size` bytes whose
/// mtime stands for `modified`. Without a listed time only the size counts.
pub fn is_unchanged(path: &Path, size: u64, modified: Option<&FileTime>) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    if !meta.file_type().is_file() || meta.len() != size {
        return false;
    }
    match (modified, meta.modified()) {
        (None, _) => true,
        (Some(remote), Ok(local)) => same_time(local, remote),
        (Some(_), Err(_)) => false,
    }
}

/// Whether `path` is a regular file of `size` bytes (any time): a
/// candidate worth asking MDTM about.
pub fn has_size(path: &Path, size: Option<u64>) -> bool {
    fs::symlink_metadata(path)
        .is_ok_and(|m| m.file_type().is_file() && size.is_none_or(|s| m.len() == s))
}

/// Sets a file's modification time from a listed time.
pub fn set_mtime(file: &File, modified: &FileTime) -> io::Result<()> {
    match system_time(modified) {
        Some(t) => file.set_modified(t),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "time out of range",
        )),
    }
}

/// How a file came over from the previous copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carried {
    /// A hard link: no bytes copied.
    Linked,
    /// A copy (hard links failed, e.g. across file systems).
    Copied,
}

/// Puts `src` (a file of the previous copy) at `dst`: a hard link, or when
/// that fails a copy made under `tmp` and renamed into place, with the
/// mtime set from `modified`. Whatever was at `dst` is replaced.
pub fn link_or_copy(
    src: &Path,
    dst: &Path,
    tmp: &Path,
    modified: Option<&FileTime>,
) -> io::Result<Carried> {
    remove_any(dst)?;
    match fs::hard_link(src, dst) {
        Ok(()) => return Ok(Carried::Linked),
        Err(e) => log::debug!("cannot hard-link {}: {e}; copying", src.display()),
    }
    remove_any(tmp)?;
    let copied = (|| {
        fs::copy(src, tmp)?;
        let file = File::options().write(true).open(tmp)?;
        let time = match modified {
            Some(m) => system_time(m),
            None => fs::metadata(src)?.modified().ok(),
        };
        if let Some(t) = time {
            file.set_modified(t)?;
        }
        drop(file);
        fs::rename(tmp, dst)
    })();
    if copied.is_err() {
        let _ = fs::remove_file(tmp);
    }
    copied.map(|()| Carried::Copied)
}

/// Whether `base/rel` is reached through real directories only: `base`
/// and every component of `rel` (a relative path, `/`-separated, `""` for
/// `base` itself) is a directory, not a link to one. A file reused from
/// under a linked directory could be another directory's file.
pub fn is_real_dir_path(base: &Path, rel: &[u8]) -> bool {
    let mut path = base.to_path_buf();
    if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
        return false;
    }
    for part in rel.split(|&b| b == b'/').filter(|p| !p.is_empty()) {
        path.push(OsStr::from_bytes(part));
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            return false;
        }
    }
    true
}

/// Makes `path` a directory: nothing to do when it is one; a file or link
/// of that name is removed first.
pub fn ensure_dir(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) => fs::remove_file(path)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    fs::create_dir(path)
}

/// Renames a verified download into place, replacing a directory of that
/// name if there is one.
pub fn place(part: &Path, dst: &Path) -> io::Result<()> {
    if fs::symlink_metadata(dst).is_ok_and(|m| m.is_dir()) {
        fs::remove_dir_all(dst)?;
    }
    fs::rename(part, dst)
}

/// Makes `path` a symbolic link to `target` (raw bytes, written as given).
/// A link already there with that target is left alone (`Ok(false)`);
/// anything else at `path` (a file, a directory tree, a link elsewhere) is
/// removed first, without following links (`Ok(true)`).
pub fn make_symlink(path: &Path, target: &[u8]) -> io::Result<bool> {
    let target = Path::new(OsStr::from_bytes(target));
    if fs::read_link(path).is_ok_and(|have| have == target) {
        return Ok(false);
    }
    remove_any(path)?;
    std::os::unix::fs::symlink(target, path)?;
    Ok(true)
}

/// Removes a file, link or directory tree; nothing there is fine.
pub fn remove_any(path: &Path) -> io::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Removes every entry of `dir` whose name `keep` rejects. Returns the
/// paths that could not be removed, with why.
pub fn prune(dir: &Path, keep: impl Fn(&[u8]) -> bool) -> Vec<(PathBuf, io::Error)> {
    let mut failed = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return failed,
        Err(e) => {
            failed.push((dir.to_path_buf(), e));
            return failed;
        }
    };
    for entry in entries {
        match entry {
            Ok(entry) => {
                let name = entry.file_name();
                if keep(name.as_bytes()) {
                    continue;
                }
                let path = entry.path();
                log::debug!("removing {}: no longer on the server", path.display());
                if let Err(e) = remove_any(&path) {
                    failed.push((path, e));
                }
            }
            Err(e) => failed.push((dir.to_path_buf(), e)),
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn exact(secs: i64) -> FileTime {
        FileTime {
            unix_secs: secs,
            nanos: 0,
            accuracy: TimeAccuracy::Exact,
        }
    }

    #[test]
    fn temp_names() {
        assert_eq!(temp_name(b"x", |_| false), b".x.part");
        assert_eq!(
            temp_name(b"x", |n| n == b".x.part" || n == b".x.1.part"),
            b".x.2.part"
        );
        let long = [b'y'; 250];
        let t = temp_name(&long, |_| false);
        assert!(
            t.starts_with(b".ftp-mirror-") && t.ends_with(b".part"),
            "{t:?}"
        );
        assert_eq!(t, temp_name(&long, |_| false), "stable across calls");
        assert_ne!(t, temp_name(&[b'z'; 250], |_| false));
        assert_eq!(
            temp_name(b"x", |n| n == b".x.part.origin"),
            b".x.1.part",
            "the record's name is taken too"
        );
        let raw = temp_name(b"\xff\xfe", |_| false);
        assert_eq!(raw, b".\xff\xfe.part");
    }

    #[test]
    fn times_round_trip_and_compare() {
        let t = FileTime {
            unix_secs: 1_700_000_000,
            nanos: 250_000_000,
            accuracy: TimeAccuracy::Exact,
        };
        let st = system_time(&t).unwrap();
        assert_eq!(unix_secs(st), 1_700_000_000);
        assert!(same_time(st, &exact(1_700_000_000)));
        assert!(!same_time(st, &exact(1_700_000_001)));
        let old = FileTime {
            unix_secs: -10,
            nanos: 500_000_000,
            accuracy: TimeAccuracy::Exact,
        };
        assert_eq!(unix_secs(system_time(&old).unwrap()), -10);
        let day = FileTime {
            unix_secs: 86_400 * 100,
            nanos: 0,
            accuracy: TimeAccuracy::Approximate {
                day_only: true,
                year_inferred: false,
            },
        };
        assert!(same_time(
            system_time(&exact(86_400 * 100 + 36_000)).unwrap(),
            &day
        ));
        assert!(!same_time(system_time(&exact(86_400 * 101)).unwrap(), &day));
        let minute = FileTime {
            accuracy: TimeAccuracy::Approximate {
                day_only: false,
                year_inferred: true,
            },
            ..exact(600)
        };
        assert!(same_time(system_time(&exact(600)).unwrap(), &minute));
        assert!(!same_time(system_time(&exact(660)).unwrap(), &minute));
    }

    #[test]
    fn unchanged_needs_size_type_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"hello").unwrap();
        set_mtime(
            &File::options().write(true).open(&p).unwrap(),
            &exact(1_600_000_000),
        )
        .unwrap();
        assert!(is_unchanged(&p, 5, Some(&exact(1_600_000_000))));
        assert!(is_unchanged(&p, 5, None));
        assert!(!is_unchanged(&p, 6, Some(&exact(1_600_000_000))));
        assert!(!is_unchanged(&p, 5, Some(&exact(1_600_000_060))));
        assert!(!is_unchanged(&dir.path().join("missing"), 5, None));
        assert!(
            !is_unchanged(dir.path(), 5, None),
            "a directory is not the file"
        );
        std::os::unix::fs::symlink(&p, dir.path().join("link")).unwrap();
        assert!(
            !is_unchanged(&dir.path().join("link"), 5, None),
            "links are not trusted"
        );
        assert!(has_size(&p, Some(5)) && has_size(&p, None) && !has_size(&p, Some(4)));
    }

    #[test]
    fn link_or_copy_replaces_and_keeps_time() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let dst = dir.path().join("dst");
        fs::write(&src, b"data").unwrap();
        fs::create_dir(&dst).unwrap();
        fs::write(dst.join("inner"), b"x").unwrap();
        let how = link_or_copy(
            &src,
            &dst,
            &dir.path().join(".dst.part"),
            Some(&exact(1_500_000_000)),
        )
        .unwrap();
        assert_eq!(how, Carried::Linked);
        assert_eq!(fs::read(&dst).unwrap(), b"data");
    }

    #[test]
    fn copies_when_hard_links_cannot_cross_file_systems() {
        use std::os::unix::fs::MetadataExt;
        // /dev/shm is usually another file system than the temp dir.
        let a = tempfile::tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .unwrap();
        let b = tempfile::tempdir().unwrap();
        let same_fs =
            fs::metadata(a.path()).unwrap().dev() == fs::metadata(b.path()).unwrap().dev();
        let src = a.path().join("src");
        fs::write(&src, b"payload").unwrap();
        let dst = b.path().join("dst");
        let tmp = b.path().join(".dst.part");
        let how = link_or_copy(&src, &dst, &tmp, Some(&exact(1_234_567_890))).unwrap();
        assert_eq!(
            how,
            if same_fs {
                Carried::Linked
            } else {
                Carried::Copied
            }
        );
        assert_eq!(fs::read(&dst).unwrap(), b"payload");
        assert!(!tmp.exists());
        if !same_fs {
            let mtime = fs::metadata(&dst).unwrap().modified().unwrap();
            assert_eq!(unix_secs(mtime), 1_234_567_890);
        }
    }

    #[test]
    fn ensure_dir_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d");
        fs::write(&p, b"x").unwrap();
        ensure_dir(&p).unwrap();
        assert!(p.is_dir());
        ensure_dir(&p).unwrap();
    }

    #[test]
    fn prune_removes_what_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("keep"), b"").unwrap();
        fs::write(dir.path().join("gone"), b"").unwrap();
        fs::create_dir_all(dir.path().join("old/deep")).unwrap();
        fs::write(dir.path().join(OsStr::from_bytes(b"\xffraw")), b"").unwrap();
        let keep: HashSet<Vec<u8>> = [b"keep".to_vec(), b"\xffraw".to_vec()].into();
        assert!(prune(dir.path(), |n| keep.contains(n)).is_empty());
        let mut left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![
                OsStr::from_bytes(b"keep").to_owned(),
                OsStr::from_bytes(b"\xffraw").to_owned()
            ]
        );
        assert!(prune(&dir.path().join("missing"), |_| false).is_empty());
    }

    #[test]
    fn make_symlink_replaces_without_following() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        fs::write(&victim, b"keep me").unwrap();
        let link = dir.path().join("latest");
        assert!(make_symlink(&link, b"v1").unwrap());
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("v1"));
        assert!(!make_symlink(&link, b"v1").unwrap(), "already there");
        // An older link to somewhere else is replaced, not followed.
        std::os::unix::fs::symlink(&victim, dir.path().join("old")).unwrap();
        assert!(make_symlink(&dir.path().join("old"), b"v2").unwrap());
        assert_eq!(
            fs::read_link(dir.path().join("old")).unwrap(),
            Path::new("v2")
        );
        assert_eq!(fs::read(&victim).unwrap(), b"keep me");
        // A file or a directory tree of that name is replaced.
        fs::write(dir.path().join("f"), b"x").unwrap();
        fs::create_dir_all(dir.path().join("d/sub")).unwrap();
        for name in ["f", "d"] {
            assert!(make_symlink(&dir.path().join(name), b"../x").unwrap());
            assert_eq!(
                fs::read_link(dir.path().join(name)).unwrap(),
                Path::new("../x")
            );
        }
    }

    #[test]
    fn place_replaces_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join(".f.part");
        let dst = dir.path().join("f");
        fs::write(&part, b"new").unwrap();
        fs::create_dir_all(dst.join("sub")).unwrap();
        place(&part, &dst).unwrap();
        assert_eq!(fs::read(&dst).unwrap(), b"new");
        assert!(!part.exists());
    }
}
