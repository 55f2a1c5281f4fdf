//! Listings without a data connection: `STAT <dir>` and pipelined `MLST`.
//!
//! Every MLSD or LIST opens a data connection, which costs one round trip
//! for EPSV, one for the connection's handshake and one for the data: three
//! in all. `STAT <dir>` returns the same `ls -l` lines inside its reply on the
//! control connection, in one round trip. Those lines carry LIST's
//! approximate times (to the minute, or only the day for old files), so the
//! exact facts come from `MLST <path>` per file; MLST commands need no data
//! connection either and are written many at a time, so a batch of them also
//! costs one round trip.
//!
//! The control connection carries every other reply too, so these readers
//! are strict: a line that is not a listing entry is an error, an MLST reply
//! must name the path asked, and a sentinel after each STAT proves the
//! replies are still in step with the commands. Servers send names raw
//! (RFC 959), so a name or link target holding CR LF can fake the end of a
//! STAT reply, and fake the replies that follow, to hide the entries after
//! it. The sentinel is `REST <random number>`, whose `350` reply echoes the
//! number: something a name planted in advance cannot contain.

use crate::client::{refusal, Client};
use crate::error::{Error, Phase, Result};
use crate::listing::{parse_list_line, parse_mlsd_line, Entry, ListContext, ListLine};
use crate::reply::{Reply, ReplyClass};

/// At most this many commands (MLST, STAT and sentinels) are written
/// before their replies are read.
pub const MLST_BATCH: usize = 128;
/// And at most this many bytes of them: far below any socket buffer, so the
/// write never waits for the server, which may be waiting for this side to
/// read its replies.
const MLST_BATCH_BYTES: usize = 8 * 1024;

/// The replies to one [`Client::list_batch`], in the order asked.
#[derive(Debug)]
pub struct BatchReplies {
    /// One item per MLST path: its facts, or the server's refusal.
    pub mlst: Vec<Result<Entry>>,
    /// One item per STAT directory: its entries, or why not.
    pub stat: Vec<Result<Vec<Entry>>>,
}

/// One command of a batch.
#[derive(Clone)]
enum Cmd<'a> {
    Mlst(&'a [u8]),
    Stat(&'a [u8]),
    /// The sentinel, `REST <nonce>`: its reply must be one line, `350`,
    /// with the nonce in it.
    Sentinel(String),
    /// `REST 0`, which ends a batch: the restart offset is cleared again.
    Reset,
}

impl Cmd<'_> {
    fn sentinel() -> Cmd<'static> {
        Cmd::Sentinel(nonce().to_string())
    }

    /// The command as it is sent.
    fn wire(&self) -> (&'static str, Option<&[u8]>) {
        match self {
            Cmd::Mlst(p) => ("MLST", Some(p)),
            Cmd::Stat(d) => ("STAT", Some(d)),
            Cmd::Sentinel(n) => ("REST", Some(n.as_bytes())),
            Cmd::Reset => ("REST", Some(b"0")),
        }
    }
}

impl Client {
    /// STAT with a path: the `ls -l` listing of a directory, read from the
    /// control connection (no data connection). `.` and `..` are left out.
    ///
    /// A single-line reply (the server ignored the path and sent its
    /// status) and a line that cannot be read as a listing entry are
    /// [`Error::BadReply`]: the caller should list that directory another
    /// way. Globbing servers expand `*`, `?` and `[...]` in the path, so
    /// callers should not send names holding them. See
    /// [`Client::list_batch`] for how the reply is checked.
    pub fn stat_list(&mut self, dir: impl AsRef<[u8]>) -> Result<Vec<Entry>> {
        let mut replies = self.list_batch(&[], &[dir.as_ref().to_vec()])?;
        replies
            .stat
            .pop()
            .unwrap_or_else(|| Err(Error::Other("no STAT reply".into())))
    }

    /// MLST for every path, written in pipelined batches; see
    /// [`Client::list_batch`].
    pub fn mlst_many(&mut self, paths: &[Vec<u8>]) -> Result<Vec<Result<Entry>>> {
        Ok(self.list_batch(paths, &[])?.mlst)
    }

    /// MLST for every path in `mlst` and STAT for every directory in
    /// `stat`, written many at a time: one round trip per [`MLST_BATCH`]
    /// commands instead of one per command. Each item of the result is that
    /// command's outcome; a refusal for one path (`550`: it vanished) is
    /// that item's error and the session stays usable.
    ///
    /// Every STAT and every write ends with a sentinel, `REST` with a random
    /// number, whose reply must be a single-line `350` that echoes the
    /// number; the batch ends with `REST 0`, which clears the restart
    /// offset again. A name holding CR LF can fake the end of a STAT reply
    /// and the replies after it (RFC 959 servers send names raw), but not a
    /// number drawn after the name was made: the replies would then be out
    /// of step with the commands, and the sentinel sees it. MLST replies
    /// must also name the path asked. Out of step, the whole call fails and
    /// the session is broken: nothing read in it is returned. A server
    /// whose `350` does not echo the offset fails every batch; callers then
    /// list another way.
    ///
    /// The outer error is the session's: a lost connection, a timeout, a
    /// reply too large for the limits, or replies out of step.
    pub fn list_batch(&mut self, mlst: &[Vec<u8>], stat: &[Vec<u8>]) -> Result<BatchReplies> {
        for p in mlst {
            crate::command::encode("MLST", Some(p))?;
        }
        for d in stat {
            crate::command::encode("STAT", Some(d))?;
        }
        let cmds: Vec<Cmd<'_>> = mlst
            .iter()
            .map(|p| Cmd::Mlst(p))
            .chain(stat.iter().flat_map(|d| [Cmd::Stat(d), Cmd::sentinel()]))
            .collect();
        let mut out = BatchReplies {
            mlst: Vec::with_capacity(mlst.len()),
            stat: Vec::with_capacity(stat.len()),
        };
        let mut rest = &cmds[..];
        while !rest.is_empty() {
            let (head, tail) = rest.split_at(chunk_len(rest));
            rest = tail;
            // Every write ends with a sentinel, the last one with REST 0.
            let mut chunk = head.to_vec();
            if !matches!(chunk.last(), Some(Cmd::Sentinel(_))) {
                chunk.push(Cmd::sentinel());
            }
            if rest.is_empty() {
                chunk.push(Cmd::Reset);
            }
            let wire: Vec<_> = chunk.iter().map(Cmd::wire).collect();
            self.send_many(&wire)?;
            let read = (|| -> Result<()> {
                for cmd in &chunk {
                    let reply = self.read(Phase::ControlRead)?;
                    match cmd {
                        Cmd::Mlst(p) => out.mlst.push(self.mlst_reply(p, reply)?),
                        Cmd::Stat(_) => out.stat.push(stat_entries(reply)),
                        Cmd::Sentinel(n) => sentinel(n, reply)?,
                        // In step (the sentinel before it said so).
                        Cmd::Reset if reply.code().get() == 350 => {}
                        Cmd::Reset => return Err(refusal("REST", reply)),
                    }
                }
                Ok(())
            })();
            if let Err(e) = read {
                self.mark_broken(format!("listing over the control connection: {e}"));
                return Err(e);
            }
        }
        Ok(out)
    }

    /// One MLST reply of a batch.
    fn mlst_reply(&mut self, path: &[u8], reply: Reply) -> Result<Result<Entry>> {
        match reply.class() {
            ReplyClass::Completion => {}
            ReplyClass::TransientNegative | ReplyClass::PermanentNegative => {
                if self.broken.is_some() {
                    // 421: the server is going away.
                    return Err(refusal("MLST", reply));
                }
                return Ok(Err(refusal("MLST", reply)));
            }
            _ => return Err(refusal("MLST", reply)),
        }
        let entry = mlst_entry(reply)?;
        if last_component(&entry.name) != last_component(path) {
            return Err(Error::Other(format!(
                "MLST {:?} answered for {:?}: replies out of step",
                String::from_utf8_lossy(path),
                entry.name_lossy()
            )));
        }
        Ok(Ok(entry))
    }
}

/// Checks a sentinel's reply: one line, `350`, echoing `n` as a whole
/// number.
fn sentinel(n: &str, reply: Reply) -> Result<()> {
    let text = reply.lines()[0].as_slice();
    let echoed = text.windows(n.len()).enumerate().any(|(i, w)| {
        w == n.as_bytes()
            && !text[..i].last().is_some_and(u8::is_ascii_digit)
            && !text.get(i + n.len()).is_some_and(u8::is_ascii_digit)
    });
    if reply.code().get() == 350 && reply.lines().len() == 1 && echoed {
        return Ok(());
    }
    Err(Error::BadReply {
        command: "REST",
        reason: "replies out of step with the commands (a name with CR or LF?), \
                 or a server whose 350 does not echo the offset"
            .into(),
        reply,
    })
}

/// A number nobody can guess in advance, for a sentinel: 15 digits, small
/// enough for any server's REST.
fn nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the operating system's randomness.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    100_000_000_000_000 + h.finish() % 900_000_000_000_000
}

/// How many of `cmds` go in one write: at most [`MLST_BATCH`] commands
/// and about [`MLST_BATCH_BYTES`] bytes, never splitting a STAT from its
/// sentinel.
fn chunk_len(cmds: &[Cmd<'_>]) -> usize {
    let mut n = 0;
    let mut bytes = 0;
    while n < cmds.len() && n < MLST_BATCH && (n == 0 || bytes < MLST_BATCH_BYTES) {
        bytes += match &cmds[n] {
            Cmd::Mlst(p) | Cmd::Stat(p) => p.len() + 7,
            Cmd::Sentinel(_) | Cmd::Reset => 22,
        };
        n += 1;
    }
    if matches!(cmds.get(n), Some(Cmd::Sentinel(_))) {
        n += 1;
    }
    n
}

/// The entries of a STAT reply; see [`Client::stat_list`].
fn stat_entries(reply: Reply) -> Result<Vec<Entry>> {
    let lines = reply.lines();
    if !reply.is_completion() {
        return Err(refusal("STAT", reply));
    }
    if !(211..=213).contains(&reply.code().get()) || lines.len() < 2 {
        return Err(Error::BadReply {
            command: "STAT",
            reason: "not a directory listing".into(),
            reply,
        });
    }
    let ctx = ListContext::now();
    let mut entries = Vec::with_capacity(lines.len() - 2);
    for line in &lines[1..lines.len() - 1] {
        // Some servers indent the listing by one space.
        let line = line.strip_prefix(b" ").unwrap_or(line);
        match parse_list_line(line, &ctx) {
            ListLine::Entry(entry) => entries.push(entry),
            ListLine::Skip => {}
            ListLine::Unparsed => {
                let reason = format!(
                    "unreadable listing line {:?}",
                    String::from_utf8_lossy(&line[..line.len().min(80)])
                );
                return Err(Error::BadReply {
                    command: "STAT",
                    reason,
                    reply,
                });
            }
        }
    }
    Ok(entries)
}

/// The entry in a positive MLST reply: its one fact line, indented by a
/// space, between the first and the last line. The entry's name is the
/// path as the server wrote it.
pub(crate) fn mlst_entry(reply: Reply) -> Result<Entry> {
    let lines = reply.lines();
    let found = lines
        .iter()
        .skip(1)
        .take(lines.len().saturating_sub(2))
        .find_map(|l| parse_mlsd_line(l.strip_prefix(b" ").unwrap_or(l)));
    found.ok_or_else(|| Error::BadReply {
        command: "MLST",
        reason: "no fact line".into(),
        reply,
    })
}

/// The part of a path after its last `/` (trailing slashes ignored).
fn last_component(path: &[u8]) -> &[u8] {
    let mut p = path;
    while p.len() > 1 && p.ends_with(b"/") {
        p = &p[..p.len() - 1];
    }
    match p.iter().rposition(|&b| b == b'/') {
        Some(i) => &p[i + 1..],
        None => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_components() {
        assert_eq!(last_component(b"/a/b/c.txt"), b"c.txt");
        assert_eq!(last_component(b"c.txt"), b"c.txt");
        assert_eq!(last_component(b"./c"), b"c");
        assert_eq!(last_component(b"/a/dir/"), b"dir");
        assert_eq!(last_component(b"/"), b"");
    }
}
