//! Data-channel addresses: reading 227/229 replies and writing PORT/EPRT
//! arguments (RFC 959 §4.1.2, RFC 2428), without I/O.
//!
//! ```
//! use ftp_proto::passive::{parse_pasv, parse_epsv, port_arg, eprt_arg};
//! use std::net::{Ipv4Addr, SocketAddr};
//!
//! let (ip, port) = parse_pasv(b"Entering Passive Mode (127,0,0,1,200,10).").unwrap();
//! assert_eq!((ip, port), (Ipv4Addr::new(127, 0, 0, 1), 200 * 256 + 10));
//! assert_eq!(parse_epsv(b"Entering Extended Passive Mode (|||6446|)"), Some(6446));
//! let addr: SocketAddr = "127.0.0.1:51234".parse().unwrap();
//! assert_eq!(port_arg(&addr).unwrap(), "127,0,0,1,200,34");
//! assert_eq!(eprt_arg(&addr), "|1|127.0.0.1|51234|");
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Reads the host and port of a `227` reply's text: the first run of six
/// comma-separated numbers, with or without parentheses. `None` when there
/// is no such run or a number is over 255.
pub fn parse_pasv(text: &[u8]) -> Option<(Ipv4Addr, u16)> {
    let mut start = 0;
    while start < text.len() {
        if text[start].is_ascii_digit() {
            if let Some(nums) = six_numbers(&text[start..]) {
                let [a, b, c, d, p1, p2] = nums;
                return Some((
                    Ipv4Addr::new(a, b, c, d),
                    u16::from(p1) << 8 | u16::from(p2),
                ));
            }
            // A run of digits that does not start six numbers: skip past it.
            while start < text.len() && text[start].is_ascii_digit() {
                start += 1;
            }
        } else {
            start += 1;
        }
    }
    None
}

/// Six numbers `0..=255` separated by commas at the start of `s`.
fn six_numbers(s: &[u8]) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut i = 0;
    for (n, slot) in out.iter_mut().enumerate() {
        if n > 0 {
            // Tolerate spaces around commas (some servers write "127, 0, 0, 1").
            while s.get(i) == Some(&b' ') {
                i += 1;
            }
            if s.get(i) != Some(&b',') {
                return None;
            }
            i += 1;
            while s.get(i) == Some(&b' ') {
                i += 1;
            }
        }
        let digits = s[i.min(s.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 3 {
            return None;
        }
        let mut v: u16 = 0;
        for &b in &s[i..i + digits] {
            v = v * 10 + u16::from(b - b'0');
        }
        *slot = u8::try_from(v).ok()?;
        i += digits;
    }
    Some(out)
}

/// Reads the port of a `229` reply's text: `(<d><d><d>port<d>)` where `<d>`
/// is any printable delimiter, usually `|`. `None` when malformed or port 0.
pub fn parse_epsv(text: &[u8]) -> Option<u16> {
    let open = text.iter().position(|&b| b == b'(')?;
    let rest = &text[open + 1..];
    let close = rest.iter().position(|&b| b == b')')?;
    let inner = &rest[..close];
    if inner.len() < 5 {
        return None;
    }
    let d = inner[0];
    if !(33..=126).contains(&d) || inner[1] != d || inner[2] != d || inner[inner.len() - 1] != d {
        return None;
    }
    let digits = &inner[3..inner.len() - 1];
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let port: u32 = digits
        .iter()
        .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0'));
    u16::try_from(port).ok().filter(|&p| p != 0)
}

/// The address to connect to for a 227 reply: the control connection's peer
/// unless `trust_host` is set and the reply names a usable host.
/// A reply host of `0.0.0.0` always means "the control peer".
pub fn pasv_target(reply_host: Ipv4Addr, port: u16, peer: IpAddr, trust_host: bool) -> SocketAddr {
    if trust_host && !reply_host.is_unspecified() {
        SocketAddr::new(IpAddr::V4(reply_host), port)
    } else {
        SocketAddr::new(peer, port)
    }
}

/// The argument of a PORT command (`h1,h2,h3,h4,p1,p2`); `None` for IPv6.
pub fn port_arg(addr: &SocketAddr) -> Option<String> {
    match addr.ip() {
        IpAddr::V4(ip) => {
            let [a, b, c, d] = ip.octets();
            let p = addr.port();
            Some(format!("{a},{b},{c},{d},{},{}", p >> 8, p & 0xff))
        }
        IpAddr::V6(_) => None,
    }
}

/// The argument of an EPRT command (`|1|ip|port|` or `|2|ip|port|`).
pub fn eprt_arg(addr: &SocketAddr) -> String {
    let proto = if addr.is_ipv4() { 1 } else { 2 };
    format!("|{proto}|{}|{}|", addr.ip(), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasv_variants() {
        type Case<'a> = (&'a [u8], Option<([u8; 4], u16)>);
        let cases: &[Case] = &[
            (
                b"Entering Passive Mode (192,0,2,7,4,1)",
                Some(([192, 0, 2, 7], 1025)),
            ),
            (
                b"Entering Passive Mode 127,0,0,1,10,0",
                Some(([127, 0, 0, 1], 2560)),
            ),
            (b"=127,0,0,1,0,21", Some(([127, 0, 0, 1], 21))),
            (b"Passive (0,0,0,0,195,80).", Some(([0, 0, 0, 0], 50000))),
            (
                b"Mode 227 (127, 0, 0, 1, 1, 2)",
                Some(([127, 0, 0, 1], 258)),
            ),
            (b"(127,0,0,1,300,1)", None),
            (b"(127,0,0,256,1,1)", None),
            (b"(127,0,0,1,1)", None),
            (b"no numbers", None),
            (b"(1234,0,0,1,1,1)", None),
            (b"", None),
        ];
        for (text, want) in cases {
            let got = parse_pasv(text).map(|(ip, p)| (ip.octets(), p));
            assert_eq!(got, *want, "{:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn epsv_variants() {
        assert_eq!(
            parse_epsv(b"Entering Extended Passive Mode (|||6446|)"),
            Some(6446)
        );
        assert_eq!(parse_epsv(b"ok (!!!65535!)"), Some(65535));
        assert_eq!(parse_epsv(b"(|||65536|)"), None);
        assert_eq!(parse_epsv(b"(|||0|)"), None);
        assert_eq!(parse_epsv(b"(||||)"), None);
        assert_eq!(parse_epsv(b"(|||12a|)"), None);
        assert_eq!(parse_epsv(b"(|||12"), None);
        assert_eq!(parse_epsv(b"(|!|12|)"), None);
    }

    #[test]
    fn pasv_host_is_ignored_unless_trusted() {
        let peer: IpAddr = "127.0.0.5".parse().unwrap();
        let bogus = Ipv4Addr::new(203, 0, 113, 9);
        assert_eq!(
            pasv_target(bogus, 21, peer, false),
            SocketAddr::new(peer, 21)
        );
        assert_eq!(pasv_target(bogus, 21, peer, true).ip(), IpAddr::V4(bogus));
        assert_eq!(
            pasv_target(Ipv4Addr::UNSPECIFIED, 21, peer, true).ip(),
            peer
        );
    }

    #[test]
    fn active_arguments() {
        let v6: SocketAddr = "[::1]:2000".parse().unwrap();
        assert_eq!(port_arg(&v6), None);
        assert_eq!(eprt_arg(&v6), "|2|::1|2000|");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = parse_pasv(&data);
            let _ = parse_epsv(&data);
        }
    }
}
