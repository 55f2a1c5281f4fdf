//! What a pool needs from the thing that opens its connections.

use std::fmt;

/// Opens, checks and closes the connections of a [`super::SessionPool`].
///
/// The real implementation is [`super::FtpManager`]; tests use fakes.
pub trait Manager: Send + Sync + 'static {
    /// A connection (for FTP: a logged-in `Client`).
    type Connection: Send + 'static;

    /// Opens and authenticates a new connection. Called without the pool's
    /// lock held, so it may block for as long as its own timeouts allow.
    fn connect(&self) -> Result<Self::Connection, ConnectError>;

    /// A cheap check, without I/O, made when a connection is given back:
    /// `true` throws the connection away instead of keeping it.
    fn has_broken(&self, conn: &Self::Connection) -> bool;

    /// A real check (for FTP: `NOOP`), made before handing out a connection
    /// that sat idle for a while. `false` throws it away.
    fn is_valid(&self, conn: &mut Self::Connection) -> bool {
        let _ = conn;
        true
    }

    /// Closes an idle connection politely when the pool goes away.
    fn close(&self, conn: Self::Connection) {
        drop(conn);
    }

    /// Names the server in error messages (never with a password).
    fn describe(&self) -> String;
}

/// Why [`Manager::connect`] failed, sorted by what the pool does about it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectErrorKind {
    /// The server has too many sessions (`421` at greeting or login): lower
    /// the limit and wait for a session that is already open.
    TooMany,
    /// The server refused for good (`530` bad password): fail fast, and fail
    /// every later request the same way.
    Permanent,
    /// Anything that may pass (connection refused, timeout, `4yz`): retry
    /// with backoff until the caller's deadline.
    Transient,
}

/// A failed connect: what kind of failure, and a message without secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectError {
    /// How the pool reacts.
    pub kind: ConnectErrorKind,
    /// What happened, for the user.
    pub message: String,
}

impl ConnectError {
    /// A failure of the given kind.
    pub fn new(kind: ConnectErrorKind, message: impl Into<String>) -> ConnectError {
        ConnectError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}
