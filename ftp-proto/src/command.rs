//! Command lines: building them safely (client) and splitting them (server).
//!
//! File names come from servers, so an argument is checked before anything is
//! sent: CR, LF or NUL would let a name end the command early and smuggle in
//! another one. Such arguments are refused with [`Error::InvalidArgument`].
//!
//! ```
//! use ftp_proto::command::{encode, split_line};
//!
//! assert_eq!(encode("RETR", Some(b"a b.txt")).unwrap(), b"RETR a b.txt\r\n");
//! assert!(encode("RETR", Some(b"x\r\nDELE y")).is_err());
//! assert_eq!(split_line(b"retr  a b.txt"), ("RETR".to_string(), &b" a b.txt"[..]));
//! ```

use crate::error::{Error, Result};

/// Whether `arg` is safe to put on a command line (no CR, LF or NUL).
pub fn is_safe_arg(arg: &[u8]) -> bool {
    !arg.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0)
}

/// Builds `VERB arg\r\n`, refusing an argument that contains CR, LF or NUL.
pub fn encode(verb: &'static str, arg: Option<&[u8]>) -> Result<Vec<u8>> {
    let mut line = Vec::with_capacity(verb.len() + 3 + arg.map_or(0, <[u8]>::len));
    line.extend_from_slice(verb.as_bytes());
    if let Some(arg) = arg {
        if !is_safe_arg(arg) {
            return Err(Error::InvalidArgument { command: verb });
        }
        line.push(b' ');
        line.extend_from_slice(arg);
    }
    line.extend_from_slice(b"\r\n");
    Ok(line)
}

/// Splits a received command line (without its line ending) into an
/// upper-cased verb and the raw argument after the first space.
///
/// The argument keeps any further spaces: `RETR  a` names the file ` a`.
pub fn split_line(line: &[u8]) -> (String, &[u8]) {
    let (verb, arg) = match line.iter().position(|&b| b == b' ') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, &line[line.len()..]),
    };
    (String::from_utf8_lossy(verb).to_ascii_uppercase(), arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_hostile_arguments() {
        for bad in [&b"a\rb"[..], b"a\nb", b"a\0b", b"\r\n"] {
            assert!(matches!(
                encode("DELE", Some(bad)),
                Err(Error::InvalidArgument { command: "DELE" })
            ));
        }
        assert_eq!(encode("NOOP", None).unwrap(), b"NOOP\r\n");
        assert_eq!(
            encode("CWD", Some("répertoire".as_bytes())).unwrap(),
            "CWD répertoire\r\n".as_bytes()
        );
    }

    #[test]
    fn splits_lines() {
        assert_eq!(split_line(b"NOOP"), ("NOOP".into(), &b""[..]));
        assert_eq!(split_line(b"cwd /a b"), ("CWD".into(), &b"/a b"[..]));
    }
}
