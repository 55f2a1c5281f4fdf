//! Exclude patterns (`--exclude`): which remote entries a walk leaves out.
//!
//! A pattern is a glob (the `globset` crate's syntax: `*`, `?`, `[...]`,
//! `[!...]`, `{a,b}`, `**`, `\` to escape) matched against an entry's path
//! relative to the module's remote root, with `/` between names and no
//! leading `/` (`docs/a.txt`). The rules, like rsync's and gitignore's:
//!
//! - `*` and `?` never match `/`; `**` as a whole path component matches
//!   any number of components (none included): `**/*.iso` matches `a.iso`
//!   and `x/y/a.iso`; inside a name (`a**b`) it is just `*`.
//! - A pattern without `/` (other than a trailing one) matches the final
//!   name at any depth: `*.tmp` excludes `a.tmp` and `x/y/a.tmp`.
//! - A pattern with a `/` inside matches the whole relative path: `docs/*.tmp`
//!   excludes `docs/a.tmp` but not `x/docs/a.tmp` (write `**/docs/*.tmp`).
//! - A leading `/` anchors the pattern at the root: `/*.tmp` excludes
//!   `a.tmp` only, not `x/a.tmp`.
//! - A trailing `/` matches directories only: `.incoming/` excludes every
//!   directory named `.incoming` (and so all it holds), not a file of that
//!   name.
//!
//! Names are matched as the raw bytes the server sent: `*` matches any run
//! of bytes but `/` (invalid UTF-8 included) and `?` matches one byte, so
//! one ASCII character but only part of a multi-byte one. A `*` matches a
//! leading `.` too (`*` excludes dot files). Matching is case-sensitive.
//!
//! ```
//! use ftp_mirror::filter::Exclude;
//!
//! let exclude = Exclude::new(["*.tmp", "/build/", "**/cache/*.bin"])?;
//! assert!(exclude.is_excluded(b"a/b/x.tmp", false));
//! assert!(exclude.is_excluded(b"build", true));
//! assert!(!exclude.is_excluded(b"build", false), "directories only");
//! assert!(!exclude.is_excluded(b"src/build", true), "anchored at the root");
//! assert!(exclude.is_excluded(b"x/cache/y.bin", false));
//! assert!(!exclude.is_excluded(b"x/cache/sub/y.bin", false), "* stops at /");
//! # Ok::<(), ftp_mirror::filter::PatternError>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use globset::{Candidate, GlobBuilder, GlobSet, GlobSetBuilder};

/// One checked and compiled exclude pattern.
#[derive(Clone)]
pub struct Pattern {
    /// As given.
    text: String,
    /// The glob matched against the whole relative path.
    glob: globset::Glob,
    /// It ended with `/`: directories only.
    dir_only: bool,
    /// `glob` alone, compiled (which is what proves it valid).
    alone: GlobSet,
}

/// Why a pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad exclude pattern {pattern:?}: {reason}")]
pub struct PatternError {
    /// The pattern as given.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Pattern {
    /// Checks and compiles `text` (see the [module docs](self) for the
    /// syntax).
    pub fn new(text: &str) -> Result<Pattern, PatternError> {
        let refuse = |reason: String| PatternError {
            pattern: text.to_string(),
            reason,
        };
        let (anchored, rest) = match text.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (dir_only, body) = match rest.strip_suffix('/') {
            Some(body) => (true, body),
            None => (false, rest),
        };
        if body.is_empty() {
            return Err(refuse("it names no file or directory".into()));
        }
        if body
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(refuse(
                "empty, `.` and `..` path components never match: paths are relative to the module's root, like `dir/*.tmp`".into(),
            ));
        }
        let glob = if anchored || body.contains('/') || body == "**" {
            body.to_string()
        } else {
            format!("**/{body}")
        };
        let glob = GlobBuilder::new(&glob)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| refuse(e.kind().to_string()))?;
        let alone = GlobSetBuilder::new()
            .add(glob.clone())
            .build()
            .map_err(|e| refuse(e.kind().to_string()))?;
        Ok(Pattern {
            text: text.to_string(),
            glob,
            dir_only,
            alone,
        })
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether it ended with `/` (directories only).
    pub fn is_dir_only(&self) -> bool {
        self.dir_only
    }

    /// Whether it excludes the entry at `rel` (relative to the root, `/`
    /// separated), a directory when `is_dir`.
    pub fn is_match(&self, rel: &[u8], is_dir: bool) -> bool {
        (is_dir || !self.dir_only) && self.alone.is_match_candidate(&Candidate::from_bytes(rel))
    }
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Pattern, PatternError> {
        Pattern::new(s)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A set of exclude patterns, compiled together. Cheap to clone and share
/// between threads (one `Arc`); the default excludes nothing.
#[derive(Clone, Default)]
pub struct Exclude(Option<Arc<Compiled>>);

struct Compiled {
    patterns: Vec<Pattern>,
    /// Usually one set holding every pattern; one per pattern if they could
    /// not be compiled together. Each with the pattern index of its globs.
    sets: Vec<(GlobSet, Vec<usize>)>,
}

impl Exclude {
    /// Excludes nothing.
    pub fn none() -> Exclude {
        Exclude(None)
    }

    /// Checks and compiles every pattern; the error names the first bad one.
    pub fn new<I, S>(patterns: I) -> Result<Exclude, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let patterns = patterns
            .into_iter()
            .map(|p| Pattern::new(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Exclude::from_patterns(patterns))
    }

    /// Patterns checked already (say by a command-line parser).
    pub fn from_patterns(patterns: impl IntoIterator<Item = Pattern>) -> Exclude {
        let patterns: Vec<Pattern> = patterns.into_iter().collect();
        if patterns.is_empty() {
            return Exclude(None);
        }
        let mut all = GlobSetBuilder::new();
        for p in &patterns {
            all.add(p.glob.clone());
        }
        let sets = match all.build() {
            Ok(set) => vec![(set, (0..patterns.len()).collect())],
            // Each compiles alone (checked in `Pattern::new`); together
            // they can only exceed the regex size limits.
            Err(e) => {
                log::debug!("exclude patterns compiled one by one: {e}");
                patterns
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.alone.clone(), vec![i]))
                    .collect()
            }
        };
        Exclude(Some(Arc::new(Compiled { patterns, sets })))
    }

    /// Whether there is no pattern.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The patterns, in the order given.
    pub fn patterns(&self) -> &[Pattern] {
        self.0.as_ref().map_or(&[], |c| &c.patterns)
    }

    /// The first pattern (in the order given) that excludes the entry at
    /// `rel` (relative to the module's root, `/` separated, no leading
    /// `/`), a directory when `is_dir`.
    pub fn matching(&self, rel: &[u8], is_dir: bool) -> Option<&Pattern> {
        let compiled = self.0.as_ref()?;
        let candidate = Candidate::from_bytes(rel);
        compiled
            .sets
            .iter()
            .filter(|(set, _)| set.is_match_candidate(&candidate))
            .flat_map(|(set, index)| {
                set.matches_candidate(&candidate)
                    .into_iter()
                    .map(|i| index[i])
            })
            .filter(|&i| is_dir || !compiled.patterns[i].dir_only)
            .min()
            .map(|i| &compiled.patterns[i])
    }

    /// Whether some pattern excludes the entry at `rel` (see
    /// [`Exclude::matching`]).
    pub fn is_excluded(&self, rel: &[u8], is_dir: bool) -> bool {
        self.matching(rel, is_dir).is_some()
    }
}

impl fmt::Debug for Exclude {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Exclude").field(&self.patterns()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(patterns: &[&str]) -> Exclude {
        Exclude::new(patterns).unwrap()
    }

    #[test]
    fn a_name_pattern_matches_at_any_depth() {
        let e = ex(&["*.tmp"]);
        for rel in ["a.tmp", "x/a.tmp", "x/y/z/a.tmp", ".hidden.tmp", "x/.tmp"] {
            assert!(e.is_excluded(rel.as_bytes(), false), "{rel}");
            assert!(e.is_excluded(rel.as_bytes(), true), "{rel} (a directory)");
        }
        for rel in ["a.tmpx", "a.tmp/b", "x/a.tmp/b.txt", "tmp"] {
            assert!(!e.is_excluded(rel.as_bytes(), false), "{rel}");
        }
        let literal = ex(&["core"]);
        assert!(literal.is_excluded(b"core", false));
        assert!(literal.is_excluded(b"a/b/core", false));
        assert!(!literal.is_excluded(b"a/core.c", false));
        assert!(
            !literal.is_excluded(b"core/x", false),
            "only the name itself"
        );
    }

    #[test]
    fn a_leading_slash_anchors_at_the_root() {
        let e = ex(&["/*.tmp", "/build"]);
        assert!(e.is_excluded(b"a.tmp", false));
        assert!(!e.is_excluded(b"x/a.tmp", false));
        assert!(e.is_excluded(b"build", true));
        assert!(e.is_excluded(b"build", false));
        assert!(!e.is_excluded(b"src/build", true));
    }

    #[test]
    fn a_pattern_with_a_slash_matches_the_whole_path() {
        let e = ex(&["docs/*.tmp"]);
        assert!(e.is_excluded(b"docs/a.tmp", false));
        assert!(!e.is_excluded(b"x/docs/a.tmp", false), "anchored");
        assert!(!e.is_excluded(b"docs/sub/a.tmp", false), "* stops at /");
        assert_eq!(
            format!("{:?}", ex(&["docs/*.tmp", "/docs/*.tmp"])),
            r#"Exclude(["docs/*.tmp", "/docs/*.tmp"])"#
        );
        let anywhere = ex(&["**/docs/*.tmp"]);
        assert!(anywhere.is_excluded(b"docs/a.tmp", false));
        assert!(anywhere.is_excluded(b"x/y/docs/a.tmp", false));
    }

    #[test]
    fn single_and_double_stars() {
        let e = ex(&["a/*/z"]);
        assert!(e.is_excluded(b"a/b/z", false));
        assert!(!e.is_excluded(b"a/b/c/z", false));
        assert!(!e.is_excluded(b"a/z", false));
        let e = ex(&["a/**/z"]);
        assert!(e.is_excluded(b"a/z", false));
        assert!(e.is_excluded(b"a/b/z", false));
        assert!(e.is_excluded(b"a/b/c/z", false));
        let e = ex(&["**/*.iso"]);
        assert!(e.is_excluded(b"x.iso", false));
        assert!(e.is_excluded(b"p/q/x.iso", false));
        let e = ex(&["logs/**"]);
        assert!(e.is_excluded(b"logs/a", false));
        assert!(e.is_excluded(b"logs/a/b", true));
        assert!(!e.is_excluded(b"logs", true), "what it holds, not itself");
        let everything = ex(&["**"]);
        assert!(everything.is_excluded(b"a", false));
        assert!(everything.is_excluded(b"a/b/c", true));
        let dirs = ex(&["**/"]);
        assert!(dirs.is_excluded(b"a/b", true));
        assert!(!dirs.is_excluded(b"a/b", false));
        let not_a_component = ex(&["/**.tmp"]);
        assert!(not_a_component.is_excluded(b"a.tmp", false));
        assert!(
            !not_a_component.is_excluded(b"x/a.tmp", false),
            "** inside a name is *"
        );
        let e = ex(&["?.txt", "[ab]*.c", "[!x]*.h", "*.{gz,xz}"]);
        assert!(e.is_excluded(b"d/1.txt", false));
        assert!(!e.is_excluded(b"12.txt", false));
        assert!(e.is_excluded(b"b.c", false));
        assert!(!e.is_excluded(b"c.c", false));
        assert!(e.is_excluded(b"y.h", false));
        assert!(!e.is_excluded(b"x.h", false));
        assert!(e.is_excluded(b"a.tar.xz", false));
    }

    #[test]
    fn a_trailing_slash_matches_directories_only() {
        let e = ex(&[".incoming/", "/top/"]);
        assert!(e.is_excluded(b".incoming", true));
        assert!(e.is_excluded(b"a/b/.incoming", true));
        assert!(!e.is_excluded(b".incoming", false));
        assert!(!e.is_excluded(b"a/.incoming", false));
        assert!(e.is_excluded(b"top", true));
        assert!(!e.is_excluded(b"top", false));
        assert!(!e.is_excluded(b"a/top", true));
        assert!(e.patterns()[0].is_dir_only());
        assert!(!Pattern::new("x").unwrap().is_dir_only());
    }

    #[test]
    fn the_first_matching_pattern_is_reported() {
        let e = ex(&["*.iso/", "big/", "*.iso", "**"]);
        assert_eq!(e.matching(b"a.iso", false).unwrap().as_str(), "*.iso");
        assert_eq!(e.matching(b"a.iso", true).unwrap().as_str(), "*.iso/");
        assert_eq!(e.matching(b"big", false).unwrap().as_str(), "**");
        assert_eq!(e.matching(b"x/big", true).unwrap().as_str(), "big/");
        assert!(Exclude::none().matching(b"a", false).is_none());
        assert!(Exclude::default().is_empty());
        assert!(Exclude::new(Vec::<String>::new()).unwrap().is_empty());
    }

    #[test]
    fn names_with_spaces_and_bytes_that_are_not_utf8() {
        let e = ex(&["* copy.txt", "*.tmp", "caf?", "caf??", "/r\u{e9}sum\u{e9}*"]);
        assert!(e.is_excluded(b"My File copy.txt", false));
        assert!(!e.is_excluded(b"My File.txt", false));
        // Latin-1 bytes: `*` matches them, the suffix still decides.
        assert!(e.is_excluded(b"d\xe9j\xe0/x\xff.tmp", false));
        assert!(!e.is_excluded(b"d\xe9j\xe0/x\xff.tm", false));
        // `?` is one byte: one Latin-1 character, half of a UTF-8 `é`.
        assert!(e.is_excluded(b"caf\xe9", false));
        assert!(e.is_excluded("café".as_bytes(), false));
        assert_eq!(
            e.matching("café".as_bytes(), false).unwrap().as_str(),
            "caf??"
        );
        // A UTF-8 pattern matches the UTF-8 name, not a Latin-1 one.
        assert!(e.is_excluded("résumé.pdf".as_bytes(), false));
        assert!(!e.is_excluded(b"r\xe9sum\xe9.pdf", false));
        // A backslash escapes.
        let e = ex(&[r"\*.txt"]);
        assert!(e.is_excluded(b"*.txt", false));
        assert!(!e.is_excluded(b"a.txt", false));
    }

    #[test]
    fn bad_patterns_are_refused_by_name() {
        for bad in [
            "[a", "{a,b", "a}", "", "/", "//", "a//b", "./a", "a/../b", "x/.", "\\", "a/[z-a]",
        ] {
            let e = Exclude::new(["ok*", bad]).unwrap_err();
            assert_eq!(e.pattern, bad);
            assert!(
                e.to_string()
                    .starts_with(&format!("bad exclude pattern {bad:?}: ")),
                "{e}"
            );
            assert!(bad.parse::<Pattern>().is_err(), "{bad}");
        }
        let e = Exclude::new(["[a"]).unwrap_err();
        assert!(e.reason.contains("unclosed character class"), "{e}");
    }

    #[test]
    fn shared_between_threads() {
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        shareable::<Exclude>();
        shareable::<Pattern>();
        let e = ex(&["*.tmp"]);
        let clone = e.clone();
        std::thread::spawn(move || assert!(clone.is_excluded(b"a.tmp", false)))
            .join()
            .unwrap();
        assert!(e.is_excluded(b"b.tmp", false));
    }
}
