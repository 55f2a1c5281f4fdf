//! The control connection: bounded command-line reading with a deadline,
//! a non-blocking peek for `ABOR` during transfers, and reply writing.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ftp_proto::reply::{Reply, ReplyCode};

use crate::sys;

/// What [`Control::read_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// A command line, copied into the caller's buffer without its line end.
    Line,
    /// A line longer than the limit; it was discarded up to its line end.
    TooLong,
    /// The client closed the connection.
    Eof,
    /// No complete line arrived before the deadline.
    TimedOut,
}

/// A control connection with its read buffer.
pub(crate) struct Control {
    stream: TcpStream,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    max_line: usize,
    /// Set while the rest of an over-long line is being thrown away.
    discarding: bool,
    /// The read timeout currently set on the socket, to skip redundant calls.
    read_timeout: Option<Duration>,
}

impl Control {
    /// Wraps an accepted control connection; lines longer than `max_line`
    /// bytes (line end excluded) are refused.
    pub(crate) fn new(stream: TcpStream, max_line: usize) -> Control {
        let max_line = max_line.max(16);
        Control {
            stream,
            // Room for the longest line plus CR LF.
            buf: vec![0; max_line + 2].into_boxed_slice(),
            start: 0,
            end: 0,
            max_line,
            discarding: false,
            read_timeout: None,
        }
    }

    /// The underlying stream.
    pub(crate) fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Reads the next command line into `out`, waiting at most `timeout` for
    /// all of it (a slow trickle of bytes does not extend the deadline).
    pub(crate) fn read_line(&mut self, out: &mut Vec<u8>, timeout: Duration) -> io::Result<Input> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(input) = self.take_line(out) {
                return Ok(input);
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Ok(Input::TimedOut);
            }
            self.set_read_timeout(remaining)?;
            match self.stream.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(Input::Eof),
                Ok(n) => self.end += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(Input::TimedOut)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Returns a complete line if one has arrived, without blocking.
    pub(crate) fn poll_line(&mut self, out: &mut Vec<u8>) -> io::Result<Option<Input>> {
        if let Some(input) = self.take_line(out) {
            return Ok(Some(input));
        }
        match sys::recv_nonblocking(&self.stream, &mut self.buf[self.end..])? {
            None => Ok(None),
            Some(0) => Ok(Some(Input::Eof)),
            Some(n) => {
                self.end += n;
                Ok(self.take_line(out))
            }
        }
    }

    /// Sends a reply.
    pub(crate) fn send(&mut self, reply: &Reply) -> io::Result<()> {
        self.stream.write_all(&reply.encode())
    }

    /// Sends a single-line reply.
    pub(crate) fn reply(&mut self, code: u16, text: impl AsRef<[u8]>) -> io::Result<()> {
        let reply = Reply::new(code_of(code)?, vec![text.as_ref().to_vec()]);
        self.send(&reply)
    }

    /// Sends a multi-line reply: `code-first`, the middle lines, `code last`.
    pub(crate) fn reply_lines(&mut self, code: u16, lines: Vec<Vec<u8>>) -> io::Result<()> {
        let reply = Reply::new(code_of(code)?, lines);
        self.send(&reply)
    }

    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        if self.read_timeout != Some(timeout) {
            self.stream.set_read_timeout(Some(timeout))?;
            self.read_timeout = Some(timeout);
        }
        Ok(())
    }

    /// Takes one complete line from the buffer, or makes room for more input.
    fn take_line(&mut self, out: &mut Vec<u8>) -> Option<Input> {
        let pending = &self.buf[self.start..self.end];
        if let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let line = &pending[..i];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let too_long = self.discarding || line.len() > self.max_line;
            if !too_long {
                out.clear();
                out.extend_from_slice(strip_telnet(line));
            }
            self.start += i + 1;
            self.discarding = false;
            return Some(if too_long {
                Input::TooLong
            } else {
                Input::Line
            });
        }
        if self.discarding || pending.len() > self.max_line + 1 {
            // No line end within the limit: drop what we have, keep dropping
            // until the line ends.
            self.discarding = true;
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        None
    }
}

/// Drops Telnet control bytes (`IAC IP IAC DM` ahead of an urgent `ABOR`)
/// from the start of a line. A verb is ASCII, so any byte `>= 0xF0` before
/// it can only be Telnet.
fn strip_telnet(line: &[u8]) -> &[u8] {
    let skip = line.iter().take_while(|&&b| b >= 0xF0).count();
    &line[skip..]
}

fn code_of(code: u16) -> io::Result<ReplyCode> {
    ReplyCode::new(code).ok_or_else(|| io::Error::other(format!("invalid reply code {code}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn pair(max_line: usize) -> (TcpStream, Control) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, Control::new(server, max_line))
    }

    #[test]
    fn reads_lines_split_across_packets() {
        let (mut client, mut control) = pair(64);
        let mut line = Vec::new();
        let t = Duration::from_secs(5);
        client.write_all(b"USER a\r\nPA").unwrap();
        assert_eq!(control.read_line(&mut line, t).unwrap(), Input::Line);
        assert_eq!(line, b"USER a");
        client.write_all(b"SS b c\nNOOP\r\n").unwrap();
        assert_eq!(control.read_line(&mut line, t).unwrap(), Input::Line);
        assert_eq!(line, b"PASS b c");
        assert_eq!(control.read_line(&mut line, t).unwrap(), Input::Line);
        assert_eq!(line, b"NOOP");
        client.write_all(b"\xff\xf4\xffABOR\r\n").unwrap();
        assert_eq!(control.read_line(&mut line, t).unwrap(), Input::Line);
        assert_eq!(line, b"ABOR");
        drop(client);
        assert_eq!(control.read_line(&mut line, t).unwrap(), Input::Eof);
    }

    #[test]
    fn over_long_lines_are_discarded_whole() {
        let (mut client, mut control) = pair(16);
        let mut line = Vec::new();
        let t = Duration::from_secs(5);
        let exact = format!("RETR {}\r\n", "x".repeat(11));
        client.write_all(exact.as_bytes()).unwrap();
        assert_eq!(control.read_line(&mut line, t).unwrap(), Input::Line);
        assert_eq!(line.len(), 16);
        let long = format!("RETR {}\r\nNOOP\r\n", "y".repeat(5000));
        client.write_all(long.as_bytes()).unwrap();
        assert_eq!(control.read_line(&mut line, t).unwrap(), Input::TooLong);
        assert_eq!(control.read_line(&mut line, t).unwrap(), Input::Line);
        assert_eq!(line, b"NOOP");
    }

    #[test]
    fn times_out_without_a_complete_line() {
        let (mut client, mut control) = pair(64);
        let mut line = Vec::new();
        client.write_all(b"NOO").unwrap();
        let t = Duration::from_millis(100);
        assert_eq!(control.read_line(&mut line, t).unwrap(), Input::TimedOut);
        client.write_all(b"P\r\n").unwrap();
        assert_eq!(
            control
                .read_line(&mut line, Duration::from_secs(5))
                .unwrap(),
            Input::Line
        );
        assert_eq!(line, b"NOOP");
    }

    #[test]
    fn polls_without_blocking() {
        let (mut client, mut control) = pair(64);
        let mut line = Vec::new();
        assert_eq!(control.poll_line(&mut line).unwrap(), None);
        client.write_all(b"ABOR\r\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let got = loop {
            if let Some(input) = control.poll_line(&mut line).unwrap() {
                break input;
            }
            assert!(Instant::now() < deadline, "ABOR never arrived");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(got, Input::Line);
        assert_eq!(line, b"ABOR");
    }

    #[test]
    fn writes_replies() {
        let (mut client, mut control) = pair(64);
        control.reply(200, "OK").unwrap();
        control
            .reply_lines(
                211,
                vec![b"Features:".to_vec(), b" EPSV".to_vec(), b"End".to_vec()],
            )
            .unwrap();
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        while got.len() < 39 {
            let n = client.read(&mut buf).unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"200 OK\r\n211-Features:\r\n EPSV\r\n211 End\r\n");
    }
}
