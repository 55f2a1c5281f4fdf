//! `bench-exec` measures a tool's own peak RSS, where `wait4` on a child
//! spawned from a big process reports the parent's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ftp_mirror_benches::runner::run_measured;

#[test]
fn wrapper_reports_the_child_rss_not_the_parents() {
    // Make this process big: 160 MiB, touched.
    let ballast: Vec<u8> = vec![1u8; 160 << 20];
    assert_eq!(
        ballast
            .iter()
            .step_by(4096)
            .map(|&b| b as usize)
            .sum::<usize>(),
        (160 << 20) / 4096
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("true.log");
    let wrapper = PathBuf::from(env!("CARGO_BIN_EXE_bench-exec"));

    let direct = run_measured(
        &mut Command::new("true"),
        &log,
        Duration::from_secs(30),
        None,
    )
    .expect("direct");
    assert!(direct.success);
    assert!(
        direct.measurement.max_rss_kib >= 150 * 1024,
        "{:?}",
        direct.measurement
    );

    let wrapped = run_measured(
        &mut Command::new("true"),
        &log,
        Duration::from_secs(30),
        Some(&wrapper),
    )
    .expect("wrapped");
    assert!(wrapped.success, "{}", wrapped.output_tail);
    assert!(
        wrapped.measurement.max_rss_kib < 16 * 1024,
        "{:?}",
        wrapped.measurement
    );
    drop(ballast);
}

#[test]
fn wrapper_passes_exit_status_environment_and_timeouts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("sh.log");
    let wrapper = Path::new(env!("CARGO_BIN_EXE_bench-exec"));
    let mut sh = Command::new("sh");
    sh.args(["-c", "echo \"$GREETING\"; exit 7"])
        .env("GREETING", "hello");
    let out = run_measured(&mut sh, &log, Duration::from_secs(30), Some(wrapper)).expect("run");
    assert!(!out.success);
    assert_eq!(out.exit, "exit 7");
    assert_eq!(out.output_tail, "hello");

    let mut sleep = Command::new("sleep");
    sleep.arg("30");
    let started = std::time::Instant::now();
    let out =
        run_measured(&mut sleep, &log, Duration::from_millis(300), Some(wrapper)).expect("run");
    assert!(out.exit.starts_with("timed out"), "{}", out.exit);
    assert!(started.elapsed() < Duration::from_secs(10));
}
