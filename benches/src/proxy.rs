//! An FTP-aware latency proxy: the kernel has no netem here, so round-trip
//! time is added in user space.
//!
//! Every byte crossing the proxy, in either direction, is delivered one
//! one-way delay after the proxy read it. Chunks keep their order but are not
//! serialized: a chunk that arrives while an earlier one is still waiting
//! leaves at its own arrival time plus the delay.
//!
//! Each new connection pays the TCP handshake: the proxy connects to the real
//! server three one-way delays (1.5 RTT: SYN, SYN-ACK, ACK) after it accepted
//! the client, which is when a real server's `accept` would return. Bytes the
//! client sends meanwhile are queued and delivered once that connection is up,
//! so the server sees them no earlier than over a real link; a server's
//! greeting reaches the client 2 RTT after its connect, as on a real network.
//!
//! Passive replies are rewritten so data connections pass through the proxy
//! too: for each `227` (PASV) or `229` (EPSV) reply the proxy opens a listener,
//! puts its port into the reply, accepts the client's data connection and
//! relays it to the server's data port with the same delays.
//!
//! Active-mode commands are rewritten the other way round: for each `PORT` or
//! `EPRT` command the proxy opens a listener on the address the server sees it
//! connect from (pyftpdlib refuses a `PORT` naming any other host), puts it
//! into the command, accepts the server's data connection and relays it to the
//! address the client named. The command is rewritten when the proxy reads it,
//! so it still pays its one-way delay, and the data connection pays the
//! handshake with the roles swapped: the server's `connect` returns at once,
//! but the proxy connects to the client's listener only three one-way delays
//! after accepting the server. Bytes the server writes meanwhile are queued,
//! so its first data reaches the client 1.5 RTT after it started connecting
//! (SYN, SYN-ACK, then the data one way) and the client's `accept` returns
//! when the ACK would arrive, as on a real network. A `PORT` (which can only
//! name an IPv4 address) sent to an IPv6 server, and any command that does not
//! parse, is passed on untouched.
//!
//! In-flight data is bounded by a window of [`WINDOW_CHUNKS`] chunks of at most
//! [`CHUNK`] bytes per direction, which plays the part of a TCP window.
//!
//! ```no_run
//! use std::time::Duration;
//! use ftp_mirror_benches::proxy::LatencyProxy;
//! let server: std::net::SocketAddr = "127.0.0.1:2121".parse()?;
//! // 20 ms round trip: 10 ms each way.
//! let proxy = LatencyProxy::start(server, Duration::from_millis(10))?;
//! println!("connect to {}", proxy.local_addr());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Largest chunk read from a socket at once.
pub const CHUNK: usize = 64 * 1024;
/// Chunks that may be in flight per direction (the proxy's "window").
pub const WINDOW_CHUNKS: usize = 128;

/// How often blocked threads look at the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// How long a data listener waits for its connection (the client's in
/// passive mode, the server's in active mode).
const DATA_ACCEPT_TIMEOUT: Duration = Duration::from_secs(60);
/// Timeout for connecting to the real server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout of a single socket write.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// A control line longer than this is passed through without inspection.
const MAX_CONTROL_LINE: usize = 8 * 1024;

/// A running latency proxy; stops (and closes every relayed connection) when
/// dropped.
pub struct LatencyProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

/// Counters for tests and reports.
#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    control_connections: AtomicU64,
    data_connections: AtomicU64,
    passive_rewrites: AtomicU64,
    active_rewrites: AtomicU64,
    next_trace_conn: AtomicU64,
    trace: Mutex<Option<Trace>>,
}

/// Where control lines are logged, with times relative to `start`.
struct Trace {
    out: BufWriter<File>,
    start: Instant,
}

/// How a proxy delays and relays traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyOptions {
    /// Delay in each direction (half the round-trip time).
    pub one_way: Duration,
    /// How long after accepting a client the proxy connects to the server.
    /// [`ProxyOptions::ftp`] uses three one-way delays: the TCP handshake as
    /// the server sees it.
    pub handshake: Duration,
    /// True: an FTP control connection whose passive replies and active
    /// commands are rewritten.
    /// False: a plain TCP relay.
    pub ftp: bool,
}

impl ProxyOptions {
    /// An FTP proxy with `one_way` delay and a 1.5 RTT handshake.
    pub fn ftp(one_way: Duration) -> ProxyOptions {
        ProxyOptions {
            one_way,
            handshake: one_way * 3,
            ftp: true,
        }
    }
}

impl LatencyProxy {
    /// Starts a proxy on `127.0.0.1:0` (or `[::1]:0` for an IPv6 upstream)
    /// in front of the FTP server at `upstream`, adding `one_way` delay in
    /// each direction (the round-trip time is twice that).
    pub fn start(upstream: SocketAddr, one_way: Duration) -> io::Result<LatencyProxy> {
        LatencyProxy::start_with(upstream, ProxyOptions::ftp(one_way))
    }

    /// Like [`start`](LatencyProxy::start) but a plain TCP relay: no reply
    /// or command is inspected or rewritten.
    pub fn start_tcp(upstream: SocketAddr, one_way: Duration) -> io::Result<LatencyProxy> {
        LatencyProxy::start_with(
            upstream,
            ProxyOptions {
                ftp: false,
                ..ProxyOptions::ftp(one_way)
            },
        )
    }

    /// Starts a proxy with explicit options.
    pub fn start_with(upstream: SocketAddr, options: ProxyOptions) -> io::Result<LatencyProxy> {
        let ftp = options.ftp;
        let listener = TcpListener::bind(SocketAddr::new(loopback_like(upstream.ip()), 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let ctx = Ctx {
            upstream_ip: upstream.ip(),
            delay: options.one_way,
            handshake: options.handshake,
            shared: shared.clone(),
        };
        let accept = thread::Builder::new()
            .name("proxy-accept".into())
            .spawn(move || {
                while !ctx.shared.stop.load(Ordering::Relaxed) {
                    match accept_within(&listener, POLL) {
                        Ok(Some(client)) => {
                            ctx.shared
                                .control_connections
                                .fetch_add(1, Ordering::Relaxed);
                            let ctx = ctx.clone();
                            let _ = thread::Builder::new()
                                .name("proxy-control".into())
                                .spawn(move || relay(client, upstream, ctx, ftp));
                        }
                        Ok(None) => {}
                        Err(e) => {
                            log::warn!("proxy accept failed: {e}");
                            thread::sleep(POLL);
                        }
                    }
                }
            })?;
        Ok(LatencyProxy {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Control connections accepted so far.
    pub fn control_connections(&self) -> u64 {
        self.shared.control_connections.load(Ordering::Relaxed)
    }

    /// Data connections accepted so far (from the client in passive mode,
    /// from the server in active mode).
    pub fn data_connections(&self) -> u64 {
        self.shared.data_connections.load(Ordering::Relaxed)
    }

    /// PASV and EPSV replies rewritten so far.
    pub fn passive_rewrites(&self) -> u64 {
        self.shared.passive_rewrites.load(Ordering::Relaxed)
    }

    /// PORT and EPRT commands rewritten so far.
    pub fn active_rewrites(&self) -> u64 {
        self.shared.active_rewrites.load(Ordering::Relaxed)
    }

    /// Starts logging every control line (commands `C`, replies `S`) to
    /// `path`, one per line: milliseconds since this call, control
    /// connection number, direction, the line (`PASS` arguments hidden).
    /// `None` stops logging. The time is when the proxy read the line, i.e.
    /// when its sender sent it.
    pub fn set_trace(&self, path: Option<&Path>) -> io::Result<()> {
        let new = match path {
            Some(p) => Some(Trace {
                out: BufWriter::new(File::create(p)?),
                start: Instant::now(),
            }),
            None => None,
        };
        let mut guard = self
            .shared
            .trace
            .lock()
            .map_err(|_| io::Error::other("trace lock poisoned"))?;
        if let Some(old) = guard.as_mut() {
            old.out.flush()?;
        }
        *guard = new;
        Ok(())
    }
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// What every relay thread needs.
#[derive(Clone)]
struct Ctx {
    upstream_ip: IpAddr,
    delay: Duration,
    handshake: Duration,
    shared: Arc<Shared>,
}

/// A chunk scheduled for delivery, or the end of a direction.
enum Msg {
    Data(Instant, Vec<u8>),
    Eof(Instant),
}

/// Relays one connection (control or data) between `client` and `upstream`.
fn relay(client: TcpStream, upstream: SocketAddr, ctx: Ctx, control: bool) {
    if let Err(e) = relay_inner(client, upstream, &ctx, control) {
        log::debug!("proxy relay to {upstream} ended: {e}");
    }
}

fn relay_inner(
    client: TcpStream,
    upstream: SocketAddr,
    ctx: &Ctx,
    control: bool,
) -> io::Result<()> {
    configure(&client)?;
    let proxy_ip = client.local_addr()?.ip();
    let (up_tx, up_rx) = mpsc::sync_channel(WINDOW_CHUNKS);
    let client_reader = client.try_clone()?;
    let stop_ctx = ctx.clone();
    let conn = ctx.shared.next_trace_conn.fetch_add(1, Ordering::Relaxed);
    let tracer = |dir| {
        control.then(|| LineTracer {
            conn,
            dir,
            partial: Vec::new(),
        })
    };
    let up_tracer = tracer('C');
    // Set once the upstream connection is up: the address the server sees the
    // proxy connect from, where active-mode listeners are bound.
    let server_facing = Arc::new(OnceLock::new());
    let up_rewrite = control.then(|| Rewriter {
        side: Side::Commands {
            server_facing: server_facing.clone(),
        },
        ctx: ctx.clone(),
    });
    let reader_up = thread::Builder::new()
        .name("proxy-read-client".into())
        .spawn(move || pump_in(client_reader, up_tx, &stop_ctx, up_rewrite, up_tracer))?;

    // The handshake (SYN, SYN-ACK, ACK reach the server after 1.5 RTT),
    // then the real connection.
    sleep_until(Instant::now() + ctx.handshake, &ctx.shared.stop);
    let server = match TcpStream::connect_timeout(&upstream, CONNECT_TIMEOUT) {
        Ok(s) => s,
        Err(e) => {
            let _ = client.shutdown(Shutdown::Both);
            let _ = reader_up.join();
            return Err(e);
        }
    };
    configure(&server)?;
    let _ = server_facing.set(server.local_addr()?.ip());

    let server_writer = server.try_clone()?;
    let kill = [client.try_clone()?, server.try_clone()?];
    let stop_ctx = ctx.clone();
    let writer_up = thread::Builder::new()
        .name("proxy-write-server".into())
        .spawn(move || pump_out(up_rx, server_writer, &stop_ctx))?;

    let (down_tx, down_rx) = mpsc::sync_channel(WINDOW_CHUNKS);
    let rewrite = control.then(|| Rewriter {
        side: Side::Replies { proxy_ip },
        ctx: ctx.clone(),
    });
    let server_reader = server.try_clone()?;
    let stop_ctx = ctx.clone();
    let down_tracer = tracer('S');
    let reader_down = thread::Builder::new()
        .name("proxy-read-server".into())
        .spawn(move || pump_in(server_reader, down_tx, &stop_ctx, rewrite, down_tracer))?;

    let down_ok = pump_out(down_rx, client, ctx);
    if !down_ok {
        for s in &kill {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
    let up_ok = writer_up.join().unwrap_or(false);
    if !up_ok {
        for s in &kill {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
    let _ = reader_down.join();
    let _ = reader_up.join();
    Ok(())
}

fn configure(s: &TcpStream) -> io::Result<()> {
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(POLL))?;
    s.set_write_timeout(Some(WRITE_TIMEOUT))
}

/// Reads `src` and schedules each chunk at arrival + delay. Control lines
/// (server replies, client commands) go through `rewrite` as they are read.
fn pump_in(
    mut src: TcpStream,
    tx: SyncSender<Msg>,
    ctx: &Ctx,
    mut rewrite: Option<Rewriter>,
    mut tracer: Option<LineTracer>,
) {
    let mut buf = vec![0u8; CHUNK];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        if ctx.shared.stop.load(Ordering::Relaxed) {
            break;
        }
        match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let at = Instant::now() + ctx.delay;
                if let Some(t) = tracer.as_mut() {
                    t.feed(&buf[..n], &ctx.shared);
                }
                let chunk = match rewrite.as_mut() {
                    None => buf[..n].to_vec(),
                    Some(rw) => {
                        pending.extend_from_slice(&buf[..n]);
                        rw.take_lines(&mut pending)
                    }
                };
                if !chunk.is_empty() && tx.send(Msg::Data(at, chunk)).is_err() {
                    return;
                }
            }
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let at = Instant::now() + ctx.delay;
    if !pending.is_empty() {
        let _ = tx.send(Msg::Data(at, std::mem::take(&mut pending)));
    }
    let _ = tx.send(Msg::Eof(at));
}

/// Splits one direction of a control connection into lines for the trace.
struct LineTracer {
    conn: u64,
    dir: char,
    partial: Vec<u8>,
}

impl LineTracer {
    fn feed(&mut self, bytes: &[u8], shared: &Shared) {
        self.partial.extend_from_slice(bytes);
        let Ok(mut guard) = shared.trace.lock() else {
            return;
        };
        let Some(trace) = guard.as_mut() else {
            self.partial.clear();
            return;
        };
        let ms = trace.start.elapsed().as_secs_f64() * 1000.0;
        while let Some(pos) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=pos).collect();
            let mut text = String::from_utf8_lossy(&line).trim_end().to_string();
            if text.len() >= 5 && text[..5].eq_ignore_ascii_case("PASS ") {
                text = "PASS ***".into();
            }
            let _ = writeln!(trace.out, "{ms:.3}\t{}\t{}\t{text}", self.conn, self.dir);
        }
        if self.partial.len() > MAX_CONTROL_LINE {
            self.partial.clear();
        }
    }
}

/// Delivers scheduled chunks to `dst`, each at its own time. Returns false
/// when writing failed (the caller then tears the connection down).
fn pump_out(rx: Receiver<Msg>, mut dst: TcpStream, ctx: &Ctx) -> bool {
    loop {
        let msg = match rx.recv_timeout(POLL) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                if ctx.shared.stop.load(Ordering::Relaxed) {
                    let _ = dst.shutdown(Shutdown::Both);
                    return false;
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = dst.shutdown(Shutdown::Write);
                return true;
            }
        };
        match msg {
            Msg::Data(at, bytes) => {
                sleep_until(at, &ctx.shared.stop);
                if dst.write_all(&bytes).is_err() {
                    return false;
                }
            }
            Msg::Eof(at) => {
                sleep_until(at, &ctx.shared.stop);
                let _ = dst.shutdown(Shutdown::Write);
                return true;
            }
        }
    }
}

/// Rewrites the control lines of one direction of a control connection.
struct Rewriter {
    side: Side,
    ctx: Ctx,
}

/// Which direction a [`Rewriter`] sees.
enum Side {
    /// Server replies: `227` and `229` are rewritten. `proxy_ip` is the
    /// address the client reaches the proxy at.
    Replies { proxy_ip: IpAddr },
    /// Client commands: `PORT` and `EPRT` are rewritten. `server_facing` is
    /// the proxy's end of the upstream control connection, once it is up.
    Commands {
        server_facing: Arc<OnceLock<IpAddr>>,
    },
}

impl Rewriter {
    /// Takes every complete line out of `pending` (rewriting passive replies
    /// or active commands) and returns the bytes to forward. An overlong
    /// partial line is forwarded as is.
    fn take_lines(&mut self, pending: &mut Vec<u8>) -> Vec<u8> {
        let mut out = Vec::with_capacity(pending.len());
        let mut start = 0;
        while let Some(pos) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = &pending[start..start + pos + 1];
            match self.rewrite_line(line) {
                Some(new) => out.extend_from_slice(&new),
                None => out.extend_from_slice(line),
            }
            start += pos + 1;
        }
        pending.drain(..start);
        if pending.len() > MAX_CONTROL_LINE {
            out.append(pending);
        }
        out
    }

    fn rewrite_line(&mut self, line: &[u8]) -> Option<Vec<u8>> {
        match &self.side {
            Side::Replies { proxy_ip } => self.rewrite_reply(line, *proxy_ip),
            Side::Commands { server_facing } => {
                // The upstream connection is up before the server's greeting,
                // so a client waiting for it never sees the fallback.
                let ip = server_facing
                    .get()
                    .copied()
                    .unwrap_or_else(|| loopback_like(self.ctx.upstream_ip));
                self.rewrite_command(line, ip)
            }
        }
    }

    /// A `227` or `229` reply naming a new proxy listener that relays to the
    /// server's data port.
    fn rewrite_reply(&self, line: &[u8], proxy_ip: IpAddr) -> Option<Vec<u8>> {
        let (kind, server_port) = if let Some(p) = parse_pasv(line) {
            (227, p.port())
        } else {
            (229, parse_epsv(line)?)
        };
        if kind == 227 && proxy_ip.is_ipv6() {
            return None;
        }
        let target = SocketAddr::new(self.ctx.upstream_ip, server_port);
        let listener = match bind_passive(proxy_ip) {
            Ok(l) => l,
            Err(e) => {
                log::warn!("proxy could not open a passive listener: {e}");
                return None;
            }
        };
        let port = listener.local_addr().ok()?.port();
        let text = match (kind, proxy_ip) {
            (227, IpAddr::V4(ip)) => {
                let o = ip.octets();
                format!(
                    "227 Entering Passive Mode ({},{},{},{},{},{}).\r\n",
                    o[0],
                    o[1],
                    o[2],
                    o[3],
                    port >> 8,
                    port & 0xff
                )
            }
            _ => format!("229 Entering Extended Passive Mode (|||{port}|)\r\n"),
        };
        if !spawn_data_relay(listener, target, self.ctx.clone()) {
            return None;
        }
        self.ctx
            .shared
            .passive_rewrites
            .fetch_add(1, Ordering::Relaxed);
        Some(text.into_bytes())
    }

    /// A `PORT` or `EPRT` command naming a new proxy listener on `listen_ip`
    /// (where the server sees the proxy connect from) that relays to the
    /// client's data port. `PORT` stays `PORT`; `EPRT` names the listener in
    /// its own family, which is the client's unless the proxy bridges IPv4
    /// and IPv6.
    fn rewrite_command(&self, line: &[u8], listen_ip: IpAddr) -> Option<Vec<u8>> {
        let (eprt, target) = match parse_port(line) {
            Some(a) => (false, a),
            None => (true, parse_eprt(line)?),
        };
        if !eprt && listen_ip.is_ipv6() {
            log::warn!("proxy cannot put an IPv6 listener into PORT; passing it on untouched");
            return None;
        }
        let listener = match bind_passive(listen_ip) {
            Ok(l) => l,
            Err(e) => {
                log::warn!("proxy could not open an active-mode listener: {e}");
                return None;
            }
        };
        let port = listener.local_addr().ok()?.port();
        let text = match listen_ip {
            IpAddr::V4(ip) if !eprt => {
                let o = ip.octets();
                format!(
                    "PORT {},{},{},{},{},{}\r\n",
                    o[0],
                    o[1],
                    o[2],
                    o[3],
                    port >> 8,
                    port & 0xff
                )
            }
            IpAddr::V4(ip) => format!("EPRT |1|{ip}|{port}|\r\n"),
            IpAddr::V6(ip) => format!("EPRT |2|{ip}|{port}|\r\n"),
        };
        if !spawn_data_relay(listener, target, self.ctx.clone()) {
            return None;
        }
        self.ctx
            .shared
            .active_rewrites
            .fetch_add(1, Ordering::Relaxed);
        Some(text.into_bytes())
    }
}

/// Spawns a thread that waits (at most [`DATA_ACCEPT_TIMEOUT`], or until the
/// proxy stops) for one connection on `listener` and relays it to `target`:
/// the client's data connection to the server's port in passive mode, the
/// server's to the client's port in active mode. Either way the connecting
/// side's bytes are queued and `target` is connected a handshake later.
/// False if the thread could not be started.
fn spawn_data_relay(listener: TcpListener, target: SocketAddr, ctx: Ctx) -> bool {
    thread::Builder::new()
        .name("proxy-data-accept".into())
        .spawn(move || {
            let deadline = Instant::now() + DATA_ACCEPT_TIMEOUT;
            while Instant::now() < deadline && !ctx.shared.stop.load(Ordering::Relaxed) {
                match accept_within(&listener, POLL) {
                    Ok(Some(conn)) => {
                        ctx.shared.data_connections.fetch_add(1, Ordering::Relaxed);
                        relay(conn, target, ctx, false);
                        return;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        log::warn!("proxy data accept failed: {e}");
                        return;
                    }
                }
            }
        })
        .is_ok()
}

/// The loopback address of `ip`'s family.
fn loopback_like(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

/// Ports the proxy's data listeners (passive and active mode) cycle through. They lie below the
/// kernel's ephemeral range (32768-60999 by default), so the proxy's
/// TIME_WAIT connections (one per file: the proxy closes a data connection
/// first, as the server does) never exhaust the ports that `connect` and
/// `bind(0)` need; `TcpListener::bind` sets `SO_REUSEADDR`, which lets a port
/// be reused while old connections on it are in TIME_WAIT.
pub const PASSIVE_PORTS: std::ops::Range<u16> = 22000..26000;

/// The next port of [`PASSIVE_PORTS`] to try, shared by every proxy.
static NEXT_PASSIVE: AtomicU64 = AtomicU64::new(0);

/// Binds a data listener on `ip`, cycling through [`PASSIVE_PORTS`]
/// (skipping ports in use) and falling back to a kernel-chosen port.
fn bind_passive(ip: IpAddr) -> io::Result<TcpListener> {
    let span = u64::from(PASSIVE_PORTS.end - PASSIVE_PORTS.start);
    for _ in 0..64 {
        let n = NEXT_PASSIVE.fetch_add(1, Ordering::Relaxed) % span;
        let port = PASSIVE_PORTS.start + n as u16;
        if let Ok(l) = TcpListener::bind(SocketAddr::new(ip, port)) {
            return Ok(l);
        }
    }
    TcpListener::bind(SocketAddr::new(ip, 0))
}

/// The address in a final `227` line: `227 ... (h1,h2,h3,h4,p1,p2)`.
pub fn parse_pasv(line: &[u8]) -> Option<SocketAddr> {
    if !line.starts_with(b"227 ") {
        return None;
    }
    let text = std::str::from_utf8(&line[4..]).ok()?;
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let nums: Vec<u16> = text[start..]
        .split(|c: char| !c.is_ascii_digit())
        .take(6)
        .map(|s| s.parse::<u16>().ok().filter(|&v| v <= 255))
        .collect::<Option<Vec<u16>>>()?;
    if nums.len() != 6 {
        return None;
    }
    let ip = std::net::Ipv4Addr::new(nums[0] as u8, nums[1] as u8, nums[2] as u8, nums[3] as u8);
    Some(SocketAddr::new(IpAddr::V4(ip), nums[4] << 8 | nums[5]))
}

/// The port in a final `229` line: `229 ... (<d><d><d>port<d>)`.
pub fn parse_epsv(line: &[u8]) -> Option<u16> {
    if !line.starts_with(b"229 ") {
        return None;
    }
    let open = line.iter().position(|&b| b == b'(')?;
    let rest = &line[open + 1..];
    let d = *rest.first()?;
    if rest.len() < 5 || rest[1] != d || rest[2] != d || d.is_ascii_digit() {
        return None;
    }
    let digits = &rest[3..];
    let end = digits.iter().position(|&b| b == d)?;
    if digits.get(end + 1) != Some(&b')') {
        return None;
    }
    std::str::from_utf8(&digits[..end])
        .ok()?
        .parse()
        .ok()
        .filter(|&p| p != 0)
}

/// The address in a `PORT h1,h2,h3,h4,p1,p2` command (verb in any case).
pub fn parse_port(line: &[u8]) -> Option<SocketAddr> {
    let arg = command_arg(line, "PORT")?;
    let nums = arg
        .split(',')
        .map(|s| decimal::<u8>(s.trim()))
        .collect::<Option<Vec<u8>>>()?;
    let [a, b, c, d, p1, p2] = nums[..] else {
        return None;
    };
    let port = u16::from(p1) << 8 | u16::from(p2);
    (port != 0).then(|| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), port))
}

/// The address in an `EPRT <d>af<d>addr<d>port<d>` command (verb in any
/// case; `af` 1 is IPv4, 2 is IPv6).
pub fn parse_eprt(line: &[u8]) -> Option<SocketAddr> {
    let arg = command_arg(line, "EPRT")?;
    let d = arg.chars().next()?;
    if !d.is_ascii_graphic() || d.is_ascii_alphanumeric() {
        return None;
    }
    let fields: Vec<&str> = arg.split(d).collect();
    let ["", af, addr, port, ""] = fields[..] else {
        return None;
    };
    let ip = match af {
        "1" => IpAddr::V4(addr.parse().ok()?),
        "2" => IpAddr::V6(addr.parse().ok()?),
        _ => return None,
    };
    let port = decimal::<u16>(port).filter(|&p| p != 0)?;
    Some(SocketAddr::new(ip, port))
}

/// The argument of a command line `VERB arg` (`verb` in any case), without
/// the line end and surrounding blanks.
fn command_arg<'a>(line: &'a [u8], verb: &str) -> Option<&'a str> {
    let text = std::str::from_utf8(line).ok()?;
    let text = text.trim_end_matches(['\r', '\n']);
    let (head, rest) = text.split_at_checked(verb.len())?;
    if !head.eq_ignore_ascii_case(verb) || !rest.starts_with(' ') {
        return None;
    }
    Some(rest.trim())
}

/// A plain decimal number: digits only (no sign), in range.
fn decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Waits up to `wait` for a connection on `listener`.
fn accept_within(listener: &TcpListener, wait: Duration) -> io::Result<Option<TcpStream>> {
    let mut fds = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = wait.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `fds` is a valid pollfd for the duration of the call and the
    // count (1) matches.
    let r = unsafe { libc::poll(&mut fds, 1, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(None)
        } else {
            Err(e)
        };
    }
    if r == 0 {
        return Ok(None);
    }
    let (stream, _) = listener.accept()?;
    Ok(Some(stream))
}

fn sleep_until(at: Instant, stop: &AtomicBool) {
    loop {
        let now = Instant::now();
        if now >= at || stop.load(Ordering::Relaxed) {
            return;
        }
        thread::sleep((at - now).min(POLL));
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

    const TIMEOUT: Option<Duration> = Some(Duration::from_secs(10));

    /// An echo server that serves `conns` connections, then stops.
    fn echo_server(conns: usize) -> (SocketAddr, JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let h = thread::spawn(move || {
            for _ in 0..conns {
                let Ok((mut s, _)) = l.accept() else { return };
                s.set_read_timeout(TIMEOUT).expect("timeout");
                let mut w = s.try_clone().expect("clone");
                let _ = io::copy(&mut s, &mut w);
                let _ = w.shutdown(Shutdown::Write);
            }
        });
        (addr, h)
    }

    fn connect(addr: SocketAddr) -> TcpStream {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        s.set_read_timeout(TIMEOUT).expect("timeout");
        s.set_write_timeout(TIMEOUT).expect("timeout");
        s.set_nodelay(true).expect("nodelay");
        s
    }

    fn read_exact_timed(s: &mut TcpStream, n: usize) -> (Vec<u8>, Instant) {
        let mut buf = vec![0u8; n];
        s.read_exact(&mut buf).expect("read");
        (buf, Instant::now())
    }

    #[test]
    fn delay_is_applied_within_tolerance() {
        let (server, h) = echo_server(1);
        let one_way = Duration::from_millis(40);
        let proxy = LatencyProxy::start(server, one_way).expect("proxy");
        let mut s = connect(proxy.local_addr());
        let t0 = Instant::now();
        s.write_all(b"ping\n").expect("write");
        let (got, t1) = read_exact_timed(&mut s, 5);
        assert_eq!(got, b"ping\n");
        // The write waits for the handshake: the server is connected at
        // t0 + 120 ms (3 one-way delays), then 40 ms back: 160 ms.
        let first = t1 - t0;
        assert!(
            first >= Duration::from_millis(158),
            "first echo after {first:?}"
        );
        assert!(
            first < Duration::from_millis(260),
            "first echo after {first:?}"
        );
        // An established connection: one round trip (80 ms).
        let t2 = Instant::now();
        s.write_all(b"pong\n").expect("write");
        let (got, t3) = read_exact_timed(&mut s, 5);
        assert_eq!(got, b"pong\n");
        let rtt = t3 - t2;
        assert!(rtt >= Duration::from_millis(79), "round trip {rtt:?}");
        assert!(rtt < Duration::from_millis(160), "round trip {rtt:?}");
        drop(s);
        drop(proxy);
        h.join().expect("server");
    }

    #[test]
    fn chunks_are_not_serialized() {
        let (server, h) = echo_server(1);
        let one_way = Duration::from_millis(50);
        let proxy = LatencyProxy::start(server, one_way).expect("proxy");
        let mut s = connect(proxy.local_addr());
        s.write_all(b"warm\n").expect("write");
        read_exact_timed(&mut s, 5);
        // Two chunks 20 ms apart: each leaves at its own arrival + delay,
        // so the second arrives about 20 ms after the first, not 100 ms.
        let t0 = Instant::now();
        s.write_all(b"a\n").expect("write");
        thread::sleep(Duration::from_millis(20));
        s.write_all(b"b\n").expect("write");
        let (_, t1) = read_exact_timed(&mut s, 2);
        let (_, t2) = read_exact_timed(&mut s, 2);
        let first = t1 - t0;
        let gap = t2 - t1;
        assert!(first >= Duration::from_millis(99), "first after {first:?}");
        assert!(gap >= Duration::from_millis(10), "gap {gap:?}");
        assert!(
            gap < Duration::from_millis(70),
            "gap {gap:?}: chunks were serialized"
        );
        drop(s);
        drop(proxy);
        h.join().expect("server");
    }

    #[test]
    fn bytes_are_intact_in_both_directions() {
        for ftp in [false, true] {
            bytes_are_intact(ftp);
        }
    }

    fn bytes_are_intact(ftp: bool) {
        let (server, h) = echo_server(1);
        let proxy = LatencyProxy::start_with(
            server,
            ProxyOptions {
                ftp,
                ..ProxyOptions::ftp(Duration::from_millis(5))
            },
        )
        .expect("proxy");
        let s = connect(proxy.local_addr());
        let mut data = vec![0u8; 3 * 1024 * 1024 + 17];
        crate::tree::Rng::new(42).fill(&mut data);
        let mut w = s.try_clone().expect("clone");
        let payload = data.clone();
        let writer = thread::spawn(move || {
            w.write_all(&payload).expect("write");
            w.shutdown(Shutdown::Write).expect("shutdown");
        });
        let mut got = Vec::new();
        let mut r = s;
        r.read_to_end(&mut got).expect("read to end");
        writer.join().expect("writer");
        assert_eq!(got.len(), data.len());
        assert!(got == data, "relayed bytes differ");
        drop(proxy);
        h.join().expect("server");
    }

    #[test]
    fn parses_passive_replies() {
        assert_eq!(
            parse_pasv(b"227 Entering Passive Mode (127,0,0,1,195,80).\r\n"),
            Some("127.0.0.1:50000".parse().expect("addr"))
        );
        assert_eq!(
            parse_pasv(b"227 =127,1,2,3,0,21\r\n"),
            Some("127.1.2.3:21".parse().expect("addr"))
        );
        assert_eq!(
            parse_pasv(b"227 Entering Passive Mode (127,0,0,1,300,80).\r\n"),
            None
        );
        assert_eq!(
            parse_pasv(b"227 Entering Passive Mode (127,0,0).\r\n"),
            None
        );
        assert_eq!(
            parse_pasv(b"227-first line of a multi-line reply\r\n"),
            None
        );
        assert_eq!(
            parse_epsv(b"229 Entering Extended Passive Mode (|||6446|)\r\n"),
            Some(6446)
        );
        assert_eq!(parse_epsv(b"229 ok (!!!21!)\r\n"), Some(21));
        assert_eq!(parse_epsv(b"229 bad (|||x|)\r\n"), None);
        assert_eq!(parse_epsv(b"229 bad (|||0|)\r\n"), None);
        assert_eq!(parse_epsv(b"229 bad (|||21)\r\n"), None);
        assert_eq!(parse_epsv(b"230 (|||21|)\r\n"), None);
    }

    /// A fake FTP server: answers PASV and EPSV with its own data port and
    /// sends `payload` on each data connection.
    fn fake_ftp(payload: &'static [u8]) -> (SocketAddr, JoinHandle<Vec<u16>>) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let h = thread::spawn(move || {
            let mut ports = Vec::new();
            let Ok((s, _)) = l.accept() else { return ports };
            s.set_read_timeout(TIMEOUT).expect("timeout");
            let mut w = s.try_clone().expect("clone");
            let mut r = BufReader::new(s);
            w.write_all(b"220 fake\r\n").expect("banner");
            let mut line = String::new();
            while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                let cmd = line.trim_end().to_string();
                line.clear();
                if cmd == "QUIT" {
                    let _ = w.write_all(b"221 bye\r\n");
                    break;
                }
                let data = TcpListener::bind("127.0.0.1:0").expect("data bind");
                let port = data.local_addr().expect("addr").port();
                ports.push(port);
                let reply = if cmd == "PASV" {
                    format!(
                        "227 Entering Passive Mode (127,0,0,1,{},{}).\r\n",
                        port >> 8,
                        port & 0xff
                    )
                } else {
                    format!("229 Entering Extended Passive Mode (|||{port}|)\r\n")
                };
                w.write_all(reply.as_bytes()).expect("reply");
                let (mut d, _) = data.accept().expect("data accept");
                d.write_all(payload).expect("data");
            }
            ports
        });
        (addr, h)
    }

    #[test]
    fn data_connections_pay_the_delays_and_the_handshake() {
        let (server, h) = fake_ftp(b"payload");
        let one_way = Duration::from_millis(30);
        let proxy = LatencyProxy::start(server, one_way).expect("proxy");
        let s = connect(proxy.local_addr());
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).expect("banner");
        let t0 = Instant::now();
        w.write_all(b"EPSV\r\n").expect("send");
        line.clear();
        r.read_line(&mut line).expect("229");
        let t1 = Instant::now();
        let port = parse_epsv(line.as_bytes()).expect("a 229 reply");
        let mut d = connect(SocketAddr::new(proxy.local_addr().ip(), port));
        let mut got = Vec::new();
        d.read_to_end(&mut got).expect("data");
        let t2 = Instant::now();
        assert_eq!(got, b"payload");
        // The reply: one round trip (60 ms). The data: the handshake (90 ms)
        // and one way back (30 ms).
        let reply = t1 - t0;
        let data = t2 - t1;
        assert!(
            reply >= Duration::from_millis(59) && reply < Duration::from_millis(160),
            "reply {reply:?}"
        );
        assert!(
            data >= Duration::from_millis(118) && data < Duration::from_millis(220),
            "data {data:?}"
        );
        w.write_all(b"QUIT\r\n").expect("quit");
        line.clear();
        r.read_line(&mut line).expect("221");
        h.join().expect("server");
    }

    #[test]
    fn passive_replies_are_rewritten_and_relayed() {
        let (server, h) = fake_ftp(b"listing bytes");
        let proxy = LatencyProxy::start(server, Duration::from_millis(5)).expect("proxy");
        let dir = tempfile::tempdir().expect("tempdir");
        let trace = dir.path().join("trace");
        proxy.set_trace(Some(&trace)).expect("trace");
        let s = connect(proxy.local_addr());
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).expect("banner");
        assert_eq!(line, "220 fake\r\n");
        let mut seen_ports = Vec::new();
        for cmd in ["PASV", "EPSV"] {
            w.write_all(format!("{cmd}\r\n").as_bytes()).expect("send");
            line.clear();
            r.read_line(&mut line).expect("reply");
            let addr = if cmd == "PASV" {
                let a = parse_pasv(line.as_bytes()).expect("a 227 reply");
                assert_eq!(a.ip(), proxy.local_addr().ip());
                a
            } else {
                let p = parse_epsv(line.as_bytes()).expect("a 229 reply");
                SocketAddr::new(proxy.local_addr().ip(), p)
            };
            seen_ports.push(addr.port());
            let mut d = connect(addr);
            let mut got = Vec::new();
            d.read_to_end(&mut got).expect("data");
            assert_eq!(got, b"listing bytes");
        }
        w.write_all(b"QUIT\r\n").expect("quit");
        line.clear();
        r.read_line(&mut line).expect("221");
        let server_ports = h.join().expect("server");
        assert_eq!(server_ports.len(), 2);
        for p in &seen_ports {
            assert!(
                !server_ports.contains(p),
                "reply still names the server's port {p}"
            );
        }
        proxy.set_trace(None).expect("stop tracing");
        let text = std::fs::read_to_string(&trace).expect("trace file");
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
        let find = |dir: &str, start: &str| {
            rows.iter()
                .find(|r| r.len() == 4 && r[2] == dir && r[3].starts_with(start))
                .cloned()
        };
        assert!(find("S", "220 fake").is_some(), "{text}");
        let pasv = find("C", "PASV").expect("PASV traced");
        let reply = find("S", "227 ").expect("227 traced");
        let (t_pasv, t_reply): (f64, f64) =
            (pasv[0].parse().expect("ms"), reply[0].parse().expect("ms"));
        // The server answers once the command arrived: one one-way delay later.
        assert!(t_reply - t_pasv >= 4.5, "{text}");
        assert!(find("C", "QUIT").is_some(), "{text}");
        assert_eq!(proxy.passive_rewrites(), 2);
        assert_eq!(proxy.data_connections(), 2);
        assert_eq!(proxy.control_connections(), 1);
    }

    #[test]
    fn parses_active_commands() {
        let v4 = |s: &str| -> Option<SocketAddr> { Some(s.parse().expect("addr")) };
        assert_eq!(
            parse_port(b"PORT 127,0,0,1,195,80\r\n"),
            v4("127.0.0.1:50000")
        );
        assert_eq!(parse_port(b"port 127,1,2,3,0,21\n"), v4("127.1.2.3:21"));
        assert_eq!(
            parse_port(b"PORT  127, 0, 0, 1, 0, 21 \r\n"),
            v4("127.0.0.1:21")
        );
        assert_eq!(parse_port(b"PORT 127,0,0,1,300,80\r\n"), None);
        assert_eq!(parse_port(b"PORT 127,0,0,1,0,0\r\n"), None);
        assert_eq!(parse_port(b"PORT 127,0,0,1,80\r\n"), None);
        assert_eq!(parse_port(b"PORT 127,0,0,1,+1,80\r\n"), None);
        assert_eq!(parse_port(b"PORTS 127,0,0,1,0,21\r\n"), None);
        assert_eq!(parse_port(b"PASV\r\n"), None);
        assert_eq!(
            parse_eprt(b"EPRT |1|127.0.0.1|6446|\r\n"),
            v4("127.0.0.1:6446")
        );
        assert_eq!(parse_eprt(b"eprt !1!127.0.0.2!21!\n"), v4("127.0.0.2:21"));
        assert_eq!(parse_eprt(b"EPRT |2|::1|6446|\r\n"), v4("[::1]:6446"));
        assert_eq!(parse_eprt(b"EPRT |1|::1|6446|\r\n"), None);
        assert_eq!(parse_eprt(b"EPRT |2|127.0.0.1|6446|\r\n"), None);
        assert_eq!(parse_eprt(b"EPRT |3|127.0.0.1|6446|\r\n"), None);
        assert_eq!(parse_eprt(b"EPRT |1|127.0.0.1|0|\r\n"), None);
        assert_eq!(parse_eprt(b"EPRT |1|127.0.0.1|6446\r\n"), None);
        assert_eq!(parse_eprt(b"EPRT |1|127.0.0.1|6446||\r\n"), None);
        assert_eq!(parse_eprt(b"EPRT 1127.0.0.116446 1\r\n"), None);
        assert_eq!(parse_eprt(b"EPSV\r\n"), None);
    }

    /// A fake FTP server for active mode: answers each PORT or EPRT it can
    /// parse with `200`, connects to the address in it and sends `payload`;
    /// answers anything else but QUIT with `500`. Returns the command lines
    /// it received.
    fn fake_active_ftp(payload: &'static [u8]) -> (SocketAddr, JoinHandle<Vec<String>>) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let h = thread::spawn(move || {
            let mut cmds = Vec::new();
            let Ok((s, _)) = l.accept() else { return cmds };
            s.set_read_timeout(TIMEOUT).expect("timeout");
            let mut w = s.try_clone().expect("clone");
            let mut r = BufReader::new(s);
            w.write_all(b"220 fake\r\n").expect("banner");
            let mut line = String::new();
            while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                let target = parse_port(line.as_bytes()).or_else(|| parse_eprt(line.as_bytes()));
                let cmd = line.trim_end().to_string();
                line.clear();
                cmds.push(cmd.clone());
                if cmd == "QUIT" {
                    let _ = w.write_all(b"221 bye\r\n");
                    break;
                }
                let Some(target) = target else {
                    w.write_all(b"500 what?\r\n").expect("reply");
                    continue;
                };
                w.write_all(b"200 ok\r\n").expect("reply");
                let mut d = connect(target);
                d.write_all(payload).expect("data");
            }
            cmds
        });
        (addr, h)
    }

    /// Sends `cmd` (with `{port}` replaced by the client's data port) through
    /// a proxy with `one_way` delay to a [`fake_active_ftp`] server and
    /// checks the relayed data, its timing and what the server was told.
    fn active_mode(cmd: &str, verb: &str, one_way: Duration) {
        let (server, h) = fake_active_ftp(b"active payload");
        let proxy = LatencyProxy::start(server, one_way).expect("proxy");
        let dir = tempfile::tempdir().expect("tempdir");
        let trace = dir.path().join("trace");
        proxy.set_trace(Some(&trace)).expect("trace");
        let s = connect(proxy.local_addr());
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).expect("banner");
        assert_eq!(line, "220 fake\r\n");

        // An unparseable command passes through untouched.
        let bad = format!("{verb} 1,2,3\r\n");
        w.write_all(bad.as_bytes()).expect("send");
        line.clear();
        r.read_line(&mut line).expect("500");
        assert!(line.starts_with("500 "), "{line}");

        let data_l = TcpListener::bind("127.0.0.1:0").expect("data bind");
        let client_data = data_l.local_addr().expect("addr");
        let text = cmd.replace("{port}", &client_data.port().to_string());
        let text = text.replace(
            "{p1,p2}",
            &format!("{},{}", client_data.port() >> 8, client_data.port() & 0xff),
        );
        let t0 = Instant::now();
        w.write_all(format!("{text}\r\n").as_bytes()).expect("send");
        let mut d = accept_within(&data_l, Duration::from_secs(10))
            .expect("accept")
            .expect("a data connection within 10 s");
        d.set_read_timeout(TIMEOUT).expect("timeout");
        let mut got = Vec::new();
        d.read_to_end(&mut got).expect("data");
        let t1 = Instant::now();
        assert_eq!(got, b"active payload");
        line.clear();
        r.read_line(&mut line).expect("200");
        assert_eq!(line, "200 ok\r\n");
        // The command reaches the server one way later; its data connection
        // pays the handshake (1.5 RTT): four one-way delays in all.
        let data = t1 - t0;
        let least = one_way * 4;
        assert!(
            data >= least - Duration::from_millis(1) && data < least + Duration::from_millis(150),
            "data after {data:?}, expected about {least:?}"
        );

        w.write_all(b"QUIT\r\n").expect("quit");
        line.clear();
        r.read_line(&mut line).expect("221");
        let cmds = h.join().expect("server");
        assert_eq!(cmds.len(), 3, "{cmds:?}");
        assert_eq!(cmds[0], bad.trim_end(), "the bad command was altered");
        let told = parse_port(cmds[1].as_bytes())
            .or_else(|| parse_eprt(cmds[1].as_bytes()))
            .unwrap_or_else(|| panic!("server got {:?}", cmds[1]));
        assert!(
            cmds[1][..4].eq_ignore_ascii_case(verb),
            "verb changed: {}",
            cmds[1]
        );
        assert_ne!(
            told, client_data,
            "the server was told the client's address"
        );
        assert_eq!(told.ip(), proxy.local_addr().ip());

        proxy.set_trace(None).expect("stop tracing");
        let trace_text = std::fs::read_to_string(&trace).expect("trace file");
        assert!(
            trace_text
                .lines()
                .any(|l| l.ends_with(&format!("\tC\t{text}"))),
            "{trace_text}"
        );
        assert_eq!(proxy.active_rewrites(), 1);
        assert_eq!(proxy.passive_rewrites(), 0);
        assert_eq!(proxy.data_connections(), 1);
        assert_eq!(proxy.control_connections(), 1);
    }

    #[test]
    fn eprt_is_rewritten_and_relayed_with_the_handshake() {
        active_mode(
            "EPRT |1|127.0.0.1|{port}|",
            "EPRT",
            Duration::from_millis(30),
        );
    }

    #[test]
    fn port_is_rewritten_and_relayed_with_the_handshake() {
        active_mode("port 127,0,0,1,{p1,p2}", "PORT", Duration::from_millis(30));
    }
}
