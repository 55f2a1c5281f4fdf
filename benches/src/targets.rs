//! The product targets, evaluated on numbers measured in the same run.
//!
//! | Target | Rule |
//! |---|---|
//! | T1 | tree a, 20 ms RTT, 16 sessions: ftp-mirror ≤ 1.15 × floor (files × 2 RTT / sessions) |
//! | T2 | same scenario: fastest peer / ftp-mirror ≥ 1.3 |
//! | T3 | same scenario, unchanged re-run: fastest incremental peer / ftp-mirror ≥ 2 |
//! | T4 | tree b on loopback: ftp-mirror throughput ≥ lftp's and curl's |
//! | T5 | tree b on loopback: ftp-mirror CPU seconds ≤ lftp's and curl's |
//! | T6 | tree d: ftp-mirror peak RSS < 100 MiB |
//! | T7 | tree d vs tree a (same RTT and sessions): time per file at most 1.5 × (linear in file count) |
//! | T8 | tree b vs tree a on loopback: peak RSS grows by at most 32 MiB (memory does not grow with file size) |
//!
//! T1 to T3 are evaluated twice, as separate lines: for `ftp-mirror` with its
//! default settings and for `ftp-mirror-stat` (`--stat-listings`). The other
//! targets are on `ftp-mirror` alone.
//!
//! The peers are every tool whose name does not start with `ftp-mirror`
//! (so `lftp-stat` is a peer, `ftp-mirror-stat` is not). They are compared at
//! the same session count; single-session tools (wget, curl) are compared
//! with every session count.

use std::fmt;

use crate::server::ServerKind;
use crate::stats::{Mode, Summary};
use crate::tools::Tool;

/// The verdict on one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Met.
    Pass,
    /// Missed.
    Fail,
    /// The run did not include the scenario.
    NotMeasured,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotMeasured => "NOT MEASURED",
        })
    }
}

/// One evaluated target.
#[derive(Clone, Debug)]
pub struct TargetResult {
    /// Short id and rule, e.g. "T1 small files: <= 1.15x protocol floor".
    pub name: String,
    /// The verdict.
    pub status: Status,
    /// The numbers behind it.
    pub detail: String,
}

const T1_RTT: u64 = 20;
const T1_SESSIONS: usize = 16;

/// The ftp-mirror variants T1 to T3 are evaluated for, in report order.
const SMALL_FILE_VARIANTS: [Tool; 2] = [Tool::FtpMirror, Tool::FtpMirrorStat];

/// How a target line names the variant it is about.
fn variant_label(tool: Tool) -> &'static str {
    match tool {
        Tool::FtpMirrorStat => "ftp-mirror --stat-listings",
        _ => "ftp-mirror",
    }
}

/// Evaluates every target on `s` (pyftpdlib rows only).
pub fn evaluate(s: &[Summary]) -> Vec<TargetResult> {
    let rows: Vec<&Summary> = s
        .iter()
        .filter(|x| x.scenario.server == ServerKind::Pyftpdlib)
        .collect();
    let mut out = Vec::new();
    out.extend(SMALL_FILE_VARIANTS.map(|ours| floor_target(&rows, ours)));
    out.extend(SMALL_FILE_VARIANTS.map(|ours| {
        peer_target(
            &rows,
            ours,
            Mode::Fresh,
            1.3,
            "T2 small files, 20 ms, 16 sessions: >= 1.3x faster than the fastest peer",
        )
    }));
    out.extend(SMALL_FILE_VARIANTS.map(|ours| {
        peer_target(
            &rows,
            ours,
            Mode::Rerun,
            2.0,
            "T3 unchanged re-run, 20 ms, 16 sessions: >= 2x faster than the fastest peer",
        )
    }));
    out.extend([
        large_target(&rows, false),
        large_target(&rows, true),
        rss_target(&rows),
        linear_target(&rows),
        size_memory_target(&rows),
    ]);
    out
}

fn find<'a>(
    rows: &[&'a Summary],
    tree: &str,
    rtt: u64,
    mode: Mode,
    tool: Tool,
    sessions: Option<usize>,
) -> Vec<&'a Summary> {
    rows.iter()
        .copied()
        .filter(|r| r.scenario.tree == tree && r.scenario.rtt_ms == rtt && r.scenario.mode == mode)
        .filter(|r| r.tool == tool && sessions.is_none_or(|n| r.sessions == n))
        .collect()
}

fn not_measured(name: &str, what: &str) -> TargetResult {
    TargetResult {
        name: name.into(),
        status: Status::NotMeasured,
        detail: format!("{what} not in this run"),
    }
}

fn verdict(ok: bool) -> Status {
    if ok {
        Status::Pass
    } else {
        Status::Fail
    }
}

/// `rule` followed by the variant it is evaluated for.
fn variant_name(rule: &str, ours: Tool) -> String {
    format!("{rule} ({})", variant_label(ours))
}

fn floor_target(rows: &[&Summary], variant: Tool) -> TargetResult {
    let name = variant_name(
        "T1 small files, 20 ms, 16 sessions: <= 1.15x the protocol floor",
        variant,
    );
    let Some(ours) = find(rows, "a", T1_RTT, Mode::Fresh, variant, Some(T1_SESSIONS)).pop() else {
        return not_measured(
            &name,
            &format!("{} on tree a at 20 ms with 16 sessions", variant.name()),
        );
    };
    let floor = ours.files as f64 * 2.0 * (T1_RTT as f64 / 1000.0) / T1_SESSIONS as f64;
    let t = ours.median_wall.as_secs_f64();
    TargetResult {
        name,
        status: verdict(t <= 1.15 * floor),
        detail: format!("{t:.2} s = {:.2}x the floor of {floor:.2} s", t / floor),
    }
}

/// True for a peer: every tool whose name does not start with `ftp-mirror`
/// (ftp-mirror's own variants are not each other's peers).
pub fn is_peer(tool: Tool) -> bool {
    !tool.is_ftp_mirror()
}

/// The fastest peer at `sessions` in (tree, rtt, mode).
fn fastest_peer<'a>(
    rows: &[&'a Summary],
    tree: &str,
    rtt: u64,
    mode: Mode,
    sessions: usize,
) -> Option<&'a Summary> {
    rows.iter()
        .copied()
        .filter(|r| r.scenario.tree == tree && r.scenario.rtt_ms == rtt && r.scenario.mode == mode)
        .filter(|r| is_peer(r.tool) && (r.sessions == sessions || r.tool.single_session()))
        .min_by_key(|r| r.median_wall)
}

fn peer_target(
    rows: &[&Summary],
    variant: Tool,
    mode: Mode,
    factor: f64,
    rule: &str,
) -> TargetResult {
    let name = variant_name(rule, variant);
    let Some(ours) = find(rows, "a", T1_RTT, mode, variant, Some(T1_SESSIONS)).pop() else {
        return not_measured(
            &name,
            &format!("{} on tree a at 20 ms with 16 sessions", variant.name()),
        );
    };
    let Some(peer) = fastest_peer(rows, "a", T1_RTT, mode, T1_SESSIONS) else {
        return not_measured(&name, "no peer on tree a at 20 ms");
    };
    let ratio = peer.median_wall.as_secs_f64() / ours.median_wall.as_secs_f64().max(1e-9);
    TargetResult {
        name,
        status: verdict(ratio >= factor),
        detail: format!(
            "{} {:.2} s, fastest peer {} x{} {:.2} s: {ratio:.2}x",
            ours.tool.name(),
            ours.median_wall.as_secs_f64(),
            peer.tool.name(),
            peer.sessions,
            peer.median_wall.as_secs_f64()
        ),
    }
}

fn large_target(rows: &[&Summary], cpu: bool) -> TargetResult {
    let name = if cpu {
        "T5 2 x 256 MiB on loopback: no more CPU seconds than lftp and curl"
    } else {
        "T4 2 x 256 MiB on loopback: throughput >= lftp's and curl's"
    };
    let best = |tool| {
        find(rows, "b", 0, Mode::Fresh, tool, None)
            .into_iter()
            .min_by_key(|r| r.median_wall)
    };
    let (Some(ours), Some(lftp), Some(curl)) =
        (best(Tool::FtpMirror), best(Tool::Lftp), best(Tool::Curl))
    else {
        return not_measured(name, "ftp-mirror, lftp and curl on tree b at 0 ms");
    };
    let mib = |r: &Summary| r.bytes_per_sec() / (1024.0 * 1024.0);
    let ok = if cpu {
        ours.median_cpu <= lftp.median_cpu && ours.median_cpu <= curl.median_cpu
    } else {
        ours.median_wall <= lftp.median_wall && ours.median_wall <= curl.median_wall
    };
    TargetResult {
        name: name.into(),
        status: verdict(ok),
        detail: format!(
            "ftp-mirror x{} {:.0} MiB/s {:.2} cpu-s; lftp x{} {:.0} MiB/s {:.2} cpu-s; curl {:.0} MiB/s {:.2} cpu-s",
            ours.sessions,
            mib(ours),
            ours.median_cpu.as_secs_f64(),
            lftp.sessions,
            mib(lftp),
            lftp.median_cpu.as_secs_f64(),
            mib(curl),
            curl.median_cpu.as_secs_f64()
        ),
    }
}

fn rss_target(rows: &[&Summary]) -> TargetResult {
    let name = "T6 100,000 files: peak RSS < 100 MiB";
    let peak = rows
        .iter()
        .filter(|r| r.scenario.tree == "d" && r.tool == Tool::FtpMirror)
        .map(|r| r.peak_rss_kib)
        .max();
    let Some(peak) = peak else {
        return not_measured(name, "ftp-mirror on tree d");
    };
    TargetResult {
        name: name.into(),
        status: verdict(peak < 100 * 1024),
        detail: format!("peak RSS {:.1} MiB", peak as f64 / 1024.0),
    }
}

fn linear_target(rows: &[&Summary]) -> TargetResult {
    let name = "T7 100,000 files: time per file <= 1.5x that of 2,000 files (linear)";
    let pair = rows
        .iter()
        .filter(|d| {
            d.scenario.tree == "d" && d.tool == Tool::FtpMirror && d.scenario.mode == Mode::Fresh
        })
        .filter_map(|d| {
            let a = find(
                rows,
                "a",
                d.scenario.rtt_ms,
                Mode::Fresh,
                Tool::FtpMirror,
                Some(d.sessions),
            )
            .pop()?;
            Some((a, *d))
        })
        .min_by_key(|(a, _)| (a.scenario.rtt_ms, std::cmp::Reverse(a.sessions)));
    let Some((a, d)) = pair else {
        return not_measured(
            name,
            "ftp-mirror on trees a and d at the same RTT and sessions",
        );
    };
    let per = |r: &Summary| r.median_wall.as_secs_f64() / r.files.max(1) as f64 * 1e3;
    let ratio = per(d) / per(a).max(1e-12);
    TargetResult {
        name: name.into(),
        status: verdict(ratio <= 1.5),
        detail: format!(
            "{} ms RTT x{}: {:.3} ms/file on d vs {:.3} ms/file on a ({ratio:.2}x)",
            a.scenario.rtt_ms,
            a.sessions,
            per(d),
            per(a)
        ),
    }
}

fn size_memory_target(rows: &[&Summary]) -> TargetResult {
    let name = "T8 memory does not grow with file size: RSS(tree b) <= RSS(tree a) + 32 MiB";
    let peak = |tree| {
        rows.iter()
            .filter(|r| {
                r.scenario.tree == tree && r.tool == Tool::FtpMirror && r.scenario.rtt_ms == 0
            })
            .map(|r| r.peak_rss_kib)
            .max()
    };
    let (Some(a), Some(b)) = (peak("a"), peak("b")) else {
        return not_measured(name, "ftp-mirror on trees a and b at 0 ms");
    };
    TargetResult {
        name: name.into(),
        status: verdict(b <= a + 32 * 1024),
        detail: format!(
            "tree b {:.1} MiB, tree a {:.1} MiB",
            b as f64 / 1024.0,
            a as f64 / 1024.0
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Scenario;
    use std::time::Duration;

    fn row(
        tree: &str,
        rtt: u64,
        mode: Mode,
        tool: Tool,
        sessions: usize,
        secs: f64,
        files: usize,
    ) -> Summary {
        let d = Duration::from_secs_f64(secs);
        Summary {
            scenario: Scenario {
                tree: tree.into(),
                server: ServerKind::Pyftpdlib,
                rtt_ms: rtt,
                mode,
            },
            tool,
            sessions,
            runs: 3,
            median_wall: d,
            min_wall: d,
            max_wall: d,
            median_cpu: d / 2,
            peak_rss_kib: 20 * 1024,
            connections: None,
            profile: None,
            files,
            bytes: files as u64 * 8192,
        }
    }

    #[test]
    fn small_file_targets() {
        let rows = vec![
            row("a", 20, Mode::Fresh, Tool::FtpMirror, 16, 5.5, 2000),
            row("a", 20, Mode::Fresh, Tool::Lftp, 16, 8.0, 2000),
            row("a", 20, Mode::Fresh, Tool::Wget, 1, 100.0, 2000),
            row("a", 20, Mode::Fresh, Tool::Rclone, 8, 1.0, 2000),
            row("a", 20, Mode::Rerun, Tool::FtpMirror, 16, 1.0, 2000),
            row("a", 20, Mode::Rerun, Tool::Rclone, 16, 1.5, 2000),
        ];
        let r = evaluate(&rows);
        assert_eq!(r.len(), 11);
        // T1, T2 and T3 each for ftp-mirror, then for ftp-mirror-stat.
        for (i, t) in r[..6].iter().enumerate() {
            let label = ["(ftp-mirror)", "(ftp-mirror --stat-listings)"][i % 2];
            assert!(
                t.name.starts_with(["T1 ", "T2 ", "T3 "][i / 2]),
                "{}",
                t.name
            );
            assert!(t.name.ends_with(label), "{}", t.name);
        }
        // Floor: 2000 * 2 * 0.02 / 16 = 5 s; 5.5 s is 1.1x.
        assert_eq!(r[0].status, Status::Pass, "{}", r[0].detail);
        // rclone with 8 sessions is not compared with 16; lftp is 8/5.5 = 1.45x.
        assert_eq!(r[2].status, Status::Pass, "{}", r[2].detail);
        assert!(r[2].detail.contains("lftp"), "{}", r[2].detail);
        assert_eq!(r[4].status, Status::Fail, "{}", r[4].detail);
        // No ftp-mirror-stat rows in this run.
        for i in [1, 3, 5] {
            assert_eq!(r[i].status, Status::NotMeasured, "{}", r[i].name);
            assert!(
                r[i].detail.starts_with("ftp-mirror-stat on tree a"),
                "{}",
                r[i].detail
            );
        }
        assert!(r[6..].iter().all(|t| t.status == Status::NotMeasured));
    }

    #[test]
    fn peers_are_the_tools_not_named_ftp_mirror() {
        let peers: Vec<Tool> = crate::tools::ALL_TOOLS
            .into_iter()
            .filter(|&t| is_peer(t))
            .collect();
        assert_eq!(
            peers,
            [
                Tool::Lftp,
                Tool::LftpStat,
                Tool::Rclone,
                Tool::RcloneUncapped,
                Tool::Wget,
                Tool::Curl,
                Tool::FtplibPool
            ]
        );
        let rows = vec![
            row("a", 20, Mode::Fresh, Tool::FtpMirror, 16, 5.5, 2000),
            // Faster than everything, but ours: never "the fastest peer".
            row("a", 20, Mode::Fresh, Tool::FtpMirrorStat, 16, 3.0, 2000),
            row("a", 20, Mode::Fresh, Tool::Lftp, 16, 8.0, 2000),
            row("a", 20, Mode::Fresh, Tool::LftpStat, 16, 6.0, 2000),
            row("a", 20, Mode::Rerun, Tool::FtpMirror, 16, 0.2, 2000),
            row("a", 20, Mode::Rerun, Tool::FtpMirrorStat, 16, 0.5, 2000),
            row("a", 20, Mode::Rerun, Tool::LftpStat, 16, 0.8, 2000),
        ];
        let r = evaluate(&rows);
        // T1: 5.5 s and 3.0 s against the 5 s floor.
        assert_eq!(r[0].status, Status::Pass, "{}", r[0].detail);
        assert_eq!(r[1].status, Status::Pass, "{}", r[1].detail);
        // T2: the fastest peer is lftp-stat (6 s), for both variants.
        assert_eq!(r[2].status, Status::Fail, "{}", r[2].detail);
        assert_eq!(
            r[2].detail,
            "ftp-mirror 5.50 s, fastest peer lftp-stat x16 6.00 s: 1.09x"
        );
        assert_eq!(r[3].status, Status::Pass, "{}", r[3].detail);
        assert_eq!(
            r[3].detail,
            "ftp-mirror-stat 3.00 s, fastest peer lftp-stat x16 6.00 s: 2.00x"
        );
        // T3: 0.8 / 0.2 = 4x passes, 0.8 / 0.5 = 1.6x does not.
        assert_eq!(r[4].status, Status::Pass, "{}", r[4].detail);
        assert_eq!(r[5].status, Status::Fail, "{}", r[5].detail);
        assert!(r[5].name.ends_with("(ftp-mirror --stat-listings)"));
    }

    #[test]
    fn floor_target_fails_when_slow() {
        let rows = vec![row("a", 20, Mode::Fresh, Tool::FtpMirror, 16, 6.0, 2000)];
        let r = evaluate(&rows);
        assert_eq!(r[0].status, Status::Fail);
        assert_eq!(r[2].status, Status::NotMeasured);
    }

    #[test]
    fn linear_and_memory_targets() {
        let rows = vec![
            row("a", 0, Mode::Fresh, Tool::FtpMirror, 16, 1.0, 2000),
            row("d", 0, Mode::Fresh, Tool::FtpMirror, 16, 60.0, 100_000),
            row("b", 0, Mode::Fresh, Tool::FtpMirror, 16, 1.0, 2),
            row("b", 0, Mode::Fresh, Tool::Lftp, 16, 1.2, 2),
            row("b", 0, Mode::Fresh, Tool::Curl, 1, 0.9, 2),
        ];
        let r = evaluate(&rows);
        assert_eq!(r[6].status, Status::Fail, "curl is faster: {}", r[6].detail);
        assert!(r[6].name.starts_with("T4 "));
        assert_eq!(r[8].status, Status::Pass);
        // 0.6 ms/file vs 0.5 ms/file: 1.2x.
        assert_eq!(r[9].status, Status::Pass, "{}", r[9].detail);
        assert_eq!(r[10].status, Status::Pass);
        assert!(r[10].name.starts_with("T8 "));
    }
}
