//! The `ftp-mirror` binary end to end: demo, get, ls, run, exit codes and
//! secrets, against the embedded server and pyftpdlib.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use ftp_mirror_tests::pyftpd::PyFtpd;
use ftp_mirror_tests::tree::{assert_trees_equal, build_sample_tree, snapshot, SAMPLE_BIG_FILE};
use ftp_proto::client::Password;
use ftp_serve::{Server, ServerConfig, ServerHandle};

const BIN: &str = env!("CARGO_BIN_EXE_ftp-mirror");

/// Runs the binary with a deadline (a hang fails the test) and the given
/// extra environment; no password leaks in from the caller's environment.
fn ftp_mirror_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let cwd = cwd.to_path_buf();
    ftp_mirror_tests::within(Duration::from_secs(120), "ftp-mirror", move || {
        Command::new(BIN)
            .args(&args)
            .current_dir(&cwd)
            .env_remove("FTP_PASSWORD")
            .env("NETRC", "/nonexistent")
            .envs(env)
            .output()
            .expect("run ftp-mirror")
    })
}

fn ftp_mirror(args: &[&str], cwd: &Path) -> Output {
    ftp_mirror_env(args, cwd, &[])
}

fn serve(root: &Path, credentials: Option<(&str, &str)>) -> ServerHandle {
    Server::bind(ServerConfig {
        root: root.to_path_buf(),
        credentials: credentials.map(|(u, p)| (u.to_string(), Password::new(p))),
        ..ServerConfig::default()
    })
    .expect("bind")
    .spawn()
    .expect("spawn")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn demo_runs_to_completion_and_a_second_run_fetches_nothing() {
    let work = tempfile::tempdir().unwrap();
    let out = ftp_mirror(
        &["demo", "--no-progress", "--json", "report.json"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let demo = work.path().join("ftp-mirror-demo");
    let nightly = demo.join("served/builds/nightly");
    let weather = demo.join("served/datasets/weather");
    assert_trees_equal(&nightly, &demo.join("stage/nightly"));
    assert_trees_equal(&weather, &demo.join("stage/weather"));
    assert_trees_equal(&nightly, &demo.join("machines/web1/nightly"));
    assert_trees_equal(&nightly, &demo.join("machines/web2/nightly"));
    assert_trees_equal(&weather, &demo.join("machines/web1/weather"));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Where everything landed"),
        "{}",
        text(&out)
    );
    assert!(demo.join("ftp-mirror.log").is_file());

    let again = ftp_mirror(
        &["demo", "--no-progress", "--json", "report2.json"],
        work.path(),
    );
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(work.path().join("report2.json")).unwrap())
            .unwrap();
    for m in report["modules"].as_array().unwrap() {
        assert_eq!(m["files_fetched"], 0, "{m}");
        assert!(m["files_unchanged"].as_u64().unwrap() > 0, "{m}");
    }
}

#[test]
fn get_a_file_and_a_directory() {
    let src = tempfile::tempdir().unwrap();
    build_sample_tree(src.path(), 300_000);
    let server = serve(src.path(), None);
    let work = tempfile::tempdir().unwrap();
    let base = format!("ftp://{}", server.local_addr());

    let big = Path::new(SAMPLE_BIG_FILE);
    let name = big.file_name().unwrap();
    let out = ftp_mirror(
        &["get", &format!("{base}/{SAMPLE_BIG_FILE}"), "--no-progress"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        fs::read(work.path().join(name)).unwrap(),
        fs::read(src.path().join(big)).unwrap()
    );

    let out = ftp_mirror(
        &[
            "get",
            &format!("{base}/"),
            "copy",
            "-j",
            "3",
            "--no-progress",
        ],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_trees_equal(src.path(), &work.path().join("copy"));

    // The same in active mode with listings over the control connection.
    let out = ftp_mirror(
        &[
            "get",
            &format!("{base}/"),
            "copy2",
            "--active",
            "--stat-listings",
            "--no-progress",
        ],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_trees_equal(src.path(), &work.path().join("copy2"));
}

#[test]
fn dry_run_changes_nothing() {
    let src = tempfile::tempdir().unwrap();
    build_sample_tree(src.path(), 1000);
    let server = serve(src.path(), None);
    let work = tempfile::tempdir().unwrap();
    let before = snapshot(work.path());
    let url = format!("ftp://{}/", server.local_addr());
    let out = ftp_mirror(
        &["get", &url, "copy", "--dry-run", "--no-progress"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(snapshot(work.path()), before, "{}", text(&out));
}

#[test]
fn ls_lists_names_as_json_and_table() {
    let src = tempfile::tempdir().unwrap();
    build_sample_tree(src.path(), 1000);
    let server = serve(src.path(), None);
    let work = tempfile::tempdir().unwrap();
    let url = format!("ftp://{}/", server.local_addr());
    let out = ftp_mirror(&["ls", &url, "--json"], work.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut names: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    let mut want: Vec<String> = fs::read_dir(src.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    want.sort();
    assert_eq!(names, want);
    let modified = items[0]["modified"].as_str().unwrap();
    assert!(
        modified.len() == 20 && modified.as_bytes()[10] == b'T',
        "{modified}"
    );
    // A URL naming a file lists that file.
    let file_url = format!("ftp://{}/{SAMPLE_BIG_FILE}", server.local_addr());
    let out = ftp_mirror(&["ls", &file_url, "--json"], work.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items[0]["name"], "big.bin", "{items}");
    let out = ftp_mirror(&["ls", &url], work.path());
    let top = SAMPLE_BIG_FILE.split('/').next().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(top),
        "{}",
        text(&out)
    );
}

#[test]
fn bad_usage_and_bad_plans_exit_2_and_touch_nothing() {
    let work = tempfile::tempdir().unwrap();
    let out = ftp_mirror(&["get", "http://example.invalid/"], work.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = ftp_mirror(&["frobnicate"], work.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // A get that would replace the working directory is refused as bad usage.
    let src = tempfile::tempdir().unwrap();
    fs::write(src.path().join("f.txt"), b"f").unwrap();
    let server = serve(src.path(), None);
    fs::write(work.path().join("mine.txt"), b"keep me").unwrap();
    let url = format!("ftp://{}/", server.local_addr());
    let out = ftp_mirror(&["get", &url, ".", "--no-progress"], work.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(fs::read(work.path().join("mine.txt")).unwrap(), b"keep me");
    fs::remove_file(work.path().join("mine.txt")).unwrap();

    let stage = work.path().join("stage");
    let plan = format!(
        r#"<download><module_list><module id="A">
             <ftp_info machine_name="127.0.0.1:1"><ftp_uid>u</ftp_uid></ftp_info>
             <stage_location>{}</stage_location></module></module_list></download>"#,
        stage.display()
    );
    fs::write(work.path().join("plan.xml"), plan).unwrap();
    let out = ftp_mirror(&["run", "plan.xml"], work.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ftp_location") && stderr.contains("line"),
        "{}",
        text(&out)
    );
    assert!(!stage.exists());

    fs::write(work.path().join("broken.xml"), "<download><module_list>").unwrap();
    let out = ftp_mirror(&["run", "broken.xml"], work.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn a_refused_login_exits_1_while_the_other_module_finishes_and_no_password_leaks() {
    let src = tempfile::tempdir().unwrap();
    build_sample_tree(src.path(), 1000);
    let good = serve(src.path(), Some(("builder", "right-horse-battery")));
    let other = serve(src.path(), Some(("builder", "right-horse-battery")));
    let work = tempfile::tempdir().unwrap();
    let stage = work.path().join("stage");
    // "right-horse-battery" and "wrong-staple-secret", base64-encoded.
    let plan = format!(
        r#"<?xml version="1.0"?>
<download>
  <config_list><config_item id="LOG_LEVEL">DEBUG</config_item></config_list>
  <module_list>
    <module id="GOOD" keep_original="no">
      <ftp_info machine_name="{good}"><ftp_uid>builder</ftp_uid>
        <ftp_password encryption="base64">cmlnaHQtaG9yc2UtYmF0dGVyeQ==</ftp_password>
        <ftp_location>/good</ftp_location></ftp_info>
      <stage_location>{stage}</stage_location>
    </module>
    <module id="BAD">
      <ftp_info machine_name="{other}"><ftp_uid>builder</ftp_uid>
        <ftp_password encryption="base64">d3Jvbmctc3RhcGxlLXNlY3JldA==</ftp_password>
        <ftp_location>/bad</ftp_location></ftp_info>
      <stage_location>{stage}</stage_location>
    </module>
  </module_list>
</download>"#,
        good = good.local_addr(),
        other = other.local_addr(),
        stage = stage.display()
    );
    fs::create_dir_all(src.path().join("good")).unwrap();
    fs::write(src.path().join("good/file.txt"), b"good data").unwrap();
    fs::create_dir_all(src.path().join("bad")).unwrap();
    fs::write(work.path().join("plan.xml"), plan).unwrap();
    let out = ftp_mirror(
        &["run", "plan.xml", "--no-progress", "--json", "-"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(
        !all.contains("right-horse-battery") && !all.contains("wrong-staple-secret"),
        "{all}"
    );
    assert_eq!(fs::read(stage.join("good/file.txt")).unwrap(), b"good data");
    assert!(!stage.join("bad").exists(), "{all}");
    // Regression: with `--json -` the summary table used to precede the JSON on stdout.
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is the JSON alone");
    let status: Vec<&str> = report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["ok", "failed"], "{all}");
}

#[test]
fn get_against_pyftpdlib_with_the_password_from_the_environment() {
    let src = tempfile::tempdir().unwrap();
    build_sample_tree(src.path(), 200_000);
    let server = PyFtpd::builder(src.path())
        .user("alice", "pa55-word")
        .start();
    let work = tempfile::tempdir().unwrap();
    let url = format!("ftp://alice@127.0.0.1:{}/", server.port());
    let out = ftp_mirror_env(
        &[
            "get",
            &url,
            "copy",
            "-j",
            "4",
            "--no-progress",
            "--log-level",
            "DEBUG",
        ],
        work.path(),
        &[("FTP_PASSWORD", "pa55-word")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("pa55-word"));
    assert_trees_equal(src.path(), &work.path().join("copy"));
}

#[test]
fn ctrl_c_stops_cleanly_with_exit_130_and_the_next_run_resumes() {
    let src = tempfile::tempdir().unwrap();
    let big = ftp_mirror_tests::tree::pseudo_random_bytes(11, 1024 * 1024);
    fs::write(src.path().join("big.bin"), &big).unwrap();
    // 1 MiB at 128 KiB/s: about 8 s, long enough to interrupt.
    let slow = PyFtpd::builder(src.path())
        .max_download_rate(128 * 1024)
        .start();
    let work = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args([
            "get",
            &format!("ftp://127.0.0.1:{}/big.bin", slow.port()),
            "--no-progress",
            "--json",
            "-",
        ])
        .current_dir(work.path())
        .env("NETRC", "/nonexistent")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until some bytes are on disk in `.big.bin.ftp-mirror-part`.
    let part_len = || {
        fs::read_dir(work.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with("-part"))
            .map(|e| e.metadata().map_or(0, |m| m.len()))
            .max()
    };
    let started = std::time::Instant::now();
    while part_len().unwrap_or(0) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no .part appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Twice, 20 ms apart, as GNU timeout does (process and group): one
    // request, still a clean stop with its report.
    for _ in 0..2 {
        // SAFETY: a plain kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
        std::thread::sleep(Duration::from_millis(20));
    }
    let stopping = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if stopping.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("ftp-mirror did not stop after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {stderr}"));
    assert_eq!(report["modules"][0]["status"], "interrupted");
    assert_eq!(report["interrupted"], true);
    assert!(!work.path().join("big.bin").exists());
    let kept = part_len().expect("the .part file is kept");
    assert!(kept > 0 && kept < big.len() as u64, "{kept}");

    // The next run, from an unthrottled server on the same tree, resumes.
    let fast = PyFtpd::start(src.path());
    let out = ftp_mirror(
        &[
            "get",
            &format!("ftp://127.0.0.1:{}/big.bin", fast.port()),
            "--no-progress",
            "--json",
            "-",
        ],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(fs::read(work.path().join("big.bin")).unwrap(), big);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fetched = report["modules"][0]["bytes_fetched"].as_u64().unwrap();
    assert!(
        fetched <= big.len() as u64 - kept,
        "{fetched} bytes fetched again"
    );
}

#[test]
fn exclude_leaves_files_out_and_a_bad_pattern_exits_2_before_connecting() {
    let src = tempfile::tempdir().unwrap();
    build_sample_tree(src.path(), 50_000);
    let server = serve(src.path(), None);
    let work = tempfile::tempdir().unwrap();
    // The sample tree without its `.txt` files and without `empty-dir`
    // (the directories that held only `.txt` files stay, empty).
    let expected = tempfile::tempdir().unwrap();
    build_sample_tree(expected.path(), 50_000);
    let mut left_out = 0;
    for (rel, _) in snapshot(expected.path()) {
        if rel.extension().is_some_and(|e| e == "txt") {
            fs::remove_file(expected.path().join(rel)).unwrap();
            left_out += 1;
        }
    }
    assert_eq!(left_out, 6);
    fs::remove_dir(expected.path().join("empty-dir")).unwrap();

    let url = format!("ftp://{}/", server.local_addr());
    let get = |dest: &str, extra: &[&str]| {
        let mut args = vec!["get", &url, dest, "--no-progress", "--json", "-"];
        args.extend_from_slice(extra);
        let out = ftp_mirror(&args, work.path());
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        (out, report)
    };
    let patterns = ["--exclude", "*.txt", "--exclude", "/empty-dir/"];
    let (out, report) = get("copy", &patterns);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_trees_equal(expected.path(), &work.path().join("copy"));
    assert_eq!(report["modules"][0]["excluded"], 7, "{}", text(&out));

    // A dry run leaves out the same: nothing to fetch, nothing to delete.
    let (out, report) = get("copy", &[&patterns[..], &["--dry-run"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(report["modules"][0]["excluded"], 7, "{}", text(&out));
    assert!(
        report["modules"][0].get("would_fetch").is_none(),
        "{report}"
    );
    assert!(
        report["modules"][0].get("would_delete").is_none(),
        "{report}"
    );

    // Without the patterns, exactly what they left out is fetched.
    let (out, report) = get("copy", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(report["modules"][0]["files_fetched"], 6, "{}", text(&out));
    assert_eq!(report["modules"][0]["excluded"], 0, "{}", text(&out));
    assert_trees_equal(src.path(), &work.path().join("copy"));

    // `run` takes them too, for every module of the plan.
    let stage = work.path().join("stage");
    let plan = |addr: &str| {
        format!(
            r#"<download><module_list><module id="M" keep_original="no">
                 <ftp_info machine_name="{addr}"><ftp_uid>anonymous</ftp_uid>
                   <ftp_location>/dir1</ftp_location></ftp_info>
                 <stage_location>{}</stage_location></module></module_list></download>"#,
            stage.display()
        )
    };
    fs::write(
        work.path().join("plan.xml"),
        plan(&server.local_addr().to_string()),
    )
    .unwrap();
    let out = ftp_mirror(
        &["run", "plan.xml", "--no-progress", "--exclude", "*.txt"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_trees_equal(&expected.path().join("dir1"), &stage.join("dir1"));

    // A bad pattern is bad usage: exit 2, the pattern named, and nothing
    // connects (a listener that sees no connection) or is created.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    fs::write(work.path().join("quiet.xml"), plan(&addr)).unwrap();
    let before = snapshot(work.path());
    let bad_get = format!("ftp://{addr}/");
    for args in [
        &[
            "get",
            &bad_get,
            "new",
            "--exclude",
            "*.ok",
            "--exclude",
            "{a,b",
        ][..],
        &["run", "quiet.xml", "--exclude", "{a,b"][..],
    ] {
        let out = ftp_mirror(args, work.path());
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("bad exclude pattern \"{a,b\""),
            "{}",
            text(&out)
        );
    }
    assert_eq!(snapshot(work.path()), before);
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "something connected"
    );
}

#[test]
fn a_url_that_does_not_parse_is_not_echoed_with_its_password() {
    let work = tempfile::tempdir().unwrap();
    for (cmd, url) in [
        ("get", "ftp://bob:pw%zzXYZ@127.0.0.1:1/"),
        ("ls", "ftp://bob:pa/ss%zz@127.0.0.1:1/"),
        ("get", "ftp://bob:hunter2@127.0.0.1:99999/"),
    ] {
        let out = ftp_mirror(&[cmd, url], work.path());
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(all.contains("bob:***@"), "{all}");
        for secret in ["pw%zzXYZ", "pa/ss", "hunter2"] {
            assert!(!all.contains(secret), "{secret} leaked: {all}");
        }
    }
}

#[test]
fn ftp_password_is_not_sent_for_an_anonymous_login() {
    use ftp_mirror_tests::fake::{FakeServer, Step};
    let server = FakeServer::start(vec![
        Step::send("220 fake\r\n"),
        Step::expect("USER"),
        Step::expect("PASS"),
        Step::send("331 password\r\n230 in\r\n"),
        Step::Close,
    ]);
    let work = tempfile::tempdir().unwrap();
    let out = ftp_mirror_env(
        &["ls", &format!("ftp://{}/pub", server.addr())],
        work.path(),
        &[("FTP_PASSWORD", "MyPrivateSecret")],
    );
    let outcome = server.finish();
    let pass = outcome
        .commands
        .iter()
        .find(|c| c.starts_with("PASS"))
        .cloned()
        .unwrap_or_default();
    assert!(
        outcome.commands[0].starts_with("USER anonymous"),
        "{outcome:?}"
    );
    assert!(!pass.contains("MyPrivateSecret"), "{pass}: {}", text(&out));
    assert!(
        pass.len() > "PASS ".len(),
        "an anonymous password is sent: {pass}"
    );
}

#[test]
fn get_into_a_new_dir_slash_and_a_directory_into_a_file() {
    let src = tempfile::tempdir().unwrap();
    build_sample_tree(src.path(), 100_000);
    let server = serve(src.path(), None);
    let work = tempfile::tempdir().unwrap();
    let base = format!("ftp://{}", server.local_addr());

    // `DEST/` names a directory that does not exist yet.
    let out = ftp_mirror(
        &[
            "get",
            &format!("{base}/{SAMPLE_BIG_FILE}"),
            "newdir/",
            "--no-progress",
        ],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let name = Path::new(SAMPLE_BIG_FILE).file_name().unwrap();
    assert_eq!(
        fs::read(work.path().join("newdir").join(name)).unwrap(),
        fs::read(src.path().join(SAMPLE_BIG_FILE)).unwrap()
    );

    // A directory URL into an existing file: refused before anything.
    fs::write(work.path().join("afile"), b"mine").unwrap();
    let out = ftp_mirror(
        &["get", &format!("{base}/"), "afile", "--no-progress"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not a directory"), "{}", text(&out));
    assert_eq!(fs::read(work.path().join("afile")).unwrap(), b"mine");
    let litter: Vec<_> = fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("afile") && n != "afile")
        .collect();
    assert!(litter.is_empty(), "{litter:?}");
}

#[test]
fn an_unwritable_json_report_is_a_usage_error_before_the_run() {
    let work = tempfile::tempdir().unwrap();
    let bad = work.path().join("no-such-dir/report.json");
    let bad = bad.to_str().unwrap();
    for args in [
        vec!["get", "ftp://127.0.0.1:1/x", "--json", bad],
        vec!["run", "plan.xml", "--json", bad],
    ] {
        let out = ftp_mirror(&args, work.path());
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains("cannot write the report"),
            "{}",
            text(&out)
        );
    }
}
