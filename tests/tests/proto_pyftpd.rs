//! The ftp-proto client against a real server (pyftpdlib): logins, every
//! data-connection mode, listings, transfers, file operations, IPv6.

use std::fs;
use std::io::Read;
use std::time::{Duration, UNIX_EPOCH};

use ftp_mirror_tests::has_ipv6_loopback;
use ftp_mirror_tests::pyftpd::{PyFtpd, PASSWORD, USER};
use ftp_mirror_tests::tree::{
    build_sample_tree, pseudo_random_bytes, write_file, SAMPLE_BIG_FILE, SAMPLE_SEED,
};
use ftp_proto::client::{Client, Config, DataMode, Password, Progress, Timeouts};
use ftp_proto::{EntryKind, Error};

const BIG: usize = 20 * 1024 * 1024;

fn config(mode: DataMode) -> Config {
    Config {
        timeouts: Timeouts::all(Duration::from_secs(20)),
        data_mode: mode,
        ..Config::default()
    }
}

fn connect(server: &PyFtpd, mode: DataMode) -> Client {
    Client::connect(&server.host(), server.port(), config(mode)).expect("connect")
}

fn login_user(server: &PyFtpd, mode: DataMode) -> Client {
    let mut c = connect(server, mode);
    c.login(USER, &Password::new(PASSWORD)).expect("login");
    c
}

fn login_anon(server: &PyFtpd, mode: DataMode) -> Client {
    let mut c = connect(server, mode);
    c.login_anonymous().expect("anonymous login");
    c
}

/// Every data mode, and the default mode without pipelining.
fn all_configs() -> Vec<(&'static str, Config)> {
    vec![
        ("passive (EPSV, pipelined)", config(DataMode::Passive)),
        (
            "passive (EPSV, one by one)",
            Config {
                pipeline: false,
                ..config(DataMode::Passive)
            },
        ),
        ("PASV only", config(DataMode::PassiveOnly)),
        ("active", config(DataMode::Active)),
    ]
}

fn names(entries: &[ftp_proto::Entry]) -> Vec<String> {
    let mut v: Vec<String> = entries.iter().map(|e| e.name_lossy()).collect();
    v.sort();
    v
}

fn sorted_lossy(lines: &[Vec<u8>]) -> Vec<String> {
    let mut v: Vec<String> = lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn anonymous_login_and_welcome() {
    let root = tempfile::tempdir().unwrap();
    let server = PyFtpd::builder(root.path())
        .banner("hello from the test server")
        .start();
    let mut c = connect(&server, DataMode::Passive);
    assert_eq!(c.welcome().code().get(), 220);
    assert!(
        c.welcome().text().contains("hello from the test server"),
        "{:?}",
        c.welcome()
    );
    c.login_anonymous().unwrap();
    assert_eq!(c.pwd().unwrap(), b"/");
    c.noop().unwrap();
    assert!(c.syst().unwrap().contains("UNIX"));
    assert!(c.is_reusable());
    c.quit().unwrap();
}

#[test]
fn user_login_and_features() {
    let root = tempfile::tempdir().unwrap();
    let server = PyFtpd::start(root.path());
    let mut c = login_user(&server, DataMode::Passive);
    let f = c.features().unwrap();
    for feat in ["MLST", "EPSV", "SIZE", "MDTM", "UTF8"] {
        assert!(f.has(feat), "FEAT lacks {feat}");
    }
    assert!(f.rest_stream());
    c.quit().unwrap();
}

#[test]
fn wrong_password_is_a_permanent_530() {
    let root = tempfile::tempdir().unwrap();
    let server = PyFtpd::builder(root.path()).anonymous(false).start();
    let mut c = connect(&server, DataMode::Passive);
    let err = c
        .login(USER, &Password::new("not the password"))
        .unwrap_err();
    assert_eq!(err.code(), Some(530), "{err}");
    assert!(err.is_permanent() && !err.is_transient(), "{err}");
    assert!(
        !err.to_string().contains("not the password"),
        "password leaked: {err}"
    );

    let mut c = connect(&server, DataMode::Passive);
    let err = c.login_anonymous().unwrap_err();
    assert_eq!(err.code(), Some(530), "{err}");
}

#[test]
fn too_many_connections_is_a_transient_421() {
    let root = tempfile::tempdir().unwrap();
    let server = PyFtpd::builder(root.path()).max_cons_per_ip(1).start();
    let first = login_anon(&server, DataMode::Passive);
    let err =
        Client::connect(&server.host(), server.port(), config(DataMode::Passive)).unwrap_err();
    assert!(err.is_service_closing(), "{err}");
    assert!(err.is_transient(), "{err}");
    first.quit().unwrap();
}

#[test]
fn every_data_mode_lists_and_downloads() {
    let root = tempfile::tempdir().unwrap();
    build_sample_tree(root.path(), 300_000);
    let big = pseudo_random_bytes(SAMPLE_SEED, 300_000);
    let server = PyFtpd::start(root.path());
    for (label, cfg) in all_configs() {
        let mut c = Client::connect(&server.host(), server.port(), cfg).unwrap();
        c.login_anonymous().unwrap();
        let nlst = sorted_lossy(
            &c.nlst(None)
                .unwrap_or_else(|e| panic!("{label}: NLST: {e}")),
        );
        assert!(
            nlst.contains(&"dir1".to_string()) && nlst.contains(&"readme.txt".to_string()),
            "{label}: {nlst:?}"
        );
        let list = c
            .list(Some(b"dir1"))
            .unwrap_or_else(|e| panic!("{label}: LIST: {e}"));
        assert_eq!(list.len(), 4, "{label}: {list:?}");
        let mlsd = c
            .mlsd(Some(b"dir1"))
            .unwrap_or_else(|e| panic!("{label}: MLSD: {e}"));
        assert_eq!(
            names(&mlsd),
            ["a.txt", "big.bin", "empty-too", "nested"],
            "{label}"
        );
        let mut got = Vec::new();
        let n = c
            .retr(SAMPLE_BIG_FILE, 0, &mut got, &mut |_| {})
            .unwrap_or_else(|e| panic!("{label}: RETR: {e}"));
        assert_eq!(n, big.len() as u64, "{label}");
        assert!(got == big, "{label}: downloaded bytes differ");
        // The session stays in step after every transfer.
        c.noop().unwrap();
        assert!(c.is_reusable(), "{label}: {:?}", c.close_reason());
        c.quit().unwrap();
    }
}

#[test]
fn mlsd_mlst_and_list_entries_agree_with_the_tree() {
    let root = tempfile::tempdir().unwrap();
    build_sample_tree(root.path(), 5000);
    let server = PyFtpd::start(root.path());
    let mut c = login_anon(&server, DataMode::Passive);

    let mlsd = c.mlsd(None).unwrap();
    let listed = c.list_entries(None).unwrap();
    let mut expected: Vec<String> = fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    expected.sort();
    assert_eq!(names(&mlsd), expected);
    assert_eq!(names(&listed), expected);

    for entries in [&mlsd, &listed] {
        for e in entries.iter() {
            let path = root.path().join(e.name_lossy());
            let meta = fs::metadata(&path).unwrap();
            if meta.is_dir() {
                assert_eq!(e.kind, EntryKind::Dir, "{e:?}");
            } else {
                assert_eq!(e.kind, EntryKind::File, "{e:?}");
                assert_eq!(e.size, Some(meta.len()), "{e:?}");
            }
        }
    }
    // Names are the exact UTF-8 bytes, usable to ask for the file again.
    let accented = mlsd
        .iter()
        .find(|e| e.name_lossy().starts_with("caf"))
        .unwrap();
    assert_eq!(accented.name, "caf\u{e9} \u{65e5}\u{672c}.txt".as_bytes());
    assert!(accented.modified.is_some_and(|t| t.is_exact()));
    let mut got = Vec::new();
    c.retr(&accented.name, 0, &mut got, &mut |_| {}).unwrap();
    assert_eq!(
        got,
        fs::read(root.path().join(accented.name_lossy())).unwrap()
    );

    let entry = c.mlst("dir1/a.txt").unwrap();
    assert_eq!(
        (entry.kind.clone(), entry.size),
        (EntryKind::File, Some(18))
    );
    let entry = c.mlst("dir with space").unwrap();
    assert_eq!(entry.kind, EntryKind::Dir);
    let err = c.mlst("no such file").unwrap_err();
    assert!(err.is_permanent(), "{err}");
    c.noop().unwrap();
}

#[test]
fn without_mlst_list_is_still_usable() {
    let root = tempfile::tempdir().unwrap();
    build_sample_tree(root.path(), 100);
    let server = PyFtpd::builder(root.path()).no_mlst().start();
    let mut c = login_anon(&server, DataMode::Passive);
    assert!(!c.features().unwrap().has("MLST"));
    let err = c.mlsd(None).unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert!(c.is_reusable(), "{:?}", c.close_reason());
    let entries = c.list_entries(Some(b"dir1")).unwrap();
    assert_eq!(names(&entries), ["a.txt", "big.bin", "empty-too", "nested"]);
    let big = entries.iter().find(|e| e.name == b"big.bin").unwrap();
    assert_eq!(big.size, Some(100));
    assert!(big.modified.is_some_and(|t| !t.is_exact()));
}

#[test]
fn retr_20_mib_byte_for_byte_into_vec_file_and_stream() {
    let root = tempfile::tempdir().unwrap();
    let data = pseudo_random_bytes(42, BIG);
    write_file(&root.path().join("big.bin"), &data);
    let server = PyFtpd::start(root.path());
    let mut c = login_anon(&server, DataMode::Passive);

    let mut got = Vec::new();
    let mut reports: Vec<Progress> = Vec::new();
    let n = c
        .retr("big.bin", 0, &mut got, &mut |p| reports.push(p))
        .unwrap();
    assert_eq!(n, BIG as u64);
    assert!(got == data, "RETR into a Vec differs");
    assert!(
        reports.windows(2).all(|w| w[0].bytes < w[1].bytes),
        "progress not increasing"
    );
    assert_eq!(reports.last().map(|p| p.bytes), Some(BIG as u64));

    let out_dir = tempfile::tempdir().unwrap();
    let out_path = out_dir.path().join("copy.bin");
    let mut file = fs::File::create(&out_path).unwrap();
    assert_eq!(
        c.retr("big.bin", 0, &mut file, &mut |_| {}).unwrap(),
        BIG as u64
    );
    drop(file);
    assert!(
        fs::read(&out_path).unwrap() == data,
        "RETR into a file differs"
    );

    let mut stream = c.retr_stream("big.bin", 0).unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).unwrap();
    assert_eq!(stream.bytes_read(), BIG as u64);
    let reply = stream.finish().unwrap();
    assert_eq!(reply.code().get(), 226);
    assert!(got == data, "retr_stream differs");
    c.noop().unwrap();
    assert!(c.is_reusable());
}

#[test]
fn rest_resumes_from_an_offset() {
    let root = tempfile::tempdir().unwrap();
    let data = pseudo_random_bytes(7, 1_000_003);
    write_file(&root.path().join("f.bin"), &data);
    let server = PyFtpd::start(root.path());
    for (label, cfg) in all_configs() {
        let mut c = Client::connect(&server.host(), server.port(), cfg).unwrap();
        c.login_anonymous().unwrap();
        for offset in [1u64, 12_345, 999_999, 1_000_003] {
            let mut got = Vec::new();
            let mut last = None;
            let n = c
                .retr("f.bin", offset, &mut got, &mut |p| last = Some(p.bytes))
                .unwrap();
            assert_eq!(n, data.len() as u64 - offset, "{label} at {offset}");
            assert!(
                got == data[offset as usize..],
                "{label}: bytes after {offset} differ"
            );
            if n > 0 {
                // Progress counts from the start of the file.
                assert_eq!(last, Some(data.len() as u64), "{label}");
            }
        }
        let mut stream = c.retr_stream("f.bin", 500_000).unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        stream.finish().unwrap();
        assert!(
            got == data[500_000..],
            "{label}: stream from 500000 differs"
        );
        c.noop().unwrap();
    }
}

#[test]
fn size_and_mdtm() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("dated.bin");
    write_file(&path, &[7u8; 4321]);
    let when = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(when)
        .unwrap();
    let server = PyFtpd::start(root.path());
    let mut c = login_anon(&server, DataMode::Passive);
    assert_eq!(c.size("dated.bin").unwrap(), 4321);
    let t = c.mdtm("dated.bin").unwrap();
    assert!(t.is_exact());
    assert_eq!(t.unix_secs, 1_600_000_000);
    let err = c.size("missing").unwrap_err();
    assert!(err.is_permanent(), "{err}");
    let err = c.mdtm("missing").unwrap_err();
    assert!(err.is_permanent(), "{err}");
    c.noop().unwrap();
}

#[test]
fn stor_appe_rename_dele_mkd_rmd_cwd() {
    let root = tempfile::tempdir().unwrap();
    let server = PyFtpd::builder(root.path()).writable().start();
    for (i, (label, cfg)) in all_configs().into_iter().enumerate() {
        let mut c = Client::connect(&server.host(), server.port(), cfg).unwrap();
        c.login(USER, &Password::new(PASSWORD)).unwrap();
        let dir = format!("up {i}");
        let made = c.mkd(&dir).unwrap();
        assert!(
            made.ends_with(dir.as_bytes()),
            "{label}: {:?}",
            String::from_utf8_lossy(&made)
        );
        c.cwd(&dir).unwrap();
        assert_eq!(c.pwd().unwrap(), format!("/{dir}").as_bytes());

        let body = pseudo_random_bytes(i as u64, 700_000);
        let mut sent_reports = 0;
        let n = c
            .stor("file.bin", &mut &body[..], &mut |_| sent_reports += 1)
            .unwrap();
        assert_eq!(n, body.len() as u64, "{label}");
        assert!(sent_reports > 0);
        let on_disk = root.path().join(&dir).join("file.bin");
        assert!(
            fs::read(&on_disk).unwrap() == body,
            "{label}: STOR content differs"
        );

        let tail = b"appended tail";
        c.appe("file.bin", &mut &tail[..], &mut |_| {}).unwrap();
        let mut expected = body.clone();
        expected.extend_from_slice(tail);
        assert!(
            fs::read(&on_disk).unwrap() == expected,
            "{label}: APPE content differs"
        );
        assert_eq!(c.size("file.bin").unwrap(), expected.len() as u64);

        c.rename("file.bin", "renamed.bin").unwrap();
        assert!(!on_disk.exists() && root.path().join(&dir).join("renamed.bin").exists());
        let err = c.rename("no such", "x").unwrap_err();
        assert!(err.is_permanent(), "{label}: {err}");

        c.mkd("sub").unwrap();
        c.cwd("sub").unwrap();
        c.cdup().unwrap();
        assert_eq!(c.pwd().unwrap(), format!("/{dir}").as_bytes());
        c.rmd("sub").unwrap();
        c.dele("renamed.bin").unwrap();
        let err = c.dele("renamed.bin").unwrap_err();
        assert!(err.is_permanent(), "{label}: {err}");
        c.cdup().unwrap();
        c.rmd(&dir).unwrap();
        assert!(!root.path().join(&dir).exists(), "{label}");
        let err = c.cwd(&dir).unwrap_err();
        assert!(err.is_permanent(), "{label}: {err}");
        assert!(c.is_reusable(), "{label}: {:?}", c.close_reason());
        c.quit().unwrap();
    }
}

#[test]
fn writes_without_permission_are_refused_and_the_session_goes_on() {
    let root = tempfile::tempdir().unwrap();
    write_file(&root.path().join("keep.txt"), b"keep");
    let server = PyFtpd::start(root.path());
    let mut c = login_anon(&server, DataMode::Passive);
    let err = c
        .stor("new.txt", &mut &b"data"[..], &mut |_| {})
        .unwrap_err();
    assert!(err.is_permanent(), "{err}");
    let err = c.dele("keep.txt").unwrap_err();
    assert!(err.is_permanent(), "{err}");
    let err = c.mkd("d").unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert!(!root.path().join("new.txt").exists());
    assert!(root.path().join("keep.txt").exists());
    let mut got = Vec::new();
    c.retr("keep.txt", 0, &mut got, &mut |_| {}).unwrap();
    assert_eq!(got, b"keep");
}

#[test]
fn a_missing_file_is_a_550_and_the_session_stays_usable() {
    let root = tempfile::tempdir().unwrap();
    write_file(&root.path().join("here.txt"), b"present");
    let server = PyFtpd::start(root.path());
    for (label, cfg) in all_configs() {
        let mut c = Client::connect(&server.host(), server.port(), cfg).unwrap();
        c.login_anonymous().unwrap();
        for _ in 0..2 {
            let mut sink = Vec::new();
            let err = c
                .retr("missing.txt", 0, &mut sink, &mut |_| {})
                .unwrap_err();
            assert_eq!(err.code(), Some(550), "{label}: {err}");
            assert!(err.is_permanent(), "{label}: {err}");
            assert!(sink.is_empty());
            assert!(c.is_reusable(), "{label}: {:?}", c.close_reason());
            let mut got = Vec::new();
            c.retr("here.txt", 0, &mut got, &mut |_| {})
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            assert_eq!(got, b"present", "{label}");
        }
        match c.retr_stream("missing.txt", 0) {
            Err(err) => assert_eq!(err.code(), Some(550), "{label}: {err}"),
            Ok(_) => panic!("{label}: retr_stream of a missing file succeeded"),
        }
        let err = c.list(Some(b"missing-dir")).unwrap_err();
        assert!(err.is_permanent(), "{label}: {err}");
        c.noop().unwrap();
        assert!(c.is_reusable(), "{label}: {:?}", c.close_reason());
    }
}

#[test]
fn dropping_a_stream_early_aborts_and_marks_the_session() {
    let root = tempfile::tempdir().unwrap();
    write_file(
        &root.path().join("big.bin"),
        &pseudo_random_bytes(3, 8 * 1024 * 1024),
    );
    let server = PyFtpd::start(root.path());
    let mut c = login_anon(&server, DataMode::Passive);
    {
        let mut stream = c.retr_stream("big.bin", 0).unwrap();
        let mut buf = [0u8; 1000];
        stream.read_exact(&mut buf).unwrap();
        assert!(
            stream.finish().is_err(),
            "finishing with unread data must not look like success"
        );
    }
    assert!(!c.is_reusable());
}

#[test]
fn ipv6_loopback_in_every_mode_that_supports_it() {
    if !has_ipv6_loopback() {
        eprintln!("skipped: this kernel has no IPv6 loopback (binding [::1]:0 failed)");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let data = pseudo_random_bytes(6, 200_000);
    write_file(&root.path().join("six.bin"), &data);
    let server = PyFtpd::builder(root.path()).ipv6().start();
    assert_eq!(server.host(), "::1");
    for mode in [DataMode::Passive, DataMode::Active] {
        let mut c = connect(&server, mode);
        c.login_anonymous().unwrap();
        assert_eq!(names(&c.mlsd(None).unwrap()), ["six.bin"]);
        let mut got = Vec::new();
        c.retr("six.bin", 0, &mut got, &mut |_| {})
            .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert!(got == data, "{mode:?}: bytes differ");
        c.quit().unwrap();
    }
}

#[test]
fn hostile_arguments_are_refused_by_the_client() {
    let root = tempfile::tempdir().unwrap();
    write_file(&root.path().join("victim.txt"), b"do not delete");
    let server = PyFtpd::builder(root.path()).writable().start();
    let mut c = login_user(&server, DataMode::Passive);
    let bad: &[u8] = b"x\r\nDELE victim.txt";
    let mut sink = Vec::new();
    assert!(matches!(
        c.retr(bad, 0, &mut sink, &mut |_| {}),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(c.dele(bad), Err(Error::InvalidArgument { .. })));
    assert!(matches!(c.cwd(b"a\0b"), Err(Error::InvalidArgument { .. })));
    c.noop().unwrap();
    assert!(root.path().join("victim.txt").exists());
}

/// A sink that fails after `left` bytes, like a full disk.
struct FailingSink {
    left: usize,
}

impl std::io::Write for FailingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("disk full"));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_local_sink_aborts_the_transfer() {
    let root = tempfile::tempdir().unwrap();
    write_file(
        &root.path().join("big.bin"),
        &pseudo_random_bytes(4, 8 * 1024 * 1024),
    );
    let server = PyFtpd::start(root.path());
    let mut c = login_anon(&server, DataMode::Passive);
    let err = c
        .retr(
            "big.bin",
            0,
            &mut FailingSink { left: 100_000 },
            &mut |_| {},
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Io {
                phase: ftp_proto::Phase::LocalWrite,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        !err.is_transient(),
        "a local failure is not worth retrying: {err}"
    );
    assert!(!c.is_reusable());
    // A fresh session works.
    let mut c = login_anon(&server, DataMode::Passive);
    assert_eq!(c.size("big.bin").unwrap(), 8 * 1024 * 1024);
}
