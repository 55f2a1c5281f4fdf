//! Directory listings: what a directory holds, as seen by a client, and
//! its LIST, NLST and MLSD renderings.
//!
//! Only regular files and directories are shown. A symbolic link is shown
//! as what it points to when that is inside the root, and left out when it
//! dangles, leads outside, or points at the listed directory or one above
//! it (a loop). Devices, sockets and pipes are left out (they
//! cannot be fetched), and so are names containing CR or LF.

use std::fs::Metadata;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use ftp_proto::listing::{format, Entry, EntryKind, FileTime, TimeAccuracy};

use crate::vfs::Root;

/// The three listing formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// `ls -l` lines (LIST).
    List,
    /// Bare names (NLST).
    Names,
    /// RFC 3659 fact lines (MLSD).
    Facts,
}

/// The visible entries of the canonical directory `dir`, sorted by name.
pub(crate) fn read_dir(root: &Root, dir: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for dirent in std::fs::read_dir(dir)? {
        let dirent = match dirent {
            Ok(d) => d,
            Err(e) => {
                log::debug!("skipping an unreadable entry of {}: {e}", dir.display());
                continue;
            }
        };
        let name = dirent.file_name();
        if name.as_bytes().iter().any(|&b| b == b'\r' || b == b'\n') {
            // A line break in a name would forge listing lines; such a
            // name could not be requested over the control connection anyway.
            log::debug!("skipping a name with a line break in {}", dir.display());
            continue;
        }
        let file_type = match dirent.file_type() {
            Ok(t) => t,
            Err(_) => continue,
        };
        let meta = if file_type.is_symlink() {
            match root.confine(&dirent.path()) {
                // A link to this directory or one above it would make the
                // tree endless for every recursive client.
                Ok(resolved) if resolved.meta.is_dir() && dir.starts_with(&resolved.path) => {
                    log::debug!("skipping {:?} in {}: a link loop", name, dir.display());
                    continue;
                }
                Ok(resolved) => resolved.meta,
                Err(_) => continue,
            }
        } else if file_type.is_file() || file_type.is_dir() {
            match dirent.metadata() {
                Ok(m) => m,
                Err(_) => continue,
            }
        } else {
            continue;
        };
        if let Some(entry) = entry(name.as_bytes().to_vec(), &meta) {
            entries.push(entry);
        }
    }
    entries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// The entry for `name` with metadata `meta`; `None` unless it is a regular
/// file or a directory.
pub(crate) fn entry(name: Vec<u8>, meta: &Metadata) -> Option<Entry> {
    let kind = if meta.is_file() {
        EntryKind::File
    } else if meta.is_dir() {
        EntryKind::Dir
    } else {
        return None;
    };
    Some(Entry {
        name,
        size: (kind == EntryKind::File).then_some(meta.len()),
        kind,
        modified: modified(meta),
        permissions: None,
    })
}

/// The modification time of `meta` as an exact UTC time.
pub(crate) fn modified(meta: &Metadata) -> Option<FileTime> {
    let t = meta.modified().ok()?;
    Some(FileTime {
        unix_secs: unix_secs(t),
        nanos: 0,
        accuracy: TimeAccuracy::Exact,
    })
}

/// Seconds since the epoch (negative before it).
pub(crate) fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Renders entries as listing data, each line ending in CRLF.
pub(crate) fn render(entries: &[Entry], style: Style) -> Vec<u8> {
    let now = unix_secs(SystemTime::now());
    let mut out = Vec::with_capacity(entries.len() * 80);
    for e in entries {
        match style {
            Style::List => out.extend_from_slice(&format::unix_line(e, now)),
            Style::Names => out.extend_from_slice(&e.name),
            Style::Facts => out.extend_from_slice(&format::mlsd_line(e)),
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn lists_files_and_dirs_and_confines_links() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("b file"), b"12345").unwrap();
        fs::create_dir(dir.path().join("a dir")).unwrap();
        fs::write(
            dir.path().join(std::ffi::OsStr::from_bytes(b"\xe9t\xe9")),
            b"",
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("escape")).unwrap();
        std::os::unix::fs::symlink("b file", dir.path().join("c link")).unwrap();
        std::os::unix::fs::symlink("missing", dir.path().join("dangling")).unwrap();
        let root = Root::new(dir.path()).unwrap();

        let entries = read_dir(&root, root.path()).unwrap();
        let names: Vec<&[u8]> = entries.iter().map(|e| e.name.as_slice()).collect();
        assert_eq!(names, [&b"a dir"[..], b"b file", b"c link", b"\xe9t\xe9"]);
        assert!(entries[0].is_dir());
        assert_eq!(entries[0].size, None);
        assert_eq!(entries[1].size, Some(5));
        assert_eq!(entries[2].size, Some(5));
        assert!(entries.iter().all(|e| e.modified.is_some()));

        let names = render(&entries, Style::Names);
        assert_eq!(names, b"a dir\r\nb file\r\nc link\r\n\xe9t\xe9\r\n");
        let facts = render(&entries, Style::Facts);
        assert!(facts.starts_with(b"type=dir;modify="));
        assert!(facts.ends_with(b";perm=r; \xe9t\xe9\r\n"));
        let list = render(&entries, Style::List);
        assert!(list.starts_with(b"dr-xr-xr-x"));
        assert_eq!(list.split(|&b| b == b'\n').count(), 5);
    }

    /// Regression: a link to `.` was listed as a directory, and recursive
    /// clients descended into it until their paths grew too long.
    #[test]
    fn links_to_the_directory_or_above_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        fs::create_dir(dir.path().join("other")).unwrap();
        std::os::unix::fs::symlink(".", dir.path().join("a/b/self")).unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("a/b/up")).unwrap();
        std::os::unix::fs::symlink("../../other", dir.path().join("a/b/sideways")).unwrap();
        let root = Root::new(dir.path()).unwrap();
        let b = root.path().join("a/b");
        let names: Vec<Vec<u8>> = read_dir(&root, &b)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, [b"sideways".to_vec()]);
    }

    #[test]
    fn times_before_the_epoch_are_negative() {
        let before = UNIX_EPOCH - std::time::Duration::from_secs(10);
        assert_eq!(unix_secs(before), -10);
        assert_eq!(unix_secs(UNIX_EPOCH), 0);
    }
}
