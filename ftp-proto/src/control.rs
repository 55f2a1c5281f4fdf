//! The control connection: sends command lines and reads replies with a
//! deadline, feeding [`crate::reply::parse`] from a buffer.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::error::{Error, Phase, Result};
use crate::reply::{parse, Limits, Reply, Status};

pub(crate) struct Control {
    stream: TcpStream,
    buf: Vec<u8>,
    limits: Limits,
}

impl Control {
    pub(crate) fn new(stream: TcpStream, limits: Limits) -> Control {
        Control {
            stream,
            buf: Vec::with_capacity(1024),
            limits,
        }
    }

    pub(crate) fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Whether bytes the server sent are waiting, unread, in the buffer.
    pub(crate) fn has_unread(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Writes one command line (already validated and encoded).
    pub(crate) fn send(&mut self, line: &[u8], timeout: Duration) -> Result<()> {
        self.stream
            .set_write_timeout(Some(nonzero(timeout)))
            .map_err(|e| Error::io(Phase::ControlWrite, e))?;
        self.stream
            .write_all(line)
            .map_err(|e| Error::io(Phase::ControlWrite, e))
    }

    /// Reads one reply, waiting at most `timeout` in all.
    pub(crate) fn read_reply(&mut self, phase: Phase, timeout: Duration) -> Result<Reply> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(reply) = self.take_buffered()? {
                return Ok(reply);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout { phase });
            }
            self.stream
                .set_read_timeout(Some(nonzero(left)))
                .map_err(|e| Error::io(phase, e))?;
            self.fill(phase)?;
        }
    }

    /// A reply already complete in the buffer, if any, without reading.
    pub(crate) fn take_buffered(&mut self) -> Result<Option<Reply>> {
        match parse(&self.buf, &self.limits)? {
            Status::Complete((reply, used)) => {
                self.buf.drain(..used);
                log::debug!("< {}", reply.first_line());
                Ok(Some(reply))
            }
            Status::Partial => Ok(None),
        }
    }

    /// Reads whatever the server has sent without blocking; `Ok(true)` when
    /// some bytes arrived.
    pub(crate) fn poll(&mut self, phase: Phase) -> Result<bool> {
        self.stream
            .set_nonblocking(true)
            .map_err(|e| Error::io(phase, e))?;
        let got = self.fill(phase);
        self.stream
            .set_nonblocking(false)
            .map_err(|e| Error::io(phase, e))?;
        match got {
            Ok(()) => Ok(true),
            Err(Error::Timeout { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn fill(&mut self, phase: Phase) -> Result<()> {
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(Error::Closed { phase }),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(phase, e)),
            }
        }
    }

    pub(crate) fn shutdown(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// Socket timeouts of zero mean "forever" to std; never pass zero.
pub(crate) fn nonzero(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}
