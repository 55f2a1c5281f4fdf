//! Smoke run of the whole benchmark harness, so it cannot rot: a tiny tree,
//! one run, every tool, on loopback and through the latency proxy at 20 ms,
//! every output verified byte for byte. Fails with a clear message when a
//! peer (lftp, rclone, wget, curl) or pyftpdlib is missing.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ftp_mirror_benches::report::{markdown, svg_chart, RunInfo};
use ftp_mirror_benches::server::{repo_root, ServerKind};
use ftp_mirror_benches::stats::{summarize, Mode};
use ftp_mirror_benches::suite::{check_tools, run_suite, SuiteConfig};
use ftp_mirror_benches::targets::evaluate;
use ftp_mirror_benches::tools::{Tool, ToolEnv, ALL_TOOLS};
use ftp_mirror_benches::tree::TreeSpec;

/// `$FTP_MIRROR_BIN`, or a freshly built debug `ftp-mirror`.
fn ftp_mirror_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("FTP_MIRROR_BIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let status = Command::new(cargo)
        .args(["build", "-q", "-p", "ftp-mirror-cli"])
        .current_dir(repo_root())
        .status()
        .expect("run cargo build -p ftp-mirror-cli");
    assert!(status.success(), "cargo build -p ftp-mirror-cli failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("debug/ftp-mirror")
}

#[test]
fn every_tool_mirrors_the_smoke_tree_and_verifies() {
    let bin = ftp_mirror_binary();
    let out = tempfile::tempdir().expect("tempdir");
    let scratch = out.path().join("scratch");
    std::fs::create_dir_all(&scratch).expect("scratch");
    let env = ToolEnv {
        ftp_mirror: bin,
        exec_wrapper: Some(PathBuf::from(env!("CARGO_BIN_EXE_bench-exec"))),
        ..ToolEnv::discover(&scratch)
    };
    if let Err(e) = check_tools(&ALL_TOOLS, &env) {
        panic!("{e}\n(scripts/test.sh installs the peers; or run scripts/bench.sh --setup)");
    }
    let config = SuiteConfig {
        out: out.path().to_path_buf(),
        trees: vec![TreeSpec::smoke()],
        rtts_ms: vec![0, 20],
        sessions: vec![4],
        runs: 1,
        tools: ALL_TOOLS.to_vec(),
        servers: vec![ServerKind::Pyftpdlib, ServerKind::FtpServe],
        rerun: true,
        timeout: Duration::from_secs(40),
        handshake_one_ways: 3,
        trace: false,
    };
    let started = Instant::now();
    let mut log = Vec::new();
    let results = run_suite(&config, &env, &mut |line| log.push(line.to_string()))
        .unwrap_or_else(|e| panic!("harness error: {e}\n{}", log.join("\n")));
    let elapsed = started.elapsed();
    let failures: Vec<String> = results
        .failures
        .iter()
        .map(|f| {
            format!(
                "{} {} ms {} {}: {}",
                f.tool.name(),
                f.scenario.rtt_ms,
                f.scenario.server.name(),
                f.scenario.mode.name(),
                f.reason
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "runs failed:\n{}\n\nlog:\n{}",
        failures.join("\n"),
        log.join("\n")
    );

    // pyftpdlib, per RTT: both ftp-mirrors, both lftps, both rclones, wget
    // fresh + re-run, curl and the ftplib pool fresh only; ftp-serve: both
    // ftp-mirrors fresh + re-run.
    let count = |server: ServerKind, tool: Tool, mode: Mode| {
        results
            .samples
            .iter()
            .filter(|s| s.scenario.server == server && s.tool == tool && s.scenario.mode == mode)
            .count()
    };
    for tool in ALL_TOOLS {
        assert_eq!(
            count(ServerKind::Pyftpdlib, tool, Mode::Fresh),
            2,
            "{} fresh",
            tool.name()
        );
        let reruns = if tool.incremental() { 2 } else { 0 };
        assert_eq!(
            count(ServerKind::Pyftpdlib, tool, Mode::Rerun),
            reruns,
            "{} re-run",
            tool.name()
        );
    }
    for tool in [Tool::FtpMirror, Tool::FtpMirrorStat] {
        assert_eq!(count(ServerKind::FtpServe, tool, Mode::Fresh), 2);
        assert_eq!(count(ServerKind::FtpServe, tool, Mode::Rerun), 2);
    }
    assert_eq!(results.samples.len(), 40, "{}", log.join("\n"));

    // Through the proxy every run pays at least the handshake and the banner
    // (2 RTT = 40 ms): the latency is really applied.
    for s in results.samples.iter().filter(|s| s.scenario.rtt_ms == 20) {
        assert!(
            s.measurement.wall >= Duration::from_millis(40),
            "{} at 20 ms took only {:?}",
            s.tool.name(),
            s.measurement.wall
        );
    }
    for s in &results.samples {
        assert!(
            s.measurement.max_rss_kib > 0,
            "{} has no rusage",
            s.tool.name()
        );
    }

    // The report pieces render from real samples.
    let summaries = summarize(&results.samples);
    let targets = evaluate(&summaries);
    // T1 to T3 for ftp-mirror and ftp-mirror-stat, T4 to T8.
    assert_eq!(targets.len(), 11);
    let md = markdown(
        &RunInfo::default(),
        &results.trees,
        &summaries,
        &targets,
        &[],
        &[],
        Some("x.svg"),
    );
    for tool in ALL_TOOLS {
        assert!(
            md.contains(&format!("| {} |", tool.name())),
            "table lacks {}:\n{md}",
            tool.name()
        );
    }
    let svg = svg_chart(&summaries);
    assert!(svg.contains("ftplib-pool") && svg.contains("ftp-mirror-stat ×4"));
    assert!(
        md.contains("| Peer / ftp-mirror | Peer / ftp-mirror-stat |"),
        "{md}"
    );
    assert!(
        elapsed < Duration::from_secs(90),
        "smoke run took {elapsed:?}:\n{}",
        log.join("\n")
    );
}
