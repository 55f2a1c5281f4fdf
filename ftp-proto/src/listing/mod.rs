//! Directory listings: the [`Entry`] model and parsers for MLSD facts
//! (RFC 3659), Unix `ls -l` and MS-DOS/IIS LIST formats.
//!
//! Parsers never panic and never fail a whole listing: a line that cannot be
//! read is skipped with a `log::warn!`.
//!
//! - [`parse_mlsd`] / [`parse_mlsd_line`]: machine-readable MLSD and MLST
//!   lines; times are exact UTC ([`parse_time_val`]).
//! - [`parse_list`] / [`parse_list_line`]: human-readable LIST output, the
//!   format detected per line (Unix `ls -l` or MS-DOS/IIS). Those times are
//!   the server's local wall-clock time; a [`ListContext`] supplies the
//!   current date used to guess the year `ls -l` leaves out.
//!
//! ```
//! use ftp_proto::listing::{parse_list, parse_mlsd, EntryKind, ListContext};
//!
//! let mlsd = b"type=file;size=1024;modify=20241121100000; report.pdf\r\n\
//!              type=dir;modify=20241120093000; old stuff\r\n";
//! let entries = parse_mlsd(mlsd);
//! assert_eq!(entries[0].name, b"report.pdf");
//! assert_eq!(entries[0].size, Some(1024));
//! assert_eq!(entries[1].kind, EntryKind::Dir);
//!
//! let list = b"total 8\r\n\
//!              -rw-r--r--    1 ftp      ftp          1024 Nov 21 10:00 report.pdf\r\n\
//!              11-21-24  09:30AM       <DIR>          old stuff\r\n";
//! let entries = parse_list(list, &ListContext::now());
//! assert_eq!(entries.len(), 2);
//! assert_eq!(entries[1].name, b"old stuff");
//! ```

mod dos;
mod entry;
pub mod format;
mod mlsd;
mod unix;

pub use entry::{Entry, EntryKind, FileTime, TimeAccuracy};
pub use mlsd::{parse_mlsd, parse_mlsd_line, parse_time_val};

use std::time::{SystemTime, UNIX_EPOCH};

/// The current date a LIST parser uses to guess the year that `ls -l` omits
/// for recent files (`Nov 21 10:00`).
///
/// The rule: of the previous, the current and the next year, the one that
/// puts the listed date nearest to now wins. So a date more than about six
/// months in the future belongs to the previous year, and a date just past
/// New Year's Eve (a server ahead in time zone) to the next one.
///
/// ```
/// use ftp_proto::listing::{parse_list_line, ListContext, ListLine};
///
/// // 2026-01-05 00:00:00 UTC
/// let ctx = ListContext::at(1_767_571_200);
/// let line = b"-rw-r--r-- 1 ftp ftp 10 Dec 30 10:00 notes.txt";
/// let ListLine::Entry(entry) = parse_list_line(line, &ctx) else { panic!() };
/// assert_eq!(entry.modified.unwrap().to_civil().0, 2025);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListContext {
    now_unix_secs: i64,
}

impl ListContext {
    /// A context whose "now" is `now_unix_secs` seconds since the epoch.
    pub fn at(now_unix_secs: i64) -> ListContext {
        ListContext { now_unix_secs }
    }

    /// A context whose "now" is the system clock.
    pub fn now() -> ListContext {
        let secs = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
        };
        ListContext::at(secs)
    }

    /// The "now" of this context, in seconds since the epoch.
    pub fn now_unix_secs(&self) -> i64 {
        self.now_unix_secs
    }
}

/// What one LIST line turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListLine {
    /// A file, directory, link or other entry.
    Entry(Entry),
    /// A line that carries no entry: blank, `total N`, `.` or `..`.
    Skip,
    /// A line in no format the parser knows, or with a bad size or date.
    Unparsed,
}

/// Parses one LIST line, detecting its format: a line starting with a digit
/// is read as MS-DOS/IIS (`11-21-24  10:00AM  <DIR>  name`), any other as
/// Unix `ls -l`. A trailing CR/LF is ignored.
///
/// ```
/// use ftp_proto::listing::{parse_list_line, EntryKind, ListContext, ListLine};
///
/// let ctx = ListContext::now();
/// let line = b"lrwxrwxrwx 1 root root 7 Nov 21  2024 latest -> v1.2.3";
/// let ListLine::Entry(e) = parse_list_line(line, &ctx) else { panic!() };
/// assert_eq!(e.name, b"latest");
/// assert_eq!(e.kind, EntryKind::Symlink { target: Some(b"v1.2.3".to_vec()) });
/// assert_eq!(parse_list_line(b"total 42", &ctx), ListLine::Skip);
/// assert_eq!(parse_list_line(b"garbage", &ctx), ListLine::Unparsed);
/// ```
pub fn parse_list_line(line: &[u8], ctx: &ListContext) -> ListLine {
    let line = trim_line_end(line);
    let Some(&first) = line.first() else {
        return ListLine::Skip;
    };
    if line.iter().all(|b| b.is_ascii_whitespace()) || is_total_line(line) {
        return ListLine::Skip;
    }
    let parsed = if first.is_ascii_digit() {
        dos::parse_line(line)
    } else {
        unix::parse_line(line, ctx)
    };
    match parsed {
        Some(entry) if is_dot_name(&entry.name) => ListLine::Skip,
        Some(entry) => ListLine::Entry(entry),
        None => ListLine::Unparsed,
    }
}

/// Parses whole LIST data (CRLF or LF line ends). Lines that are not entries
/// are dropped; lines that cannot be read are dropped with a `log::warn!`.
pub fn parse_list(data: &[u8], ctx: &ListContext) -> Vec<Entry> {
    let mut entries = Vec::new();
    for line in lines(data) {
        match parse_list_line(line, ctx) {
            ListLine::Entry(entry) => entries.push(entry),
            ListLine::Skip => {}
            ListLine::Unparsed => {
                log::warn!("skipping unreadable LIST line {}", preview(line));
            }
        }
    }
    entries
}

/// The lines of listing data: split on LF, a CR before it removed.
pub(crate) fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// `line` without the CR, LF or CRLF that may end it.
pub(crate) fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether `name` is `.` or `..`.
pub(crate) fn is_dot_name(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

/// The value of 1 to 9 ASCII digits (`None` for anything else).
pub(crate) fn parse_digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        s.iter()
            .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0')),
    )
}

/// A short, escaped, lossy rendering of a line for log messages.
pub(crate) fn preview(line: &[u8]) -> String {
    const MAX: usize = 120;
    let shown = &line[..line.len().min(MAX)];
    let mut text = format!("{:?}", String::from_utf8_lossy(shown));
    if line.len() > MAX {
        text.push_str(" (truncated)");
    }
    text
}

/// `total 123` (the block count `ls -l` prints first).
fn is_total_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"total") else {
        return false;
    };
    let rest = rest.trim_ascii();
    !rest.is_empty()
        && rest
            .iter()
            .all(|b| b.is_ascii_digit() || b".,KMGkmg".contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_763_719_200; // 2025-11-21 10:00:00 UTC

    #[test]
    fn skip_lines() {
        let ctx = ListContext::at(NOW);
        for line in [
            &b""[..],
            b"\r\n",
            b"   ",
            b"total 0",
            b"total 1234\r",
            b"total 12K",
            b"drwxr-xr-x 2 ftp ftp 4096 Nov 21 10:00 .",
            b"drwxr-xr-x 2 ftp ftp 4096 Nov 21 10:00 ..",
            b"11-21-25  10:00AM       <DIR>          .",
            b"11-21-25  10:00AM       <DIR>          ..",
        ] {
            assert_eq!(
                parse_list_line(line, &ctx),
                ListLine::Skip,
                "{}",
                preview(line)
            );
        }
    }

    #[test]
    fn unparsed_lines() {
        let ctx = ListContext::at(NOW);
        for line in [
            &b"hello world"[..],
            b"total",
            b"totally not a line",
            b"-rw-r--r-- 1 ftp ftp 12 Nov 21 10:00",
            b"-rw-r--r-- 1 ftp ftp 12 Nov 21 10:00 ",
            b"12-25-24",
            b"\xff\xfe\x00",
        ] {
            assert_eq!(
                parse_list_line(line, &ctx),
                ListLine::Unparsed,
                "{}",
                preview(line)
            );
        }
    }

    #[test]
    fn parse_list_mixes_formats_and_line_ends() {
        let data = b"total 3\n\
            -rw-r--r--   1 ftp ftp  5 Nov 20 09:00 unix.txt\r\n\
            this line is junk\n\
            11-20-25  09:00PM                   17 dos file.txt\r\n\
            \n\
            drwxr-xr-x   2 ftp ftp  4096 Jan  1  2020 old";
        let entries = parse_list(data, &ListContext::at(NOW));
        let names: Vec<&[u8]> = entries.iter().map(|e| e.name.as_slice()).collect();
        assert_eq!(names, [&b"unix.txt"[..], b"dos file.txt", b"old"]);
        assert_eq!(entries[0].size, Some(5));
        assert_eq!(entries[1].size, Some(17));
        assert!(entries[2].is_dir());
    }

    #[test]
    fn helpers() {
        assert_eq!(
            lines(b"a\r\nb\nc\r").collect::<Vec<_>>(),
            [&b"a"[..], b"b", b"c"]
        );
        assert_eq!(trim_line_end(b"x\r\n"), b"x");
        assert_eq!(trim_line_end(b"x \n"), b"x ");
        assert_eq!(parse_digits(b"0042"), Some(42));
        assert_eq!(parse_digits(b"999999999"), Some(999_999_999));
        assert_eq!(parse_digits(b"1234567890"), None);
        assert_eq!(parse_digits(b""), None);
        assert_eq!(parse_digits(b"1a"), None);
        assert!(preview(&[b'x'; 500]).ends_with("(truncated)"));
        assert_eq!(preview(b"a\tb"), "\"a\\tb\"");
    }

    #[test]
    fn context_now_is_recent() {
        // 2024-01-01: any machine running this test is later than that.
        assert!(ListContext::now().now_unix_secs() > 1_704_067_200);
        assert_eq!(ListContext::at(-5).now_unix_secs(), -5);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300), now in any::<i64>()) {
            let ctx = ListContext::at(now);
            let _ = parse_list(&data, &ctx);
            let _ = parse_list_line(&data, &ctx);
            let _ = parse_mlsd(&data);
            let _ = parse_mlsd_line(&data);
            let _ = parse_time_val(&data);
        }

        #[test]
        fn listing_like_bytes_never_panic(
            data in proptest::collection::vec(
                prop_oneof![
                    Just(b' '), Just(b'-'), Just(b':'), Just(b';'), Just(b'='), Just(b'\n'),
                    Just(b'd'), Just(b'l'), Just(b'r'), Just(b'w'), Just(b'x'), Just(b'9'),
                    Just(b'1'), Just(b','), Just(b'>'), Just(b'M'), Just(b'P'), Just(b'<'),
                    b'0'..=b'9',
                ],
                0..200,
            ),
            now in any::<i64>(),
        ) {
            let ctx = ListContext::at(now);
            let _ = parse_list(&data, &ctx);
            let _ = parse_mlsd(&data);
            let _ = parse_time_val(&data);
        }
    }
}
