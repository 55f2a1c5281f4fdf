//! Sample directory trees and a tree comparison.
//!
//! [`build_sample_tree`] writes a small tree with the awkward cases a mirror
//! must get right (nesting, spaces, non-ASCII names, an empty file, an empty
//! directory, one larger file with deterministic content). [`assert_trees_equal`]
//! compares two trees by relative path, kind and bytes and panics with a list
//! of the differences.
//!
//! ```
//! use ftp_mirror_tests::tree::{assert_trees_equal, build_sample_tree, snapshot};
//!
//! let a = tempfile::tempdir().unwrap();
//! let b = tempfile::tempdir().unwrap();
//! let summary = build_sample_tree(a.path(), 100_000);
//! build_sample_tree(b.path(), 100_000);
//! assert_trees_equal(a.path(), b.path());
//! assert_eq!(snapshot(a.path()).len(), summary.files + summary.dirs);
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The files of the sample tree besides the large one: relative path and
/// content. Directories are created as needed.
pub const SAMPLE_FILES: &[(&str, &[u8])] = &[
    ("readme.txt", b"a small text file\n"),
    ("empty.bin", b""),
    ("with space.txt", b"a name with a space\n"),
    (
        "caf\u{e9} \u{65e5}\u{672c}.txt",
        "non-ASCII name, UTF-8 content: \u{e9}\u{e8}\n".as_bytes(),
    ),
    ("dir1/a.txt", b"first nested file\n"),
    ("dir1/nested/deep/leaf.dat", b"\x00\x01\x02binary\xff\xfe"),
    (
        "dir with space/inner file.txt",
        b"inside a directory with a space\n",
    ),
    (
        "r\u{e9}pertoire/fichier.txt",
        b"inside a non-ASCII directory\n",
    ),
];

/// Empty directories of the sample tree.
pub const SAMPLE_EMPTY_DIRS: &[&str] = &["empty-dir", "dir1/empty-too"];

/// The relative path of the sample tree's large file.
pub const SAMPLE_BIG_FILE: &str = "dir1/big.bin";

/// The seed of the sample tree's large file (see [`pseudo_random_bytes`]).
pub const SAMPLE_SEED: u64 = 0x5eed_f11e;

/// What [`build_sample_tree`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeSummary {
    /// Regular files written.
    pub files: usize,
    /// Directories created below the root (the root not counted).
    pub dirs: usize,
    /// Total bytes of all files.
    pub bytes: u64,
}

/// Writes the sample tree into `root` (which must exist), with a large
/// file of `big_len` bytes at [`SAMPLE_BIG_FILE`].
///
/// # Panics
/// On any I/O error (this is test set-up).
pub fn build_sample_tree(root: &Path, big_len: usize) -> TreeSummary {
    let mut bytes = 0u64;
    for (rel, content) in SAMPLE_FILES {
        write_file(&root.join(rel), content);
        bytes += content.len() as u64;
    }
    for rel in SAMPLE_EMPTY_DIRS {
        create_dir(&root.join(rel));
    }
    write_file(
        &root.join(SAMPLE_BIG_FILE),
        &pseudo_random_bytes(SAMPLE_SEED, big_len),
    );
    bytes += big_len as u64;
    let snap = snapshot(root);
    TreeSummary {
        files: snap.values().filter(|n| matches!(n, Node::File(_))).count(),
        dirs: snap.values().filter(|n| matches!(n, Node::Dir)).count(),
        bytes,
    }
}

/// Writes `content` to `path`, creating parent directories.
///
/// # Panics
/// On any I/O error.
pub fn write_file(path: &Path, content: &[u8]) {
    if let Some(parent) = path.parent() {
        create_dir(parent);
    }
    fs::write(path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Creates a directory and its parents.
///
/// # Panics
/// On any I/O error.
pub fn create_dir(path: &Path) {
    fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
}

/// `len` bytes of deterministic pseudo-random content (xorshift64*): the
/// same seed and length always give the same bytes, and a prefix of a longer
/// run equals a shorter run. Fast enough for tens of MiB.
pub fn pseudo_random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
    if state == 0 {
        state = 1;
    }
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One node of a [`snapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A directory.
    Dir,
    /// A regular file and its length.
    File(u64),
    /// A symbolic link and its target.
    Symlink(PathBuf),
    /// Anything else (device, socket, pipe).
    Other,
}

/// Every path below `root` (relative, root itself excluded) and its kind,
/// without following symbolic links.
///
/// # Panics
/// On any I/O error.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut out = BTreeMap::new();
    walk(root, Path::new(""), &mut out);
    out
}

fn walk(root: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, Node>) {
    let dir = root.join(rel);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()));
        let rel = rel.join(entry.file_name());
        let path = root.join(&rel);
        let meta =
            fs::symlink_metadata(&path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
        let ft = meta.file_type();
        if ft.is_dir() {
            out.insert(rel.clone(), Node::Dir);
            walk(root, &rel, out);
        } else if ft.is_file() {
            out.insert(rel, Node::File(meta.len()));
        } else if ft.is_symlink() {
            let target =
                fs::read_link(&path).unwrap_or_else(|e| panic!("readlink {}: {e}", path.display()));
            out.insert(rel, Node::Symlink(target));
        } else {
            out.insert(rel, Node::Other);
        }
    }
}

/// The differences between the trees at `a` and `b`, one line each; empty
/// when they have the same paths, kinds, link targets and file bytes.
///
/// # Panics
/// On any I/O error.
pub fn tree_differences(a: &Path, b: &Path) -> Vec<String> {
    let sa = snapshot(a);
    let sb = snapshot(b);
    let mut diffs = Vec::new();
    for (rel, na) in &sa {
        match sb.get(rel) {
            None => diffs.push(format!(
                "only in {}: {} ({na:?})",
                a.display(),
                rel.display()
            )),
            Some(nb) if nb != na => diffs.push(format!("{}: {na:?} vs {nb:?}", rel.display())),
            Some(Node::File(_)) => {
                if let Some(offset) = first_difference(&a.join(rel), &b.join(rel)) {
                    diffs.push(format!(
                        "{}: contents differ at byte {offset}",
                        rel.display()
                    ));
                }
            }
            Some(_) => {}
        }
    }
    for (rel, nb) in &sb {
        if !sa.contains_key(rel) {
            diffs.push(format!(
                "only in {}: {} ({nb:?})",
                b.display(),
                rel.display()
            ));
        }
    }
    diffs
}

/// Panics with a list of differences unless the trees at `a` and `b` have
/// the same paths, kinds, link targets and file bytes.
pub fn assert_trees_equal(a: &Path, b: &Path) {
    let diffs = tree_differences(a, b);
    if !diffs.is_empty() {
        let mut msg = format!("trees differ: {} vs {}\n", a.display(), b.display());
        for d in diffs.iter().take(50) {
            let _ = writeln!(msg, "  {d}");
        }
        if diffs.len() > 50 {
            let _ = writeln!(msg, "  ... and {} more", diffs.len() - 50);
        }
        panic!("{msg}");
    }
}

/// The first offset where two files of equal length differ, if any.
fn first_difference(a: &Path, b: &Path) -> Option<u64> {
    let open = |p: &Path| fs::File::open(p).unwrap_or_else(|e| panic!("open {}: {e}", p.display()));
    let (mut fa, mut fb) = (open(a), open(b));
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    let mut offset = 0u64;
    loop {
        let na =
            read_full(&mut fa, &mut ba).unwrap_or_else(|e| panic!("read {}: {e}", a.display()));
        let nb =
            read_full(&mut fb, &mut bb).unwrap_or_else(|e| panic!("read {}: {e}", b.display()));
        if let Some(i) = ba[..na].iter().zip(&bb[..nb]).position(|(x, y)| x != y) {
            return Some(offset + i as u64);
        }
        if na != nb {
            return Some(offset + na.min(nb) as u64);
        }
        if na == 0 {
            return None;
        }
        offset += na as u64;
    }
}

/// Reads until `buf` is full or EOF.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_random_bytes_are_deterministic_and_prefix_stable() {
        let a = pseudo_random_bytes(7, 1000);
        assert_eq!(a, pseudo_random_bytes(7, 1000));
        assert_eq!(&a[..333], &pseudo_random_bytes(7, 333)[..]);
        assert_ne!(a, pseudo_random_bytes(8, 1000));
        // Not trivially constant.
        assert!(a.iter().collect::<std::collections::BTreeSet<_>>().len() > 200);
    }

    #[test]
    fn detects_each_kind_of_difference() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let summary = build_sample_tree(a.path(), 200_000);
        assert_eq!(summary.files, SAMPLE_FILES.len() + 1);
        build_sample_tree(b.path(), 200_000);
        assert!(tree_differences(a.path(), b.path()).is_empty());

        // Same length, one byte changed deep inside the large file.
        let big = b.path().join(SAMPLE_BIG_FILE);
        let mut bytes = fs::read(&big).unwrap();
        bytes[150_000] ^= 1;
        fs::write(&big, &bytes).unwrap();
        // A missing empty directory, an extra file, a file turned into a directory.
        fs::remove_dir(b.path().join("empty-dir")).unwrap();
        write_file(&b.path().join("extra.txt"), b"x");
        fs::remove_file(b.path().join("empty.bin")).unwrap();
        create_dir(&b.path().join("empty.bin"));

        let diffs = tree_differences(a.path(), b.path());
        assert_eq!(diffs.len(), 4, "{diffs:#?}");
        assert!(
            diffs.iter().any(|d| d.contains("differ at byte 150000")),
            "{diffs:#?}"
        );
        let r = std::panic::catch_unwind(|| assert_trees_equal(a.path(), b.path()));
        assert!(r.is_err());
    }
}
