//! Deterministic source trees, generated from a seeded PRNG and cached.
//!
//! A tree is described by a [`TreeSpec`]; [`ensure_tree`] builds it under
//! `<out>/trees/<name>/` unless a complete copy is already there. A tree is
//! complete when its manifest (`<out>/trees/<name>.manifest`) exists and starts
//! with the spec's signature; the manifest is written last, so an interrupted
//! generation is rebuilt on the next run.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The modification time given to every generated file and directory
/// (2024-01-01T00:00:00Z), so incremental re-runs see stable timestamps.
pub const FIXED_MTIME_SECS: u64 = 1_704_067_200;

/// How a tree looks: its directories and its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeSpec {
    /// Short name, used for the cache directory and in reports (`a`, `b`, ...).
    pub name: String,
    /// One line for humans, e.g. "2,000 files of 1-16 KiB in 100 directories".
    pub description: String,
    /// PRNG seed; the same spec always yields the same bytes.
    pub seed: u64,
    /// Number of directories below the root that receive files (0: files go
    /// into the root).
    pub dirs: usize,
    /// Deepest directory level (1: all directories are children of the root).
    pub depth: usize,
    /// The files, group by group.
    pub groups: Vec<FileGroup>,
}

/// A number of files whose sizes are drawn uniformly from a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileGroup {
    /// How many files.
    pub count: usize,
    /// Smallest size in bytes (inclusive).
    pub min_size: u64,
    /// Largest size in bytes (inclusive).
    pub max_size: u64,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

impl TreeSpec {
    /// Tree (a): 2,000 files of 1-16 KiB in 100 directories, 4 levels deep.
    pub fn small_files() -> TreeSpec {
        TreeSpec {
            name: "a".into(),
            description: "2,000 files of 1-16 KiB in 100 directories, 4 levels deep".into(),
            seed: 0xa11ce,
            dirs: 100,
            depth: 4,
            groups: vec![FileGroup {
                count: 2000,
                min_size: KIB,
                max_size: 16 * KIB,
            }],
        }
    }

    /// Tree (b): two files of 256 MiB.
    pub fn large_files() -> TreeSpec {
        TreeSpec {
            name: "b".into(),
            description: "2 files of 256 MiB".into(),
            seed: 0xb16,
            dirs: 0,
            depth: 0,
            groups: vec![FileGroup {
                count: 2,
                min_size: 256 * MIB,
                max_size: 256 * MIB,
            }],
        }
    }

    /// Tree (c): 500 small files and eight of 16 MiB.
    pub fn mixed() -> TreeSpec {
        TreeSpec {
            name: "c".into(),
            description: "500 files of 1-16 KiB and 8 files of 16 MiB in 20 directories".into(),
            seed: 0xc0ffee,
            dirs: 20,
            depth: 3,
            groups: vec![
                FileGroup {
                    count: 500,
                    min_size: KIB,
                    max_size: 16 * KIB,
                },
                FileGroup {
                    count: 8,
                    min_size: 16 * MIB,
                    max_size: 16 * MIB,
                },
            ],
        }
    }

    /// Tree (d): 100,000 tiny files (0-256 bytes) in 1,000 directories.
    pub fn tiny_files() -> TreeSpec {
        TreeSpec {
            name: "d".into(),
            description: "100,000 files of 0-256 bytes in 1,000 directories".into(),
            seed: 0xd00d,
            dirs: 1000,
            depth: 3,
            groups: vec![FileGroup {
                count: 100_000,
                min_size: 0,
                max_size: 256,
            }],
        }
    }

    /// The smoke-test tree: 40 small files in 6 directories and one 1 MiB file.
    pub fn smoke() -> TreeSpec {
        TreeSpec {
            name: "smoke".into(),
            description: "40 files of 0-16 KiB and one of 1 MiB in 6 directories".into(),
            seed: 0x5eed,
            dirs: 6,
            depth: 3,
            groups: vec![
                FileGroup {
                    count: 40,
                    min_size: 0,
                    max_size: 16 * KIB,
                },
                FileGroup {
                    count: 1,
                    min_size: MIB,
                    max_size: MIB,
                },
            ],
        }
    }

    /// The spec named `name` (`a`, `b`, `c`, `d` or `smoke`).
    pub fn by_name(name: &str) -> Option<TreeSpec> {
        match name {
            "a" => Some(TreeSpec::small_files()),
            "b" => Some(TreeSpec::large_files()),
            "c" => Some(TreeSpec::mixed()),
            "d" => Some(TreeSpec::tiny_files()),
            "smoke" => Some(TreeSpec::smoke()),
            _ => None,
        }
    }

    /// Total number of files.
    pub fn file_count(&self) -> usize {
        self.groups.iter().map(|g| g.count).sum()
    }

    /// The first line of the manifest: changes whenever the spec changes.
    fn signature(&self) -> String {
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| format!("{}x{}-{}", g.count, g.min_size, g.max_size))
            .collect();
        format!(
            "tree v1 name={} seed={:#x} dirs={} depth={} files={}",
            self.name,
            self.seed,
            self.dirs,
            self.depth,
            groups.join(",")
        )
    }
}

/// One generated file, as listed in the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedFile {
    /// Path relative to the tree root, with `/` separators.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Seed of the file's content.
    pub content_seed: u64,
}

/// The directories (relative paths, parents first) and files of a spec.
pub fn plan(spec: &TreeSpec) -> (Vec<String>, Vec<PlannedFile>) {
    let mut rng = Rng::new(spec.seed);
    let mut dirs: Vec<(String, usize)> = Vec::with_capacity(spec.dirs);
    for i in 0..spec.dirs {
        let name = format!("dir{i:04}");
        // The first `depth` directories form a chain so the deepest level is reached.
        let parent = if i == 0 {
            None
        } else if i < spec.depth {
            Some(i - 1)
        } else {
            let shallow: Vec<usize> = (0..dirs.len())
                .filter(|&d| dirs[d].1 < spec.depth)
                .collect();
            if shallow.is_empty() || rng.below(4) == 0 {
                None
            } else {
                Some(shallow[rng.below(shallow.len() as u64) as usize])
            }
        };
        let entry = match parent {
            None => (name, 1),
            Some(p) => (format!("{}/{}", dirs[p].0, name), dirs[p].1 + 1),
        };
        dirs.push(entry);
    }
    let mut files = Vec::with_capacity(spec.file_count());
    let mut index = 0usize;
    for group in &spec.groups {
        for _ in 0..group.count {
            let span = group.max_size.saturating_sub(group.min_size);
            let size = group.min_size + if span == 0 { 0 } else { rng.below(span + 1) };
            let name = format!("file{index:06}.dat");
            let path = if dirs.is_empty() {
                name
            } else {
                let d = &dirs[rng.below(dirs.len() as u64) as usize].0;
                format!("{d}/{name}")
            };
            files.push(PlannedFile {
                path,
                size,
                content_seed: rng.next_u64(),
            });
            index += 1;
        }
    }
    (dirs.into_iter().map(|(p, _)| p).collect(), files)
}

/// Makes sure the tree for `spec` exists under `out/trees/<name>` and returns
/// its root. Reuses a complete cached copy.
pub fn ensure_tree(out: &Path, spec: &TreeSpec) -> io::Result<PathBuf> {
    let trees = out.join("trees");
    let root = trees.join(&spec.name);
    let manifest = trees.join(format!("{}.manifest", spec.name));
    if let Ok(text) = fs::read_to_string(&manifest) {
        if text.lines().next() == Some(spec.signature().as_str()) && root.is_dir() {
            return Ok(root);
        }
    }
    let _ = fs::remove_file(&manifest);
    if root.exists() {
        fs::remove_dir_all(&root)?;
    }
    fs::create_dir_all(&root)?;
    let (dirs, files) = plan(spec);
    for d in &dirs {
        fs::create_dir_all(root.join(d))?;
    }
    let mut listing = String::new();
    listing.push_str(&spec.signature());
    listing.push('\n');
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(FIXED_MTIME_SECS);
    let mut buf = vec![0u8; 1 << 20];
    for f in &files {
        let file = File::create(root.join(&f.path))?;
        let mut w = BufWriter::with_capacity(1 << 16, file);
        let mut rng = Rng::new(f.content_seed);
        let mut left = f.size;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            rng.fill(&mut buf[..n]);
            w.write_all(&buf[..n])?;
            left -= n as u64;
        }
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.set_modified(mtime)?;
        listing.push_str(&format!("{} {}\n", f.size, f.path));
    }
    for d in dirs.iter().rev() {
        File::open(root.join(d))?.set_modified(mtime)?;
    }
    fs::write(&manifest, listing)?;
    Ok(root)
}

/// A small, fast, seeded PRNG (SplitMix64): good enough for sizes, layout
/// and incompressible contents; not for anything secret.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0; returns 0 for `n` == 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let v = self.next_u64().to_le_bytes();
            rest.copy_from_slice(&v[..rest.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_is_deterministic_and_matches_spec() {
        let spec = TreeSpec::small_files();
        let (d1, f1) = plan(&spec);
        let (d2, f2) = plan(&spec);
        assert_eq!(d1, d2);
        assert_eq!(f1, f2);
        assert_eq!(d1.len(), 100);
        assert_eq!(f1.len(), 2000);
        let deepest = d1.iter().map(|d| d.split('/').count()).max();
        assert_eq!(deepest, Some(4));
        assert!(f1.iter().all(|f| (1024..=16 * 1024).contains(&f.size)));
        let mut names: Vec<&str> = f1.iter().map(|f| f.path.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 2000, "paths are unique");
    }

    #[test]
    fn ensure_tree_builds_then_reuses() {
        let out = tempfile::tempdir().expect("tempdir");
        let spec = TreeSpec::smoke();
        let root = ensure_tree(out.path(), &spec).expect("generate");
        let (_, files) = plan(&spec);
        for f in &files {
            let meta = fs::metadata(root.join(&f.path)).expect("file exists");
            assert_eq!(meta.len(), f.size, "{}", f.path);
        }
        let first = fs::read(root.join(&files[3].path)).expect("read");
        // A second call reuses the cache: a marker file survives.
        fs::write(root.join("marker"), b"x").expect("marker");
        let again = ensure_tree(out.path(), &spec).expect("reuse");
        assert!(again.join("marker").exists());
        assert_eq!(fs::read(again.join(&files[3].path)).expect("read"), first);
    }

    #[test]
    fn rng_below_stays_in_range() {
        let mut rng = Rng::new(7);
        for n in [1u64, 2, 3, 1000] {
            for _ in 0..1000 {
                assert!(rng.below(n) < n);
            }
        }
        assert_eq!(rng.below(0), 0);
    }
}
