//! Directory modification times: the time each directory's entry had in
//! its parent's listing is remembered during the walk, and set on the new
//! copy's directory once the walk is over and nothing is added to or
//! removed from the copy any more (deepest first, since changing what a
//! directory holds changes its time).
//!
//! Listed times are treated exactly as file times are (see
//! [`crate::fetch::same_time`]): when the previous copy's directory has a
//! time that stands for the listed one (to the second, or to the day for a
//! LIST time that gives only a day), that time is kept, so a LIST time
//! that turns from `Nov 21 10:00` into `Nov 21 2024` as it ages does not
//! move the directory's time. A directory listed without a time keeps the
//! previous copy's time, if there is one, and is otherwise left alone; so
//! is the root, whose time no listing gives.
//!
//! One entry per directory (its relative path and time), none per file.

use std::fs;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use ftp_proto::FileTime;

use crate::fetch::{local_path, same_time, system_time};
use crate::stage::set_dir_mtime;

/// The listed times of a walk's directories.
#[derive(Default)]
pub(super) struct DirTimes {
    dirs: Mutex<Vec<(Vec<u8>, Option<FileTime>)>>,
}

impl DirTimes {
    /// Remembers the time a directory (relative path, never the root) had
    /// in its parent's listing.
    pub(super) fn record(&self, rel: &[u8], modified: Option<FileTime>) {
        self.dirs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((rel.to_vec(), modified));
    }

    /// Sets the recorded times on the directories below `dest`, deepest
    /// first, taking the time from `previous` where it stands for the
    /// listed one (see the module's documentation). Returns the relative
    /// paths whose time could not be set, with why. The record is emptied.
    pub(super) fn apply(&self, dest: &Path, previous: Option<&Path>) -> Vec<(Vec<u8>, String)> {
        let mut dirs =
            std::mem::take(&mut *self.dirs.lock().unwrap_or_else(PoisonError::into_inner));
        let depth = |rel: &[u8]| rel.iter().filter(|&&b| b == b'/').count();
        dirs.sort_by_key(|(rel, _)| std::cmp::Reverse(depth(rel)));
        let mut failed = Vec::new();
        for (rel, listed) in dirs {
            let kept = previous.and_then(|p| dir_mtime(&local_path(p, &rel)));
            let time = match (listed, kept) {
                (Some(listed), Some(kept)) if same_time(kept, &listed) => Some(kept),
                (Some(listed), _) => match system_time(&listed) {
                    Some(t) => Some(t),
                    None => {
                        failed.push((rel, "time out of range".to_string()));
                        continue;
                    }
                },
                (None, kept) => kept,
            };
            let Some(time) = time else { continue };
            let path = local_path(dest, &rel);
            if let Err(e) = set_dir_mtime(&path, time) {
                failed.push((rel, e.to_string()));
            }
        }
        failed
    }
}

/// The modification time of a directory (not a link to one).
fn dir_mtime(path: &Path) -> Option<SystemTime> {
    fs::symlink_metadata(path)
        .ok()
        .filter(fs::Metadata::is_dir)
        .and_then(|m| m.modified().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ftp_proto::TimeAccuracy;
    use std::time::{Duration, UNIX_EPOCH};

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn exact(secs: i64) -> FileTime {
        FileTime {
            unix_secs: secs,
            nanos: 0,
            accuracy: TimeAccuracy::Exact,
        }
    }

    #[test]
    fn sets_listed_times_deepest_first_and_keeps_matching_previous_ones() {
        let root = tempfile::tempdir().unwrap();
        let (dest, prev) = (root.path().join("dest"), root.path().join("prev"));
        for d in ["a/b/c", "day", "none", "gone"] {
            fs::create_dir_all(dest.join(d)).unwrap();
        }
        fs::create_dir_all(prev.join("day")).unwrap();
        fs::create_dir_all(prev.join("none")).unwrap();
        set_dir_mtime(&prev.join("day"), at(86_400 * 100 + 36_000)).unwrap();
        set_dir_mtime(&prev.join("none"), at(7_000)).unwrap();

        let times = DirTimes::default();
        // Parents before children, as a walk records them.
        times.record(b"a", Some(exact(1_000)));
        times.record(b"a/b", Some(exact(2_000)));
        times.record(b"a/b/c", Some(exact(3_000)));
        let day_only = FileTime {
            unix_secs: 86_400 * 100,
            nanos: 0,
            accuracy: TimeAccuracy::Approximate {
                day_only: true,
                year_inferred: false,
            },
        };
        times.record(b"day", Some(day_only));
        times.record(b"none", None);
        times.record(b"gone", None);
        times.record(b"missing", Some(exact(5)));
        let before = dir_mtime(&dest.join("gone")).unwrap();
        let failed = times.apply(&dest, Some(&prev));

        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0].0, b"missing");
        assert_eq!(dir_mtime(&dest.join("a")), Some(at(1_000)));
        assert_eq!(dir_mtime(&dest.join("a/b")), Some(at(2_000)));
        assert_eq!(dir_mtime(&dest.join("a/b/c")), Some(at(3_000)));
        assert_eq!(
            dir_mtime(&dest.join("day")),
            Some(at(86_400 * 100 + 36_000)),
            "the previous, more precise time stands for a day-only listing"
        );
        assert_eq!(dir_mtime(&dest.join("none")), Some(at(7_000)));
        assert_eq!(dir_mtime(&dest.join("gone")), Some(before), "left alone");
    }

    #[test]
    fn a_previous_time_that_differs_is_not_kept() {
        let root = tempfile::tempdir().unwrap();
        let (dest, prev) = (root.path().join("dest"), root.path().join("prev"));
        fs::create_dir_all(dest.join("d")).unwrap();
        fs::create_dir_all(prev.join("d")).unwrap();
        set_dir_mtime(&prev.join("d"), at(1_000)).unwrap();
        let times = DirTimes::default();
        times.record(b"d", Some(exact(1_001)));
        assert!(times.apply(&dest, Some(&prev)).is_empty());
        assert_eq!(dir_mtime(&dest.join("d")), Some(at(1_001)));
    }
}
