//! Where the bytes of a `.part` file came from.
//!
//! A partial download is only worth resuming when the remote file is still
//! the one it was started from. A time comparison between the `.part` and
//! the listing cannot tell that: a file replaced by one with an older time
//! (`cp -p`, `rsync -t`, `tar x`) would be joined to the old bytes. So when
//! a `.part` is started, before its first byte, its origin is written to a
//! small record beside it (`.NAME.part.origin`): the remote path and the
//! size and modification time (value and accuracy) the listing gave. The
//! `.part` is resumed only when the current listing gives exactly the same
//! origin; a missing, unreadable or foreign record means starting from 0.
//!
//! ```
//! use ftp_mirror::fetch::{record_name, resume_point, PartOrigin};
//! use ftp_proto::{FileTime, TimeAccuracy};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let part = dir.path().join(".a.iso.part");
//! let time = FileTime { unix_secs: 1_700_000_000, nanos: 0, accuracy: TimeAccuracy::Exact };
//! let origin = PartOrigin::new(b"/pub/a.iso", Some(10), Some(&time));
//! origin.write(&part).unwrap();
//! std::fs::write(&part, b"12345").unwrap();
//! assert_eq!(resume_point(&part, &origin), 5);
//!
//! // The same name, a different file (same size, older time): start again.
//! let older = FileTime { unix_secs: 1_600_000_000, ..time };
//! assert_eq!(resume_point(&part, &PartOrigin::new(b"/pub/a.iso", Some(10), Some(&older))), 0);
//! assert_eq!(record_name(b"pub/.a.iso.part"), b"pub/.a.iso.part.origin");
//! ```

use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use ftp_proto::{FileTime, TimeAccuracy};

use super::local::{fnv1a, remove_any, NAME_MAX};

/// What is appended to a `.part` file's name to name its record.
const RECORD_SUFFIX: &[u8] = b".origin";

/// The first line of a record: the format and its version.
const HEADER: &str = "ftp-mirror part origin 1";

/// The last line of a record: a record cut short by a crash lacks it.
const TRAILER: &str = "end";

/// The longest record that is read; anything longer is not one of ours.
const MAX_RECORD: u64 = 16 * 1024;

/// The remote file a `.part` holds the beginning of, as it was listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartOrigin {
    /// The full remote path, raw bytes.
    pub remote: Vec<u8>,
    /// The size the listing (or `SIZE`) gave.
    pub size: Option<u64>,
    /// The modification time the listing (or `MDTM`) gave, with its
    /// accuracy.
    pub modified: Option<FileTime>,
}

impl PartOrigin {
    /// The origin of a download of `remote` listed with this size and time.
    pub fn new(remote: &[u8], size: Option<u64>, modified: Option<&FileTime>) -> PartOrigin {
        PartOrigin {
            remote: remote.to_vec(),
            size,
            modified: modified.copied(),
        }
    }

    /// Whether this origin tells one version of a file from another: both
    /// the size and the time are known. Without them nothing is resumed.
    pub fn is_identifying(&self) -> bool {
        self.size.is_some() && self.modified.is_some()
    }

    /// Writes the record of the `.part` file at `part`, replacing any
    /// earlier one. Write it before the first byte of a new `.part`.
    ///
    /// Whatever was at the record's name is removed first and the record is
    /// a new file: opening an existing one would write through a link left
    /// there (or into a file hard-linked with another copy).
    pub fn write(&self, part: &Path) -> io::Result<()> {
        let path = record_path(part);
        remove_any(&path)?;
        let mut file = fs::File::options()
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all(&self.encode())
    }

    /// Reads the record of the `.part` file at `part`. `None` when there is
    /// none, it cannot be read, or it is not a complete record this version
    /// understands.
    pub fn read(part: &Path) -> Option<PartOrigin> {
        let path = record_path(part);
        let meta = fs::symlink_metadata(&path).ok()?;
        if !meta.file_type().is_file() || meta.len() > MAX_RECORD {
            return None;
        }
        PartOrigin::decode(&fs::read(&path).ok()?)
    }

    /// The record's text: one field per line, the path in hex.
    fn encode(&self) -> Vec<u8> {
        let size = self.size.map_or_else(|| "-".to_string(), |s| s.to_string());
        let time = self.modified.as_ref().map_or_else(
            || "-".to_string(),
            |t| {
                let accuracy = match t.accuracy {
                    TimeAccuracy::Exact => "exact".to_string(),
                    TimeAccuracy::Approximate {
                        day_only,
                        year_inferred,
                    } => format!(
                        "approximate {} {}",
                        u8::from(day_only),
                        u8::from(year_inferred)
                    ),
                    // A kind this version does not know: recorded so that
                    // the record is refused and the part never resumed.
                    _ => "unknown".to_string(),
                };
                format!("{} {} {accuracy}", t.unix_secs, t.nanos)
            },
        );
        format!(
            "{HEADER}\nremote {}\nsize {size}\nmodified {time}\n{TRAILER}\n",
            hex(&self.remote)
        )
        .into_bytes()
    }

    /// Parses [`encode`](PartOrigin::encode)'s text; anything else is `None`.
    fn decode(bytes: &[u8]) -> Option<PartOrigin> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.strip_suffix('\n')?.split('\n');
        if lines.next()? != HEADER {
            return None;
        }
        let remote = unhex(lines.next()?.strip_prefix("remote ")?)?;
        let size = match lines.next()?.strip_prefix("size ")? {
            "-" => None,
            s => Some(s.parse().ok()?),
        };
        let modified = match lines.next()?.strip_prefix("modified ")? {
            "-" => None,
            t => Some(decode_time(t)?),
        };
        if lines.next()? != TRAILER || lines.next().is_some() {
            return None;
        }
        Some(PartOrigin {
            remote,
            size,
            modified,
        })
    }
}

/// How far the `.part` at `part` can be resumed for a download whose
/// origin is now `origin`: its length when its record gives exactly that
/// origin, the origin identifies the file (size and time known) and the
/// `.part` is a regular file shorter than the size; otherwise 0.
pub fn resume_point(part: &Path, origin: &PartOrigin) -> u64 {
    let Some(size) = origin.size.filter(|_| origin.is_identifying()) else {
        return 0;
    };
    let Ok(meta) = fs::symlink_metadata(part) else {
        return 0;
    };
    let len = meta.len();
    // A `.part` with another name for its bytes (a hard link shared with a
    // copy) is never written into: start again in a new file.
    if !meta.file_type().is_file() || meta.nlink() != 1 || len == 0 || len >= size {
        return 0;
    }
    match PartOrigin::read(part) {
        Some(recorded) if recorded == *origin => len,
        Some(recorded) => {
            log::debug!(
                "{}: the remote file changed since it was started ({recorded:?} then, {origin:?} now); starting again",
                part.display()
            );
            0
        }
        None => {
            log::debug!(
                "{}: no readable origin record; starting again",
                part.display()
            );
            0
        }
    }
}

/// Removes a `.part` file and its record; either missing is fine.
pub fn discard_part(part: &Path) -> io::Result<()> {
    let record = remove_any(&record_path(part));
    remove_any(part)?;
    record
}

/// The path of the record of the `.part` file at `part` (same directory).
pub fn record_path(part: &Path) -> PathBuf {
    let name = part.file_name().map(OsStrExt::as_bytes).unwrap_or_default();
    part.with_file_name(std::ffi::OsStr::from_bytes(&record_leaf(name)))
}

/// The record name of a `.part` name, or of a relative path whose last
/// component is one (`a/.x.part` → `a/.x.part.origin`). When the name with
/// the suffix would be too long, a hashed `.ftp-mirror-HASH.origin` is used.
pub fn record_name(part: &[u8]) -> Vec<u8> {
    let cut = part.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    let mut out = part[..cut].to_vec();
    out.extend_from_slice(&record_leaf(&part[cut..]));
    out
}

/// The record name of a `.part` file name.
fn record_leaf(name: &[u8]) -> Vec<u8> {
    if name.len() + RECORD_SUFFIX.len() <= NAME_MAX {
        let mut out = name.to_vec();
        out.extend_from_slice(RECORD_SUFFIX);
        out
    } else {
        let mut out = format!(".ftp-mirror-{:016x}", fnv1a(name)).into_bytes();
        out.extend_from_slice(RECORD_SUFFIX);
        out
    }
}

/// `secs nanos exact` or `secs nanos approximate DAY_ONLY YEAR_INFERRED`.
fn decode_time(text: &str) -> Option<FileTime> {
    let mut words = text.split(' ');
    let unix_secs = words.next()?.parse().ok()?;
    let nanos = words.next()?.parse().ok()?;
    let accuracy = match words.next()? {
        "exact" => TimeAccuracy::Exact,
        "approximate" => TimeAccuracy::Approximate {
            day_only: flag(words.next()?)?,
            year_inferred: flag(words.next()?)?,
        },
        _ => return None,
    };
    if words.next().is_some() {
        return None;
    }
    Some(FileTime {
        unix_secs,
        nanos,
        accuracy,
    })
}

fn flag(word: &str) -> Option<bool> {
    match word {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(secs: i64, accuracy: TimeAccuracy) -> FileTime {
        FileTime {
            unix_secs: secs,
            nanos: 0,
            accuracy,
        }
    }

    const LIST_MINUTE: TimeAccuracy = TimeAccuracy::Approximate {
        day_only: false,
        year_inferred: true,
    };

    #[test]
    fn records_round_trip() {
        let cases = [
            PartOrigin::new(b"/pub/a.iso", Some(10), Some(&time(5, TimeAccuracy::Exact))),
            PartOrigin::new(b"\xff raw/\n", Some(0), Some(&time(-3, LIST_MINUTE))),
            PartOrigin::new(b"", None, None),
            PartOrigin {
                modified: Some(FileTime {
                    nanos: 123_000_000,
                    ..time(1_700_000_000, TimeAccuracy::Exact)
                }),
                ..PartOrigin::new(b"x", None, None)
            },
        ];
        for origin in cases {
            assert_eq!(PartOrigin::decode(&origin.encode()), Some(origin.clone()));
        }
    }

    #[test]
    fn damaged_or_foreign_records_are_refused() {
        let good = PartOrigin::new(b"/f", Some(10), Some(&time(5, TimeAccuracy::Exact))).encode();
        for cut in 0..good.len() {
            assert_eq!(PartOrigin::decode(&good[..cut]), None, "cut at {cut}");
        }
        let text = String::from_utf8(good).unwrap();
        for bad in [
            text.replace("origin 1", "origin 2"),
            text.replace("remote 2f66", "remote 2f6"),
            text.replace("remote 2f66", "remote zz66"),
            text.replace("size 10", "size ten"),
            text.replace("exact", "precise"),
            text.replace("exact", "exact 1"),
            text.replace("end\n", "end\nmore\n"),
        ] {
            assert_eq!(PartOrigin::decode(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(PartOrigin::decode(b"\xff\xfe"), None);
    }

    #[test]
    fn a_part_is_resumed_only_for_its_own_origin() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join(".f.part");
        let exact = time(1_600_000_000, TimeAccuracy::Exact);
        let origin = PartOrigin::new(b"/f", Some(10), Some(&exact));
        assert_eq!(resume_point(&part, &origin), 0, "no part");
        fs::write(&part, b"12345").unwrap();
        assert_eq!(resume_point(&part, &origin), 0, "no record");
        origin.write(&part).unwrap();
        assert_eq!(resume_point(&part, &origin), 5);

        let other = |o: PartOrigin| resume_point(&part, &o);
        assert_eq!(other(PartOrigin::new(b"/g", Some(10), Some(&exact))), 0);
        assert_eq!(other(PartOrigin::new(b"/f", Some(11), Some(&exact))), 0);
        let older = time(1_500_000_000, TimeAccuracy::Exact);
        assert_eq!(other(PartOrigin::new(b"/f", Some(10), Some(&older))), 0);
        let same_value_listed = time(1_600_000_000, LIST_MINUTE);
        assert_eq!(
            other(PartOrigin::new(b"/f", Some(10), Some(&same_value_listed))),
            0,
            "a different accuracy is a different origin"
        );
        assert_eq!(other(PartOrigin::new(b"/f", Some(10), None)), 0);
        assert_eq!(other(PartOrigin::new(b"/f", Some(5), Some(&exact))), 0);

        let unknown = PartOrigin::new(b"/f", None, Some(&exact));
        unknown.write(&part).unwrap();
        assert_eq!(resume_point(&part, &unknown), 0, "no size: no resume");

        origin.write(&part).unwrap();
        fs::write(record_path(&part), b"garbage").unwrap();
        assert_eq!(resume_point(&part, &origin), 0, "unreadable record");
    }

    #[test]
    fn record_names_fit_and_follow_their_part() {
        assert_eq!(record_name(b".x.part"), b".x.part.origin");
        assert_eq!(record_name(b"a/b/.x.part"), b"a/b/.x.part.origin");
        let long = [b'y'; 250];
        let hashed = record_name(&long);
        assert!(hashed.len() <= NAME_MAX && hashed.ends_with(RECORD_SUFFIX));
        assert_eq!(hashed, record_name(&long), "stable");
        assert_ne!(hashed, record_name(&[b'z'; 250]));
        assert_eq!(
            record_path(Path::new("/d/.x.part")),
            Path::new("/d/.x.part.origin")
        );
    }

    #[test]
    fn discarding_removes_both() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join(".f.part");
        fs::write(&part, b"123").unwrap();
        PartOrigin::new(b"/f", None, None).write(&part).unwrap();
        discard_part(&part).unwrap();
        assert!(!part.exists() && !record_path(&part).exists());
        discard_part(&part).unwrap();
    }
}
