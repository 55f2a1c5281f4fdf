//! MS-DOS style LIST lines, as IIS (in its default "MS-DOS" directory
//! listing style), Serv-U and other Windows servers print them:
//!
//! ```text
//! 11-21-24  10:00AM       <DIR>          Program Files
//! 11-21-2024  03:15PM             12,345 report.pdf
//! 11-21-24  15:15                   5678 24-hour.txt
//! ```
//!
//! How a line is read:
//! - The date is `MM-DD-YY` or `MM-DD-YYYY` (`/` also accepted), or
//!   `YYYY-MM-DD`. A two-digit year 70-99 is 19xx, 00-69 is 20xx. When the
//!   first number cannot be a month but the second can (`21-11-24`), the
//!   date is read day first.
//! - The time is `HH:MM` with `AM`/`PM` attached or in its own column, or a
//!   24-hour `HH:MM`.
//! - Then `<DIR>` (any case) for a directory, or the size in decimal digits,
//!   optionally with `,` thousands separators.
//! - The name is the rest after the spaces following the size column; a
//!   leading space of the name cannot be told from the padding and is lost.
//!
//! Times are the server's local time, to the minute.

use super::{parse_digits, Entry, EntryKind, FileTime, TimeAccuracy};

/// Parses one MS-DOS style line (no line end); `None` if it is not one.
pub(crate) fn parse_line(line: &[u8]) -> Option<Entry> {
    let (date, rest) = next_column(line)?;
    let (year, month, day) = parse_date(date)?;
    let (time, mut rest) = next_column(rest)?;
    let (mut hour, minute, mut meridiem) = parse_time(time)?;
    if meridiem.is_none() {
        let (column, after) = next_column(rest)?;
        if let Some(m) = parse_meridiem(column) {
            meridiem = Some(m);
            rest = after;
        }
    }
    if let Some(pm) = meridiem {
        hour = to_24_hour(hour, pm)?;
    } else if hour > 23 {
        return None;
    }
    let (size_column, rest) = next_column(rest)?;
    let (kind, size) = if size_column.eq_ignore_ascii_case(b"<DIR>") {
        (EntryKind::Dir, None)
    } else {
        (EntryKind::File, Some(parse_size(size_column)?))
    };
    let name = skip_blanks(rest);
    if name.is_empty() {
        return None;
    }
    let accuracy = TimeAccuracy::Approximate {
        day_only: false,
        year_inferred: false,
    };
    let modified = FileTime::from_civil(year, month, day, hour, minute, 0, accuracy)?;
    Some(Entry {
        name: name.to_vec(),
        kind,
        size,
        modified: Some(modified),
        permissions: None,
    })
}

/// The next blank-separated column and what follows it (starting at the
/// separator).
fn next_column(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let text = skip_blanks(text);
    let end = text.iter().position(|&b| is_blank(b)).unwrap_or(text.len());
    (end > 0).then(|| text.split_at(end))
}

fn skip_blanks(text: &[u8]) -> &[u8] {
    let start = text
        .iter()
        .position(|&b| !is_blank(b))
        .unwrap_or(text.len());
    &text[start..]
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `(year, month, day)` of a date column.
fn parse_date(text: &[u8]) -> Option<(i64, u32, u32)> {
    let sep = *text.iter().find(|&&b| b == b'-' || b == b'/')?;
    let mut parts = text.split(|&b| b == sep);
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || a.len() > 4 || b.len() > 2 || c.len() > 4 {
        return None;
    }
    let (a_num, b_num, c_num) = (parse_digits(a)?, parse_digits(b)?, parse_digits(c)?);
    if a.len() == 4 {
        return (c.len() <= 2).then_some((i64::from(a_num), b_num, c_num));
    }
    if a.len() > 2 {
        return None;
    }
    let year = match c.len() {
        2 if c_num >= 70 => 1900 + i64::from(c_num),
        2 => 2000 + i64::from(c_num),
        4 => i64::from(c_num),
        _ => return None,
    };
    if a_num > 12 && (1..=12).contains(&b_num) {
        Some((year, b_num, a_num))
    } else {
        Some((year, a_num, b_num))
    }
}

/// `(hour, minute, Some(is_pm))` of `HH:MM`, `HH:MMAM` or `HH:MMPM`.
fn parse_time(text: &[u8]) -> Option<(u32, u32, Option<bool>)> {
    let colon = text.iter().position(|&b| b == b':')?;
    let (hour, rest) = (&text[..colon], &text[colon + 1..]);
    if !(1..=2).contains(&hour.len()) || rest.len() < 2 {
        return None;
    }
    let (minute, suffix) = rest.split_at(2);
    let meridiem = match suffix {
        [] => None,
        _ => Some(parse_meridiem(suffix)?),
    };
    let minute = parse_digits(minute)?;
    (minute <= 59).then_some((parse_digits(hour)?, minute, meridiem))
}

/// `Some(true)` for `PM`, `Some(false)` for `AM` (any case).
fn parse_meridiem(text: &[u8]) -> Option<bool> {
    if text.eq_ignore_ascii_case(b"AM") {
        Some(false)
    } else if text.eq_ignore_ascii_case(b"PM") {
        Some(true)
    } else {
        None
    }
}

/// A 12-hour clock hour (1 to 12) as 0 to 23.
fn to_24_hour(hour: u32, pm: bool) -> Option<u32> {
    match (hour, pm) {
        (1..=11, false) => Some(hour),
        (12, false) => Some(0),
        (1..=11, true) => Some(hour + 12),
        (12, true) => Some(12),
        _ => None,
    }
}

/// Digits with optional `,` thousands separators (`1,234,567` or `1234567`).
fn parse_size(text: &[u8]) -> Option<u64> {
    let mut groups = text.split(|&b| b == b',');
    let first = groups.next()?;
    let grouped = text.contains(&b',');
    if first.is_empty() || (grouped && first.len() > 3) {
        return None;
    }
    let mut value: u64 = 0;
    for (i, group) in std::iter::once(first).chain(groups).enumerate() {
        if (i > 0 && group.len() != 3) || !group.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for &d in group {
            value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::{parse_list_line, preview, ListContext, ListLine};
    use proptest::prelude::*;

    fn at(y: i64, mo: u32, d: u32, h: u32, mi: u32) -> FileTime {
        let accuracy = TimeAccuracy::Approximate {
            day_only: false,
            year_inferred: false,
        };
        FileTime::from_civil(y, mo, d, h, mi, 0, accuracy).unwrap()
    }

    /// `(line, name, kind, size, time)`.
    type Case = (
        &'static [u8],
        &'static [u8],
        EntryKind,
        Option<u64>,
        FileTime,
    );

    #[test]
    fn real_server_lines() {
        let dir = EntryKind::Dir;
        let file = EntryKind::File;
        let cases: &[Case] = &[
            // IIS, two-digit years
            (
                b"11-21-24  10:00AM       <DIR>          Program Files",
                b"Program Files",
                dir.clone(),
                None,
                at(2024, 11, 21, 10, 0),
            ),
            (
                b"01-02-03  12:00AM                  512 midnight.txt",
                b"midnight.txt",
                file.clone(),
                Some(512),
                at(2003, 1, 2, 0, 0),
            ),
            (
                b"01-02-03  12:30PM                  512 noon.txt",
                b"noon.txt",
                file.clone(),
                Some(512),
                at(2003, 1, 2, 12, 30),
            ),
            (
                b"07-04-99  11:59PM                    0 empty",
                b"empty",
                file.clone(),
                Some(0),
                at(1999, 7, 4, 23, 59),
            ),
            (
                b"07-04-70  01:00am                    1 lower",
                b"lower",
                file.clone(),
                Some(1),
                at(1970, 7, 4, 1, 0),
            ),
            (
                b"07-04-69  01:00pm                    1 y2k69",
                b"y2k69",
                file.clone(),
                Some(1),
                at(2069, 7, 4, 13, 0),
            ),
            // IIS with four-digit years
            (
                b"11-21-2024  03:15PM                12345 report.pdf",
                b"report.pdf",
                file.clone(),
                Some(12_345),
                at(2024, 11, 21, 15, 15),
            ),
            (
                b"02-29-2024  09:05AM       <DIR>          leap day",
                b"leap day",
                dir.clone(),
                None,
                at(2024, 2, 29, 9, 5),
            ),
            // FileZilla Server / Serv-U 24-hour variants, AM/PM in its own column
            (
                b"11-21-24  15:15                   5678 24-hour.txt",
                b"24-hour.txt",
                file.clone(),
                Some(5678),
                at(2024, 11, 21, 15, 15),
            ),
            (
                b"11-21-24  00:00       <dir>          lower dir",
                b"lower dir",
                dir.clone(),
                None,
                at(2024, 11, 21, 0, 0),
            ),
            (
                b"11/21/2024  03:15 PM           1,234,567 slashes.bin",
                b"slashes.bin",
                file.clone(),
                Some(1_234_567),
                at(2024, 11, 21, 15, 15),
            ),
            (
                b"2024-11-21  23:59                  42 iso.txt",
                b"iso.txt",
                file.clone(),
                Some(42),
                at(2024, 11, 21, 23, 59),
            ),
            (
                b"21-11-24  10:00                    7 day-first.txt",
                b"day-first.txt",
                file.clone(),
                Some(7),
                at(2024, 11, 21, 10, 0),
            ),
            // thousands separators and large sizes
            (
                b"11-21-24  10:00AM                1,234 comma",
                b"comma",
                file.clone(),
                Some(1234),
                at(2024, 11, 21, 10, 0),
            ),
            (
                b"11-21-24  10:00AM  18446744073709551615 max",
                b"max",
                file.clone(),
                Some(u64::MAX),
                at(2024, 11, 21, 10, 0),
            ),
            (
                b"11-21-24  10:00AM  18,446,744,073,709,551,615 max",
                b"max",
                file.clone(),
                Some(u64::MAX),
                at(2024, 11, 21, 10, 0),
            ),
            // names with spaces, odd bytes, arrows
            (
                b"11-21-24  10:00AM                    3 a  b  c ",
                b"a  b  c ",
                file.clone(),
                Some(3),
                at(2024, 11, 21, 10, 0),
            ),
            (
                b"11-21-24  10:00AM                    3 caf\xe9 \xff",
                b"caf\xe9 \xff",
                file.clone(),
                Some(3),
                at(2024, 11, 21, 10, 0),
            ),
            (
                b"11-21-24  10:00AM                    3 x -> y",
                b"x -> y",
                file.clone(),
                Some(3),
                at(2024, 11, 21, 10, 0),
            ),
            (
                b"11-21-24\t10:00AM\t<DIR>\ttabs",
                b"tabs",
                dir,
                None,
                at(2024, 11, 21, 10, 0),
            ),
            (
                b"11-21-24  10:00AM                    3 <DIR>",
                b"<DIR>",
                file,
                Some(3),
                at(2024, 11, 21, 10, 0),
            ),
        ];
        for (line, name, kind, size, time) in cases {
            let what = preview(line);
            let e = parse_line(line).unwrap_or_else(|| panic!("unparsed: {what}"));
            assert_eq!(e.name, *name, "{what}");
            assert_eq!(&e.kind, kind, "{what}");
            assert_eq!(e.size, *size, "{what}");
            assert_eq!(e.modified, Some(*time), "{what}");
            assert_eq!(e.permissions, None, "{what}");
        }
    }

    #[test]
    fn unparsed() {
        for line in [
            &b"11-21-24  10:00AM       <DIR>"[..],
            b"11-21-24  10:00AM       <DIR>   ",
            b"11-21-24  10:00AM",
            b"11-21-24",
            b"13-13-24  10:00AM  1 bad month",
            b"02-30-24  10:00AM  1 bad day",
            b"11-21-24  13:00PM  1 bad 12-hour",
            b"11-21-24  00:00AM  1 bad 12-hour",
            b"11-21-24  24:00  1 bad hour",
            b"11-21-24  10:60  1 bad minute",
            b"11-21-24  10:00XM  1 bad suffix",
            b"11-21-24  10  1 no colon",
            b"11-21-24  100:00  1 long hour",
            b"11-21-2  10:00  1 short year",
            b"11-21-124  10:00  1 three-digit year",
            b"11-21-24-1  10:00  1 four parts",
            b"11.21.24  10:00  1 dots",
            b"2024-11-2024  10:00  1 two years",
            b"11-21-24  10:00AM  1,23 bad group",
            b"11-21-24  10:00AM  1234,567 bad group",
            b"11-21-24  10:00AM  ,123 bad group",
            b"11-21-24  10:00AM  1,234, bad group",
            b"11-21-24  10:00AM  18446744073709551616 too big",
            b"11-21-24  10:00AM  12k human",
            b"11-21-24  10:00AM  <JUNCTION> unknown tag",
            b"",
        ] {
            assert_eq!(parse_line(line), None, "{}", preview(line));
        }
    }

    #[test]
    fn through_the_dispatcher() {
        let ctx = ListContext::at(0);
        let line = b"11-21-24  10:00AM       <DIR>          dir\r\n";
        let ListLine::Entry(e) = parse_list_line(line, &ctx) else {
            panic!("not an entry");
        };
        assert_eq!((e.name.as_slice(), e.kind), (&b"dir"[..], EntryKind::Dir));
    }

    proptest! {
        #[test]
        fn generated_lines_round_trip(
            name in proptest::collection::vec(
                any::<u8>().prop_filter("no line end", |b| *b != b'\n' && *b != b'\r'), 1..40),
            size in any::<u64>(),
            month in 1u32..=12,
            day in 1u32..=28,
            year in 1970i64..2070,
            hour in 1u32..=12,
            minute in 0u32..60,
            pm in any::<bool>(),
            pad in 1usize..20,
        ) {
            let name_start = name.iter().position(|&b| b != b' ' && b != b'\t');
            prop_assume!(name_start == Some(0));
            let meridiem = if pm { "PM" } else { "AM" };
            let mut line = format!(
                "{month:02}-{day:02}-{:02}  {hour:02}:{minute:02}{meridiem}{:pad$}{size} ",
                year % 100, ""
            )
            .into_bytes();
            line.extend_from_slice(&name);
            let e = parse_line(&line).unwrap();
            let hour24 = match (hour, pm) { (12, false) => 0, (12, true) => 12, (h, true) => h + 12, (h, false) => h };
            prop_assert_eq!(e.name, name);
            prop_assert_eq!(e.size, Some(size));
            prop_assert_eq!(e.modified, Some(at(year, month, day, hour24, minute)));
        }
    }
}
