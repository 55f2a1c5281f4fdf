//! Names from a server's listing that must never reach the local disk.

use std::fmt;

/// Why a listed name is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameProblem {
    /// The name is empty.
    Empty,
    /// `.` or `..`: would point at this directory or its parent.
    Dots,
    /// Contains `/`: would reach into another directory.
    Slash,
    /// Contains NUL: cannot be a file name, and would cut the path short.
    Nul,
    /// Contains CR or LF: cannot be sent back in a command safely.
    LineBreak,
    /// Longer than a file name may be (255 bytes).
    TooLong,
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameProblem::Empty => "empty name",
            NameProblem::Dots => "name is . or ..",
            NameProblem::Slash => "name contains /",
            NameProblem::Nul => "name contains NUL",
            NameProblem::LineBreak => "name contains CR or LF",
            NameProblem::TooLong => "name longer than 255 bytes",
        })
    }
}

/// The longest name most local file systems accept.
const NAME_MAX: usize = 255;

/// Checks one name from a listing before it is used as a local file name
/// or sent back to the server.
///
/// ```
/// use ftp_mirror::walk::{check_name, NameProblem};
///
/// assert_eq!(check_name(b"caf\xc3\xa9 menu.txt"), Ok(()));
/// assert_eq!(check_name(b"\xff\xfe raw"), Ok(())); // not UTF-8: fine
/// assert_eq!(check_name(b".."), Err(NameProblem::Dots));
/// assert_eq!(check_name(b"../../etc/passwd"), Err(NameProblem::Slash));
/// assert_eq!(check_name(b"a\r\nDELE x"), Err(NameProblem::LineBreak));
/// ```
pub fn check_name(name: &[u8]) -> Result<(), NameProblem> {
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name == b"." || name == b".." {
        return Err(NameProblem::Dots);
    }
    if name.contains(&b'/') {
        return Err(NameProblem::Slash);
    }
    if name.contains(&0) {
        return Err(NameProblem::Nul);
    }
    if name.iter().any(|&b| b == b'\r' || b == b'\n') {
        return Err(NameProblem::LineBreak);
    }
    if name.len() > NAME_MAX {
        return Err(NameProblem::TooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&[u8], Result<(), NameProblem>)] = &[
            (b"plain", Ok(())),
            (b"with space", Ok(())),
            (b".hidden", Ok(())),
            (b"...", Ok(())),
            (b"back\\slash", Ok(())),
            (b"\xe6\x97\xa5\xe6\x9c\xac", Ok(())),
            (b"", Err(NameProblem::Empty)),
            (b".", Err(NameProblem::Dots)),
            (b"..", Err(NameProblem::Dots)),
            (b"/", Err(NameProblem::Slash)),
            (b"a/b", Err(NameProblem::Slash)),
            (b"/etc", Err(NameProblem::Slash)),
            (b"a\0b", Err(NameProblem::Nul)),
            (b"a\rb", Err(NameProblem::LineBreak)),
            (b"a\n", Err(NameProblem::LineBreak)),
        ];
        for (name, want) in cases {
            assert_eq!(check_name(name), *want, "{}", String::from_utf8_lossy(name));
        }
        assert_eq!(check_name(&[b'x'; 255]), Ok(()));
        assert_eq!(check_name(&[b'x'; 256]), Err(NameProblem::TooLong));
    }
}
