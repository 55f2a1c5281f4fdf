//! A scripted fake FTP server for fault cases.
//!
//! A [`FakeServer`] accepts one control connection on `127.0.0.1:0` and plays
//! a script of [`Step`]s on a background thread: send these bytes, expect a
//! command starting with that, open a passive data listener, send data, close.
//! When the script ends it keeps reading the control connection until the
//! client closes it (or the linger time passes) and records any further
//! command lines as [`Outcome::extra`]. Every socket has a timeout and the
//! whole run has a deadline, so a test never hangs on the fake server.
//!
//! [`FakeServer::finish`] returns what happened on the server side; a failed
//! [`Step::Expect`] is an error there, not a panic on the server thread.
//!
//! ```
//! use ftp_mirror_tests::fake::{FakeServer, Step};
//! use std::io::{BufRead, BufReader, Write};
//!
//! let server = FakeServer::start(vec![
//!     Step::send("220 hello\r\n"),
//!     Step::expect("NOOP"),
//!     Step::send("200 ok\r\n"),
//! ]);
//! let mut control = std::net::TcpStream::connect(server.addr()).unwrap();
//! let mut reader = BufReader::new(control.try_clone().unwrap());
//! let mut line = String::new();
//! reader.read_line(&mut line).unwrap();
//! control.write_all(b"NOOP\r\n").unwrap();
//! line.clear();
//! reader.read_line(&mut line).unwrap();
//! assert_eq!(line, "200 ok\r\n");
//! drop((control, reader));
//! let outcome = server.finish();
//! outcome.assert_ok();
//! assert_eq!(outcome.commands, ["NOOP"]);
//! ```

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// One step of a fake server's script.
#[derive(Clone)]
pub enum Step {
    /// Writes these bytes on the control connection in one write.
    Send(Vec<u8>),
    /// Writes each chunk in its own write, flushing and pausing 20 ms between
    /// them, so the client sees them in separate reads (a reply split
    /// anywhere, even inside a line ending).
    SendRaw(Vec<Vec<u8>>),
    /// Writes `pattern` over and over until `total` bytes were sent or the
    /// client stopped reading or closed; neither is an error.
    Flood {
        /// The bytes repeated.
        pattern: Vec<u8>,
        /// How many bytes to send at most.
        total: usize,
    },
    /// Reads one command line and checks that it starts with this prefix
    /// (ASCII case-insensitive). A mismatch, a timeout or EOF is an error and
    /// ends the script.
    Expect(String),
    /// Opens a data listener on `127.0.0.1:0` and replies
    /// `227 Entering Passive Mode (127,0,0,1,p1,p2).`.
    Pasv,
    /// Opens a data listener on `127.0.0.1:0` and replies
    /// `229 Entering Extended Passive Mode (|||port|).`.
    Epsv,
    /// Opens a data listener on `127.0.0.1:0` and sends this template with
    /// `{p1}`, `{p2}` (the port's high and low byte) and `{port}` replaced,
    /// e.g. `"227 (10,9,9,9,{p1},{p2})\r\n"` to announce a bogus host.
    PasvReply(String),
    /// Accepts the data connection on the open listener (done implicitly by
    /// the data steps; use it to accept before sending a reply).
    Accept,
    /// Active mode: connects to the address of the latest `PORT h1,h2,h3,h4,p1,p2`
    /// or `EPRT |1|ip|port|` / `EPRT |2|ip|port|` command read by an `Expect`.
    ConnectBack,
    /// Replies `350 Restarting at N.` where N is the argument of the latest
    /// `REST` command read by an `Expect` (a server echoing the offset).
    RestEcho,
    /// Writes bytes on the data connection (accepting it first if needed).
    DataSend(Vec<u8>),
    /// Reads the data connection to EOF into [`Outcome::data_received`]
    /// (accepting it first if needed), e.g. for STOR.
    DataRecv,
    /// Closes the data connection and the data listener.
    DataClose,
    /// Closes the control connection and ends the script.
    Close,
    /// Waits this many milliseconds without answering, still noticing
    /// commands (kept for the next `Expect`) and a close by the client (which
    /// ends the script; see [`Outcome::client_closed`]).
    Sleep(u64),
}

impl Step {
    /// [`Step::Send`] from text or bytes.
    pub fn send(bytes: impl AsRef<[u8]>) -> Step {
        Step::Send(bytes.as_ref().to_vec())
    }

    /// [`Step::Expect`] with this prefix.
    pub fn expect(prefix: &str) -> Step {
        Step::Expect(prefix.to_string())
    }

    /// [`Step::DataSend`] from text or bytes.
    pub fn data(bytes: impl AsRef<[u8]>) -> Step {
        Step::DataSend(bytes.as_ref().to_vec())
    }

    /// [`Step::SendRaw`] from a list of chunks.
    pub fn split<B: AsRef<[u8]>>(chunks: &[B]) -> Step {
        Step::SendRaw(chunks.iter().map(|c| c.as_ref().to_vec()).collect())
    }
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lossy = |b: &[u8]| {
            let s = String::from_utf8_lossy(&b[..b.len().min(80)]).into_owned();
            if b.len() > 80 {
                format!("{s}... ({} bytes)", b.len())
            } else {
                s
            }
        };
        match self {
            Step::Send(b) => write!(f, "Send({:?})", lossy(b)),
            Step::SendRaw(chunks) => write!(f, "SendRaw({} chunks)", chunks.len()),
            Step::Flood { total, .. } => write!(f, "Flood({total} bytes)"),
            Step::Expect(p) => write!(f, "Expect({p:?})"),
            Step::Pasv => f.write_str("Pasv"),
            Step::Epsv => f.write_str("Epsv"),
            Step::PasvReply(t) => write!(f, "PasvReply({t:?})"),
            Step::Accept => f.write_str("Accept"),
            Step::ConnectBack => f.write_str("ConnectBack"),
            Step::RestEcho => f.write_str("RestEcho"),
            Step::DataSend(b) => write!(f, "DataSend({:?})", lossy(b)),
            Step::DataRecv => f.write_str("DataRecv"),
            Step::DataClose => f.write_str("DataClose"),
            Step::Close => f.write_str("Close"),
            Step::Sleep(ms) => write!(f, "Sleep({ms})"),
        }
    }
}

/// Timeouts of a fake server.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The whole run, from start to the end of lingering.
    pub deadline: Duration,
    /// Each socket read or write (and each accept).
    pub io: Duration,
    /// How long to keep reading the control connection after the script.
    pub linger: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            deadline: Duration::from_secs(30),
            io: Duration::from_secs(10),
            linger: Duration::from_secs(5),
        }
    }
}

/// What happened on the server side.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Every command line read by an `Expect`, without its line ending.
    pub commands: Vec<String>,
    /// Command lines read after the script ended (or left unread by it).
    pub extra: Vec<String>,
    /// Bytes read by [`Step::DataRecv`].
    pub data_received: Vec<u8>,
    /// Failed expectations and I/O errors; empty when the script ran as written.
    pub errors: Vec<String>,
    /// Whether the client closed the control connection during a `Sleep`.
    pub client_closed: bool,
    /// How many steps ran to completion.
    pub steps_done: usize,
    /// Bytes written on the control connection (what a `Flood` got out
    /// before the client stopped reading).
    pub control_bytes_sent: u64,
}

impl Outcome {
    /// Panics with the details unless the script ran without errors.
    pub fn assert_ok(&self) {
        assert!(self.errors.is_empty(), "fake server errors: {:#?}", self);
    }

    /// Every command line received, in order: those the script read and then
    /// the extra ones.
    pub fn all_commands(&self) -> Vec<String> {
        self.commands.iter().chain(&self.extra).cloned().collect()
    }
}

/// A fake FTP server playing one script for one client.
pub struct FakeServer {
    addr: SocketAddr,
    handle: Option<JoinHandle<Outcome>>,
}

/// Runs `f` against a fake server playing `script`, with a hard time
/// limit, then returns its value and what the server saw. When `f` panics,
/// the server's side is printed before the panic goes on.
pub fn run_client<T: Send + 'static>(
    script: Vec<Step>,
    f: impl FnOnce(&FakeServer) -> T + Send + 'static,
) -> (T, Outcome) {
    let server = FakeServer::start(script);
    let addr = server.addr();
    let (value, server) = crate::within(
        Duration::from_secs(30),
        &format!("client against fake {addr}"),
        move || {
            let v = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&server)));
            (v, server)
        },
    );
    let outcome = server.finish();
    match value {
        Ok(v) => (v, outcome),
        Err(panic) => {
            eprintln!("fake server side: {outcome:#?}");
            std::panic::resume_unwind(panic)
        }
    }
}

impl FakeServer {
    /// Starts a server with the default [`Limits`].
    pub fn start(script: Vec<Step>) -> FakeServer {
        FakeServer::with_limits(script, Limits::default())
    }

    /// Starts a server with these limits.
    pub fn with_limits(script: Vec<Step>, limits: Limits) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let handle = thread::Builder::new()
            .name("fake ftp server".into())
            .spawn(move || run(listener, script, limits))
            .expect("spawn the fake server");
        FakeServer {
            addr,
            handle: Some(handle),
        }
    }

    /// The control address (`127.0.0.1:port`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The host to connect to, `"127.0.0.1"`.
    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The control port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Waits for the script (and lingering) to end and returns the outcome.
    /// Drop the client first, or this waits for the linger time.
    pub fn finish(mut self) -> Outcome {
        let handle = self.handle.take().expect("finish is called once");
        match handle.join() {
            Ok(outcome) => outcome,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeServer")
            .field("addr", &self.addr)
            .finish()
    }
}

/// The state of one run.
struct Session {
    control: TcpStream,
    /// Bytes read from control that were not yet consumed as a command.
    pending: Vec<u8>,
    listener: Option<TcpListener>,
    data: Option<TcpStream>,
    limits: Limits,
    deadline: Instant,
    outcome: Outcome,
}

/// Why the script stopped early.
enum Stop {
    /// An error, already recorded.
    Failed,
    /// The script closed the connection or the client went away.
    Closed,
}

fn run(listener: TcpListener, script: Vec<Step>, limits: Limits) -> Outcome {
    let deadline = Instant::now() + limits.deadline;
    let mut outcome = Outcome::default();
    let control = match accept_until(&listener, deadline.min(Instant::now() + limits.io)) {
        Ok(s) => s,
        Err(e) => {
            outcome.errors.push(format!("no client connected: {e}"));
            return outcome;
        }
    };
    drop(listener);
    let _ = control.set_write_timeout(Some(limits.io));
    let _ = control.set_nodelay(true);
    let mut s = Session {
        control,
        pending: Vec::new(),
        listener: None,
        data: None,
        limits,
        deadline,
        outcome,
    };
    let mut closed = false;
    for (i, step) in script.iter().enumerate() {
        match s.step(step) {
            Ok(()) => s.outcome.steps_done += 1,
            Err(Stop::Closed) => {
                closed = true;
                break;
            }
            Err(Stop::Failed) => {
                let msg = format!("script stopped at step {i} ({step:?})");
                s.outcome.errors.push(msg);
                break;
            }
        }
    }
    if !closed {
        s.linger();
    }
    s.outcome
}

impl Session {
    fn step(&mut self, step: &Step) -> Result<(), Stop> {
        match step {
            Step::Send(bytes) => self.send(bytes),
            Step::SendRaw(chunks) => {
                for (i, chunk) in chunks.iter().enumerate() {
                    if i > 0 {
                        thread::sleep(Duration::from_millis(20));
                    }
                    self.send(chunk)?;
                }
                Ok(())
            }
            Step::Flood { pattern, total } => {
                let mut sent = 0;
                while sent < *total && !pattern.is_empty() && Instant::now() < self.deadline {
                    let n = pattern.len().min(total - sent);
                    if self.control.write_all(&pattern[..n]).is_err() {
                        break;
                    }
                    sent += n;
                    self.outcome.control_bytes_sent += n as u64;
                }
                Ok(())
            }
            Step::Expect(prefix) => self.expect(prefix),
            Step::Pasv => self.open_passive("227 Entering Passive Mode (127,0,0,1,{p1},{p2}).\r\n"),
            Step::Epsv => self.open_passive("229 Entering Extended Passive Mode (|||{port}|).\r\n"),
            Step::PasvReply(template) => self.open_passive(template),
            Step::Accept => self.data().map(|_| ()),
            Step::ConnectBack => self.connect_back(),
            Step::RestEcho => {
                let latest = self.outcome.commands.iter().rev().find_map(|c| {
                    let (verb, arg) = c.split_once(' ')?;
                    verb.eq_ignore_ascii_case("REST").then(|| arg.to_string())
                });
                match latest {
                    Some(n) => self.send(format!("350 Restarting at {n}.\r\n").as_bytes()),
                    None => Err(self.fail("RestEcho: no REST command was read".into())),
                }
            }
            Step::DataSend(bytes) => {
                let data = self.data()?;
                if let Err(e) = data.write_all(bytes) {
                    return Err(self.fail(format!("writing {} data bytes: {e}", bytes.len())));
                }
                Ok(())
            }
            Step::DataRecv => {
                let deadline = self.deadline;
                let data = self.data()?;
                let mut got = Vec::new();
                let r = read_to_end_until(data, &mut got, deadline);
                self.outcome.data_received.extend_from_slice(&got);
                match r {
                    Ok(()) => Ok(()),
                    Err(e) => Err(self.fail(format!("reading data: {e}"))),
                }
            }
            Step::DataClose => {
                if let Some(d) = self.data.take() {
                    let _ = d.shutdown(Shutdown::Both);
                }
                self.listener = None;
                Ok(())
            }
            Step::Close => {
                let _ = self.control.shutdown(Shutdown::Both);
                Err(Stop::Closed)
            }
            Step::Sleep(ms) => self.sleep(Duration::from_millis(*ms)),
        }
    }

    /// Records an error; the caller returns the `Stop`.
    fn fail(&mut self, msg: String) -> Stop {
        self.outcome.errors.push(msg);
        Stop::Failed
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        match self
            .control
            .write_all(bytes)
            .and_then(|()| self.control.flush())
        {
            Ok(()) => {
                self.outcome.control_bytes_sent += bytes.len() as u64;
                Ok(())
            }
            Err(e) => Err(self.fail(format!("writing {} control bytes: {e}", bytes.len()))),
        }
    }

    fn expect(&mut self, prefix: &str) -> Result<(), Stop> {
        let until = self.deadline.min(Instant::now() + self.limits.io);
        match self.read_line(until) {
            Ok(Some(line)) => {
                let ok = line.len() >= prefix.len()
                    && line.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes());
                self.outcome.commands.push(line.clone());
                if ok {
                    Ok(())
                } else {
                    Err(self.fail(format!(
                        "expected a command starting with {prefix:?}, got {line:?}"
                    )))
                }
            }
            Ok(None) => Err(self.fail(format!(
                "expected {prefix:?}, the client closed the connection"
            ))),
            Err(e) => Err(self.fail(format!("expected {prefix:?}: {e}"))),
        }
    }

    /// Reads one line (CRLF or LF) from control; `None` on EOF.
    fn read_line(&mut self, until: Instant) -> io::Result<Option<String>> {
        loop {
            if let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=i).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            if self.pending.len() > 64 * 1024 {
                return Err(io::Error::other("command line longer than 64 KiB"));
            }
            match self.fill(until)? {
                0 => return Ok(None),
                _ => continue,
            }
        }
    }

    /// Reads what is available on control into `pending`; 0 on EOF. Times
    /// out at `until`.
    fn fill(&mut self, until: Instant) -> io::Result<usize> {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
        }
        self.control.set_read_timeout(Some(left))?;
        let mut buf = [0u8; 4096];
        let n = self.control.read(&mut buf)?;
        self.pending.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn sleep(&mut self, d: Duration) -> Result<(), Stop> {
        let until = self.deadline.min(Instant::now() + d);
        while Instant::now() < until {
            match self.fill(until) {
                Ok(0) => {
                    self.outcome.client_closed = true;
                    return Err(Stop::Closed);
                }
                Ok(_) => {}
                Err(e) if is_timeout(&e) => break,
                Err(_) => {
                    self.outcome.client_closed = true;
                    return Err(Stop::Closed);
                }
            }
        }
        Ok(())
    }

    fn open_passive(&mut self, template: &str) -> Result<(), Stop> {
        let listener = match TcpListener::bind("127.0.0.1:0") {
            Ok(l) => l,
            Err(e) => return Err(self.fail(format!("binding a data listener: {e}"))),
        };
        let port = match listener.local_addr() {
            Ok(a) => a.port(),
            Err(e) => return Err(self.fail(format!("data listener address: {e}"))),
        };
        self.data = None;
        self.listener = Some(listener);
        let reply = template
            .replace("{p1}", &(port >> 8).to_string())
            .replace("{p2}", &(port & 0xff).to_string())
            .replace("{port}", &port.to_string());
        self.send(reply.as_bytes())
    }

    fn connect_back(&mut self) -> Result<(), Stop> {
        let Some(addr) = self
            .outcome
            .commands
            .iter()
            .rev()
            .find_map(|c| active_target(c))
        else {
            return Err(self.fail("ConnectBack: no PORT or EPRT command was read".into()));
        };
        match TcpStream::connect_timeout(&addr, self.limits.io) {
            Ok(stream) => {
                let _ = stream.set_write_timeout(Some(self.limits.io));
                let _ = stream.set_read_timeout(Some(self.limits.io));
                self.listener = None;
                self.data = Some(stream);
                Ok(())
            }
            Err(e) => Err(self.fail(format!("ConnectBack to {addr}: {e}"))),
        }
    }

    /// The data connection, accepting it first if needed.
    fn data(&mut self) -> Result<&mut TcpStream, Stop> {
        if self.data.is_none() {
            let Some(listener) = self.listener.as_ref() else {
                return Err(self.fail("a data step without a data listener (add Pasv/Epsv)".into()));
            };
            let until = self.deadline.min(Instant::now() + self.limits.io);
            match accept_until(listener, until) {
                Ok(stream) => {
                    let _ = stream.set_write_timeout(Some(self.limits.io));
                    let _ = stream.set_read_timeout(Some(self.limits.io));
                    self.data = Some(stream);
                }
                Err(e) => return Err(self.fail(format!("accepting the data connection: {e}"))),
            }
        }
        self.data.as_mut().ok_or(Stop::Failed)
    }

    /// Reads control until EOF or the linger time, recording extra commands.
    fn linger(&mut self) {
        let until = self.deadline.min(Instant::now() + self.limits.linger);
        while let Ok(Some(line)) = self.read_line(until) {
            self.outcome.extra.push(line);
        }
        if !self.pending.is_empty() {
            let rest = String::from_utf8_lossy(&self.pending).into_owned();
            self.outcome.extra.push(rest);
        }
    }
}

/// The address of a `PORT` or `EPRT` command line.
fn active_target(line: &str) -> Option<SocketAddr> {
    let (verb, arg) = line.split_once(' ')?;
    if verb.eq_ignore_ascii_case("PORT") {
        let n: Vec<u8> = arg
            .trim()
            .split(',')
            .map(|x| x.trim().parse().ok())
            .collect::<Option<_>>()?;
        if n.len() != 6 {
            return None;
        }
        let ip = std::net::Ipv4Addr::new(n[0], n[1], n[2], n[3]);
        return Some(SocketAddr::new(
            ip.into(),
            u16::from(n[4]) << 8 | u16::from(n[5]),
        ));
    }
    if verb.eq_ignore_ascii_case("EPRT") {
        let arg = arg.trim();
        let d = arg.chars().next()?;
        let parts: Vec<&str> = arg.split(d).collect();
        // "", proto, ip, port, ""
        if parts.len() != 5 {
            return None;
        }
        let ip: std::net::IpAddr = parts[2].parse().ok()?;
        let port: u16 = parts[3].parse().ok()?;
        return Some(SocketAddr::new(ip, port));
    }
    None
}

/// Accepts one connection before `until` (a `TcpListener` has no accept timeout).
fn accept_until(listener: &TcpListener, until: Instant) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                return Ok(stream);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= until {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "no connection"));
                }
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
}

fn read_to_end_until(stream: &mut TcpStream, out: &mut Vec<u8>, until: Instant) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "data not closed in time",
            ));
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buf)? {
            0 => return Ok(()),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};

    fn connect(server: &FakeServer) -> (TcpStream, BufReader<TcpStream>) {
        let s = TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let r = BufReader::new(s.try_clone().unwrap());
        (s, r)
    }

    #[test]
    fn a_mismatched_command_is_an_error_not_a_panic() {
        let server = FakeServer::start(vec![Step::expect("USER"), Step::send("331 x\r\n")]);
        let (mut s, r) = connect(&server);
        s.write_all(b"PASS x\r\n").unwrap();
        drop((s, r));
        let outcome = server.finish();
        assert_eq!(outcome.commands, ["PASS x"]);
        assert_eq!(outcome.errors.len(), 2, "{outcome:?}");
        assert_eq!(outcome.steps_done, 0);
    }

    #[test]
    fn passive_data_and_extra_commands() {
        let server = FakeServer::start(vec![
            Step::Pasv,
            Step::data("payload"),
            Step::DataClose,
            Step::expect("stor"),
            Step::Epsv,
            Step::DataRecv,
        ]);
        let (mut s, mut r) = connect(&server);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let nums: Vec<u16> = line
            .split(['(', ')'])
            .nth(1)
            .unwrap()
            .split(',')
            .map(|n| n.parse().unwrap())
            .collect();
        let mut data = TcpStream::connect(("127.0.0.1", nums[4] * 256 + nums[5])).unwrap();
        let mut got = String::new();
        data.read_to_string(&mut got).unwrap();
        assert_eq!(got, "payload");

        s.write_all(b"STOR f\r\n").unwrap();
        line.clear();
        r.read_line(&mut line).unwrap();
        let port: u16 = line.split('|').nth(3).unwrap().parse().unwrap();
        let mut data = TcpStream::connect(("127.0.0.1", port)).unwrap();
        data.write_all(b"uploaded").unwrap();
        drop(data);
        thread::sleep(Duration::from_millis(50));
        s.write_all(b"QUIT\r\n").unwrap();
        drop((s, r));
        let outcome = server.finish();
        outcome.assert_ok();
        assert_eq!(outcome.data_received, b"uploaded");
        assert_eq!(outcome.extra, ["QUIT"]);
    }

    #[test]
    fn active_targets() {
        assert_eq!(
            active_target("PORT 127,0,0,1,200,10"),
            Some("127.0.0.1:51210".parse().unwrap())
        );
        assert_eq!(
            active_target("EPRT |2|::1|6446|"),
            Some("[::1]:6446".parse().unwrap())
        );
        assert_eq!(
            active_target("eprt !1!127.0.0.1!80!"),
            Some("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(active_target("PORT 127,0,0,1,300,10"), None);
        assert_eq!(active_target("RETR x"), None);
    }

    #[test]
    fn sleep_ends_when_the_client_leaves() {
        let server = FakeServer::start(vec![Step::Sleep(20_000)]);
        let (s, r) = connect(&server);
        drop((s, r));
        let (outcome, took) = crate::timed(|| server.finish());
        assert!(outcome.client_closed);
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}
