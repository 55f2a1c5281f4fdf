//! The listing model shared by every listing parser.

use std::fmt;

/// One entry of a directory listing.
///
/// The name is kept as the exact bytes the server sent, so a name that is
/// not UTF-8 can still be sent back (to RETR it) unchanged.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name as sent by the server (never a path; `.` and `..` are not entries).
    pub name: Vec<u8>,
    /// File, directory, symlink or other.
    pub kind: EntryKind,
    /// Size in bytes, when the listing gave one.
    pub size: Option<u64>,
    /// Modification time, when the listing gave one.
    pub modified: Option<FileTime>,
    /// Permissions as the server wrote them (`rwxr-xr-x`, MLSD `perm`), if any.
    pub permissions: Option<String>,
}

impl Entry {
    /// The name decoded lossily, for display only.
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// Whether the entry is a regular file.
    pub fn is_file(&self) -> bool {
        self.kind == EntryKind::File
    }

    /// Whether the entry is a directory.
    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Dir
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name_lossy())
            .field("kind", &self.kind)
            .field("size", &self.size)
            .field("modified", &self.modified)
            .finish()
    }
}

/// What an entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link; the target when the listing names it (`ls -l` `a -> b`).
    Symlink {
        /// The link target as sent by the server.
        target: Option<Vec<u8>>,
    },
    /// A device, socket, pipe or a type the parser does not know.
    Other,
}

/// How much a [`FileTime`] can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeAccuracy {
    /// From MLSD/MLST `modify` or MDTM: UTC, to the second or better.
    Exact,
    /// From a LIST line: the server's local wall-clock time, which may be in
    /// any time zone, to the minute (`Nov 21 10:00`) or to the day
    /// (`Nov 21 2024`, MS-DOS dates). `year_inferred` is set when the listing
    /// omitted the year and the parser guessed it.
    Approximate {
        /// Whether the line gave only a day (no time of day).
        day_only: bool,
        /// Whether the year was missing and guessed.
        year_inferred: bool,
    },
}

/// A modification time as a listing or MDTM gave it.
///
/// `unix_secs` counts seconds since 1970-01-01 00:00:00 of the listed
/// wall-clock time: UTC when [`TimeAccuracy::Exact`], the server's own local
/// time otherwise (compare those only loosely).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileTime {
    /// Seconds since the epoch (see above for the time zone).
    pub unix_secs: i64,
    /// Sub-second part in nanoseconds (MLSD may give milliseconds).
    pub nanos: u32,
    /// Whether the time is exact UTC or an approximate local time.
    pub accuracy: TimeAccuracy,
}

impl FileTime {
    /// Whether this is an exact UTC time.
    pub fn is_exact(&self) -> bool {
        self.accuracy == TimeAccuracy::Exact
    }

    /// Builds a time from a civil date and time; `None` if a field is out of range.
    pub fn from_civil(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        accuracy: TimeAccuracy,
    ) -> Option<FileTime> {
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + (hour as i64) * 3600 + (minute as i64) * 60 + second as i64;
        Some(FileTime {
            unix_secs: secs,
            nanos: 0,
            accuracy,
        })
    }

    /// The civil date and time `(year, month, day, hour, minute, second)`.
    pub fn to_civil(&self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.unix_secs.div_euclid(86_400);
        let rem = self.unix_secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (
            y,
            m,
            d,
            (rem / 3600) as u32,
            ((rem % 3600) / 60) as u32,
            (rem % 60) as u32,
        )
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in `month` of `year` (1-based month).
pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a number of days since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        let t = FileTime::from_civil(2024, 2, 29, 13, 5, 9, TimeAccuracy::Exact).unwrap();
        assert_eq!(t.unix_secs, 1_709_211_909);
        assert_eq!(t.to_civil(), (2024, 2, 29, 13, 5, 9));
        assert!(FileTime::from_civil(2023, 2, 29, 0, 0, 0, TimeAccuracy::Exact).is_none());
        assert_eq!(
            FileTime::from_civil(1970, 1, 1, 0, 0, 0, TimeAccuracy::Exact)
                .unwrap()
                .unix_secs,
            0
        );
        for days in [-800_000i64, -1, 0, 1, 59, 19_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
