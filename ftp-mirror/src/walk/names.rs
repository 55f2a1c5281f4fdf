//! Names from a server's listing that must never reach the local disk,
//! and symbolic link targets that must never lead out of the mirror.

use std::borrow::Cow;
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

/// Why the target of a listed symbolic link is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkProblem {
    /// The target is empty.
    Empty,
    /// Contains NUL: cannot be a link target.
    Nul,
    /// Contains CR or LF.
    LineBreak,
    /// Starts with `/`: names a place outside the mirror.
    Absolute,
    /// Its `..` components climb above the module's root.
    Escapes,
    /// Longer than a path may be (4095 bytes).
    TooLong,
}

impl fmt::Display for LinkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkProblem::Empty => "empty target",
            LinkProblem::Nul => "target contains NUL",
            LinkProblem::LineBreak => "target contains CR or LF",
            LinkProblem::Absolute => "absolute target, outside the mirror",
            LinkProblem::Escapes => "target leads outside the mirror",
            LinkProblem::TooLong => "target longer than 4095 bytes",
        })
    }
}

/// The longest link target accepted (`PATH_MAX` less its NUL).
const TARGET_MAX: usize = 4095;

/// Checks the target of a symbolic link listed in directory `dir` (a path
/// relative to the module's root, `/` between names, empty for the root)
/// before the link is made in the mirror. No file is looked at: the target
/// is resolved lexically from `dir`, `.` (and empty) components staying in
/// place and `..` going up one, and it must never go above the root, not
/// even midway (`a/../../x` at the root is refused, though it could end
/// inside again).
///
/// Returns the target to write. That is `target` itself, unless a `..`
/// follows a name inside the target (`sub/../v1`): then the folded form
/// (`v1`) is returned. Written as given, the `..` would be taken after
/// `sub` is resolved, and if `sub` is a link pointing higher up
/// (`sub -> ..`, itself inside) the pair could reach outside the mirror.
/// A folded target starts with its `..` components only, which climb real
/// directories, so every link of the mirror stays inside it.
///
/// ```
/// use ftp_mirror::walk::{check_link_target, LinkProblem};
///
/// assert_eq!(check_link_target(b"", b"v1.2.3").unwrap().as_ref(), b"v1.2.3");
/// assert_eq!(check_link_target(b"sub", b"../v1").unwrap().as_ref(), b"../v1");
/// assert_eq!(check_link_target(b"", b"sub/../v1").unwrap().as_ref(), b"v1");
/// assert_eq!(check_link_target(b"", b"../x"), Err(LinkProblem::Escapes));
/// assert_eq!(check_link_target(b"", b"/etc/passwd"), Err(LinkProblem::Absolute));
/// ```
pub fn check_link_target<'a>(dir: &[u8], target: &'a [u8]) -> Result<Cow<'a, [u8]>, LinkProblem> {
    if target.is_empty() {
        return Err(LinkProblem::Empty);
    }
    if target.contains(&0) {
        return Err(LinkProblem::Nul);
    }
    if target.iter().any(|&b| b == b'\r' || b == b'\n') {
        return Err(LinkProblem::LineBreak);
    }
    if target.len() > TARGET_MAX {
        return Err(LinkProblem::TooLong);
    }
    if target.starts_with(b"/") {
        return Err(LinkProblem::Absolute);
    }
    // How deep below the root the resolution is, starting in `dir`.
    let mut depth = 0usize;
    for part in dir.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => depth = depth.checked_sub(1).ok_or(LinkProblem::Escapes)?,
            _ => depth += 1,
        }
    }
    // The target's own components after folding: leading `..`s, then names.
    let mut folded: Vec<&[u8]> = Vec::new();
    let mut climbs_back = false;
    for part in target.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                depth = depth.checked_sub(1).ok_or(LinkProblem::Escapes)?;
                if folded.last().is_some_and(|last| *last != b"..") {
                    folded.pop();
                    climbs_back = true;
                } else {
                    folded.push(part);
                }
            }
            _ => {
                depth += 1;
                folded.push(part);
            }
        }
    }
    if !climbs_back {
        return Ok(Cow::Borrowed(target));
    }
    if folded.is_empty() {
        return Ok(Cow::Borrowed(b"."));
    }
    Ok(Cow::Owned(folded.join(&b'/')))
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

    #[test]
    fn link_targets() {
        let ok = |dir: &[u8], target: &[u8], written: &[u8]| {
            assert_eq!(
                check_link_target(dir, target).as_deref(),
                Ok(written),
                "{} in {}",
                String::from_utf8_lossy(target),
                String::from_utf8_lossy(dir)
            );
        };
        ok(b"", b"v1", b"v1");
        ok(b"", b"./v1", b"./v1");
        ok(b"", b"v2/notes.txt", b"v2/notes.txt");
        ok(b"", b".", b".");
        ok(b"", b"v2/", b"v2/");
        ok(b"sub", b"../x", b"../x");
        ok(b"sub", b"..", b"..");
        ok(b"a/b", b"../../x", b"../../x");
        ok(b"a/b", b".//../x", b".//../x");
        // Folded: a `..` after a name of the target itself.
        ok(b"", b"sub/../v1", b"v1");
        ok(b"", b"sub/..", b".");
        ok(b"a/b", b"x/../../y", b"../y");
        ok(b"a", b"../b/c/../d", b"../b/d");
        ok(b"", b"\xff\xfe raw", b"\xff\xfe raw");

        let refused = |dir: &[u8], target: &[u8], why: LinkProblem| {
            assert_eq!(
                check_link_target(dir, target),
                Err(why),
                "{} in {}",
                String::from_utf8_lossy(target),
                String::from_utf8_lossy(dir)
            );
        };
        refused(b"", b"../x", LinkProblem::Escapes);
        refused(b"", b"..", LinkProblem::Escapes);
        refused(b"", b"a/../../x", LinkProblem::Escapes);
        refused(b"", b"./../x", LinkProblem::Escapes);
        refused(b"sub", b"../../x", LinkProblem::Escapes);
        refused(b"sub", b"../x/../../y", LinkProblem::Escapes);
        refused(b"a/b", b"../../../etc/passwd", LinkProblem::Escapes);
        refused(b"", b"/etc/passwd", LinkProblem::Absolute);
        refused(b"sub", b"/", LinkProblem::Absolute);
        refused(b"", b"", LinkProblem::Empty);
        refused(b"", b"v1\0x", LinkProblem::Nul);
        refused(b"", b"v1\nx", LinkProblem::LineBreak);
        refused(b"", b"v1\r", LinkProblem::LineBreak);
        refused(b"", &[b'x'; 4096], LinkProblem::TooLong);
        ok(b"", &[b'x'; 4095], &[b'x'; 4095]);
    }
}
