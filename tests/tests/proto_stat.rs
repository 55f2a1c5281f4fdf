//! Listings over the control connection (`STAT <dir>`, pipelined `MLST`):
//! against pyftpdlib they give what MLSD gives; against scripted fakes,
//! replies knocked out of step by a hostile name are caught.

use std::time::Duration;

use ftp_mirror_tests::fake::{run_client, FakeServer, Step};
use ftp_mirror_tests::pyftpd::PyFtpd;
use ftp_mirror_tests::tree::{build_sample_tree, write_file};
use ftp_proto::client::{Client, Config, Timeouts};
use ftp_proto::{EntryKind, Error, MLST_BATCH};

fn config() -> Config {
    Config {
        timeouts: Timeouts::all(Duration::from_secs(10)),
        ..Config::default()
    }
}

fn connect(server: &FakeServer) -> Client {
    Client::connect(&server.host(), server.port(), config()).expect("connect")
}

fn sorted_names(entries: &[ftp_proto::Entry]) -> Vec<String> {
    let mut names: Vec<String> = entries.iter().map(|e| e.name_lossy()).collect();
    names.sort();
    names
}

#[test]
fn stat_and_mlst_give_what_mlsd_gives_on_pyftpdlib() {
    let root = tempfile::tempdir().unwrap();
    build_sample_tree(root.path(), 100_000);
    write_file(&root.path().join("dir1/.hidden"), b"dot file\n");
    write_file(&root.path().join("dir1/with space.txt"), b"spaced\n");
    let server = PyFtpd::start(root.path());
    let mut c = Client::connect(&server.host(), server.port(), config()).unwrap();
    c.login_anonymous().unwrap();

    for dir in [&b"."[..], b"dir1", b"/dir1/"] {
        let stat = c.stat_list(dir).unwrap();
        let mlsd = c.mlsd(Some(dir)).unwrap();
        assert_eq!(sorted_names(&stat), sorted_names(&mlsd), "{dir:?}");
        for e in &stat {
            let m = mlsd.iter().find(|m| m.name == e.name).unwrap();
            assert_eq!(e.is_dir(), m.is_dir(), "{}", e.name_lossy());
            if e.is_file() {
                assert_eq!(e.size, m.size, "{}", e.name_lossy());
            }
        }
    }

    // MLST gives MLSD's exact facts, one reply per path, in order; a
    // missing path is that item's 550 and the session goes on.
    let mlsd = c.mlsd(Some(b"dir1")).unwrap();
    let mut paths: Vec<Vec<u8>> = mlsd
        .iter()
        .map(|e| [&b"dir1/"[..], &e.name].concat())
        .collect();
    paths.insert(1, b"dir1/no such file".to_vec());
    let facts = c.mlst_many(&paths).unwrap();
    assert_eq!(facts.len(), paths.len());
    assert_eq!(facts[1].as_ref().unwrap_err().code(), Some(550));
    for (entry, fact) in mlsd.iter().zip(facts.iter().filter(|f| f.is_ok())) {
        let fact = fact.as_ref().unwrap();
        assert!(fact.name.ends_with(&entry.name), "{}", fact.name_lossy());
        assert_eq!(fact.size, entry.size);
        assert_eq!(fact.modified, entry.modified);
        assert_eq!(fact.kind, entry.kind);
    }
    assert!(c.is_reusable(), "{:?}", c.close_reason());

    // More paths than one batch: several writes, still in order.
    let many: Vec<Vec<u8>> = (0..MLST_BATCH * 2 + 3)
        .map(|i| paths[i % paths.len()].clone())
        .collect();
    let facts = c.mlst_many(&many).unwrap();
    assert_eq!(facts.len(), many.len());
    for (p, f) in many.iter().zip(&facts) {
        match f {
            Ok(e) => assert!(p.ends_with(e.name.rsplit(|&b| b == b'/').next().unwrap())),
            Err(e) => assert_eq!(e.code(), Some(550)),
        }
    }

    // A missing directory is a 550 refusal; the session stays usable.
    let err = c.stat_list("no/such/dir").unwrap_err();
    assert_eq!(err.code(), Some(550), "{err}");
    c.noop().unwrap();
    assert!(c.is_reusable(), "{:?}", c.close_reason());
}

#[test]
fn one_batch_mixes_mlst_and_stat() {
    let root = tempfile::tempdir().unwrap();
    build_sample_tree(root.path(), 1000);
    let server = PyFtpd::start(root.path());
    let mut c = Client::connect(&server.host(), server.port(), config()).unwrap();
    c.login_anonymous().unwrap();
    let top = c.stat_list(".").unwrap();
    let paths: Vec<Vec<u8>> = top.iter().map(|e| e.name.clone()).collect();
    let dirs: Vec<Vec<u8>> = top
        .iter()
        .filter(|e| e.is_dir())
        .map(|e| e.name.clone())
        .chain([b"missing".to_vec()])
        .collect();
    assert!(dirs.len() >= 2, "{top:?}");
    let replies = c.list_batch(&paths, &dirs).unwrap();
    assert_eq!(replies.mlst.len(), paths.len());
    assert!(replies.mlst.iter().all(|r| r.is_ok()));
    assert_eq!(replies.stat.len(), dirs.len());
    for (dir, listed) in dirs.iter().zip(&replies.stat) {
        if dir == b"missing" {
            assert_eq!(listed.as_ref().unwrap_err().code(), Some(550));
        } else {
            let mlsd = c.mlsd(Some(dir)).unwrap();
            assert_eq!(sorted_names(listed.as_ref().unwrap()), sorted_names(&mlsd));
        }
    }
    assert!(c.is_reusable(), "{:?}", c.close_reason());
}

/// What a server sends for `STAT /d` listing `lines`.
fn stat_reply(lines: &[&str]) -> String {
    let mut r = String::from("213-Status of \"/d\":\r\n");
    for l in lines {
        r.push_str(l);
        r.push_str("\r\n");
    }
    r.push_str("213 End of status.\r\n");
    r
}

const A: &str = "-rw-r--r--   1 ftp ftp 10 Jan 01  2024 a";
const Z: &str = "-rw-r--r--   1 ftp ftp 20 Jan 01  2024 z";

#[test]
fn a_stat_reply_in_step_is_read_and_indented_lines_are_accepted() {
    let indented = format!(" {Z}");
    let steps = vec![
        Step::send("220 fake\r\n"),
        // The commands arrive before any reply: they are pipelined.
        Step::expect("STAT /d"),
        Step::expect("REST "),
        Step::send(stat_reply(&[A, "total 2", &indented])),
        Step::RestEcho,
        Step::expect("REST 0"),
        Step::send("350 Restarting at 0.\r\n"),
    ];
    let (names, outcome) = run_client(steps, |server| {
        let mut c = connect(server);
        let entries = c.stat_list("/d").unwrap();
        assert!(c.is_reusable(), "{:?}", c.close_reason());
        sorted_names(&entries)
    });
    outcome.assert_ok();
    assert_eq!(names, ["a", "z"]);
}

#[test]
fn a_name_with_crlf_that_fakes_the_end_of_the_reply_is_caught() {
    // A name (or link target) `x\r\n213 End\r\n...` ends the listing early;
    // `z` would be lost if the first part were taken as the listing. What
    // follows the fake end can also fake the sentinel's reply, but not the
    // random number it echoes.
    let x = "-rw-r--r--   1 ftp ftp 5 Jan 01  2024 x\r\n213 End";
    let shapes = [
        // The rest of the listing becomes a reply of its own.
        format!("{x}\r\n213-more"),
        // A forged sentinel reply, then the rest swallowed.
        format!("{x}\r\n350 Restarting at 123456789012345.\r\n213-more"),
        // A forged `200` (the NOOP sentinel this replaced), then the rest.
        format!("{x}\r\n200 ok\r\n213-more"),
        // A `350-` opener swallowing everything up to the real echo: a
        // multi-line 350 is not the sentinel's reply.
        format!("{x}\r\n350-more"),
    ];
    for hostile in shapes {
        let steps = vec![
            Step::send("220 fake\r\n"),
            Step::expect("STAT /d"),
            Step::expect("REST "),
            Step::send(stat_reply(&[A, &hostile, Z])),
            Step::RestEcho,
            Step::expect("REST 0"),
            Step::send("350 Restarting at 0.\r\n"),
        ];
        let (err, _) = run_client(steps, |server| {
            let mut c = connect(server);
            let err = c.stat_list("/d").unwrap_err();
            assert!(
                !c.is_reusable(),
                "an out-of-step session must not be reused"
            );
            err
        });
        assert!(
            matches!(
                err,
                Error::BadReply {
                    command: "REST",
                    ..
                }
            ),
            "{hostile:?}: {err:?}"
        );
    }
}

#[test]
fn a_server_that_does_not_echo_the_offset_cannot_list_this_way() {
    let steps = vec![
        Step::send("220 fake\r\n"),
        Step::expect("STAT /d"),
        Step::expect("REST "),
        Step::send(stat_reply(&[A, Z])),
        Step::send("350 Restart position accepted.\r\n"),
        Step::expect("REST 0"),
        Step::send("350 Restart position accepted.\r\n"),
    ];
    let (err, _) = run_client(steps, |server| connect(server).stat_list("/d").unwrap_err());
    assert!(
        matches!(
            err,
            Error::BadReply {
                command: "REST",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn stat_without_a_listing_or_with_garbage_is_an_error_not_a_guess() {
    // A server that ignores the path and sends its status.
    let steps = vec![
        Step::send("220 fake\r\n"),
        Step::expect("STAT /d"),
        Step::expect("REST "),
        Step::send("211 FTP server status: all fine\r\n"),
        Step::RestEcho,
        Step::expect("REST 0"),
        Step::send("350 Restarting at 0.\r\n"),
        Step::expect("STAT /d"),
        Step::expect("REST "),
        Step::send(stat_reply(&[A, "this is not a listing line", Z])),
        Step::RestEcho,
        Step::expect("REST 0"),
        Step::send("350 Restarting at 0.\r\n"),
        Step::expect("STAT /d"),
        Step::expect("REST "),
        Step::send("502 STAT with a path is not supported\r\n"),
        Step::RestEcho,
        Step::expect("REST 0"),
        Step::send("350 Restarting at 0.\r\n"),
    ];
    let (errs, outcome) = run_client(steps, |server| {
        let mut c = connect(server);
        let errs: Vec<Error> = (0..3).map(|_| c.stat_list("/d").unwrap_err()).collect();
        assert!(c.is_reusable(), "{:?}", c.close_reason());
        errs
    });
    outcome.assert_ok();
    assert!(
        matches!(
            errs[0],
            Error::BadReply {
                command: "STAT",
                ..
            }
        ),
        "{:?}",
        errs[0]
    );
    assert!(
        matches!(
            errs[1],
            Error::BadReply {
                command: "STAT",
                ..
            }
        ),
        "{:?}",
        errs[1]
    );
    assert_eq!(errs[2].code(), Some(502));
}

#[test]
fn an_mlst_reply_for_another_path_breaks_the_session() {
    let steps = vec![
        Step::send("220 fake\r\n"),
        Step::expect("MLST d/a"),
        Step::expect("MLST d/b"),
        Step::expect("REST "),
        Step::send(
            "250-Listing d/a\r\n type=file;size=1;modify=20240101000000; d/a\r\n250 End\r\n",
        ),
        Step::send(
            "250-Listing d/c\r\n type=file;size=1;modify=20240101000000; d/c\r\n250 End\r\n",
        ),
        Step::RestEcho,
    ];
    let (err, _) = run_client(steps, |server| {
        let mut c = connect(server);
        let err = c
            .mlst_many(&[b"d/a".to_vec(), b"d/b".to_vec()])
            .unwrap_err();
        assert!(!c.is_reusable());
        err
    });
    assert!(err.to_string().contains("out of step"), "{err}");
}

#[test]
fn stat_entries_keep_their_kinds() {
    let steps = vec![
        Step::send("220 fake\r\n"),
        Step::expect("STAT /d"),
        Step::expect("REST "),
        Step::send(stat_reply(&[
            "drwxr-xr-x   2 ftp ftp 4096 Jan 01  2024 sub",
            "lrwxrwxrwx   1 ftp ftp    1 Jan 01  2024 link -> a",
            A,
        ])),
        Step::RestEcho,
        Step::expect("REST 0"),
        Step::send("350 Restarting at 0.\r\n"),
    ];
    let (entries, outcome) = run_client(steps, |server| connect(server).stat_list("/d").unwrap());
    outcome.assert_ok();
    let kind = |n: &str| {
        entries
            .iter()
            .find(|e| e.name == n.as_bytes())
            .unwrap()
            .kind
            .clone()
    };
    assert_eq!(kind("sub"), EntryKind::Dir);
    assert_eq!(kind("a"), EntryKind::File);
    assert!(matches!(kind("link"), EntryKind::Symlink { .. }));
}

#[test]
fn ftp_serve_answers_stat_with_a_listing_and_leaves_out_crlf_names() {
    let root = tempfile::tempdir().unwrap();
    build_sample_tree(root.path(), 1000);
    write_file(&root.path().join("dir1/a\r\n213 End"), b"hostile\n");
    let server = ftp_serve::Server::bind(ftp_serve::ServerConfig {
        root: root.path().to_path_buf(),
        ..ftp_serve::ServerConfig::default()
    })
    .and_then(|s| s.spawn())
    .unwrap();
    let addr = server.local_addr();
    let mut c = Client::connect(&addr.ip().to_string(), addr.port(), config()).unwrap();
    c.login_anonymous().unwrap();
    for dir in [&b"."[..], b"dir1", b"/"] {
        let stat = c.stat_list(dir).unwrap();
        let mut mlsd = c.mlsd(Some(dir)).unwrap();
        mlsd.retain(|e| !e.name.contains(&b'\n'));
        assert_eq!(sorted_names(&stat), sorted_names(&mlsd), "{dir:?}");
    }
    let err = c.stat_list("missing").unwrap_err();
    assert_eq!(err.code(), Some(550));
    assert!(c.is_reusable(), "{:?}", c.close_reason());
}
