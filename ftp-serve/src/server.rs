//! The listener: binding, the accept loop, the session cap and shutdown.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::config::ServerConfig;
use crate::session;
use crate::sys;
use crate::vfs::Root;

/// How often the accept loop looks at the shutdown flag when idle.
const ACCEPT_POLL: Duration = Duration::from_millis(500);

/// How long a shutdown waits for open sessions to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What every session thread shares with the server.
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) root: Root,
    pub(crate) shutdown: AtomicBool,
    sessions: Mutex<Registry>,
    sessions_changed: Condvar,
}

/// The open control connections, so a shutdown can close them.
#[derive(Default)]
struct Registry {
    next_id: u64,
    open: HashMap<u64, TcpStream>,
}

/// A slot in the registry; dropping it frees the slot.
pub(crate) struct SessionSlot {
    shared: Arc<Shared>,
    id: u64,
}

impl SessionSlot {
    /// The session's number, for logs.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        self.shared.registry().open.remove(&self.id);
        self.shared.sessions_changed.notify_all();
    }
}

impl Shared {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a session slot for `stream`, or `None` at the cap.
    fn admit(self: &Arc<Self>, stream: &TcpStream) -> io::Result<Option<SessionSlot>> {
        let mut registry = self.registry();
        if registry.open.len() >= self.config.max_sessions {
            return Ok(None);
        }
        let id = registry.next_id;
        registry.next_id += 1;
        registry.open.insert(id, stream.try_clone()?);
        Ok(Some(SessionSlot {
            shared: Arc::clone(self),
            id,
        }))
    }

    /// Closes every open control connection and waits (a bounded time) for
    /// their sessions to end.
    fn close_sessions(&self) {
        let mut registry = self.registry();
        for stream in registry.open.values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while !registry.open.is_empty() {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                log::warn!("{} sessions still open after shutdown", registry.open.len());
                return;
            }
            registry = match self.sessions_changed.wait_timeout(registry, remaining) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// A bound, not yet running, read-only FTP server.
///
/// See the [crate documentation](crate) for an example.
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Server {
    /// Checks the root directory and binds the control listener.
    ///
    /// Fails when the root does not exist or is not a directory, or when the
    /// address cannot be bound.
    pub fn bind(config: ServerConfig) -> io::Result<Server> {
        let root = Root::new(&config.root)?;
        let listener = TcpListener::bind(config.listen)?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        log::info!("serving {} on {local_addr}", root.path().display());
        Ok(Server {
            listener,
            local_addr,
            shared: Arc::new(Shared {
                config,
                root,
                shutdown: AtomicBool::new(false),
                sessions: Mutex::new(Registry::default()),
                sessions_changed: Condvar::new(),
            }),
        })
    }

    /// The address the server listens on (with the real port when the
    /// configuration asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Accepts connections on this thread, forever (a server started with
    /// [`spawn`](Server::spawn) stops on [`ServerHandle::shutdown`]).
    ///
    /// Transient accept errors (a connection reset before it was accepted,
    /// running out of file descriptors) are logged and the loop goes on; only
    /// an error that will not go away ends it.
    pub fn run(self) -> io::Result<()> {
        let result = self.accept_loop();
        self.shared.close_sessions();
        result
    }

    /// Runs the server on a background thread.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let local_addr = self.local_addr;
        let shared = Arc::clone(&self.shared);
        let thread = thread::Builder::new()
            .name(format!("ftp-serve {local_addr}"))
            .spawn(move || self.run())?;
        Ok(ServerHandle {
            local_addr,
            shared,
            thread: Some(thread),
        })
    }

    fn accept_loop(&self) -> io::Result<()> {
        loop {
            if self.shared.shutdown.load(Ordering::Acquire) {
                return Ok(());
            }
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if self.shared.shutdown.load(Ordering::Acquire) {
                        return Ok(());
                    }
                    self.start_session(stream, peer);
                }
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock => {
                        sys::wait_readable(&self.listener, ACCEPT_POLL)?;
                    }
                    io::ErrorKind::Interrupted
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::ConnectionReset => {}
                    _ if is_resource_shortage(&e) => {
                        log::warn!("accept failed, retrying: {e}");
                        thread::sleep(Duration::from_millis(50));
                    }
                    _ => return Err(e),
                },
            }
        }
    }

    fn start_session(&self, stream: TcpStream, peer: SocketAddr) {
        if let Err(e) = self.try_start_session(stream, peer) {
            log::warn!("could not start a session for {peer}: {e}");
        }
    }

    fn try_start_session(&self, mut stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
        stream.set_nonblocking(false)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(
            self.shared
                .config
                .idle_timeout
                .max(Duration::from_millis(1)),
        ))?;
        let Some(slot) = self.shared.admit(&stream)? else {
            log::info!(
                "refused {peer}: {} sessions open",
                self.shared.config.max_sessions
            );
            stream.write_all(b"421 Too many sessions, try again later\r\n")?;
            return stream.shutdown(Shutdown::Both);
        };
        let shared = Arc::clone(&self.shared);
        thread::Builder::new()
            .name(format!("ftp-session {}", slot.id()))
            .spawn(move || session::run(&shared, stream, peer, slot))?;
        Ok(())
    }
}

/// Errors after which accepting again later may work.
fn is_resource_shortage(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// A server running on a background thread. Dropping it shuts it down.
pub struct ServerHandle {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes every session (a transfer under way is cut
    /// off) and waits a bounded time for the session threads to end.
    pub fn shutdown(self) {
        // Drop does the work.
    }

    fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.shared.shutdown.store(true, Ordering::Release);
        // Wake the accept loop now rather than at its next poll.
        let _ = TcpStream::connect_timeout(&wake_addr(self.local_addr), Duration::from_millis(200));
        match thread.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::warn!("server on {} stopped with an error: {e}", self.local_addr),
            Err(_) => log::error!("server thread on {} panicked", self.local_addr),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("root", &self.shared.root.path())
            .finish_non_exhaustive()
    }
}

/// An address that reaches a listener bound to `addr` (the loopback address
/// of the same family when it is bound to all interfaces).
fn wake_addr(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::from((Ipv4Addr::LOCALHOST, addr.port()))
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((Ipv6Addr::LOCALHOST, addr.port()))
        }
        _ => addr,
    }
}
