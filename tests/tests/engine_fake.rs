//! The mirror engine against scripted fake servers: hostile listings and
//! exact command sequences (no per-file CWD, SIZE or MDTM when the listing
//! gave the facts).

mod engine_util;

use std::fs;
use std::sync::Arc;

use engine_util::*;
use ftp_mirror::events::Event;
use ftp_mirror_tests::fake::{FakeServer, Outcome, Step};

/// Greeting and login of a server whose FEAT offers `features`.
fn login(features: &str) -> Vec<Step> {
    vec![
        Step::send("220 fake ready\r\n"),
        Step::expect("USER anonymous"),
        Step::send("331 send a password\r\n"),
        Step::expect("PASS"),
        Step::send("230 in\r\n"),
        Step::expect("FEAT"),
        Step::send(format!("211-Features:\r\n{features}211 End\r\n")),
        // Pipelined login: OPTS goes whether or not FEAT lists UTF8.
        Step::expect("OPTS UTF8 ON"),
        Step::send("200 UTF8 on\r\n"),
        Step::expect("TYPE I"),
        Step::send("200 binary\r\n"),
    ]
}

/// A listing command answered with `data`.
fn listing(command: &str, data: &[u8]) -> Vec<Step> {
    vec![
        Step::expect("EPSV"),
        Step::Epsv,
        Step::expect(command),
        Step::send("150 here it comes\r\n"),
        Step::data(data),
        Step::DataClose,
        Step::send("226 listing sent\r\n"),
    ]
}

/// A RETR of `path` answered with `data`.
fn retr(path: &str, data: &[u8]) -> Vec<Step> {
    vec![
        Step::expect("EPSV"),
        Step::Epsv,
        Step::expect(&format!("RETR {path}")),
        Step::send("150 sending\r\n"),
        Step::data(data),
        Step::DataClose,
        Step::send("226 sent\r\n"),
    ]
}

/// Mirrors the fake server's `/` into `dest` with one session and one
/// worker, so the order of commands is fixed; returns the stats, events and
/// what the server saw.
fn mirror(
    script: Vec<Vec<Step>>,
    dest: &std::path::Path,
) -> (ftp_mirror::sync::SyncStats, Arc<Recorder>, Outcome) {
    let mut steps: Vec<Step> = script.into_iter().flatten().collect();
    steps.extend([Step::expect("QUIT"), Step::send("221 bye\r\n")]);
    let server = FakeServer::start(steps);
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 1);
    let rec = Arc::new(Recorder::default());
    let opts = ftp_mirror::sync::SyncOptions {
        workers: 1,
        ..options(dest)
    };
    let stats = sync(&pool, &opts, rec.clone()).expect("sync");
    // Dropping the pool closes its idle session with QUIT.
    drop(pool);
    (stats, rec, server.finish())
}

const MLST: &str = " MLST type*;size*;modify*;\r\n REST STREAM\r\n";

#[test]
fn hostile_names_in_mlsd_are_refused_and_never_written() {
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("dest");
    let data: &[u8] = b"type=file;size=3;modify=20200101000000; ../escape\r\n\
        type=file;size=3;modify=20200101000000; /etc/passwd\r\n\
        type=dir;modify=20200101000000; sub/dir\r\n\
        type=file;size=3;modify=20200101000000; evil\rDELE x\r\n\
        type=file;size=3;modify=20200101000000; nul\0byte\r\n\
        type=dir;modify=20200101000000; ..\r\n\
        type=OS.unix=slink:/etc; link-out\r\n\
        type=file;size=3;modify=20200101000000; ok.txt\r\n";
    let (stats, rec, outcome) = mirror(
        vec![
            login(MLST),
            listing("MLSD /", data),
            retr("/ok.txt", b"abc"),
        ],
        &dest,
    );
    outcome.assert_ok();
    assert_eq!(stats.files_fetched, 1);
    let mut refused: Vec<&str> = stats.failures.iter().map(|(p, _)| p.as_str()).collect();
    refused.sort();
    assert_eq!(
        refused,
        vec![
            "../escape",
            "/etc/passwd",
            "evil\rDELE x",
            "nul\0byte",
            "sub/dir"
        ],
        "{:?}",
        stats.failures
    );
    assert!(stats.failures.iter().all(|(_, e)| e.contains("refused")));
    // Only the good file, nothing beside or above dest.
    let names: Vec<_> = fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("ok.txt")]);
    let around: Vec<_> = fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(around, vec![std::ffi::OsString::from("dest")]);
    assert_eq!(fs::read(dest.join("ok.txt")).unwrap(), b"abc");
    // The link was skipped with a warning.
    assert_eq!(
        rec.count(|e| matches!(e, Event::Warning { message } if message.contains("link-out"))),
        1
    );
    // No command carried a hostile name to the server.
    for c in outcome.all_commands() {
        assert!(
            !c.contains("escape") && !c.contains("passwd") && !c.contains("DELE"),
            "{c}"
        );
    }
}

#[test]
fn mlsd_links_are_made_only_with_a_known_target() {
    // `OS.unix=slink` without a target: nothing to make, skipped with a
    // warning; with a relative target inside the mirror: made.
    let dest = tempfile::tempdir().unwrap();
    let data: &[u8] = b"type=OS.unix=slink; unknown\r\n\
        type=OS.unix=slink:v1; latest\r\n\
        type=dir;modify=20200101000000; v1\r\n";
    let (stats, rec, outcome) = mirror(
        vec![
            login(MLST),
            listing("MLSD /", data),
            listing("MLSD /v1", b""),
        ],
        dest.path(),
    );
    outcome.assert_ok();
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.links, 1);
    assert_eq!(
        fs::read_link(dest.path().join("latest")).unwrap(),
        std::path::Path::new("v1")
    );
    assert!(fs::symlink_metadata(dest.path().join("unknown")).is_err());
    assert_eq!(
        rec.count(|e| matches!(e, Event::Warning { message }
            if message.contains("unknown") && message.contains("does not give its target"))),
        1
    );
}

#[test]
fn hostile_names_in_list_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("dest");
    let data: &[u8] = b"-rw-r--r--   1 ftp ftp 3 Jan 01  2020 ../../outside\r\n\
        drwxr-xr-x   2 ftp ftp 0 Jan 01  2020 a/b\r\n\
        -rw-r--r--   1 ftp ftp 3 Jan 01  2020 fine name.txt\r\n";
    let (stats, _rec, outcome) = mirror(
        vec![
            login(" REST STREAM\r\n"),
            listing("LIST /", data),
            retr("/fine name.txt", b"xyz"),
        ],
        &dest,
    );
    outcome.assert_ok();
    let refused: Vec<&str> = stats.failures.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        refused,
        vec!["../../outside", "a/b"],
        "{:?}",
        stats.failures
    );
    assert_eq!(fs::read(dest.join("fine name.txt")).unwrap(), b"xyz");
    assert!(!work.path().join("outside").exists());
}

#[test]
fn a_walk_uses_one_command_per_directory_and_per_file() {
    // MLSD gave sizes and times: no CWD, SIZE or MDTM is sent; sub-
    // directories are listed by full path.
    let dest = tempfile::tempdir().unwrap();
    let root: &[u8] = b"type=dir;modify=20200101000000; sub\r\n\
        type=file;size=2;modify=20200101000000; a\r\n";
    let sub: &[u8] = b"type=file;size=1;modify=20200101000000; b\r\n";
    let (stats, _rec, outcome) = mirror(
        vec![
            login(MLST),
            listing("MLSD /", root),
            listing("MLSD /sub", sub),
            retr("/a", b"aa"),
            retr("/sub/b", b"b"),
        ],
        dest.path(),
    );
    outcome.assert_ok();
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched, 2);
    let commands = outcome.all_commands();
    for verb in ["CWD", "SIZE", "MDTM"] {
        assert!(
            !commands.iter().any(|c| c.starts_with(verb)),
            "{commands:?}"
        );
    }
    assert_eq!(mtime_secs(&dest.path().join("sub/b")), 1_577_836_800);
}

#[test]
fn missing_times_are_asked_with_mdtm_only_for_local_candidates() {
    // The LIST line of `same` has no usable time here (a DOS line with a
    // date is approximate, so use MLSD without `modify`): a local file of
    // the same size exists, so MDTM is asked; it matches and nothing is
    // fetched. `fresh` has no local candidate: fetched without MDTM.
    let dest = tempfile::tempdir().unwrap();
    fs::write(dest.path().join("same"), b"1234").unwrap();
    set_mtime(&dest.path().join("same"), 1_577_836_800);
    let data: &[u8] = b"type=file;size=4; same\r\ntype=file;size=2; fresh\r\n";
    let (stats, rec, outcome) = mirror(
        vec![
            login(MLST),
            listing("MLSD /", data),
            vec![
                Step::expect("MDTM /same"),
                Step::send("213 20200101000000\r\n"),
            ],
            retr("/fresh", b"hi"),
        ],
        dest.path(),
    );
    outcome.assert_ok();
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_unchanged, 1);
    assert_eq!(rec.done(), vec!["fresh"]);
    assert!(!outcome
        .all_commands()
        .iter()
        .any(|c| c.starts_with("MDTM /fresh")));
}

#[test]
fn a_refused_restart_fetches_from_the_start() {
    let dest = tempfile::tempdir().unwrap();
    let part = dest.path().join(".f.part");
    fs::write(&part, b"ab").unwrap();
    let listed = ftp_proto::FileTime {
        unix_secs: 1_577_836_800, // 2020-01-01 00:00:00 UTC
        nanos: 0,
        accuracy: ftp_proto::TimeAccuracy::Exact,
    };
    ftp_mirror::fetch::PartOrigin::new(b"/f", Some(4), Some(&listed))
        .write(&part)
        .unwrap();
    let data: &[u8] = b"type=file;size=4;modify=20200101000000; f\r\n";
    let (stats, _rec, outcome) = mirror(
        vec![
            login(MLST),
            listing("MLSD /", data),
            vec![
                Step::expect("REST 2"),
                Step::send("502 no restarts here\r\n"),
            ],
            retr("/f", b"abcd"),
        ],
        dest.path(),
    );
    outcome.assert_ok();
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.retries, 0, "not a failed attempt");
    assert_eq!(fs::read(dest.path().join("f")).unwrap(), b"abcd");
    assert!(!dest.path().join(".f.part").exists());
}

#[test]
fn a_transient_refusal_is_retried_on_the_same_session() {
    let dest = tempfile::tempdir().unwrap();
    let data: &[u8] = b"type=file;size=3;modify=20200101000000; f\r\n";
    let busy = vec![
        Step::expect("EPSV"),
        Step::Epsv,
        Step::expect("RETR /f"),
        // Accept first: the client connects before it reads the 450.
        Step::Accept,
        Step::send("450 file busy, try later\r\n"),
        Step::DataClose,
    ];
    let (stats, rec, outcome) = mirror(
        vec![
            login(MLST),
            listing("MLSD /", data),
            busy,
            retr("/f", b"xyz"),
        ],
        dest.path(),
    );
    outcome.assert_ok();
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.retries, 1);
    let retries: Vec<_> = rec
        .all()
        .into_iter()
        .filter_map(|e| match e {
            Event::Retry { attempt, error, .. } => Some((attempt, error)),
            _ => None,
        })
        .collect();
    assert_eq!(retries.len(), 1);
    assert_eq!(retries[0].0, 1);
    assert!(retries[0].1.contains("450"), "{}", retries[0].1);
    assert_eq!(fs::read(dest.path().join("f")).unwrap(), b"xyz");
}

#[test]
fn a_permanent_refusal_of_a_subdirectory_is_recorded_and_the_rest_goes_on() {
    let dest = tempfile::tempdir().unwrap();
    // Local leftovers under the unlistable directory survive: its remote
    // content is unknown.
    fs::create_dir_all(dest.path().join("locked")).unwrap();
    fs::write(dest.path().join("locked/kept"), b"k").unwrap();
    let root: &[u8] = b"type=dir;modify=20200101000000; locked\r\n\
        type=file;size=1;modify=20200101000000; a\r\n";
    let refused = vec![
        Step::expect("EPSV"),
        Step::Epsv,
        Step::expect("MLSD /locked"),
        Step::Accept,
        Step::send("550 permission denied\r\n"),
        Step::DataClose,
    ];
    let (stats, _rec, outcome) = mirror(
        vec![
            login(MLST),
            listing("MLSD /", root),
            refused,
            retr("/a", b"1"),
        ],
        dest.path(),
    );
    outcome.assert_ok();
    assert_eq!(stats.failures.len(), 1, "{:?}", stats.failures);
    assert_eq!(stats.failures[0].0, "locked");
    assert!(stats.failures[0].1.contains("550"));
    assert_eq!(stats.retries, 0);
    assert_eq!(fs::read(dest.path().join("a")).unwrap(), b"1");
    assert!(dest.path().join("locked/kept").exists());
}

#[test]
fn a_name_listed_twice_is_used_once() {
    let dest = tempfile::tempdir().unwrap();
    let data: &[u8] = b"type=file;size=1;modify=20200101000000; x\r\n\
        type=dir;modify=20200101000000; x\r\n";
    let (stats, _rec, outcome) = mirror(
        vec![
            login(MLST),
            listing("MLSD /", data),
            listing("MLSD /x", b""),
        ],
        dest.path(),
    );
    outcome.assert_ok();
    assert_eq!(stats.failures.len(), 1, "{:?}", stats.failures);
    assert_eq!(stats.failures[0].0, "x");
    assert!(stats.failures[0].1.contains("more than once"));
    assert!(dest.path().join("x").is_dir(), "the directory entry wins");
    assert_eq!(stats.files_fetched, 0);
}

#[test]
fn a_listing_without_sizes_asks_size_and_copes_without_it() {
    let dest = tempfile::tempdir().unwrap();
    let data: &[u8] = b"type=file;modify=20200101000000; known\r\n\
        type=file;modify=20200101000000; unknown\r\n";
    let (stats, _rec, outcome) = mirror(
        vec![
            login(MLST),
            listing("MLSD /", data),
            vec![Step::expect("SIZE /known"), Step::send("213 4\r\n")],
            retr("/known", b"four"),
            vec![
                Step::expect("SIZE /unknown"),
                Step::send("502 no SIZE here\r\n"),
            ],
            retr("/unknown", b"whatever"),
        ],
        dest.path(),
    );
    outcome.assert_ok();
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched, 2);
    assert_eq!(stats.bytes_total, 4, "only the size that was learnt");
    assert_eq!(fs::read(dest.path().join("known")).unwrap(), b"four");
    assert_eq!(fs::read(dest.path().join("unknown")).unwrap(), b"whatever");
    assert_eq!(mtime_secs(&dest.path().join("unknown")), 1_577_836_800);
}

#[test]
fn mlsd_refused_once_means_list_for_the_rest_of_the_walk() {
    let dest = tempfile::tempdir().unwrap();
    let refused = vec![
        Step::expect("EPSV"),
        Step::Epsv,
        Step::expect("MLSD /"),
        Step::Accept,
        Step::send("502 MLSD not implemented\r\n"),
        Step::DataClose,
    ];
    let root: &[u8] = b"drwxr-xr-x   2 ftp ftp 0 Jan 01  2020 sub\r\n\
        -rw-r--r--   1 ftp ftp 2 Jan 01  2020 top\r\n";
    let sub: &[u8] = b"-rw-r--r--   1 ftp ftp 1 Jan 01  2020 low\r\n";
    let (stats, _rec, outcome) = mirror(
        vec![
            login(MLST),
            refused,
            listing("LIST /", root),
            listing("LIST /sub", sub),
            retr("/top", b"tt"),
            retr("/sub/low", b"l"),
        ],
        dest.path(),
    );
    outcome.assert_ok();
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched, 2);
    assert_eq!(fs::read(dest.path().join("sub/low")).unwrap(), b"l");
}
