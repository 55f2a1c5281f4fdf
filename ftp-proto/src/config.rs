//! Client settings: timeouts per phase, data-connection mode, limits.

use std::time::Duration;

use crate::reply::Limits;

/// A timeout for every phase of a session. Each bounds one wait (a connect,
/// one reply, one read), so a stalled server is noticed in that phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the control connection (per address tried), and then
    /// waiting for the server's greeting.
    pub connect: Duration,
    /// Waiting for a reply to a command, and sending a command.
    pub control: Duration,
    /// Opening or accepting a data connection.
    pub data_connect: Duration,
    /// Each read or write on a data connection.
    pub data: Duration,
    /// Waiting for the final reply after the data connection closed.
    pub final_reply: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(30),
            control: Duration::from_secs(60),
            data_connect: Duration::from_secs(30),
            data: Duration::from_secs(120),
            final_reply: Duration::from_secs(120),
        }
    }
}

impl Timeouts {
    /// The same timeout for every phase.
    pub fn all(d: Duration) -> Timeouts {
        Timeouts {
            connect: d,
            control: d,
            data_connect: d,
            data: d,
            final_reply: d,
        }
    }
}

/// How data connections are opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataMode {
    /// Passive: EPSV, falling back to PASV for the rest of the session when
    /// the server refuses EPSV.
    #[default]
    Passive,
    /// Passive with PASV only (IPv4 servers that mishandle EPSV).
    PassiveOnly,
    /// Active: the client listens and the server connects; EPRT, falling back
    /// to PORT on IPv4.
    Active,
}

/// Settings of a [`crate::client::Client`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Timeouts per phase.
    pub timeouts: Timeouts,
    /// Passive or active data connections.
    pub data_mode: DataMode,
    /// Use the host inside a 227 reply instead of the control connection's
    /// peer. Off by default: servers behind NAT send private addresses, and a
    /// hostile server could point the client anywhere.
    pub trust_pasv_host: bool,
    /// Bounds on reply size.
    pub limits: Limits,
    /// Size of the transfer buffer, in bytes.
    pub buffer_size: usize,
    /// The largest listing (LIST/NLST/MLSD data) accepted, in bytes.
    pub max_listing: usize,
    /// Send EPSV and the transfer command together, without waiting for the
    /// 229 in between, saving a round trip per transfer (turned off for the
    /// rest of the session when the server answers it badly), and log in
    /// with USER, PASS, FEAT, OPTS UTF8 ON and TYPE I in one write, one
    /// round trip instead of four. Off: every command waits for its reply.
    pub pipeline: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            timeouts: Timeouts::default(),
            data_mode: DataMode::default(),
            trust_pasv_host: false,
            limits: Limits::default(),
            buffer_size: 64 * 1024,
            max_listing: 256 * 1024 * 1024,
            pipeline: true,
        }
    }
}
