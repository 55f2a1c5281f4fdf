//! ftp-serve's limits and refusals: over-long command lines, the session
//! cap, idle timeouts, logins, write commands, ABOR during a transfer, a
//! slow client next to fast ones, and shutdown with sessions open.

mod serve_util;

use std::fs;
use std::io::Read;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use ftp_mirror_tests::within;
use ftp_proto::client::{Client, Config, DataMode, Password, Timeouts};
use serve_util::{serve, Raw};

const LIMIT: Duration = Duration::from_secs(60);

fn small_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join("sub")).expect("mkdir");
    fs::write(dir.path().join("sub/file.txt"), b"content\n").expect("write");
    fs::write(dir.path().join("a.txt"), b"0123456789").expect("write");
    dir
}

#[test]
fn an_over_long_command_line_gets_500_and_the_session_goes_on() {
    let dir = small_tree();
    let server = serve(dir.path(), |c| c.max_command_len = 100);
    let addr = server.local_addr();
    within(LIMIT, "long line", move || {
        let mut raw = Raw::login(addr);
        raw.expect(format!("RETR {}", "x".repeat(95)), 550); // 100 bytes: read
        raw.expect(format!("RETR {}", "x".repeat(96)), 500);
        raw.expect(format!("NOOP {}", "y".repeat(1_000_000)), 500);
        raw.expect("NOOP", 200);
        raw.expect("SIZE a.txt", 213);
    });
}

#[test]
fn past_the_session_cap_a_connection_gets_421() {
    let dir = small_tree();
    let server = serve(dir.path(), |c| c.max_sessions = 2);
    let addr = server.local_addr();
    within(LIMIT, "session cap", move || {
        let first = Raw::login(addr);
        let mut second = Raw::login(addr);
        let (mut third, greeting) = Raw::connect(addr);
        assert_eq!(greeting.code().get(), 421, "{greeting:?}");
        assert!(third.is_closed());
        // The sessions inside the cap are unaffected.
        second.expect("NOOP", 200);
        // A closed session frees its slot (asynchronously: retry a while).
        drop(first);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (mut raw, greeting) = Raw::connect(addr);
            if greeting.code().get() == 220 {
                raw.expect("USER anonymous", 331);
                break;
            }
            assert!(Instant::now() < deadline, "slot never freed: {greeting:?}");
            thread::sleep(Duration::from_millis(20));
        }
    });
}

#[test]
fn an_idle_session_gets_421_and_is_closed() {
    let dir = small_tree();
    let server = serve(dir.path(), |c| c.idle_timeout = Duration::from_millis(300));
    let addr = server.local_addr();
    within(LIMIT, "idle timeout", move || {
        let mut raw = Raw::login(addr);
        let started = Instant::now();
        // A partial line does not count as activity.
        raw.send_raw(b"NOO");
        let reply = raw.reply();
        assert_eq!(reply.code().get(), 421, "{reply:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(raw.is_closed());
    });
}

#[test]
fn with_credentials_only_the_right_password_logs_in() {
    let dir = small_tree();
    let server = serve(dir.path(), |c| {
        c.credentials = Some(("alice".into(), Password::new("open sesame")));
    });
    let addr = server.local_addr();
    within(LIMIT, "credentials", move || {
        let (mut raw, _) = Raw::connect(addr);
        raw.expect("SIZE a.txt", 530);
        raw.expect("CWD sub", 530);
        raw.expect("PASV", 530);
        raw.expect("PASS open sesame", 503);
        raw.expect("USER alice", 331);
        raw.expect("PASS wrong", 530);
        raw.expect("SIZE a.txt", 530);
        raw.expect("USER anonymous", 331);
        raw.expect("PASS open sesame", 530);
        raw.expect("USER alice", 331);
        // The third failure closes the session.
        raw.expect("PASS open sesame ", 421);
        assert!(raw.is_closed());

        let (mut raw, _) = Raw::connect(addr);
        raw.expect("USER alice", 331);
        raw.expect("PASS open sesame", 230);
        raw.expect("SIZE a.txt", 213);

        let config = Config {
            timeouts: Timeouts::all(Duration::from_secs(10)),
            ..Config::default()
        };
        let host = addr.ip().to_string();
        let mut client = Client::connect(&host, addr.port(), config.clone()).expect("connect");
        let err = client
            .login("alice", &Password::new("nope"))
            .expect_err("wrong password");
        assert_eq!(err.code(), Some(530), "{err}");
        let mut client = Client::connect(&host, addr.port(), config).expect("connect");
        client
            .login("alice", &Password::new("open sesame"))
            .expect("login");
        assert_eq!(client.size("a.txt").expect("SIZE"), 10);
    });
}

#[test]
fn write_commands_are_refused_and_change_nothing() {
    let dir = small_tree();
    let server = serve(dir.path(), |_| {});
    let addr = server.local_addr();
    let root = dir.path().to_path_buf();
    within(LIMIT, "write commands", move || {
        let mut raw = Raw::login(addr);
        for command in [
            "STOR new.txt",
            "STOU",
            "APPE a.txt",
            "DELE a.txt",
            "RMD sub",
            "XRMD sub",
            "MKD newdir",
            "XMKD newdir",
            "RNFR a.txt",
            "RNTO b.txt",
            "SITE CHMOD 777 a.txt",
            "MFMT 20200101000000 a.txt",
        ] {
            raw.expect(command, 550);
        }
        for command in ["SITE EXEC ls", "AUTH TLS", "XYZZY", "SMNT /"] {
            raw.expect(command, 502);
        }
        raw.expect("NOOP", 200);
        let mut names: Vec<_> = fs::read_dir(&root)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["a.txt", "sub"]);
        assert_eq!(fs::read(root.join("a.txt")).expect("read"), b"0123456789");
    });
}

#[test]
fn protocol_basics() {
    let dir = small_tree();
    fs::write(dir.path().join("lines.txt"), b"a\nb\r\nc\n").expect("write");
    fs::write(dir.path().join("quote\"d"), b"q").expect("write");
    fs::create_dir(dir.path().join("say \"hi\"")).expect("mkdir");
    let latin1 = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"\xe9t\xe9.bin");
    fs::write(dir.path().join(latin1), b"latin-1 name").expect("write");
    let server = serve(dir.path(), |_| {});
    let addr = server.local_addr();
    within(LIMIT, "protocol basics", move || {
        let (mut raw, greeting) = Raw::connect(addr);
        assert_eq!(greeting.code().get(), 220);
        assert_eq!(raw.expect("SYST", 215).lines()[0], b"UNIX Type: L8");
        let feat = raw.expect("FEAT", 211);
        let features = ftp_proto::Features::from_reply(&feat);
        for name in [
            "MLST", "EPSV", "PASV", "SIZE", "MDTM", "REST", "UTF8", "TVFS",
        ] {
            assert!(features.has(name), "FEAT lacks {name}: {feat:?}");
        }
        assert!(features.rest_stream());
        raw.expect("HELP", 214);
        raw.expect("USER anonymous", 331);
        raw.expect("PASS", 230);
        raw.expect("OPTS UTF8 ON", 200);
        raw.expect("TYPE I", 200);
        raw.expect("TYPE X", 504);
        raw.expect("MODE S", 200);
        raw.expect("MODE B", 504);
        raw.expect("STRU F", 200);
        raw.expect("STRU R", 504);
        raw.expect("ALLO 100", 202);
        assert_eq!(raw.expect("SIZE a.txt", 213).lines()[0], b"10");
        raw.expect("SIZE sub", 550);
        let mdtm = raw.expect("MDTM a.txt", 213);
        let t = ftp_proto::listing::parse_time_val(&mdtm.lines()[0]).expect("time-val");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        assert!((t.unix_secs - now).abs() < 3600, "{mdtm:?}");

        // MLST of a file and of a directory.
        let mlst = raw.expect("MLST sub/file.txt", 250);
        let entry = ftp_proto::listing::parse_mlsd_line(&mlst.lines()[1]).expect("MLST entry");
        assert_eq!(
            (entry.name.as_slice(), entry.size),
            (&b"/sub/file.txt"[..], Some(8))
        );
        let mlst = raw.expect("MLST", 250);
        assert!(ftp_proto::listing::parse_mlsd_line(&mlst.lines()[1])
            .expect("entry")
            .is_dir());

        // PWD doubles quotes.
        raw.expect("CWD sub", 250);
        assert!(raw.expect("PWD", 257).lines()[0].starts_with(b"\"/sub\" "));
        raw.expect("CWD /say \"hi\"", 250);
        let pwd = raw.expect("XPWD", 257);
        assert!(
            pwd.lines()[0].starts_with(b"\"/say \"\"hi\"\"\" "),
            "{pwd:?}"
        );
        raw.expect("CWD /", 250);
        raw.expect("CWD a.txt", 550);
        raw.expect("CWD", 501);

        // LIST of a file lists that file; options are ignored.
        let (list, _) = raw.transfer("LIST -l a.txt").expect("LIST a file");
        assert!(
            list.starts_with(b"-r--r--r--"),
            "{}",
            String::from_utf8_lossy(&list)
        );
        assert!(list.ends_with(b" a.txt\r\n"));
        let (list, _) = raw.transfer("LIST -a -l sub").expect("LIST -a -l sub");
        assert!(list.ends_with(b" file.txt\r\n"));
        let (mlsd, _) = raw.transfer("MLSD sub").expect("MLSD sub");
        assert_eq!(ftp_proto::listing::parse_mlsd(&mlsd).len(), 1);
        assert_eq!(
            raw.transfer("MLSD a.txt")
                .expect_err("MLSD file")
                .code()
                .get(),
            501
        );

        // Raw-byte names: listed and fetched unchanged.
        let (names, _) = raw.transfer("NLST").expect("NLST");
        assert!(
            names
                .split(|&b| b == b'\n')
                .any(|l| l == b"\xe9t\xe9.bin\r"),
            "{names:?}"
        );
        assert!(names.split(|&b| b == b'\n').any(|l| l == b"quote\"d\r"));
        let (data, _) = raw.transfer(b"RETR \xe9t\xe9.bin").expect("RETR latin-1");
        assert_eq!(data, b"latin-1 name");
        raw.expect("CWD /sub", 250);
        raw.expect("CWD ..", 250);

        // REST, and the size in the 150 text.
        raw.expect("REST 4", 350);
        let mut data = raw.epsv();
        let first = raw.expect("RETR a.txt", 150);
        assert!(first.text().contains("(6 bytes)"), "{first:?}");
        let mut got = Vec::new();
        data.read_to_end(&mut got).expect("read");
        assert_eq!(got, b"456789");
        assert_eq!(raw.reply().code().get(), 226);
        raw.expect("REST 11", 350);
        assert_eq!(
            raw.transfer("RETR a.txt")
                .expect_err("past the end")
                .code()
                .get(),
            554
        );
        raw.expect("REST x", 501);

        // TYPE A turns bare LF into CRLF.
        raw.expect("TYPE A", 200);
        let (data, _) = raw.transfer("RETR lines.txt").expect("RETR ascii");
        assert_eq!(data, b"a\r\nb\r\nc\r\n");
        raw.expect("TYPE I", 200);
        let (data, _) = raw.transfer("RETR lines.txt").expect("RETR binary");
        assert_eq!(data, b"a\nb\r\nc\n");

        // No data setup: 425. ABOR with nothing running: 226.
        raw.expect("RETR a.txt", 425);
        raw.expect("ABOR", 226);
        raw.expect("QUIT", 221);
        assert!(raw.is_closed());
    });
}

/// Writes a large sparse file (cheap to create, slow to drain).
fn large_tree(len: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = fs::File::create(dir.path().join("huge.bin")).expect("create");
    file.set_len(len).expect("set_len");
    fs::write(dir.path().join("small.txt"), b"small").expect("write");
    dir
}

#[test]
fn abor_stops_a_transfer_with_426_then_226() {
    let dir = large_tree(1 << 30);
    let server = serve(dir.path(), |_| {});
    let addr = server.local_addr();
    within(LIMIT, "ABOR", move || {
        let mut raw = Raw::login(addr);
        let mut data = raw.epsv();
        raw.expect("RETR huge.bin", 150);
        // Read a little, then stop reading: the server blocks on a full socket.
        let mut buf = vec![0u8; 64 * 1024];
        data.read_exact(&mut buf).expect("some data");
        raw.send_raw(b"\xff\xf4\xff\xf2ABOR\r\n");
        let started = Instant::now();
        assert_eq!(raw.reply().code().get(), 426);
        assert_eq!(raw.reply().code().get(), 226);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "ABOR took {:?}",
            started.elapsed()
        );
        drop(data);
        // The session goes on.
        let (small, done) = raw.transfer("RETR small.txt").expect("RETR after ABOR");
        assert_eq!((small.as_slice(), done.code().get()), (&b"small"[..], 226));
    });
}

#[test]
fn a_client_that_closes_the_data_connection_gets_426() {
    let dir = large_tree(1 << 30);
    let server = serve(dir.path(), |_| {});
    let addr = server.local_addr();
    within(LIMIT, "closed data connection", move || {
        let mut raw = Raw::login(addr);
        let mut data = raw.epsv();
        raw.expect("RETR huge.bin", 150);
        let mut buf = vec![0u8; 4096];
        data.read_exact(&mut buf).expect("some data");
        drop(data);
        assert_eq!(raw.reply().code().get(), 426);
        raw.expect("NOOP", 200);
    });
}

fn fetch_all(addr: SocketAddr, names: &[String]) -> usize {
    let config = Config {
        timeouts: Timeouts::all(Duration::from_secs(20)),
        ..Config::default()
    };
    let mut client = Client::connect(&addr.ip().to_string(), addr.port(), config).expect("connect");
    client.login_anonymous().expect("login");
    let mut bytes = 0;
    for name in names {
        let mut sink = Vec::new();
        client.retr(name, 0, &mut sink, &mut |_| {}).expect("RETR");
        assert_eq!(sink, name.as_bytes(), "{name}");
        bytes += sink.len();
    }
    client.quit().expect("QUIT");
    bytes
}

#[test]
fn a_stalled_client_does_not_starve_sixteen_others() {
    let dir = large_tree(1 << 30);
    let names: Vec<String> = (0..200).map(|i| format!("f{i:03}.txt")).collect();
    for name in &names {
        fs::write(dir.path().join(name), name).expect("write");
    }
    let server = serve(dir.path(), |c| c.data_timeout = Duration::from_secs(30));
    let addr = server.local_addr();
    within(LIMIT, "stalled client", move || {
        // One client starts a huge download and never reads it.
        let mut stalled = Raw::login(addr);
        let _data = stalled.epsv();
        stalled.expect("RETR huge.bin", 150);

        let started = Instant::now();
        let workers: Vec<_> = (0..16)
            .map(|_| {
                let names = names.clone();
                thread::spawn(move || fetch_all(addr, &names))
            })
            .collect();
        for worker in workers {
            let bytes = worker.join().expect("worker");
            assert_eq!(bytes, 200 * 8);
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "took {:?}",
            started.elapsed()
        );
    });
}

#[test]
fn shutdown_closes_open_sessions_promptly() {
    let dir = large_tree(1 << 30);
    let server = serve(dir.path(), |_| {});
    let addr = server.local_addr();
    let mut idle = Raw::login(addr);
    let mut busy = Raw::login(addr);
    let _data = busy.epsv();
    busy.expect("RETR huge.bin", 150);
    let started = Instant::now();
    server.shutdown();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    // Both sessions end: at most a 421, then end of stream (a hang would
    // fail the read with its timeout).
    for raw in [&mut idle, &mut busy] {
        while let Some(reply) = raw.try_reply() {
            assert_eq!(reply.code().get(), 421, "{reply:?}");
        }
    }
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err());
}

#[test]
fn ipv6_loopback_serves_over_epsv_and_eprt() {
    if !ftp_mirror_tests::has_ipv6_loopback() {
        eprintln!("skipped: this kernel has no IPv6 loopback (binding [::1]:0 failed)");
        return;
    }
    let dir = small_tree();
    let server = serve(dir.path(), |c| c.listen = "[::1]:0".parse().expect("addr"));
    let addr = server.local_addr();
    within(LIMIT, "IPv6", move || {
        let mut raw = Raw::login(addr);
        raw.expect("PASV", 501);
        raw.expect("EPSV 1", 522);
        raw.expect("PORT 127,0,0,1,195,80", 501);
        let (data, _) = raw.transfer("RETR a.txt").expect("EPSV over IPv6");
        assert_eq!(data, b"0123456789");

        let listener = std::net::TcpListener::bind("[::1]:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        raw.expect(format!("EPRT |2|::1|{port}|"), 200);
        raw.expect("RETR sub/file.txt", 150);
        let (mut data, _) = listener.accept().expect("server connects");
        data.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut got = Vec::new();
        data.read_to_end(&mut got).expect("read");
        assert_eq!(got, b"content\n");
        assert_eq!(raw.reply().code().get(), 226);

        for mode in [DataMode::Passive, DataMode::Active] {
            let config = Config {
                timeouts: Timeouts::all(Duration::from_secs(10)),
                data_mode: mode,
                ..Config::default()
            };
            let mut client = Client::connect("::1", addr.port(), config).expect("connect");
            client.login_anonymous().expect("login");
            let mut sink = Vec::new();
            client
                .retr("/sub/file.txt", 0, &mut sink, &mut |_| {})
                .expect("RETR");
            assert_eq!(sink, b"content\n", "{mode:?}");
            client.quit().expect("QUIT");
        }
    });
}
