//! Session pools: at most `NUM_CONNECTION` logged-in FTP sessions per server,
//! shared by every module mirrored from that server.
//!
//! The pool is shaped like `r2d2`: a `Mutex` and a `Condvar` guard a list of
//! idle sessions and a count of open ones. [`SessionPool::get`] waits up to a
//! deadline for a free session (connecting a new one lazily while below the
//! limit), [`SessionPool::try_get`] never blocks, and the [`Pooled`] handle
//! puts its session back when dropped, unless the session can no longer be
//! trusted (after a `421`, a broken data channel, a timeout or unread control
//! bytes; see `Client::is_reusable`).
//!
//! The pool is generic over a small [`Manager`] trait so that it can be
//! tested without a network; [`FtpManager`] is the real one and [`Pool`] the
//! pool the engine uses.
//!
//! Policies:
//! - A `421` ("too many connections") while connecting or logging in lowers
//!   the server's limit to the number of sessions already open (never below
//!   one) and the caller keeps waiting for one of those. When not even one
//!   session can be opened, [`PoolError::Unavailable`] is returned. The limit
//!   never rises again during the life of the pool.
//! - A permanent refusal at login (`530`, a wrong password) fails fast with
//!   [`PoolError::Refused`], and every later `get` fails the same way without
//!   trying again.
//! - Other connect failures (refused, timed out) are retried with backoff
//!   (100 ms, doubling up to 5 s, counted from the end of the failed
//!   attempt). Each failure is logged at `WARN` with the server and the
//!   error. The caller's deadline bounds the whole wait: no attempt starts
//!   after it, so a `get` returns at most one attempt's duration late.
//! - When no session to the server is open (none idle, in use or being
//!   opened), no session can be freed, so waiting out the deadline is
//!   pointless: after [`CONNECT_ATTEMPTS`] failed attempts in a row (or
//!   when the deadline passes after a failed one) `get` fails with
//!   [`PoolError::Unreachable`], naming the server and the last error.
//! - When sessions are open but all busy, `get` waits up to the deadline
//!   for one to be freed (retrying connects meanwhile while below the
//!   limit); the timeout error then says why the last attempt failed.
//! - A session idle for more than [`IDLE_CHECK_AFTER`] is checked (`NOOP`)
//!   before it is handed out.
//!
//! ```
//! use ftp_mirror::pool::{ConnectError, Manager, SessionPool};
//! use std::time::Duration;
//!
//! struct Counter;
//! impl Manager for Counter {
//!     type Connection = u32;
//!     fn connect(&self) -> Result<u32, ConnectError> { Ok(7) }
//!     fn has_broken(&self, _: &u32) -> bool { false }
//!     fn describe(&self) -> String { "counter".into() }
//! }
//!
//! let pool = SessionPool::with_manager(Counter, 1, Duration::from_millis(50));
//! let first = pool.get().unwrap();
//! assert_eq!(*first, 7);
//! assert!(pool.try_get().is_none()); // the only session is in use
//! drop(first);                         // ... and now it is back
//! assert!(pool.try_get().is_some());
//! ```

mod ftp;
mod manager;
mod pools;
mod session_pool;

pub use ftp::{FtpManager, Pool, PoolConfig, PooledSession, ServerAuth, ServerKey};
pub use manager::{ConnectError, ConnectErrorKind, Manager};
pub use pools::Pools;
pub use session_pool::{PoolError, Pooled, SessionPool, CONNECT_ATTEMPTS, IDLE_CHECK_AFTER};
