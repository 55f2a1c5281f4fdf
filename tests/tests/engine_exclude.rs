//! Exclude patterns in the mirror engine: excluded files are not fetched,
//! excluded directories not listed (the server's log shows it), neither
//! ends up in the new copy, and the counts and events say what was left out.

mod engine_util;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

use engine_util::*;
use ftp_mirror::events::Event;
use ftp_mirror::filter::Exclude;
use ftp_mirror::sync::SyncOptions;
use ftp_mirror::walk::ListingMode;
use ftp_mirror_tests::pyftpd::PyFtpd;
use ftp_mirror_tests::tree::{assert_trees_equal, create_dir, pseudo_random_bytes, write_file};

/// The patterns of the first run.
const PATTERNS: &[&str] = &["*.tmp", ".incoming/", "/secret/", "**/*.iso"];

/// Files every run mirrors.
const KEPT: &[&str] = &[
    "keep.txt",
    "a/b/data.bin",
    "a/tmp/not-a-tmp.txt",
    "c/.incoming",
    "c/secret/ok.txt",
    "with space.txt",
];

/// Files below a `.incoming` directory: mirrored once the pattern is gone.
const INCOMING: &[&str] = &[".incoming/upload.bin", "a/.incoming/part/x.bin"];

/// Files excluded by the other patterns, and what is below `/secret`.
const EXCLUDED: &[&str] = &[
    "notes.tmp",
    "a/b/deep.tmp",
    "with space.tmp",
    "iso/x.iso",
    "iso/sub/y.iso",
    "secret/plans.txt",
    "secret/inner/z.txt",
];

/// What the patterns leave out directly (those below an excluded
/// directory are not looked at).
const EXCLUDED_ENTRIES: &[(&str, &str)] = &[
    (".incoming", ".incoming/"),
    ("a/.incoming", ".incoming/"),
    ("a/b/deep.tmp", "*.tmp"),
    ("iso/sub/y.iso", "**/*.iso"),
    ("iso/x.iso", "**/*.iso"),
    ("notes.tmp", "*.tmp"),
    ("secret", "/secret/"),
    ("with space.tmp", "*.tmp"),
];

fn content(rel: &str) -> Vec<u8> {
    pseudo_random_bytes(
        rel.len() as u64 * 31 + rel.as_bytes()[0] as u64,
        3000 + rel.len(),
    )
}

/// Writes the whole tree to `src`.
fn build(src: &Path) {
    for rel in KEPT.iter().chain(INCOMING).chain(EXCLUDED) {
        write_file(&src.join(rel), &content(rel));
    }
}

/// Writes what a mirror with [`PATTERNS`] (and `with_incoming`: without
/// `.incoming/`) must hold into `expected`.
fn build_expected(expected: &Path, with_incoming: bool) {
    for rel in KEPT
        .iter()
        .chain(if with_incoming { INCOMING } else { &[] })
    {
        write_file(&expected.join(rel), &content(rel));
    }
    // Directories whose files are all excluded stay, empty.
    create_dir(&expected.join("iso/sub"));
}

fn exclude(patterns: &[&str]) -> Exclude {
    Exclude::new(patterns).expect("patterns")
}

fn sorted_excluded(events: &[Event]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Excluded { path, pattern, .. } => Some((path.clone(), pattern.clone())),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

/// Commands in the pyftpdlib log whose argument starts with `path`
/// (`/secret` finds `MLSD /secret` and `RETR /secret/a`, not `/c/secret`).
fn commands_on(log: &str, path: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("<- ") && l.contains(&format!(" {path}")))
        .map(str::to_string)
        .collect()
}

#[test]
fn excluded_entries_are_neither_listed_nor_fetched_nor_kept() {
    let src = tempfile::tempdir().unwrap();
    let expected = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    build(src.path());
    build_expected(expected.path(), false);
    // A file an earlier run mirrored, now excluded: not kept in `dest`.
    write_file(&dst.path().join("notes.tmp"), b"from an earlier run");
    let server = PyFtpd::builder(src.path()).verbose().start();
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 3);

    let opts = SyncOptions {
        exclude: exclude(PATTERNS),
        ..options(dst.path())
    };
    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &opts, rec.clone()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_trees_equal(expected.path(), dst.path());
    assert_eq!(stats.files_fetched as usize, KEPT.len());
    assert_eq!(stats.excluded as usize, EXCLUDED_ENTRIES.len());
    let want: Vec<(String, String)> = EXCLUDED_ENTRIES
        .iter()
        .map(|(p, pat)| (p.to_string(), pat.to_string()))
        .collect();
    assert_eq!(sorted_excluded(&rec.all()), want);
    // Root, a, a/b, a/tmp, c, c/secret, iso, iso/sub.
    assert_eq!(stats.dirs, 8);

    let log = server.log();
    assert!(log.contains("<- MLSD"), "the log shows commands: {log}");
    for dir in ["/secret", "/.incoming", "/a/.incoming"] {
        let touched = commands_on(&log, dir);
        assert!(touched.is_empty(), "{dir} was touched: {touched:?}");
    }
    let retr: Vec<&str> = log.lines().filter(|l| l.contains("<- RETR ")).collect();
    assert_eq!(retr.len(), KEPT.len(), "{retr:?}");
    assert!(
        !retr
            .iter()
            .any(|l| l.ends_with(".tmp") || l.ends_with(".iso")),
        "{retr:?}"
    );

    // Without `.incoming/`: exactly the files below the `.incoming`
    // directories are fetched; the rest is unchanged.
    let opts = SyncOptions {
        exclude: exclude(&["*.tmp", "/secret/", "**/*.iso"]),
        ..options(dst.path())
    };
    let rec = Arc::new(Recorder::default());
    let again = sync(&pool, &opts, rec.clone()).expect("second sync");
    assert!(again.failures.is_empty(), "{:?}", again.failures);
    let mut incoming: Vec<String> = INCOMING.iter().map(|s| s.to_string()).collect();
    incoming.sort();
    assert_eq!(rec.done(), incoming);
    assert_eq!(again.files_fetched as usize, INCOMING.len());
    assert_eq!(again.files_unchanged as usize, KEPT.len());
    assert_eq!(again.excluded as usize, EXCLUDED_ENTRIES.len() - 2);
    let expected_now = tempfile::tempdir().unwrap();
    build_expected(expected_now.path(), true);
    assert_trees_equal(expected_now.path(), dst.path());

    // Excluded again, in a new copy built beside this one: the files
    // mirrored earlier are not carried over, the rest is linked.
    let next = tempfile::tempdir().unwrap();
    let opts = SyncOptions {
        exclude: exclude(PATTERNS),
        previous: Some(dst.path().to_path_buf()),
        ..options(next.path())
    };
    let rec = Arc::new(Recorder::default());
    let third = sync(&pool, &opts, rec.clone()).expect("third sync");
    assert!(third.failures.is_empty(), "{:?}", third.failures);
    assert_eq!(third.files_fetched, 0, "{:?}", rec.all());
    assert_eq!(third.files_unchanged as usize, KEPT.len());
    assert_trees_equal(expected.path(), next.path());
}

#[test]
fn a_dry_run_honours_excludes_and_reports_what_would_be_left_out() {
    let src = tempfile::tempdir().unwrap();
    let expected = tempfile::tempdir().unwrap();
    let current = tempfile::tempdir().unwrap();
    build(src.path());
    build_expected(expected.path(), true);
    // The current copy was made without excludes.
    for rel in KEPT.iter().chain(INCOMING).chain(EXCLUDED) {
        write_file(&current.path().join(rel), &content(rel));
        set_mtime(&current.path().join(rel), 1_700_000_000);
        set_mtime(&src.path().join(rel), 1_700_000_000);
    }
    let server = PyFtpd::builder(src.path()).verbose().start();
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 2);
    let new = tempfile::tempdir().unwrap();
    let new_dir = new.path().join("never-created");
    let opts = SyncOptions {
        exclude: exclude(&["*.tmp", "/secret/", "**/*.iso"]),
        previous: Some(current.path().to_path_buf()),
        dry_run: true,
        ..options(&new_dir)
    };
    let stats = sync(&pool, &opts, Arc::default()).expect("dry run");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert!(!new_dir.exists());
    assert_eq!(stats.excluded, 6);
    let mut keep: Vec<String> = KEPT.iter().chain(INCOMING).map(|s| s.to_string()).collect();
    keep.sort();
    assert_eq!(stats.would_keep, keep);
    assert!(stats.would_fetch.is_empty(), "{:?}", stats.would_fetch);
    let mut gone: Vec<String> = EXCLUDED.iter().map(|s| s.to_string()).collect();
    gone.sort();
    assert_eq!(stats.would_delete, gone);
    let log = server.log();
    assert!(commands_on(&log, "/secret").is_empty(), "{log}");
}

#[test]
fn stat_listings_do_not_read_excluded_directories_ahead() {
    let src = tempfile::tempdir().unwrap();
    let expected = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    build(src.path());
    build_expected(expected.path(), false);
    let server = PyFtpd::builder(src.path()).verbose().start();
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 2);
    let opts = SyncOptions {
        exclude: exclude(PATTERNS),
        listing: ListingMode::Stat,
        ..options(dst.path())
    };
    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &opts, rec.clone()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_trees_equal(expected.path(), dst.path());
    assert_eq!(stats.excluded as usize, EXCLUDED_ENTRIES.len());
    let log = server.log();
    assert!(log.contains("<- STAT /a"), "listed with STAT: {log}");
    // Named in the parent's MLST batch (the facts of every entry), but
    // never listed: no STAT, MLSD or LIST of it or below it.
    for dir in ["/secret", "/.incoming", "/a/.incoming"] {
        let listed: Vec<String> = commands_on(&log, dir)
            .into_iter()
            .filter(|l| !l.contains("<- MLST ") || l.contains(&format!("{dir}/")))
            .collect();
        assert!(listed.is_empty(), "{dir} was listed: {listed:?}");
    }
}

#[test]
fn names_are_matched_as_bytes() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let name = |b: &[u8]| OsStr::from_bytes(b).to_os_string();
    write_file(&src.path().join(name(b"caf\xe9.tmp")), b"latin-1");
    write_file(&src.path().join(name(b"caf\xe9.txt")), b"kept");
    write_file(
        &src.path().join(name(b"d\xff/x.bin")),
        b"in an excluded dir",
    );
    write_file(&src.path().join("d\u{e9}j\u{e0}/vu.bin"), b"utf-8 dir kept");
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let opts = SyncOptions {
        exclude: exclude(&["*.tmp", "d?/"]),
        ..options(dst.path())
    };
    let stats = sync(&pool, &opts, Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.excluded, 2);
    assert_eq!(stats.files_fetched, 2);
    assert_eq!(
        fs::read(dst.path().join(name(b"caf\xe9.txt"))).unwrap(),
        b"kept"
    );
    assert!(!dst.path().join(name(b"caf\xe9.tmp")).exists());
    assert!(!dst.path().join(name(b"d\xff")).exists());
    assert!(dst.path().join("d\u{e9}j\u{e0}/vu.bin").exists());
}

#[test]
fn a_pattern_can_leave_out_a_name_the_mirror_would_refuse() {
    // pyftpdlib lists names raw: a name holding a CR arrives as a name the
    // engine refuses (and fails the module for), unless it is excluded.
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    write_file(&src.path().join("good.txt"), b"good");
    write_file(&src.path().join("bad\rname.tmp"), b"cr");
    write_file(&src.path().join("other\rone.tmp"), b"cr");
    let server = PyFtpd::start(src.path());
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 1);

    let refused = sync(&pool, &options(dst.path()), Arc::default()).expect("sync");
    assert!(
        !refused.failures.is_empty(),
        "the names are refused without a pattern"
    );

    let dst = tempfile::tempdir().unwrap();
    let opts = SyncOptions {
        exclude: exclude(&["*.tmp"]),
        ..options(dst.path())
    };
    let stats = sync(&pool, &opts, Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.excluded, 2);
    assert_eq!(fs::read(dst.path().join("good.txt")).unwrap(), b"good");
}
