//! The server logs every command at debug level, but never a password.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::Duration;

use ftp_proto::client::Password;
use ftp_serve::{Server, ServerConfig};

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!("{}", record.args());
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    }
    fn flush(&self) {}
}

static LOGS: Capture = Capture(Mutex::new(Vec::new()));

const RIGHT: &str = "right-horse-battery";
const WRONG: &str = "wrong-staple-guess";

#[test]
fn passwords_never_reach_the_log() {
    log::set_logger(&LOGS).expect("the only logger in this test binary");
    log::set_max_level(log::LevelFilter::Trace);

    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        root: dir.path().into(),
        credentials: Some(("alice".into(), Password::new(RIGHT))),
        idle_timeout: Duration::from_secs(10),
        ..ServerConfig::default()
    };
    let handle = Server::bind(config).unwrap().spawn().unwrap();
    let control = TcpStream::connect(handle.local_addr()).unwrap();
    control
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut replies = BufReader::new(control.try_clone().unwrap());
    let mut line = String::new();
    replies.read_line(&mut line).unwrap();
    for (command, code) in [
        ("USER alice".to_string(), "331"),
        (format!("PASS {WRONG}"), "530"),
        ("USER alice".to_string(), "331"),
        (format!("PASS {RIGHT}"), "230"),
        ("NOOP".to_string(), "200"),
        ("QUIT".to_string(), "221"),
    ] {
        (&control)
            .write_all(format!("{command}\r\n").as_bytes())
            .unwrap();
        line.clear();
        replies.read_line(&mut line).unwrap();
        assert!(line.starts_with(code), "{command}: {line}");
    }
    handle.shutdown();

    let logs = LOGS.0.lock().unwrap().clone();
    assert!(
        logs.iter().any(|l| l.contains("NOOP")),
        "commands are logged: {logs:#?}"
    );
    assert!(logs.iter().any(|l| l.contains("PASS ***")), "{logs:#?}");
    for l in &logs {
        assert!(
            !l.contains(RIGHT) && !l.contains(WRONG),
            "password in log: {l}"
        );
    }
    // Nor in the configuration's Debug output.
    let shown = format!(
        "{:?}",
        ServerConfig {
            credentials: Some(("alice".into(), Password::new(RIGHT))),
            ..ServerConfig::default()
        }
    );
    assert!(!shown.contains(RIGHT), "{shown}");
}
