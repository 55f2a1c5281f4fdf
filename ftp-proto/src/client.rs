//! The blocking client: one control connection over `std::net`, commands
//! and their replies. The transfer calls (`retr`, `stor`, `mlsd`, ...) are here too.
//!
//! ```no_run
//! use ftp_proto::client::{Client, Config};
//!
//! let mut ftp = Client::connect("127.0.0.1", 2121, Config::default())?;
//! ftp.login_anonymous()?;
//! for entry in ftp.mlsd(Some(b"/pub"))? {
//!     println!("{:?} {:?} {}", entry.kind, entry.size, entry.name_lossy());
//! }
//! let mut data = Vec::new();
//! ftp.retr("/pub/README", 0, &mut data, &mut |_| {})?;
//! ftp.quit()?;
//! # Ok::<(), ftp_proto::Error>(())
//! ```

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};

use crate::command;
use crate::control::Control;
use crate::error::{Error, Phase, Result};
use crate::features::Features;
use crate::listing::{parse_time_val, FileTime};
use crate::reply::{Reply, ReplyClass};

pub use crate::config::{Config, DataMode, Timeouts};
pub use crate::password::Password;
pub use crate::transfer::{Progress, RetrStream};

/// The representation type of transfers (RFC 959 §3.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferType {
    /// `TYPE I`: bytes as they are. The default after login.
    Binary,
    /// `TYPE A`: text with CRLF line ends on the wire.
    Ascii,
}

/// One FTP session.
///
/// Every call sends its commands and reads every reply they produce before
/// it returns, so the session is always between commands when the caller
/// holds it. When something leaves it in an unknown state (a timeout, a
/// dropped connection, a `421`, a transfer that could not be closed cleanly)
/// it is marked broken: [`Client::is_reusable`] turns false and later calls
/// fail with [`Error::Unusable`].
pub struct Client {
    pub(crate) ctrl: Control,
    pub(crate) config: Config,
    welcome: Reply,
    features: Option<Features>,
    pub(crate) broken: Option<String>,
    transfer_type: Option<TransferType>,
    pub(crate) peer: SocketAddr,
    pub(crate) epsv_refused: bool,
    pub(crate) eprt_refused: bool,
    pub(crate) pipeline_ok: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("peer", &self.peer)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to `host:port` (every resolved address in turn, each within
    /// the connect timeout) and reads the welcome reply.
    pub fn connect(host: &str, port: u16, config: Config) -> Result<Client> {
        let addrs = (host, port).to_socket_addrs().map_err(|e| Error::Io {
            phase: Phase::Connect,
            source: e,
        })?;
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, config.timeouts.connect) {
                Ok(stream) => return Client::from_stream(stream, config),
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e) => Error::io(Phase::Connect, e),
            None => Error::Other(format!("no address found for {host}")),
        })
    }

    /// Runs a session over an already connected control stream.
    pub fn from_stream(stream: TcpStream, config: Config) -> Result<Client> {
        let peer = stream
            .peer_addr()
            .map_err(|e| Error::io(Phase::Connect, e))?;
        let _ = stream.set_nodelay(true);
        let mut client = Client {
            ctrl: Control::new(stream, config.limits),
            config,
            welcome: Reply::single(220, "").expect("220 is a valid code"),
            features: None,
            broken: None,
            transfer_type: None,
            peer,
            epsv_refused: false,
            eprt_refused: false,
            pipeline_ok: true,
        };
        // The greeting is part of connecting: a server that accepts but
        // never greets is given the connect timeout, not the control one.
        let mut reply = client.read(Phase::Connect)?;
        // 120: "ready in nnn minutes"; the real greeting follows.
        if reply.code().get() == 120 {
            reply = client.read(Phase::ControlRead)?;
        }
        client.welcome = check("connect", reply, ReplyClass::Completion)?;
        Ok(client)
    }

    /// The server's welcome reply (usually `220`).
    pub fn welcome(&self) -> &Reply {
        &self.welcome
    }

    /// The control connection's peer.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The settings this session runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the session may be handed to another user (a pool): false
    /// after a `421`, a timeout, a broken connection or transfer, or when the
    /// server sent bytes nobody read.
    pub fn is_reusable(&self) -> bool {
        self.broken.is_none() && !self.ctrl.has_unread()
    }

    /// Why the session is no longer usable, if it is not.
    pub fn close_reason(&self) -> Option<String> {
        if let Some(why) = &self.broken {
            return Some(why.clone());
        }
        self.ctrl
            .has_unread()
            .then(|| "unread bytes on the control connection".to_string())
    }

    /// Logs in as `user`, asks FEAT, turns UTF-8 on (`OPTS UTF8 ON`) and
    /// selects `TYPE I`.
    ///
    /// With [`Config::pipeline`] the five commands go in one write and their
    /// replies are read in order: one round trip instead of four. Otherwise
    /// each waits for the previous reply, and OPTS is sent only when FEAT
    /// lists UTF8.
    pub fn login(&mut self, user: &str, password: &Password) -> Result<()> {
        if self.config.pipeline {
            self.login_pipelined(user, password)
        } else {
            self.login_step_by_step(user, password)
        }
    }

    /// Logs in as `anonymous`.
    pub fn login_anonymous(&mut self) -> Result<()> {
        self.login("anonymous", &Password::anonymous())
    }

    fn login_step_by_step(&mut self, user: &str, password: &Password) -> Result<()> {
        let reply = self.command("USER", Some(user.as_bytes()))?;
        match reply.code().get() {
            230 => {}
            331 | 332 => {
                let reply = self.command("PASS", Some(password.expose().as_bytes()))?;
                check_pass(reply)?;
            }
            _ => {
                check("USER", reply, ReplyClass::Intermediate)?;
            }
        }
        let utf8 = self.features()?.has("UTF8");
        if !utf8 {
            return self.set_type(TransferType::Binary);
        }
        // OPTS and TYPE in one write: two replies for one round trip.
        self.send_many(&[("OPTS", Some(b"UTF8 ON")), ("TYPE", Some(b"I"))])?;
        self.read_opts_and_type()
    }

    fn login_pipelined(&mut self, user: &str, password: &Password) -> Result<()> {
        // OPTS UTF8 ON goes before FEAT's answer is known, so also to servers
        // that do not list UTF8. That is harmless: such a server refuses it
        // (500/501/502) and names go as raw bytes either way.
        self.send_many(&[
            ("USER", Some(user.as_bytes())),
            ("PASS", Some(password.expose().as_bytes())),
            ("FEAT", None),
            ("OPTS", Some(b"UTF8 ON")),
            ("TYPE", Some(b"I")),
        ])?;
        let result = self.read_pipelined_login();
        if let Err(e) = &result {
            // Replies to the later commands may still be on their way (or
            // never come: some servers close or throttle after a failed
            // login), so they are not read and the session is not reused.
            self.mark_broken(format!("login failed: {e}"));
        }
        result
    }

    /// Reads the replies to USER, PASS, FEAT, OPTS and TYPE sent in one
    /// write, stopping at the first one that fails the login.
    fn read_pipelined_login(&mut self) -> Result<()> {
        let user = self.read_reply_to("USER")?;
        if user.code().get() == 230 {
            ignore_pass(self.read_reply_to("PASS")?)?;
        } else {
            // 331/332, or another 3yz: either way the PASS reply decides.
            check("USER", user, ReplyClass::Intermediate)?;
            check_pass(self.read_reply_to("PASS")?)?;
        }
        let feat = self.read_reply_to("FEAT")?;
        self.features = Some(features_from(feat)?);
        self.read_opts_and_type()
    }

    /// Reads the replies to OPTS UTF8 ON and TYPE I, sent together.
    fn read_opts_and_type(&mut self) -> Result<()> {
        // A refused OPTS is harmless: names go as raw bytes anyway.
        let opts = self.read(Phase::ControlRead)?;
        let type_reply = self.read(Phase::ControlRead)?;
        if opts.is_preliminary() || type_reply.is_preliminary() {
            self.mark_broken("preliminary reply to OPTS or TYPE");
        }
        check("TYPE", type_reply, ReplyClass::Completion)?;
        self.transfer_type = Some(TransferType::Binary);
        Ok(())
    }

    /// The server's features (FEAT), asked once per session (login asks
    /// it). A server that refuses FEAT has no features.
    pub fn features(&mut self) -> Result<&Features> {
        if self.features.is_none() {
            let reply = self.command("FEAT", None)?;
            self.features = Some(features_from(reply)?);
        }
        Ok(self.features.get_or_insert_with(Features::default))
    }

    /// NOOP: keeps the session alive and checks it.
    pub fn noop(&mut self) -> Result<()> {
        self.expect("NOOP", None, ReplyClass::Completion).map(drop)
    }

    /// SYST: the server's system type, e.g. `UNIX Type: L8`.
    pub fn syst(&mut self) -> Result<String> {
        let reply = self.expect("SYST", None, ReplyClass::Completion)?;
        Ok(reply.first_line())
    }

    /// TYPE: selects binary or ASCII transfers (skipped when already set).
    pub fn set_type(&mut self, t: TransferType) -> Result<()> {
        if self.transfer_type == Some(t) {
            return Ok(());
        }
        let arg: &[u8] = match t {
            TransferType::Binary => b"I",
            TransferType::Ascii => b"A",
        };
        self.expect("TYPE", Some(arg), ReplyClass::Completion)?;
        self.transfer_type = Some(t);
        Ok(())
    }

    /// CWD: changes the working directory.
    pub fn cwd(&mut self, path: impl AsRef<[u8]>) -> Result<()> {
        self.expect("CWD", Some(path.as_ref()), ReplyClass::Completion)
            .map(drop)
    }

    /// CDUP: goes to the parent directory.
    pub fn cdup(&mut self) -> Result<()> {
        self.expect("CDUP", None, ReplyClass::Completion).map(drop)
    }

    /// PWD: the working directory, as raw bytes.
    pub fn pwd(&mut self) -> Result<Vec<u8>> {
        let reply = self.expect("PWD", None, ReplyClass::Completion)?;
        quoted_path("PWD", reply)
    }

    /// MKD: creates a directory; returns the path the server reports.
    pub fn mkd(&mut self, path: impl AsRef<[u8]>) -> Result<Vec<u8>> {
        let path = path.as_ref();
        let reply = self.expect("MKD", Some(path), ReplyClass::Completion)?;
        Ok(quoted_path("MKD", reply).unwrap_or_else(|_| path.to_vec()))
    }

    /// RMD: removes a directory.
    pub fn rmd(&mut self, path: impl AsRef<[u8]>) -> Result<()> {
        self.expect("RMD", Some(path.as_ref()), ReplyClass::Completion)
            .map(drop)
    }

    /// DELE: deletes a file.
    pub fn dele(&mut self, path: impl AsRef<[u8]>) -> Result<()> {
        self.expect("DELE", Some(path.as_ref()), ReplyClass::Completion)
            .map(drop)
    }

    /// RNFR then RNTO: renames `from` to `to`.
    pub fn rename(&mut self, from: impl AsRef<[u8]>, to: impl AsRef<[u8]>) -> Result<()> {
        // Check both names before sending anything.
        command::encode("RNTO", Some(to.as_ref()))?;
        self.expect("RNFR", Some(from.as_ref()), ReplyClass::Intermediate)?;
        self.expect("RNTO", Some(to.as_ref()), ReplyClass::Completion)
            .map(drop)
    }

    /// SIZE: the size of a file in bytes (RFC 3659 §4).
    pub fn size(&mut self, path: impl AsRef<[u8]>) -> Result<u64> {
        let reply = self.expect("SIZE", Some(path.as_ref()), ReplyClass::Completion)?;
        let text = reply.first_line();
        match text.trim().parse::<u64>() {
            Ok(n) => Ok(n),
            Err(_) => Err(Error::BadReply {
                command: "SIZE",
                reason: "size is not a number".into(),
                reply,
            }),
        }
    }

    /// MDTM: the modification time of a file, exact UTC (RFC 3659 §3).
    pub fn mdtm(&mut self, path: impl AsRef<[u8]>) -> Result<FileTime> {
        let reply = self.expect("MDTM", Some(path.as_ref()), ReplyClass::Completion)?;
        let line = reply.lines()[0].clone();
        let trimmed: Vec<u8> = line
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        parse_time_val(&trimmed).ok_or_else(|| Error::BadReply {
            command: "MDTM",
            reason: "not a time-val".into(),
            reply,
        })
    }

    /// REST: the offset the next RETR starts from (`350` expected).
    /// [`Client::retr`] sends it for you; this is for raw use.
    pub fn rest(&mut self, offset: u64) -> Result<()> {
        let arg = offset.to_string();
        self.expect("REST", Some(arg.as_bytes()), ReplyClass::Intermediate)
            .map(drop)
    }

    /// SITE: a server-specific command; returns the completion reply.
    pub fn site(&mut self, arg: impl AsRef<[u8]>) -> Result<Reply> {
        self.expect("SITE", Some(arg.as_ref()), ReplyClass::Completion)
    }

    /// ABOR outside a transfer (`225`/`226` expected). To abandon a transfer
    /// in progress, drop its [`RetrStream`] or call its `finish`.
    pub fn abort(&mut self) -> Result<()> {
        self.expect("ABOR", None, ReplyClass::Completion).map(drop)
    }

    /// Sends a raw command line (without line ending) and checks that the
    /// reply has the class `expect`. The line is refused if it contains CR,
    /// LF or NUL. Do not send `PASS` this way: the line would be logged.
    pub fn raw(&mut self, line: impl AsRef<[u8]>, expect: ReplyClass) -> Result<Reply> {
        let (verb, arg) = command::split_line(line.as_ref());
        if !command::is_safe_arg(line.as_ref()) {
            return Err(Error::InvalidArgument { command: "raw" });
        }
        self.check_usable()?;
        let mut wire = line.as_ref().to_vec();
        wire.extend_from_slice(b"\r\n");
        log_command(&verb, Some(arg));
        let sent = self.ctrl.send(&wire, self.config.timeouts.control);
        self.note(sent)?;
        let reply = self.read(Phase::ControlRead)?;
        check("raw", reply, expect)
    }

    /// QUIT, then closes the connection. Errors after QUIT was sent are
    /// ignored: the session is over either way.
    pub fn quit(mut self) -> Result<()> {
        if self.broken.is_none() {
            let _ = self.command("QUIT", None);
        }
        self.ctrl.shutdown();
        Ok(())
    }

    /// Sends QUIT and closes the connection without waiting for the `221`:
    /// one round trip less when a run ends (pools close idle sessions this
    /// way). Nothing is lost: QUIT has nothing to report.
    pub fn quit_without_waiting(mut self) {
        if self.broken.is_none() {
            let _ = self.send("QUIT", None);
        }
        self.ctrl.shutdown();
    }

    /// Closes the connection without QUIT.
    pub fn close(self) {
        self.ctrl.shutdown();
    }

    // ---- the command/reply engine used by every operation ----

    pub(crate) fn check_usable(&self) -> Result<()> {
        match &self.broken {
            Some(why) => Err(Error::Unusable(why.clone())),
            None => Ok(()),
        }
    }

    /// Records errors that leave the session in an unknown state.
    pub(crate) fn note<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            if breaks_session(e) && self.broken.is_none() {
                self.broken = Some(e.to_string());
            }
        }
        r
    }

    pub(crate) fn mark_broken(&mut self, why: impl Into<String>) {
        if self.broken.is_none() {
            self.broken = Some(why.into());
        }
    }

    /// Sends one command without reading its reply.
    pub(crate) fn send(&mut self, verb: &'static str, arg: Option<&[u8]>) -> Result<()> {
        self.check_usable()?;
        let line = command::encode(verb, arg)?;
        log_command(verb, arg);
        let sent = self.ctrl.send(&line, self.config.timeouts.control);
        self.note(sent)
    }

    /// Sends several commands in one write, without waiting in between.
    pub(crate) fn send_many(&mut self, cmds: &[(&'static str, Option<&[u8]>)]) -> Result<()> {
        self.check_usable()?;
        let mut wire = Vec::new();
        for (verb, arg) in cmds {
            wire.extend_from_slice(&command::encode(verb, *arg)?);
        }
        for (verb, arg) in cmds {
            log_command(verb, *arg);
        }
        let sent = self.ctrl.send(&wire, self.config.timeouts.control);
        self.note(sent)
    }

    /// Reads one reply; a `421` marks the session broken.
    pub(crate) fn read(&mut self, phase: Phase) -> Result<Reply> {
        let timeout = match phase {
            Phase::Connect => self.config.timeouts.connect,
            Phase::FinalReply => self.config.timeouts.final_reply,
            _ => self.config.timeouts.control,
        };
        let got = self.ctrl.read_reply(phase, timeout);
        let reply = self.note(got)?;
        if reply.code().get() == 421 {
            self.mark_broken(format!("server closing: {reply}"));
        }
        Ok(reply)
    }

    /// Sends a command and reads its reply, whatever its code.
    ///
    /// A `1yz` to a command that opens no data connection means another
    /// reply will follow that nobody will read: the session is out of step
    /// and is marked broken.
    pub(crate) fn command(&mut self, verb: &'static str, arg: Option<&[u8]>) -> Result<Reply> {
        self.send(verb, arg)?;
        self.read_reply_to(verb)
    }

    /// Reads the reply to `verb`, a command that opens no data connection:
    /// a `1yz` marks the session broken (see [`Client::command`]).
    fn read_reply_to(&mut self, verb: &'static str) -> Result<Reply> {
        let reply = self.read(Phase::ControlRead)?;
        if reply.is_preliminary() {
            self.mark_broken(format!("preliminary reply to {verb}: {reply}"));
        }
        Ok(reply)
    }

    /// Sends a command and checks that its reply has class `want`.
    pub(crate) fn expect(
        &mut self,
        verb: &'static str,
        arg: Option<&[u8]>,
        want: ReplyClass,
    ) -> Result<Reply> {
        let reply = self.command(verb, arg)?;
        check(verb, reply, want)
    }
}

fn log_command(verb: &str, arg: Option<&[u8]>) {
    match (verb, arg) {
        ("PASS", _) => log::debug!("> PASS ***"),
        (_, Some(a)) => log::debug!("> {verb} {}", String::from_utf8_lossy(a)),
        (_, None) => log::debug!("> {verb}"),
    }
}

/// Whether an error leaves the session in an unknown state.
fn breaks_session(e: &Error) -> bool {
    matches!(
        e,
        Error::Io { .. } | Error::Timeout { .. } | Error::Closed { .. } | Error::Malformed(_)
    ) || e.is_service_closing()
}

/// The error for a reply that is not what the command wanted.
pub(crate) fn refusal(verb: &'static str, reply: Reply) -> Error {
    if reply.is_negative() {
        Error::Refused {
            command: verb,
            reply,
        }
    } else {
        Error::Unexpected {
            command: verb,
            reply,
        }
    }
}

/// `Ok(reply)` when it has class `want`, else the matching error.
pub(crate) fn check(verb: &'static str, reply: Reply, want: ReplyClass) -> Result<Reply> {
    if reply.class() == want {
        Ok(reply)
    } else {
        Err(refusal(verb, reply))
    }
}

/// Checks the reply to PASS: a completion logs in; `332` (an account is
/// needed) is not supported.
fn check_pass(reply: Reply) -> Result<()> {
    if reply.code().get() == 332 {
        return Err(Error::Unexpected {
            command: "PASS",
            reply,
        });
    }
    check("PASS", reply, ReplyClass::Completion).map(drop)
}

/// The reply to a PASS sent after USER already logged in (`230`): whatever
/// the server says to it (`503`, `202`, `230`) is fine, except a `421` or a
/// `1yz`, which leave the session closing or out of step.
fn ignore_pass(reply: Reply) -> Result<()> {
    if reply.is_preliminary() || reply.code().get() == 421 {
        return Err(refusal("PASS", reply));
    }
    Ok(())
}

/// The features in the reply to FEAT: none when it is refused for good.
fn features_from(reply: Reply) -> Result<Features> {
    if reply.is_completion() {
        Ok(Features::from_reply(&reply))
    } else if reply.class() == ReplyClass::PermanentNegative {
        Ok(Features::default())
    } else {
        Err(refusal("FEAT", reply))
    }
}

/// The path inside a 257 reply: `"dir ""quoted"" name" created`.
fn quoted_path(verb: &'static str, reply: Reply) -> Result<Vec<u8>> {
    let line = &reply.lines()[0];
    let bad = |reply| Error::BadReply {
        command: verb,
        reason: "no quoted path".into(),
        reply,
    };
    let Some(start) = line.iter().position(|&b| b == b'"') else {
        return Err(bad(reply));
    };
    let mut out = Vec::new();
    let mut i = start + 1;
    while i < line.len() {
        if line[i] == b'"' {
            if line.get(i + 1) == Some(&b'"') {
                out.push(b'"');
                i += 2;
                continue;
            }
            return Ok(out);
        }
        out.push(line[i]);
        i += 1;
    }
    Err(bad(reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_paths() {
        let r = |t: &str| Reply::single(257, t).unwrap();
        assert_eq!(quoted_path("PWD", r("\"/a b\" is cwd")).unwrap(), b"/a b");
        assert_eq!(
            quoted_path("PWD", r("\"/say \"\"hi\"\"\" ok")).unwrap(),
            b"/say \"hi\""
        );
        assert!(quoted_path("PWD", r("no quotes")).is_err());
        assert!(quoted_path("PWD", r("\"unterminated")).is_err());
    }

    #[test]
    fn password_never_in_debug() {
        let p = Password::new("s3cret");
        assert!(!format!("{p:?}").contains("s3cret"));
    }
}
