//! What a failed or interrupted run leaves in the new copy (and what the
//! previous copy holds) is never written through or read through a link:
//! a `.part` record that is a link, a `.part` that shares its bytes with
//! another copy, and a previous copy where a directory is now a link.

mod engine_util;

use std::fs;
use std::os::unix::fs::symlink;
use std::sync::Arc;

use engine_util::*;
use ftp_mirror::distribute::distribute_to;
use ftp_mirror::fetch::{record_path, temp_name, PartOrigin};
use ftp_mirror::sync::SyncOptions;
use ftp_mirror_tests::tree::write_file;
use ftp_proto::{FileTime, TimeAccuracy};

const MTIME: u64 = 1_700_000_000;

#[test]
fn a_record_left_as_a_link_is_replaced_not_written_through() {
    let src = tempfile::tempdir().unwrap();
    write_file(&src.path().join("f"), b"the new file f");
    // `g` in the new copy shares its bytes with another copy (as a file
    // hard-linked from the current copy does).
    let other = tempfile::tempdir().unwrap();
    write_file(&other.path().join("g"), b"precious g");
    let dst = tempfile::tempdir().unwrap();
    fs::hard_link(other.path().join("g"), dst.path().join("g")).unwrap();
    let part = dst
        .path()
        .join(String::from_utf8(temp_name(b"f", |_| false)).unwrap());
    symlink("g", record_path(&part)).unwrap();

    let server = serve(src.path());
    let pool = anon_pool(&server, 1);
    let stats = sync(&pool, &options(dst.path()), Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(fs::read(dst.path().join("f")).unwrap(), b"the new file f");
    assert_eq!(fs::read(other.path().join("g")).unwrap(), b"precious g");
}

#[test]
fn a_part_that_shares_its_bytes_with_another_copy_is_not_resumed_into() {
    let src = tempfile::tempdir().unwrap();
    write_file(&src.path().join("f"), b"0123456789 the whole file");
    set_mtime(&src.path().join("f"), MTIME);
    let other = tempfile::tempdir().unwrap();
    write_file(&other.path().join("kept"), b"PRECIOUS");
    let dst = tempfile::tempdir().unwrap();
    let part = dst
        .path()
        .join(String::from_utf8(temp_name(b"f", |_| false)).unwrap());
    fs::hard_link(other.path().join("kept"), &part).unwrap();
    // A record that matches the remote file exactly: only the shared
    // bytes stand between this `.part` and a resume.
    let modified = FileTime {
        unix_secs: MTIME as i64,
        nanos: 0,
        accuracy: TimeAccuracy::Exact,
    };
    PartOrigin::new(b"/f", Some(25), Some(&modified))
        .write(&part)
        .unwrap();

    let server = serve(src.path());
    let pool = anon_pool(&server, 1);
    let stats = sync(&pool, &options(dst.path()), Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(
        fs::read(dst.path().join("f")).unwrap(),
        b"0123456789 the whole file"
    );
    assert_eq!(fs::read(other.path().join("kept")).unwrap(), b"PRECIOUS");
}

#[test]
fn files_under_a_previous_copys_link_are_not_reused() {
    // The current copy had `latest -> v2`; the server now has a real
    // directory `latest` whose file has v2's file's size and time.
    let src = tempfile::tempdir().unwrap();
    write_file(&src.path().join("latest/a.txt"), b"one");
    write_file(&src.path().join("v2/a.txt"), b"two");
    set_mtime(&src.path().join("latest/a.txt"), MTIME);
    set_mtime(&src.path().join("v2/a.txt"), MTIME);
    let previous = tempfile::tempdir().unwrap();
    write_file(&previous.path().join("v2/a.txt"), b"two");
    set_mtime(&previous.path().join("v2/a.txt"), MTIME);
    symlink("v2", previous.path().join("latest")).unwrap();

    let dst = tempfile::tempdir().unwrap();
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let opts = SyncOptions {
        previous: Some(previous.path().to_path_buf()),
        ..options(dst.path())
    };
    let stats = sync(&pool, &opts, Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(fs::read(dst.path().join("latest/a.txt")).unwrap(), b"one");
    assert_eq!(fs::read(dst.path().join("v2/a.txt")).unwrap(), b"two");
    assert_eq!(stats.files_fetched, 1, "latest/a.txt fetched, v2 reused");
}

#[test]
fn distribution_does_not_reuse_files_under_a_link_in_the_old_copy() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("stage");
    write_file(&source.join("latest/a.txt"), b"two");
    write_file(&source.join("v1/a.txt"), b"one");
    set_mtime(&source.join("latest/a.txt"), MTIME);
    set_mtime(&source.join("v1/a.txt"), MTIME);
    // The destination's old copy: `latest -> v1`.
    let dest = root.path().join("web");
    write_file(&dest.join("v1/a.txt"), b"one");
    set_mtime(&dest.join("v1/a.txt"), MTIME);
    symlink("v1", dest.join("latest")).unwrap();

    distribute_to(&source, &dest).unwrap();
    assert_eq!(fs::read(dest.join("latest/a.txt")).unwrap(), b"two");
    assert_eq!(fs::read(dest.join("v1/a.txt")).unwrap(), b"one");
    assert!(fs::symlink_metadata(dest.join("latest")).unwrap().is_dir());
}
