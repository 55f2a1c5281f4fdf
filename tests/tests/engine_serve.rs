//! The mirror engine (`sync_tree`) against ftp-serve, in process: whole
//! trees, incremental runs, resumes, failures and the session limit.

mod engine_util;

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine_util::*;
use ftp_mirror::events::Event;
use ftp_mirror::fetch::{record_path, PartOrigin};
use ftp_mirror::pool::PoolError;
use ftp_mirror::sync::SyncError;
use ftp_mirror_tests::tree::{
    assert_trees_equal, build_sample_tree, pseudo_random_bytes, write_file,
};
use ftp_proto::client::Password;
use ftp_proto::{FileTime, TimeAccuracy};
use ftp_serve::ServerConfig;

#[test]
fn mirrors_the_sample_tree_with_times() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let summary = build_sample_tree(src.path(), 300_000);
    let server = serve(src.path());
    let pool = anon_pool(&server, 4);
    let rec = Arc::new(Recorder::default());
    let dest = dst.path().join("copy");

    let stats = sync(&pool, &options(&dest), rec.clone()).expect("sync");

    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_trees_equal(src.path(), &dest);
    assert_eq!(stats.files_fetched as usize, summary.files);
    assert_eq!(stats.files_unchanged, 0);
    assert_eq!(stats.bytes_total, summary.bytes);
    assert_eq!(stats.bytes_fetched, summary.bytes);
    assert_eq!(
        stats.dirs as usize,
        summary.dirs + 1,
        "every directory and the root"
    );
    assert_eq!(rec.bytes(), summary.bytes, "Bytes events add up");
    assert_eq!(rec.done().len(), summary.files);
    assert_eq!(
        rec.count(|e| matches!(e, Event::FileQueued { .. })),
        summary.files
    );
    // MLSD times are exact: local mtimes equal the server's to the second.
    assert_eq!(file_mtimes(src.path()), file_mtimes(&dest));
    // No temporary files are left behind.
    assert!(!has_part_files(&dest));
}

#[test]
fn an_unchanged_second_run_fetches_nothing() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let summary = build_sample_tree(src.path(), 50_000);
    let server = serve(src.path());
    let pool = anon_pool(&server, 3);
    let opts = options(dst.path());
    sync(&pool, &opts, Arc::default()).expect("first sync");

    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &opts, rec.clone()).expect("second sync");
    assert_eq!(stats.files_fetched, 0);
    assert_eq!(stats.bytes_fetched, 0);
    assert_eq!(stats.files_unchanged as usize, summary.files);
    assert!(rec.done().is_empty());
    assert_eq!(rec.bytes(), 0);
    assert_eq!(
        rec.count(|e| matches!(e, Event::FileUnchanged { .. })),
        summary.files
    );
    assert_trees_equal(src.path(), dst.path());
}

#[test]
fn changed_added_and_deleted_files_are_followed() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    build_sample_tree(src.path(), 10_000);
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let opts = options(dst.path());
    sync(&pool, &opts, Arc::default()).expect("first sync");

    // Same size, other bytes, other time: only the time tells.
    let readme = src.path().join("readme.txt");
    let len = fs::metadata(&readme).unwrap().len() as usize;
    fs::write(&readme, vec![b'x'; len]).unwrap();
    set_mtime(&readme, 1_000_000_000);
    // Other size.
    fs::write(
        src.path().join("dir1/a.txt"),
        b"longer than before, surely\n",
    )
    .unwrap();
    // Gone: a file and a whole directory.
    fs::remove_file(src.path().join("with space.txt")).unwrap();
    fs::remove_dir_all(src.path().join("dir with space")).unwrap();
    // New.
    write_file(&src.path().join("dir1/new/fresh.txt"), b"new\n");
    // A file that became a directory and a directory that became a file.
    fs::remove_file(src.path().join("empty.bin")).unwrap();
    fs::create_dir(src.path().join("empty.bin")).unwrap();
    fs::remove_dir(src.path().join("empty-dir")).unwrap();
    fs::write(src.path().join("empty-dir"), b"now a file").unwrap();
    // Junk in dest that the server never had.
    fs::write(dst.path().join("stray.tmp"), b"junk").unwrap();

    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &opts, rec.clone()).expect("second sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_trees_equal(src.path(), dst.path());
    assert_eq!(
        rec.done(),
        vec![
            "dir1/a.txt",
            "dir1/new/fresh.txt",
            "empty-dir",
            "readme.txt"
        ]
    );
    assert_eq!(mtime_secs(&dst.path().join("readme.txt")), 1_000_000_000);
}

#[test]
fn unchanged_files_are_hard_linked_from_the_previous_copy() {
    let src = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let summary = build_sample_tree(src.path(), 20_000);
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let current = work.path().join("current");
    sync(&pool, &options(&current), Arc::default()).expect("first sync");

    write_file(&src.path().join("dir1/a.txt"), b"changed content\n");
    let next = work.path().join("next");
    let opts = ftp_mirror::sync::SyncOptions {
        previous: Some(current.clone()),
        ..options(&next)
    };
    let stats = sync(&pool, &opts, Arc::default()).expect("second sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched, 1);
    assert_eq!(stats.files_unchanged as usize, summary.files - 1);
    assert_trees_equal(src.path(), &next);
    let ino = |p: &Path| fs::metadata(p).unwrap().ino();
    assert_eq!(
        ino(&current.join("readme.txt")),
        ino(&next.join("readme.txt"))
    );
    assert_ne!(
        ino(&current.join("dir1/a.txt")),
        ino(&next.join("dir1/a.txt"))
    );
    // The previous copy is untouched.
    assert_eq!(
        fs::read(current.join("dir1/a.txt")).unwrap(),
        b"first nested file\n"
    );
}

#[test]
fn dry_run_writes_nothing() {
    let src = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let summary = build_sample_tree(src.path(), 1_000);
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let current = work.path().join("current");
    sync(&pool, &options(&current), Arc::default()).expect("first sync");
    write_file(&src.path().join("added.txt"), b"added\n");

    let next = work.path().join("next");
    let opts = ftp_mirror::sync::SyncOptions {
        previous: Some(current.clone()),
        dry_run: true,
        ..options(&next)
    };
    let stats = sync(&pool, &opts, Arc::default()).expect("dry run");
    assert!(!next.exists(), "a dry run creates nothing");
    assert_eq!(stats.would_fetch, vec!["added.txt"]);
    assert_eq!(stats.would_keep.len(), summary.files);
    assert_eq!(stats.files_fetched, 0);
    assert_eq!(stats.bytes_fetched, 0);
}

#[test]
fn a_tree_twenty_levels_deep() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let mut dir = src.path().to_path_buf();
    for level in 0..20 {
        dir = dir.join(format!("level {level}"));
        write_file(
            &dir.join(format!("file-{level}.txt")),
            format!("{level}\n").as_bytes(),
        );
    }
    fs::create_dir(dir.join("empty at the bottom")).unwrap();
    let server = serve(src.path());
    let pool = anon_pool(&server, 4);
    let stats = sync(&pool, &options(dst.path()), Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.dirs, 22);
    assert_eq!(stats.files_fetched, 20);
    assert_trees_equal(src.path(), dst.path());
}

#[test]
fn names_that_are_not_utf8_keep_their_bytes() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let raw = std::ffi::OsStr::from_bytes(b"latin1-\xe9t\xe9.txt");
    write_file(&src.path().join(raw), b"bytes\n");
    write_file(
        &src.path()
            .join(std::ffi::OsStr::from_bytes(b"dir-\xff"))
            .join("x"),
        b"x",
    );
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let stats = sync(&pool, &options(dst.path()), Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(fs::read(dst.path().join(raw)).unwrap(), b"bytes\n");
    assert_trees_equal(src.path(), dst.path());
}

#[test]
fn limit_one_with_many_directories_does_not_deadlock() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    for d in 0..8 {
        for f in 0..3 {
            write_file(
                &src.path().join(format!("d{d}/s/f{f}")),
                &pseudo_random_bytes(d * 10 + f, 5_000),
            );
        }
    }
    let server = serve(src.path());
    let pool = anon_pool(&server, 1);
    let opts = ftp_mirror::sync::SyncOptions {
        workers: 6,
        ..options(dst.path())
    };
    let started = Instant::now();
    let stats = sync(&pool, &opts, Arc::default()).expect("sync");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched, 24);
    assert!(pool.open() <= 1);
    assert_trees_equal(src.path(), dst.path());
}

#[test]
fn an_interrupted_run_resumes_its_part_file() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let content = pseudo_random_bytes(7, 400_000);
    write_file(&src.path().join("big.bin"), &content);
    write_file(&src.path().join("done.txt"), b"already here\n");
    set_mtime(&src.path().join("big.bin"), 1_600_000_000);
    set_mtime(&src.path().join("done.txt"), 1_600_000_000);
    // What an interrupted run leaves: one complete file, one part.
    write_file(&dst.path().join("done.txt"), b"already here\n");
    set_mtime(&dst.path().join("done.txt"), 1_600_000_000);
    let part = dst.path().join(".big.bin.part");
    write_file(&part, &content[..150_000]);
    PartOrigin::new(b"/big.bin", Some(400_000), Some(&exact(1_600_000_000)))
        .write(&part)
        .unwrap();
    // A part left over from an older run, beside a complete file.
    write_file(&dst.path().join(".done.txt.part"), b"already");

    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &options(dst.path()), rec.clone()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_unchanged, 1);
    assert_eq!(stats.files_fetched, 1);
    assert_eq!(stats.bytes_fetched, 250_000, "only the missing bytes");
    assert_eq!(fs::read(dst.path().join("big.bin")).unwrap(), content);
    assert!(!part.exists());
    assert!(
        !record_path(&part).exists(),
        "the record goes with its part"
    );
    assert_trees_equal(src.path(), dst.path());
}

/// An exact listed time.
fn exact(secs: i64) -> FileTime {
    FileTime {
        unix_secs: secs,
        nanos: 0,
        accuracy: TimeAccuracy::Exact,
    }
}

/// Regression: a `.part` of an older version of a file was joined to the
/// new version when the new one carried an older time (`cp -p`,
/// `rsync -t`), and the corrupt result then looked unchanged forever.
#[test]
fn a_part_of_a_replaced_file_is_started_again_not_joined() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let old = pseudo_random_bytes(1, 300_000);
    let new = pseudo_random_bytes(2, 300_000);
    // The server's file: replaced by one of the same size and an older time.
    write_file(&src.path().join("huge.bin"), &new);
    set_mtime(&src.path().join("huge.bin"), 1_500_000_000);
    // A part of the old version, written (now) after that time, with the
    // record the engine wrote when it started it.
    let part = dst.path().join(".huge.bin.part");
    write_file(&part, &old[..120_000]);
    PartOrigin::new(b"/huge.bin", Some(300_000), Some(&exact(1_600_000_000)))
        .write(&part)
        .unwrap();
    // And a part of the same name in a sub-directory, left without a record
    // (an older version of the program, or a crash before the record).
    write_file(&src.path().join("sub/other.bin"), &new);
    set_mtime(&src.path().join("sub/other.bin"), 1_500_000_000);
    write_file(&dst.path().join("sub/.other.bin.part"), &old[..100_000]);

    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let opts = options(dst.path());
    let stats = sync(&pool, &opts, Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched, 2);
    assert_eq!(stats.bytes_fetched, 600_000, "both fetched from byte 0");
    assert_eq!(fs::read(dst.path().join("huge.bin")).unwrap(), new);
    assert_eq!(fs::read(dst.path().join("sub/other.bin")).unwrap(), new);
    assert!(!has_part_files(dst.path()), "no part or record is left");
    assert_trees_equal(src.path(), dst.path());

    let again = sync(&pool, &opts, Arc::default()).expect("second sync");
    assert_eq!((again.files_fetched, again.files_unchanged), (0, 2));
}

#[test]
fn a_part_is_resumed_only_while_its_listing_is_the_same() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let content = pseudo_random_bytes(3, 200_000);
    write_file(&src.path().join("f.bin"), &content);
    set_mtime(&src.path().join("f.bin"), 1_600_000_000);
    let part = dst.path().join(".f.bin.part");
    let server = serve(src.path());
    let pool = anon_pool(&server, 1);
    // Recorded with another time (same value, but from a LIST line), with
    // another size, or for another path: each is started again.
    let listed = TimeAccuracy::Approximate {
        day_only: false,
        year_inferred: false,
    };
    let others = [
        PartOrigin::new(
            b"/f.bin",
            Some(200_000),
            Some(&FileTime {
                accuracy: listed,
                ..exact(1_600_000_000)
            }),
        ),
        PartOrigin::new(b"/f.bin", Some(200_001), Some(&exact(1_600_000_000))),
        PartOrigin::new(b"/g.bin", Some(200_000), Some(&exact(1_600_000_000))),
    ];
    for origin in others {
        let _ = fs::remove_file(dst.path().join("f.bin"));
        write_file(&part, &content[..50_000]);
        origin.write(&part).unwrap();
        let stats = sync(&pool, &options(dst.path()), Arc::default()).expect("sync");
        assert_eq!(stats.bytes_fetched, 200_000, "{origin:?}");
        assert_eq!(fs::read(dst.path().join("f.bin")).unwrap(), content);
    }
    // The same origin: only the missing bytes are fetched.
    fs::remove_file(dst.path().join("f.bin")).unwrap();
    write_file(&part, &content[..50_000]);
    PartOrigin::new(b"/f.bin", Some(200_000), Some(&exact(1_600_000_000)))
        .write(&part)
        .unwrap();
    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &options(dst.path()), rec.clone()).expect("sync");
    assert_eq!(stats.bytes_fetched, 150_000);
    assert_eq!(rec.bytes(), 150_000);
    assert_eq!(fs::read(dst.path().join("f.bin")).unwrap(), content);
    assert!(!has_part_files(dst.path()));
}

#[test]
fn a_file_gone_before_its_fetch_is_recorded_and_the_rest_finishes() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    for i in 0..5 {
        write_file(
            &src.path().join(format!("f{i}.txt")),
            format!("file {i}\n").as_bytes(),
        );
    }
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    // Delete f2 on the server right after the root was listed: its RETR
    // then gets a 550.
    let victim = src.path().join("f2.txt");
    let rec = Arc::new(Recorder::default());
    let sink = DeleteOnListing {
        victim,
        inner: rec.clone(),
    };
    let opts = options(dst.path());
    let stats = ftp_mirror_tests::within(LIMIT, "sync", move || {
        ftp_mirror::sync::sync_tree(&pool, &opts, &sink)
    })
    .expect("sync");
    assert_eq!(stats.failures.len(), 1, "{:?}", stats.failures);
    assert_eq!(stats.failures[0].0, "f2.txt");
    assert!(
        stats.failures[0].1.contains("550"),
        "{}",
        stats.failures[0].1
    );
    assert_eq!(stats.files_fetched, 4);
    assert_eq!(stats.retries, 0, "a 550 is not retried");
    assert!(!dst.path().join("f2.txt").exists());
    assert!(!dst.path().join(".f2.txt.part").exists());
    assert_eq!(
        rec.count(|e| matches!(e, Event::Failed { path, .. } if path == "f2.txt")),
        1
    );
}

/// Deletes a file on the server when the root listing is reported.
struct DeleteOnListing {
    victim: std::path::PathBuf,
    inner: Arc<Recorder>,
}

impl ftp_mirror::events::EventSink for DeleteOnListing {
    fn event(&self, event: &Event) {
        if matches!(event, Event::DirListed { path, .. } if path.is_empty()) {
            fs::remove_file(&self.victim).expect("delete the victim");
        }
        self.inner.event(event);
    }
}

#[test]
fn a_file_that_grew_after_listing_is_fetched_whole_after_a_retry() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let path = src.path().join("log.txt");
    write_file(&path, b"line 1\n");
    let server = serve(src.path());
    let pool = anon_pool(&server, 1);
    let rec = Arc::new(Recorder::default());
    let sink = GrowOnListing {
        path: path.clone(),
        inner: rec.clone(),
    };
    let opts = options(dst.path());
    let stats = ftp_mirror_tests::within(LIMIT, "sync", move || {
        ftp_mirror::sync::sync_tree(&pool, &opts, &sink)
    })
    .expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.retries, 1);
    assert_eq!(stats.bytes_total, 14, "the new size, counted once");
    assert_eq!(
        fs::read(dst.path().join("log.txt")).unwrap(),
        b"line 1\nline 2\n"
    );
    assert_eq!(rec.count(|e| matches!(e, Event::Retry { .. })), 1);
}

/// Appends to a file on the server when the root listing is reported.
struct GrowOnListing {
    path: std::path::PathBuf,
    inner: Arc<Recorder>,
}

impl ftp_mirror::events::EventSink for GrowOnListing {
    fn event(&self, event: &Event) {
        if matches!(event, Event::DirListed { path, .. } if path.is_empty()) {
            fs::write(&self.path, b"line 1\nline 2\n").expect("grow the file");
        }
        self.inner.event(event);
    }
}

#[test]
fn a_file_that_shrank_fails_after_its_retries_and_keeps_its_part() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let path = src.path().join("short.bin");
    write_file(&path, &[7u8; 1000]);
    write_file(&src.path().join("fine.txt"), b"fine\n");
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let rec = Arc::new(Recorder::default());
    let sink = ShrinkOnListing {
        path: path.clone(),
        inner: rec.clone(),
    };
    let opts = ftp_mirror::sync::SyncOptions {
        max_retries: 1,
        ..options(dst.path())
    };
    let stats = ftp_mirror_tests::within(LIMIT, "sync", move || {
        ftp_mirror::sync::sync_tree(&pool, &opts, &sink)
    })
    .expect("sync");
    assert_eq!(stats.failures.len(), 1, "{:?}", stats.failures);
    assert!(
        stats.failures[0].1.contains("short file"),
        "{:?}",
        stats.failures
    );
    assert_eq!(stats.retries, 1);
    assert!(
        !dst.path().join("short.bin").exists(),
        "never under its final name"
    );
    assert!(
        dst.path().join(".short.bin.part").exists(),
        "kept to resume later"
    );
    assert_eq!(
        PartOrigin::read(&dst.path().join(".short.bin.part")).and_then(|o| o.size),
        Some(1000),
        "with the record of where it came from"
    );
    assert_eq!(fs::read(dst.path().join("fine.txt")).unwrap(), b"fine\n");
}

/// Truncates a file on the server when the root listing is reported.
struct ShrinkOnListing {
    path: std::path::PathBuf,
    inner: Arc<Recorder>,
}

impl ftp_mirror::events::EventSink for ShrinkOnListing {
    fn event(&self, event: &Event) {
        if matches!(event, Event::DirListed { path, .. } if path.is_empty()) {
            fs::write(&self.path, [7u8; 400]).expect("shrink the file");
        }
        self.inner.event(event);
    }
}

#[test]
fn a_refused_login_fails_the_module_fast() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let server = serve_with(ServerConfig {
        root: src.path().to_path_buf(),
        credentials: Some(("alice".into(), Password::new("right"))),
        ..ServerConfig::default()
    });
    let addr = server.local_addr();
    let pool = pool(&addr.ip().to_string(), addr.port(), "alice", "wrong", 3);
    let started = Instant::now();
    let err = sync(&pool, &options(dst.path()), Arc::default()).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(err, SyncError::Pool(PoolError::Refused { .. })),
        "{err}"
    );
    assert!(
        !err.to_string().contains("wrong"),
        "no password in errors: {err}"
    );
}

#[test]
fn a_missing_root_fails_the_module() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let opts = ftp_mirror::sync::SyncOptions::new("M", "/no/such/dir", dst.path());
    let err = sync(&pool, &opts, Arc::default()).unwrap_err();
    assert!(matches!(err, SyncError::Root { .. }), "{err}");
}

#[test]
fn a_subdirectory_as_root_and_several_modules_on_one_pool() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    build_sample_tree(src.path(), 5_000);
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let a = ftp_mirror::sync::SyncOptions::new("A", "/dir1/", dst.path().join("a"));
    let b = ftp_mirror::sync::SyncOptions::new("B", "/dir with space", dst.path().join("b"));
    let (pa, pb) = (pool.clone(), pool.clone());
    let ta = std::thread::spawn(move || sync(&pa, &a, Arc::default()));
    let tb = std::thread::spawn(move || sync(&pb, &b, Arc::default()));
    let (ra, rb) = (
        ta.join().unwrap().expect("A"),
        tb.join().unwrap().expect("B"),
    );
    assert!(ra.failures.is_empty() && rb.failures.is_empty());
    assert_trees_equal(&src.path().join("dir1"), &dst.path().join("a"));
    assert_trees_equal(&src.path().join("dir with space"), &dst.path().join("b"));
    assert!(pool.open() <= 2);
}

#[test]
fn a_server_session_cap_lowers_the_pool_limit() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    for d in 0..4 {
        write_file(
            &src.path().join(format!("d{d}/f")),
            &pseudo_random_bytes(d, 20_000),
        );
    }
    let server = serve_with(ServerConfig {
        root: src.path().to_path_buf(),
        max_sessions: 2,
        ..ServerConfig::default()
    });
    let pool = anon_pool(&server, 5);
    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &options(dst.path()), rec.clone()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_trees_equal(src.path(), dst.path());
    // How far the limit drops depends on how many workers raced to
    // connect; it never stays above what the server allows once hit.
    let warned =
        rec.count(|e| matches!(e, Event::Warning { message } if message.contains("session")));
    assert_eq!(warned, usize::from(pool.limit() < 5));
    assert!(pool.open() <= 2);
}

#[test]
fn a_421_at_login_lowers_the_limit_and_the_caller_waits_for_a_session() {
    let src = tempfile::tempdir().unwrap();
    let server = serve_with(ServerConfig {
        root: src.path().to_path_buf(),
        max_sessions: 2,
        ..ServerConfig::default()
    });
    let pool = anon_pool(&server, 4);
    let a = pool.get().expect("first session");
    let b = pool.get().expect("second session");
    let p = pool.clone();
    let waiter = std::thread::spawn(move || p.get().map(|mut s| s.noop().is_ok()));
    std::thread::sleep(Duration::from_millis(300));
    drop(a);
    let got = ftp_mirror_tests::within(LIMIT, "waiter", move || {
        waiter.join().expect("waiter thread")
    });
    assert_eq!(got, Ok(true));
    assert_eq!(pool.limit(), 2);
    drop(b);
}

#[test]
fn a_server_that_takes_no_session_at_all_is_an_error() {
    let src = tempfile::tempdir().unwrap();
    let server = serve_with(ServerConfig {
        root: src.path().to_path_buf(),
        max_sessions: 1,
        ..ServerConfig::default()
    });
    // Someone else holds the only session.
    let other = anon_pool(&server, 1);
    let _held = other.get().expect("the only session");
    let pool = anon_pool(&server, 3);
    let err = ftp_mirror_tests::within(LIMIT, "get", move || pool.get().map(drop)).unwrap_err();
    assert!(matches!(err, PoolError::Unavailable { .. }), "{err}");
    assert!(err.to_string().contains("421"), "{err}");
}

/// Whether a `.part` file or the origin record of one is under `root`.
fn has_part_files(root: &Path) -> bool {
    ftp_mirror_tests::tree::snapshot(root).keys().any(|p| {
        p.file_name().is_some_and(|n| {
            n.as_bytes().ends_with(b".part") || n.as_bytes().ends_with(b".part.origin")
        })
    })
}

#[test]
fn a_dest_that_cannot_be_created_fails_the_module() {
    let src = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    write_file(&src.path().join("a"), b"a");
    let blocker = work.path().join("file");
    fs::write(&blocker, b"not a directory").unwrap();
    let server = serve(src.path());
    let pool = anon_pool(&server, 1);
    let rec = Arc::new(Recorder::default());
    let err = sync(&pool, &options(&blocker.join("dest")), rec.clone()).unwrap_err();
    assert!(matches!(err, SyncError::Local { .. }), "{err}");
    assert_eq!(
        rec.count(|e| matches!(e, Event::Failed { path, .. } if path.is_empty())),
        1
    );
}

#[test]
fn sessions_the_server_closed_while_idle_are_replaced() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    build_sample_tree(src.path(), 1_000);
    let server = serve_with(ServerConfig {
        root: src.path().to_path_buf(),
        idle_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    });
    let pool = anon_pool(&server, 2);
    sync(&pool, &options(dst.path()), Arc::default()).expect("first sync");
    assert!(pool.open() >= 1, "sessions stay in the pool");
    // The server sends 421 and hangs up on the idle sessions.
    std::thread::sleep(Duration::from_millis(800));
    write_file(&src.path().join("later.txt"), b"later\n");
    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &options(dst.path()), rec.clone()).expect("second sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(rec.done(), vec!["later.txt"]);
    assert!(stats.retries >= 1, "the dead session's failure was retried");
    assert_trees_equal(src.path(), dst.path());
}

#[test]
fn a_server_gone_mid_walk_fails_the_module_with_the_connect_error() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    for i in 0..4 {
        write_file(&src.path().join(format!("f{i}")), b"data");
    }
    let server = serve(src.path());
    let addr = server.local_addr();
    let pool = ftp_mirror::pool::Pool::new(
        ftp_mirror::pool::ServerAuth {
            key: ftp_mirror::pool::ServerKey {
                host: addr.ip().to_string(),
                port: addr.port(),
                user: "anonymous".into(),
            },
            password: Password::anonymous(),
        },
        ftp_mirror::pool::PoolConfig {
            max_sessions: 2,
            wait_timeout: Duration::from_millis(300),
            client: client_config(),
        },
    );
    let rec = Arc::new(Recorder::default());
    let sink = StopOnListing {
        server: std::sync::Mutex::new(Some(server)),
        inner: rec.clone(),
    };
    let opts = options(dst.path());
    let started = Instant::now();
    let result = ftp_mirror_tests::within(LIMIT, "sync", move || {
        ftp_mirror::sync::sync_tree(&pool, &opts, &sink)
    });
    let err = result.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(matches!(err, SyncError::Pool(_)), "{err}");
    assert!(err.to_string().contains("refused"), "{err}");
    assert!(rec.count(|e| matches!(e, Event::Retry { .. })) >= 1);
    assert_eq!(
        rec.count(|e| matches!(e, Event::Failed { path, .. } if path.is_empty())),
        1
    );
}

/// Shuts the server down when the root listing is reported.
struct StopOnListing {
    server: std::sync::Mutex<Option<ftp_serve::ServerHandle>>,
    inner: Arc<Recorder>,
}

impl ftp_mirror::events::EventSink for StopOnListing {
    fn event(&self, event: &Event) {
        if matches!(event, Event::DirListed { path, .. } if path.is_empty()) {
            if let Some(server) = self.server.lock().unwrap().take() {
                server.shutdown();
            }
        }
        self.inner.event(event);
    }
}
