//! End to end: plans with problems. A broken plan, a refused login next to
//! a healthy module, a server with nothing listening next to a healthy one,
//! a base64 password against pyftpdlib, an unknown module.

mod mirror_util;

use std::fs;

use ftp_mirror::events::Event;
use ftp_mirror::plan::{Plan, PlanError};
use ftp_mirror::report::{DestinationStatus, ModuleStatus};
use ftp_mirror::run::{run_plan, RunOptions};
use ftp_mirror_tests::pyftpd::{PyFtpd, PASSWORD, USER};
use ftp_mirror_tests::tree::{assert_trees_equal, write_file};
use ftp_mirror_tests::within;
use mirror_util::*;

/// Standard base64, for building plans.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_refused_login_fails_its_module_and_the_others_finish() {
    within(LIMIT, "refused login", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let (root_a, root_b) = (t.join("a"), t.join("b"));
        write_file(&root_a.join("pub/secret.txt"), b"needs a login");
        write_file(&root_b.join("pub/open.txt"), b"anonymous");
        let locked = serve_with(&root_a, Some(("alice", "right-password")));
        let open = serve(&root_b);
        let (stage_a, stage_b) = (t.join("stage-a"), t.join("stage-b"));
        let (dest_a, dest_b) = (t.join("dest/a"), t.join("dest/b"));
        let modules = [
            ModuleSpec {
                id: "LOCKED",
                addr: locked.local_addr(),
                location: "/pub",
                stage: &stage_a,
                backup: None,
                login: Some((
                    "alice",
                    "<ftp_password>wrong-password</ftp_password>".into(),
                )),
            },
            ModuleSpec {
                id: "OPEN",
                addr: open.local_addr(),
                location: "/pub",
                stage: &stage_b,
                backup: None,
                login: None,
            },
        ];
        let xml = plan_xml(
            &modules,
            &[machine_xml("m", &[("LOCKED", &dest_a), ("OPEN", &dest_b)])],
        );
        let plan = Plan::from_str(&xml).unwrap();
        let events = Recorder::default();
        let report = run_plan(&plan, &options(), &events);
        assert_eq!(report.exit_code(), 1);
        let (bad, good) = (&report.modules[0], &report.modules[1]);
        assert_eq!(bad.status, ModuleStatus::Failed);
        assert!(!bad.errors.is_empty());
        let json = report.to_json();
        assert!(
            !json.contains("wrong-password") && !json.contains("right-password"),
            "{json}"
        );
        assert!(!format!("{plan:?}").contains("wrong-password"));
        assert_eq!(good.status, ModuleStatus::Ok, "{json}");
        assert_trees_equal(&root_b.join("pub"), &stage_b.join("pub"));
        assert_trees_equal(&root_b.join("pub"), &dest_b);
        assert!(
            !stage_a.join("pub").exists(),
            "a failed module is not swapped in"
        );
        assert!(!dest_a.exists(), "a failed module is not distributed");
        let dests: Vec<_> = report
            .destinations
            .iter()
            .map(|d| (d.module.as_str(), d.status))
            .collect();
        assert_eq!(
            dests,
            vec![
                ("LOCKED", DestinationStatus::Skipped),
                ("OPEN", DestinationStatus::Ok)
            ]
        );
        let events = events.0.lock().unwrap();
        let finished: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::ModuleFinished { module, ok } => Some((module.clone(), *ok)),
                _ => None,
            })
            .collect();
        assert_eq!(finished.len(), 2);
        assert!(
            finished.contains(&("LOCKED".to_string(), false))
                && finished.contains(&("OPEN".to_string(), true))
        );
        locked.shutdown();
        open.shutdown();
    });
}

#[test]
fn a_failed_module_keeps_its_copy_and_the_next_run_resumes() {
    within(LIMIT, "failed module resumes", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let root = t.join("server");
        write_at(&root.join("pub/a.txt"), b"version one", 1_600_000_000);
        write_at(&root.join("pub/b.txt"), b"unchanged", 1_600_000_000);
        let (stage, dest) = (t.join("stage"), t.join("dest/pub"));
        let plan_for = |server: &PyFtpd| {
            let module = ModuleSpec {
                id: "PUB",
                addr: server.addr(),
                location: "/pub",
                stage: &stage,
                backup: None,
                login: None,
            };
            plan_xml(&[module], &[machine_xml("m", &[("PUB", &dest)])])
        };

        let server = PyFtpd::start(&root);
        assert_eq!(run(&plan_for(&server), &options()).exit_code(), 0);
        drop(server);

        // The file changes, and the server now refuses every download (550).
        write_at(&root.join("pub/a.txt"), b"version two!", 1_700_000_000);
        let refusing = PyFtpd::builder(&root).anonymous_permissions("el").start();
        let report = run(&plan_for(&refusing), &options());
        assert_eq!(report.exit_code(), 1, "{}", report.to_json());
        let m = &report.modules[0];
        assert_eq!(m.status, ModuleStatus::Failed);
        assert!(
            m.errors.iter().any(|e| e.starts_with("a.txt: ")),
            "{:?}",
            m.errors
        );
        assert_eq!(report.destinations[0].status, DestinationStatus::Skipped);
        // The current copy and the destination are exactly as before.
        assert_eq!(fs::read(stage.join("pub/a.txt")).unwrap(), b"version one");
        assert_eq!(fs::read(dest.join("a.txt")).unwrap(), b"version one");
        // The unchanged file already sits in the kept new-copy directory.
        assert_eq!(
            fs::read(stage.join(".pub.ftp-mirror-new/b.txt")).unwrap(),
            b"unchanged"
        );
        drop(refusing);

        let server = PyFtpd::start(&root);
        let report = run(&plan_for(&server), &options());
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        assert_eq!(report.modules[0].files_fetched, 1, "{}", report.to_json());
        assert_trees_equal(&root.join("pub"), &stage.join("pub"));
        assert_trees_equal(&root.join("pub"), &dest);
        assert!(!stage.join(".pub.ftp-mirror-new").exists());
    });
}

#[test]
fn a_base64_password_logs_in_to_pyftpdlib() {
    within(LIMIT, "base64 password", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        write_file(&t.join("server/pub/private.txt"), b"for the tester only");
        let server = PyFtpd::builder(&t.join("server")).anonymous(false).start();
        let stage = t.join("stage");
        let module = ModuleSpec {
            id: "PRIVATE",
            addr: server.addr(),
            location: "/pub",
            stage: &stage,
            backup: None,
            login: Some((
                USER,
                format!(
                    "<ftp_password encryption=\"base64\">{}</ftp_password>",
                    base64(PASSWORD.as_bytes())
                ),
            )),
        };
        let report = run(&plan_xml(&[module], &[]), &options());
        assert_eq!(
            report.exit_code(),
            0,
            "{}\n{}",
            report.to_json(),
            server.log()
        );
        assert_trees_equal(&t.join("server/pub"), &stage.join("pub"));
    });
}

#[test]
fn a_broken_plan_is_reported_with_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("plan.xml");
    fs::write(
        &path,
        "<?xml version=\"1.0\"?>\n<download>\n<module_list>\n<module id=\"A\">\n\
         <ftp_info machine_name=\"127.0.0.1:1\"><ftp_uid>u</ftp_uid></ftp_info>\n\
         <stage_location>/tmp/x</stage_location>\n</module>\n</module_list>\n</download>\n",
    )
    .unwrap();
    let err = Plan::from_file(&path).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("plan.xml") && text.contains("line 5") && text.contains("<ftp_location>"),
        "{text}"
    );
    match err {
        PlanError::InFile { source, .. } => {
            assert!(matches!(*source, PlanError::Invalid { line: 5, .. }))
        }
        other => panic!("{other:?}"),
    }
    fs::write(&path, "<download><module_list>").unwrap();
    assert!(Plan::from_file(&path)
        .unwrap_err()
        .to_string()
        .contains("not valid XML"));
}

#[test]
fn an_unknown_module_name_is_a_run_error() {
    let tmp = tempfile::tempdir().unwrap();
    let stage = tmp.path().join("stage");
    let module = ModuleSpec {
        id: "A",
        addr: "127.0.0.1:9".parse().unwrap(),
        location: "/pub",
        stage: &stage,
        backup: None,
        login: None,
    };
    let plan = Plan::from_str(&plan_xml(&[module], &[])).unwrap();
    let opts = RunOptions {
        modules: vec!["B".into()],
        ..options()
    };
    let report = run_plan(&plan, &opts, &ftp_mirror::events::NoEvents);
    assert_eq!(report.exit_code(), 1);
    assert!(report.modules.is_empty());
    assert!(
        report.errors[0].contains("unknown module \"B\""),
        "{:?}",
        report.errors
    );
    assert!(!stage.exists());
}

#[test]
fn base64_helper_matches_the_rfc() {
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"f"), "Zg==");
}

#[test]
fn a_module_whose_stage_is_locked_is_skipped() {
    within(LIMIT, "locked stage", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        write_file(&t.join("server/pub/a.txt"), b"a");
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
        let plan =
            Plan::from_str(&plan_xml(&[module], &[machine_xml("m", &[("PUB", &dest)])])).unwrap();
        // Another run holds the lock.
        let held = ftp_mirror::stage::Stage::for_module(&plan.modules[0])
            .lock()
            .unwrap()
            .expect("lock");
        let report = run_plan(&plan, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 1);
        assert_eq!(report.modules[0].status, ModuleStatus::Skipped);
        assert_eq!(report.destinations[0].status, DestinationStatus::Skipped);
        assert!(!stage.join("pub").exists() && !stage.join(".pub.ftp-mirror-new").exists());
        drop(held);
        let report = run_plan(&plan, &options(), &ftp_mirror::events::NoEvents);
        assert_eq!(report.exit_code(), 0, "{}", report.to_json());
        server.shutdown();
    });
}

#[test]
fn a_module_whose_server_is_not_listening_fails_promptly_and_the_others_finish() {
    within(LIMIT, "unreachable server", || {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        write_file(&t.join("server/pub/a.txt"), b"reachable");
        let open = serve(&t.join("server"));
        // A port that was free a moment ago: connecting to it is refused.
        let dead = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let (stage_dead, stage_open) = (t.join("stage-dead"), t.join("stage-open"));
        let (dest_dead, dest_open) = (t.join("dest/dead"), t.join("dest/open"));
        let modules = [
            ModuleSpec {
                id: "DEAD",
                addr: dead,
                location: "/pub",
                stage: &stage_dead,
                backup: None,
                login: None,
            },
            ModuleSpec {
                id: "OPEN",
                addr: open.local_addr(),
                location: "/pub",
                stage: &stage_open,
                backup: None,
                login: None,
            },
        ];
        let machine = machine_xml("m", &[("DEAD", &dest_dead), ("OPEN", &dest_open)]);
        // FTP_TIMEOUT is how long to wait for a busy session: ten minutes
        // here, which an unreachable server must not make anyone wait.
        let xml = plan_xml(&modules, &[machine]);
        let slow = xml.replace(
            "<config_item id=\"FTP_TIMEOUT\">20</config_item>",
            "<config_item id=\"FTP_TIMEOUT\">600</config_item>",
        );
        assert_ne!(slow, xml, "the plan sets FTP_TIMEOUT");
        let plan = Plan::from_str(&slow).unwrap();
        let opts = RunOptions {
            wait_timeout: None,
            ..options()
        };
        let started = std::time::Instant::now();
        let events = Recorder::default();
        let report = run_plan(&plan, &opts, &events);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(30), "{took:?}");
        assert_eq!(report.exit_code(), 1);
        let json = report.to_json();
        let (bad, good) = (&report.modules[0], &report.modules[1]);
        assert_eq!(bad.status, ModuleStatus::Failed, "{json}");
        let error = bad.errors.join("\n");
        assert!(
            error.contains(&dead.to_string()),
            "names the server: {error}"
        );
        assert!(
            error.to_ascii_lowercase().contains("refused"),
            "says why: {error}"
        );
        assert_eq!(good.status, ModuleStatus::Ok, "{json}");
        assert_trees_equal(&t.join("server/pub"), &dest_open);
        assert!(!dest_dead.exists(), "a failed module is not distributed");
        // The pool already retried; the engine does not repeat its wait.
        let retries = events
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, Event::Retry { module, .. } if module == "DEAD"))
            .count();
        assert_eq!(retries, 0);
        open.shutdown();
    });
}
