//! Logging in: USER, PASS, FEAT, OPTS UTF8 ON and TYPE I pipelined in one
//! write (one round trip), every way the replies can go, the step-by-step
//! login when pipelining is off, and a real server (pyftpdlib).

use std::sync::{Mutex, Once};
use std::time::Duration;

use ftp_mirror_tests::fake::{run_client, FakeServer, Limits, Step};
use ftp_mirror_tests::pyftpd::{PyFtpd, PASSWORD, USER};
use ftp_mirror_tests::{timed, within};
use ftp_proto::client::{Client, Config, DataMode, Password, Timeouts};
use ftp_proto::{Error, Phase};

/// The password of every fake login; it must never show in logs or errors.
const SECRET: &str = "pw-never-shown";

fn config(pipeline: bool) -> Config {
    Config {
        timeouts: Timeouts::all(Duration::from_secs(10)),
        pipeline,
        ..Config::default()
    }
}

fn connect(server: &FakeServer, cfg: Config) -> Client {
    Client::connect(&server.host(), server.port(), cfg).expect("connect to the fake server")
}

fn login(c: &mut Client) -> Result<(), Error> {
    c.login("alice", &Password::new(SECRET))
}

/// The greeting, then all five login commands read before any reply is
/// sent: a client that waits for a reply in between stalls here.
fn pipelined_commands() -> Vec<Step> {
    vec![
        Step::send("220 fake ready\r\n"),
        Step::expect("USER alice"),
        Step::expect(&format!("PASS {SECRET}")),
        Step::expect("FEAT"),
        Step::expect("OPTS UTF8 ON"),
        Step::expect("TYPE I"),
    ]
}

/// `pipelined_commands`, then `replies` in one write, then one NOOP.
fn pipelined(replies: &str) -> Vec<Step> {
    let mut steps = pipelined_commands();
    steps.push(Step::send(replies));
    steps.extend([Step::expect("NOOP"), Step::send("200 ok\r\n")]);
    steps
}

const FEAT_UTF8: &str = "211-Features:\r\n EPSV\r\n UTF8\r\n211 End\r\n";

#[test]
fn pipelined_login_is_one_write_and_one_round_trip() {
    capture_logs();
    let replies =
        format!("331 password please\r\n230 in\r\n{FEAT_UTF8}200 UTF8 on\r\n200 binary\r\n");
    let (_, outcome) = run_client(pipelined(&replies), |server| {
        let mut c = connect(server, config(true));
        login(&mut c).expect("login");
        // FEAT was answered during login: no second FEAT on the wire.
        assert!(c.features().unwrap().has("UTF8"));
        assert!(c.features().unwrap().has("EPSV"));
        c.noop().unwrap();
        assert!(c.is_reusable(), "{:?}", c.close_reason());
        assert!(!format!("{c:?}").contains(SECRET));
        c.close();
    });
    outcome.assert_ok();
    assert!(outcome.extra.is_empty(), "{outcome:?}");
    let logs = LOGS.lock().unwrap();
    assert!(logs.iter().any(|l| l == "> PASS ***"), "{logs:?}");
    assert!(!logs.iter().any(|l| l.contains(SECRET)), "{logs:?}");
}

#[test]
fn user_answered_230_ignores_the_reply_to_pass() {
    for pass_reply in ["503 Already logged in", "202 Not needed", "230 Still in"] {
        let replies = format!(
            "230 no password needed\r\n{pass_reply}\r\n{FEAT_UTF8}200 ok\r\n200 binary\r\n"
        );
        let (_, outcome) = run_client(pipelined(&replies), |server| {
            let mut c = connect(server, config(true));
            login(&mut c).expect("login");
            assert!(c.features().unwrap().has("UTF8"));
            c.noop().unwrap();
            assert!(c.is_reusable(), "{:?}", c.close_reason());
            c.close();
        });
        outcome.assert_ok();
    }
}

/// A failed login: the error, and no reply read after the failing one (the
/// fake sends nothing more and keeps the connection open, so a client that
/// tried would wait for its 10 s timeout).
fn failed_login(replies: &'static str) -> Error {
    let mut steps = pipelined_commands();
    steps.push(Step::send(replies));
    let (err, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(true));
        let (result, took) = timed(|| login(&mut c));
        let err = result.expect_err("login must fail");
        assert!(
            took < Duration::from_secs(3),
            "waited for more replies: {took:?}"
        );
        assert!(!c.is_reusable());
        let why = c.close_reason().unwrap();
        // A 421 already broke it as "server closing".
        assert!(
            why.contains("login failed") || why.contains("server closing"),
            "{why}"
        );
        assert!(!why.contains(SECRET), "{why}");
        assert!(!err.to_string().contains(SECRET), "{err}");
        assert!(!format!("{err:?}").contains(SECRET), "{err:?}");
        assert!(matches!(c.noop(), Err(Error::Unusable(_))));
        c.close();
        err
    });
    outcome.assert_ok();
    err
}

#[test]
fn wrong_password_is_a_permanent_530_and_nothing_more_is_read() {
    let err = failed_login("331 password please\r\n530 Login incorrect.\r\n");
    assert_eq!(err.code(), Some(530), "{err}");
    assert!(err.is_permanent() && !err.is_transient(), "{err}");
    assert!(
        matches!(
            err,
            Error::Refused {
                command: "PASS",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn an_account_request_is_unexpected() {
    let err = failed_login("331 password please\r\n332 Need account for login.\r\n");
    assert_eq!(err.code(), Some(332), "{err}");
    assert!(
        matches!(
            err,
            Error::Unexpected {
                command: "PASS",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn user_refused_fails_on_user() {
    let err = failed_login("530 This server is anonymous only.\r\n");
    assert_eq!(err.code(), Some(530), "{err}");
    assert!(
        matches!(
            err,
            Error::Refused {
                command: "USER",
                ..
            }
        ),
        "{err:?}"
    );
    let err = failed_login("421 Too many connections\r\n");
    assert_eq!(err.code(), Some(421), "{err}");
}

#[test]
fn transient_feat_failure_fails_the_login() {
    let err = failed_login("331 pw\r\n230 in\r\n450 try later\r\n");
    assert_eq!(err.code(), Some(450), "{err}");
    assert!(err.is_transient(), "{err}");
}

#[test]
fn feat_refused_means_no_features() {
    let replies = "331 pw\r\n230 in\r\n500 FEAT not understood\r\n200 ok\r\n200 binary\r\n";
    let (_, outcome) = run_client(pipelined(replies), |server| {
        let mut c = connect(server, config(true));
        login(&mut c).expect("login");
        assert_eq!(c.features().unwrap().names().count(), 0);
        c.noop().unwrap();
        assert!(c.is_reusable(), "{:?}", c.close_reason());
        c.close();
    });
    outcome.assert_ok();
    assert!(outcome.extra.is_empty(), "{outcome:?}");
}

#[test]
fn opts_refused_is_harmless() {
    // With and without UTF8 in FEAT: OPTS goes either way when pipelined.
    for feat in [FEAT_UTF8, "211-Features:\r\n SIZE\r\n211 End\r\n"] {
        for refusal in ["501 Unknown option", "502 OPTS not implemented"] {
            let replies = format!("331 pw\r\n230 in\r\n{feat}{refusal}\r\n200 binary\r\n");
            let (_, outcome) = run_client(pipelined(&replies), |server| {
                let mut c = connect(server, config(true));
                login(&mut c).expect("login");
                c.noop().unwrap();
                assert!(c.is_reusable(), "{:?}", c.close_reason());
                c.close();
            });
            outcome.assert_ok();
        }
    }
}

#[test]
fn type_refused_fails_and_a_preliminary_reply_breaks_the_session() {
    let replies = "331 pw\r\n230 in\r\n211 no features\r\n200 ok\r\n504 no binary here\r\n";
    let mut steps = pipelined_commands();
    steps.push(Step::send(replies));
    let (_, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(true));
        let err = login(&mut c).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Refused {
                    command: "TYPE",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!c.is_reusable());
        c.close();
    });
    outcome.assert_ok();

    let replies = "331 pw\r\n230 in\r\n211 no features\r\n150 what?\r\n200 binary\r\n";
    let mut steps = pipelined_commands();
    steps.push(Step::send(replies));
    let (_, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(true));
        login(&mut c).expect("TYPE itself was accepted");
        assert!(!c.is_reusable());
        c.close();
    });
    outcome.assert_ok();
}

#[test]
fn without_pipelining_each_command_waits_for_its_reply() {
    // FEAT lists UTF8: OPTS and TYPE then go together, as before.
    let steps = vec![
        Step::send("220 fake ready\r\n"),
        Step::expect("USER alice"),
        Step::send("331 pw\r\n"),
        Step::expect(&format!("PASS {SECRET}")),
        Step::send("230 in\r\n"),
        Step::expect("FEAT"),
        Step::send(FEAT_UTF8),
        Step::expect("OPTS UTF8 ON"),
        Step::expect("TYPE I"),
        Step::send("200 ok\r\n200 binary\r\n"),
        Step::expect("NOOP"),
        Step::send("200 ok\r\n"),
    ];
    let (_, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(false));
        login(&mut c).expect("login");
        assert!(c.features().unwrap().has("UTF8"));
        c.noop().unwrap();
        assert!(c.is_reusable(), "{:?}", c.close_reason());
        c.close();
    });
    outcome.assert_ok();
    assert!(outcome.extra.is_empty(), "{outcome:?}");

    // USER answered 230: no PASS; FEAT without UTF8: no OPTS.
    let steps = vec![
        Step::send("220 fake ready\r\n"),
        Step::expect("USER alice"),
        Step::send("230 in\r\n"),
        Step::expect("FEAT"),
        Step::send("211 no features\r\n"),
        Step::expect("TYPE I"),
        Step::send("200 binary\r\n"),
        Step::expect("NOOP"),
        Step::send("200 ok\r\n"),
    ];
    let (_, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(false));
        login(&mut c).expect("login");
        c.noop().unwrap();
        c.close();
    });
    outcome.assert_ok();
    assert!(outcome.extra.is_empty(), "{outcome:?}");
}

#[test]
fn without_pipelining_pass_waits_for_the_reply_to_user() {
    // The fake wants PASS before it answers USER: a client that waits for
    // the reply (as it must with pipelining off) times out instead.
    let limits = Limits {
        io: Duration::from_millis(1500),
        linger: Duration::from_millis(100),
        ..Limits::default()
    };
    let server = FakeServer::with_limits(
        vec![
            Step::send("220 fake ready\r\n"),
            Step::expect("USER alice"),
            Step::expect("PASS"),
            Step::send("331 pw\r\n230 in\r\n"),
        ],
        limits,
    );
    let cfg = Config {
        timeouts: Timeouts::all(Duration::from_millis(500)),
        pipeline: false,
        ..Config::default()
    };
    let mut c = connect(&server, cfg);
    let err = within(Duration::from_secs(10), "step-by-step login", move || {
        login(&mut c).unwrap_err()
    });
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::ControlRead
            }
        ),
        "{err:?}"
    );
    let outcome = server.finish();
    assert_eq!(outcome.commands, ["USER alice"], "{outcome:?}");
}

#[test]
fn pyftpd_wrong_then_right_password_pipelined() {
    let root = tempfile::tempdir().unwrap();
    let server = PyFtpd::builder(root.path()).anonymous(false).start();
    let connect = || {
        let cfg = Config {
            timeouts: Timeouts::all(Duration::from_secs(20)),
            data_mode: DataMode::Passive,
            ..Config::default()
        };
        assert!(cfg.pipeline);
        Client::connect(&server.host(), server.port(), cfg).expect("connect")
    };

    let mut c = connect();
    let err = c
        .login(USER, &Password::new("not the password"))
        .unwrap_err();
    assert_eq!(err.code(), Some(530), "{err}");
    assert!(err.is_permanent() && !err.is_transient(), "{err}");
    assert!(!err.to_string().contains("not the password"), "{err}");
    assert!(!c.is_reusable());
    c.close();

    let mut c = connect();
    c.login(USER, &Password::new(PASSWORD)).expect("login");
    assert!(c.features().unwrap().has("UTF8"));
    assert_eq!(c.pwd().unwrap(), b"/");
    assert!(c.nlst(None::<&[u8]>).unwrap().is_empty());
    assert!(c.is_reusable(), "{:?}", c.close_reason());
    c.quit().unwrap();
}

// ---- a logger that keeps every message, to check that no password is logged

static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        if let Ok(mut logs) = LOGS.lock() {
            logs.push(record.args().to_string());
        }
    }

    fn flush(&self) {}
}

fn capture_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if log::set_logger(&Capture).is_ok() {
            log::set_max_level(log::LevelFilter::Debug);
        }
    });
}
