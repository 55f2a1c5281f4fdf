//! Fetching one file: download into a temporary `.NAME.part` beside the
//! final name, resume it with `REST` when the server allows and the remote
//! file is still the one the `.part` was started from (see [`PartOrigin`]),
//! verify the size against the listing, set the mtime from the server's
//! time, and only then rename it into place. The final name never holds a
//! partial file.
//!
//! [`fetch_once`] is one attempt on one session; retries, backoff and events
//! are the caller's (see `sync`). [`FetchError::is_transient`] tells which
//! failures are worth another attempt.

mod local;
mod origin;

pub(crate) use local::fnv1a;
pub use local::{
    ensure_dir, has_size, is_real_dir_path, is_unchanged, link_or_copy, local_path, make_symlink,
    place, prune, remove_any, same_time, set_mtime, system_time, temp_name, Carried,
};
pub use origin::{discard_part, record_name, record_path, resume_point, PartOrigin};

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use ftp_proto::client::Client;
use ftp_proto::{FileTime, Phase};

use crate::interrupt::Interrupt;

/// One file to fetch.
#[derive(Clone, Copy, Debug)]
pub struct FetchTarget<'a> {
    /// The full remote path, raw bytes.
    pub remote: &'a [u8],
    /// Where the file ends up.
    pub dest: &'a Path,
    /// The temporary file it is downloaded into (same directory).
    pub part: &'a Path,
    /// The size the listing gave; checked after the transfer.
    pub size: Option<u64>,
    /// The server's modification time; set on the local file.
    pub modified: Option<&'a FileTime>,
    /// When triggered, the download stops at its next chunk (a local write
    /// error) and its `.part` file stays for a later resume.
    pub interrupt: Option<&'a Interrupt>,
}

/// A file fetched and put in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// Bytes received in this attempt.
    pub received: u64,
    /// The file's final size.
    pub size: u64,
    /// Where the transfer started (non-zero when a `.part` was resumed).
    pub resumed_from: u64,
}

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The server or the connection failed.
    #[error("{0}")]
    Remote(ftp_proto::Error),
    /// The local file could not be written, synced or renamed (disk full,
    /// permissions): permanent for this file.
    #[error("{}: {source}", path.display())]
    Local {
        /// The local path.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The transfer ended (with its final reply) before the listed size.
    #[error("short file: got {got} of {expected} bytes")]
    Short {
        /// Bytes the local file holds.
        got: u64,
        /// Bytes the listing promised.
        expected: u64,
    },
    /// The server sent more than the listed size: the file changed since it
    /// was listed.
    #[error("file grew while fetched: got {got} bytes, listing said {expected}")]
    Long {
        /// Bytes the local file holds.
        got: u64,
        /// Bytes the listing promised.
        expected: u64,
    },
}

impl FetchError {
    /// Whether another attempt may succeed: dropped connections, timeouts,
    /// `4yz` replies, broken sessions and size mismatches. A `5yz` refusal
    /// (`550` no such file) and local errors are permanent.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Remote(e) => {
                !e.is_permanent() && !matches!(e, ftp_proto::Error::InvalidArgument { .. })
            }
            FetchError::Local { .. } => false,
            FetchError::Short { .. } | FetchError::Long { .. } => true,
        }
    }

    fn local(path: &Path, source: io::Error) -> FetchError {
        FetchError::Local {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// One attempt at fetching `target` on `client`.
///
/// An existing `.part` is resumed from its length when the server offers
/// `REST STREAM`, the part is shorter than the listed size and its origin
/// record gives exactly the remote path, size and time (value and accuracy)
/// listed now ([`resume_point`]). Otherwise it is started again from 0, its
/// new record written before the first byte. When the server refuses the
/// restart, the transfer starts again from 0 on the same session. The
/// record is removed once the file is in place. `on_bytes` is called with
/// each chunk's size.
pub fn fetch_once(
    client: &mut Client,
    target: &FetchTarget<'_>,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<Fetched, FetchError> {
    let origin = PartOrigin::new(target.remote, target.size, target.modified);
    let rest_ok = client.features().map_err(FetchError::Remote)?.rest_stream();
    let mut offset = if rest_ok {
        resume_point(target.part, &origin)
    } else {
        0
    };
    loop {
        let file = open_part(target.part, offset, &origin)
            .map_err(|e| FetchError::local(target.part, e))?;
        let mut sink = Writeback::new(file, offset, target.interrupt);
        let mut seen = offset;
        let result =
            client.retr_expecting(target.remote, offset, target.size, &mut sink, &mut |p| {
                on_bytes(p.bytes.saturating_sub(seen));
                seen = seen.max(p.bytes);
            });
        let file = sink.file;
        let received = match result {
            Ok(n) => n,
            Err(e) if offset > 0 && restart_refused(&e) && client.is_reusable() => {
                log::debug!("restart refused ({e}); fetching from the start");
                offset = 0;
                continue;
            }
            Err(e) if matches!(e.phase(), Some(Phase::LocalWrite)) => {
                return Err(FetchError::local(
                    target.part,
                    io::Error::other(e.to_string()),
                ));
            }
            Err(e) => return Err(FetchError::Remote(e)),
        };
        let got = offset + received;
        let on_disk = file
            .metadata()
            .map_err(|e| FetchError::local(target.part, e))?
            .len();
        if on_disk != got {
            let why = format!("wrote {got} bytes but the file holds {on_disk}");
            return Err(FetchError::local(target.part, io::Error::other(why)));
        }
        match target.size {
            Some(expected) if got < expected => return Err(FetchError::Short { got, expected }),
            Some(expected) if got > expected => return Err(FetchError::Long { got, expected }),
            _ => {}
        }
        if let Some(m) = target.modified {
            if let Err(e) = set_mtime(&file, m) {
                // The bytes are right; a wrong time only costs a fetch next run.
                log::warn!("cannot set the mtime of {}: {e}", target.part.display());
            }
        }
        drop(file);
        place(target.part, target.dest).map_err(|e| FetchError::local(target.dest, e))?;
        if let Err(e) = remove_any(&record_path(target.part)) {
            // Harmless: a record without its part is never used, and the
            // clean-up at the end of the walk removes it.
            log::debug!("cannot remove the record of {}: {e}", target.part.display());
        }
        return Ok(Fetched {
            received,
            size: got,
            resumed_from: offset,
        });
    }
}

/// Bytes written to a file between two writeback starts.
const WRITEBACK_EVERY: u64 = 8 * 1024 * 1024;

/// A file being downloaded that starts the kernel's writeback of every
/// [`WRITEBACK_EVERY`] bytes as soon as they are written (Linux
/// `sync_file_range(SYNC_FILE_RANGE_WRITE)`, which does not wait). The
/// `syncfs` before the new copy is swapped in then finds most of a large
/// download on disk already, and the page cache does not fill with dirty
/// pages.
pub(crate) struct Writeback<'a> {
    file: File,
    interrupt: Option<&'a Interrupt>,
    /// Where the next writeback range starts.
    flushed: u64,
    /// Bytes in the file so far.
    written: u64,
}

impl<'a> Writeback<'a> {
    pub(crate) fn new(file: File, offset: u64, interrupt: Option<&'a Interrupt>) -> Writeback<'a> {
        Writeback {
            file,
            interrupt,
            flushed: offset,
            written: offset,
        }
    }

    #[cfg(target_os = "linux")]
    fn start_writeback(&mut self) {
        use std::os::fd::AsRawFd;
        let (Ok(start), Ok(len)) = (
            libc::off64_t::try_from(self.flushed),
            libc::off64_t::try_from(self.written - self.flushed),
        ) else {
            return;
        };
        // SAFETY: a valid open descriptor and a range of it; the call only
        // queues writeback and touches no memory of ours.
        let _ = unsafe {
            libc::sync_file_range(
                self.file.as_raw_fd(),
                start,
                len,
                libc::SYNC_FILE_RANGE_WRITE,
            )
        };
        self.flushed = self.written;
    }

    #[cfg(not(target_os = "linux"))]
    fn start_writeback(&mut self) {
        self.flushed = self.written;
    }
}

impl io::Write for Writeback<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.interrupt.is_some_and(Interrupt::is_set) {
            return Err(io::Error::other("interrupted"));
        }
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.flushed >= WRITEBACK_EVERY {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Whether an error at offset > 0 means the server will not restart there:
/// `REST` refused, or `RETR` refusing the offset (some servers answer 554
/// "invalid REST parameter" only at RETR).
fn restart_refused(e: &ftp_proto::Error) -> bool {
    match e {
        ftp_proto::Error::Refused { command, .. }
        | ftp_proto::Error::Unexpected { command, .. } => {
            *command == "REST"
                || (*command == "RETR" && e.code().is_some_and(|c| c == 554 || c == 501))
        }
        _ => false,
    }
}

/// Opens the temporary file: truncated at `offset` and positioned there.
/// At 0 it is a new `.part` of `origin`: a new file (whatever had its name
/// is removed, so nothing is written through a link or into a file shared
/// with another copy), then its record written, so no byte is ever in it
/// without the record of where it came from. At an offset (see
/// [`resume_point`]: a file of its own) it is opened without following a
/// link.
pub(crate) fn open_part(path: &Path, offset: u64, origin: &PartOrigin) -> io::Result<File> {
    if offset == 0 {
        remove_any(path)?;
        let file = File::options().write(true).create_new(true).open(path)?;
        origin.write(path)?;
        return Ok(file);
    }
    let mut file = File::options()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    file.set_len(offset)?;
    file.seek(SeekFrom::Start(offset))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ftp_proto::reply::Reply;
    use std::fs;

    fn refused(command: &'static str, code: u16) -> ftp_proto::Error {
        ftp_proto::Error::Refused {
            command,
            reply: Reply::single(code, "no").unwrap(),
        }
    }

    #[test]
    fn classification() {
        assert!(!FetchError::Remote(refused("RETR", 550)).is_transient());
        assert!(FetchError::Remote(refused("RETR", 450)).is_transient());
        assert!(FetchError::Remote(ftp_proto::Error::Closed {
            phase: Phase::DataRead
        })
        .is_transient());
        assert!(FetchError::Short {
            got: 1,
            expected: 2
        }
        .is_transient());
        assert!(!FetchError::local(Path::new("x"), io::Error::other("disk full")).is_transient());
        assert!(restart_refused(&refused("REST", 502)));
        assert!(restart_refused(&refused("RETR", 554)));
        assert!(!restart_refused(&refused("RETR", 550)));
    }

    #[test]
    fn writeback_passes_every_byte_through_and_starts_writeback_as_it_goes() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut w = Writeback::new(File::create(&path).unwrap(), 0, None);
        let chunk: Vec<u8> = (0..=250u8).cycle().take(65_521).collect();
        let mut expected = Vec::new();
        while expected.len() < 20 * 1024 * 1024 {
            w.write_all(&chunk).unwrap();
            expected.extend_from_slice(&chunk);
        }
        assert_eq!(w.written, expected.len() as u64);
        assert!(w.flushed >= 2 * WRITEBACK_EVERY, "{}", w.flushed);
        assert!(w.written - w.flushed < WRITEBACK_EVERY);
        drop(w);
        assert!(fs::read(&path).unwrap() == expected);

        // A resumed download counts from its offset.
        let w = Writeback::new(File::open(&path).unwrap(), 1000, None);
        assert_eq!((w.flushed, w.written), (1000, 1000));
    }

    #[test]
    fn open_part_truncates_at_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join(".f.part");
        let origin = PartOrigin::new(b"/f", Some(20), None);
        fs::write(&part, b"0123456789").unwrap();
        let f = open_part(&part, 4, &origin).unwrap();
        assert_eq!(f.metadata().unwrap().len(), 4);
        assert_eq!(PartOrigin::read(&part), None, "a resume keeps the record");
        drop(f);
        let f = open_part(&part, 0, &origin).unwrap();
        assert_eq!(f.metadata().unwrap().len(), 0);
        assert_eq!(
            PartOrigin::read(&part),
            Some(origin),
            "a new part is recorded"
        );
    }
}
