//! One control session, on its own thread: login, navigation, listings and
//! downloads, one command at a time.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ftp_proto::command::split_line;
use ftp_proto::listing::format;

use crate::control::{Control, Input};
use crate::data::{self, DataSetup, EprtError};
use crate::dirlist::{self, Style};
use crate::server::{SessionSlot, Shared};
use crate::verb::{Verb, FEATURES, HELP_LINES};
use crate::vfs::{self, Refusal, Resolved};

/// The transfer buffer: one per session, allocated on its first download.
const CHUNK: usize = 256 * 1024;

/// The longest a single data write blocks before the session looks at the
/// control connection again (for ABOR); the data timeout still bounds the
/// time without progress.
const WRITE_SLICE: Duration = Duration::from_millis(250);

/// Failed PASS attempts before the session is closed.
const MAX_LOGIN_FAILURES: u32 = 3;

/// Serves one accepted control connection until it ends, then frees `slot`.
pub(crate) fn run(shared: &Shared, stream: TcpStream, peer: SocketAddr, slot: SessionSlot) {
    let id = slot.id();
    log::info!("session {id}: connection from {peer}");
    let local = match stream.local_addr() {
        Ok(a) => a,
        Err(e) => {
            log::debug!("session {id}: no local address: {e}");
            return;
        }
    };
    let mut session = Session {
        shared,
        id,
        ctrl: Control::new(stream, shared.config.max_command_len),
        peer,
        local,
        user: None,
        logged_in: false,
        failed_logins: 0,
        cwd: b"/".to_vec(),
        binary: true,
        restart: 0,
        data: None,
        epsv_all: false,
        pending: None,
        buf: Vec::new(),
    };
    match session.serve() {
        Ok(()) => log::info!("session {id}: closed"),
        Err(e) => log::info!("session {id}: ended: {e}"),
    }
    let _ = session.ctrl.stream().shutdown(Shutdown::Both);
    drop(slot);
}

/// Whether the session goes on after a command.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Close,
}

/// A command line that arrived while a transfer was running.
enum Pending {
    Line(Vec<u8>),
    TooLong,
}

/// How a transfer ended.
enum Outcome {
    Complete(u64),
    /// The client sent ABOR.
    Aborted,
    /// The data connection failed or timed out.
    DataFailed(io::Error),
    /// Reading the file failed.
    LocalFailed(io::Error),
    /// The control connection closed.
    ControlGone,
    /// The server is shutting down.
    ShuttingDown,
}

/// What a transfer sends.
enum Body<'a> {
    /// Listing data, sent as is.
    Bytes(&'a [u8]),
    /// A file, from its current position, converted to CRLF in ASCII mode.
    File(File),
}

struct Session<'a> {
    shared: &'a Shared,
    id: u64,
    ctrl: Control,
    peer: SocketAddr,
    local: SocketAddr,
    /// The name given by USER, until PASS.
    user: Option<Vec<u8>>,
    logged_in: bool,
    failed_logins: u32,
    /// The normalized virtual working directory.
    cwd: Vec<u8>,
    /// TYPE I (true) or TYPE A.
    binary: bool,
    /// The REST offset for the next RETR.
    restart: u64,
    /// How the next data connection is made.
    data: Option<DataSetup>,
    /// After `EPSV ALL`, only EPSV may set up data connections.
    epsv_all: bool,
    pending: Option<Pending>,
    buf: Vec<u8>,
}

impl Session<'_> {
    fn serve(&mut self) -> io::Result<()> {
        self.ctrl.reply(220, "ftp-serve ready (read-only)")?;
        let idle = self.shared.config.idle_timeout;
        let mut line = Vec::with_capacity(256);
        loop {
            let input = match self.pending.take() {
                Some(Pending::Line(p)) => {
                    line = p;
                    Input::Line
                }
                Some(Pending::TooLong) => Input::TooLong,
                None => self.ctrl.read_line(&mut line, idle)?,
            };
            match input {
                Input::Line => {
                    if self.command(&line)? == Flow::Close {
                        return Ok(());
                    }
                }
                Input::TooLong => {
                    log::debug!("session {}: command line too long", self.id);
                    self.ctrl.reply(500, "Command line too long")?;
                }
                Input::Eof => return Ok(()),
                Input::TimedOut => {
                    log::info!("session {}: idle timeout", self.id);
                    self.ctrl
                        .reply(421, "Idle timeout: closing the control connection")?;
                    return Ok(());
                }
            }
        }
    }

    fn command(&mut self, line: &[u8]) -> io::Result<Flow> {
        let (name, arg) = split_line(line);
        if name == "PASS" {
            log::debug!("session {}: PASS ***", self.id);
        } else {
            // Escaped: a line may hold control characters or invalid UTF-8.
            let space = if arg.is_empty() { "" } else { " " };
            log::debug!(
                "session {}: {}{space}{}",
                self.id,
                name.escape_debug(),
                arg.escape_ascii()
            );
        }
        let Some(verb) = Verb::parse(&name) else {
            self.ctrl.reply(502, "Command not implemented")?;
            return Ok(Flow::Continue);
        };
        if verb.needs_login() && !self.logged_in {
            self.ctrl.reply(530, "Please log in with USER and PASS")?;
            return Ok(Flow::Continue);
        }
        match verb {
            Verb::User => self.user(arg)?,
            Verb::Pass => return self.pass(arg),
            Verb::Quit => {
                self.ctrl.reply(221, "Goodbye")?;
                return Ok(Flow::Close);
            }
            Verb::Feat => self.feat()?,
            Verb::Syst => self.ctrl.reply(215, "UNIX Type: L8")?,
            Verb::Noop => self.ctrl.reply(200, "NOOP ok")?,
            Verb::Help => {
                let lines = HELP_LINES.iter().map(|l| l.as_bytes().to_vec()).collect();
                self.ctrl.reply_lines(214, lines)?;
            }
            Verb::Opts => self.opts(arg)?,
            Verb::Pwd => {
                let mut text = Vec::with_capacity(self.cwd.len() + 32);
                text.push(b'"');
                for &b in &self.cwd {
                    if b == b'"' {
                        text.push(b'"');
                    }
                    text.push(b);
                }
                text.extend_from_slice(b"\" is the current directory");
                self.ctrl.reply(257, text)?;
            }
            Verb::Cwd => self.cwd(arg)?,
            Verb::Cdup => self.cwd(b"..")?,
            Verb::Type => self.type_(arg)?,
            Verb::Mode => self.only(arg, b"S", "Mode")?,
            Verb::Stru => self.only(arg, b"F", "Structure")?,
            Verb::Pasv => self.pasv()?,
            Verb::Epsv => self.epsv(arg)?,
            Verb::Port => self.port(arg)?,
            Verb::Eprt => self.eprt(arg)?,
            Verb::List => return self.listing(arg, Style::List),
            Verb::Nlst => return self.listing(arg, Style::Names),
            Verb::Mlsd => return self.listing(arg, Style::Facts),
            Verb::Mlst => self.mlst(arg)?,
            Verb::Size => self.size(arg)?,
            Verb::Mdtm => self.mdtm(arg)?,
            Verb::Rest => self.rest(arg)?,
            Verb::Retr => return self.retr(arg),
            Verb::Abor => {
                self.data = None;
                self.ctrl.reply(226, "No transfer to abort")?;
            }
            Verb::Allo => self.ctrl.reply(202, "ALLO is not needed")?,
            Verb::Stat => self.stat(arg)?,
            Verb::Site => self.site(arg)?,
            Verb::Write => self.ctrl.reply(550, "Read-only server")?,
        }
        Ok(Flow::Continue)
    }

    // --- login ---

    fn user(&mut self, arg: &[u8]) -> io::Result<()> {
        if arg.is_empty() {
            return self.ctrl.reply(501, "USER needs a user name");
        }
        self.logged_in = false;
        self.user = Some(arg.to_vec());
        if self.shared.config.credentials.is_none() {
            self.ctrl
                .reply(331, "Anonymous access: any password will do")
        } else {
            self.ctrl.reply(331, "Password required")
        }
    }

    fn pass(&mut self, arg: &[u8]) -> io::Result<Flow> {
        if self.logged_in {
            self.ctrl.reply(230, "Already logged in")?;
            return Ok(Flow::Continue);
        }
        let Some(user) = self.user.take() else {
            self.ctrl.reply(503, "Send USER first")?;
            return Ok(Flow::Continue);
        };
        let accepted = match &self.shared.config.credentials {
            None => true,
            Some((name, password)) => {
                // Both comparisons always run, in time independent of where
                // the bytes differ.
                let user_ok = constant_time_eq(&user, name.as_bytes());
                let pass_ok = constant_time_eq(arg, password.expose().as_bytes());
                user_ok & pass_ok
            }
        };
        let shown = user.escape_ascii();
        if accepted {
            log::info!("session {}: {shown} logged in", self.id);
            self.logged_in = true;
            self.ctrl.reply(230, "Logged in")?;
            return Ok(Flow::Continue);
        }
        self.failed_logins += 1;
        log::warn!("session {}: failed login for {shown}", self.id);
        if self.failed_logins >= MAX_LOGIN_FAILURES {
            self.ctrl.reply(421, "Too many failed logins")?;
            return Ok(Flow::Close);
        }
        self.ctrl.reply(530, "Login incorrect")?;
        Ok(Flow::Continue)
    }

    // --- information ---

    fn feat(&mut self) -> io::Result<()> {
        let mut lines = Vec::with_capacity(FEATURES.len() + 2);
        lines.push(b"Features:".to_vec());
        lines.extend(FEATURES.iter().map(|f| f.as_bytes().to_vec()));
        lines.push(b"End".to_vec());
        self.ctrl.reply_lines(211, lines)
    }

    fn opts(&mut self, arg: &[u8]) -> io::Result<()> {
        let (option, value) = split_line(arg.trim_ascii());
        match option.as_str() {
            "UTF8" | "UTF-8" if !value.eq_ignore_ascii_case(b"OFF") => {
                self.ctrl.reply(200, "UTF8 mode is always on")
            }
            "MLST" => self.ctrl.reply(200, "MLST OPTS type;size;modify;perm;"),
            _ => self.ctrl.reply(501, "Option not understood"),
        }
    }

    fn stat(&mut self, arg: &[u8]) -> io::Result<()> {
        if !arg.trim_ascii().is_empty() {
            return self.stat_listing(arg);
        }
        let lines = vec![
            b"ftp-serve status:".to_vec(),
            format!(" Connected from {}", self.peer.ip()).into_bytes(),
            format!(" TYPE: {}", if self.binary { "BINARY" } else { "ASCII" }).into_bytes(),
            b" Read-only".to_vec(),
            b"End of status".to_vec(),
        ];
        self.ctrl.reply_lines(211, lines)
    }

    /// STAT with a path: the LIST lines of a directory (or of one file) in
    /// a 213 reply on the control connection. A name with CR or LF would
    /// end its line, and could fake the end of the reply: such entries are
    /// left out (MLSD and NLST still show them).
    fn stat_listing(&mut self, arg: &[u8]) -> io::Result<()> {
        let arg = skip_options(arg);
        let target = vfs::join(&self.cwd, arg);
        let resolved = match self.shared.root.resolve(&target) {
            Ok(r) => r,
            Err(refusal) => return self.refuse(refusal),
        };
        let entries = if resolved.meta.is_dir() {
            match dirlist::read_dir(&self.shared.root, &resolved.path) {
                Ok(entries) => entries,
                Err(e) => {
                    log::debug!(
                        "session {}: cannot list {}: {e}",
                        self.id,
                        resolved.path.display()
                    );
                    return self.ctrl.reply(550, "Cannot read the directory");
                }
            }
        } else {
            match dirlist::entry(vfs::file_name(&target).to_vec(), &resolved.meta) {
                Some(entry) => vec![entry],
                None => return self.ctrl.reply(550, "Not a file or directory"),
            }
        };
        let mut lines = Vec::with_capacity(entries.len() + 2);
        lines.push(b"Status of the listing:".to_vec());
        let body = dirlist::render(
            &entries
                .into_iter()
                .filter(|e| !e.name.iter().any(|&b| b == b'\r' || b == b'\n'))
                .collect::<Vec<_>>(),
            Style::List,
        );
        lines.extend(
            body.split(|&b| b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec),
        );
        lines.push(b"End of status".to_vec());
        self.ctrl.reply_lines(213, lines)
    }

    fn site(&mut self, arg: &[u8]) -> io::Result<()> {
        let (sub, _) = split_line(arg.trim_ascii());
        match sub.as_str() {
            "CHMOD" | "CHOWN" | "CHGRP" | "UTIME" | "SYMLINK" | "MKDIR" | "RMDIR" | "CPFR"
            | "CPTO" | "UMASK" => self.ctrl.reply(550, "Read-only server"),
            "HELP" => self.ctrl.reply(214, "No SITE commands are offered"),
            _ => self.ctrl.reply(502, "SITE command not implemented"),
        }
    }

    // --- navigation and metadata ---

    fn cwd(&mut self, arg: &[u8]) -> io::Result<()> {
        if arg.is_empty() {
            return self.ctrl.reply(501, "CWD needs a directory");
        }
        let target = vfs::join(&self.cwd, arg);
        match self.shared.root.resolve(&target) {
            Ok(r) if r.meta.is_dir() => {
                let mut text = b"Directory changed to ".to_vec();
                text.extend_from_slice(&target);
                self.cwd = target;
                self.ctrl.reply(250, text)
            }
            Ok(_) => self.ctrl.reply(550, "Not a directory"),
            Err(refusal) => self.refuse(refusal),
        }
    }

    fn type_(&mut self, arg: &[u8]) -> io::Result<()> {
        let arg = arg.trim_ascii();
        let upper = arg.to_ascii_uppercase();
        match upper.as_slice() {
            b"I" | b"L 8" | b"L8" => {
                self.binary = true;
                self.ctrl.reply(200, "Switching to Binary mode")
            }
            b"A" | b"A N" => {
                self.binary = false;
                self.ctrl.reply(200, "Switching to ASCII mode")
            }
            b"" => self.ctrl.reply(501, "TYPE needs an argument"),
            _ => self.ctrl.reply(504, "Type not supported"),
        }
    }

    /// MODE and STRU: only one value is supported.
    fn only(&mut self, arg: &[u8], supported: &[u8], what: &str) -> io::Result<()> {
        let arg = arg.trim_ascii();
        if arg.eq_ignore_ascii_case(supported) {
            self.ctrl.reply(
                200,
                format!("{what} set to {}", String::from_utf8_lossy(supported)),
            )
        } else if arg.is_empty() {
            self.ctrl.reply(501, format!("{what} needs an argument"))
        } else {
            self.ctrl.reply(504, format!("{what} not supported"))
        }
    }

    fn mlst(&mut self, arg: &[u8]) -> io::Result<()> {
        let target = vfs::join(&self.cwd, arg);
        let resolved = match self.shared.root.resolve(&target) {
            Ok(r) => r,
            Err(refusal) => return self.refuse(refusal),
        };
        let Some(entry) = dirlist::entry(target.clone(), &resolved.meta) else {
            return self.ctrl.reply(550, "Not a file or directory");
        };
        let mut facts = vec![b' '];
        facts.extend_from_slice(&format::mlsd_line(&entry));
        let mut first = b"Listing ".to_vec();
        first.extend_from_slice(&target);
        self.ctrl
            .reply_lines(250, vec![first, facts, b"End".to_vec()])
    }

    fn size(&mut self, arg: &[u8]) -> io::Result<()> {
        match self.resolve_file(arg)? {
            Some(r) => self.ctrl.reply(213, r.meta.len().to_string()),
            None => Ok(()),
        }
    }

    fn mdtm(&mut self, arg: &[u8]) -> io::Result<()> {
        let Some(r) = self.resolve_file(arg)? else {
            return Ok(());
        };
        match dirlist::modified(&r.meta) {
            Some(t) => self.ctrl.reply(213, format::time_val(&t)),
            None => self.ctrl.reply(550, "Modification time not available"),
        }
    }

    fn rest(&mut self, arg: &[u8]) -> io::Result<()> {
        let offset = std::str::from_utf8(arg.trim_ascii())
            .ok()
            .and_then(|s| s.parse::<u64>().ok());
        match offset {
            Some(n) => {
                self.restart = n;
                self.ctrl
                    .reply(350, format!("Restarting at {n}; send RETR to resume"))
            }
            None => self.ctrl.reply(501, "REST needs a byte offset"),
        }
    }

    /// Resolves `arg` to a regular file, replying with the error otherwise.
    fn resolve_file(&mut self, arg: &[u8]) -> io::Result<Option<Resolved>> {
        if arg.is_empty() {
            self.ctrl.reply(501, "A file name is needed")?;
            return Ok(None);
        }
        let target = vfs::join(&self.cwd, arg);
        match self.shared.root.resolve(&target) {
            Ok(r) if r.meta.is_file() => Ok(Some(r)),
            Ok(_) => {
                self.ctrl.reply(550, "Not a regular file")?;
                Ok(None)
            }
            Err(refusal) => {
                self.refuse(refusal)?;
                Ok(None)
            }
        }
    }

    /// Replies 550 for a path that cannot be used, the same way whether it
    /// is missing or outside the root.
    fn refuse(&mut self, refusal: Refusal) -> io::Result<()> {
        match refusal {
            Refusal::NotFound | Refusal::Outside => {
                self.ctrl.reply(550, "No such file or directory")
            }
            Refusal::Io(e) => {
                log::debug!("session {}: access failed: {e}", self.id);
                self.ctrl.reply(550, "Access denied")
            }
        }
    }

    // --- data connection setup ---

    fn pasv(&mut self) -> io::Result<()> {
        if self.epsv_all {
            return self.ctrl.reply(501, "EPSV ALL is in effect: use EPSV");
        }
        let ip = match self.local.ip().to_canonical() {
            IpAddr::V4(ip) => ip,
            IpAddr::V6(_) => return self.ctrl.reply(501, "PASV needs IPv4: use EPSV"),
        };
        match data::listen_passive(IpAddr::V4(ip)).and_then(|l| Ok((l.local_addr()?, l))) {
            Ok((addr, listener)) => {
                self.data = Some(DataSetup::Passive(listener));
                self.ctrl.reply(227, data::pasv_text(ip, addr.port()))
            }
            Err(e) => {
                log::warn!("session {}: passive listen failed: {e}", self.id);
                self.ctrl.reply(425, "Cannot open a passive data port")
            }
        }
    }

    fn epsv(&mut self, arg: &[u8]) -> io::Result<()> {
        let ip = self.local.ip().to_canonical();
        match arg.trim_ascii().to_ascii_uppercase().as_slice() {
            b"" => {}
            b"ALL" => {
                self.epsv_all = true;
                return self.ctrl.reply(200, "EPSV ALL accepted");
            }
            b"1" if ip.is_ipv4() => {}
            b"2" if ip.is_ipv6() => {}
            b"1" | b"2" => {
                let other = if ip.is_ipv4() { "(1)" } else { "(2)" };
                return self
                    .ctrl
                    .reply(522, format!("Network protocol not supported, use {other}"));
            }
            _ => return self.ctrl.reply(501, "EPSV takes 1, 2 or ALL"),
        }
        match data::listen_passive(ip).and_then(|l| Ok((l.local_addr()?, l))) {
            Ok((addr, listener)) => {
                self.data = Some(DataSetup::Passive(listener));
                let text = format!("Entering Extended Passive Mode (|||{}|)", addr.port());
                self.ctrl.reply(229, text)
            }
            Err(e) => {
                log::warn!("session {}: passive listen failed: {e}", self.id);
                self.ctrl.reply(425, "Cannot open a passive data port")
            }
        }
    }

    fn port(&mut self, arg: &[u8]) -> io::Result<()> {
        if self.epsv_all {
            return self.ctrl.reply(501, "EPSV ALL is in effect: use EPSV");
        }
        match data::parse_port(arg) {
            Some(target) => self.set_active(target),
            None => self.ctrl.reply(501, "Syntax error in PORT"),
        }
    }

    fn eprt(&mut self, arg: &[u8]) -> io::Result<()> {
        if self.epsv_all {
            return self.ctrl.reply(501, "EPSV ALL is in effect: use EPSV");
        }
        match data::parse_eprt(arg) {
            Ok(target) => self.set_active(target),
            Err(EprtError::Protocol) => self
                .ctrl
                .reply(522, "Network protocol not supported, use (1,2)"),
            Err(EprtError::Syntax) => self.ctrl.reply(501, "Syntax error in EPRT"),
        }
    }

    fn set_active(&mut self, target: SocketAddr) -> io::Result<()> {
        if !data::active_target_allowed(target, self.peer.ip()) {
            log::warn!(
                "session {}: refused active data connection to {target} (peer {})",
                self.id,
                self.peer.ip()
            );
            self.data = None;
            return self.ctrl.reply(
                501,
                "Refused: data connections go only to your own address, port 1024 or above",
            );
        }
        self.data = Some(DataSetup::Active(target));
        self.ctrl.reply(200, "PORT command successful")
    }

    // --- transfers ---

    fn listing(&mut self, arg: &[u8], style: Style) -> io::Result<Flow> {
        self.restart = 0;
        let arg = if style == Style::Facts {
            arg
        } else {
            skip_options(arg)
        };
        let target = vfs::join(&self.cwd, arg);
        let resolved = match self.shared.root.resolve(&target) {
            Ok(r) => r,
            Err(refusal) => {
                self.refuse(refusal)?;
                return Ok(Flow::Continue);
            }
        };
        let body = if resolved.meta.is_dir() {
            match dirlist::read_dir(&self.shared.root, &resolved.path) {
                Ok(entries) => dirlist::render(&entries, style),
                Err(e) => {
                    log::debug!(
                        "session {}: cannot list {}: {e}",
                        self.id,
                        resolved.path.display()
                    );
                    self.ctrl.reply(550, "Cannot read the directory")?;
                    return Ok(Flow::Continue);
                }
            }
        } else if style == Style::Facts {
            self.ctrl.reply(501, "Not a directory: use MLST")?;
            return Ok(Flow::Continue);
        } else {
            let name = match style {
                Style::Names => arg.to_vec(),
                _ => vfs::file_name(&target).to_vec(),
            };
            match dirlist::entry(name, &resolved.meta) {
                Some(entry) => dirlist::render(std::slice::from_ref(&entry), style),
                None => {
                    self.ctrl.reply(550, "Not a file or directory")?;
                    return Ok(Flow::Continue);
                }
            }
        };
        self.transfer(
            Body::Bytes(&body),
            b"Here comes the directory listing".to_vec(),
        )
    }

    fn retr(&mut self, arg: &[u8]) -> io::Result<Flow> {
        let offset = std::mem::take(&mut self.restart);
        let Some(resolved) = self.resolve_file(arg)? else {
            return Ok(Flow::Continue);
        };
        let len = resolved.meta.len();
        if offset > len {
            let text = format!("Restart offset {offset} is past the end of the file ({len} bytes)");
            self.ctrl.reply(554, text)?;
            return Ok(Flow::Continue);
        }
        let file = File::open(&resolved.path).and_then(|mut f| {
            if offset > 0 {
                f.seek(SeekFrom::Start(offset))?;
            }
            Ok(f)
        });
        let file = match file {
            Ok(f) => f,
            Err(e) => {
                log::debug!(
                    "session {}: cannot open {}: {e}",
                    self.id,
                    resolved.path.display()
                );
                self.ctrl.reply(550, "Cannot open the file")?;
                return Ok(Flow::Continue);
            }
        };
        let mode = if self.binary { "BINARY" } else { "ASCII" };
        let mut text = format!("Opening {mode} mode data connection for ").into_bytes();
        text.extend_from_slice(&vfs::join(&self.cwd, arg));
        text.extend_from_slice(format!(" ({} bytes)", len - offset).as_bytes());
        self.transfer(Body::File(file), text)
    }

    /// Opens the data connection, sends `150 text`, moves the body, closes
    /// the data connection and sends the final reply.
    ///
    /// The data setup (PASV/EPSV/PORT/EPRT) is used up only here: a command
    /// refused before this point leaves it in place, so a client that
    /// pipelines `EPSV` with the command can still connect, then read the
    /// refusal.
    fn transfer(&mut self, body: Body<'_>, text: Vec<u8>) -> io::Result<Flow> {
        let Some(setup) = self.data.take() else {
            self.ctrl.reply(425, "Use PORT, EPRT, PASV or EPSV first")?;
            return Ok(Flow::Continue);
        };
        let timeout = self.shared.config.data_timeout;
        let stream = match data::open(setup, self.peer.ip(), timeout, &self.shared.shutdown) {
            Ok(Some(s)) => s,
            Ok(None) => {
                self.ctrl.reply(425, "Cannot open the data connection")?;
                return Ok(Flow::Continue);
            }
            Err(e) => {
                log::debug!("session {}: data connection failed: {e}", self.id);
                self.ctrl.reply(425, "Cannot open the data connection")?;
                return Ok(Flow::Continue);
            }
        };
        self.ctrl.reply(150, text)?;
        let started = Instant::now();
        let outcome = self.pump(stream, body)?;
        match outcome {
            Outcome::Complete(bytes) => {
                log::debug!(
                    "session {}: sent {bytes} bytes in {:?}",
                    self.id,
                    started.elapsed()
                );
                self.ctrl.reply(226, "Transfer complete")?;
            }
            Outcome::Aborted => {
                log::debug!("session {}: transfer aborted by the client", self.id);
                self.ctrl.reply(426, "Transfer aborted")?;
                self.ctrl.reply(226, "ABOR successful")?;
            }
            Outcome::DataFailed(e) => {
                log::debug!("session {}: data connection failed: {e}", self.id);
                self.ctrl
                    .reply(426, "Data connection failed: transfer aborted")?;
            }
            Outcome::LocalFailed(e) => {
                log::warn!("session {}: reading the file failed: {e}", self.id);
                self.ctrl
                    .reply(451, "Local error reading the file: transfer aborted")?;
            }
            Outcome::ControlGone => return Ok(Flow::Close),
            Outcome::ShuttingDown => {
                self.ctrl.reply(421, "Server shutting down")?;
                return Ok(Flow::Close);
            }
        }
        Ok(Flow::Continue)
    }

    /// Sends `body` over `stream`, watching the control connection for ABOR
    /// between chunks, and closes `stream`.
    fn pump(&mut self, mut stream: TcpStream, mut body: Body<'_>) -> io::Result<Outcome> {
        let timeout = self.shared.config.data_timeout;
        stream.set_write_timeout(Some(WRITE_SLICE.min(timeout).max(Duration::from_millis(1))))?;
        let mut buf = std::mem::take(&mut self.buf);
        let mut ascii = Vec::new();
        let mut last_cr = false;
        let mut offset = 0usize;
        let mut sent = 0u64;
        let outcome = loop {
            if let Some(stop) = self.check_control() {
                break stop;
            }
            let chunk: &[u8] = match &mut body {
                Body::Bytes(bytes) => {
                    if offset >= bytes.len() {
                        break Outcome::Complete(sent);
                    }
                    let end = (offset + CHUNK).min(bytes.len());
                    let chunk = &bytes[offset..end];
                    offset = end;
                    chunk
                }
                Body::File(file) => {
                    if buf.len() < CHUNK {
                        buf.resize(CHUNK, 0);
                    }
                    match file.read(&mut buf) {
                        Ok(0) => break Outcome::Complete(sent),
                        Ok(n) if self.binary => &buf[..n],
                        Ok(n) => {
                            to_crlf(&buf[..n], &mut last_cr, &mut ascii);
                            &ascii
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => break Outcome::LocalFailed(e),
                    }
                }
            };
            if let Err(stop) = self.write_chunk(&mut stream, chunk, timeout) {
                break stop;
            }
            sent += chunk.len() as u64;
        };
        self.buf = buf;
        if matches!(outcome, Outcome::Complete(_)) {
            // Send FIN after the data; the client reads to end of stream.
            let _ = stream.shutdown(Shutdown::Write);
        }
        Ok(outcome)
    }

    /// Writes all of `chunk`, in slices short enough to notice an ABOR, and
    /// fails when no byte could be written for `timeout`.
    fn write_chunk(
        &mut self,
        stream: &mut TcpStream,
        mut chunk: &[u8],
        timeout: Duration,
    ) -> Result<(), Outcome> {
        let mut last_progress = Instant::now();
        while !chunk.is_empty() {
            match stream.write(chunk) {
                Ok(0) => {
                    return Err(Outcome::DataFailed(io::ErrorKind::WriteZero.into()));
                }
                Ok(n) => {
                    chunk = &chunk[n..];
                    last_progress = Instant::now();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if let Some(stop) = self.check_control() {
                        return Err(stop);
                    }
                    if last_progress.elapsed() >= timeout {
                        return Err(Outcome::DataFailed(io::ErrorKind::TimedOut.into()));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // A client that aborts often closes the data connection
                    // first: prefer reporting its ABOR.
                    return Err(self.check_control().unwrap_or(Outcome::DataFailed(e)));
                }
            }
        }
        Ok(())
    }

    /// Looks, without blocking, for ABOR (or a closed control connection or
    /// a shutdown) while a transfer runs. Other commands are kept for later.
    fn check_control(&mut self) -> Option<Outcome> {
        if self.shared.shutdown.load(Ordering::Relaxed) {
            return Some(Outcome::ShuttingDown);
        }
        if self.pending.is_some() {
            return None;
        }
        let mut line = Vec::new();
        match self.ctrl.poll_line(&mut line) {
            Ok(None) | Ok(Some(Input::TimedOut)) => None,
            Ok(Some(Input::Line)) => {
                if split_line(&line).0 == "ABOR" {
                    log::debug!("session {}: ABOR", self.id);
                    Some(Outcome::Aborted)
                } else {
                    self.pending = Some(Pending::Line(line));
                    None
                }
            }
            Ok(Some(Input::TooLong)) => {
                self.pending = Some(Pending::TooLong);
                None
            }
            Ok(Some(Input::Eof)) | Err(_) => Some(Outcome::ControlGone),
        }
    }
}

/// Skips leading `ls`-style options (`-l`, `-la`, `-a -l`) of LIST/NLST.
/// Without options the argument is kept as is (a name may start with a
/// space); after them, one separating space is dropped.
fn skip_options(arg: &[u8]) -> &[u8] {
    let mut rest = arg;
    let mut skipped = false;
    loop {
        if is_blank(rest) {
            return b"";
        }
        let trimmed = rest.trim_ascii_start();
        let word_end = trimmed
            .iter()
            .position(|&b| b == b' ')
            .unwrap_or(trimmed.len());
        let word = &trimmed[..word_end];
        if word.len() >= 2 && word[0] == b'-' && word[1..].iter().all(u8::is_ascii_alphabetic) {
            rest = &trimmed[word_end..];
            rest = rest.strip_prefix(b" ").unwrap_or(rest);
            skipped = true;
        } else {
            return if skipped { rest } else { arg };
        }
    }
}

fn is_blank(arg: &[u8]) -> bool {
    arg.iter().all(u8::is_ascii_whitespace)
}

/// Converts bare LF to CRLF (TYPE A), remembering a CR that ended the
/// previous chunk.
fn to_crlf(chunk: &[u8], last_cr: &mut bool, out: &mut Vec<u8>) {
    out.clear();
    out.reserve(chunk.len() + chunk.len() / 16);
    for &b in chunk {
        if b == b'\n' && !*last_cr {
            out.push(b'\r');
        }
        out.push(b);
        *last_cr = b == b'\r';
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_skipped() {
        assert_eq!(skip_options(b""), b"");
        assert_eq!(skip_options(b"-la"), b"");
        assert_eq!(skip_options(b"-a -l"), b"");
        assert_eq!(skip_options(b"-l dir"), b"dir");
        assert_eq!(skip_options(b"-la  two spaces"), b" two spaces");
        assert_eq!(skip_options(b"dir"), b"dir");
        assert_eq!(skip_options(b"a -l"), b"a -l");
        assert_eq!(skip_options(b"-1.txt"), b"-1.txt");
        assert_eq!(skip_options(b"   "), b"");
    }

    #[test]
    fn crlf_conversion_spans_chunks() {
        let mut last_cr = false;
        let mut out = Vec::new();
        to_crlf(b"a\nb\r", &mut last_cr, &mut out);
        assert_eq!(out, b"a\r\nb\r");
        to_crlf(b"\nc\r\n", &mut last_cr, &mut out);
        assert_eq!(out, b"\nc\r\n");
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret!"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }
}
