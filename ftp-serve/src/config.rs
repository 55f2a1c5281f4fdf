//! What a server serves, where, to whom, and its limits.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ftp_proto::client::Password;

/// The configuration of a [`Server`](crate::Server).
///
/// `Debug` never shows the password (it prints `***`).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The directory served as `/`. It is canonicalized when the server binds.
    pub root: PathBuf,
    /// The control address to listen on (default `127.0.0.1:0`: a free loopback port).
    pub listen: SocketAddr,
    /// The one accepted `(user, password)`; `None` accepts any user with any
    /// password (anonymous access).
    pub credentials: Option<(String, Password)>,
    /// The most control sessions at once (default 32). A connection past the
    /// cap gets `421` and is closed (with 0, every connection does).
    pub max_sessions: usize,
    /// How long a session may wait for a complete command line (default
    /// 300 s); then it gets `421` and is closed. Also bounds control writes.
    pub idle_timeout: Duration,
    /// How long opening a data connection, and each data read or write, may
    /// take (default 30 s).
    pub data_timeout: Duration,
    /// The longest command line accepted, line ending excluded (default
    /// 4096 bytes). A longer line gets `500` and is discarded.
    pub max_command_len: usize,
}

impl Default for ServerConfig {
    /// Serves the current directory anonymously on a free loopback port.
    fn default() -> ServerConfig {
        ServerConfig {
            root: PathBuf::from("."),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            credentials: None,
            max_sessions: 32,
            idle_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(30),
            max_command_len: 4096,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let config = ServerConfig {
            credentials: Some(("alice".into(), Password::new("s3cr3t-value"))),
            ..ServerConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(shown.contains("alice"), "{shown}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
    }

    #[test]
    fn defaults() {
        let c = ServerConfig::default();
        assert!(c.listen.ip().is_loopback());
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.max_sessions, 32);
        assert!(c.credentials.is_none());
    }
}
