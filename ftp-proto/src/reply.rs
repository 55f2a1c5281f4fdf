//! FTP replies and their parser (RFC 959 §4.2), without any I/O.
//!
//! [`parse`] takes the bytes read so far from a control connection and returns
//! either a complete [`Reply`] with the number of bytes it used, or
//! [`Status::Partial`] when more input is needed. Hostile input is bounded by
//! [`Limits`]: a line or a reply that grows past them is an error, never an
//! unbounded allocation.
//!
//! ```
//! use ftp_proto::reply::{parse, Limits, Status};
//!
//! let input = b"211-Features:\r\n MLST size*;modify*;\r\n211 End\r\n";
//! // Every strict prefix is incomplete, not an error.
//! assert_eq!(parse(&input[..10], &Limits::default()).unwrap(), Status::Partial);
//! match parse(input, &Limits::default()).unwrap() {
//!     Status::Complete((reply, used)) => {
//!         assert_eq!(used, input.len());
//!         assert_eq!(reply.code().get(), 211);
//!         assert_eq!(reply.lines().len(), 3);
//!     }
//!     Status::Partial => unreachable!(),
//! }
//! ```

use std::fmt;

/// A three-digit reply code, `100..=599`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// Builds a code; `None` unless `100 <= code <= 599`.
    pub fn new(code: u16) -> Option<ReplyCode> {
        (100..=599).contains(&code).then_some(ReplyCode(code))
    }

    /// The numeric value.
    pub fn get(self) -> u16 {
        self.0
    }

    /// The class given by the first digit.
    pub fn class(self) -> ReplyClass {
        match self.0 / 100 {
            1 => ReplyClass::Preliminary,
            2 => ReplyClass::Completion,
            3 => ReplyClass::Intermediate,
            4 => ReplyClass::TransientNegative,
            _ => ReplyClass::PermanentNegative,
        }
    }

    fn from_digits(d: &[u8]) -> Option<ReplyCode> {
        if d.len() < 3 || !d[..3].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = (d[0] - b'0') as u16 * 100 + (d[1] - b'0') as u16 * 10 + (d[2] - b'0') as u16;
        ReplyCode::new(n)
    }
}

impl fmt::Debug for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The class of a reply, from its first digit (RFC 959 §4.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplyClass {
    /// `1yz`: the action is starting; expect another reply.
    Preliminary,
    /// `2yz`: the action completed.
    Completion,
    /// `3yz`: more information is needed (e.g. PASS after USER, RNTO after RNFR).
    Intermediate,
    /// `4yz`: the action failed but may succeed if tried again.
    TransientNegative,
    /// `5yz`: the action failed and will fail again.
    PermanentNegative,
}

/// One complete reply: a code and its text lines.
///
/// Text is kept as raw bytes, because servers send path names (e.g. in a 257
/// reply) in whatever encoding their file system uses. The first line holds
/// the text after `ddd-` or `ddd `; for a multi-line reply the last line holds
/// the text after `ddd `, and the lines between are kept verbatim.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    code: ReplyCode,
    lines: Vec<Vec<u8>>,
}

impl Reply {
    /// Builds a reply from a code and its lines (used by servers and tests).
    pub fn new(code: ReplyCode, lines: Vec<Vec<u8>>) -> Reply {
        let lines = if lines.is_empty() {
            vec![Vec::new()]
        } else {
            lines
        };
        Reply { code, lines }
    }

    /// Builds a single-line reply; `None` when `code` is out of range.
    pub fn single(code: u16, text: &str) -> Option<Reply> {
        Some(Reply::new(
            ReplyCode::new(code)?,
            vec![text.as_bytes().to_vec()],
        ))
    }

    /// The reply code.
    pub fn code(&self) -> ReplyCode {
        self.code
    }

    /// The class of the reply code.
    pub fn class(&self) -> ReplyClass {
        self.code.class()
    }

    /// The text lines, at least one, without codes or line endings.
    pub fn lines(&self) -> &[Vec<u8>] {
        &self.lines
    }

    /// The first line's text, decoded lossily for display.
    pub fn first_line(&self) -> String {
        String::from_utf8_lossy(&self.lines[0]).into_owned()
    }

    /// All text, lines joined with `\n`, decoded lossily for display.
    pub fn text(&self) -> String {
        let joined: Vec<u8> = self.lines.join(&b'\n');
        String::from_utf8_lossy(&joined).into_owned()
    }

    /// Whether the reply is `1yz`.
    pub fn is_preliminary(&self) -> bool {
        self.class() == ReplyClass::Preliminary
    }

    /// Whether the reply is `2yz`.
    pub fn is_completion(&self) -> bool {
        self.class() == ReplyClass::Completion
    }

    /// Whether the reply is `4yz` or `5yz`.
    pub fn is_negative(&self) -> bool {
        matches!(
            self.class(),
            ReplyClass::TransientNegative | ReplyClass::PermanentNegative
        )
    }

    /// Writes the reply in wire form (`ddd text\r\n`, or `ddd-` ... `ddd `).
    ///
    /// Lines between the first and the last that could be mistaken for the
    /// end of the reply are indented by one space, as RFC 959 advises.
    pub fn encode(&self) -> Vec<u8> {
        let code = self.code.0.to_string();
        let mut out = Vec::new();
        let clean = |l: &[u8]| -> Vec<u8> {
            l.iter()
                .copied()
                .filter(|&b| b != b'\r' && b != b'\n' && b != 0)
                .collect()
        };
        let n = self.lines.len();
        for (i, line) in self.lines.iter().enumerate() {
            let line = clean(line);
            if n == 1 {
                out.extend_from_slice(code.as_bytes());
                out.push(b' ');
            } else if i == 0 {
                out.extend_from_slice(code.as_bytes());
                out.push(b'-');
            } else if i == n - 1 {
                out.extend_from_slice(code.as_bytes());
                out.push(b' ');
            } else if line.len() >= 3 && line[..3].iter().all(u8::is_ascii_digit) {
                out.push(b' ');
            }
            out.extend_from_slice(&line);
            out.extend_from_slice(b"\r\n");
        }
        out
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reply({} {:?})", self.code, self.text())
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.text())
    }
}

/// Bounds that keep a hostile server from making the parser allocate without limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest line accepted, in bytes, line ending included.
    pub max_line: usize,
    /// The most lines in one reply.
    pub max_lines: usize,
    /// The most bytes in one reply.
    pub max_reply: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_line: 8 * 1024,
            max_lines: 10_000,
            max_reply: 1024 * 1024,
        }
    }
}

/// The outcome of [`parse`] on input that is not malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// A complete value was read.
    Complete(T),
    /// The input ends before the value does; read more and call again.
    Partial,
}

/// Why bytes could not be read as a reply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// The first line does not start with a code `100`..`599` and a space or `-`.
    #[error("reply line does not start with a reply code: {excerpt:?}")]
    BadCode {
        /// The start of the offending line, decoded lossily.
        excerpt: String,
    },
    /// A line is longer than [`Limits::max_line`].
    #[error("reply line longer than {limit} bytes")]
    LineTooLong {
        /// The limit that was crossed.
        limit: usize,
    },
    /// The reply has more lines or bytes than [`Limits`] allow.
    #[error("reply longer than {limit} {unit}")]
    ReplyTooLong {
        /// The limit that was crossed.
        limit: usize,
        /// `"lines"` or `"bytes"`.
        unit: &'static str,
    },
}

fn excerpt(line: &[u8]) -> String {
    let end = line.len().min(40);
    String::from_utf8_lossy(&line[..end]).into_owned()
}

/// Reads one reply from the start of `buf`.
///
/// Lines end with CRLF; a bare LF is tolerated. A single-line reply is
/// `ddd text`; a multi-line reply starts with `ddd-` and ends with the first
/// line that starts with the same code followed by a space (or is the bare
/// code). Lines between may hold anything, including other codes.
pub fn parse(buf: &[u8], limits: &Limits) -> Result<Status<(Reply, usize)>, ReplyError> {
    let mut pos = 0usize;
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut code: Option<ReplyCode> = None;
    loop {
        let rest = &buf[pos..];
        let nl = rest.iter().take(limits.max_line).position(|&b| b == b'\n');
        let Some(nl) = nl else {
            if rest.len() >= limits.max_line {
                return Err(ReplyError::LineTooLong {
                    limit: limits.max_line,
                });
            }
            if code.is_none() && !rest.is_empty() {
                check_code_prefix(rest)?;
            }
            return Ok(Status::Partial);
        };
        let mut line = &rest[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        pos += nl + 1;
        if pos > limits.max_reply {
            return Err(ReplyError::ReplyTooLong {
                limit: limits.max_reply,
                unit: "bytes",
            });
        }
        match code {
            None => {
                let c = ReplyCode::from_digits(line).ok_or_else(|| ReplyError::BadCode {
                    excerpt: excerpt(line),
                })?;
                match line.get(3) {
                    None | Some(b' ') => {
                        let text = line.get(4..).unwrap_or_default().to_vec();
                        return Ok(Status::Complete((Reply::new(c, vec![text]), pos)));
                    }
                    Some(b'-') => {
                        code = Some(c);
                        lines.push(line[4..].to_vec());
                    }
                    Some(_) => {
                        return Err(ReplyError::BadCode {
                            excerpt: excerpt(line),
                        })
                    }
                }
            }
            Some(c) => {
                let ends = ReplyCode::from_digits(line) == Some(c)
                    && matches!(line.get(3), None | Some(b' '));
                if ends {
                    lines.push(line.get(4..).unwrap_or_default().to_vec());
                    return Ok(Status::Complete((Reply::new(c, lines), pos)));
                }
                if lines.len() + 1 >= limits.max_lines {
                    return Err(ReplyError::ReplyTooLong {
                        limit: limits.max_lines,
                        unit: "lines",
                    });
                }
                lines.push(line.to_vec());
            }
        }
    }
}

/// Rejects an incomplete first line early when what is there cannot start a reply.
fn check_code_prefix(rest: &[u8]) -> Result<(), ReplyError> {
    let n = rest.len().min(4);
    let ok = rest[..n].iter().enumerate().all(|(i, &b)| match i {
        0 => (b'1'..=b'5').contains(&b),
        1 | 2 => b.is_ascii_digit(),
        _ => b == b' ' || b == b'-' || b == b'\r' || b == b'\n',
    });
    if ok {
        Ok(())
    } else {
        Err(ReplyError::BadCode {
            excerpt: excerpt(rest),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(input: &[u8]) -> (Reply, usize) {
        match parse(input, &Limits::default()).expect("valid reply") {
            Status::Complete(r) => r,
            Status::Partial => panic!("partial: {:?}", String::from_utf8_lossy(input)),
        }
    }

    /// Every strict prefix of a valid reply is Partial; the whole is Complete.
    fn check_prefixes(input: &[u8]) -> Reply {
        for i in 0..input.len() {
            assert_eq!(
                parse(&input[..i], &Limits::default()),
                Ok(Status::Partial),
                "prefix {i} of {:?}",
                String::from_utf8_lossy(input)
            );
        }
        let (reply, used) = complete(input);
        assert_eq!(used, input.len());
        reply
    }

    #[test]
    fn single_line() {
        let r = check_prefixes(b"220 Service ready\r\n");
        assert_eq!(r.code().get(), 220);
        assert_eq!(r.lines(), &[b"Service ready".to_vec()]);
        assert!(r.is_completion());
    }

    #[test]
    fn bare_code_and_bare_lf() {
        let r = check_prefixes(b"226\r\n");
        assert_eq!(r.code().get(), 226);
        assert_eq!(r.first_line(), "");
        let r = check_prefixes(b"200 ok\n");
        assert_eq!(r.first_line(), "ok");
    }

    #[test]
    fn multi_line_with_continuations_and_digit_lines() {
        let input = b"230-Welcome\r\n  continuation\r\n123 looks like a code\r\n230-still going\r\n230 Done\r\n";
        let r = check_prefixes(input);
        assert_eq!(r.code().get(), 230);
        assert_eq!(r.lines().len(), 5);
        assert_eq!(r.lines()[2], b"123 looks like a code");
        assert_eq!(r.lines()[3], b"230-still going");
        assert_eq!(r.lines()[4], b"Done");
    }

    #[test]
    fn reads_only_the_first_of_two_replies() {
        let input = b"150 Opening\r\n226 Done\r\n";
        let (r, used) = complete(input);
        assert_eq!(r.code().get(), 150);
        assert_eq!(used, 13);
        let (r, _) = complete(&input[used..]);
        assert_eq!(r.code().get(), 226);
    }

    #[test]
    fn garbage_is_an_error_early() {
        for bad in [
            &b"hello\r\n"[..],
            b"HTTP/1.1 200",
            b"22x ok\r\n",
            b"2200 ok\r\n",
            b"099 x\r\n",
            b"600 x\r\n",
        ] {
            assert!(parse(bad, &Limits::default()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bounds_hold() {
        let limits = Limits {
            max_line: 64,
            max_lines: 4,
            max_reply: 200,
        };
        let long = [b'2'; 100];
        assert_eq!(
            parse(&long, &limits),
            Err(ReplyError::LineTooLong { limit: 64 })
        );
        let many = b"200-a\r\nb\r\nc\r\nd\r\ne\r\n200 end\r\n";
        assert!(matches!(
            parse(many, &limits),
            Err(ReplyError::ReplyTooLong { unit: "lines", .. })
        ));
        let mut big = b"200-x\r\n".to_vec();
        for _ in 0..4 {
            big.extend_from_slice(&[b'a'; 60]);
            big.extend_from_slice(b"\r\n");
        }
        assert!(matches!(
            parse(
                &big,
                &Limits {
                    max_lines: 100,
                    ..limits
                }
            ),
            Err(ReplyError::ReplyTooLong { unit: "bytes", .. })
        ));
    }

    #[test]
    fn two_hundred_line_banner() {
        let mut input = b"220-Banner\r\n".to_vec();
        for i in 0..200 {
            input.extend_from_slice(format!("line {i}\r\n").as_bytes());
        }
        input.extend_from_slice(b"220 ready\r\n");
        let (r, used) = complete(&input);
        assert_eq!(used, input.len());
        assert_eq!(r.lines().len(), 202);
    }

    #[test]
    fn encode_round_trips() {
        let r = Reply::new(
            ReplyCode::new(211).unwrap(),
            vec![
                b"Features:".to_vec(),
                b"211 inner".to_vec(),
                b" MLST".to_vec(),
                b"End".to_vec(),
            ],
        );
        let wire = r.encode();
        let back = check_prefixes(&wire);
        assert_eq!(back.code().get(), 211);
        assert_eq!(back.lines().len(), 4);
        assert_eq!(back.lines()[1], b" 211 inner");
        let one = Reply::single(550, "no\r\nsuch").unwrap().encode();
        assert_eq!(one, b"550 nosuch\r\n");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse(&data, &Limits { max_line: 50, max_lines: 5, max_reply: 200 });
        }

        #[test]
        fn multi_line_prefixes(lines in proptest::collection::vec("[ -~]{0,20}", 0..6), code in 100u16..600) {
            let r = Reply::new(ReplyCode::new(code).unwrap(), lines.iter().map(|l| l.as_bytes().to_vec()).collect());
            let wire = r.encode();
            for i in 0..wire.len() {
                proptest::prop_assert_eq!(parse(&wire[..i], &Limits::default()), Ok(Status::Partial));
            }
            let parsed = parse(&wire, &Limits::default());
            let done = matches!(parsed, Ok(Status::Complete((ref p, n))) if p.code() == r.code() && n == wire.len());
            proptest::prop_assert!(done);
        }
    }
}
