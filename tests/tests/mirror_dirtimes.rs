//! End to end: directory modification times through a plan run (ftp-serve
//! on loopback): the stage copy and the destination take the server's
//! directory times, an unchanged re-run keeps the current copy (no swap,
//! no backup), and a directory time that changed alone is brought over
//! without a swap either.

mod mirror_util;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use ftp_mirror::report::DestinationStatus;
use ftp_mirror::stage::set_dir_mtime;
use ftp_mirror_tests::within;
use mirror_util::*;

/// Directories below the module and their times on the server.
const DIRS: &[(&str, u64)] = &[
    ("a", 1_100_000_000),
    ("a/b", 1_200_000_000),
    ("a/b/c", 1_300_000_000),
    ("empty", 1_400_000_000),
];

fn set_dir(dir: &Path, secs: u64) {
    set_dir_mtime(dir, UNIX_EPOCH + Duration::from_secs(secs)).unwrap();
}

fn dir_times(root: &Path) -> Vec<(&'static str, u64)> {
    DIRS.iter()
        .map(|(rel, _)| {
            let t = fs::metadata(root.join(rel)).unwrap().modified().unwrap();
            (*rel, t.duration_since(UNIX_EPOCH).unwrap().as_secs())
        })
        .collect()
}

fn ino(path: &Path) -> u64 {
    fs::metadata(path).unwrap().ino()
}

#[test]
fn stage_and_destination_follow_directory_times_without_needless_swaps() {
    within(LIMIT, "directory times", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let module_root = t.join("server/pub");
        write_at(&module_root.join("top.txt"), b"top", 1_000_000_000);
        write_at(&module_root.join("a/one.txt"), b"one", 1_000_000_001);
        write_at(&module_root.join("a/b/c/two.txt"), b"two", 1_000_000_002);
        fs::create_dir_all(module_root.join("empty")).unwrap();
        for (rel, secs) in DIRS.iter().rev() {
            set_dir(&module_root.join(rel), *secs);
        }
        let server = serve(&t.join("server"));
        let (stage, backup, dest) = (t.join("stage"), t.join("backup"), t.join("web/pub"));
        let module = ModuleSpec {
            id: "PUB",
            addr: server.local_addr(),
            location: "/pub",
            stage: &stage,
            backup: Some((&backup, "2")),
            login: None,
        };
        let xml = plan_xml(&[module], &[machine_xml("web", &[("PUB", &dest)])]);
        let current = stage.join("pub");

        let first = run(&xml, &options());
        assert_eq!(first.exit_code(), 0, "{}", first.to_json());
        assert_eq!(first.destinations[0].status, DestinationStatus::Ok);
        let want = dir_times(&module_root);
        assert_eq!(dir_times(&current), want, "stage");
        assert_eq!(dir_times(&dest), want, "destination");

        // Nothing changed: the current copy stays (same directory, no backup).
        let stage_ino = ino(&current);
        let second = run(&xml, &options());
        assert_eq!(second.exit_code(), 0, "{}", second.to_json());
        assert_eq!(second.modules[0].files_fetched, 0);
        assert!(second.modules[0].backup.is_none(), "{}", second.to_json());
        assert_eq!(ino(&current), stage_ino, "no swap");
        assert!(names(&backup).is_empty());
        assert!(!stage.join(".pub.ftp-mirror-new").exists());
        assert_eq!(dir_times(&current), want);
        assert_eq!(dir_times(&dest), want);

        // Only a directory time changed: still no swap and no backup, but
        // the current copy and the destination take the new time.
        set_dir(&module_root.join("a/b"), 1_250_000_000);
        let want = dir_times(&module_root);
        let third = run(&xml, &options());
        assert_eq!(third.exit_code(), 0, "{}", third.to_json());
        assert!(third.modules[0].backup.is_none(), "{}", third.to_json());
        assert_eq!(ino(&current), stage_ino, "no swap for a directory time");
        assert!(names(&backup).is_empty());
        assert_eq!(dir_times(&current), want, "stage");
        assert_eq!(dir_times(&dest), want, "destination");

        // A new file is a change: swapped in, the old copy backed up, and
        // the times still those of the server.
        write_at(&module_root.join("a/b/c/three.txt"), b"3", 1_000_000_003);
        set_dir(&module_root.join("a/b/c"), 1_350_000_000);
        let want = dir_times(&module_root);
        let fourth = run(&xml, &options());
        assert_eq!(fourth.exit_code(), 0, "{}", fourth.to_json());
        assert_eq!(fourth.modules[0].files_fetched, 1);
        assert_ne!(ino(&current), stage_ino, "swapped");
        assert_eq!(names(&backup), vec!["pub"]);
        assert_eq!(dir_times(&current), want, "stage");
        assert_eq!(dir_times(&dest), want, "destination");
        server.shutdown();
    });
}
