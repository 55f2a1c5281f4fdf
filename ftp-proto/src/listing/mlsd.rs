//! MLSD and MLST entry lines (RFC 3659 section 7) and the `time-val` of
//! `modify` facts and MDTM replies (section 2.3).
//!
//! An entry line is `fact=value;fact=value; name`: facts, each ending in `;`,
//! then one space, then the name as raw bytes (which may hold spaces, `;`,
//! `=` or bytes that are not UTF-8). A line with no facts is ` name`.

use super::{is_dot_name, lines, parse_digits, preview, trim_line_end, ListLine};
use super::{Entry, EntryKind, FileTime, TimeAccuracy};

/// Parses an RFC 3659 `time-val`, `YYYYMMDDHHMMSS[.sss...]`, in UTC.
///
/// Fractional digits beyond nanoseconds are dropped. Surrounding ASCII
/// whitespace is ignored. For servers that print `19` followed by the
/// years since 1900 (`19125...` for 2025, an old `tm_year` bug), a
/// 15-digit value starting with `19` is read that way. Anything else that
/// does not fit the grammar, or a field out of range, gives `None`.
///
/// ```
/// use ftp_proto::listing::{parse_time_val, TimeAccuracy};
///
/// let t = parse_time_val(b"20241121100509.25").unwrap();
/// assert_eq!(t.to_civil(), (2024, 11, 21, 10, 5, 9));
/// assert_eq!(t.nanos, 250_000_000);
/// assert_eq!(t.accuracy, TimeAccuracy::Exact);
/// assert!(parse_time_val(b"20241321100509").is_none()); // month 13
/// ```
pub fn parse_time_val(s: &[u8]) -> Option<FileTime> {
    let s = s.trim_ascii();
    let (whole, fraction) = match s.iter().position(|&b| b == b'.') {
        Some(dot) => (&s[..dot], Some(&s[dot + 1..])),
        None => (s, None),
    };
    let (year, rest) = match whole.len() {
        14 => (i64::from(parse_digits(&whole[..4])?), &whole[4..]),
        15 if whole.starts_with(b"19") => {
            (1900 + i64::from(parse_digits(&whole[2..5])?), &whole[5..])
        }
        _ => return None,
    };
    let field = |i: usize| parse_digits(&rest[i..i + 2]);
    let mut time = FileTime::from_civil(
        year,
        field(0)?,
        field(2)?,
        field(4)?,
        field(6)?,
        field(8)?,
        TimeAccuracy::Exact,
    )?;
    if let Some(fraction) = fraction {
        time.nanos = parse_fraction(fraction)?;
    }
    Some(time)
}

/// Parses one MLSD line or MLST entry line into an [`Entry`].
///
/// - Fact names are case-insensitive; unknown facts are ignored.
/// - `type`: `file`, `dir`, `OS.unix=slink[:target]` and `OS.unix=symlink`
///   map to their kinds, any other type (or none) to [`EntryKind::Other`];
///   `cdir` and `pdir` entries, and the names `.` and `..`, give `None`.
/// - `size` (or `sizd` when there is no `size`), `modify`, `perm` (or
///   `unix.mode` when there is no `perm`) fill the entry; a value that does
///   not parse is left out.
/// - The name is everything after the space that ends the facts.
/// - MLST replies indent entry lines by one space: a leading space is
///   dropped when facts follow it; otherwise the line is a fact-less entry
///   ` name`.
///
/// A trailing CR/LF is ignored. A line that fits none of this gives `None`
/// with a `log::warn!`.
///
/// ```
/// use ftp_proto::listing::{parse_mlsd_line, EntryKind};
///
/// let e = parse_mlsd_line(b"Type=OS.unix=slink:/srv/data;Modify=20240102030405; data").unwrap();
/// assert_eq!(e.name, b"data");
/// assert_eq!(e.kind, EntryKind::Symlink { target: Some(b"/srv/data".to_vec()) });
///
/// let e = parse_mlsd_line(b" type=file;size=3; /pub/a b;c.txt").unwrap();
/// assert_eq!(e.name, b"/pub/a b;c.txt");
///
/// assert!(parse_mlsd_line(b"type=cdir;modify=20240102030405; /pub").is_none());
/// ```
pub fn parse_mlsd_line(line: &[u8]) -> Option<Entry> {
    match mlsd_line(line) {
        ListLine::Entry(entry) => Some(entry),
        ListLine::Skip => None,
        ListLine::Unparsed => {
            log::warn!("skipping unreadable MLSD line {}", preview(line));
            None
        }
    }
}

/// Parses a whole MLSD data stream (CRLF or LF line ends), dropping blank
/// lines, `cdir`/`pdir` entries and lines that cannot be read (those with a
/// `log::warn!`).
pub fn parse_mlsd(data: &[u8]) -> Vec<Entry> {
    lines(data)
        .filter(|line| !line.is_empty())
        .filter_map(parse_mlsd_line)
        .collect()
}

/// One MLSD line classified: an entry, a line without one, or unreadable.
fn mlsd_line(line: &[u8]) -> ListLine {
    let line = trim_line_end(line);
    if line.is_empty() {
        return ListLine::Skip;
    }
    let Some((facts, name)) = split_facts(line) else {
        return ListLine::Unparsed;
    };
    if name.is_empty() {
        return ListLine::Unparsed;
    }
    let mut entry = Entry {
        name: name.to_vec(),
        kind: EntryKind::Other,
        size: None,
        modified: None,
        permissions: None,
    };
    let mut sizd = None;
    let mut unix_mode = None;
    for (fact, value) in facts {
        if fact.eq_ignore_ascii_case(b"type") {
            match entry_kind(value) {
                Some(kind) => entry.kind = kind,
                None => return ListLine::Skip,
            }
        } else if fact.eq_ignore_ascii_case(b"size") {
            entry.size = parse_size(value);
        } else if fact.eq_ignore_ascii_case(b"sizd") {
            sizd = parse_size(value);
        } else if fact.eq_ignore_ascii_case(b"modify") {
            entry.modified = parse_time_val(value);
        } else if fact.eq_ignore_ascii_case(b"perm") {
            entry.permissions = Some(String::from_utf8_lossy(value).into_owned());
        } else if fact.eq_ignore_ascii_case(b"unix.mode") {
            unix_mode = Some(String::from_utf8_lossy(value).into_owned());
        }
    }
    if is_dot_name(&entry.name) {
        return ListLine::Skip;
    }
    entry.size = entry.size.or(sizd);
    entry.permissions = entry.permissions.or(unix_mode);
    ListLine::Entry(entry)
}

/// `(fact name, value)` pairs in line order.
type Facts<'a> = Vec<(&'a [u8], &'a [u8])>;

/// Splits a line into its `(fact, value)` pairs and the name; `None` when
/// the part before the first space is not a list of facts.
fn split_facts(line: &[u8]) -> Option<(Facts<'_>, &[u8])> {
    if let Some(rest) = line.strip_prefix(b" ") {
        // MLST indents its entry line; a fact-less MLSD line is " name".
        return Some(split_at_space(rest).unwrap_or((Vec::new(), rest)));
    }
    split_at_space(line)
}

/// `facts SP name`, the facts all well formed.
fn split_at_space(line: &[u8]) -> Option<(Facts<'_>, &[u8])> {
    let space = line.iter().position(|&b| b == b' ')?;
    let facts = parse_facts(&line[..space])?;
    Some((facts, &line[space + 1..]))
}

/// `fact=value;fact=value;`: each fact ends in `;` and has a non-empty name.
fn parse_facts(text: &[u8]) -> Option<Facts<'_>> {
    let body = text.strip_suffix(b";")?;
    body.split(|&b| b == b';')
        .map(|fact| {
            let eq = fact.iter().position(|&b| b == b'=')?;
            let (name, value) = (&fact[..eq], &fact[eq + 1..]);
            (!name.is_empty()).then_some((name, value))
        })
        .collect()
}

/// The kind a `type` fact names; `None` for `cdir` and `pdir`.
fn entry_kind(value: &[u8]) -> Option<EntryKind> {
    let lower = value.to_ascii_lowercase();
    let kind = match lower.as_slice() {
        b"file" => EntryKind::File,
        b"dir" => EntryKind::Dir,
        b"cdir" | b"pdir" => return None,
        _ => {
            let link = ["os.unix=slink", "os.unix=symlink"]
                .iter()
                .find(|prefix| lower.starts_with(prefix.as_bytes()));
            match link {
                Some(prefix) => match &value[prefix.len()..] {
                    [] => EntryKind::Symlink { target: None },
                    [b':', target @ ..] => EntryKind::Symlink {
                        target: (!target.is_empty()).then(|| target.to_vec()),
                    },
                    _ => EntryKind::Other,
                },
                None => EntryKind::Other,
            }
        }
    };
    Some(kind)
}

/// A decimal `size` value.
fn parse_size(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// The nanoseconds of a `.sss...` fraction (without the dot).
fn parse_fraction(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let kept = &digits[..digits.len().min(9)];
    let value = parse_digits(kept)?;
    Some(value * 10u32.pow(9 - kept.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> FileTime {
        FileTime::from_civil(y, mo, d, h, mi, s, TimeAccuracy::Exact).unwrap()
    }

    #[test]
    fn time_val_accepts() {
        let cases: &[(&[u8], FileTime, u32)] = &[
            (b"20241121100509", exact(2024, 11, 21, 10, 5, 9), 0),
            (b"19700101000000", exact(1970, 1, 1, 0, 0, 0), 0),
            (b"20240229235959", exact(2024, 2, 29, 23, 59, 59), 0),
            (
                b"20241121100509.1",
                exact(2024, 11, 21, 10, 5, 9),
                100_000_000,
            ),
            (
                b"20241121100509.123",
                exact(2024, 11, 21, 10, 5, 9),
                123_000_000,
            ),
            (
                b"20241121100509.123456789",
                exact(2024, 11, 21, 10, 5, 9),
                123_456_789,
            ),
            (
                b"20241121100509.1234567891234",
                exact(2024, 11, 21, 10, 5, 9),
                123_456_789,
            ),
            (b" 20241121100509\r\n", exact(2024, 11, 21, 10, 5, 9), 0),
            (b"19801231235960", exact(1980, 12, 31, 23, 59, 60), 0),
            (b"191251121100509", exact(2025, 11, 21, 10, 5, 9), 0),
            (b"00010101000000", exact(1, 1, 1, 0, 0, 0), 0),
        ];
        for (text, time, nanos) in cases {
            let got = parse_time_val(text).unwrap_or_else(|| panic!("{}", preview(text)));
            assert_eq!(got.unix_secs, time.unix_secs, "{}", preview(text));
            assert_eq!(got.nanos, *nanos, "{}", preview(text));
            assert_eq!(got.accuracy, TimeAccuracy::Exact);
        }
    }

    #[test]
    fn time_val_rejects() {
        for text in [
            &b""[..],
            b"2024",
            b"2024112110050",
            b"202411211005091",
            b"20241321100509",
            b"20240001100509",
            b"20241100100509",
            b"20230229100509",
            b"20241131100509",
            b"20241121240509",
            b"20241121106009",
            b"20241121100561",
            b"20241121100509.",
            b"20241121100509.12a",
            b"20241121100509..1",
            b"2024-11-21T10:05",
            b"2024112110050x",
            b"+2024112110050",
            b"20241121 100509",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        ] {
            assert_eq!(parse_time_val(text), None, "{}", preview(text));
        }
    }

    struct Case {
        line: &'static [u8],
        name: &'static [u8],
        kind: EntryKind,
        size: Option<u64>,
        modified: Option<FileTime>,
        perm: Option<&'static str>,
    }

    fn check(case: &Case) {
        let e = parse_mlsd_line(case.line).unwrap_or_else(|| panic!("{}", preview(case.line)));
        let what = preview(case.line);
        assert_eq!(e.name, case.name, "{what}");
        assert_eq!(e.kind, case.kind, "{what}");
        assert_eq!(e.size, case.size, "{what}");
        assert_eq!(e.modified, case.modified, "{what}");
        assert_eq!(e.permissions.as_deref(), case.perm, "{what}");
    }

    #[test]
    fn real_server_lines() {
        let t = exact(2024, 11, 21, 10, 5, 9);
        let cases = [
            // pyftpdlib
            Case {
                line: b"type=file;size=156;perm=r;modify=20241121100509;unix.mode=0644;unix.uid=1000;unix.gid=1000;unique=803g1e; setup.py",
                name: b"setup.py",
                kind: EntryKind::File,
                size: Some(156),
                modified: Some(t),
                perm: Some("r"),
            },
            // vsftpd-style ordering, upper-case fact names
            Case {
                line: b"Type=dir;Modify=20241121100509;Perm=flcdmpe; pub",
                name: b"pub",
                kind: EntryKind::Dir,
                size: None,
                modified: Some(t),
                perm: Some("flcdmpe"),
            },
            // ProFTPD
            Case {
                line: b"modify=20241121100509;perm=adfrw;size=1048576;type=file;unique=FD00U8A0B1;UNIX.group=100;UNIX.groupname=users;UNIX.mode=0644;UNIX.owner=1000;UNIX.ownername=alice; big file.iso\r\n",
                name: b"big file.iso",
                kind: EntryKind::File,
                size: Some(1_048_576),
                modified: Some(t),
                perm: Some("adfrw"),
            },
            Case {
                line: b"modify=20241121100509;perm=adfrw;size=9;type=OS.unix=symlink;unique=FD00U8A0B2;UNIX.mode=0777; latest",
                name: b"latest",
                kind: EntryKind::Symlink { target: None },
                size: Some(9),
                modified: Some(t),
                perm: Some("adfrw"),
            },
            // Pure-FTPd
            Case {
                line: b"type=OS.unix=slink:/home/ftp/real;size=4;modify=20241121100509;UNIX.mode=0777;UNIX.uid=0;UNIX.gid=0;unique=803g2; link",
                name: b"link",
                kind: EntryKind::Symlink { target: Some(b"/home/ftp/real".to_vec()) },
                size: Some(4),
                modified: Some(t),
                perm: Some("0777"),
            },
            Case {
                line: b"type=OS.unix=slink:;size=4; dangling",
                name: b"dangling",
                kind: EntryKind::Symlink { target: None },
                size: Some(4),
                modified: None,
                perm: None,
            },
            // FileZilla Server
            Case {
                line: b"type=dir;modify=20241121100509;perm=cdeflmp; Program Files",
                name: b"Program Files",
                kind: EntryKind::Dir,
                size: None,
                modified: Some(t),
                perm: Some("cdeflmp"),
            },
            // IIS (milliseconds, sizd for a directory)
            Case {
                line: b"type=dir;modify=20241121100509.123;sizd=4096; wwwroot",
                name: b"wwwroot",
                kind: EntryKind::Dir,
                size: Some(4096),
                modified: Some(FileTime { nanos: 123_000_000, ..t }),
                perm: None,
            },
            Case {
                line: b"size=7;sizd=4096;type=file; both",
                name: b"both",
                kind: EntryKind::File,
                size: Some(7),
                modified: None,
                perm: None,
            },
            // Devices and unknown types
            Case {
                line: b"type=OS.unix=chr-1/3;modify=20241121100509; null",
                name: b"null",
                kind: EntryKind::Other,
                size: None,
                modified: Some(t),
                perm: None,
            },
            Case {
                line: b"type=OS.unix=slinky;size=1; odd",
                name: b"odd",
                kind: EntryKind::Other,
                size: Some(1),
                modified: None,
                perm: None,
            },
            // No type fact at all
            Case {
                line: b"size=12;modify=20241121100509; mystery",
                name: b"mystery",
                kind: EntryKind::Other,
                size: Some(12),
                modified: Some(t),
                perm: None,
            },
        ];
        for case in &cases {
            check(case);
        }
    }

    #[test]
    fn names_keep_their_bytes() {
        let cases = [
            Case {
                line: b"type=file;size=1;  leading space",
                name: b" leading space",
                kind: EntryKind::File,
                size: Some(1),
                modified: None,
                perm: None,
            },
            Case {
                line: b"type=file;size=1; a;b=c; d ",
                name: b"a;b=c; d ",
                kind: EntryKind::File,
                size: Some(1),
                modified: None,
                perm: None,
            },
            Case {
                line: b"type=file;size=2; caf\xe9 \xff\xfe.txt",
                name: b"caf\xe9 \xff\xfe.txt",
                kind: EntryKind::File,
                size: Some(2),
                modified: None,
                perm: None,
            },
            Case {
                line: b"type=file;size=1; ...",
                name: b"...",
                kind: EntryKind::File,
                size: Some(1),
                modified: None,
                perm: None,
            },
        ];
        for case in &cases {
            check(case);
        }
    }

    #[test]
    fn leading_space_forms() {
        let cases = [
            // MLST reply line: one space, then facts.
            Case {
                line: b" type=file;size=3;modify=20241121100509; /pub/a.txt",
                name: b"/pub/a.txt",
                kind: EntryKind::File,
                size: Some(3),
                modified: Some(exact(2024, 11, 21, 10, 5, 9)),
                perm: None,
            },
            // Fact-less entries.
            Case {
                line: b" plain",
                name: b"plain",
                kind: EntryKind::Other,
                size: None,
                modified: None,
                perm: None,
            },
            Case {
                line: b" my file",
                name: b"my file",
                kind: EntryKind::Other,
                size: None,
                modified: None,
                perm: None,
            },
            Case {
                line: b"  two spaces",
                name: b" two spaces",
                kind: EntryKind::Other,
                size: None,
                modified: None,
                perm: None,
            },
        ];
        for case in &cases {
            check(case);
        }
    }

    #[test]
    fn bad_values_are_left_out() {
        let e = parse_mlsd_line(b"type=file;size=12x;modify=2024;perm=; f").unwrap();
        assert_eq!(
            (e.size, e.modified, e.permissions.as_deref()),
            (None, None, Some(""))
        );
        let e = parse_mlsd_line(b"type=file;size=99999999999999999999; f").unwrap();
        assert_eq!(e.size, None);
        let e = parse_mlsd_line(b"type=file;size=18446744073709551615; f").unwrap();
        assert_eq!(e.size, Some(u64::MAX));
    }

    #[test]
    fn lines_without_entries() {
        for line in [
            &b"type=cdir;modify=20241121100509; /pub"[..],
            b"type=pdir;modify=20241121100509; /",
            b"Type=CDir; .",
            b"type=dir;modify=20241121100509; .",
            b"type=dir; ..",
            b"",
            b"\r\n",
        ] {
            assert_eq!(mlsd_line(line), ListLine::Skip, "{}", preview(line));
        }
    }

    #[test]
    fn unreadable_lines() {
        for line in [
            &b"type=file;size=3;"[..],
            b"type=file;size=3",
            b"type=file;size=3 name",
            b"type=file;=3; name",
            b"type=file;size; name",
            b"type=file;size=3;\tname",
            b"type=file; ",
            b"justaname",
            b"-rw-r--r-- 1 ftp ftp 3 Nov 21 10:00 name",
            b" ",
        ] {
            assert_eq!(mlsd_line(line), ListLine::Unparsed, "{}", preview(line));
            assert_eq!(parse_mlsd_line(line), None);
        }
    }

    #[test]
    fn whole_stream() {
        let data = b"type=cdir;modify=20241121100509; .\r\n\
            type=pdir;modify=20241121100509; ..\r\n\
            type=file;size=1; one\r\n\
            \r\n\
            garbage\n\
            type=dir; two\n\
            type=file;size=3; three";
        let entries = parse_mlsd(data);
        let names: Vec<&[u8]> = entries.iter().map(|e| e.name.as_slice()).collect();
        assert_eq!(names, [&b"one"[..], b"two", b"three"]);
        assert!(parse_mlsd(b"").is_empty());
    }

    proptest! {
        #[test]
        fn names_round_trip(
            name in proptest::collection::vec(any::<u8>().prop_filter("no line end", |b| *b != b'\n' && *b != b'\r'), 1..64),
            size in any::<u64>(),
        ) {
            prop_assume!(!is_dot_name(&name));
            let mut line = format!("type=file;size={size};modify=20240101000000; ").into_bytes();
            line.extend_from_slice(&name);
            let e = parse_mlsd_line(&line).unwrap();
            prop_assert_eq!(e.name, name);
            prop_assert_eq!(e.size, Some(size));
        }

        #[test]
        fn time_val_round_trip(secs in -62_135_596_800i64..253_402_300_799, nanos in 0u32..1_000_000_000) {
            let t = FileTime { unix_secs: secs, nanos, accuracy: TimeAccuracy::Exact };
            let (y, mo, d, h, mi, s) = t.to_civil();
            let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}.{nanos:09}");
            prop_assert_eq!(parse_time_val(text.as_bytes()), Some(t));
        }
    }
}
