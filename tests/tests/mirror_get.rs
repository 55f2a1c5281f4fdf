//! End to end: `ftp-mirror get URL DEST` through `run_url`.

mod mirror_util;

use std::fs;
use std::path::{Path, PathBuf};

use ftp_mirror::events::Event;
use ftp_mirror::fetch::{record_path, PartOrigin};
use ftp_mirror::report::ModuleStatus;
use ftp_mirror::run::{run_url, RunOptions};
use ftp_mirror::stage::sibling;
use ftp_mirror::url::FtpUrl;
use ftp_mirror_tests::tree::{
    assert_trees_equal, build_sample_tree, pseudo_random_bytes, write_file,
};
use ftp_mirror_tests::within;
use ftp_proto::{FileTime, TimeAccuracy};
use mirror_util::*;

/// How many `ModuleStarted` and `ModuleFinished` events were sent.
fn start_and_finish(events: &Recorder) -> (usize, usize) {
    let events = events.0.lock().unwrap();
    let started = events
        .iter()
        .filter(|e| matches!(e, Event::ModuleStarted { .. }))
        .count();
    let finished = events
        .iter()
        .filter(|e| matches!(e, Event::ModuleFinished { .. }))
        .count();
    (started, finished)
}

#[test]
fn a_directory_lands_at_dest_and_replaces_it_whole() {
    within(LIMIT, "get dir", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server");
        build_sample_tree(&root.join("pub"), 200_000);
        let server = serve(&root);
        let url = FtpUrl::parse(&format!("ftp://{}/pub", server.local_addr())).unwrap();
        let dest = t.join("mirror");
        let opts = RunOptions {
            connections: Some(2),
            ..options()
        };
        let events = Recorder::default();
        let report = run_url(&url, &dest, &opts, &events);
        assert_eq!(start_and_finish(&events), (1, 1));
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_trees_equal(&root.join("pub"), &dest);
        assert_eq!(
            names(t),
            vec![".mirror.ftp-mirror-lock", "mirror", "server"]
        );
        // A file that is not on the server goes at the next run.
        write_file(&dest.join("stale.txt"), b"not on the server");
        let again = run_url(&url, &dest, &opts, &ftp_mirror::events::NoEvents);
        assert_eq!(again.modules[0].files_fetched, 0, "{}", again.to_json());
        assert_trees_equal(&root.join("pub"), &dest);
        server.shutdown();
    });
}

#[test]
fn a_file_is_fetched_to_a_path_or_into_a_directory() {
    within(LIMIT, "get file", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server");
        write_at(
            &root.join("pub/the file.bin"),
            &vec![7u8; 100_000],
            1_600_000_000,
        );
        let server = serve(&root);
        let url =
            FtpUrl::parse(&format!("ftp://{}/pub/the%20file.bin", server.local_addr())).unwrap();

        let to_path = t.join("copy.bin");
        let report = run_url(&url, &to_path, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(fs::read(&to_path).unwrap(), vec![7u8; 100_000]);
        assert_eq!(report.modules[0].bytes_fetched, 100_000);

        let into_dir = t.join("downloads");
        fs::create_dir(&into_dir).unwrap();
        let report = run_url(&url, &into_dir, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(names(&into_dir), vec!["the file.bin"]);

        // Same size and time: left alone.
        let again = run_url(&url, &into_dir, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(
            (
                again.modules[0].files_fetched,
                again.modules[0].files_unchanged
            ),
            (0, 1)
        );
        server.shutdown();
    });
}

#[test]
fn a_missing_path_and_a_dangerous_dest_fail_cleanly() {
    within(LIMIT, "get errors", || {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("server");
        write_file(&root.join("pub/a.txt"), b"a");
        let server = serve(&root);
        let missing =
            FtpUrl::parse(&format!("ftp://{}/no/such/thing", server.local_addr())).unwrap();
        let events = Recorder::default();
        let report = run_url(&missing, &tmp.path().join("x"), &options(), &events);
        assert_eq!(start_and_finish(&events), (1, 1));
        assert_eq!(report.exit_code(), 1);
        assert_eq!(report.modules[0].status, ModuleStatus::Failed);
        assert!(!tmp.path().join("x").exists());

        let dir = FtpUrl::parse(&format!("ftp://{}/pub", server.local_addr())).unwrap();
        // A directory with someone else's files is not replaced.
        let precious = tmp.path().join("Downloads");
        write_file(&precious.join("mine.txt"), b"keep me");
        let report = run_url(&dir, &precious, &options(), &ftp_mirror::events::NoEvents);
        // Bad usage, nothing touched: exit code 2.
        assert_eq!(report.exit_code(), 2);
        assert_eq!(report.modules[0].status, ModuleStatus::Refused);
        assert!(
            report.modules[0].errors[0].contains("not made by ftp-mirror"),
            "{:?}",
            report.modules[0].errors
        );
        assert_eq!(names(&precious), vec!["mine.txt"]);
        // An empty one is fine.
        let empty = tmp.path().join("empty");
        fs::create_dir(&empty).unwrap();
        let report = run_url(&dir, &empty, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(names(&empty), vec!["a.txt"]);

        let report = run_url(
            &dir,
            std::path::Path::new("/"),
            &options(),
            &ftp_mirror::events::NoEvents,
        );
        assert_eq!(report.exit_code(), 2);
        assert!(
            report.modules[0].errors[0].contains("refusing"),
            "{:?}",
            report.modules[0].errors
        );
        server.shutdown();
    });
}

#[test]
fn without_mlst_the_kind_is_found_with_cwd_and_size() {
    within(LIMIT, "get without MLST", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server");
        write_at(
            &root.join("pub/sub/file.txt"),
            b"listed by LIST",
            1_600_000_000,
        );
        let server = ftp_mirror_tests::pyftpd::PyFtpd::builder(&root)
            .no_mlst()
            .start();
        let base = server.url(false);
        let dir = FtpUrl::parse(&format!("{base}pub")).unwrap();
        let report = run_url(
            &dir,
            &t.join("mirror"),
            &options(),
            &ftp_mirror::events::NoEvents,
        );
        assert_eq!(
            report.exit_code(),
            0,
            "{}\n{}",
            report.to_json(),
            server.log()
        );
        assert_trees_equal(&root.join("pub"), &t.join("mirror"));
        let file = FtpUrl::parse(&format!("{base}pub/sub/file.txt")).unwrap();
        let report = run_url(
            &file,
            &t.join("single.txt"),
            &options(),
            &ftp_mirror::events::NoEvents,
        );
        assert_eq!(
            report.exit_code(),
            0,
            "{}\n{}",
            report.to_json(),
            server.log()
        );
        assert_eq!(fs::read(t.join("single.txt")).unwrap(), b"listed by LIST");
        let modified = fs::metadata(t.join("single.txt"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(
            modified,
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000)
        );
    });
}

/// An exact listed time.
fn exact(secs: i64) -> FileTime {
    FileTime {
        unix_secs: secs,
        nanos: 0,
        accuracy: TimeAccuracy::Exact,
    }
}

/// Leaves what an interrupted single-file `get` of `target` leaves: the
/// part holding `prefix`, with the record of `origin` when there is one.
fn leave_part(target: &Path, prefix: &[u8], origin: Option<PartOrigin>) -> PathBuf {
    let part = sibling(target, "part").unwrap();
    write_file(&part, prefix);
    if let Some(origin) = origin {
        origin.write(&part).unwrap();
    }
    part
}

/// Regression: the part of an older version was joined to the new version
/// of a file (same size, older time) and the result then looked unchanged.
#[test]
fn a_part_of_a_replaced_file_is_started_again() {
    within(LIMIT, "get replaced file", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let (old, new) = (
            pseudo_random_bytes(1, 300_000),
            pseudo_random_bytes(2, 300_000),
        );
        write_at(&t.join("server/pub/huge.bin"), &new, 1_500_000_000);
        let server = serve(&t.join("server"));
        let url = FtpUrl::parse(&format!("ftp://{}/pub/huge.bin", server.local_addr())).unwrap();
        let target = t.join("huge.bin");
        let was = PartOrigin::new(b"pub/huge.bin", Some(300_000), Some(&exact(1_600_000_000)));
        let part = leave_part(&target, &old[..120_000], Some(was));

        let report = run_url(&url, &target, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(fs::read(&target).unwrap(), new);
        assert_eq!(report.modules[0].bytes_fetched, 300_000, "from byte 0");
        assert!(!part.exists() && !record_path(&part).exists());
        assert_eq!(names(t), vec!["huge.bin", "server"]);

        // A part without a record (a crash before it, an older version of
        // the program) is started again too.
        fs::remove_file(&target).unwrap();
        leave_part(&target, &old[..120_000], None);
        let report = run_url(&url, &target, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(fs::read(&target).unwrap(), new);
        assert_eq!(report.modules[0].bytes_fetched, 300_000);

        let again = run_url(&url, &target, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(again.modules[0].files_unchanged, 1);
        server.shutdown();
    });
}

#[test]
fn a_part_of_the_same_file_is_resumed() {
    within(LIMIT, "get resumes", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let content = pseudo_random_bytes(3, 300_000);
        write_at(&t.join("server/pub/huge.bin"), &content, 1_500_000_000);
        let server = serve(&t.join("server"));
        let url = FtpUrl::parse(&format!("ftp://{}/pub/huge.bin", server.local_addr())).unwrap();
        let target = t.join("huge.bin");
        let same = PartOrigin::new(b"pub/huge.bin", Some(300_000), Some(&exact(1_500_000_000)));
        let part = leave_part(&target, &content[..100_000], Some(same));

        let report = run_url(&url, &target, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(fs::read(&target).unwrap(), content);
        assert_eq!(report.modules[0].bytes_fetched, 200_000, "only the rest");
        assert_eq!(report.modules[0].bytes_total, 300_000);
        assert!(!part.exists() && !record_path(&part).exists());
        server.shutdown();
    });
}

/// Regression: a directory `get` resumed a part in its kept new-copy
/// directory although the file had been replaced (older time).
#[test]
fn a_directory_get_does_not_join_a_part_to_a_replaced_file() {
    within(LIMIT, "get dir replaced file", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let (old, new) = (
            pseudo_random_bytes(4, 300_000),
            pseudo_random_bytes(5, 300_000),
        );
        write_at(&t.join("server/big/huge1.bin"), &old, 1_600_000_000);
        write_at(&t.join("server/big/small.txt"), b"small", 1_600_000_000);
        let server = serve(&t.join("server"));
        let url = FtpUrl::parse(&format!("ftp://{}/big", server.local_addr())).unwrap();
        let dest = t.join("b1");
        let report = run_url(&url, &dest, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());

        // An interrupted run left a part of a version that is gone since;
        // the server's file is now another one, same size, older time.
        let part = t.join(".b1.ftp-mirror-new/.huge1.bin.part");
        write_file(&part, &old[..120_000]);
        PartOrigin::new(b"big/huge1.bin", Some(300_000), Some(&exact(1_650_000_000)))
            .write(&part)
            .unwrap();
        write_at(&t.join("server/big/huge1.bin"), &new, 1_500_000_000);

        let report = run_url(&url, &dest, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(fs::read(dest.join("huge1.bin")).unwrap(), new);
        assert_eq!(report.modules[0].bytes_fetched, 300_000);
        assert_trees_equal(&t.join("server/big"), &dest);
        let again = run_url(&url, &dest, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(again.modules[0].files_fetched, 0, "{}", again.to_json());
        assert_eq!(fs::read(dest.join("huge1.bin")).unwrap(), new);
        server.shutdown();
    });
}

/// Regression: the part of a file with a 255-byte name could not be
/// created ("File name too long").
#[test]
fn a_file_with_a_255_byte_name_is_fetched_and_resumed() {
    within(LIMIT, "get long name", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let name = "L".repeat(255);
        let content = pseudo_random_bytes(6, 100_000);
        write_at(&t.join("server/pub").join(&name), &content, 1_600_000_000);
        let server = serve(&t.join("server"));
        let url = FtpUrl::parse(&format!("ftp://{}/pub/{name}", server.local_addr())).unwrap();
        let into = t.join("downloads");
        fs::create_dir(&into).unwrap();
        let report = run_url(&url, &into, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(fs::read(into.join(&name)).unwrap(), content);
        assert_eq!(names(&into), vec![name.clone()], "no temporary file left");

        // The part's name is the same in every run, so it is resumed.
        fs::remove_file(into.join(&name)).unwrap();
        let remote = format!("pub/{name}");
        let origin = PartOrigin::new(
            remote.as_bytes(),
            Some(100_000),
            Some(&exact(1_600_000_000)),
        );
        let part = leave_part(&into.join(&name), &content[..40_000], Some(origin));
        assert!(part.file_name().unwrap().len() <= 255);
        let report = run_url(&url, &into, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(fs::read(into.join(&name)).unwrap(), content);
        assert_eq!(report.modules[0].bytes_fetched, 60_000);
        assert_eq!(names(&into), vec![name]);
        server.shutdown();
    });
}
