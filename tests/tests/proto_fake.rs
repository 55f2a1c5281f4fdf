//! The ftp-proto client against scripted fake servers: odd but legal reply
//! shapes, broken servers, hostile servers and servers that stall.

use std::time::Duration;

use ftp_mirror_tests::fake::{run_client, FakeServer, Limits, Step};
use ftp_mirror_tests::timed;
use ftp_mirror_tests::tree::pseudo_random_bytes;
use ftp_proto::client::{Client, Config, DataMode, Password, Timeouts};
use ftp_proto::{Error, Phase};

/// Generous timeouts: a test that hits one is failing anyway.
fn config(mode: DataMode) -> Config {
    Config {
        timeouts: Timeouts::all(Duration::from_secs(10)),
        data_mode: mode,
        ..Config::default()
    }
}

fn connect(server: &FakeServer, cfg: Config) -> Client {
    Client::connect(&server.host(), server.port(), cfg).expect("connect to the fake server")
}

/// The steps that open a data connection for `verb` in `mode`, up to
/// reading the transfer command (the client sends TYPE I before its first
/// transfer when it did not log in).
fn open_data(mode: DataMode, verb: &str) -> Vec<Step> {
    match mode {
        DataMode::PassiveOnly => vec![Step::expect("PASV"), Step::Pasv, Step::expect(verb)],
        _ => vec![Step::expect("EPSV"), Step::Epsv, Step::expect(verb)],
    }
}

fn script(parts: Vec<Vec<Step>>) -> Vec<Step> {
    parts.into_iter().flatten().collect()
}

fn banner_and_type() -> Vec<Step> {
    vec![
        Step::send("220 fake ready\r\n"),
        Step::expect("TYPE I"),
        Step::send("200 binary\r\n"),
    ]
}

fn noop_ok() -> Vec<Step> {
    vec![Step::expect("NOOP"), Step::send("200 ok\r\n")]
}

#[test]
fn multi_line_replies_everywhere() {
    let payload = pseudo_random_bytes(1, 50_000);
    for mode in [DataMode::PassiveOnly, DataMode::Passive] {
        let steps = script(vec![
            vec![
                Step::send(
                    "220-Welcome to the fake server\r\n220-It has a lot to say\r\n220 Ready\r\n",
                ),
                Step::expect("USER alice"),
                Step::send("331-Password please\r\n331-(any will do)\r\n331 Go on\r\n"),
                Step::expect("PASS secret"),
                Step::send("230-Logged in\r\n230-Line two\r\n230 Done\r\n"),
                Step::expect("FEAT"),
                Step::send("211-Features:\r\n EPSV\r\n SIZE\r\n REST STREAM\r\n211 End\r\n"),
                // Pipelined login: OPTS goes whether or not FEAT lists UTF8.
                Step::expect("OPTS UTF8 ON"),
                Step::send("501-Unknown option\r\n501 UTF8\r\n"),
                Step::expect("TYPE I"),
                Step::send("200-Type set\r\n200 to I\r\n"),
            ],
            match mode {
                DataMode::PassiveOnly => vec![
                    Step::expect("PASV"),
                    Step::PasvReply(
                        "227-Entering Passive Mode (127,0,0,1,{p1},{p2})\r\n227 Have fun\r\n"
                            .into(),
                    ),
                    Step::expect("RETR file"),
                ],
                _ => vec![
                    Step::expect("EPSV"),
                    Step::PasvReply(
                        "229-Entering Extended Passive Mode (|||{port}|)\r\n229 Have fun\r\n"
                            .into(),
                    ),
                    Step::expect("RETR file"),
                ],
            },
            vec![
                Step::Accept,
                Step::send("150-Opening data connection\r\n150 for file (50000 bytes)\r\n"),
                Step::DataSend(payload.clone()),
                Step::DataClose,
                Step::send("226-Transfer complete\r\n226-Second line\r\n226 Bye\r\n"),
            ],
            noop_ok(),
        ]);
        let (got, outcome) = run_client(steps, move |server| {
            let mut c = connect(server, config(mode));
            assert_eq!(c.welcome().lines().len(), 3);
            c.login("alice", &Password::new("secret")).unwrap();
            assert!(c.features().unwrap().has("EPSV"));
            let mut got = Vec::new();
            c.retr("file", 0, &mut got, &mut |_| {}).unwrap();
            c.noop().unwrap();
            assert!(c.is_reusable(), "{:?}", c.close_reason());
            got
        });
        outcome.assert_ok();
        assert!(got == payload, "{mode:?}: payload differs");
    }
}

#[test]
fn replies_split_across_writes() {
    let steps = vec![
        Step::split(&["2", "20-hel", "lo\r", "\n220", " ready\r", "\n"]),
        Step::expect("NOOP"),
        Step::split(&["200-a\r\n2", "00-b\r\n200", " c\r\n"]),
        Step::expect("NOOP"),
        Step::send("200 one\r\n"),
    ];
    let (_, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::Passive));
        assert_eq!(c.welcome().text(), "hello\nready");
        c.noop().unwrap();
        c.noop().unwrap();
        assert!(c.is_reusable());
    });
    outcome.assert_ok();
}

#[test]
fn banner_of_200_lines() {
    let mut banner = String::from("220-line 1\r\n");
    for i in 2..200 {
        banner.push_str(&format!("line {i} of a very chatty greeting\r\n"));
    }
    banner.push_str("220 line 200\r\n");
    let steps = script(vec![vec![Step::send(banner)], noop_ok()]);
    let (_, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::Passive));
        assert_eq!(c.welcome().lines().len(), 200);
        c.noop().unwrap();
    });
    outcome.assert_ok();
}

#[test]
fn preliminary_and_failure_in_one_segment() {
    for mode in [DataMode::PassiveOnly, DataMode::Passive] {
        let steps = script(vec![
            banner_and_type(),
            open_data(mode, "RETR gone"),
            vec![
                Step::Accept,
                Step::send("150 Opening\r\n550 Cannot read file\r\n"),
                Step::DataClose,
            ],
            noop_ok(),
        ]);
        let ((err, took), outcome) = run_client(steps, move |server| {
            let mut c = connect(server, config(mode));
            let mut sink = Vec::new();
            let (r, took) = timed(|| c.retr("gone", 0, &mut sink, &mut |_| {}));
            let err = r.unwrap_err();
            assert!(sink.is_empty());
            c.noop().unwrap();
            (err, took)
        });
        outcome.assert_ok();
        assert_eq!(err.code(), Some(550), "{mode:?}: {err}");
        assert!(err.is_permanent());
        assert!(took < Duration::from_secs(5), "{mode:?}: took {took:?}");
    }
}

#[test]
fn final_reply_before_the_data_ends() {
    let payload = pseudo_random_bytes(2, 300_000);
    for mode in [DataMode::PassiveOnly, DataMode::Passive] {
        let steps = script(vec![
            banner_and_type(),
            open_data(mode, "RETR f"),
            vec![
                Step::Accept,
                // 150 and 226 together, before any data is sent.
                Step::send("150 Opening\r\n226 Transfer complete\r\n"),
                Step::Sleep(100),
                Step::DataSend(payload.clone()),
                Step::DataClose,
            ],
            noop_ok(),
        ]);
        let (got, outcome) = run_client(steps, move |server| {
            let mut c = connect(server, config(mode));
            let mut got = Vec::new();
            let n = c.retr("f", 0, &mut got, &mut |_| {}).unwrap();
            assert_eq!(n, got.len() as u64);
            c.noop().unwrap();
            assert!(c.is_reusable(), "{:?}", c.close_reason());
            got
        });
        outcome.assert_ok();
        assert!(
            got == payload,
            "{mode:?}: payload differs ({} bytes)",
            got.len()
        );
    }
}

#[test]
fn refusal_instead_of_preliminary_does_not_wait_for_data() {
    for mode in [DataMode::PassiveOnly, DataMode::Passive, DataMode::Active] {
        let open = match mode {
            // The server never connects back: the client must notice the 550
            // while waiting to accept.
            DataMode::Active => vec![
                Step::expect("EPRT"),
                Step::send("200 ok\r\n"),
                Step::expect("RETR f"),
            ],
            _ => open_data(mode, "RETR f"),
        };
        let steps = script(vec![
            banner_and_type(),
            open,
            vec![Step::send("550 No such file\r\n")],
            noop_ok(),
        ]);
        let ((err, took), outcome) = run_client(steps, move |server| {
            let mut c = connect(server, config(mode));
            let mut sink = Vec::new();
            let (r, took) = timed(|| c.retr("f", 0, &mut sink, &mut |_| {}));
            let err = r.unwrap_err();
            c.noop().unwrap();
            assert!(c.is_reusable(), "{:?}", c.close_reason());
            (err, took)
        });
        outcome.assert_ok();
        assert_eq!(err.code(), Some(550), "{mode:?}: {err}");
        assert!(took < Duration::from_secs(5), "{mode:?}: took {took:?}");
    }
}

#[test]
fn service_closing_mid_session() {
    let steps = vec![
        Step::send("220 hi\r\n"),
        Step::expect("NOOP"),
        Step::send("421 Timeout, closing control connection\r\n"),
        Step::Close,
    ];
    let (err, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::Passive));
        let err = c.noop().unwrap_err();
        assert!(!c.is_reusable());
        // A broken session refuses further commands without sending them.
        assert!(matches!(c.noop(), Err(Error::Unusable(_))));
        err
    });
    outcome.assert_ok();
    assert!(err.is_service_closing(), "{err}");
    assert!(err.is_transient(), "{err}");
    assert_eq!(outcome.extra, Vec::<String>::new());
}

#[test]
fn server_closing_in_the_middle_of_a_reply() {
    let steps = vec![Step::send("220-Welcome\r\n220-more to co"), Step::Close];
    let (err, outcome) = run_client(steps, |server| {
        Client::connect(&server.host(), server.port(), config(DataMode::Passive)).unwrap_err()
    });
    outcome.assert_ok();
    assert!(
        matches!(
            err,
            Error::Closed {
                phase: Phase::Connect
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());

    let steps = vec![
        Step::send("220 hi\r\n"),
        Step::expect("NOOP"),
        Step::send("200-partial\r\n"),
        Step::Close,
    ];
    let (err, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::Passive));
        let err = c.noop().unwrap_err();
        assert!(!c.is_reusable());
        err
    });
    outcome.assert_ok();
    assert!(matches!(err, Error::Closed { .. }), "{err:?}");
}

#[test]
fn garbage_replies_are_malformed() {
    let (err, outcome) = run_client(vec![Step::send("SSH-2.0-OpenSSH_9.2\r\n")], |server| {
        Client::connect(&server.host(), server.port(), config(DataMode::Passive)).unwrap_err()
    });
    outcome.assert_ok();
    assert!(matches!(err, Error::Malformed(_)), "{err:?}");

    let steps = vec![
        Step::send("220 hi\r\n"),
        Step::expect("NOOP"),
        Step::send("HTTP/1.1 400 Bad Request\r\n"),
    ];
    let (err, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::Passive));
        let err = c.noop().unwrap_err();
        assert!(!c.is_reusable());
        err
    });
    outcome.assert_ok();
    assert!(matches!(err, Error::Malformed(_)), "{err:?}");
    assert!(!err.is_transient());
}

#[test]
fn over_long_replies_are_malformed_and_bounded() {
    // One endless line.
    let steps = vec![Step::Flood {
        pattern: b"220-xxxxxxxxxxxxxxxx".repeat(1000),
        total: 64 << 20,
    }];
    let ((err, took), outcome) = run_client(steps, |server| {
        timed(|| {
            Client::connect(&server.host(), server.port(), config(DataMode::Passive)).unwrap_err()
        })
    });
    outcome.assert_ok();
    assert!(matches!(err, Error::Malformed(_)), "{err:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // The client stopped reading long before the end of the flood.
    assert!(
        outcome.control_bytes_sent < 64 << 20,
        "{}",
        outcome.control_bytes_sent
    );

    // Endless short lines of one multi-line reply.
    let mut pattern = Vec::new();
    for _ in 0..1000 {
        pattern.extend_from_slice(b"220-and another line\r\n");
    }
    let steps = vec![Step::Flood {
        pattern,
        total: 64 << 20,
    }];
    let ((err, took), outcome) = run_client(steps, |server| {
        timed(|| {
            Client::connect(&server.host(), server.port(), config(DataMode::Passive)).unwrap_err()
        })
    });
    outcome.assert_ok();
    assert!(matches!(err, Error::Malformed(_)), "{err:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // The client stopped reading long before the end of the flood.
    assert!(
        outcome.control_bytes_sent < 64 << 20,
        "{}",
        outcome.control_bytes_sent
    );
}

#[test]
fn pasv_host_is_ignored_in_favour_of_the_control_peer() {
    let payload = b"data from the control peer".to_vec();
    for (host, trust) in [("127,0,0,2", false), ("0,0,0,0", false), ("0,0,0,0", true)] {
        let steps = script(vec![
            banner_and_type(),
            vec![
                Step::expect("PASV"),
                Step::PasvReply(format!(
                    "227 Entering Passive Mode ({host},{{p1}},{{p2}}).\r\n"
                )),
                Step::expect("RETR f"),
                Step::Accept,
                Step::send("150 ok\r\n"),
                Step::DataSend(payload.clone()),
                Step::DataClose,
                Step::send("226 done\r\n"),
            ],
        ]);
        let (got, outcome) = run_client(steps, move |server| {
            let cfg = Config {
                trust_pasv_host: trust,
                ..config(DataMode::PassiveOnly)
            };
            let mut c = connect(server, cfg);
            let mut got = Vec::new();
            c.retr("f", 0, &mut got, &mut |_| {}).unwrap();
            got
        });
        outcome.assert_ok();
        assert_eq!(got, payload, "host {host}, trust {trust}");
    }
}

#[test]
fn pasv_reply_with_numbers_out_of_range_is_an_error() {
    for bad in [
        "(127,0,0,1,300,20)",
        "(127,0,0,1,4,256)",
        "(999,0,0,1,4,1)",
        "(127,0,0,1,4)",
        "no numbers",
    ] {
        let steps = script(vec![
            banner_and_type(),
            vec![
                Step::expect("PASV"),
                Step::send(format!("227 Entering Passive Mode {bad}.\r\n")),
            ],
        ]);
        let (err, outcome) = run_client(steps, |server| {
            let mut c = connect(server, config(DataMode::PassiveOnly));
            let mut sink = Vec::new();
            c.retr("f", 0, &mut sink, &mut |_| {}).unwrap_err()
        });
        outcome.assert_ok();
        assert!(
            matches!(
                err,
                Error::BadReply {
                    command: "PASV",
                    ..
                }
            ),
            "{bad}: {err:?}"
        );
        // The transfer command was never sent.
        assert!(
            outcome.extra.iter().all(|c| !c.starts_with("RETR")),
            "{bad}: {outcome:?}"
        );
    }
}

#[test]
fn a_silent_server_times_out_in_the_right_phase() {
    let short = |mode| Config {
        timeouts: Timeouts::all(Duration::from_millis(400)),
        ..config(mode)
    };

    // No greeting at all: bounded by the connect timeout, not the control
    // one (a server that accepts and never greets is a failed connect).
    let greeting_cfg = Config {
        timeouts: Timeouts {
            connect: Duration::from_millis(400),
            ..Timeouts::all(Duration::from_secs(20))
        },
        ..config(DataMode::Passive)
    };
    let ((err, took), outcome) = run_client(vec![Step::Sleep(10_000)], move |server| {
        timed(|| Client::connect(&server.host(), server.port(), greeting_cfg).unwrap_err())
    });
    assert!(outcome.errors.is_empty(), "{outcome:?}");
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::Connect
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(
        took >= Duration::from_millis(350) && took < Duration::from_secs(3),
        "{took:?}"
    );

    // No answer to a command.
    let steps = vec![
        Step::send("220 hi\r\n"),
        Step::expect("NOOP"),
        Step::Sleep(10_000),
    ];
    let ((err, took, reusable), _) = run_client(steps, move |server| {
        let mut c = connect(server, short(DataMode::Passive));
        let (r, took) = timed(|| c.noop());
        (r.unwrap_err(), took, c.is_reusable())
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
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(!reusable);

    // A transfer whose data never comes.
    let steps = script(vec![
        banner_and_type(),
        open_data(DataMode::PassiveOnly, "RETR f"),
        vec![
            Step::Accept,
            Step::send("150 here it comes\r\n"),
            Step::Sleep(10_000),
        ],
    ]);
    let ((err, took), _) = run_client(steps, move |server| {
        let mut c = connect(server, short(DataMode::PassiveOnly));
        let mut sink = Vec::new();
        let (r, took) = timed(|| c.retr("f", 0, &mut sink, &mut |_| {}));
        assert!(!c.is_reusable());
        (r.unwrap_err(), took)
    });
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::DataRead
            }
        ),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");

    // Data sent, but no final reply.
    let steps = script(vec![
        banner_and_type(),
        open_data(DataMode::PassiveOnly, "RETR f"),
        vec![
            Step::Accept,
            Step::send("150 ok\r\n"),
            Step::data("all of it"),
            Step::DataClose,
            Step::Sleep(10_000),
        ],
    ]);
    let ((err, took), _) = run_client(steps, move |server| {
        let mut c = connect(server, short(DataMode::PassiveOnly));
        let mut sink = Vec::new();
        let (r, took) = timed(|| c.retr("f", 0, &mut sink, &mut |_| {}));
        (r.unwrap_err(), took)
    });
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::FinalReply
            }
        ),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");

    // Active mode: the server never connects back.
    let steps = script(vec![
        banner_and_type(),
        vec![
            Step::expect("EPRT"),
            Step::send("200 ok\r\n"),
            Step::expect("RETR f"),
            Step::send("150 ok\r\n"),
        ],
        vec![Step::Sleep(10_000)],
    ]);
    let ((err, took), _) = run_client(steps, move |server| {
        let mut c = connect(server, short(DataMode::Active));
        let mut sink = Vec::new();
        let (r, took) = timed(|| c.retr("f", 0, &mut sink, &mut |_| {}));
        (r.unwrap_err(), took)
    });
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::DataConnect
            }
        ),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn hostile_arguments_never_reach_the_server() {
    let steps = script(vec![vec![Step::send("220 hi\r\n")], noop_ok()]);
    let (_, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::Passive));
        let bad: [&[u8]; 4] = [b"a\r\nDELE x", b"a\nb", b"a\rb", b"a\0b"];
        for arg in bad {
            let invalid = |r: Result<(), Error>| matches!(r, Err(Error::InvalidArgument { .. }));
            assert!(invalid(c.cwd(arg)));
            assert!(invalid(c.dele(arg)));
            assert!(invalid(c.rmd(arg)));
            assert!(invalid(c.mkd(arg).map(drop)));
            assert!(invalid(c.size(arg).map(drop)));
            assert!(invalid(c.mdtm(arg).map(drop)));
            assert!(invalid(c.mlst(arg).map(drop)));
            assert!(invalid(c.rename("ok", arg)));
            assert!(invalid(c.rename(arg, "ok")));
            assert!(invalid(c.list(Some(arg)).map(drop)));
            assert!(invalid(c.nlst(Some(arg)).map(drop)));
            assert!(invalid(c.mlsd(Some(arg)).map(drop)));
            let mut sink = Vec::new();
            assert!(invalid(c.retr(arg, 0, &mut sink, &mut |_| {}).map(drop)));
            assert!(invalid(c.retr(arg, 10, &mut sink, &mut |_| {}).map(drop)));
            assert!(invalid(c.retr_stream(arg, 0).map(drop)));
            assert!(invalid(c.stor(arg, &mut &b"x"[..], &mut |_| {}).map(drop)));
            assert!(invalid(c.appe(arg, &mut &b"x"[..], &mut |_| {}).map(drop)));
        }
        assert!(matches!(
            c.login("user\r\nDELE x", &Password::new("pw")),
            Err(Error::InvalidArgument { .. })
        ));
        // The first thing the server sees is this NOOP.
        c.noop().unwrap();
        assert!(c.is_reusable());
    });
    outcome.assert_ok();
    assert_eq!(outcome.commands, ["NOOP"]);
    assert_eq!(outcome.extra, Vec::<String>::new());
}

#[test]
fn fake_server_limits_stop_a_forgotten_client() {
    // A client that connects and never speaks: the script's Expect times out
    // on the server side and is reported, without hanging the test.
    let limits = Limits {
        io: Duration::from_millis(300),
        linger: Duration::from_millis(100),
        ..Limits::default()
    };
    let server =
        FakeServer::with_limits(vec![Step::send("220 hi\r\n"), Step::expect("USER")], limits);
    let c = connect(&server, config(DataMode::Passive));
    let (outcome, took) = timed(|| server.finish());
    drop(c);
    assert_eq!(outcome.errors.len(), 2, "{outcome:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn epsv_refused_falls_back_to_pasv_for_the_rest_of_the_session() {
    let steps = script(vec![
        banner_and_type(),
        vec![
            // The pipelined pair: EPSV unknown, so RETR has no data connection.
            Step::expect("EPSV"),
            Step::expect("RETR a"),
            Step::send("500 EPSV not understood\r\n425 Use PORT or PASV first\r\n"),
        ],
        open_data(DataMode::PassiveOnly, "RETR a"),
        vec![
            Step::send("150 ok\r\n"),
            Step::data("first"),
            Step::DataClose,
            Step::send("226 ok\r\n"),
        ],
        // The next transfer goes straight to PASV.
        open_data(DataMode::PassiveOnly, "RETR b"),
        vec![
            Step::send("150 ok\r\n"),
            Step::data("second"),
            Step::DataClose,
            Step::send("226 ok\r\n"),
        ],
    ]);
    let (got, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::Passive));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        c.retr("a", 0, &mut a, &mut |_| {}).unwrap();
        c.retr("b", 0, &mut b, &mut |_| {}).unwrap();
        assert!(c.is_reusable(), "{:?}", c.close_reason());
        (a, b)
    });
    outcome.assert_ok();
    assert_eq!(got, (b"first".to_vec(), b"second".to_vec()));
}

#[test]
fn active_mode_with_eprt_and_the_port_fallback() {
    let steps = script(vec![
        banner_and_type(),
        vec![
            Step::expect("EPRT |1|127.0.0.1|"),
            Step::send("200 EPRT ok\r\n"),
            Step::expect("RETR a"),
            Step::ConnectBack,
            Step::send("150 connecting\r\n"),
            Step::data("via eprt"),
            Step::DataClose,
            Step::send("226 ok\r\n"),
            Step::expect("EPRT"),
            Step::send("500 EPRT not understood\r\n"),
            Step::expect("PORT 127,0,0,1,"),
            Step::send("200 PORT ok\r\n"),
            Step::expect("RETR b"),
            Step::ConnectBack,
            Step::send("150 connecting\r\n"),
            Step::data("via port"),
            Step::DataClose,
            Step::send("226 ok\r\n"),
            Step::expect("PORT"),
            Step::send("200 PORT ok\r\n"),
            Step::expect("STOR up"),
            Step::ConnectBack,
            Step::send("150 send it\r\n"),
            Step::DataRecv,
            Step::DataClose,
            Step::send("226 stored\r\n"),
        ],
    ]);
    let (got, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::Active));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        c.retr("a", 0, &mut a, &mut |_| {}).unwrap();
        c.retr("b", 0, &mut b, &mut |_| {}).unwrap();
        let sent = c
            .stor("up", &mut &b"uploaded bytes"[..], &mut |_| {})
            .unwrap();
        assert_eq!(sent, 14);
        (a, b)
    });
    outcome.assert_ok();
    assert_eq!(got, (b"via eprt".to_vec(), b"via port".to_vec()));
    assert_eq!(outcome.data_received, b"uploaded bytes");
}

#[test]
fn a_transfer_aborted_by_the_server_is_a_transient_error() {
    let steps = script(vec![
        banner_and_type(),
        open_data(DataMode::PassiveOnly, "RETR f"),
        vec![
            Step::send("150 ok (1000000 bytes)\r\n"),
            Step::data("only the beginning"),
            Step::DataClose,
            Step::Sleep(200),
            Step::send("426 Connection closed; transfer aborted\r\n"),
        ],
        noop_ok(),
    ]);
    let (err, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::PassiveOnly));
        let mut sink = Vec::new();
        let err = c.retr("f", 0, &mut sink, &mut |_| {}).unwrap_err();
        // Normally the data arrives before the 426; on a loaded machine the
        // client may see the 426 first and skip the data. Both are right.
        assert!(sink.is_empty() || sink == b"only the beginning", "{sink:?}");
        c.noop().unwrap();
        err
    });
    outcome.assert_ok();
    assert_eq!(err.code(), Some(426), "{err}");
    assert!(err.is_transient(), "{err}");
}

#[test]
fn stor_refused_after_the_data_is_an_error() {
    let steps = script(vec![
        banner_and_type(),
        open_data(DataMode::PassiveOnly, "STOR f"),
        vec![
            Step::send("150 ok\r\n"),
            Step::DataRecv,
            Step::DataClose,
            Step::send("552 Disk quota exceeded\r\n"),
        ],
        noop_ok(),
    ]);
    let (err, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::PassiveOnly));
        let err = c.stor("f", &mut &b"too much"[..], &mut |_| {}).unwrap_err();
        c.noop().unwrap();
        err
    });
    outcome.assert_ok();
    assert_eq!(outcome.data_received, b"too much");
    assert_eq!(err.code(), Some(552), "{err}");
    assert!(err.is_permanent());
}

#[test]
fn unsolicited_reply_bytes_make_the_session_not_reusable() {
    let steps = vec![
        Step::send("220 hi\r\n"),
        Step::expect("NOOP"),
        Step::send("200 ok\r\n200 surprise\r\n"),
    ];
    let (reusable, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::Passive));
        c.noop().unwrap();
        c.is_reusable()
    });
    outcome.assert_ok();
    assert!(
        !reusable,
        "a session with unread reply bytes must not be reused"
    );
}

#[test]
fn greeting_after_120_and_a_refused_greeting() {
    let steps = script(vec![
        vec![
            Step::send("120 Service ready in 1 minute\r\n"),
            Step::Sleep(50),
            Step::send("220 Ready now\r\n"),
        ],
        noop_ok(),
    ]);
    let (_, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::Passive));
        assert_eq!(c.welcome().code().get(), 220);
        c.noop().unwrap();
    });
    outcome.assert_ok();

    let (err, outcome) = run_client(
        vec![Step::send("421 Too many users\r\n"), Step::Close],
        |server| {
            Client::connect(&server.host(), server.port(), config(DataMode::Passive)).unwrap_err()
        },
    );
    outcome.assert_ok();
    assert!(err.is_service_closing() && err.is_transient(), "{err}");
}

#[test]
fn size_announced_in_150_is_reported_by_the_stream() {
    let payload = pseudo_random_bytes(9, 12_345);
    let steps = script(vec![
        banner_and_type(),
        open_data(DataMode::PassiveOnly, "RETR f"),
        vec![
            Step::send("150 Opening BINARY mode data connection for f (12345 bytes)\r\n"),
            Step::DataSend(payload.clone()),
            Step::DataClose,
            Step::send("226 ok\r\n"),
        ],
    ]);
    let (got, outcome) = run_client(steps, |server| {
        use std::io::Read;
        let mut c = connect(server, config(DataMode::PassiveOnly));
        let mut stream = c.retr_stream("f", 0).unwrap();
        assert_eq!(stream.expected(), Some(12_345));
        let mut got = Vec::new();
        stream.read_to_end(&mut got).unwrap();
        assert_eq!(stream.finish().unwrap().code().get(), 226);
        got
    });
    outcome.assert_ok();
    assert!(got == payload);
}

#[test]
fn a_trickling_reply_still_times_out() {
    // One byte every 20 ms: each read succeeds, but the greeting as a whole
    // takes longer than the connect timeout that bounds it.
    // Sending all of it takes 150 * 20 ms = 3 s.
    let greeting = format!("220 {}\r\n", "slow ".repeat(29));
    let chunks: Vec<Vec<u8>> = greeting.bytes().map(|b| vec![b]).collect();
    let ((err, took), _) = run_client(vec![Step::SendRaw(chunks)], |server| {
        let cfg = Config {
            timeouts: Timeouts::all(Duration::from_millis(300)),
            ..config(DataMode::Passive)
        };
        timed(|| Client::connect(&server.host(), server.port(), cfg).unwrap_err())
    });
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::Connect
            }
        ),
        "{err:?}"
    );
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[test]
fn a_stream_ending_with_a_negative_reply_is_a_read_error() {
    let steps = script(vec![
        banner_and_type(),
        open_data(DataMode::PassiveOnly, "RETR f"),
        vec![
            Step::send("150 ok\r\n"),
            Step::data("partial"),
            Step::DataClose,
            // Late enough that the client has started reading the data.
            Step::Sleep(200),
            Step::send("451 Local error in processing\r\n"),
        ],
        noop_ok(),
    ]);
    let ((read, got), outcome) = run_client(steps, |server| {
        use std::io::Read;
        let mut c = connect(server, config(DataMode::PassiveOnly));
        let mut got = Vec::new();
        let read = match c.retr_stream("f", 0) {
            Ok(mut stream) => {
                let read = stream.read_to_end(&mut got).map_err(|e| e.to_string());
                let finished = stream.finish().expect_err("the transfer failed");
                // Regression: finish() used to drop the reply of a failed read.
                assert_eq!(finished.code(), Some(451), "{finished}");
                assert!(finished.is_transient());
                read
            }
            // Only when the client was so slow that the 451 came with the 150.
            Err(e) => Err(e.to_string()),
        };
        c.noop().unwrap();
        (read, got)
    });
    outcome.assert_ok();
    assert!(got.is_empty() || got == b"partial", "{got:?}");
    let err = read.unwrap_err();
    assert!(err.contains("451"), "{err}");
}

/// Regression: a `1yz` to NOOP left its final reply unread, and the next
/// command took that reply as its own while the session still looked
/// reusable.
#[test]
fn a_preliminary_reply_to_a_simple_command_breaks_the_session() {
    let steps = script(vec![
        banner_and_type(),
        vec![
            Step::expect("NOOP"),
            Step::send("150 weird\r\n"),
            Step::Sleep(100),
            Step::send("200 late\r\n"),
        ],
    ]);
    let (after, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::PassiveOnly));
        c.set_type(ftp_proto::client::TransferType::Binary).unwrap();
        let err = c.noop().expect_err("150 is not an answer to NOOP");
        assert!(
            matches!(
                err,
                Error::Unexpected {
                    command: "NOOP",
                    ..
                }
            ),
            "{err}"
        );
        assert!(!c.is_reusable());
        c.noop().map_err(|e| e.to_string())
    });
    outcome.assert_ok();
    let err = after.expect_err("a broken session refuses further commands");
    assert!(err.contains("no longer usable"), "{err}");
}

/// Regression: the address of a multi-line 227 or 229 was looked for on
/// the first line only.
#[test]
fn passive_replies_with_the_address_on_a_later_line() {
    for mode in [DataMode::PassiveOnly, DataMode::Passive] {
        let (verb, reply) = match mode {
            DataMode::PassiveOnly => (
                "PASV",
                "227-Entering Passive Mode\r\n227 (127,0,0,1,{p1},{p2})\r\n",
            ),
            _ => (
                "EPSV",
                "229-Entering Extended Passive Mode\r\n229 (|||{port}|)\r\n",
            ),
        };
        let steps = script(vec![
            banner_and_type(),
            vec![
                Step::expect(verb),
                Step::PasvReply(reply.into()),
                Step::expect("LIST"),
                Step::send("150 here\r\n"),
                Step::data("-rw-r--r-- 1 u g 5 Nov 21 10:00 a.txt\r\n"),
                Step::DataClose,
                Step::send("226 done\r\n"),
            ],
        ]);
        let (lines, outcome) = run_client(steps, move |server| {
            let mut cfg = config(mode);
            cfg.pipeline = false;
            let mut c = connect(server, cfg);
            c.set_type(ftp_proto::client::TransferType::Binary).unwrap();
            c.list(None).map_err(|e| e.to_string())
        });
        outcome.assert_ok();
        assert_eq!(
            lines.unwrap(),
            vec![b"-rw-r--r-- 1 u g 5 Nov 21 10:00 a.txt".to_vec()],
            "{mode:?}"
        );
    }
}

#[test]
fn active_mode_takes_the_final_reply_sent_before_it_accepted() {
    // Through a relay (a proxy, a slow network) the control replies can
    // overtake the data connection: the server sent everything and said 226
    // before the connection reached the client. The 226 is the transfer's
    // end, not a protocol error.
    let steps = script(vec![
        banner_and_type(),
        vec![
            Step::expect("EPRT |1|127.0.0.1|"),
            Step::send("200 EPRT ok\r\n"),
            Step::expect("RETR a"),
            Step::send("150 connecting\r\n"),
            Step::Sleep(50),
            Step::send("226 done\r\n"),
            Step::Sleep(50),
            Step::ConnectBack,
            Step::data("all of it"),
            Step::DataClose,
        ],
        noop_ok(),
    ]);
    let (got, outcome) = run_client(steps, |server| {
        let mut c = connect(server, config(DataMode::Active));
        let mut a = Vec::new();
        c.retr("a", 0, &mut a, &mut |_| {}).unwrap();
        c.noop().unwrap();
        assert!(c.is_reusable(), "{:?}", c.close_reason());
        a
    });
    outcome.assert_ok();
    assert_eq!(got, b"all of it");
}

#[test]
fn quit_without_waiting_does_not_wait_for_the_221() {
    let steps = vec![
        Step::send("220 hi\r\n"),
        Step::expect("QUIT"),
        // A slow goodbye: the client is gone long before.
        Step::Sleep(3_000),
        Step::send("221 bye\r\n"),
    ];
    let (took, outcome) = run_client(steps, |server| {
        let c = connect(server, config(DataMode::Passive));
        timed(|| c.quit_without_waiting()).1
    });
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(outcome.client_closed, "{outcome:?}");
}
