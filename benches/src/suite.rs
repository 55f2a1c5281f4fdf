//! One whole benchmark run: trees x servers x round-trip times x sessions x
//! runs x tools, each output verified before its time counts.
//!
//! Runs are interleaved (run 1 of every tool, then run 2 of every tool, ...)
//! so a slow drift of the machine does not favour one tool.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::proxy::{LatencyProxy, ProxyOptions};
use crate::runner::run_measured;
use crate::server::{self, ServerKind};
use crate::stats::{Failure, Mode, Sample, Scenario};
use crate::tools::{Job, Tool, ToolEnv};
use crate::tree::{self, TreeSpec};
use crate::verify;

/// Trees with at most this many files are also fetched with curl.
pub const CURL_MAX_FILES: usize = 64;

/// What to run.
#[derive(Clone, Debug)]
pub struct SuiteConfig {
    /// Output directory (trees, destinations, logs).
    pub out: PathBuf,
    /// Trees to mirror.
    pub trees: Vec<TreeSpec>,
    /// Round-trip times in milliseconds (0: direct, no proxy).
    pub rtts_ms: Vec<u64>,
    /// Session counts.
    pub sessions: Vec<usize>,
    /// Runs per measurement (at least 1).
    pub runs: usize,
    /// Tools to compare.
    pub tools: Vec<Tool>,
    /// Servers: pyftpdlib serves every tool, ftp-serve only ftp-mirror and
    /// ftp-mirror-stat (our server against our client).
    pub servers: Vec<ServerKind>,
    /// Also measure the unchanged re-run of incremental tools.
    pub rerun: bool,
    /// Kill a tool after this long.
    pub timeout: Duration,
    /// One-way delays a new connection waits before the proxy connects to
    /// the server (3: the TCP handshake as the server sees it).
    pub handshake_one_ways: u32,
    /// Log every control line through the proxy next to each run's log
    /// (`<log>.trace`).
    pub trace: bool,
}

/// Everything measured.
#[derive(Clone, Debug, Default)]
pub struct SuiteResults {
    /// Verified runs.
    pub samples: Vec<Sample>,
    /// Runs that did not count.
    pub failures: Vec<Failure>,
    /// Measurements left out, and why (e.g. the protocol floor exceeds the
    /// timeout, or an earlier run timed out).
    pub skipped: Vec<String>,
    /// The trees, with their sizes.
    pub trees: Vec<TreeInfo>,
}

/// A tree as reported.
#[derive(Clone, Debug)]
pub struct TreeInfo {
    /// Short name.
    pub name: String,
    /// One line for humans.
    pub description: String,
    /// Number of files.
    pub files: usize,
    /// Total bytes.
    pub bytes: u64,
}

/// Checks that every tool in `tools` can run; the error names each missing
/// one and how to install it.
pub fn check_tools(tools: &[Tool], env: &ToolEnv) -> Result<(), String> {
    let missing: Vec<String> = tools
        .iter()
        .filter_map(|t| t.check_available(env).err())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "missing benchmark tools:\n  {}",
            missing.join("\n  ")
        ))
    }
}

/// Runs the suite. `progress` receives one line per run.
pub fn run_suite(
    config: &SuiteConfig,
    env: &ToolEnv,
    progress: &mut dyn FnMut(&str),
) -> io::Result<SuiteResults> {
    let mut results = SuiteResults::default();
    let logs = config.out.join("logs");
    fs::create_dir_all(&logs)?;
    let trash = Trash::new(config.out.join("trash"), Trash::SETTLE);
    trash.empty()?;
    for spec in &config.trees {
        progress(&format!(
            "tree {}: {} (generating if needed)",
            spec.name, spec.description
        ));
        let root = tree::ensure_tree(&config.out, spec)?;
        let (_, planned) = tree::plan(spec);
        let bytes: u64 = planned.iter().map(|f| f.size).sum();
        let files: Vec<String> = planned.iter().map(|f| f.path.clone()).collect();
        results.trees.push(TreeInfo {
            name: spec.name.clone(),
            description: spec.description.clone(),
            files: files.len(),
            bytes,
        });
        for &kind in &config.servers {
            let tools: Vec<Tool> = config
                .tools
                .iter()
                .copied()
                // ftp-serve is our own server: only our client runs
                // against it.
                .filter(|&t| {
                    kind == ServerKind::Pyftpdlib
                        || matches!(t, Tool::FtpMirror | Tool::FtpMirrorStat)
                })
                .filter(|&t| t.mirrors_trees() || files.len() <= CURL_MAX_FILES)
                .collect();
            if tools.is_empty() {
                continue;
            }
            let srv = server::start(kind, &root)?;
            for &rtt in &config.rtts_ms {
                let proxy = if rtt > 0 {
                    let one_way = Duration::from_micros(rtt * 500);
                    let options = ProxyOptions {
                        handshake: one_way * config.handshake_one_ways,
                        ..ProxyOptions::ftp(one_way)
                    };
                    Some(LatencyProxy::start_with(srv.addr(), options)?)
                } else {
                    None
                };
                let addr = proxy.as_ref().map_or(srv.addr(), |p| p.local_addr());
                for (si, &requested) in config.sessions.iter().enumerate() {
                    let mut given_up: Vec<Tool> = Vec::new();
                    for &tool in &tools {
                        let floor = protocol_floor(files.len(), rtt, tool.sessions(requested));
                        if floor > config.timeout {
                            given_up.push(tool);
                            results.skipped.push(format!(
                                "tree {} {} {} ms {} x{}: even the protocol floor ({:.0} s) exceeds the timeout ({} s)",
                                spec.name,
                                kind.name(),
                                rtt,
                                tool.name(),
                                tool.sessions(requested),
                                floor.as_secs_f64(),
                                config.timeout.as_secs()
                            ));
                        }
                    }
                    for run in 0..config.runs.max(1) {
                        for &tool in &tools {
                            // Single-session tools are measured once per RTT.
                            if tool.single_session() && si > 0 {
                                continue;
                            }
                            if given_up.contains(&tool) {
                                continue;
                            }
                            let ctx = RunContext {
                                proxy: proxy.as_ref(),
                                trash: &trash,
                                config,
                                env,
                                logs: &logs,
                                root: &root,
                                kind,
                                rtt,
                                tree: spec,
                                files: &files,
                                bytes,
                            };
                            let job = Job {
                                addr,
                                dest: config.out.join("dest").join(format!(
                                    "{}-{}",
                                    tool.name(),
                                    kind.name()
                                )),
                                sessions: requested,
                                files: files.clone(),
                            };
                            ctx.measure_tool(tool, &job, run, &mut results, progress)?;
                            let timed_out = results.failures.last().is_some_and(|f| {
                                f.tool == tool && f.run == run && f.reason.starts_with("timed out")
                            });
                            if timed_out {
                                given_up.push(tool);
                                results.skipped.push(format!(
                                    "tree {} {} {} ms {} x{}: runs after run {} (it timed out)",
                                    spec.name,
                                    kind.name(),
                                    rtt,
                                    tool.name(),
                                    tool.sessions(job.sessions),
                                    run + 1
                                ));
                            }
                        }
                    }
                }
                drop(proxy);
            }
        }
        trash.empty()?;
    }
    Ok(results)
}

/// Where old destinations go until the tree is done.
///
/// Deleting many files right before a run slows the run's own file
/// creation: on this ext4 (no journal) the inode allocator skips inodes
/// deleted in the last seconds (minutes while their blocks are dirty), and
/// a perf profile of such runs is dominated by `__ext4_new_inode` ->
/// `recently_deleted`. So old destinations are only renamed away during a
/// tree's runs and deleted between trees, followed by `sync` and a pause.
struct Trash {
    dir: PathBuf,
    next: std::cell::Cell<u64>,
    settle: Duration,
}

impl Trash {
    /// How long to wait after deleting, past ext4's 5-second window.
    const SETTLE: Duration = Duration::from_secs(6);

    fn new(dir: PathBuf, settle: Duration) -> Trash {
        Trash {
            dir,
            next: std::cell::Cell::new(0),
            settle,
        }
    }

    /// Moves `path` (if it exists) into the trash.
    fn discard(&self, path: &Path) -> io::Result<()> {
        if !path.exists() {
            return Ok(());
        }
        fs::create_dir_all(&self.dir)?;
        let n = self.next.get();
        self.next.set(n + 1);
        fs::rename(path, self.dir.join(format!("{n}")))
    }

    /// Deletes everything in the trash, syncs and lets the file system settle.
    fn empty(&self) -> io::Result<()> {
        if !self.dir.exists() {
            return Ok(());
        }
        fs::remove_dir_all(&self.dir)?;
        // SAFETY: sync(2) has no preconditions.
        unsafe { libc::sync() };
        std::thread::sleep(self.settle);
        Ok(())
    }
}

struct RunContext<'a> {
    proxy: Option<&'a LatencyProxy>,
    trash: &'a Trash,
    config: &'a SuiteConfig,
    env: &'a ToolEnv,
    logs: &'a Path,
    root: &'a Path,
    kind: ServerKind,
    rtt: u64,
    tree: &'a TreeSpec,
    files: &'a [String],
    bytes: u64,
}

impl RunContext<'_> {
    /// A fresh run and, for incremental tools, an unchanged re-run.
    fn measure_tool(
        &self,
        tool: Tool,
        job: &Job,
        run: usize,
        results: &mut SuiteResults,
        progress: &mut dyn FnMut(&str),
    ) -> io::Result<()> {
        self.trash.discard(&job.dest)?;
        fs::create_dir_all(&job.dest)?;
        let fresh_ok = self.measure_once(tool, job, run, Mode::Fresh, results, progress)?;
        if fresh_ok && self.config.rerun && tool.incremental() {
            self.measure_once(tool, job, run, Mode::Rerun, results, progress)?;
        }
        Ok(())
    }

    fn measure_once(
        &self,
        tool: Tool,
        job: &Job,
        run: usize,
        mode: Mode,
        results: &mut SuiteResults,
        progress: &mut dyn FnMut(&str),
    ) -> io::Result<bool> {
        let scenario = Scenario {
            tree: self.tree.name.clone(),
            server: self.kind,
            rtt_ms: self.rtt,
            mode,
        };
        let label = format!(
            "{} {} rtt={}ms {} x{} {} run {}",
            scenario.tree,
            self.kind.name(),
            self.rtt,
            tool.name(),
            tool.sessions(job.sessions),
            mode.name(),
            run + 1
        );
        let log = self.logs.join(format!(
            "{}-{}-{}-rtt{}-j{}-{}-{}.log",
            tool.name(),
            self.kind.name(),
            scenario.tree,
            self.rtt,
            job.sessions,
            mode.name(),
            run + 1
        ));
        let mut cmd = tool.command(self.env, job);
        // Start every run with no dirty pages: otherwise the kernel's
        // writeback of the previous tool's output (512 MiB on tree b) slows
        // whichever tool runs next.
        // SAFETY: sync(2) has no preconditions.
        unsafe { libc::sync() };
        let count = |p: &LatencyProxy| (p.control_connections(), p.data_connections());
        let before = self.proxy.map(count);
        if let (Some(p), true) = (self.proxy, self.config.trace) {
            p.set_trace(Some(&log.with_extension("trace")))?;
        }
        let outcome = run_measured(
            &mut cmd,
            &log,
            self.config.timeout,
            self.env.exec_wrapper.as_deref(),
        );
        if let (Some(p), true) = (self.proxy, self.config.trace) {
            p.set_trace(None)?;
        }
        let outcome = outcome?;
        let connections = before
            .zip(self.proxy.map(count))
            .map(|((c0, d0), (c1, d1))| (c1 - c0, d1 - d0));
        let verdict = if outcome.success {
            Some(verify::compare(self.root, &job.dest, tool.ignored_names())?)
        } else {
            None
        };
        let fail = |reason: String| Failure {
            scenario: scenario.clone(),
            tool,
            sessions: tool.sessions(job.sessions),
            run,
            reason,
        };
        match verdict {
            Some(v) if v.is_ok() => {
                let m = outcome.measurement;
                progress(&format!(
                    "{label}: {:.3} s, cpu {:.3} s, rss {} MiB (verified {} files)",
                    m.wall.as_secs_f64(),
                    m.cpu().as_secs_f64(),
                    m.max_rss_kib / 1024,
                    v.identical
                ));
                results.samples.push(Sample {
                    scenario,
                    tool,
                    sessions: tool.sessions(job.sessions),
                    run,
                    measurement: m,
                    connections,
                    profile: match (self.proxy, self.config.trace) {
                        (Some(_), true) => {
                            crate::profile::profile_file(&log.with_extension("trace")).ok()
                        }
                        _ => None,
                    },
                    files: self.files.len(),
                    bytes: self.bytes,
                });
                Ok(true)
            }
            Some(v) => {
                let reason = format!("output differs from the source: {}", v.summary());
                progress(&format!("{label}: FAILED: {reason}"));
                results.failures.push(fail(reason));
                Ok(false)
            }
            None => {
                let reason = format!(
                    "{} ({}); log {}: {}",
                    outcome.exit,
                    command_line(&cmd),
                    log.display(),
                    outcome.output_tail
                );
                progress(&format!("{label}: FAILED: {reason}"));
                results.failures.push(fail(reason));
                Ok(false)
            }
        }
    }
}

/// The protocol floor of mirroring `files` files: two round trips per file
/// (a passive reply, then the data), spread over `sessions` sessions.
pub fn protocol_floor(files: usize, rtt_ms: u64, sessions: usize) -> Duration {
    Duration::from_millis(rtt_ms) * 2 * files as u32 / sessions.max(1) as u32
}

/// A printable command line (for failure messages).
pub fn command_line(cmd: &std::process::Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| {
            let s = a.to_string_lossy();
            if s.contains(' ') {
                format!("'{s}'")
            } else {
                s.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_floor_is_two_round_trips_per_file_per_session() {
        assert_eq!(protocol_floor(2000, 20, 16), Duration::from_secs(5));
        assert_eq!(protocol_floor(100_000, 20, 1), Duration::from_secs(4000));
        assert_eq!(protocol_floor(10, 0, 4), Duration::ZERO);
        assert_eq!(protocol_floor(10, 100, 0), Duration::from_secs(2));
    }

    #[test]
    fn trash_keeps_old_destinations_until_emptied() {
        let out = tempfile::tempdir().expect("tempdir");
        let trash = Trash::new(out.path().join("trash"), Duration::ZERO);
        trash.empty().expect("empty when absent");
        let dest = out.path().join("dest");
        trash.discard(&dest).expect("absent dest is fine");
        for round in 0..2 {
            fs::create_dir_all(dest.join("sub")).expect("mkdir");
            fs::write(dest.join("sub/f"), format!("{round}")).expect("write");
            trash.discard(&dest).expect("discard");
            assert!(!dest.exists());
        }
        assert_eq!(
            fs::read_to_string(out.path().join("trash/1/sub/f")).expect("kept"),
            "1"
        );
        trash.empty().expect("empty");
        assert!(!out.path().join("trash").exists());
    }

    #[test]
    fn command_lines_quote_arguments_with_spaces() {
        let mut c = std::process::Command::new("lftp");
        c.arg("-c").arg("open x; mirror");
        assert_eq!(command_line(&c), "lftp -c 'open x; mirror'");
    }
}
