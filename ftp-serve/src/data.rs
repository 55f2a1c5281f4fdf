//! Data connections: passive listeners, active connects, and the PORT/EPRT
//! arguments that ask for them.
//!
//! Both directions only ever pair with the control connection's peer: a
//! passive listener drops connections from any other address, and an active
//! connect is refused unless it targets the peer's own IP (no FTP bounce).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::sys;

/// How often a wait for a data connection looks at the shutdown flag.
const SHUTDOWN_POLL: Duration = Duration::from_millis(250);

/// How the next transfer's data connection will be made.
#[derive(Debug)]
pub(crate) enum DataSetup {
    /// PASV/EPSV: the client connects to this listener.
    Passive(TcpListener),
    /// PORT/EPRT: the server connects to this address.
    Active(SocketAddr),
}

/// Opens a passive listener on `local_ip` (the control connection's local
/// address) and a free port.
pub(crate) fn listen_passive(local_ip: IpAddr) -> io::Result<TcpListener> {
    let listener = TcpListener::bind((local_ip, 0))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Makes the data connection: accepts the peer's connection or connects to
/// it. `Ok(None)` when nothing happened within `timeout` (or the server is
/// shutting down).
pub(crate) fn open(
    setup: DataSetup,
    peer_ip: IpAddr,
    timeout: Duration,
    shutdown: &AtomicBool,
) -> io::Result<Option<TcpStream>> {
    let stream = match setup {
        DataSetup::Passive(listener) => accept_from(&listener, peer_ip, timeout, shutdown)?,
        DataSetup::Active(addr) => match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => Some(s),
            Err(e) => {
                log::debug!("active data connection to {addr} failed: {e}");
                None
            }
        },
    };
    if let Some(s) = &stream {
        s.set_nonblocking(false)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
    }
    Ok(stream)
}

fn accept_from(
    listener: &TcpListener,
    peer_ip: IpAddr,
    timeout: Duration,
    shutdown: &AtomicBool,
) -> io::Result<Option<TcpStream>> {
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((stream, from)) if same_host(from.ip(), peer_ip) => return Ok(Some(stream)),
            Ok((_, from)) => {
                log::warn!("dropped a data connection from {from}: not the control peer {peer_ip}");
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionAborted
                ) => {}
            Err(e) => return Err(e),
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() || shutdown.load(Ordering::Relaxed) {
            return Ok(None);
        }
        sys::wait_readable(listener, remaining.min(SHUTDOWN_POLL))?;
    }
}

/// Whether two addresses are the same host (an IPv4-mapped IPv6 address
/// equals its IPv4 address).
pub(crate) fn same_host(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

/// The text of a `227` reply for a passive listener on `addr`.
pub(crate) fn pasv_text(ip: Ipv4Addr, port: u16) -> String {
    let [a, b, c, d] = ip.octets();
    format!(
        "Entering Passive Mode ({a},{b},{c},{d},{},{})",
        port >> 8,
        port & 0xff
    )
}

/// Reads a PORT argument `h1,h2,h3,h4,p1,p2`.
pub(crate) fn parse_port(arg: &[u8]) -> Option<SocketAddr> {
    let text = std::str::from_utf8(arg).ok()?;
    let mut numbers = [0u8; 6];
    let mut parts = text.trim().split(',');
    for slot in &mut numbers {
        *slot = parts.next()?.trim().parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    let [a, b, c, d, hi, lo] = numbers;
    let ip = Ipv4Addr::new(a, b, c, d);
    Some(SocketAddr::from((ip, u16::from(hi) << 8 | u16::from(lo))))
}

/// Why an EPRT argument was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum EprtError {
    /// Not `<d>proto<d>addr<d>port<d>`.
    Syntax,
    /// A network protocol other than 1 (IPv4) or 2 (IPv6).
    Protocol,
}

/// Reads an EPRT argument `<d><proto><d><address><d><port><d>` (RFC 2428).
pub(crate) fn parse_eprt(arg: &[u8]) -> Result<SocketAddr, EprtError> {
    let text = std::str::from_utf8(arg)
        .map_err(|_| EprtError::Syntax)?
        .trim();
    let mut chars = text.chars();
    let delim = chars.next().ok_or(EprtError::Syntax)?;
    if !(33..=126).contains(&(delim as u32)) || delim.is_ascii_alphanumeric() {
        return Err(EprtError::Syntax);
    }
    let fields: Vec<&str> = chars.as_str().split(delim).collect();
    let [proto, addr, port, ""] = fields[..] else {
        return Err(EprtError::Syntax);
    };
    let port: u16 = port.parse().map_err(|_| EprtError::Syntax)?;
    let ip = match proto {
        "1" => IpAddr::V4(addr.parse::<Ipv4Addr>().map_err(|_| EprtError::Syntax)?),
        "2" => IpAddr::V6(addr.parse::<Ipv6Addr>().map_err(|_| EprtError::Syntax)?),
        _ => return Err(EprtError::Protocol),
    };
    Ok(SocketAddr::new(ip, port))
}

/// Checks an active-mode target: the control peer's own IP and a port that
/// is not privileged (below 1024) or zero.
pub(crate) fn active_target_allowed(target: SocketAddr, peer_ip: IpAddr) -> bool {
    same_host(target.ip(), peer_ip) && target.port() >= 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_arguments() {
        assert_eq!(
            parse_port(b"127,0,0,1,200,10"),
            Some("127.0.0.1:51210".parse().unwrap())
        );
        assert_eq!(
            parse_port(b" 127, 1,2,3,0,21 "),
            Some("127.1.2.3:21".parse().unwrap())
        );
        for bad in [
            &b""[..],
            b"1,2,3,4,5",
            b"1,2,3,4,5,6,7",
            b"256,0,0,1,1,1",
            b"a,b,c,d,e,f",
            b"\xff",
        ] {
            assert_eq!(parse_port(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn eprt_arguments() {
        assert_eq!(
            parse_eprt(b"|1|127.0.0.1|6275|"),
            Ok("127.0.0.1:6275".parse().unwrap())
        );
        assert_eq!(
            parse_eprt(b"!2!::1!6275!"),
            Ok("[::1]:6275".parse().unwrap())
        );
        assert_eq!(parse_eprt(b"|3|x|1|"), Err(EprtError::Protocol));
        for bad in [
            &b""[..],
            b"|1|127.0.0.1|6275",
            b"|1|127.0.0.1|99999|",
            b"|1|::1|21|",
            b"|2|127.0.0.1|21|",
            b"|1|127.0.0.1|21|x|",
            b"1127.0.0.1121",
        ] {
            assert_eq!(
                parse_eprt(bad),
                Err(EprtError::Syntax),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn active_targets_only_the_peer() {
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(active_target_allowed(
            "127.0.0.1:40000".parse().unwrap(),
            peer
        ));
        assert!(active_target_allowed(
            "[::ffff:127.0.0.1]:40000".parse().unwrap(),
            peer
        ));
        assert!(!active_target_allowed(
            "127.0.0.2:40000".parse().unwrap(),
            peer
        ));
        assert!(!active_target_allowed(
            "127.0.0.1:25".parse().unwrap(),
            peer
        ));
        assert!(!active_target_allowed(
            "127.0.0.3:40000".parse().unwrap(),
            peer
        ));
    }

    #[test]
    fn pasv_reply_text() {
        assert_eq!(
            pasv_text(Ipv4Addr::LOCALHOST, 51210),
            "Entering Passive Mode (127,0,0,1,200,10)"
        );
    }

    #[test]
    fn passive_accept_times_out_and_accepts() {
        let listener = listen_passive(Ipv4Addr::LOCALHOST.into()).unwrap();
        let stop = AtomicBool::new(false);
        let peer = IpAddr::from(Ipv4Addr::LOCALHOST);
        let t = Duration::from_millis(50);
        assert!(open(DataSetup::Passive(listener), peer, t, &stop)
            .unwrap()
            .is_none());

        let listener = listen_passive(Ipv4Addr::LOCALHOST.into()).unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let s = open(
            DataSetup::Passive(listener),
            peer,
            Duration::from_secs(5),
            &stop,
        )
        .unwrap();
        assert!(s.is_some());
    }
}
