//! The mirror engine against a real server, pyftpdlib: MLSD and LIST
//! walks, incremental runs with approximate LIST times, a per-address
//! connection cap and resumes.

mod engine_util;

use std::fs;
use std::sync::Arc;

use engine_util::*;
use ftp_mirror::events::Event;
use ftp_mirror_tests::pyftpd::{PyFtpd, PASSWORD, USER};
use ftp_mirror_tests::tree::{
    assert_trees_equal, build_sample_tree, pseudo_random_bytes, write_file,
};

#[test]
fn mlsd_walk_with_a_password_login() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let summary = build_sample_tree(src.path(), 2 * 1024 * 1024);
    let server = PyFtpd::start(src.path());
    let pool = pool(&server.host(), server.port(), USER, PASSWORD, 3);
    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &options(dst.path()), rec.clone()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched as usize, summary.files);
    assert_trees_equal(src.path(), dst.path());
    assert_eq!(
        file_mtimes(src.path()),
        file_mtimes(dst.path()),
        "MLSD times are exact"
    );
    assert_eq!(rec.bytes(), summary.bytes);

    let again = sync(&pool, &options(dst.path()), Arc::default()).expect("second sync");
    assert_eq!(again.files_fetched, 0);
    assert_eq!(again.files_unchanged as usize, summary.files);
}

#[test]
fn list_walk_compares_approximate_times_with_themselves() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let summary = build_sample_tree(src.path(), 100_000);
    // An old file: `ls -l` shows a year and no time of day for it.
    write_file(&src.path().join("old.txt"), b"from long ago\n");
    set_mtime(&src.path().join("old.txt"), 1_000_000_000);
    let server = PyFtpd::builder(src.path()).no_mlst().start();
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 2);

    let stats = sync(&pool, &options(dst.path()), Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched as usize, summary.files + 1);
    assert_trees_equal(src.path(), dst.path());

    let rec = Arc::new(Recorder::default());
    let again = sync(&pool, &options(dst.path()), rec.clone()).expect("second sync");
    assert_eq!(again.files_fetched, 0, "{:?}", rec.done());
    assert_eq!(again.files_unchanged as usize, summary.files + 1);

    // A size change is seen through LIST too.
    fs::write(src.path().join("readme.txt"), b"a different length now\n").unwrap();
    let rec = Arc::new(Recorder::default());
    let third = sync(&pool, &options(dst.path()), rec.clone()).expect("third sync");
    assert_eq!(rec.done(), vec!["readme.txt"]);
    assert_eq!(third.files_fetched, 1);
    assert_trees_equal(src.path(), dst.path());
}

#[test]
fn a_per_address_cap_of_one_lowers_the_limit_without_failing() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    for d in 0..5 {
        for f in 0..2 {
            write_file(
                &src.path().join(format!("d{d}/f{f}.bin")),
                &pseudo_random_bytes(d * 7 + f, 30_000),
            );
        }
    }
    let server = PyFtpd::builder(src.path()).max_cons_per_ip(1).start();
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 4);
    // Occupy the one allowed session first, so the walk's other workers meet
    // the cap for sure.
    let first = pool.get().expect("one session");
    let p = pool.clone();
    let extra = std::thread::spawn(move || p.get().map(drop));
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(first);
    extra
        .join()
        .expect("thread")
        .expect("a session once the first is back");
    assert_eq!(pool.limit(), 1);

    let stats = sync(&pool, &options(dst.path()), Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched, 10);
    assert_trees_equal(src.path(), dst.path());
}

#[test]
fn a_part_file_is_resumed_with_rest() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let content = pseudo_random_bytes(99, 1_000_000);
    write_file(&src.path().join("sub/image.iso"), &content);
    set_mtime(&src.path().join("sub/image.iso"), 1_500_000_000);
    let part = dst.path().join("sub/.image.iso.part");
    write_file(&part, &content[..600_000]);
    // The record the engine writes when it starts a part.
    let listed = ftp_proto::FileTime {
        unix_secs: 1_500_000_000,
        nanos: 0,
        accuracy: ftp_proto::TimeAccuracy::Exact,
    };
    ftp_mirror::fetch::PartOrigin::new(b"/sub/image.iso", Some(1_000_000), Some(&listed))
        .write(&part)
        .unwrap();
    let server = PyFtpd::start(src.path());
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 2);
    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &options(dst.path()), rec.clone()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.bytes_fetched, 400_000);
    assert_eq!(fs::read(dst.path().join("sub/image.iso")).unwrap(), content);
    assert_eq!(mtime_secs(&dst.path().join("sub/image.iso")), 1_500_000_000);
    assert_eq!(
        rec.count(|e| matches!(
            e,
            Event::FileDone {
                bytes: 1_000_000,
                ..
            }
        )),
        1
    );
    assert_trees_equal(src.path(), dst.path());
}
