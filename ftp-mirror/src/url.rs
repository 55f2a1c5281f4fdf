//! `ftp://[user[:password]@]host[:port]/path` URLs.
//!
//! The path follows RFC 1738 as curl and lftp read it: it is relative to the
//! directory the login lands in, and an encoded slash at its start (`%2F`)
//! makes it absolute. On most anonymous servers the two are the same.
//!
//! ```
//! use ftp_mirror::url::FtpUrl;
//!
//! let url = FtpUrl::parse("ftp://builder:s%40cret@ftp.example.net:2121/builds/night%20ly/").unwrap();
//! assert_eq!(url.host, "ftp.example.net");
//! assert_eq!(url.port, 2121);
//! assert_eq!(url.user.as_deref(), Some("builder"));
//! assert_eq!(url.password.as_ref().unwrap().expose(), "s@cret");
//! assert_eq!(url.path, b"builds/night ly/");
//! assert!(!url.to_string().contains("s@cret"));
//! ```

use std::fmt;

use ftp_proto::client::Password;

use crate::netrc;

/// A parsed FTP URL. `Display` never shows the password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FtpUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port, 21 unless given.
    pub port: u16,
    /// User name, if given.
    pub user: Option<String>,
    /// Password, if given in the URL.
    pub password: Option<Password>,
    /// Percent-decoded path: relative to the login directory, or absolute
    /// when the URL started it with `%2F`. Empty for the login directory.
    pub path: Vec<u8>,
}

/// Why a string is not a usable FTP URL.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// Not `ftp://`.
    #[error("not an ftp:// URL")]
    Scheme,
    /// No host, or a malformed one.
    #[error("bad host in URL")]
    Host,
    /// A port that is not a number in 1..=65535.
    #[error("bad port in URL")]
    Port,
    /// A `%` not followed by two hex digits, or a decoded CR, LF or NUL.
    #[error("bad escape in URL (or it decodes to CR, LF or NUL)")]
    Escape,
}

impl FtpUrl {
    /// Parses an `ftp://` URL.
    pub fn parse(s: &str) -> Result<FtpUrl, UrlError> {
        let rest = s
            .strip_prefix("ftp://")
            .or_else(|| s.strip_prefix("FTP://"))
            .ok_or(UrlError::Scheme)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => {
                let (u, p) = match ui.find(':') {
                    Some(i) => (&ui[..i], Some(&ui[i + 1..])),
                    None => (ui, None),
                };
                let u = utf8(decode(u)?)?;
                let p = p.map(|p| decode(p).and_then(utf8)).transpose()?;
                (Some(u).filter(|u| !u.is_empty()), p.map(Password::new))
            }
        };
        let (host, port) = split_host_port(hostport)?;
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let path = match path
            .strip_prefix("%2F")
            .or_else(|| path.strip_prefix("%2f"))
        {
            Some(abs) => {
                let mut p = b"/".to_vec();
                p.extend(decode(abs)?);
                p
            }
            None => decode(path)?,
        };
        Ok(FtpUrl {
            host,
            port,
            user,
            password,
            path,
        })
    }

    /// The user to log in as: the URL's, else the one in `~/.netrc` for
    /// this host, else `anonymous`.
    pub fn resolve_user(&self) -> String {
        if let Some(u) = &self.user {
            return u.clone();
        }
        netrc::lookup(&self.host, None)
            .map(|e| e.login)
            .unwrap_or_else(|| "anonymous".into())
    }

    /// The password: the URL's, else `FTP_PASSWORD`, else `~/.netrc`, else
    /// the anonymous placeholder (or empty for a named user).
    /// `FTP_PASSWORD` is never used for an anonymous login: a password kept
    /// in the environment for one server must not go to every public
    /// mirror fetched anonymously.
    pub fn resolve_password(&self) -> Password {
        if let Some(p) = &self.password {
            return p.clone();
        }
        let user = self.resolve_user();
        let anonymous = user == "anonymous" || user == "ftp";
        if !anonymous {
            if let Ok(p) = std::env::var("FTP_PASSWORD") {
                return Password::new(p);
            }
        }
        if let Some(entry) = netrc::lookup(&self.host, Some(&user)) {
            if let Some(p) = entry.password {
                return p;
            }
        }
        if anonymous {
            Password::anonymous()
        } else {
            Password::new("")
        }
    }

    /// The last non-empty part of the path, e.g. `nightly` for `builds/nightly/`.
    pub fn leaf(&self) -> Option<&[u8]> {
        self.path
            .split(|&b| b == b'/')
            .rev()
            .find(|p| !p.is_empty())
    }
}

impl fmt::Display for FtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ftp://")?;
        if let Some(u) = &self.user {
            write!(f, "{u}")?;
            if self.password.is_some() {
                write!(f, ":***")?;
            }
            write!(f, "@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            write!(f, "{}", self.host)?;
        }
        if self.port != 21 {
            write!(f, ":{}", self.port)?;
        }
        let path = String::from_utf8_lossy(&self.path);
        match path.strip_prefix('/') {
            Some(abs) => write!(f, "/%2F{abs}"),
            None => write!(f, "/{path}"),
        }
    }
}

fn split_host_port(s: &str) -> Result<(String, u16), UrlError> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']').ok_or(UrlError::Host)?;
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(UrlError::Host),
        };
        (rest[..end].to_string(), port)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (s.to_string(), None),
        }
    };
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return Err(UrlError::Host);
    }
    let port = match port {
        None | Some("") => 21,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or(UrlError::Port)?,
    };
    Ok((host, port))
}

/// Percent-decodes; refuses bad escapes and CR, LF or NUL in the result.
fn decode(s: &str) -> Result<Vec<u8>, UrlError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).ok_or(UrlError::Escape)?;
            let hex = std::str::from_utf8(hex).map_err(|_| UrlError::Escape)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| UrlError::Escape)?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    if !ftp_proto::command::is_safe_arg(&out) {
        return Err(UrlError::Escape);
    }
    Ok(out)
}

fn utf8(v: Vec<u8>) -> Result<String, UrlError> {
    String::from_utf8(v).map_err(|_| UrlError::Escape)
}

/// `url` as it may be shown in a message: a password in it becomes `***`,
/// also when the URL does not parse (an error message must not echo it).
/// Everything between `://` and the last `@` after it is the user part; its
/// text after the first `:` is masked.
///
/// ```
/// use ftp_mirror::url::redact;
/// assert_eq!(redact("ftp://bob:s3cret@host/pub"), "ftp://bob:***@host/pub");
/// assert_eq!(redact("ftp://bob:pw%zz@host/"), "ftp://bob:***@host/");
/// assert_eq!(redact("ftp://host/dir"), "ftp://host/dir");
/// ```
pub fn redact(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let Some(at) = rest.rfind('@') else {
        return url.to_string();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{}{user}:***{}", &url[..start], &rest[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let u = FtpUrl::parse("ftp://127.0.0.1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.user.clone(), u.path.clone()),
            ("127.0.0.1", 21, None, vec![])
        );
        let u = FtpUrl::parse("ftp://[::1]:2121/%2Fabs/dir").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 2121));
        assert_eq!(u.path, b"/abs/dir");
        assert_eq!(u.to_string(), "ftp://[::1]:2121/%2Fabs/dir");
        let u = FtpUrl::parse("ftp://me@host/caf%C3%A9%FF").unwrap();
        assert_eq!(u.user.as_deref(), Some("me"));
        assert!(u.password.is_none());
        assert_eq!(u.path, b"caf\xc3\xa9\xff");
        assert_eq!(u.leaf(), Some(&b"caf\xc3\xa9\xff"[..]));
        assert_eq!(
            FtpUrl::parse("ftp://h/a/b/").unwrap().leaf(),
            Some(&b"b"[..])
        );
    }

    #[test]
    fn errors() {
        assert_eq!(FtpUrl::parse("http://h/"), Err(UrlError::Scheme));
        assert_eq!(FtpUrl::parse("ftp:///x"), Err(UrlError::Host));
        assert_eq!(FtpUrl::parse("ftp://h:0/"), Err(UrlError::Port));
        assert_eq!(FtpUrl::parse("ftp://h:99999/"), Err(UrlError::Port));
        assert_eq!(FtpUrl::parse("ftp://h/a%0d%0aDELE"), Err(UrlError::Escape));
        assert_eq!(FtpUrl::parse("ftp://h/a%2"), Err(UrlError::Escape));
        assert_eq!(FtpUrl::parse("ftp://[::1/"), Err(UrlError::Host));
    }

    #[test]
    fn password_hidden() {
        let u = FtpUrl::parse("ftp://u:topsecret@h/").unwrap();
        assert!(!u.to_string().contains("topsecret"));
        assert!(!format!("{u:?}").contains("topsecret"));
        assert_eq!(u.resolve_password().expose(), "topsecret");
    }
}
