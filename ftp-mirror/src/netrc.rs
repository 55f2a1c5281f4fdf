//! `~/.netrc` lookup (the format ftp(1), curl and lftp read).
//!
//! Tokens are separated by white space: `machine NAME`, `default`, `login`,
//! `password`, `account`, and `macdef NAME` followed by lines up to an empty
//! line (skipped). A missing or unreadable file means "no entry".

use std::path::{Path, PathBuf};

use ftp_proto::client::Password;

/// Credentials found for a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetrcEntry {
    /// The login name.
    pub login: String,
    /// The password, if the entry has one.
    pub password: Option<Password>,
}

/// Looks up `host` (and, when given, `user`) in `$NETRC` or `~/.netrc`.
pub fn lookup(host: &str, user: Option<&str>) -> Option<NetrcEntry> {
    let path = std::env::var_os("NETRC")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".netrc")))?;
    let text = std::fs::read_to_string(path).ok()?;
    find(&text, host, user)
}

/// Looks up `host` in netrc text: the first `machine` entry for the host
/// (with a matching login when `user` is given), else `default`.
pub fn find(text: &str, host: &str, user: Option<&str>) -> Option<NetrcEntry> {
    let mut entries: Vec<(Option<String>, NetrcEntry)> = Vec::new();
    let mut lines = text.lines();
    let mut tokens: Vec<String> = Vec::new();
    // Tokenize, skipping macdef bodies (which end at an empty line).
    while let Some(line) = lines.next() {
        for w in line.split_whitespace() {
            if w == "macdef" {
                for body in lines.by_ref() {
                    if body.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            tokens.push(w.to_string());
        }
    }
    let mut it = tokens.into_iter();
    let mut current: Option<(Option<String>, NetrcEntry)> = None;
    while let Some(tok) = it.next() {
        match tok.as_str() {
            "machine" | "default" => {
                if let Some(done) = current.take() {
                    entries.push(done);
                }
                let name = if tok == "machine" {
                    Some(it.next()?)
                } else {
                    None
                };
                current = Some((
                    name,
                    NetrcEntry {
                        login: String::new(),
                        password: None,
                    },
                ));
            }
            "login" => {
                let v = it.next()?;
                if let Some((_, e)) = current.as_mut() {
                    e.login = v;
                }
            }
            "password" => {
                let v = it.next()?;
                if let Some((_, e)) = current.as_mut() {
                    e.password = Some(Password::new(v));
                }
            }
            "account" => {
                it.next();
            }
            _ => {}
        }
    }
    if let Some(done) = current.take() {
        entries.push(done);
    }
    let fits = |e: &NetrcEntry| user.is_none_or(|u| e.login == u);
    entries
        .iter()
        .find(|(m, e)| m.as_deref() == Some(host) && fits(e))
        .or_else(|| entries.iter().find(|(m, e)| m.is_none() && fits(e)))
        .map(|(_, e)| e.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "machine a.example login alice password pa\n\
        macdef init\ncd /pub\n\n\
        machine b.example\n  login bob\n  password pb account x\n\
        machine b.example login carol password pc\n\
        default login anonymous password guest@\n";

    #[test]
    fn finds_entries() {
        let e = find(TEXT, "a.example", None).unwrap();
        assert_eq!(e.login, "alice");
        assert_eq!(e.password.unwrap().expose(), "pa");
        assert_eq!(
            find(TEXT, "b.example", Some("carol"))
                .unwrap()
                .password
                .unwrap()
                .expose(),
            "pc"
        );
        assert_eq!(find(TEXT, "b.example", None).unwrap().login, "bob");
        assert_eq!(find(TEXT, "other", None).unwrap().login, "anonymous");
        assert!(find("machine x login y", "z", None).is_none());
        assert!(find("machine", "z", None).is_none());
    }
}
