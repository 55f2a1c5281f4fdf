//! The real manager: logged-in FTP sessions to one server.

use std::fmt;
use std::time::Duration;

use ftp_proto::client::{Client, Config, Password};

use super::manager::{ConnectError, ConnectErrorKind, Manager};
use super::session_pool::{Pooled, SessionPool};

/// Which server a pool talks to: sessions are shared by every module with
/// the same host, port and user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerKey {
    /// Host name or address.
    pub host: String,
    /// TCP port of the control connection.
    pub port: u16,
    /// The user logged in as (`anonymous` for anonymous logins).
    pub user: String,
}

impl fmt::Display for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}@[{}]:{}", self.user, self.host, self.port)
        } else {
            write!(f, "{}@{}:{}", self.user, self.host, self.port)
        }
    }
}

/// A server and the password to log in with. `Debug` hides the password.
#[derive(Clone, Debug)]
pub struct ServerAuth {
    /// The server.
    pub key: ServerKey,
    /// The password (`Debug` prints `***`).
    pub password: Password,
}

/// How a [`Pool`] behaves.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Sessions at most (`NUM_CONNECTION`); at least one is always allowed.
    pub max_sessions: usize,
    /// How long a caller waits for a free session (`FTP_TIMEOUT`).
    pub wait_timeout: Duration,
    /// Settings of each session.
    pub client: Config,
}

impl Default for PoolConfig {
    fn default() -> PoolConfig {
        PoolConfig {
            max_sessions: 4,
            wait_timeout: Duration::from_secs(60),
            client: Config::default(),
        }
    }
}

/// Opens logged-in [`Client`] sessions for a [`Pool`].
#[derive(Debug)]
pub struct FtpManager {
    auth: ServerAuth,
    client: Config,
}

impl FtpManager {
    /// A manager that logs in to `auth.key` with `auth.password`.
    pub fn new(auth: ServerAuth, client: Config) -> FtpManager {
        FtpManager { auth, client }
    }

    /// The server this manager connects to.
    pub fn key(&self) -> &ServerKey {
        &self.auth.key
    }
}

impl Manager for FtpManager {
    type Connection = Client;

    fn connect(&self) -> Result<Client, ConnectError> {
        let key = &self.auth.key;
        let mut client =
            Client::connect(&key.host, key.port, self.client.clone()).map_err(classify)?;
        if let Err(e) = client.login(&key.user, &self.auth.password) {
            client.close();
            return Err(classify(e));
        }
        log::debug!("logged in to {key}");
        Ok(client)
    }

    fn has_broken(&self, conn: &Client) -> bool {
        !conn.is_reusable()
    }

    fn is_valid(&self, conn: &mut Client) -> bool {
        conn.noop().is_ok() && conn.is_reusable()
    }

    fn close(&self, conn: Client) {
        if conn.is_reusable() {
            conn.quit_without_waiting();
        } else {
            conn.close();
        }
    }

    fn describe(&self) -> String {
        self.auth.key.to_string()
    }
}

/// Sorts a connect or login error by what the pool should do about it.
///
/// A `421` is "too many sessions". Some servers say the same with a `530`
/// ("Sorry, the maximum number of clients ..."), so a `530` whose text speaks
/// of too many or a maximum is treated the same way; any other `5yz` is a
/// refused login.
fn classify(e: ftp_proto::Error) -> ConnectError {
    let message = match &e {
        // An SSH or HTTP server on that port, say.
        ftp_proto::Error::Malformed(ftp_proto::reply::ReplyError::BadCode { .. }) => {
            format!("{e} (is it an FTP server?)")
        }
        _ => e.to_string(),
    };
    let too_many_text = e.reply().is_some_and(|r| {
        let t = r.text().to_ascii_lowercase();
        t.contains("too many") || t.contains("maximum number") || t.contains("max clients")
    });
    let kind = match e.code() {
        Some(421) => ConnectErrorKind::TooMany,
        Some(c) if (500..600).contains(&c) && too_many_text => ConnectErrorKind::TooMany,
        _ if e.is_transient() => ConnectErrorKind::Transient,
        _ => ConnectErrorKind::Permanent,
    };
    ConnectError { kind, message }
}

/// The pool of FTP sessions to one server.
pub type Pool = SessionPool<FtpManager>;

/// A session taken from a [`Pool`]; dereferences to [`Client`] and goes back
/// to the pool when dropped, unless it is no longer reusable.
pub type PooledSession = Pooled<FtpManager>;

impl SessionPool<FtpManager> {
    /// A pool for one server. Nothing connects until the first `get`.
    pub fn new(auth: ServerAuth, config: PoolConfig) -> Pool {
        SessionPool::with_manager(
            FtpManager::new(auth, config.client),
            config.max_sessions,
            config.wait_timeout,
        )
    }

    /// The server this pool talks to.
    pub fn key(&self) -> &ServerKey {
        self.manager().key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ftp_proto::reply::Reply;

    fn refused(code: u16, text: &str) -> ftp_proto::Error {
        ftp_proto::Error::Refused {
            command: "PASS",
            reply: Reply::single(code, text).expect("valid code"),
        }
    }

    #[test]
    fn classification_of_login_errors() {
        assert_eq!(
            classify(refused(421, "Too many connections")).kind,
            ConnectErrorKind::TooMany
        );
        assert_eq!(
            classify(refused(
                530,
                "Sorry, the maximum number of clients (3) from your host are already connected."
            ))
            .kind,
            ConnectErrorKind::TooMany
        );
        assert_eq!(
            classify(refused(530, "Login incorrect.")).kind,
            ConnectErrorKind::Permanent
        );
        assert_eq!(
            classify(refused(450, "try later")).kind,
            ConnectErrorKind::Transient
        );
        let timeout = ftp_proto::Error::Timeout {
            phase: ftp_proto::Phase::Connect,
        };
        assert_eq!(classify(timeout).kind, ConnectErrorKind::Transient);
        let ssh = ftp_proto::Error::Malformed(ftp_proto::reply::ReplyError::BadCode {
            excerpt: "SSH-2.0-OpenSSH_9.2".into(),
        });
        let c = classify(ssh);
        assert!(c.message.contains("is it an FTP server?"), "{}", c.message);
        assert!(c.message.contains("SSH-2.0"), "{}", c.message);
    }

    #[test]
    fn pools_and_sessions_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<Pool>();
        send_sync::<super::super::Pools>();
        send::<PooledSession>();
    }

    #[test]
    fn debug_hides_the_password() {
        let auth = ServerAuth {
            key: ServerKey {
                host: "::1".into(),
                port: 21,
                user: "joe".into(),
            },
            password: Password::new("hunter2"),
        };
        let pool = Pool::new(auth.clone(), PoolConfig::default());
        for text in [
            format!("{auth:?}"),
            format!("{pool:?}"),
            format!("{:?}", pool.manager()),
        ] {
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert_eq!(pool.key().to_string(), "joe@[::1]:21");
        assert_eq!(pool.limit(), 4);
    }

    #[test]
    fn nothing_listening_fails_fast_naming_the_server_and_the_error() {
        use super::super::session_pool::tests::{bounded, capture_logs, logged};
        use super::super::{PoolError, CONNECT_ATTEMPTS};

        capture_logs();
        // Find a free port and close it, so connecting is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let auth = ServerAuth {
            key: ServerKey {
                host: "127.0.0.1".into(),
                port,
                user: "nobody-listens".into(),
            },
            password: Password::new("s3cret-pw"),
        };
        let config = PoolConfig {
            // `FTP_TIMEOUT` is for waiting on busy sessions; none is open.
            wait_timeout: Duration::from_secs(600),
            ..PoolConfig::default()
        };
        let pool = Pool::new(auth, config);
        let err = bounded(Duration::from_secs(30), "get", move || pool.get().map(drop))
            .expect_err("nothing listens");
        assert!(
            matches!(
                err,
                PoolError::Unreachable {
                    attempts: CONNECT_ATTEMPTS,
                    ..
                }
            ),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        assert!(text.to_ascii_lowercase().contains("refused"), "{text}");
        assert!(!text.contains("s3cret-pw"), "{text}");
        let warnings: Vec<String> = logged()
            .into_iter()
            .filter(|(level, text)| {
                *level == log::Level::Warn
                    && text.contains(&format!("nobody-listens@127.0.0.1:{port}"))
            })
            .map(|(_, text)| text)
            .collect();
        assert_eq!(warnings.len(), CONNECT_ATTEMPTS as usize, "{warnings:?}");
        assert!(
            warnings.iter().all(|w| !w.contains("s3cret-pw")),
            "{warnings:?}"
        );
    }
}
