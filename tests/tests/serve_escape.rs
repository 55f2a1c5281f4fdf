//! Attempts to leave the served root, over a raw control connection and
//! through the ftp-proto client: `..` at the root, relative and absolute
//! paths out, symbolic links leading out, and FTP bounce (PORT/EPRT to
//! another host or a privileged port).

mod serve_util;

use std::fs;
use std::io::Read;
use std::time::Duration;

use ftp_mirror_tests::within;
use ftp_proto::client::{Client, Config, Timeouts};
use serve_util::{serve, Raw};

const LIMIT: Duration = Duration::from_secs(60);

/// A base directory holding `secret.txt` and the served `root/`, which holds
/// `pub/file.txt` and links leading out of it.
struct Jail {
    base: tempfile::TempDir,
}

impl Jail {
    fn new() -> Jail {
        let base = tempfile::tempdir().expect("tempdir");
        fs::write(base.path().join("secret.txt"), b"SECRET").expect("write");
        let root = base.path().join("root");
        fs::create_dir_all(root.join("pub/inner")).expect("mkdir");
        fs::write(root.join("pub/file.txt"), b"public").expect("write");
        let link = |target: &str, name: &str| {
            std::os::unix::fs::symlink(target, root.join(name)).expect("symlink");
        };
        link("../secret.txt", "up-link");
        link(
            base.path()
                .join("secret.txt")
                .to_str()
                .expect("UTF-8 temp path"),
            "abs-link",
        );
        link("..", "parent-dir");
        link("/etc", "etc-dir");
        link("../../../secret.txt", "pub/inner/deep-link");
        link("../file.txt", "pub/inner/ok-link");
        Jail { base }
    }

    fn root(&self) -> std::path::PathBuf {
        self.base.path().join("root")
    }
}

fn pwd(raw: &mut Raw) -> Vec<u8> {
    raw.expect("PWD", 257).lines()[0].clone()
}

#[test]
fn dot_dot_at_the_root_stays_at_the_root() {
    let jail = Jail::new();
    let server = serve(&jail.root(), |_| {});
    let addr = server.local_addr();
    within(LIMIT, "CWD ..", move || {
        let mut raw = Raw::login(addr);
        raw.expect("CWD ..", 250);
        assert!(pwd(&mut raw).starts_with(b"\"/\""));
        raw.expect("CDUP", 250);
        raw.expect("CWD ../../..", 250);
        assert!(pwd(&mut raw).starts_with(b"\"/\""));
        raw.expect("CWD pub/../../pub", 250);
        assert!(pwd(&mut raw).starts_with(b"\"/pub\""));
        raw.expect("XCUP", 250);
        raw.expect("XCUP", 250);
        assert!(pwd(&mut raw).starts_with(b"\"/\""));
        // What `/` lists is the root, not its parent.
        let (names, done) = raw.transfer("NLST").expect("NLST");
        assert_eq!(done.code().get(), 226);
        let names = String::from_utf8(names).expect("UTF-8");
        assert!(names.lines().any(|n| n == "pub"), "{names}");
        assert!(!names.contains("secret"), "{names}");
    });
}

#[test]
fn paths_out_of_the_root_are_refused() {
    let jail = Jail::new();
    let server = serve(&jail.root(), |_| {});
    let addr = server.local_addr();
    within(LIMIT, "escapes", move || {
        let mut raw = Raw::login(addr);
        for path in [
            "../secret.txt",
            "../../etc/passwd",
            "/../secret.txt",
            "/etc/passwd",
            "pub/../../secret.txt",
            "//../secret.txt",
            "up-link",
            "abs-link",
            "parent-dir/secret.txt",
            "etc-dir/passwd",
            "pub/inner/deep-link",
        ] {
            let refused = raw.transfer(format!("RETR {path}")).expect_err(path);
            assert_eq!(refused.code().get(), 550, "RETR {path}: {refused:?}");
            raw.expect(format!("SIZE {path}"), 550);
            raw.expect(format!("MDTM {path}"), 550);
            raw.expect(format!("MLST {path}"), 550);
        }
        for dir in ["parent-dir", "etc-dir", "/etc", "../root/etc-dir"] {
            raw.expect(format!("CWD {dir}"), 550);
            let refused = raw.transfer(format!("LIST {dir}")).expect_err(dir);
            assert_eq!(refused.code().get(), 550, "LIST {dir}");
            let refused = raw.transfer(format!("MLSD {dir}")).expect_err(dir);
            assert_eq!(refused.code().get(), 550, "MLSD {dir}");
        }
        assert!(pwd(&mut raw).starts_with(b"\"/\""));
        // A link that stays inside is served.
        let (data, done) = raw
            .transfer("RETR pub/inner/ok-link")
            .expect("RETR ok-link");
        assert_eq!((data.as_slice(), done.code().get()), (&b"public"[..], 226));
        // `..` from a subdirectory cannot climb out either.
        raw.expect("CWD pub/inner", 250);
        let refused = raw.transfer("RETR ../../../secret.txt").expect_err("climb");
        assert_eq!(refused.code().get(), 550);
        let (data, _) = raw.transfer("RETR ../file.txt").expect("RETR ../file.txt");
        assert_eq!(data, b"public");
    });
}

#[test]
fn listings_leave_out_links_that_lead_outside() {
    let jail = Jail::new();
    let server = serve(&jail.root(), |_| {});
    let addr = server.local_addr();
    within(LIMIT, "listings", move || {
        let mut raw = Raw::login(addr);
        for command in ["NLST", "LIST", "MLSD", "LIST -la", "NLST /pub/inner"] {
            let (data, done) = raw.transfer(command).expect(command);
            assert_eq!(done.code().get(), 226, "{command}");
            let text = String::from_utf8(data).expect("UTF-8");
            for hidden in [
                "up-link",
                "abs-link",
                "parent-dir",
                "etc-dir",
                "deep-link",
                "secret",
            ] {
                assert!(!text.contains(hidden), "{command} shows {hidden}:\n{text}");
            }
        }
        let (data, _) = raw.transfer("NLST /pub/inner").expect("NLST");
        assert_eq!(data, b"ok-link\r\n");
    });
}

#[test]
fn the_ftp_proto_client_cannot_leave_either() {
    let jail = Jail::new();
    let server = serve(&jail.root(), |_| {});
    let addr = server.local_addr();
    within(LIMIT, "ftp-proto client", move || {
        let config = Config {
            timeouts: Timeouts::all(Duration::from_secs(10)),
            ..Config::default()
        };
        let mut client =
            Client::connect(&addr.ip().to_string(), addr.port(), config).expect("connect");
        client.login_anonymous().expect("login");
        client.cwd("..").expect("CWD ..");
        assert_eq!(client.pwd().expect("PWD"), b"/");
        let mut sink = Vec::new();
        let err = client
            .retr("../secret.txt", 0, &mut sink, &mut |_| {})
            .expect_err("RETR ../secret.txt");
        assert_eq!(err.code(), Some(550), "{err}");
        let err = client
            .retr("/etc/passwd", 0, &mut sink, &mut |_| {})
            .expect_err("RETR /etc/passwd");
        assert_eq!(err.code(), Some(550), "{err}");
        assert!(sink.is_empty());
        let names: Vec<String> = client
            .mlsd(None)
            .expect("MLSD")
            .iter()
            .map(|e| e.name_lossy())
            .collect();
        assert_eq!(names, ["pub"]);
        client.quit().expect("QUIT");
    });
}

#[test]
fn active_mode_connects_only_to_the_client_itself() {
    let jail = Jail::new();
    let server = serve(&jail.root(), |_| {});
    let addr = server.local_addr();
    within(LIMIT, "bounce", move || {
        let mut raw = Raw::login(addr);
        for port in [
            "PORT 127,0,0,3,195,80",
            "PORT 127,0,0,2,195,80",
            "PORT 127,0,0,1,0,25",
            "PORT 1,2,3",
            "EPRT |1|127.0.0.3|50000|",
            "EPRT |1|127.0.0.1|21|",
            "EPRT |2|::1|50000|",
        ] {
            raw.expect(port, 501);
            // Nothing was set up: a transfer has no data connection.
            raw.expect("RETR pub/file.txt", 425);
        }
        raw.expect("EPRT |3|x|1|", 522);
        // The client's own address works.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        raw.expect(format!("EPRT |1|127.0.0.1|{port}|"), 200);
        raw.expect("RETR pub/file.txt", 150);
        let (mut data, _) = listener.accept().expect("server connects");
        data.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut got = Vec::new();
        data.read_to_end(&mut got).expect("read");
        assert_eq!(got, b"public");
        assert_eq!(raw.reply().code().get(), 226);
        // After EPSV ALL, only EPSV sets up data connections.
        raw.expect("EPSV ALL", 200);
        raw.expect("PASV", 501);
        raw.expect(format!("PORT 127,0,0,1,{},{}", port >> 8, port & 0xff), 501);
        let (data, _) = raw.transfer("RETR pub/file.txt").expect("EPSV still works");
        assert_eq!(data, b"public");
    });
}
