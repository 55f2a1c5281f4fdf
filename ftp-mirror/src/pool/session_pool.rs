//! The generic pool: a `Mutex` + `Condvar` over idle connections and a
//! count of open ones.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::manager::{ConnectError, ConnectErrorKind, Manager};
use crate::events::backoff;

/// A connection idle for longer than this is checked with
/// [`Manager::is_valid`] before it is handed out.
pub const IDLE_CHECK_AFTER: Duration = Duration::from_secs(20);

/// First and largest pause between two failed connects.
const CONNECT_BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// How many connect attempts in a row may fail, while no session to the
/// server is open, before a `get` gives up with
/// [`PoolError::Unreachable`] instead of waiting out its whole deadline.
/// The attempts are spaced by the connect backoff (100 ms, then doubling),
/// so a server that refuses connections is given up on within a second or
/// so; one that does not answer, within three connect timeouts.
pub const CONNECT_ATTEMPTS: u32 = 3;

/// Why no connection could be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// No connection became free within the wait timeout. `last_error` is
    /// why the most recent connect attempt failed, if one did.
    #[error("no free session to {server} within {}{}", fmt_secs(*.waited), last_error_suffix(.last_error))]
    Timeout {
        /// The server, as the manager names it.
        server: String,
        /// How long the caller waited.
        waited: Duration,
        /// The last connect error since the last successful connect.
        last_error: Option<String>,
    },
    /// The server refused the login for good (wrong user or password).
    #[error("login to {server} refused: {error}")]
    Refused {
        /// The server.
        server: String,
        /// The server's answer.
        error: String,
    },
    /// No session to the server is open and connecting kept failing:
    /// [`CONNECT_ATTEMPTS`] attempts in a row failed, or the deadline passed
    /// after at least one failed. Waiting for a session to be freed is
    /// pointless then, as there is none.
    #[error("cannot connect to {server}: {attempts} attempt(s) failed in {}, the last with: {error}", fmt_secs(*.waited))]
    Unreachable {
        /// The server.
        server: String,
        /// Failed attempts counted (by any caller) while this one waited.
        attempts: u32,
        /// How long the caller waited.
        waited: Duration,
        /// Why the last attempt failed.
        error: String,
    },
    /// The server refused even a single session (`421` with none open).
    #[error("{server} accepts no session: {error}")]
    Unavailable {
        /// The server.
        server: String,
        /// The server's answer.
        error: String,
    },
}

impl PoolError {
    /// Whether waiting longer or trying later may help (a timeout, a server
    /// that is full or unreachable right now), as opposed to a refused
    /// login.
    pub fn is_transient(&self) -> bool {
        !matches!(self, PoolError::Refused { .. })
    }
}

fn fmt_secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

fn last_error_suffix(e: &Option<String>) -> String {
    match e {
        Some(e) => format!(" (last connect failed: {e})"),
        None => " (every session was busy)".to_string(),
    }
}

/// A pool of at most `limit` connections made by a [`Manager`].
///
/// Cloning is cheap and gives a handle to the same pool.
pub struct SessionPool<M: Manager> {
    shared: Arc<Shared<M>>,
}

impl<M: Manager> Clone for SessionPool<M> {
    fn clone(&self) -> Self {
        SessionPool {
            shared: Arc::clone(&self.shared),
        }
    }
}

struct Shared<M: Manager> {
    manager: M,
    wait_timeout: Duration,
    state: Mutex<State<M::Connection>>,
    cond: Condvar,
}

struct State<C> {
    /// Connections ready to be handed out; the most recently used last.
    idle: Vec<Idle<C>>,
    /// Connections that exist or are being opened: idle + in use + connecting.
    open: usize,
    /// How many may be open at once.
    limit: usize,
    /// Why the last connect failed, cleared by a successful connect.
    last_error: Option<String>,
    /// A permanent login refusal: every `get` fails with it.
    refused: Option<String>,
    /// Consecutive transient connect failures.
    failures: u32,
    /// Transient connect failures ever: a caller compares it with its value
    /// when it began waiting to count the failures it saw.
    failed_total: u64,
    /// No new connect before this instant (backoff after a failure).
    retry_at: Option<Instant>,
}

struct Idle<C> {
    conn: C,
    since: Instant,
}

/// The locked state of a pool.
type Guard<'a, C> = MutexGuard<'a, State<C>>;

/// The outcome of one connect attempt: the connection, or `Some` error when
/// the caller must give up now (`None`: it may wait and try again).
type Attempt<M> = Result<<M as Manager>::Connection, Option<PoolError>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether a new connect may start now: below the limit and past the
/// backoff of the last failure.
fn may_connect<C>(st: &State<C>, now: Instant) -> bool {
    st.open < st.limit && st.retry_at.is_none_or(|t| now >= t)
}

impl<M: Manager> SessionPool<M> {
    /// A pool of at most `max` connections (at least one) whose `get` waits
    /// up to `wait_timeout`. Nothing is connected until the first `get`.
    pub fn with_manager(manager: M, max: usize, wait_timeout: Duration) -> SessionPool<M> {
        SessionPool {
            shared: Arc::new(Shared {
                manager,
                wait_timeout,
                state: Mutex::new(State {
                    idle: Vec::new(),
                    open: 0,
                    limit: max.max(1),
                    last_error: None,
                    refused: None,
                    failures: 0,
                    failed_total: 0,
                    retry_at: None,
                }),
                cond: Condvar::new(),
            }),
        }
    }

    /// The manager that opens this pool's connections.
    pub fn manager(&self) -> &M {
        &self.shared.manager
    }

    /// The current limit: the configured maximum, or less after the server
    /// said it had too many connections.
    pub fn limit(&self) -> usize {
        lock(&self.shared.state).limit
    }

    /// How long [`SessionPool::get`] waits.
    pub fn wait_timeout(&self) -> Duration {
        self.shared.wait_timeout
    }

    /// Connections open right now (idle, in use or being opened).
    pub fn open(&self) -> usize {
        lock(&self.shared.state).open
    }

    /// A connection: an idle one, a new one while below the limit, or one
    /// given back by another thread within the wait timeout.
    pub fn get(&self) -> Result<Pooled<M>, PoolError> {
        self.get_until(Instant::now() + self.shared.wait_timeout)
    }

    /// Opens connections in parallel until `n` are open (never past the
    /// limit) and leaves them idle. A login costs several round trips;
    /// opening every session the work will use before the work arrives,
    /// instead of one by one as it shows up, takes those round trips off the
    /// critical path. Each connection gets one attempt; failures are left
    /// for `get` to report.
    pub fn warm_up(&self, n: usize) {
        let missing = {
            let st = lock(&self.shared.state);
            n.min(st.limit).saturating_sub(st.open)
        };
        if missing == 0 {
            return;
        }
        std::thread::scope(|s| {
            let opening: Vec<_> = (0..missing)
                .filter_map(|_| {
                    std::thread::Builder::new()
                        .name("pool warm-up".into())
                        .spawn_scoped(s, || self.open_one())
                        .ok()
                })
                .collect();
            for handle in opening {
                // A panic in the manager ends only its own thread.
                let _ = handle.join();
            }
        });
    }

    /// An idle connection, if one is ready now. Never blocks and never
    /// connects.
    pub fn try_get(&self) -> Option<Pooled<M>> {
        let mut st = lock(&self.shared.state);
        let idle = st.idle.pop()?;
        if idle.since.elapsed() > IDLE_CHECK_AFTER {
            // Checking means I/O; put it back rather than block.
            st.idle.push(idle);
            return None;
        }
        Some(self.wrap(idle.conn))
    }

    /// Like [`SessionPool::get`] with an explicit deadline.
    ///
    /// The deadline bounds the whole wait: no connect attempt starts after
    /// it, so the call returns at the latest one attempt's duration (the
    /// manager's own timeouts) after the deadline. When no session to the
    /// server is open and connecting fails [`CONNECT_ATTEMPTS`] times in a
    /// row, it gives up early with [`PoolError::Unreachable`].
    pub fn get_until(&self, deadline: Instant) -> Result<Pooled<M>, PoolError> {
        let started = Instant::now();
        let shared = &*self.shared;
        let mut st = lock(&shared.state);
        let failed_before = st.failed_total;
        loop {
            if let Some(error) = &st.refused {
                return Err(PoolError::Refused {
                    server: shared.manager.describe(),
                    error: error.clone(),
                });
            }
            if let Some(idle) = st.idle.pop() {
                if idle.since.elapsed() <= IDLE_CHECK_AFTER {
                    return Ok(self.wrap(idle.conn));
                }
                drop(st);
                let mut conn = idle.conn;
                let valid = shared.manager.is_valid(&mut conn);
                if valid {
                    return Ok(self.wrap(conn));
                }
                log::debug!("dropping a stale session to {}", shared.manager.describe());
                drop(conn);
                st = lock(&shared.state);
                st.open -= 1;
                continue;
            }
            let now = Instant::now();
            if now < deadline && may_connect(&st, now) {
                let result;
                (st, result) = self.connect(st);
                match result {
                    Ok(conn) => return Ok(self.wrap(conn)),
                    Err(Some(e)) => return Err(e),
                    Err(None) => continue,
                }
            }
            // Failures in a row seen since this call began (a success in
            // between resets `failures`).
            let since_start = st.failed_total.saturating_sub(failed_before);
            let seen = st
                .failures
                .min(u32::try_from(since_start).unwrap_or(u32::MAX));
            if st.open == 0 && seen > 0 && (seen >= CONNECT_ATTEMPTS || now >= deadline) {
                // Nothing open, nothing connecting: no session can be freed.
                return Err(PoolError::Unreachable {
                    server: shared.manager.describe(),
                    attempts: seen,
                    waited: now.saturating_duration_since(started),
                    error: st.last_error.clone().unwrap_or_default(),
                });
            }
            if now >= deadline {
                return Err(PoolError::Timeout {
                    server: shared.manager.describe(),
                    waited: now.saturating_duration_since(started),
                    last_error: st.last_error.clone(),
                });
            }
            let wake = match st.retry_at {
                Some(t) if st.open < st.limit => t.min(deadline),
                _ => deadline,
            };
            let pause = wake
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            st = shared
                .cond
                .wait_timeout(st, pause)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Opens one more connection and leaves it idle, when the limit, the
    /// backoff and the login allow it right now. Never waits.
    fn open_one(&self) {
        let st = lock(&self.shared.state);
        if st.refused.is_some() || !may_connect(&st, Instant::now()) {
            return;
        }
        let (st, result) = self.connect(st);
        drop(st);
        if let Ok(conn) = result {
            // Dropping the handle puts the connection on the idle list.
            drop(self.wrap(conn));
        }
    }

    /// One connect attempt, made with the lock released; the caller checked
    /// [`may_connect`]. Fails with `Some` when the caller must give up now.
    fn connect<'a>(
        &'a self,
        mut st: Guard<'a, M::Connection>,
    ) -> (Guard<'a, M::Connection>, Attempt<M>) {
        let shared = &*self.shared;
        st.open += 1;
        drop(st);
        let result = shared.manager.connect();
        // The backoff runs from the end of the attempt: an attempt that
        // took longer than the backoff must not make the next one due at
        // once.
        let ended = Instant::now();
        let mut st = lock(&shared.state);
        let result = match result {
            Ok(conn) => {
                st.last_error = None;
                st.failures = 0;
                st.retry_at = None;
                Ok(conn)
            }
            Err(e) => {
                st.open -= 1;
                Err(self.connect_failed(&mut st, e, ended))
            }
        };
        (st, result)
    }

    /// Records a connect that failed at `ended`; `Some` when the caller
    /// must give up now.
    fn connect_failed(
        &self,
        st: &mut State<M::Connection>,
        e: ConnectError,
        ended: Instant,
    ) -> Option<PoolError> {
        let shared = &*self.shared;
        let server = shared.manager.describe();
        // Whatever happened, the slot is free again: let a waiter look.
        shared.cond.notify_all();
        match e.kind {
            ConnectErrorKind::TooMany => {
                st.last_error = Some(e.message.clone());
                if st.open == 0 {
                    log::warn!("{server} accepts no session: {}", e.message);
                    st.limit = 1;
                    return Some(PoolError::Unavailable {
                        server,
                        error: e.message,
                    });
                }
                if st.open < st.limit {
                    log::warn!(
                        "{server} refused a session ({}); lowering its limit from {} to {}",
                        e.message,
                        st.limit,
                        st.open
                    );
                    st.limit = st.open;
                }
                None
            }
            ConnectErrorKind::Permanent => {
                log::warn!("login to {server} refused: {}", e.message);
                st.refused = Some(e.message.clone());
                Some(PoolError::Refused {
                    server,
                    error: e.message,
                })
            }
            ConnectErrorKind::Transient => {
                st.failures = st.failures.saturating_add(1);
                st.failed_total = st.failed_total.saturating_add(1);
                log::warn!(
                    "connect to {server} failed ({} in a row): {}",
                    st.failures,
                    e.message
                );
                st.retry_at =
                    Some(ended + backoff(st.failures, CONNECT_BACKOFF.0, CONNECT_BACKOFF.1));
                st.last_error = Some(e.message);
                None
            }
        }
    }

    fn wrap(&self, conn: M::Connection) -> Pooled<M> {
        Pooled {
            conn: Some(conn),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M: Manager> fmt::Debug for SessionPool<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.shared.state);
        f.debug_struct("SessionPool")
            .field("server", &self.shared.manager.describe())
            .field("limit", &st.limit)
            .field("open", &st.open)
            .field("idle", &st.idle.len())
            .finish()
    }
}

impl<M: Manager> Drop for Shared<M> {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let conns: Vec<M::Connection> = st.idle.drain(..).map(|i| i.conn).collect();
        // Closing may wait a round trip (FTP: QUIT, then 221): close them
        // all at once rather than one after the other.
        let manager = &self.manager;
        std::thread::scope(|s| {
            for conn in conns {
                let spawned = std::thread::Builder::new()
                    .name("pool close".into())
                    .spawn_scoped(s, move || manager.close(conn));
                if let Err(e) = spawned {
                    // The connection went with the closure: dropped, no QUIT.
                    log::debug!("session dropped without QUIT: {e}");
                }
            }
        });
    }
}

/// A connection taken from a [`SessionPool`]; goes back on drop unless
/// [`Manager::has_broken`] says it must not be reused.
pub struct Pooled<M: Manager> {
    conn: Option<M::Connection>,
    shared: Arc<Shared<M>>,
}

impl<M: Manager> Pooled<M> {
    /// Throws the connection away instead of returning it to the pool.
    pub fn discard(mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn);
            self.release_slot();
        }
    }

    fn release_slot(&self) {
        let mut st = lock(&self.shared.state);
        st.open = st.open.saturating_sub(1);
        drop(st);
        self.shared.cond.notify_one();
    }
}

impl<M: Manager> Deref for Pooled<M> {
    type Target = M::Connection;

    fn deref(&self) -> &M::Connection {
        // Only `discard` and `drop` take the connection, and both consume
        // the handle.
        self.conn
            .as_ref()
            .expect("pooled connection is present until drop")
    }
}

impl<M: Manager> DerefMut for Pooled<M> {
    fn deref_mut(&mut self) -> &mut M::Connection {
        self.conn
            .as_mut()
            .expect("pooled connection is present until drop")
    }
}

impl<M: Manager> Drop for Pooled<M> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.shared.manager.has_broken(&conn) {
            log::debug!(
                "not reusing a broken session to {}",
                self.shared.manager.describe()
            );
            drop(conn);
            self.release_slot();
            return;
        }
        let mut st = lock(&self.shared.state);
        if st.open > st.limit {
            // The limit was lowered while this one was out.
            st.open -= 1;
            drop(st);
            self.shared.manager.close(conn);
        } else {
            st.idle.push(Idle {
                conn,
                since: Instant::now(),
            });
            drop(st);
        }
        self.shared.cond.notify_one();
    }
}

impl<M: Manager> fmt::Debug for Pooled<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pooled")
            .field("server", &self.shared.manager.describe())
            .finish()
    }
}

#[cfg(test)]
pub(super) mod tests;
