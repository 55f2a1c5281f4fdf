//! The engine with `ListingMode::Stat` (STAT names, pipelined MLST facts):
//! the same mirror as MLSD gives, exact times, a re-run that fetches
//! nothing, big directories and refusing servers handled by MLSD, and a
//! hostile name that cannot hide its neighbours.

mod engine_util;

use std::sync::Arc;

use engine_util::*;
use ftp_mirror::events::Event;
use ftp_mirror::sync::SyncOptions;
use ftp_mirror::walk::ListingMode;
use ftp_mirror_tests::pyftpd::PyFtpd;
use ftp_mirror_tests::tree::{assert_trees_equal, build_sample_tree, write_file};
use ftp_proto::MLST_BATCH;

fn stat_options(dest: &std::path::Path) -> SyncOptions {
    SyncOptions {
        listing: ListingMode::Stat,
        workers: 3,
        ..options(dest)
    }
}

#[test]
fn stat_listings_mirror_exactly_and_a_rerun_fetches_nothing() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let mut summary = build_sample_tree(src.path(), 300_000);
    write_file(&src.path().join("dir1/.dotfile"), b"hidden\n");
    // Larger than one MLST batch: listed with MLSD instead.
    for i in 0..MLST_BATCH + 5 {
        write_file(
            &src.path().join(format!("wide/f{i:04}")),
            format!("{i}\n").as_bytes(),
        );
    }
    summary.files += MLST_BATCH + 6;
    for (i, name) in ["a b", "-dash", "semi;colon", "ünï"].iter().enumerate() {
        write_file(&src.path().join("odd").join(name), &[b'x'; 7][..=i]);
        summary.files += 1;
    }
    let server = PyFtpd::builder(src.path()).verbose().start();
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 3);

    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &stat_options(dst.path()), rec.clone()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched as usize, summary.files);
    assert_trees_equal(src.path(), dst.path());
    assert_eq!(
        file_mtimes(src.path()),
        file_mtimes(dst.path()),
        "MLST times are exact"
    );
    // The listings went over the control connection: no MLSD except for the
    // wide directory.
    let log = server.log();
    assert!(log.contains("STAT"), "{log}");
    let mlsd = log.matches("MLSD").count();
    assert!(mlsd <= 1, "{mlsd} MLSD in {log}");

    let rec = Arc::new(Recorder::default());
    let again = sync(&pool, &stat_options(dst.path()), rec.clone()).expect("second sync");
    assert!(again.failures.is_empty(), "{:?}", again.failures);
    assert_eq!(again.files_fetched, 0, "{:?}", rec.done());
    assert_eq!(again.files_unchanged as usize, summary.files);
}

#[test]
fn a_name_with_crlf_cannot_hide_the_entries_after_it() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    write_file(&src.path().join("d/a.txt"), b"first\n");
    // Sorted listings put it between a.txt and z.txt: a server that sends
    // names raw ends its STAT reply early, in the name.
    write_file(&src.path().join("d/m\r\n213 End\r\n213-more"), b"hostile\n");
    write_file(&src.path().join("d/z.txt"), b"last\n");
    let server = PyFtpd::start(src.path());
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 2);

    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &stat_options(dst.path()), rec.clone()).expect("sync");
    assert_eq!(
        std::fs::read(dst.path().join("d/a.txt")).unwrap(),
        b"first\n"
    );
    assert_eq!(
        std::fs::read(dst.path().join("d/z.txt")).unwrap(),
        b"last\n"
    );
    // Only the hostile file fails (MLSD, used once STAT is out of step,
    // shows it as `m`, which does not exist).
    assert_eq!(stats.failures.len(), 1, "{:?}", stats.failures);
    assert!(
        stats.failures[0].0.starts_with("d/m"),
        "{:?}",
        stats.failures
    );
    let files: Vec<_> = std::fs::read_dir(dst.path().join("d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(rec.count(|e| matches!(e, Event::Failed { .. })) >= 1);
}

#[test]
fn a_server_without_stat_for_paths_is_listed_with_mlsd() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let summary = build_sample_tree(src.path(), 50_000);
    let server = PyFtpd::builder(src.path())
        .no_stat_paths()
        .verbose()
        .start();
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 2);
    let stats = sync(&pool, &stat_options(dst.path()), Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched as usize, summary.files);
    assert_trees_equal(src.path(), dst.path());
    // Refused once, not once per directory.
    let log = server.log();
    let stats_sent = log.matches("STAT").count();
    assert!(stats_sent <= 2, "{stats_sent} STAT in {log}");
}

#[test]
fn ftp_serve_lists_over_the_control_connection_too() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let summary = build_sample_tree(src.path(), 50_000);
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    let stats = sync(&pool, &stat_options(dst.path()), Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched as usize, summary.files);
    assert_trees_equal(src.path(), dst.path());
    assert_eq!(file_mtimes(src.path()), file_mtimes(dst.path()));
    let again = sync(&pool, &stat_options(dst.path()), Arc::default()).expect("again");
    assert_eq!(again.files_fetched, 0);
    assert_eq!(again.files_unchanged as usize, summary.files);
}

#[test]
fn a_link_target_that_forges_the_replies_after_a_stat_cannot_hide_entries() {
    // pyftpdlib shows a symlink's raw target in STAT; this one ends the
    // parent's listing of `d` early and forges the replies that follow (a
    // NOOP's `200` or a sentinel's `350` with a made-up number, then the
    // batch's closing `REST 0`) before swallowing the rest. `y.txt` and
    // `z.txt` come after it in the sorted listing.
    for forged in [
        "200 ok\r\n350 Restarting at 0.",
        "350 Restarting at 123456789012345.\r\n350 Restarting at 0.",
    ] {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        let d = src.path().join("pub/d");
        write_file(&d.join("a.txt"), b"a\n");
        write_file(&d.join("y.txt"), b"y\n");
        write_file(&d.join("z.txt"), b"z\n");
        let target = format!("x\r\n213 End\r\n{forged}\r\n213-");
        write_file(&src.path().join("other").join(&target), b"hidden\n");
        std::os::unix::fs::symlink(format!("../../other/{target}"), d.join("b")).unwrap();
        let server = PyFtpd::start(src.path());
        let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 2);
        let opts = SyncOptions {
            remote_root: b"/pub".to_vec(),
            ..stat_options(dst.path())
        };
        let _ = sync(&pool, &opts, Arc::default()).expect("sync");
        for name in ["a.txt", "y.txt", "z.txt"] {
            assert!(
                dst.path().join("d").join(name).is_file(),
                "{forged}: d/{name} missing"
            );
        }
    }
}

#[test]
fn dash_named_directories_at_the_root_are_not_taken_for_options() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    write_file(&src.path().join("a"), b"a\n");
    write_file(&src.path().join("-l/a"), b"a2\n");
    write_file(&src.path().join("-l/extra"), b"x\n");
    write_file(&src.path().join("-l/-l/deep"), b"deep\n");
    let server = serve(src.path());
    let pool = anon_pool(&server, 2);
    // The login directory (an empty remote root): its entries are asked by
    // their bare names.
    let opts = SyncOptions {
        remote_root: Vec::new(),
        ..stat_options(dst.path())
    };
    let stats = sync(&pool, &opts, Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_trees_equal(src.path(), dst.path());
}

#[test]
fn a_directory_the_server_refuses_does_not_turn_stat_listings_off() {
    use ftp_mirror::walk::{list_dir, ListingMethod, ListingSupport};
    use ftp_mirror_tests::fake::{run_client, Step};
    let steps = vec![
        Step::send("220 fake\r\n"),
        Step::expect("USER"),
        Step::send("331 password\r\n"),
        Step::expect("PASS"),
        Step::send("230 in\r\n"),
        Step::expect("FEAT"),
        Step::send("211-Features:\r\n MLST type*;size*;modify*;\r\n211 End\r\n"),
        Step::expect("OPTS"),
        Step::send("200 ok\r\n"),
        Step::expect("TYPE I"),
        Step::send("200 binary\r\n"),
        // /d cannot be read: STAT, then MLSD, say 550.
        Step::expect("STAT /d"),
        Step::expect("REST "),
        Step::send("550 Permission denied.\r\n"),
        Step::RestEcho,
        Step::expect("REST 0"),
        Step::send("350 Restarting at 0.\r\n"),
        Step::expect("EPSV"),
        Step::Epsv,
        Step::expect("MLSD /d"),
        Step::Accept,
        Step::send("550 Permission denied.\r\n"),
        Step::DataClose,
        // /e is still listed with STAT.
        Step::expect("STAT /e"),
        Step::expect("REST "),
        Step::send("213-Status:\r\n-rw-r--r--   1 ftp ftp 3 Jan 01  2024 a\r\n213 End\r\n"),
        Step::RestEcho,
        Step::expect("REST 0"),
        Step::send("350 Restarting at 0.\r\n"),
        Step::expect("MLST /e/a"),
        Step::expect("REST "),
        Step::send(
            "250-Listing /e/a\r\n type=file;size=3;modify=20240101000000; /e/a\r\n250 End\r\n",
        ),
        Step::RestEcho,
        Step::expect("REST 0"),
        Step::send("350 Restarting at 0.\r\n"),
    ];
    let (methods, outcome) = run_client(steps, |server| {
        let mut c =
            ftp_proto::client::Client::connect(&server.host(), server.port(), client_config())
                .unwrap();
        c.login_anonymous().unwrap();
        let support = ListingSupport::new(ListingMode::Stat);
        let d = list_dir(&mut c, Some(b"/d"), &support, None, &|_| false).unwrap_err();
        assert_eq!(d.code(), Some(550), "{d}");
        let e = list_dir(&mut c, Some(b"/e"), &support, None, &|_| false).unwrap();
        assert_eq!(e.entries.len(), 1);
        assert!(c.is_reusable(), "{:?}", c.close_reason());
        e.method
    });
    outcome.assert_ok();
    assert_eq!(methods, ListingMethod::Stat);
}
