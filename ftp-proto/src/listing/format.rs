//! Listing formatters: the server-side inverse of the listing parsers.
//!
//! [`mlsd_line`] writes one RFC 3659 MLSD/MLST fact line and [`unix_line`]
//! one `ls -l` style LIST line; both keep the name as raw bytes, so a name
//! that is not UTF-8 reaches the client unchanged. Neither adds a line
//! ending: the caller joins lines with CRLF.
//!
//! The formatters describe a **read-only** view: files get `perm=r` and mode
//! `-r--r--r--`, directories `perm=el` and `dr-xr-xr-x`, whatever the entry's
//! [`permissions`](Entry::permissions) say.
//!
//! ```
//! use ftp_proto::listing::{format, Entry, EntryKind, FileTime, TimeAccuracy};
//!
//! let modified = FileTime::from_civil(2024, 11, 21, 10, 5, 0, TimeAccuracy::Exact);
//! let entry = Entry {
//!     name: "naïve ✓.txt".as_bytes().to_vec(),
//!     kind: EntryKind::File,
//!     size: Some(1234),
//!     modified,
//!     permissions: None,
//! };
//! assert_eq!(
//!     format::mlsd_line(&entry),
//!     "type=file;size=1234;modify=20241121100500;perm=r; naïve ✓.txt".as_bytes()
//! );
//! ```

use std::io::Write;

use super::{Entry, EntryKind, FileTime};

/// Seconds in the "recent" window of `ls -l`: about six months.
const RECENT_SECS: i64 = 182 * 86_400;

/// How far in the future a time may be and still count as recent (clock skew).
const FUTURE_SLACK_SECS: i64 = 3_600;

/// The latest second a four-digit year can hold (9999-12-31 23:59:59 UTC).
const MAX_TIME_VAL_SECS: i64 = 253_402_300_799;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats a time as an RFC 3659 `time-val`: `YYYYMMDDHHMMSS`, UTC.
///
/// The time is read as UTC whatever its [accuracy](FileTime::accuracy);
/// sub-second parts are dropped. Times before 1970 or after year 9999 are
/// clamped to that range, so the result always has exactly 14 digits.
///
/// ```
/// use ftp_proto::listing::{format::time_val, FileTime, TimeAccuracy};
///
/// let t = FileTime::from_civil(2024, 2, 29, 13, 5, 9, TimeAccuracy::Exact).unwrap();
/// assert_eq!(time_val(&t), "20240229130509");
/// ```
pub fn time_val(t: &FileTime) -> String {
    let clamped = FileTime {
        unix_secs: t.unix_secs.clamp(0, MAX_TIME_VAL_SECS),
        ..*t
    };
    let (y, mo, d, h, mi, s) = clamped.to_civil();
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

/// Formats one MLSD/MLST fact line: `type=file;size=N;modify=T;perm=r; name`.
///
/// Directories are written `type=dir;modify=T;perm=el; name` (no size). A
/// missing size or time leaves its fact out. Symbolic links and other kinds
/// are written with the `OS.unix=slink` / `OS.unix=other` types and no
/// `perm` fact, which a client skips rather than fetches. The name is copied
/// as raw bytes; no line ending is added.
///
/// ```
/// use ftp_proto::listing::{format::mlsd_line, Entry, EntryKind};
///
/// let dir = Entry { name: b"sub dir".to_vec(), kind: EntryKind::Dir, size: None,
///                   modified: None, permissions: None };
/// assert_eq!(mlsd_line(&dir), b"type=dir;perm=el; sub dir");
/// ```
pub fn mlsd_line(e: &Entry) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + e.name.len());
    let (kind, perm) = match e.kind {
        EntryKind::File => ("file", "r"),
        EntryKind::Dir => ("dir", "el"),
        EntryKind::Symlink { .. } => ("OS.unix=slink", ""),
        _ => ("OS.unix=other", ""),
    };
    out.extend_from_slice(b"type=");
    out.extend_from_slice(kind.as_bytes());
    out.push(b';');
    if let (EntryKind::File, Some(size)) = (&e.kind, e.size) {
        // Writing to a Vec cannot fail.
        let _ = write!(out, "size={size};");
    }
    if let Some(t) = &e.modified {
        out.extend_from_slice(b"modify=");
        out.extend_from_slice(time_val(t).as_bytes());
        out.push(b';');
    }
    if !perm.is_empty() {
        out.extend_from_slice(b"perm=");
        out.extend_from_slice(perm.as_bytes());
        out.push(b';');
    }
    out.push(b' ');
    out.extend_from_slice(&e.name);
    out
}

/// Formats one `ls -l` style LIST line.
///
/// `-r--r--r-- 1 ftp ftp SIZE Mon DD HH:MM name` for a file,
/// `dr-xr-xr-x 2 ftp ftp SIZE ...` for a directory. Like `ls`, a time more
/// than about six months before `now_unix_secs` (or more than an hour after
/// it) is written with the year instead of the time of day: `Mon DD  YYYY`.
/// Times are written as UTC. A missing size is written as 0, a missing time
/// as the epoch. Symbolic links and other kinds are written as files (`ls -l`
/// of the link target); the name is copied as raw bytes, no line ending.
///
/// ```
/// use ftp_proto::listing::{format::unix_line, Entry, EntryKind, FileTime, TimeAccuracy};
///
/// let t = FileTime::from_civil(2024, 11, 21, 10, 5, 0, TimeAccuracy::Exact);
/// let e = Entry { name: b"a b.txt".to_vec(), kind: EntryKind::File, size: Some(42),
///                 modified: t, permissions: None };
/// let now = t.unwrap().unix_secs + 86_400;
/// assert_eq!(unix_line(&e, now), b"-r--r--r--   1 ftp      ftp            42 Nov 21 10:05 a b.txt");
/// let much_later = now + 365 * 86_400;
/// assert_eq!(unix_line(&e, much_later), b"-r--r--r--   1 ftp      ftp            42 Nov 21  2024 a b.txt");
/// ```
pub fn unix_line(e: &Entry, now_unix_secs: i64) -> Vec<u8> {
    let (mode, links) = match e.kind {
        EntryKind::Dir => ("dr-xr-xr-x", 2),
        _ => ("-r--r--r--", 1),
    };
    let t = e.modified.map_or(0, |t| t.unix_secs);
    let clamped = FileTime {
        unix_secs: t.clamp(0, MAX_TIME_VAL_SECS),
        nanos: 0,
        accuracy: super::TimeAccuracy::Exact,
    };
    let (year, month, day, hour, minute, _) = clamped.to_civil();
    let month = MONTHS[(month as usize).saturating_sub(1).min(11)];
    let recent = t > now_unix_secs.saturating_sub(RECENT_SECS)
        && t <= now_unix_secs.saturating_add(FUTURE_SLACK_SECS);
    let mut out = Vec::with_capacity(64 + e.name.len());
    let size = e.size.unwrap_or(0);
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "{mode} {links:>3} ftp      ftp      {size:>8} {month} {day:>2} "
    );
    let _ = if recent {
        write!(out, "{hour:02}:{minute:02} ")
    } else {
        write!(out, " {year:04} ")
    };
    out.extend_from_slice(&e.name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::TimeAccuracy;

    fn entry(name: &[u8], kind: EntryKind, size: Option<u64>, secs: Option<i64>) -> Entry {
        Entry {
            name: name.to_vec(),
            kind,
            size,
            modified: secs.map(|unix_secs| FileTime {
                unix_secs,
                nanos: 0,
                accuracy: TimeAccuracy::Exact,
            }),
            permissions: None,
        }
    }

    #[test]
    fn time_val_is_always_fourteen_digits() {
        for secs in [i64::MIN, -1, 0, 1_709_211_909, MAX_TIME_VAL_SECS, i64::MAX] {
            let t = FileTime {
                unix_secs: secs,
                nanos: 999,
                accuracy: TimeAccuracy::Exact,
            };
            let s = time_val(&t);
            assert_eq!(s.len(), 14, "{secs}: {s}");
            assert!(s.bytes().all(|b| b.is_ascii_digit()), "{secs}: {s}");
        }
        let epoch = FileTime {
            unix_secs: 0,
            nanos: 0,
            accuracy: TimeAccuracy::Exact,
        };
        assert_eq!(time_val(&epoch), "19700101000000");
    }

    #[test]
    fn mlsd_lines_per_kind() {
        let f = entry(b"a;b = c", EntryKind::File, Some(0), Some(0));
        assert_eq!(
            mlsd_line(&f),
            b"type=file;size=0;modify=19700101000000;perm=r; a;b = c"
        );
        let d = entry(b"d", EntryKind::Dir, Some(4096), Some(86_399));
        assert_eq!(mlsd_line(&d), b"type=dir;modify=19700101235959;perm=el; d");
        let f = entry(b"\xff\xfe", EntryKind::File, None, None);
        assert_eq!(mlsd_line(&f), b"type=file;perm=r; \xff\xfe");
        let l = entry(b"l", EntryKind::Symlink { target: None }, None, None);
        assert_eq!(mlsd_line(&l), b"type=OS.unix=slink; l");
    }

    #[test]
    fn unix_lines_recent_and_old() {
        let t = FileTime::from_civil(2024, 3, 5, 7, 8, 9, TimeAccuracy::Exact)
            .unwrap()
            .unix_secs;
        let d = entry(b"dir", EntryKind::Dir, None, Some(t));
        assert_eq!(
            unix_line(&d, t + 10),
            b"dr-xr-xr-x   2 ftp      ftp             0 Mar  5 07:08 dir"
        );
        // Older than six months, and too far in the future: the year form.
        assert!(unix_line(&d, t + 200 * 86_400).ends_with(b"Mar  5  2024 dir"));
        assert!(unix_line(&d, t - 2 * 3600).ends_with(b"Mar  5  2024 dir"));
        let big = entry(b"big", EntryKind::File, Some(123_456_789_012), Some(t));
        assert!(
            unix_line(&big, t).starts_with(b"-r--r--r--   1 ftp      ftp      123456789012 Mar")
        );
        let none = entry(b"x", EntryKind::File, None, None);
        assert!(unix_line(&none, i64::MAX).ends_with(b"Jan  1  1970 x"));
        assert!(unix_line(&none, i64::MIN).ends_with(b"Jan  1  1970 x"));
    }

    mod round_trip {
        use super::*;
        use crate::listing::{parse_list_line, parse_mlsd_line, ListContext, ListLine};
        use proptest::prelude::*;

        /// Any name a directory can hold that a listing line can carry.
        fn name() -> impl Strategy<Value = Vec<u8>> {
            proptest::collection::vec(
                any::<u8>().prop_filter("no line end", |b| *b != b'\r' && *b != b'\n'),
                1..40,
            )
            .prop_filter("not . or ..", |n| n != b"." && n != b"..")
        }

        fn sample(name: Vec<u8>, is_dir: bool, size: u64, secs: i64) -> Entry {
            let kind = if is_dir {
                EntryKind::Dir
            } else {
                EntryKind::File
            };
            entry(&name, kind, (!is_dir).then_some(size), Some(secs))
        }

        proptest! {
            #[test]
            fn mlsd_lines_parse_back(name in name(), is_dir: bool, size: u64, secs in 0..=MAX_TIME_VAL_SECS) {
                let e = sample(name, is_dir, size, secs);
                let parsed = parse_mlsd_line(&mlsd_line(&e)).expect("an entry");
                prop_assert_eq!(&parsed.name, &e.name);
                prop_assert_eq!(&parsed.kind, &e.kind);
                prop_assert_eq!(parsed.size, e.size);
                prop_assert_eq!(parsed.modified, e.modified);
            }

            #[test]
            fn unix_lines_parse_back(
                name in name(),
                is_dir: bool,
                size: u64,
                age in -7200i64..(12 * 365 * 86_400),
                now in 1_000_000_000i64..4_000_000_000,
            ) {
                let t = now - age;
                let e = sample(name, is_dir, size, t);
                let line = unix_line(&e, now);
                let ListLine::Entry(parsed) = parse_list_line(&line, &ListContext::at(now)) else {
                    return Err(TestCaseError::fail(format!("not an entry: {:?}", String::from_utf8_lossy(&line))));
                };
                prop_assert_eq!(&parsed.name, &e.name);
                prop_assert_eq!(&parsed.kind, &e.kind);
                if !is_dir {
                    prop_assert_eq!(parsed.size, Some(size));
                }
                let recent = t > now - RECENT_SECS && t <= now + FUTURE_SLACK_SECS;
                let want = if recent { t - t.rem_euclid(60) } else { t - t.rem_euclid(86_400) };
                prop_assert_eq!(parsed.modified.map(|m| m.unix_secs), Some(want));
            }
        }

        #[test]
        fn unix_names_with_a_leading_space_parse_back() {
            let now = 1_763_719_200;
            for t in [now - 60, now - 400 * 86_400] {
                let e = entry(b" x", EntryKind::File, Some(1), Some(t));
                let ListLine::Entry(parsed) =
                    parse_list_line(&unix_line(&e, now), &ListContext::at(now))
                else {
                    panic!("not an entry");
                };
                assert_eq!(parsed.name, b" x");
            }
        }
    }
}
