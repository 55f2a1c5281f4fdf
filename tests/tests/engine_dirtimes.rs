//! Directory modification times against pyftpdlib: the new copy's
//! directories take the times the server lists for them (exact with MLSD
//! and MLST, to the day with an old LIST time), nested ones too, and an
//! unchanged server fetches nothing and moves no time.

mod engine_util;

use std::path::Path;
use std::sync::Arc;

use engine_util::*;
use ftp_mirror::sync::SyncOptions;
use ftp_mirror::walk::ListingMode;
use ftp_mirror_tests::pyftpd::PyFtpd;
use ftp_mirror_tests::tree::{assert_trees_equal, write_file};

/// Directories (relative paths) and the times they get, parents first.
const DIRS: &[(&str, u64)] = &[
    ("top", 1_100_000_000),
    ("top/mid", 1_200_000_000),
    ("top/mid/leaf", 1_300_000_000),
    ("empty", 1_400_000_000),
];

/// Writes the files, then sets the directory times (writing a file moves
/// its directory's time). Returns the file count.
fn build(root: &Path) -> usize {
    let files = [
        "root.txt",
        "top/a.txt",
        "top/mid/b.txt",
        "top/mid/leaf/c.txt",
    ];
    for (i, rel) in files.iter().enumerate() {
        write_file(&root.join(rel), format!("file {i}\n").as_bytes());
        set_mtime(&root.join(rel), 1_000_000_000 + i as u64);
    }
    std::fs::create_dir_all(root.join("empty")).unwrap();
    for (rel, secs) in DIRS.iter().rev() {
        set_mtime_dir(&root.join(rel), *secs);
    }
    files.len()
}

fn set_mtime_dir(dir: &Path, secs: u64) {
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    ftp_mirror::stage::set_dir_mtime(dir, when)
        .unwrap_or_else(|e| panic!("set mtime of {}: {e}", dir.display()));
}

fn dir_times(root: &Path) -> Vec<(&'static str, i64)> {
    DIRS.iter()
        .map(|(rel, _)| (*rel, mtime_secs(&root.join(rel))))
        .collect()
}

fn expected() -> Vec<(&'static str, i64)> {
    DIRS.iter()
        .map(|(rel, secs)| (*rel, *secs as i64))
        .collect()
}

#[test]
fn directories_take_the_listed_times_exactly_with_mlsd_and_mlst() {
    let src = tempfile::tempdir().unwrap();
    let files = build(src.path());
    let server = PyFtpd::start(src.path());
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 3);
    for mode in [ListingMode::Auto, ListingMode::Stat] {
        let dst = tempfile::tempdir().unwrap();
        let opts = SyncOptions {
            listing: mode,
            ..options(dst.path())
        };
        let stats = sync(&pool, &opts, Arc::default()).expect("sync");
        assert!(stats.failures.is_empty(), "{mode:?}: {:?}", stats.failures);
        assert_eq!(stats.files_fetched as usize, files);
        assert_trees_equal(src.path(), dst.path());
        assert_eq!(dir_times(dst.path()), expected(), "{mode:?}");
        assert_eq!(file_mtimes(src.path()), file_mtimes(dst.path()));

        // Unchanged server: nothing fetched, no warning, no time moved.
        let rec = Arc::new(Recorder::default());
        let again = sync(&pool, &opts, rec.clone()).expect("second sync");
        assert_eq!(again.files_fetched, 0, "{mode:?}: {:?}", rec.done());
        assert_eq!(again.files_unchanged as usize, files);
        assert_eq!(
            rec.count(|e| matches!(e, ftp_mirror::events::Event::Warning { .. })),
            0
        );
        assert_eq!(dir_times(dst.path()), expected(), "{mode:?} again");
    }
}

#[test]
fn a_new_copy_built_beside_the_previous_one_gets_the_times_too() {
    let src = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let files = build(src.path());
    let server = PyFtpd::start(src.path());
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 2);
    let current = work.path().join("current");
    sync(&pool, &options(&current), Arc::default()).expect("first sync");

    // A directory's time changed on the server, nothing else did.
    set_mtime_dir(&src.path().join("top/mid"), 1_250_000_000);
    let next = work.path().join("next");
    let opts = SyncOptions {
        previous: Some(current.clone()),
        ..options(&next)
    };
    let stats = sync(&pool, &opts, Arc::default()).expect("second sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(
        (stats.files_fetched, stats.files_unchanged as usize),
        (0, files)
    );
    let mut want = expected();
    want[1].1 = 1_250_000_000;
    assert_eq!(dir_times(&next), want);
    assert_eq!(
        dir_times(&current),
        expected(),
        "the previous copy is untouched"
    );
}

/// `ls -l` gives only the day of an old time: the directory gets that day
/// (midnight, the listing's zone taken as UTC, as for files), and a
/// previous copy's time on the same day is kept, as a carried-over file
/// keeps its time.
#[test]
fn list_times_are_approximate_and_stable() {
    let src = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let files = build(src.path());
    let server = PyFtpd::builder(src.path()).no_mlst().start();
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 2);
    let current = work.path().join("current");
    let stats = sync(&pool, &options(&current), Arc::default()).expect("first sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    let day = |secs: i64| secs.div_euclid(86_400);
    for ((rel, got), (_, want)) in dir_times(&current).into_iter().zip(expected()) {
        assert_eq!(day(got), day(want), "{rel}");
        assert_eq!(got % 86_400, 0, "{rel}: midnight of the listed day");
    }

    // A more precise time on the same day, as an MLSD run would have left.
    set_mtime_dir(&current.join("top"), 1_100_000_000);
    let next = work.path().join("next");
    let opts = SyncOptions {
        previous: Some(current.clone()),
        ..options(&next)
    };
    let rec = Arc::new(Recorder::default());
    let again = sync(&pool, &opts, rec.clone()).expect("second sync");
    assert_eq!(again.files_fetched, 0, "{:?}", rec.done());
    assert_eq!(again.files_unchanged as usize, files);
    assert_eq!(dir_times(&next), dir_times(&current));
    assert_eq!(mtime_secs(&next.join("top")), 1_100_000_000);
}

#[test]
fn a_dry_run_sets_no_time() {
    let src = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    build(src.path());
    let server = PyFtpd::start(src.path());
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 2);
    let current = work.path().join("current");
    sync(&pool, &options(&current), Arc::default()).expect("first sync");
    set_mtime_dir(&src.path().join("top"), 1_150_000_000);
    let opts = SyncOptions {
        dry_run: true,
        ..options(&current)
    };
    sync(&pool, &opts, Arc::default()).expect("dry run");
    assert_eq!(dir_times(&current), expected());
}
