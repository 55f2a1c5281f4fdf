//! Transfers: one call drives the data connection, the `1yz`, the stream,
//! the close and the final `2yz`.
//!
//! A negative reply sent instead of `150` is read before anything waits on
//! the data socket, so the session is never left hanging on it. A final
//! reply that arrives before the data's end (`226` in the same segment as
//! `150`) is kept and used once the data has been read.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::client::{check, refusal, Client, TransferType};
use crate::config::DataMode;
use crate::control::nonzero;
use crate::error::{Error, Phase, Result};
use crate::listing::{parse_list, parse_mlsd, Entry, ListContext};
use crate::passive::{eprt_arg, parse_epsv, parse_pasv, pasv_target, port_arg};
use crate::reply::{Reply, ReplyClass};

/// How far a transfer has come, given to progress callbacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the file so far, counting from its start (a resumed
    /// transfer starts at its offset).
    pub bytes: u64,
    /// The file's full size when known (the caller's hint, or the
    /// `(N bytes)` of the `150` reply).
    pub expected: Option<u64>,
}

/// A transfer whose data connection is open and whose `1yz` was read.
struct Started {
    data: TcpStream,
    expected: Option<u64>,
    early_final: Option<Reply>,
}

/// Where the data connection will come from.
enum Pending {
    Connected(TcpStream),
    Listening(TcpListener),
}

impl Client {
    /// RETR: downloads `path` from byte `offset` (sending REST when it is
    /// not zero) into `sink`, calling `progress` after every chunk. Returns
    /// the number of bytes received.
    ///
    /// The caller checks the length against what it expected: a server may
    /// close the data connection early and still say `226`.
    pub fn retr(
        &mut self,
        path: impl AsRef<[u8]>,
        offset: u64,
        sink: &mut dyn Write,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64> {
        self.retr_expecting(path, offset, None, sink, progress)
    }

    /// Like [`Client::retr`], with the file's size when the caller knows it
    /// (from a listing), for progress reports.
    pub fn retr_expecting(
        &mut self,
        path: impl AsRef<[u8]>,
        offset: u64,
        size: Option<u64>,
        sink: &mut dyn Write,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64> {
        let started = self.start_download(path.as_ref(), offset)?;
        let expected = size.or(if offset == 0 { started.expected } else { None });
        let Started {
            mut data,
            early_final,
            ..
        } = started;
        let mut buf = vec![0u8; self.config.buffer_size.max(4096)];
        let mut got = 0u64;
        let copied = read_to_end(&mut data, self.config.timeouts.data, &mut buf, |chunk| {
            sink.write_all(chunk).map_err(|e| Error::Io {
                phase: Phase::LocalWrite,
                source: e,
            })?;
            got += chunk.len() as u64;
            progress(Progress {
                bytes: offset + got,
                expected,
            });
            Ok(())
        });
        match copied {
            Ok(()) => {
                drop(data);
                self.finish_transfer("RETR", early_final)?;
                Ok(got)
            }
            Err(e) => Err(self.abandon(data, e)),
        }
    }

    /// RETR as a [`Read`] stream. The transfer's completion cannot be
    /// forgotten: reading to the end reads the final reply (a negative one
    /// becomes a read error), [`RetrStream::finish`] returns it, and dropping
    /// the stream early aborts the transfer.
    pub fn retr_stream(&mut self, path: impl AsRef<[u8]>, offset: u64) -> Result<RetrStream<'_>> {
        let started = self.start_download(path.as_ref(), offset)?;
        let timeout = self.config.timeouts.data;
        if let Err(e) = started.data.set_read_timeout(Some(nonzero(timeout))) {
            let err = self.abandon(started.data, Error::io(Phase::DataRead, e));
            return Err(err);
        }
        Ok(RetrStream {
            client: self,
            expected: if offset == 0 { started.expected } else { None },
            data: Some(started.data),
            early_final: started.early_final,
            final_reply: None,
            failure: None,
            bytes: 0,
        })
    }

    /// STOR: uploads everything `src` gives to `path`. Returns the bytes sent.
    pub fn stor(
        &mut self,
        path: impl AsRef<[u8]>,
        src: &mut dyn Read,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64> {
        self.upload("STOR", path.as_ref(), src, progress)
    }

    /// APPE: appends everything `src` gives to `path`.
    pub fn appe(
        &mut self,
        path: impl AsRef<[u8]>,
        src: &mut dyn Read,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64> {
        self.upload("APPE", path.as_ref(), src, progress)
    }

    /// LIST: the raw lines of a directory listing.
    pub fn list(&mut self, path: Option<&[u8]>) -> Result<Vec<Vec<u8>>> {
        Ok(split_lines(&self.listing("LIST", path)?))
    }

    /// NLST: the names in a directory, one per line.
    pub fn nlst(&mut self, path: Option<&[u8]>) -> Result<Vec<Vec<u8>>> {
        Ok(split_lines(&self.listing("NLST", path)?))
    }

    /// LIST, parsed as Unix `ls -l` or MS-DOS lines. Lines that cannot be
    /// parsed are skipped with a warning.
    pub fn list_entries(&mut self, path: Option<&[u8]>) -> Result<Vec<Entry>> {
        let data = self.listing("LIST", path)?;
        Ok(parse_list(&data, &ListContext::now()))
    }

    /// MLSD (RFC 3659): a machine-readable listing with exact UTC times.
    pub fn mlsd(&mut self, path: Option<&[u8]>) -> Result<Vec<Entry>> {
        let data = self.listing("MLSD", path)?;
        Ok(parse_mlsd(&data))
    }

    /// MLST (RFC 3659): the facts of one file or directory, over the control
    /// connection.
    pub fn mlst(&mut self, path: impl AsRef<[u8]>) -> Result<Entry> {
        let reply = self.expect("MLST", Some(path.as_ref()), ReplyClass::Completion)?;
        crate::stat::mlst_entry(reply)
    }

    // ---- shared machinery ----

    fn start_download(&mut self, path: &[u8], offset: u64) -> Result<Started> {
        crate::command::encode("RETR", Some(path))?;
        self.set_type(TransferType::Binary)?;
        if offset > 0 {
            self.rest(offset)?;
        }
        self.start("RETR", Some(path))
    }

    fn upload(
        &mut self,
        verb: &'static str,
        path: &[u8],
        src: &mut dyn Read,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64> {
        crate::command::encode(verb, Some(path))?;
        self.set_type(TransferType::Binary)?;
        let Started {
            mut data,
            early_final,
            ..
        } = self.start(verb, Some(path))?;
        if let Some(reply) = early_final {
            // The server ended the transfer before we sent anything.
            drop(data);
            return check(verb, reply, ReplyClass::Completion).map(|_| 0);
        }
        let mut buf = vec![0u8; self.config.buffer_size.max(4096)];
        let mut sent = 0u64;
        let timeout = self.config.timeouts.data;
        let copied = (|| -> Result<()> {
            data.set_write_timeout(Some(nonzero(timeout)))
                .map_err(|e| Error::io(Phase::DataWrite, e))?;
            loop {
                let n = match src.read(&mut buf) {
                    Ok(0) => return Ok(()),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(Error::Io {
                            phase: Phase::LocalRead,
                            source: e,
                        })
                    }
                };
                data.write_all(&buf[..n])
                    .map_err(|e| Error::io(Phase::DataWrite, e))?;
                sent += n as u64;
                progress(Progress {
                    bytes: sent,
                    expected: None,
                });
            }
        })();
        match copied {
            Ok(()) => {
                let _ = data.flush();
                let _ = data.shutdown(std::net::Shutdown::Write);
                drop(data);
                self.finish_transfer(verb, None)?;
                Ok(sent)
            }
            Err(e) => Err(self.abandon(data, e)),
        }
    }

    fn listing(&mut self, verb: &'static str, path: Option<&[u8]>) -> Result<Vec<u8>> {
        crate::command::encode(verb, path)?;
        let Started {
            mut data,
            early_final,
            ..
        } = self.start(verb, path)?;
        let limit = self.config.max_listing;
        let mut out = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        let read = read_to_end(&mut data, self.config.timeouts.data, &mut buf, |chunk| {
            if out.len() + chunk.len() > limit {
                return Err(Error::Other(format!(
                    "{verb} listing larger than {limit} bytes"
                )));
            }
            out.extend_from_slice(chunk);
            Ok(())
        });
        match read {
            Ok(()) => {
                drop(data);
                self.finish_transfer(verb, early_final)?;
                Ok(out)
            }
            Err(e) => Err(self.abandon(data, e)),
        }
    }

    /// Opens the data connection and sends `verb`, up to its `1yz`.
    fn start(&mut self, verb: &'static str, arg: Option<&[u8]>) -> Result<Started> {
        self.check_usable()?;
        let mode = self.config.data_mode;
        let epsv = mode == DataMode::Passive && !self.epsv_refused;
        if epsv && self.config.pipeline && self.pipeline_ok {
            match self.start_pipelined(verb, arg)? {
                Some(started) => return Ok(started),
                None => log::debug!("pipelined {verb} not accepted; sending commands one by one"),
            }
        }
        let pending = self.open_data()?;
        self.send(verb, arg)?;
        let first = self.read(Phase::ControlRead)?;
        if !first.is_preliminary() {
            return Err(refusal(verb, first));
        }
        let (data, early) = match pending {
            Pending::Connected(s) => (s, None),
            Pending::Listening(l) => self.accept(verb, l)?,
        };
        self.after_preliminary(verb, data, &first, early)
    }

    /// EPSV and the transfer command in one write. `Ok(None)` when the
    /// server did not take it that way (the caller falls back to sending
    /// them one by one, and this session stops pipelining).
    fn start_pipelined(
        &mut self,
        verb: &'static str,
        arg: Option<&[u8]>,
    ) -> Result<Option<Started>> {
        self.send_many(&[("EPSV", None), (verb, arg)])?;
        let epsv = self.read(Phase::ControlRead)?;
        let data = if epsv.code().get() == 229 {
            let port = epsv_port(&epsv).ok_or_else(|| Error::BadReply {
                command: "EPSV",
                reason: "no port in 229 reply".into(),
                reply: epsv.clone(),
            });
            match port.and_then(|p| self.connect_data(SocketAddr::new(self.peer.ip(), p))) {
                Ok(s) => Some(s),
                Err(e) => {
                    // The server still holds the transfer command: unknown state.
                    self.mark_broken(format!("data connection failed: {e}"));
                    return Err(e);
                }
            }
        } else {
            if epsv.class() == ReplyClass::PermanentNegative {
                self.epsv_refused = true;
            }
            None
        };
        let first = self.read(Phase::ControlRead)?;
        match (data, first.is_preliminary()) {
            (Some(data), true) => self.after_preliminary(verb, data, &first, None).map(Some),
            (None, true) => {
                self.mark_broken("transfer started without a data connection");
                Err(Error::Unexpected {
                    command: verb,
                    reply: first,
                })
            }
            (_, false) => {
                let code = first.code().get();
                if epsv.code().get() != 229 && epsv.is_negative() && !self.epsv_refused {
                    return Err(refusal("EPSV", epsv));
                }
                if epsv.code().get() != 229 || code == 425 || code == 503 {
                    // No data connection in place for the command: the
                    // server does not take pipelined commands (or refused
                    // EPSV). Not the file's fault: try the plain way.
                    if code == 425 || code == 503 {
                        self.pipeline_ok = false;
                    }
                    return Ok(None);
                }
                Err(refusal(verb, first))
            }
        }
    }

    fn after_preliminary(
        &mut self,
        verb: &'static str,
        data: TcpStream,
        first: &Reply,
        early: Option<Reply>,
    ) -> Result<Started> {
        let expected = size_in_150(&first.lines()[0]);
        // 150 and the final reply may share a segment: 550 means the
        // transfer failed; 226 means the data is all sent already.
        let early_final = match early {
            Some(reply) => Some(reply),
            None => {
                let buffered = self.ctrl.take_buffered();
                self.note(buffered)?
            }
        };
        if let Some(reply) = &early_final {
            if reply.is_negative() {
                drop(data);
                if reply.code().get() == 421 {
                    self.mark_broken(format!("server closing: {reply}"));
                }
                return Err(refusal(verb, reply.clone()));
            }
        }
        Ok(Started {
            data,
            expected,
            early_final,
        })
    }

    fn open_data(&mut self) -> Result<Pending> {
        match self.config.data_mode {
            DataMode::Active => self.open_active().map(Pending::Listening),
            DataMode::Passive if !self.epsv_refused => {
                let reply = self.command("EPSV", None)?;
                if reply.code().get() == 229 {
                    let port = epsv_port(&reply).ok_or_else(|| Error::BadReply {
                        command: "EPSV",
                        reason: "no port in 229 reply".into(),
                        reply,
                    })?;
                    let addr = SocketAddr::new(self.peer.ip(), port);
                    return self.connect_data(addr).map(Pending::Connected);
                }
                if reply.class() != ReplyClass::PermanentNegative {
                    return Err(refusal("EPSV", reply));
                }
                self.epsv_refused = true;
                self.open_pasv().map(Pending::Connected)
            }
            _ => self.open_pasv().map(Pending::Connected),
        }
    }

    fn open_pasv(&mut self) -> Result<TcpStream> {
        let reply = self.expect("PASV", None, ReplyClass::Completion)?;
        let Some((host, port)) = reply
            .lines()
            .iter()
            .find_map(|l| parse_pasv(l))
            .filter(|_| reply.code().get() == 227)
        else {
            return Err(Error::BadReply {
                command: "PASV",
                reason: "no valid h1,h2,h3,h4,p1,p2 in reply".into(),
                reply,
            });
        };
        let addr = pasv_target(host, port, self.peer.ip(), self.config.trust_pasv_host);
        self.connect_data(addr)
    }

    fn open_active(&mut self) -> Result<TcpListener> {
        let listener = self.bind_active()?;
        let (verb, arg) = self.active_command(&listener)?;
        let reply = self.command(verb, Some(arg.as_bytes()))?;
        if reply.is_completion() {
            return Ok(listener);
        }
        if verb == "PORT" || reply.class() != ReplyClass::PermanentNegative {
            return Err(refusal(verb, reply));
        }
        // EPRT is not known here: PORT, for the rest of the session.
        self.eprt_refused = true;
        let (verb, arg) = self.active_command(&listener)?;
        self.expect(verb, Some(arg.as_bytes()), ReplyClass::Completion)?;
        Ok(listener)
    }

    /// A listener for the server's data connection, on the address the
    /// control connection uses.
    fn bind_active(&mut self) -> Result<TcpListener> {
        let local = self.ctrl.stream().local_addr();
        let local_ip: IpAddr = self
            .note(local.map_err(|e| Error::io(Phase::DataConnect, e)))?
            .ip();
        TcpListener::bind((local_ip, 0)).map_err(|e| Error::io(Phase::DataConnect, e))
    }

    /// The command that tells the server where `listener` is: EPRT, or
    /// PORT once the server refused EPRT.
    fn active_command(&self, listener: &TcpListener) -> Result<(&'static str, String)> {
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io(Phase::DataConnect, e))?;
        if !self.eprt_refused {
            return Ok(("EPRT", eprt_arg(&addr)));
        }
        match port_arg(&addr) {
            Some(arg) => Ok(("PORT", arg)),
            None => Err(Error::Other(
                "server refused EPRT and PORT cannot carry IPv6".into(),
            )),
        }
    }

    fn connect_data(&mut self, addr: SocketAddr) -> Result<TcpStream> {
        let stream = TcpStream::connect_timeout(&addr, nonzero(self.config.timeouts.data_connect))
            .map_err(|e| Error::io(Phase::DataConnect, e));
        let stream = self.note(stream)?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    /// Waits for the server's data connection, watching the control
    /// connection for a negative reply sent instead. A positive final reply
    /// may come first (the server connected, sent everything and said `226`
    /// before this side accepted): it is kept and returned with the stream.
    fn accept(
        &mut self,
        verb: &'static str,
        listener: TcpListener,
    ) -> Result<(TcpStream, Option<Reply>)> {
        let deadline = Instant::now() + self.config.timeouts.data_connect;
        let nonblocking = listener
            .set_nonblocking(true)
            .map_err(|e| Error::io(Phase::DataConnect, e));
        self.note(nonblocking)?;
        // A reply may already be buffered (sent in the same segment as 150).
        let buffered = self.ctrl.take_buffered();
        let mut early = match self.note(buffered)? {
            Some(reply) => Some(self.before_connection(verb, reply)?),
            None => None,
        };
        loop {
            match listener.accept() {
                Ok((stream, from)) if from.ip() == self.peer.ip() => {
                    stream
                        .set_nonblocking(false)
                        .map_err(|e| Error::io(Phase::DataConnect, e))?;
                    return Ok((stream, early));
                }
                Ok((_, from)) => log::warn!("refused data connection from {from}: not the server"),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return self.note(Err(Error::io(Phase::DataConnect, e))),
            }
            let now = Instant::now();
            if now >= deadline {
                return self.note(Err(Error::Timeout {
                    phase: Phase::DataConnect,
                }));
            }
            // Sleep until either socket has something; once the final reply
            // is in, only the listener matters.
            let watch = early.is_none().then(|| self.ctrl.stream());
            if !wait_readable(&listener, watch, deadline - now) {
                continue;
            }
            let polled = self.ctrl.poll(Phase::DataConnect);
            if !self.note(polled)? {
                continue;
            }
            let buffered = self.ctrl.take_buffered();
            if let Some(reply) = self.note(buffered)? {
                early = Some(self.before_connection(verb, reply)?);
            }
        }
    }

    /// A reply read while waiting for the server's data connection: a
    /// negative one fails the transfer, a positive final one is kept.
    fn before_connection(&mut self, verb: &'static str, reply: Reply) -> Result<Reply> {
        if reply.is_negative() {
            return Err(refusal(verb, reply));
        }
        if !reply.is_completion() {
            self.mark_broken("reply before the data connection was made");
            return Err(Error::Unexpected {
                command: verb,
                reply,
            });
        }
        Ok(reply)
    }

    /// Reads the final reply of a transfer whose data connection is closed.
    fn finish_transfer(&mut self, verb: &'static str, early: Option<Reply>) -> Result<Reply> {
        let reply = match early {
            Some(r) => r,
            None => self.read(Phase::FinalReply)?,
        };
        check(verb, reply, ReplyClass::Completion)
    }

    /// Gives up on a transfer after `err`: aborts it when the control
    /// connection is still sound, and in every case marks the session as
    /// not reusable (its state after an abort is not certain). Returns `err`.
    fn abandon(&mut self, data: TcpStream, err: Error) -> Error {
        if self.broken.is_none() && self.send("ABOR", None).is_ok() {
            drop(data);
            for _ in 0..3 {
                match self.read(Phase::ControlRead) {
                    Ok(r) if r.is_completion() => break,
                    Ok(_) => continue,
                    Err(_) => break,
                }
            }
        }
        self.mark_broken(format!("transfer abandoned: {err}"));
        err
    }
}

/// A download as a [`Read`] stream; see [`Client::retr_stream`].
pub struct RetrStream<'a> {
    client: &'a mut Client,
    data: Option<TcpStream>,
    early_final: Option<Reply>,
    final_reply: Option<Reply>,
    /// The error a read ended with, kept whole for [`RetrStream::finish`].
    failure: Option<Error>,
    expected: Option<u64>,
    bytes: u64,
}

impl RetrStream<'_> {
    /// The size announced in the `150` reply, if any.
    pub fn expected(&self) -> Option<u64> {
        self.expected
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Ends the transfer and returns its final reply. When data is still
    /// unread, the transfer is aborted and an error says so. When a read
    /// already failed (a broken data channel, a negative final reply), that
    /// error is returned whole, reply code included.
    pub fn finish(mut self) -> Result<Reply> {
        if let Some(reply) = self.final_reply.take() {
            return Ok(reply);
        }
        if let Some(err) = self.failure.take() {
            return Err(err);
        }
        match self.data.take() {
            Some(data) => {
                let err =
                    Error::Other("transfer finished before the end of its data; aborted".into());
                Err(self.client.abandon(data, err))
            }
            None => Err(Error::Other("transfer already ended with an error".into())),
        }
    }
}

impl Read for RetrStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(data) = self.data.as_mut() else {
            return Ok(0);
        };
        match data.read(buf) {
            Ok(0) => {
                self.data = None;
                match self.client.finish_transfer("RETR", self.early_final.take()) {
                    Ok(reply) => {
                        self.final_reply = Some(reply);
                        Ok(0)
                    }
                    Err(e) => Err(self.fail(e, io::ErrorKind::Other)),
                }
            }
            Ok(n) => {
                self.bytes += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let kind = e.kind();
                let err = Error::io(Phase::DataRead, e);
                self.data = None;
                self.client
                    .mark_broken(format!("data channel broken: {err}"));
                Err(self.fail(err, kind))
            }
        }
    }
}

impl RetrStream<'_> {
    /// Keeps `err` for `finish` and returns it as an `io::Error` for `read`.
    fn fail(&mut self, err: Error, kind: io::ErrorKind) -> io::Error {
        let io_err = io::Error::new(kind, err.to_string());
        self.failure = Some(err);
        io_err
    }
}

impl Drop for RetrStream<'_> {
    fn drop(&mut self) {
        if let Some(data) = self.data.take() {
            let err = Error::Other("transfer dropped before the end of its data".into());
            self.client.abandon(data, err);
        }
    }
}

/// The port of a 229 reply, on whichever line of it the server put it.
fn epsv_port(reply: &Reply) -> Option<u16> {
    reply.lines().iter().find_map(|l| parse_epsv(l))
}

/// Reads a data connection to its end, each read bounded by `timeout`,
/// handing every chunk to `chunk` (whose error stops the reading).
fn read_to_end(
    data: &mut TcpStream,
    timeout: Duration,
    buf: &mut [u8],
    mut chunk: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    data.set_read_timeout(Some(nonzero(timeout)))
        .map_err(|e| Error::io(Phase::DataRead, e))?;
    loop {
        match data.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => chunk(&buf[..n])?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(Phase::DataRead, e)),
        }
    }
}

/// The `(N bytes)` announced in a 150 reply.
fn size_in_150(text: &[u8]) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let end = lower.windows(6).rposition(|w| w == b" bytes")?;
    let start = lower[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    std::str::from_utf8(&lower[start..end]).ok()?.parse().ok()
}

/// Splits listing data into lines without their CR/LF; empty lines dropped.
fn split_lines(data: &[u8]) -> Vec<Vec<u8>> {
    data.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Blocks until `listener` has a connection or `control` (when given) has
/// bytes, or `wait` passes. True when `control` is readable (or may be).
#[cfg(unix)]
fn wait_readable(listener: &TcpListener, control: Option<&TcpStream>, wait: Duration) -> bool {
    use std::os::fd::AsRawFd;
    let pollfd = |fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let mut fds = [
        pollfd(listener.as_raw_fd()),
        pollfd(control.map_or(-1, |c| c.as_raw_fd())),
    ];
    let ms = wait.as_millis().clamp(1, 1000) as libc::c_int;
    // SAFETY: `fds` is a valid array of two pollfd for the whole call; a
    // negative fd is ignored by poll.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    control.is_some() && (n < 0 || fds[1].revents != 0)
}

#[cfg(not(unix))]
fn wait_readable(_listener: &TcpListener, control: Option<&TcpStream>, _wait: Duration) -> bool {
    std::thread::sleep(Duration::from_millis(1));
    control.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_150() {
        assert_eq!(
            size_in_150(b"Opening BINARY mode data connection for a.bin (1234 bytes)"),
            Some(1234)
        );
        assert_eq!(size_in_150(b"Opening data connection (0 Bytes)."), Some(0));
        assert_eq!(size_in_150(b"Opening data connection"), None);
        assert_eq!(size_in_150(b" bytes"), None);
        assert_eq!(size_in_150(b"(99999999999999999999999 bytes)"), None);
    }

    #[test]
    fn lines_split() {
        assert_eq!(
            split_lines(b"a\r\nb\n\r\nc"),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
    }
}
