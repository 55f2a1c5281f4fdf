//! End to end: plans run against real servers (ftp-serve on loopback),
//! with staging, backups and distribution on temporary directories.

mod mirror_util;

use std::fs;
use std::path::Path;

use ftp_mirror::report::{DestinationStatus, ModuleStatus};
use ftp_mirror_tests::tree::{assert_trees_equal, build_sample_tree, write_file};
use ftp_mirror_tests::within;
use mirror_util::*;

#[test]
fn two_modules_from_two_servers_are_mirrored_and_distributed() {
    within(LIMIT, "two modules", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let (root_a, root_b) = (t.join("server-a"), t.join("server-b"));
        let sample = build_sample_tree(&root_a.join("pub/alpha"), 300_000);
        build_sample_tree(&root_b.join("beta"), 1000);
        write_file(&root_b.join("beta/only-in-b.txt"), b"b");
        let (a, b) = (serve(&root_a), serve(&root_b));
        let stage = t.join("stage");
        let modules = [
            ModuleSpec {
                id: "ALPHA",
                addr: a.local_addr(),
                location: "/pub/alpha",
                stage: &stage,
                backup: None,
                login: None,
            },
            ModuleSpec {
                id: "BETA",
                addr: b.local_addr(),
                location: "beta",
                stage: &stage,
                backup: None,
                login: None,
            },
        ];
        let (web1, web2, web3) = (
            t.join("web1/alpha"),
            t.join("web2/www/alpha"),
            t.join("web1/beta"),
        );
        let machines = [
            machine_xml("web1", &[("ALPHA", &web1), ("BETA", &web3)]),
            machine_xml("web2", &[("ALPHA", &web2)]),
        ];
        let xml = plan_xml(&modules, &machines);

        let first = run(&xml, &options());
        assert_eq!(first.exit_code(), 0, "{}", first.to_json());
        assert_trees_equal(&root_a.join("pub/alpha"), &stage.join("alpha"));
        assert_trees_equal(&root_b.join("beta"), &stage.join("beta"));
        for dest in [&web1, &web2] {
            assert_trees_equal(&root_a.join("pub/alpha"), dest);
        }
        assert_trees_equal(&root_b.join("beta"), &web3);
        let alpha = &first.modules[0];
        assert_eq!(
            (alpha.id.as_str(), alpha.status),
            ("ALPHA", ModuleStatus::Ok)
        );
        assert_eq!(alpha.common_name.as_deref(), Some("ALPHA files"));
        assert_eq!(alpha.files_fetched as usize, sample.files);
        assert_eq!(alpha.bytes_fetched, sample.bytes);
        assert_eq!(first.destinations.len(), 3);
        assert!(first
            .destinations
            .iter()
            .all(|d| d.status == DestinationStatus::Ok));
        // Only the finished copies are left in the stage: no hidden work dirs.
        assert_eq!(
            names(&stage),
            vec![
                ".alpha.ftp-mirror-lock",
                ".beta.ftp-mirror-lock",
                "alpha",
                "beta"
            ]
        );

        // Nothing changed on the servers: nothing is fetched or copied again.
        let second = run(&xml, &options());
        assert_eq!(second.exit_code(), 0, "{}", second.to_json());
        for m in &second.modules {
            assert_eq!(m.files_fetched, 0, "{}", second.to_json());
            assert_eq!(m.bytes_fetched, 0);
        }
        assert_eq!(second.modules[0].files_unchanged as usize, sample.files);
        for d in &second.destinations {
            assert_eq!(d.files_copied, 0, "{}", second.to_json());
        }
        assert_trees_equal(&root_a.join("pub/alpha"), &web2);
        a.shutdown();
        b.shutdown();
    });
}

#[test]
fn changed_added_and_deleted_files_are_followed() {
    within(LIMIT, "changes", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server");
        write_at(&root.join("pub/keep.txt"), b"kept", 1_600_000_000);
        write_at(&root.join("pub/change.txt"), b"old content", 1_600_000_000);
        write_at(
            &root.join("pub/sub/delete.txt"),
            b"to be deleted",
            1_600_000_000,
        );
        let server = serve(&root);
        let (stage, dest) = (t.join("stage"), t.join("dest/pub"));
        let module = ModuleSpec {
            id: "PUB",
            addr: server.local_addr(),
            location: "/pub",
            stage: &stage,
            backup: None,
            login: None,
        };
        let xml = plan_xml(&[module], &[machine_xml("m", &[("PUB", &dest)])]);
        assert_eq!(run(&xml, &options()).exit_code(), 0);

        write_at(&root.join("pub/change.txt"), b"new content!", 1_700_000_000);
        fs::remove_file(root.join("pub/sub/delete.txt")).unwrap();
        write_at(&root.join("pub/added.txt"), b"added", 1_700_000_000);
        let report = run(&xml, &options());
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        let m = &report.modules[0];
        assert_eq!(
            (m.files_fetched, m.files_unchanged),
            (2, 1),
            "{}",
            report.to_json()
        );
        assert_trees_equal(&root.join("pub"), &stage.join("pub"));
        assert_trees_equal(&root.join("pub"), &dest);
        assert_eq!(fs::read(dest.join("change.txt")).unwrap(), b"new content!");
        assert!(!dest.join("sub/delete.txt").exists());
        let d = &report.destinations[0];
        assert_eq!(
            (d.files_copied, d.files_linked),
            (2, 1),
            "{}",
            report.to_json()
        );
        server.shutdown();
    });
}

#[test]
fn keep_history_rotates_backups_over_runs() {
    within(LIMIT, "rotation", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server");
        fs::create_dir_all(root.join("builds/nightly")).unwrap();
        let server = serve(&root);
        let (stage, backup) = (t.join("stage"), t.join("backup"));
        let module = ModuleSpec {
            id: "NIGHTLY",
            addr: server.local_addr(),
            location: "/builds/nightly",
            stage: &stage,
            backup: Some((&backup, "2")),
            login: None,
        };
        let xml = plan_xml(&[module], &[]);
        let version_of = |dir: &Path| fs::read_to_string(dir.join("version.txt")).unwrap();
        for (n, version) in ["v1", "v2", "v3", "v4"].iter().enumerate() {
            write_at(
                &root.join("builds/nightly/version.txt"),
                version.as_bytes(),
                1_600_000_000 + n as u64 * 100,
            );
            write_at(
                &root.join("builds/nightly/same.bin"),
                b"unchanged",
                1_500_000_000,
            );
            let report = run(&xml, &options());
            assert_eq!(report.exit_code(), 0, "{}", report.to_json());
            assert_eq!(version_of(&stage.join("nightly")), *version);
            match n {
                0 => assert!(report.modules[0].backup.is_none() && names(&backup).is_empty()),
                1 => assert_eq!(names(&backup), vec!["nightly"]),
                _ => assert_eq!(names(&backup), vec!["nightly", "nightly.1"]),
            }
        }
        assert_eq!(version_of(&backup.join("nightly")), "v3");
        assert_eq!(version_of(&backup.join("nightly.1")), "v2");
        assert_eq!(
            fs::read(backup.join("nightly.1/same.bin")).unwrap(),
            b"unchanged"
        );
        server.shutdown();
    });
}

/// Regression: an unchanged run used to swap in an identical copy and
/// rotate the previous one into the backups, so a few quiet nights pushed
/// every real older version out of `keep_history`.
#[test]
fn unchanged_runs_keep_the_backup_history() {
    within(LIMIT, "unchanged rotation", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server");
        let version = root.join("nightly/version.txt");
        write_at(&version, b"v1", 1_600_000_000);
        let server = serve(&root);
        let (stage, backup) = (t.join("stage"), t.join("backup"));
        let module = ModuleSpec {
            id: "NIGHTLY",
            addr: server.local_addr(),
            location: "/nightly",
            stage: &stage,
            backup: Some((&backup, "2")),
            login: None,
        };
        let xml = plan_xml(&[module], &[]);
        assert_eq!(run(&xml, &options()).exit_code(), 0);
        write_at(&version, b"v2", 1_600_000_100);
        assert_eq!(run(&xml, &options()).exit_code(), 0);
        assert_eq!(names(&backup), vec!["nightly"]);
        for _ in 0..3 {
            let report = run(&xml, &options());
            assert_eq!(report.exit_code(), 0, "{}", report.to_json());
            assert_eq!(report.modules[0].files_fetched, 0);
            assert!(report.modules[0].backup.is_none(), "{}", report.to_json());
        }
        assert_eq!(names(&backup), vec!["nightly"]);
        assert_eq!(fs::read(backup.join("nightly/version.txt")).unwrap(), b"v1");
        assert_eq!(fs::read(stage.join("nightly/version.txt")).unwrap(), b"v2");
        assert!(!stage.join(".nightly.ftp-mirror-new").exists());
        // A deletion alone (nothing fetched) is still a change.
        write_at(&root.join("nightly/extra.txt"), b"x", 1_600_000_200);
        assert_eq!(run(&xml, &options()).exit_code(), 0);
        fs::remove_file(root.join("nightly/extra.txt")).unwrap();
        let report = run(&xml, &options());
        assert_eq!(report.modules[0].files_fetched, 0);
        assert!(!stage.join("nightly/extra.txt").exists());
        assert!(backup.join("nightly/extra.txt").exists());
        server.shutdown();
    });
}

#[test]
fn dry_run_changes_nothing_anywhere() {
    within(LIMIT, "dry run", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server");
        write_at(&root.join("pub/a.txt"), b"a", 1_600_000_000);
        write_at(&root.join("pub/b.txt"), b"b", 1_600_000_000);
        let server = serve(&root);
        let (stage, backup, dest) = (t.join("stage"), t.join("backup"), t.join("dest/pub"));
        let module = ModuleSpec {
            id: "PUB",
            addr: server.local_addr(),
            location: "/pub",
            stage: &stage,
            backup: Some((&backup, "yes")),
            login: None,
        };
        let xml = plan_xml(&[module], &[machine_xml("m", &[("PUB", &dest)])]);
        let dry = ftp_mirror::run::RunOptions {
            dry_run: true,
            ..options()
        };

        // From scratch: nothing is created.
        let report = run(&xml, &dry);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(report.modules[0].status, ModuleStatus::DryRun);
        let mut would = report.modules[0].would_fetch.clone();
        would.sort();
        assert_eq!(would, vec!["a.txt", "b.txt"]);
        assert_eq!(report.destinations[0].status, DestinationStatus::DryRun);
        assert!(!stage.exists() && !backup.exists() && !t.join("dest").exists());

        // After a real run and a change on the server: still nothing moves.
        write_at(&root.join("pub/old/gone.txt"), b"g", 1_600_000_000);
        assert_eq!(run(&xml, &options()).exit_code(), 0);
        write_at(&root.join("pub/b.txt"), b"bb", 1_700_000_000);
        write_at(&root.join("pub/c.txt"), b"c", 1_700_000_000);
        fs::remove_dir_all(root.join("pub/old")).unwrap();
        let before = (
            full_snapshot(&stage),
            full_snapshot(&backup),
            full_snapshot(&t.join("dest")),
        );
        let report = run(&xml, &dry);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        let mut would = report.modules[0].would_fetch.clone();
        would.sort();
        assert_eq!(would, vec!["b.txt", "c.txt"]);
        assert_eq!(report.modules[0].would_keep, vec!["a.txt"]);
        // The file gone from the server is named as what a real run drops.
        assert_eq!(report.modules[0].would_delete, vec!["old/gone.txt"]);
        let d = &report.destinations[0];
        assert_eq!(
            (d.files_copied, d.files_linked),
            (2, 1),
            "{}",
            report.to_json()
        );
        let after = (
            full_snapshot(&stage),
            full_snapshot(&backup),
            full_snapshot(&t.join("dest")),
        );
        assert_eq!(before, after);
        server.shutdown();
    });
}

#[test]
fn awkward_names_empty_entries_and_a_deep_tree() {
    within(LIMIT, "awkward names", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server/pub");
        write_file(&root.join("with space.txt"), b"space");
        write_file(
            &root.join("d\u{e9}j\u{e0} vu/\u{65e5}\u{672c}\u{8a9e} \u{20ac}.txt"),
            "non-ASCII".as_bytes(),
        );
        write_file(&root.join("empty file"), b"");
        fs::create_dir_all(root.join("empty dir")).unwrap();
        let mut deep = root.join("deep");
        for level in 0..20 {
            deep = deep.join(format!("level {level}"));
        }
        write_file(&deep.join("bottom.txt"), b"twenty levels down");
        let server = serve(&t.join("server"));
        let (stage, dest) = (t.join("stage"), t.join("dest/pub"));
        let module = ModuleSpec {
            id: "PUB",
            addr: server.local_addr(),
            location: "/pub",
            stage: &stage,
            backup: None,
            login: None,
        };
        let report = run(
            &plan_xml(&[module], &[machine_xml("m", &[("PUB", &dest)])]),
            &options(),
        );
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_trees_equal(&root, &stage.join("pub"));
        assert_trees_equal(&root, &dest);
        server.shutdown();
    });
}

#[test]
fn an_unwritable_destination_does_not_stop_the_others() {
    within(LIMIT, "unwritable destination", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server");
        write_file(&root.join("pub/f.txt"), b"content");
        let server = serve(&root);
        let stage = t.join("stage");
        // A regular file where a parent directory should be: nothing can be
        // created below it, whoever runs the test.
        fs::write(t.join("not-a-dir"), b"").unwrap();
        let (good1, bad, good2) = (
            t.join("ok1/pub"),
            t.join("not-a-dir/pub"),
            t.join("ok2/pub"),
        );
        let module = ModuleSpec {
            id: "PUB",
            addr: server.local_addr(),
            location: "/pub",
            stage: &stage,
            backup: None,
            login: None,
        };
        let machines = [
            machine_xml("one", &[("PUB", &good1)]),
            machine_xml("broken", &[("PUB", &bad)]),
            machine_xml("two", &[("PUB", &good2)]),
        ];
        let report = run(&plan_xml(&[module], &machines), &options());
        assert_eq!(report.exit_code(), 1);
        assert_eq!(report.modules[0].status, ModuleStatus::Ok);
        let status: Vec<_> = report
            .destinations
            .iter()
            .map(|d| (d.machine.as_str(), d.status))
            .collect();
        assert_eq!(
            status,
            vec![
                ("one", DestinationStatus::Ok),
                ("broken", DestinationStatus::Failed),
                ("two", DestinationStatus::Ok)
            ]
        );
        assert!(report.destinations[1].error.is_some());
        assert_trees_equal(&root.join("pub"), &good1);
        assert_trees_equal(&root.join("pub"), &good2);
        server.shutdown();
    });
}

#[test]
fn modules_sharing_one_server_and_one_session_all_finish() {
    within(LIMIT, "shared session", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server");
        for module in ["m1", "m2", "m3"] {
            for i in 0..5 {
                write_file(
                    &root.join(format!("{module}/d{i}/f{i}.txt")),
                    format!("{module} {i}").as_bytes(),
                );
            }
        }
        let server = serve(&root);
        let stage = t.join("stage");
        let modules: Vec<_> = ["m1", "m2", "m3"]
            .iter()
            .map(|id| ModuleSpec {
                id,
                addr: server.local_addr(),
                location: id,
                stage: &stage,
                backup: None,
                login: None,
            })
            .collect();
        let opts = ftp_mirror::run::RunOptions {
            connections: Some(1),
            ..options()
        };
        let report = run(&plan_xml(&modules, &[]), &opts);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        for id in ["m1", "m2", "m3"] {
            assert_trees_equal(&root.join(id), &stage.join(id));
        }
        assert_eq!(
            report.modules.iter().map(|m| m.files_fetched).sum::<u64>(),
            15
        );
        server.shutdown();
    });
}
