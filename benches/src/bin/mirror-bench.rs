//! `mirror-bench`: the side-by-side benchmark (see docs/benchmarks.md).
//!
//! `scripts/bench.sh` is the usual entry point; it passes its arguments here.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Parser;
use ftp_mirror_benches::report::{self, RunInfo};
use ftp_mirror_benches::server::{repo_root, ServerKind};
use ftp_mirror_benches::stats::{summarize, Sample};
use ftp_mirror_benches::suite::{check_tools, run_suite, SuiteConfig};
use ftp_mirror_benches::targets::{self, Status};
use ftp_mirror_benches::tools::{Tool, ToolEnv, ALL_TOOLS};
use ftp_mirror_benches::tree::TreeSpec;

/// Mirror deterministic trees with ftp-mirror and its peers and compare.
#[derive(Parser, Debug)]
#[command(name = "mirror-bench")]
struct Args {
    /// Small run (the default): tree a, 0 and 20 ms, 16 sessions, 1 run.
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// Everything: trees a,b,c,d, 0/20/100 ms, 8 and 16 sessions, 3 runs.
    #[arg(long)]
    full: bool,
    /// Trees (a, b, c, d, smoke), comma-separated.
    #[arg(long, value_delimiter = ',')]
    trees: Option<Vec<String>>,
    /// Round-trip times in ms, comma-separated (0: no proxy).
    #[arg(long, value_delimiter = ',')]
    rtt: Option<Vec<u64>>,
    /// Session counts, comma-separated.
    #[arg(long, value_delimiter = ',')]
    sessions: Option<Vec<usize>>,
    /// Runs per measurement.
    #[arg(long)]
    runs: Option<usize>,
    /// Tools, comma-separated (ftp-mirror, ftp-mirror-stat, lftp, lftp-stat,
    /// rclone, rclone-uncapped, wget, curl, ftplib-pool); default: all.
    #[arg(long, value_delimiter = ',')]
    tools: Option<Vec<String>>,
    /// Servers, comma-separated (pyftpdlib, ftp-serve).
    #[arg(long, value_delimiter = ',', default_value = "pyftpdlib,ftp-serve")]
    servers: Vec<String>,
    /// Skip the unchanged re-runs.
    #[arg(long)]
    no_rerun: bool,
    /// Leave out tools that are not installed instead of failing.
    #[arg(long)]
    skip_missing: bool,
    /// Kill a tool after this many seconds; a tool whose protocol floor
    /// (files x 2 RTT / sessions) exceeds it is not run at all.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// One-way delays a new connection waits before the proxy connects to the
    /// server: 3 models the TCP handshake as the server sees it (SYN,
    /// SYN-ACK, ACK); 2 charges one round trip; 0 makes connects free.
    #[arg(long, default_value_t = 3)]
    handshake_one_ways: u32,
    /// Log every control line through the proxy (RTT > 0) to
    /// `<out>/logs/<run>.trace`, with millisecond times.
    #[arg(long)]
    trace: bool,
    /// Output directory for trees, destinations and logs.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Markdown file whose marked block receives the results.
    #[arg(long)]
    doc: Option<PathBuf>,
    /// Do not touch docs/benchmarks.md.
    #[arg(long)]
    no_doc: bool,
    /// Name of the marked block to replace in the document (so results of
    /// separate invocations can sit side by side); the chart goes to
    /// `<doc>-<block>.svg` (`<doc>.svg` for the default block).
    #[arg(long, default_value = report::DEFAULT_BLOCK)]
    block: String,
}

fn main() -> ExitCode {
    env_logger::init();
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mirror-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<ExitCode, String> {
    let root = repo_root();
    let full = args.full;
    if args.block.is_empty()
        || !args
            .block
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(format!(
            "--block {:?}: use letters, digits and '-'",
            args.block
        ));
    }
    let trees = args.trees.clone().unwrap_or_else(|| {
        if full {
            vec!["a", "b", "c", "d"]
                .into_iter()
                .map(String::from)
                .collect()
        } else {
            vec!["a".into()]
        }
    });
    let trees = trees
        .iter()
        .map(|t| {
            TreeSpec::by_name(t).ok_or_else(|| format!("unknown tree {t:?} (a, b, c, d, smoke)"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut tools = match &args.tools {
        Some(names) => names
            .iter()
            .map(|n| Tool::from_name(n).ok_or_else(|| format!("unknown tool {n:?}")))
            .collect::<Result<Vec<_>, _>>()?,
        None => ALL_TOOLS.to_vec(),
    };
    let servers = args
        .servers
        .iter()
        .map(|n| ServerKind::from_name(n).ok_or_else(|| format!("unknown server {n:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    let out = args.out.clone().unwrap_or_else(|| root.join("bench-out"));
    std::fs::create_dir_all(out.join("scratch")).map_err(|e| format!("{}: {e}", out.display()))?;
    let env = ToolEnv::discover(&out.join("scratch"));
    if env.exec_wrapper.is_none() {
        return Err(
            "bench-exec not found (it measures each tool's own peak RSS): \
                    build it with `cargo build --release -p ftp-mirror-benches --bins` \
                    or set MIRROR_BENCH_EXEC"
                .into(),
        );
    }
    if env.exec_wrapper.is_none() {
        return Err(
            "bench-exec not found (it measures each tool's own peak RSS): \
                    build it with `cargo build --release -p ftp-mirror-benches --bins` \
                    or set MIRROR_BENCH_EXEC"
                .into(),
        );
    }
    if args.skip_missing {
        tools.retain(|t| match t.check_available(&env) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("skipping: {e}");
                false
            }
        });
    } else {
        check_tools(&tools, &env)?;
    }
    let config = SuiteConfig {
        out: out.clone(),
        trees,
        rtts_ms: args
            .rtt
            .clone()
            .unwrap_or_else(|| if full { vec![0, 20, 100] } else { vec![0, 20] }),
        sessions: args
            .sessions
            .clone()
            .unwrap_or_else(|| if full { vec![8, 16] } else { vec![16] }),
        runs: args.runs.unwrap_or(if full { 3 } else { 1 }).max(1),
        tools: tools.clone(),
        servers,
        rerun: !args.no_rerun,
        timeout: Duration::from_secs(args.timeout),
        handshake_one_ways: args.handshake_one_ways,
        trace: args.trace,
    };
    let results = run_suite(&config, &env, &mut |line| {
        println!("{line}");
        let _ = std::io::stdout().flush();
    })
    .map_err(|e| format!("benchmark aborted: {e}"))?;

    let summaries = summarize(&results.samples);
    let evaluated = targets::evaluate(&summaries);
    for s in &results.skipped {
        println!("not measured: {s}");
    }
    println!("\nTargets:");
    for t in &evaluated {
        println!("  [{}] {}: {}", t.status, t.name, t.detail);
    }
    write_raw(&out.join("results.tsv"), &results.samples)
        .map_err(|e| format!("results.tsv: {e}"))?;

    let info = RunInfo {
        date: utc_now(),
        command: command_text(),
        machine: machine(),
        versions: versions(&tools, &env),
        runs: config.runs,
    };
    if !args.no_doc {
        let doc = args
            .doc
            .clone()
            .unwrap_or_else(|| root.join("docs/benchmarks.md"));
        let chart = if args.block == report::DEFAULT_BLOCK {
            doc.with_extension("svg")
        } else {
            let stem = doc
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            doc.with_file_name(format!("{stem}-{}.svg", args.block))
        };
        let chart_name = chart.file_name().map(|n| n.to_string_lossy().into_owned());
        std::fs::write(&chart, report::svg_chart(&summaries))
            .map_err(|e| format!("{}: {e}", chart.display()))?;
        let md = report::markdown(
            &info,
            &results.trees,
            &summaries,
            &evaluated,
            &results.failures,
            &results.skipped,
            chart_name.as_deref(),
        );
        report::write_between_markers(&doc, &args.block, &md)
            .map_err(|e| format!("{}: {e}", doc.display()))?;
        println!("\nwrote {} and {}", doc.display(), chart.display());
    }
    if !results.failures.is_empty() {
        eprintln!(
            "{} run(s) failed or did not verify:",
            results.failures.len()
        );
        for f in &results.failures {
            eprintln!(
                "  {} {} {} ms {}: {}",
                f.scenario.tree,
                f.tool.name(),
                f.scenario.rtt_ms,
                f.scenario.mode.name(),
                f.reason
            );
        }
        return Ok(ExitCode::from(1));
    }
    if evaluated.iter().any(|t| t.status == Status::Fail) {
        println!("(some targets were missed; see above)");
    }
    Ok(ExitCode::SUCCESS)
}

fn write_raw(path: &std::path::Path, samples: &[Sample]) -> std::io::Result<()> {
    let mut s = String::from(
        "tree\tserver\trtt_ms\tmode\ttool\tsessions\trun\twall_s\tuser_s\tsys_s\tmax_rss_kib\n",
    );
    for x in samples {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.6}\t{:.6}\t{:.6}\t{}\n",
            x.scenario.tree,
            x.scenario.server.name(),
            x.scenario.rtt_ms,
            x.scenario.mode.name(),
            x.tool.name(),
            x.sessions,
            x.run + 1,
            x.measurement.wall.as_secs_f64(),
            x.measurement.user.as_secs_f64(),
            x.measurement.sys.as_secs_f64(),
            x.measurement.max_rss_kib
        ));
    }
    std::fs::write(path, s)
}

fn command_text() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("scripts/bench.sh {}", args.join(" "))
        .trim_end()
        .to_string()
}

fn first_line(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    let text = if out.stdout.is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .next()
        .map(|l| l.trim().to_string())
}

fn utc_now() -> String {
    first_line(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default()
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let kernel = first_line(Command::new("uname").arg("-sr")).unwrap_or_default();
    format!("{cpus} CPUs ({model}), {kernel}")
}

fn versions(tools: &[Tool], env: &ToolEnv) -> Vec<String> {
    let mut v = Vec::new();
    // Variants share their base's program: one line per program, naming
    // every tool that runs it (e.g. "ftp-mirror, ftp-mirror-stat: ...").
    let mut bases: Vec<Tool> = tools.iter().map(|t| t.base()).collect();
    bases.sort();
    bases.dedup();
    for base in bases {
        let line = match base {
            Tool::FtpMirror | Tool::FtpMirrorStat => {
                first_line(Command::new(&env.ftp_mirror).arg("--version"))
            }
            Tool::Lftp | Tool::LftpStat => first_line(Command::new("lftp").arg("--version")),
            Tool::Rclone | Tool::RcloneUncapped => {
                first_line(Command::new("rclone").arg("version"))
            }
            Tool::Wget => first_line(Command::new("wget").arg("--version")),
            Tool::Curl => first_line(Command::new("curl").arg("--version")),
            Tool::FtplibPool => first_line(Command::new(&env.python).arg("--version")),
        };
        let names: Vec<&str> = tools
            .iter()
            .filter(|t| t.base() == base)
            .map(|t| t.name())
            .collect();
        if let Some(line) = line {
            v.push(format!("{}: {}", names.join(", "), line));
        }
    }
    if let Some(p) = first_line(Command::new(&env.python).args([
        "-c",
        "import pyftpdlib; print('pyftpdlib', pyftpdlib.__ver__)",
    ])) {
        v.push(format!("server: {p}"));
    }
    v
}
