//! Unix `ls -l` LIST lines, as vsftpd, ProFTPD, Pure-FTPd, pyftpdlib,
//! busybox and most other servers print them:
//!
//! ```text
//! drwxr-xr-x   2 owner    group        4096 Nov 21 10:00 name
//! -rw-r--r--+  1 1000     1000   1234567890 Nov 21  2024 a name with spaces
//! lrwxrwxrwx   1 owner    group           7 Nov  1 09:05 link -> target
//! crw-rw-rw-   1 root     root       1,   3 Nov 21 10:00 null
//! -rw-r--r--   1 owner               1234 Nov 21 10:00 no-group
//! ```
//!
//! How a line is read:
//! 1. The first column is the type (`-dlbcpsD`) and nine permission
//!    characters, optionally followed by ACL/extended-attribute marks
//!    (`+`, `.`, `@`).
//! 2. The date is found by scanning the columns for the first place where a
//!    month name (any case), a day and a time (`HH:MM`) or year (`YYYY`)
//!    follow a size column (decimal digits; for block and character devices
//!    `major, minor` or `major,minor`). `YYYY-MM-DD HH:MM` (`ls
//!    --time-style=long-iso`) is read too. Owner, group and link count are
//!    not interpreted, so missing or numeric columns do not matter.
//! 3. The name is everything after the single separator byte that follows
//!    the time/year column. Columns are padded with spaces, but only before a
//!    column, so `Nov 21 10:00  name` names ` name` (leading space kept)
//!    while `Nov  1 10:00 name` names `name`.
//! 4. For a symlink, the name is split at the FIRST ` -> `: the part before
//!    is the name, the part after the target (a name holding ` -> ` itself
//!    cannot be told apart from a target holding it; names are rarer).

use super::{parse_digits, Entry, EntryKind, FileTime, ListContext, TimeAccuracy};

/// Parses one `ls -l` line (no line end); `None` if it is not one.
pub(crate) fn parse_line(line: &[u8], ctx: &ListContext) -> Option<Entry> {
    let columns = columns(line);
    let mode = line.get(columns.first()?.clone())?;
    let (kind, permissions) = parse_mode(mode)?;
    let (size, modified, date_end) = find_date(line, &columns, &kind, ctx)?;
    let rest = line.get(date_end + 1..).filter(|rest| !rest.is_empty())?;
    let (name, kind) = match kind {
        EntryKind::Symlink { .. } => split_link(rest),
        kind => (rest, kind),
    };
    if name.is_empty() {
        return None;
    }
    Some(Entry {
        name: name.to_vec(),
        kind,
        size,
        modified: Some(modified),
        permissions: Some(permissions),
    })
}

/// The byte ranges of the space- or tab-separated columns of `line`.
fn columns(line: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in line.iter().enumerate() {
        match (b == b' ' || b == b'\t', start) {
            (true, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..line.len());
    }
    out
}

/// The kind and the nine permission characters of a mode column such as
/// `drwxr-sr-t+`.
fn parse_mode(mode: &[u8]) -> Option<(EntryKind, String)> {
    let (&type_char, rest) = mode.split_first()?;
    let kind = match type_char {
        b'-' => EntryKind::File,
        b'd' => EntryKind::Dir,
        b'l' => EntryKind::Symlink { target: None },
        b'b' | b'c' | b'p' | b's' | b'D' => EntryKind::Other,
        _ => return None,
    };
    if rest.len() < 9 || !rest[9..].iter().all(|b| b"+.@".contains(b)) {
        return None;
    }
    const ALLOWED: [&[u8]; 9] = [
        b"r-", b"w-", b"xsS-", b"r-", b"w-", b"xsSlL-", b"r-", b"w-", b"xtT-",
    ];
    let perms = &rest[..9];
    if !perms
        .iter()
        .zip(ALLOWED)
        .all(|(b, allowed)| allowed.contains(b))
    {
        return None;
    }
    Some((kind, String::from_utf8_lossy(perms).into_owned()))
}

/// Finds the size and date columns: `(size, time, end of the date)`.
fn find_date(
    line: &[u8],
    columns: &[std::ops::Range<usize>],
    kind: &EntryKind,
    ctx: &ListContext,
) -> Option<(Option<u64>, FileTime, usize)> {
    let col = |i: usize| columns.get(i).and_then(|r| line.get(r.clone()));
    let is_device = matches!(kind, EntryKind::Other) && matches!(line.first(), Some(b'b' | b'c'));
    // The size column is at least the third (mode, owner, size).
    for i in 3..columns.len() {
        let Some(size) = size_column(columns, line, i - 1, is_device) else {
            continue;
        };
        let first = col(i)?;
        let date = match (col(i + 1), col(i + 2)) {
            (Some(day), Some(time_or_year)) if month_number(first).is_some() => {
                ls_date(first, day, time_or_year, ctx).map(|t| (t, columns[i + 2].end))
            }
            _ => None,
        };
        let date = date.or_else(|| iso_date(first, col(i + 1)?).map(|t| (t, columns[i + 1].end)));
        if let Some((time, end)) = date {
            return Some((size, time, end));
        }
    }
    None
}

/// Reads column `i` as a size. `Some(None)` for a device's `major, minor`.
fn size_column(
    columns: &[std::ops::Range<usize>],
    line: &[u8],
    i: usize,
    is_device: bool,
) -> Option<Option<u64>> {
    let text = line.get(columns.get(i)?.clone())?;
    if is_device {
        let numbers = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
        let ok = match text.iter().position(|&b| b == b',') {
            Some(comma) => numbers(&text[..comma]) && numbers(&text[comma + 1..]),
            None => {
                numbers(text)
                    && i >= 2
                    && line
                        .get(columns[i - 1].clone())
                        .and_then(|major| major.strip_suffix(b","))
                        .is_some_and(numbers)
            }
        };
        return ok.then_some(None);
    }
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok().map(Some)
}

/// `Mon DD HH:MM` (year inferred) or `Mon DD YYYY`.
fn ls_date(month: &[u8], day: &[u8], time_or_year: &[u8], ctx: &ListContext) -> Option<FileTime> {
    let month = month_number(month)?;
    let day = if day.len() <= 2 {
        parse_digits(day)?
    } else {
        return None;
    };
    if let Some((hour, minute)) = parse_hh_mm(time_or_year) {
        return infer_year(ctx, month, day, hour, minute);
    }
    if time_or_year.len() != 4 {
        return None;
    }
    let year = parse_digits(time_or_year)?;
    let accuracy = TimeAccuracy::Approximate {
        day_only: true,
        year_inferred: false,
    };
    FileTime::from_civil(i64::from(year), month, day, 0, 0, 0, accuracy)
}

/// `YYYY-MM-DD HH:MM`.
fn iso_date(date: &[u8], time: &[u8]) -> Option<FileTime> {
    let [y, m, d] = split3(date, b'-')?;
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (hour, minute) = parse_hh_mm(time)?;
    let accuracy = TimeAccuracy::Approximate {
        day_only: false,
        year_inferred: false,
    };
    FileTime::from_civil(
        i64::from(parse_digits(y)?),
        parse_digits(m)?,
        parse_digits(d)?,
        hour,
        minute,
        0,
        accuracy,
    )
}

/// `text` split at `sep` into exactly three parts.
fn split3(text: &[u8], sep: u8) -> Option<[&[u8]; 3]> {
    let mut parts = text.split(|&b| b == sep);
    let out = [parts.next()?, parts.next()?, parts.next()?];
    parts.next().is_none().then_some(out)
}

/// `H:MM` or `HH:MM`.
fn parse_hh_mm(text: &[u8]) -> Option<(u32, u32)> {
    let colon = text.iter().position(|&b| b == b':')?;
    let (h, m) = (&text[..colon], &text[colon + 1..]);
    if !(1..=2).contains(&h.len()) || m.len() != 2 {
        return None;
    }
    Some((parse_digits(h)?, parse_digits(m)?))
}

/// 1 to 12 for a three-letter English month name in any case.
fn month_number(text: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let index = MONTHS.iter().position(|m| text.eq_ignore_ascii_case(*m))?;
    u32::try_from(index + 1).ok()
}

/// The earliest and latest "now" the year guess works with (years 2 to 9999).
const NOW_RANGE: std::ops::RangeInclusive<i64> = -62_104_060_800..=253_370_764_800;

/// The date `month day hour:minute` in the year that puts it nearest to the
/// context's "now" (see [`ListContext`]). A February 29th falls in the
/// nearest leap year.
fn infer_year(ctx: &ListContext, month: u32, day: u32, hour: u32, minute: u32) -> Option<FileTime> {
    let now = ctx
        .now_unix_secs()
        .clamp(*NOW_RANGE.start(), *NOW_RANGE.end());
    let accuracy = TimeAccuracy::Approximate {
        day_only: false,
        year_inferred: true,
    };
    let this_year = FileTime {
        unix_secs: now,
        nanos: 0,
        accuracy,
    }
    .to_civil()
    .0;
    (this_year - 4..=this_year + 4)
        .filter_map(|year| FileTime::from_civil(year, month, day, hour, minute, 0, accuracy))
        .min_by_key(|t| t.unix_secs.abs_diff(now))
}

/// `name -> target`, split at the first arrow.
fn split_link(rest: &[u8]) -> (&[u8], EntryKind) {
    const ARROW: &[u8] = b" -> ";
    match rest.windows(ARROW.len()).position(|w| w == ARROW) {
        Some(at) => (
            &rest[..at],
            EntryKind::Symlink {
                target: Some(rest[at + ARROW.len()..].to_vec()),
            },
        ),
        None => (rest, EntryKind::Symlink { target: None }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::{parse_list_line, preview, ListLine};
    use proptest::prelude::*;

    /// 2025-11-21 12:00:00 UTC.
    const NOW: i64 = 1_763_726_400;

    fn minute(y: i64, mo: u32, d: u32, h: u32, mi: u32) -> FileTime {
        let accuracy = TimeAccuracy::Approximate {
            day_only: false,
            year_inferred: true,
        };
        FileTime::from_civil(y, mo, d, h, mi, 0, accuracy).unwrap()
    }

    fn day(y: i64, mo: u32, d: u32) -> FileTime {
        let accuracy = TimeAccuracy::Approximate {
            day_only: true,
            year_inferred: false,
        };
        FileTime::from_civil(y, mo, d, 0, 0, 0, accuracy).unwrap()
    }

    fn file() -> EntryKind {
        EntryKind::File
    }

    fn link(target: &[u8]) -> EntryKind {
        EntryKind::Symlink {
            target: Some(target.to_vec()),
        }
    }

    /// `(line, name, kind, size, time, permissions)`.
    type Case = (
        &'static [u8],
        &'static [u8],
        EntryKind,
        Option<u64>,
        FileTime,
        &'static str,
    );

    fn check(cases: &[Case]) {
        let ctx = ListContext::at(NOW);
        for (line, name, kind, size, time, perms) in cases {
            let what = preview(line);
            let e = parse_line(line, &ctx).unwrap_or_else(|| panic!("unparsed: {what}"));
            assert_eq!(e.name, *name, "{what}");
            assert_eq!(&e.kind, kind, "{what}");
            assert_eq!(e.size, *size, "{what}");
            assert_eq!(e.modified, Some(*time), "{what}");
            assert_eq!(e.permissions.as_deref(), Some(*perms), "{what}");
        }
    }

    #[test]
    fn real_server_lines() {
        check(&[
            // vsftpd (numeric ids by default)
            (
                b"-rw-r--r--    1 1000     1000         2048 Nov 21 10:00 readme.txt",
                b"readme.txt",
                file(),
                Some(2048),
                minute(2025, 11, 21, 10, 0),
                "rw-r--r--",
            ),
            (
                b"drwxr-xr-x    2 0        0            4096 Mar 03  2021 pub",
                b"pub",
                EntryKind::Dir,
                Some(4096),
                day(2021, 3, 3),
                "rwxr-xr-x",
            ),
            // pyftpdlib
            (
                b"-rw-rw-r--   1 giampaolo giampaolo   140 Jun 10 14:28 setup.cfg",
                b"setup.cfg",
                file(),
                Some(140),
                minute(2025, 6, 10, 14, 28),
                "rw-rw-r--",
            ),
            (
                b"lrwxrwxrwx   1 owner    group          13 Nov 20 23:59 docs -> ../share/doc",
                b"docs",
                link(b"../share/doc"),
                Some(13),
                minute(2025, 11, 20, 23, 59),
                "rwxrwxrwx",
            ),
            // ProFTPD
            (
                b"-rw-r--r--   1 ftp      ftp      123456789012 Jan 15  2019 backup.tar.gz",
                b"backup.tar.gz",
                file(),
                Some(123_456_789_012),
                day(2019, 1, 15),
                "rw-r--r--",
            ),
            (
                b"drwxrwsr-x   5 ftp      staff        4096 Sep 30 08:15 incoming",
                b"incoming",
                EntryKind::Dir,
                Some(4096),
                minute(2025, 9, 30, 8, 15),
                "rwxrwsr-x",
            ),
            // Pure-FTPd
            (
                b"drwxrwxrwt    2 0          0                4096 Nov 21 11:59 tmp",
                b"tmp",
                EntryKind::Dir,
                Some(4096),
                minute(2025, 11, 21, 11, 59),
                "rwxrwxrwt",
            ),
            (
                b"-rwSr-Sr-T    1 1001       1001                0 Feb 29  2024 odd bits",
                b"odd bits",
                file(),
                Some(0),
                day(2024, 2, 29),
                "rwSr-Sr-T",
            ),
            // busybox ftpd
            (
                b"-rwxr-xr-x    1 0        0          1127864 Jan  1 00:00 busybox",
                b"busybox",
                file(),
                Some(1_127_864),
                minute(2026, 1, 1, 0, 0),
                "rwxr-xr-x",
            ),
            // Windows/IIS in Unix mode, FileZilla Server (owner/group "ftp")
            (
                b"-r--r--r-- 1 ftp ftp        18446744073709551615 Dec 31  1999 huge",
                b"huge",
                file(),
                Some(u64::MAX),
                day(1999, 12, 31),
                "r--r--r--",
            ),
            // ls with ACL, SELinux context and macOS extended-attribute marks
            (
                b"-rw-r--r--+ 1 alice staff 10 Nov 21 10:00 acl",
                b"acl",
                file(),
                Some(10),
                minute(2025, 11, 21, 10, 0),
                "rw-r--r--",
            ),
            (
                b"drwxr-xr-x. 3 root root 20 Nov 21 10:00 selinux",
                b"selinux",
                EntryKind::Dir,
                Some(20),
                minute(2025, 11, 21, 10, 0),
                "rwxr-xr-x",
            ),
            (
                b"-rw-r--r--@ 1 bob  staff 11 nov 21 10:00 xattr",
                b"xattr",
                file(),
                Some(11),
                minute(2025, 11, 21, 10, 0),
                "rw-r--r--",
            ),
            // missing group column
            (
                b"-rw-r--r-- 1 owner 1234 Nov 21 10:00 name",
                b"name",
                file(),
                Some(1234),
                minute(2025, 11, 21, 10, 0),
                "rw-r--r--",
            ),
            // missing link count and group (NetPresenz-style "folder")
            (
                b"drwxrwxr-x               folder        2 May 10  1996 network",
                b"network",
                EntryKind::Dir,
                Some(2),
                day(1996, 5, 10),
                "rwxrwxr-x",
            ),
            // ls --time-style=long-iso
            (
                b"-rw-r--r-- 1 user group 5 2024-11-21 10:00 iso name",
                b"iso name",
                file(),
                Some(5),
                FileTime::from_civil(
                    2024,
                    11,
                    21,
                    10,
                    0,
                    0,
                    TimeAccuracy::Approximate {
                        day_only: false,
                        year_inferred: false,
                    },
                )
                .unwrap(),
                "rw-r--r--",
            ),
        ]);
    }

    #[test]
    fn other_kinds() {
        let other = EntryKind::Other;
        let t = minute(2025, 11, 21, 10, 0);
        check(&[
            (
                b"crw-rw-rw- 1 root root 1, 3 Nov 21 10:00 null",
                b"null",
                other.clone(),
                None,
                t,
                "rw-rw-rw-",
            ),
            (
                b"brw-rw---- 1 root disk 8,   0 Nov 21 10:00 sda",
                b"sda",
                other.clone(),
                None,
                t,
                "rw-rw----",
            ),
            (
                b"crw--w---- 1 root tty 136,0 Nov 21 10:00 pts0",
                b"pts0",
                other.clone(),
                None,
                t,
                "rw--w----",
            ),
            (
                b"prw-r--r-- 1 root root 0 Nov 21 10:00 fifo",
                b"fifo",
                other.clone(),
                Some(0),
                t,
                "rw-r--r--",
            ),
            (
                b"srwxrwxrwx 1 root root 0 Nov 21 10:00 sock",
                b"sock",
                other.clone(),
                Some(0),
                t,
                "rwxrwxrwx",
            ),
            (
                b"Dr--r--r-- 1 root root 0 Nov 21 10:00 door",
                b"door",
                other,
                Some(0),
                t,
                "r--r--r--",
            ),
        ]);
    }

    #[test]
    fn names() {
        let t = minute(2025, 11, 21, 10, 0);
        let t1 = minute(2025, 11, 1, 10, 0);
        check(&[
            (
                b"-rw-r--r-- 1 u g 1 Nov 21 10:00  name",
                b" name",
                file(),
                Some(1),
                t,
                "rw-r--r--",
            ),
            (
                b"-rw-r--r-- 1 u g 1 Nov  1 10:00 name",
                b"name",
                file(),
                Some(1),
                t1,
                "rw-r--r--",
            ),
            (
                b"-rw-r--r-- 1 u g 1 Nov 21 10:00 a  b c ",
                b"a  b c ",
                file(),
                Some(1),
                t,
                "rw-r--r--",
            ),
            (
                b"-rw-r--r-- 1 u g 1 Nov 21 10:00 Nov 21 10:00 x",
                b"Nov 21 10:00 x",
                file(),
                Some(1),
                t,
                "rw-r--r--",
            ),
            (
                b"-rw-r--r-- 1 u g 1 Nov 21 10:00 a -> b",
                b"a -> b",
                file(),
                Some(1),
                t,
                "rw-r--r--",
            ),
            (
                b"-rw-r--r-- 1 u g 1 Nov 21 10:00 caf\xe9\xff",
                b"caf\xe9\xff",
                file(),
                Some(1),
                t,
                "rw-r--r--",
            ),
            (
                b"-rw-r--r-- 1 u g 1 Nov 21 10:00 tab\tname",
                b"tab\tname",
                file(),
                Some(1),
                t,
                "rw-r--r--",
            ),
            (
                b"-rw-r--r--\t1\tu\tg\t1\tNov\t21\t10:00\ttabbed",
                b"tabbed",
                file(),
                Some(1),
                t,
                "rw-r--r--",
            ),
            (
                b"lrwxrwxrwx 1 u g 1 Nov 21 10:00 a -> b -> c",
                b"a",
                link(b"b -> c"),
                Some(1),
                t,
                "rwxrwxrwx",
            ),
            (
                b"lrwxrwxrwx 1 u g 1 Nov 21 10:00 sp ace ->  dest ",
                b"sp ace",
                link(b" dest "),
                Some(1),
                t,
                "rwxrwxrwx",
            ),
            (
                b"lrwxrwxrwx 1 u g 1 Nov 21 10:00 nolink",
                b"nolink",
                EntryKind::Symlink { target: None },
                Some(1),
                t,
                "rwxrwxrwx",
            ),
            (
                b"lrwxrwxrwx 1 u g 1 Nov 21 10:00 \xc3\xa9 -> \xff",
                b"\xc3\xa9",
                link(b"\xff"),
                Some(1),
                t,
                "rwxrwxrwx",
            ),
            // an owner named like a month, a group like a day, a size like a year
            (
                b"-rw-r--r-- 1 may 20 2024 Nov 21 10:00 tricky",
                b"tricky",
                file(),
                Some(2024),
                t,
                "rw-r--r--",
            ),
        ]);
    }

    #[test]
    fn year_inference_near_boundaries() {
        // (now, line date, expected year)
        let cases: &[(i64, &[u8], i64)] = &[
            // 2026-01-05 00:00 UTC: late December belongs to the year before.
            (1_767_571_200, b"Dec 30 10:00", 2025),
            (1_767_571_200, b"Jan  4 23:00", 2026),
            (1_767_571_200, b"Jun 30 10:00", 2026),
            (1_767_571_200, b"Jul 20 10:00", 2025),
            // 2025-12-31 23:00 UTC: a server ahead in time zone is already in January.
            (1_767_222_000, b"Jan  1 00:30", 2026),
            (1_767_222_000, b"Dec 31 22:00", 2025),
            (1_767_222_000, b"Feb 15 10:00", 2026),
            // 2025-06-15 00:00 UTC: six months either way.
            (1_749_945_600, b"Dec  1 10:00", 2025),
            (1_749_945_600, b"Dec 20 10:00", 2024),
            // Feb 29 goes to the nearest leap year: 2025-03-01 -> 2024.
            (1_740_787_200, b"Feb 29 12:00", 2024),
            // 2027-11-01 -> 2028.
            (1_825_027_200, b"Feb 29 12:00", 2028),
        ];
        for (now, date, year) in cases {
            let mut line = b"-rw-r--r-- 1 u g 1 ".to_vec();
            line.extend_from_slice(date);
            line.extend_from_slice(b" f");
            let e = parse_line(&line, &ListContext::at(*now))
                .unwrap_or_else(|| panic!("{}", preview(&line)));
            let t = e.modified.unwrap();
            assert_eq!(t.to_civil().0, *year, "{} at {now}", preview(&line));
            assert_eq!(
                t.accuracy,
                TimeAccuracy::Approximate {
                    day_only: false,
                    year_inferred: true
                }
            );
        }
    }

    #[test]
    fn extreme_contexts_do_not_panic() {
        for now in [i64::MIN, -1, 0, i64::MAX] {
            let e =
                parse_line(b"-rw-r--r-- 1 u g 1 Feb 29 10:00 f", &ListContext::at(now)).unwrap();
            assert!(e.modified.is_some());
        }
    }

    #[test]
    fn unparsed() {
        let ctx = ListContext::at(NOW);
        for line in [
            &b"-rw-r--r-- 1 u g 99999999999999999999 Nov 21 10:00 too big"[..],
            b"-rw-r--r-- 1 u g 12k Nov 21 10:00 human size",
            b"-rw-r--r-- 1 u g 1 Nov 32 10:00 bad day",
            b"-rw-r--r-- 1 u g 1 Feb 30  2024 bad day",
            b"-rw-r--r-- 1 u g 1 Nov 21 24:00 bad hour",
            b"-rw-r--r-- 1 u g 1 Nov 21 10:60 bad minute",
            b"-rw-r--r-- 1 u g 1 Nov 21 10:0 short minute",
            b"-rw-r--r-- 1 u g 1 Nov 21 202 short year",
            b"-rw-r--r-- 1 u g 1 Foo 21 10:00 bad month",
            b"-rw-r--r-- 1 u g 1 Nov 21 10:00",
            b"-rw-r--r-- 1 u g 1 Nov 21 10:00 ",
            b"-rw-r--r-- 1 u g 1 Nov 21",
            b"-rw-r--r-- 1 Nov 21 10:00 no owner",
            b"xrw-r--r-- 1 u g 1 Nov 21 10:00 bad type",
            b"-rw-r--r-x- 1 u g 1 Nov 21 10:00 bad mark",
            b"-rw-r--r 1 u g 1 Nov 21 10:00 short mode",
            b"-rwzr--r-- 1 u g 1 Nov 21 10:00 bad perm",
            b"crw-rw-rw- 1 root root 1 3 Nov 21 10:00 no comma",
            b"crw-rw-rw- 1 root root ,3 Nov 21 10:00 no major",
            b"lrwxrwxrwx 1 u g 1 Nov 21 10:00  -> target",
            b"-rw-r--r-- 1 u g 1 2024-13-01 10:00 bad iso",
            b"-",
            b"",
        ] {
            assert_eq!(parse_line(line, &ctx), None, "{}", preview(line));
        }
    }

    #[test]
    fn through_the_dispatcher() {
        let ctx = ListContext::at(NOW);
        let ListLine::Entry(e) = parse_list_line(b"-rw-r--r-- 1 u g 7 Nov 21 10:00 x\r\n", &ctx)
        else {
            panic!("not an entry");
        };
        assert_eq!((e.name.as_slice(), e.size), (&b"x"[..], Some(7)));
    }

    proptest! {
        /// Any time within 180 days of "now", printed without its year as
        /// `ls` does, reads back as the same time.
        #[test]
        fn inferred_year_round_trips(
            now in -2_000_000_000i64..8_000_000_000,
            offset_minutes in -259_200i64..=259_200,
        ) {
            let accuracy = TimeAccuracy::Approximate { day_only: false, year_inferred: true };
            let written = FileTime { unix_secs: now - now.rem_euclid(60) + offset_minutes * 60, nanos: 0, accuracy };
            let (_, month, day, hour, min, _) = written.to_civil();
            const MONTHS: [&str; 12] =
                ["jan", "FEB", "Mar", "apr", "May", "jun", "Jul", "aug", "Sep", "oct", "Nov", "DEC"];
            let line = format!(
                "-rw-r--r-- 1 u g 1 {} {day:>2} {hour:02}:{min:02} f",
                MONTHS[month as usize - 1]
            );
            let e = parse_line(line.as_bytes(), &ListContext::at(now)).unwrap();
            prop_assert_eq!(e.modified, Some(written), "{}", line);
        }

        #[test]
        fn generated_lines_round_trip(
            name in proptest::collection::vec(
                any::<u8>().prop_filter("no line end", |b| *b != b'\n' && *b != b'\r'), 1..40),
            size in any::<u64>(),
            month in 0usize..12,
            day_of_month in 1u32..=28,
            year in 1970i64..2100,
            pad in 1usize..12,
        ) {
            prop_assume!(name != b"." && name != b"..");
            const MONTHS: [&str; 12] =
                ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
            let mut line = format!(
                "-rw-r--r--{:pad$}1 owner group {size} {} {day_of_month:2}  {year} ",
                "", MONTHS[month]
            )
            .into_bytes();
            line.extend_from_slice(&name);
            let e = parse_line(&line, &ListContext::at(NOW)).unwrap();
            prop_assert_eq!(e.name, name);
            prop_assert_eq!(e.size, Some(size));
            prop_assert_eq!(e.modified, Some(day(year, month as u32 + 1, day_of_month)));
        }
    }
}
