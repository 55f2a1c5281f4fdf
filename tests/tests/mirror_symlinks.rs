//! End to end: a plan mirroring a tree with symbolic links from a LIST-only
//! server (pyftpdlib without MLSD): the stage and the destination get the
//! safe links, an unchanged re-run keeps the current copy (no swap, no
//! backup), and a link that now points elsewhere is a change.

mod mirror_util;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};

use ftp_mirror::report::{DestinationStatus, ModuleStatus};
use ftp_mirror_tests::pyftpd::PyFtpd;
use ftp_mirror_tests::within;
use mirror_util::*;

fn target(path: &Path) -> PathBuf {
    fs::read_link(path).unwrap_or_else(|e| panic!("{} is not a link: {e}", path.display()))
}

fn inode(path: &Path) -> u64 {
    fs::symlink_metadata(path).unwrap().ino()
}

/// The safe links with the targets they must have in every copy.
fn assert_links(copy: &Path, latest: &str) {
    assert_eq!(target(&copy.join("latest")), Path::new(latest), "{copy:?}");
    assert_eq!(target(&copy.join("cur.txt")), Path::new("v2/notes.txt"));
    assert_eq!(target(&copy.join("sub/up")), Path::new("../v1"));
    for hostile in ["abs", "esc", "sub/esc2"] {
        assert!(
            fs::symlink_metadata(copy.join(hostile)).is_err(),
            "{hostile} in {copy:?}"
        );
    }
}

#[test]
fn links_reach_the_destination_and_an_unchanged_run_does_not_swap() {
    within(LIMIT, "symlinks plan", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server/pub");
        write_at(&root.join("v1/notes.txt"), b"one", 1_600_000_000);
        write_at(&root.join("v2/notes.txt"), b"two!", 1_600_000_000);
        write_at(&root.join("sub/plain.txt"), b"p", 1_600_000_000);
        for (path, to) in [
            ("latest", "v2"),
            ("cur.txt", "v2/notes.txt"),
            ("sub/up", "../v1"),
            ("abs", "/etc/passwd"),
            ("esc", "../../outside"),
            ("sub/esc2", "../../x"),
        ] {
            symlink(to, root.join(path)).unwrap();
        }
        let server = PyFtpd::builder(&t.join("server")).no_mlst().start();
        let (stage, backup, dest) = (t.join("stage"), t.join("backup"), t.join("web/pub"));
        let module = ModuleSpec {
            id: "PUB",
            addr: server.addr(),
            location: "/pub",
            stage: &stage,
            backup: Some((&backup, "2")),
            login: None,
        };
        let xml = plan_xml(&[module], &[machine_xml("web", &[("PUB", &dest)])]);

        let first = run(&xml, &options());
        assert_eq!(first.exit_code(), 0, "{}", first.to_json());
        assert_eq!(first.modules[0].status, ModuleStatus::Ok);
        assert_eq!(first.modules[0].links, 3, "{}", first.to_json());
        assert!(first.to_json().contains("\"links\": 3"));
        assert_eq!(first.destinations[0].status, DestinationStatus::Ok);
        assert_links(&stage.join("pub"), "v2");
        assert_links(&dest, "v2");
        assert_eq!(fs::read(dest.join("latest/notes.txt")).unwrap(), b"two!");
        assert_eq!(names(&t.join("web")), vec!["pub"]);

        // A dry run does not count the current copy's links as deleted.
        let dry = ftp_mirror::run::RunOptions {
            dry_run: true,
            ..options()
        };
        let report = run(&xml, &dry);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(report.modules[0].links, 3);
        assert!(
            report.modules[0].would_delete.is_empty(),
            "{}",
            report.to_json()
        );

        // Unchanged: the current copy stays (no swap, no backup).
        let current = inode(&stage.join("pub"));
        let stage_before = full_snapshot(&stage);
        let again = run(&xml, &options());
        assert_eq!(again.exit_code(), 0, "{}", again.to_json());
        let m = &again.modules[0];
        assert_eq!((m.files_fetched, m.links), (0, 3), "{}", again.to_json());
        assert!(m.backup.is_none(), "{}", again.to_json());
        assert!(names(&backup).is_empty(), "{:?}", names(&backup));
        assert_eq!(inode(&stage.join("pub")), current, "swapped");
        assert_eq!(full_snapshot(&stage), stage_before);
        assert_eq!(again.destinations[0].files_copied, 0);
        assert_links(&dest, "v2");

        // A link that points elsewhere now is a change, though nothing is
        // fetched: swapped in, the old copy kept as the backup.
        fs::remove_file(root.join("latest")).unwrap();
        symlink("v1", root.join("latest")).unwrap();
        let third = run(&xml, &options());
        assert_eq!(third.exit_code(), 0, "{}", third.to_json());
        assert_eq!(third.modules[0].files_fetched, 0);
        assert!(third.modules[0].backup.is_some(), "{}", third.to_json());
        assert_links(&stage.join("pub"), "v1");
        assert_links(&backup.join("pub"), "v2");
        assert_links(&dest, "v1");
        assert_eq!(fs::read(dest.join("latest/notes.txt")).unwrap(), b"one");
        // Nothing was made outside the copies.
        assert_eq!(names(t), vec!["backup", "server", "stage", "web"]);
        assert_eq!(names(&t.join("server")), vec!["pub"]);
    });
}
