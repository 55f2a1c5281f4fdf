//! The one error type of the crate.

use std::io;

use crate::reply::{Reply, ReplyClass, ReplyError};

/// The phase of a session an I/O error or a timeout happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Opening the control connection.
    Connect,
    /// Reading a reply on the control connection.
    ControlRead,
    /// Sending a command on the control connection.
    ControlWrite,
    /// Opening (or accepting) a data connection.
    DataConnect,
    /// Reading from a data connection.
    DataRead,
    /// Writing to a data connection.
    DataWrite,
    /// Waiting for the final `2yz` after a transfer's data was moved.
    FinalReply,
    /// Writing received data into the caller's sink.
    LocalWrite,
    /// Reading the caller's source for an upload.
    LocalRead,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Phase::Connect => "connect",
            Phase::ControlRead => "control read",
            Phase::ControlWrite => "control write",
            Phase::DataConnect => "data connect",
            Phase::DataRead => "data read",
            Phase::DataWrite => "data write",
            Phase::FinalReply => "final reply",
            Phase::LocalWrite => "local write",
            Phase::LocalRead => "local read",
        };
        f.write_str(s)
    }
}

/// Everything that can go wrong in `ftp-proto`.
///
/// Errors that carry a server reply keep it whole ([`Error::reply`]), so a
/// caller can log the exact code and text. Commands are named by their verb
/// only: arguments (and above all passwords) never appear in an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error on a socket or on the caller's reader or writer.
    #[error("I/O error during {phase}: {source}")]
    Io {
        /// Where it happened.
        phase: Phase,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A phase took longer than its timeout.
    #[error("timed out during {phase}")]
    Timeout {
        /// Which phase timed out.
        phase: Phase,
    },
    /// The server closed a connection where it should not have.
    #[error("connection closed by the server during {phase}")]
    Closed {
        /// Where the connection ended.
        phase: Phase,
    },
    /// The server sent bytes that are not a valid reply.
    #[error("malformed reply: {0}")]
    Malformed(#[from] ReplyError),
    /// A reply had the right shape but its content could not be used
    /// (e.g. a 227 without six numbers, a SIZE that is not a number).
    #[error("cannot use reply to {command}: {reason} ({reply})")]
    BadReply {
        /// The verb of the command that got the reply.
        command: &'static str,
        /// What was wrong.
        reason: String,
        /// The reply as received.
        reply: Reply,
    },
    /// The server answered a command with a negative reply (`4yz` or `5yz`).
    #[error("{command} refused: {reply}")]
    Refused {
        /// The verb of the command that was refused.
        command: &'static str,
        /// The reply as received.
        reply: Reply,
    },
    /// The server answered with a code that does not fit the command.
    #[error("unexpected reply to {command}: {reply}")]
    Unexpected {
        /// The verb of the command that got the reply.
        command: &'static str,
        /// The reply as received.
        reply: Reply,
    },
    /// An argument contained CR, LF or NUL and was not sent.
    #[error("refused to send {command}: argument contains CR, LF or NUL")]
    InvalidArgument {
        /// The verb of the command that was not sent.
        command: &'static str,
    },
    /// The session can no longer be used (an earlier failure broke it).
    #[error("session is no longer usable: {0}")]
    Unusable(String),
    /// Anything else the caller asked for that cannot be done.
    #[error("{0}")]
    Other(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The reply the server sent, when the error came from one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Error::BadReply { reply, .. }
            | Error::Refused { reply, .. }
            | Error::Unexpected { reply, .. } => Some(reply),
            _ => None,
        }
    }

    /// The reply code, when the error came from a reply.
    pub fn code(&self) -> Option<u16> {
        self.reply().map(|r| r.code().get())
    }

    /// Whether trying again (on a new session if need be) may succeed:
    /// `4yz` replies (421 included), timeouts, dropped connections and
    /// network I/O errors. Permanent refusals (`5yz`), malformed replies
    /// and local errors are not transient.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Io { phase, .. } => !matches!(phase, Phase::LocalWrite | Phase::LocalRead),
            Error::Timeout { .. } | Error::Closed { .. } => true,
            Error::Refused { reply, .. } => reply.class() == ReplyClass::TransientNegative,
            _ => false,
        }
    }

    /// Whether the server refused for good (`5yz`).
    pub fn is_permanent(&self) -> bool {
        matches!(self, Error::Refused { reply, .. } if reply.class() == ReplyClass::PermanentNegative)
    }

    /// Whether the server said it is closing the session (`421`).
    pub fn is_service_closing(&self) -> bool {
        self.code() == Some(421)
    }

    /// The phase of an I/O error, timeout or close.
    pub fn phase(&self) -> Option<Phase> {
        match self {
            Error::Io { phase, .. } | Error::Timeout { phase } | Error::Closed { phase } => {
                Some(*phase)
            }
            _ => None,
        }
    }

    /// Maps an `io::Error` from a socket: timeouts become [`Error::Timeout`],
    /// an unexpected EOF or reset becomes [`Error::Closed`].
    pub(crate) fn io(phase: Phase, e: io::Error) -> Error {
        match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::Timeout { phase },
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Error::Closed { phase },
            _ => Error::Io { phase, source: e },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(
            std::mem::size_of::<Error>() <= 72,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn classification() {
        let r = |c| Error::Refused {
            command: "RETR",
            reply: Reply::single(c, "x").unwrap(),
        };
        assert!(r(421).is_transient() && r(421).is_service_closing());
        assert!(r(450).is_transient() && !r(450).is_permanent());
        assert!(r(550).is_permanent() && !r(550).is_transient());
        assert_eq!(r(550).code(), Some(550));
        assert!(Error::Timeout {
            phase: Phase::DataRead
        }
        .is_transient());
        let local = Error::Io {
            phase: Phase::LocalWrite,
            source: io::Error::other("disk full"),
        };
        assert!(!local.is_transient());
        assert!(matches!(
            Error::io(Phase::ControlRead, io::ErrorKind::WouldBlock.into()),
            Error::Timeout {
                phase: Phase::ControlRead
            }
        ));
    }
}
