//! Byte-for-byte comparison of a mirrored tree with its source.
//!
//! A run only counts when [`compare`] finds every source file in the
//! destination with identical contents and no unexpected extra files.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// What [`compare`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Files compared and found identical.
    pub identical: usize,
    /// Bytes compared.
    pub bytes: u64,
    /// Source files missing from the destination (relative paths).
    pub missing: Vec<String>,
    /// Files present in both whose contents or sizes differ.
    pub different: Vec<String>,
    /// Files in the destination that the source does not have.
    pub extra: Vec<String>,
}

impl Verdict {
    /// True when the destination is an exact copy.
    pub fn is_ok(&self) -> bool {
        self.missing.is_empty() && self.different.is_empty() && self.extra.is_empty()
    }

    /// A one-line summary naming the first few problems.
    pub fn summary(&self) -> String {
        if self.is_ok() {
            return format!("{} files identical ({} bytes)", self.identical, self.bytes);
        }
        let first = |v: &[String]| v.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        format!(
            "{} identical, {} missing [{}], {} different [{}], {} extra [{}]",
            self.identical,
            self.missing.len(),
            first(&self.missing),
            self.different.len(),
            first(&self.different),
            self.extra.len(),
            first(&self.extra)
        )
    }
}

/// Compares `dest` with `source`. Files in `dest` whose name is in
/// `ignore_names` (e.g. wget's `.listing`) are not reported as extra.
pub fn compare(source: &Path, dest: &Path, ignore_names: &[&str]) -> io::Result<Verdict> {
    let mut verdict = Verdict::default();
    let src_files = list_files(source)?;
    let mut a = vec![0u8; 1 << 16];
    let mut b = vec![0u8; 1 << 16];
    for rel in &src_files {
        let theirs = dest.join(rel);
        match fs::symlink_metadata(&theirs) {
            Ok(meta) if meta.is_file() => {
                let size = fs::metadata(source.join(rel))?.len();
                if meta.len() != size || !same_contents(&source.join(rel), &theirs, &mut a, &mut b)?
                {
                    verdict.different.push(display(rel));
                } else {
                    verdict.identical += 1;
                    verdict.bytes += size;
                }
            }
            _ => verdict.missing.push(display(rel)),
        }
    }
    if dest.is_dir() {
        let src_set: std::collections::HashSet<&PathBuf> = src_files.iter().collect();
        for rel in list_files(dest)? {
            let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !src_set.contains(&rel) && !ignore_names.contains(&name) {
                verdict.extra.push(display(&rel));
            }
        }
    }
    Ok(verdict)
}

/// Regular files below `root`, as paths relative to it, sorted.
pub fn list_files(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for entry in fs::read_dir(root.join(&rel))? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let child = rel.join(entry.file_name());
            if kind.is_dir() {
                stack.push(child);
            } else {
                out.push(child);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn same_contents(x: &Path, y: &Path, a: &mut [u8], b: &mut [u8]) -> io::Result<bool> {
    let mut fx = File::open(x)?;
    let mut fy = File::open(y)?;
    loop {
        let n = read_full(&mut fx, a)?;
        let m = read_full(&mut fy, b)?;
        if n != m || a[..n] != b[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn display(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, data: &[u8]) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, data).expect("write");
    }

    #[test]
    fn identical_trees_pass() {
        let (s, d) = (
            tempfile::tempdir().expect("t"),
            tempfile::tempdir().expect("t"),
        );
        for root in [s.path(), d.path()] {
            write(root, "x/y/z.bin", &[7u8; 70_000]);
            write(root, "top", b"hello");
            write(root, "empty", b"");
        }
        write(d.path(), "x/.listing", b"ignored");
        let v = compare(s.path(), d.path(), &[".listing"]).expect("compare");
        assert!(v.is_ok(), "{}", v.summary());
        assert_eq!(v.identical, 3);
        assert_eq!(v.bytes, 70_005);
    }

    #[test]
    fn missing_different_and_extra_are_reported() {
        let (s, d) = (
            tempfile::tempdir().expect("t"),
            tempfile::tempdir().expect("t"),
        );
        write(s.path(), "a", b"same");
        write(d.path(), "a", b"same");
        write(s.path(), "gone", b"1");
        let mut big = vec![1u8; 100_000];
        write(s.path(), "dir/b", &big);
        big[99_999] = 2;
        write(d.path(), "dir/b", &big);
        write(d.path(), "stray", b"?");
        let v = compare(s.path(), d.path(), &[]).expect("compare");
        assert!(!v.is_ok());
        assert_eq!(v.missing, vec!["gone".to_string()]);
        assert_eq!(v.different, vec!["dir/b".to_string()]);
        assert_eq!(v.extra, vec!["stray".to_string()]);
        assert!(v.summary().contains("1 missing [gone]"));
    }
}
