//! The report: a Markdown table, the targets and a hand-written SVG chart,
//! written between marker comments of `docs/benchmarks.md` so reruns replace
//! them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use crate::stats::{Failure, Mode, Scenario, Summary};
use crate::suite::TreeInfo;
use crate::targets::{is_peer, TargetResult};
use crate::tools::{Tool, ALL_TOOLS};

/// The default block name: markers `<!-- mirror-bench:results:begin -->`
/// and `<!-- mirror-bench:results:end -->`.
pub const DEFAULT_BLOCK: &str = "results";

/// The begin and end markers of the block `name`.
pub fn markers(name: &str) -> (String, String) {
    (
        format!("<!-- mirror-bench:{name}:begin -->"),
        format!("<!-- mirror-bench:{name}:end -->"),
    )
}

/// What the report says about the run itself.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// UTC date and time of the run.
    pub date: String,
    /// The command line that produced it.
    pub command: String,
    /// Machine description (CPUs, kernel).
    pub machine: String,
    /// Versions of the tools, one per line.
    pub versions: Vec<String>,
    /// Runs per measurement.
    pub runs: usize,
}

/// The Markdown block: run info, targets, one table per tree, failures.
pub fn markdown(
    info: &RunInfo,
    trees: &[TreeInfo],
    summaries: &[Summary],
    targets: &[TargetResult],
    failures: &[Failure],
    skipped: &[String],
    chart_file: Option<&str>,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "Measured {} with `{}`.\n", info.date, info.command);
    let _ = writeln!(md, "- Machine: {}", info.machine);
    for v in &info.versions {
        let _ = writeln!(md, "- {v}");
    }
    let _ = writeln!(
        md,
        "- {} run(s) per row; times are medians (range in brackets); every output verified byte for byte.\n",
        info.runs
    );
    if let Some(chart) = chart_file {
        let _ = writeln!(md, "![Median wall time per tool]({chart})\n");
    }
    let _ = writeln!(md, "### Targets\n");
    let _ = writeln!(md, "| Target | Result | Numbers |\n|---|---|---|");
    for t in targets {
        let _ = writeln!(md, "| {} | **{}** | {} |", t.name, t.status, t.detail);
    }
    md.push('\n');
    let ours = ftp_mirror_variants(summaries);
    for tree in trees {
        let rows: Vec<&Summary> = summaries
            .iter()
            .filter(|s| s.scenario.tree == tree.name)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            md,
            "### Tree {}: {} ({} files, {:.1} MiB)\n",
            tree.name,
            tree.description,
            tree.files,
            tree.bytes as f64 / (1024.0 * 1024.0)
        );
        // One ratio column per ftp-mirror variant in the run.
        let ratio_heads: String = ours
            .iter()
            .map(|t| format!(" Peer / {} |", t.name()))
            .collect();
        let _ = writeln!(
            md,
            "| Server | RTT | Mode | Tool | Sessions | Median s | Range s |{ratio_heads} CPU s | Peak RSS MiB | MiB/s | Files/s | Connections (control/data) |"
        );
        let _ = writeln!(
            md,
            "|---|---:|---|---|---:|---:|---:|{}---:|---:|---:|---:|---:|",
            "---:|".repeat(ours.len())
        );
        for r in &rows {
            let ratios: Vec<String> = ours
                .iter()
                .map(|&variant| match ours_for(summaries, variant, r) {
                    Some(o) if is_peer(r.tool) => format!(
                        "{:.2}x",
                        r.median_wall.as_secs_f64() / o.median_wall.as_secs_f64().max(1e-9)
                    ),
                    _ => "-".into(),
                })
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} ms | {} | {} | {} | {:.3} | [{:.3}, {:.3}] | {} | {:.2} | {:.1} | {:.1} | {:.0} | {} |",
                r.scenario.server.name(),
                r.scenario.rtt_ms,
                r.scenario.mode.name(),
                r.tool.name(),
                r.sessions,
                r.median_wall.as_secs_f64(),
                r.min_wall.as_secs_f64(),
                r.max_wall.as_secs_f64(),
                ratios.join(" | "),
                r.median_cpu.as_secs_f64(),
                r.peak_rss_kib as f64 / 1024.0,
                r.bytes_per_sec() / (1024.0 * 1024.0),
                r.files_per_sec(),
                r.connections.map_or("-".to_string(), |(c, d)| format!("{c}/{d}"))
            );
        }
        md.push('\n');
        profile_table(&mut md, &rows);
    }
    if !skipped.is_empty() {
        let _ = writeln!(md, "### Not measured\n");
        for s in skipped {
            let _ = writeln!(md, "- {s}");
        }
        md.push('\n');
    }
    if !failures.is_empty() {
        let _ = writeln!(md, "### Runs that did not count\n");
        for f in failures {
            let reason: String = f.reason.chars().take(300).collect();
            let _ = writeln!(
                md,
                "- tree {} {} {} ms {} {} x{} run {}: {}",
                f.scenario.tree,
                f.scenario.server.name(),
                f.scenario.rtt_ms,
                f.scenario.mode.name(),
                f.tool.name(),
                f.sessions,
                f.run + 1,
                reason.replace('\n', " ")
            );
        }
        md.push('\n');
    }
    md
}

/// The protocol profiles of `rows` (runs with `--trace` through the proxy).
fn profile_table(md: &mut String, rows: &[&Summary]) {
    let with: Vec<(&Summary, &crate::profile::Profile)> = rows
        .iter()
        .filter_map(|r| Some((*r, r.profile.as_ref()?)))
        .collect();
    if with.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "Protocol profile of the first run (from the proxy's trace; ms from the first control line; \
         file cycle: median time between two RETRs on one session):\n"
    );
    let _ = writeln!(
        md,
        "| Server | RTT | Mode | Tool | Sessions used | Last session opened | First RETR | File cycle | QUIT phase | Total | Commands |"
    );
    let _ = writeln!(md, "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---|");
    for (r, p) in with {
        let rtt = r.scenario.rtt_ms as f64;
        let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0} ms"));
        let cycle = p.median_file_cycle_ms.map_or("-".to_string(), |c| {
            if rtt > 0.0 {
                format!("{c:.1} ms = {:.2} RTT", c / rtt)
            } else {
                format!("{c:.1} ms")
            }
        });
        let mut verbs: Vec<(&String, &usize)> = p.commands.iter().collect();
        verbs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let verbs: Vec<String> = verbs.iter().map(|(v, n)| format!("{v} {n}")).collect();
        let _ = writeln!(
            md,
            "| {} | {} ms | {} | {} | {} | {:.0} ms | {} | {} | {} | {:.0} ms | {} |",
            r.scenario.server.name(),
            r.scenario.rtt_ms,
            r.scenario.mode.name(),
            r.tool.name(),
            p.sessions,
            p.all_sessions_busy_ms,
            ms(p.first_retr_ms),
            cycle,
            ms(p.quit_phase_ms),
            p.total_ms,
            verbs.join(", ")
        );
    }
    md.push('\n');
}

/// The ftp-mirror variants (`ftp-mirror`, `ftp-mirror-stat`) measured in
/// `all`, in tool order; just `ftp-mirror` when there are none, so the table
/// keeps its ratio column.
fn ftp_mirror_variants(all: &[Summary]) -> Vec<Tool> {
    let ours: Vec<Tool> = ALL_TOOLS
        .into_iter()
        .filter(|t| t.is_ftp_mirror() && all.iter().any(|s| s.tool == *t))
        .collect();
    if ours.is_empty() {
        vec![Tool::FtpMirror]
    } else {
        ours
    }
}

/// The row of ftp-mirror variant `ours` to compare a peer row with: same
/// scenario, same sessions, or the most sessions for single-session peers.
fn ours_for<'a>(all: &'a [Summary], ours: Tool, peer: &Summary) -> Option<&'a Summary> {
    let mut ours: Vec<&Summary> = all
        .iter()
        .filter(|s| s.tool == ours && s.scenario == peer.scenario)
        .collect();
    ours.sort_by_key(|s| s.sessions);
    // Single-session tools, and rclone-uncapped (2N connections), are
    // compared with ftp-mirror's largest session count.
    ours.iter()
        .find(|s| s.sessions == peer.sessions)
        .or(ours.last())
        .copied()
}

/// A horizontal bar chart of median wall times: one panel per
/// (tree, server, RTT, mode), bars scaled to the slowest tool in the panel.
pub fn svg_chart(summaries: &[Summary]) -> String {
    let mut panels: BTreeMap<&Scenario, Vec<&Summary>> = BTreeMap::new();
    for s in summaries {
        panels.entry(&s.scenario).or_default().push(s);
    }
    const WIDTH: f64 = 760.0;
    const LABEL: f64 = 170.0;
    const BAR_MAX: f64 = 470.0;
    const BAR_H: f64 = 16.0;
    const GAP: f64 = 4.0;
    let mut body = String::new();
    let mut y = 30.0;
    for (scenario, rows) in &panels {
        let _ = writeln!(
            body,
            r#"<text x="10" y="{y:.0}" font-weight="bold">Tree {} · {} · {} ms RTT · {}</text>"#,
            esc(&scenario.tree),
            scenario.server.name(),
            scenario.rtt_ms,
            match scenario.mode {
                Mode::Fresh => "fresh",
                Mode::Rerun => "unchanged re-run",
            }
        );
        y += 8.0;
        let max = rows
            .iter()
            .map(|r| r.median_wall.as_secs_f64())
            .fold(0.0, f64::max)
            .max(1e-9);
        for r in rows {
            let secs = r.median_wall.as_secs_f64();
            let w = (secs / max * BAR_MAX).max(1.0);
            let _ = writeln!(
                body,
                r#"<text x="{:.0}" y="{:.0}" text-anchor="end">{} ×{}</text>"#,
                LABEL - 6.0,
                y + BAR_H - 4.0,
                r.tool.name(),
                r.sessions
            );
            let _ = writeln!(
                body,
                r#"<rect x="{LABEL:.0}" y="{y:.0}" width="{w:.1}" height="{BAR_H:.0}" fill="{}"/>"#,
                color(r.tool)
            );
            let _ = writeln!(
                body,
                r#"<text x="{:.1}" y="{:.0}">{}</text>"#,
                LABEL + w + 6.0,
                y + BAR_H - 4.0,
                human_secs(secs)
            );
            y += BAR_H + GAP;
        }
        y += 22.0;
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH:.0}\" height=\"{:.0}\" \
         viewBox=\"0 0 {WIDTH:.0} {:.0}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"16\" font-size=\"13\">Median wall time (shorter is better; bars scaled per panel)</text>\n\
         {body}</svg>\n",
        y,
        y
    )
}

/// `12.3 s`, `1.23 s` or `45 ms`.
fn human_secs(secs: f64) -> String {
    if secs >= 10.0 {
        format!("{secs:.1} s")
    } else if secs >= 1.0 {
        format!("{secs:.2} s")
    } else {
        format!("{:.0} ms", secs * 1000.0)
    }
}

fn color(tool: Tool) -> &'static str {
    match tool {
        Tool::FtpMirror => "#d9480f",
        Tool::FtpMirrorStat => "#ff922b",
        Tool::Lftp => "#1c7ed6",
        Tool::LftpStat => "#74c0fc",
        Tool::Rclone => "#2b8a3e",
        Tool::RcloneUncapped => "#8ce99a",
        Tool::Wget => "#862e9c",
        Tool::Curl => "#5c940d",
        Tool::FtplibPool => "#868e96",
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Replaces the text between the markers of block `name` in `doc` with
/// `block` (appending markers and block when absent) and writes the file.
pub fn write_between_markers(doc: &Path, name: &str, block: &str) -> io::Result<()> {
    let old = fs::read_to_string(doc).unwrap_or_default();
    fs::write(doc, replace_between_markers(&old, name, block))
}

/// The pure part of [`write_between_markers`].
pub fn replace_between_markers(old: &str, name: &str, block: &str) -> String {
    let (begin, end) = markers(name);
    let fresh = format!("{begin}\n{}\n{end}", block.trim_end());
    match (old.find(&begin), old.find(&end)) {
        (Some(b), Some(e)) if b < e => {
            format!("{}{}{}", &old[..b], fresh, &old[e + end.len()..])
        }
        _ => {
            let mut s = old.trim_end().to_string();
            if !s.is_empty() {
                s.push_str("\n\n");
            }
            s.push_str(&fresh);
            s.push('\n');
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ServerKind;
    use std::time::Duration;

    fn summary(tool: Tool, sessions: usize, secs: f64) -> Summary {
        let d = Duration::from_secs_f64(secs);
        Summary {
            scenario: Scenario {
                tree: "a".into(),
                server: ServerKind::Pyftpdlib,
                rtt_ms: 20,
                mode: Mode::Fresh,
            },
            tool,
            sessions,
            runs: 1,
            median_wall: d,
            min_wall: d,
            max_wall: d,
            median_cpu: d,
            peak_rss_kib: 2048,
            connections: Some((16, 2100)),
            profile: None,
            files: 10,
            bytes: 1 << 20,
        }
    }

    #[test]
    fn profile_table_in_round_trips() {
        let mut row = summary(Tool::FtpMirror, 16, 9.0);
        row.profile = Some(crate::profile::profile(
            "0\t1\tS\t220 hi\n10\t1\tC\tRETR a\n70\t1\tC\tRETR b\n130\t1\tC\tRETR c\n140\t1\tC\tQUIT\n150\t1\tS\t221 bye\n",
        ));
        let mut md = String::new();
        profile_table(&mut md, &[&row]);
        assert!(
            md.contains("| pyftpdlib | 20 ms | fresh | ftp-mirror | 1 | 10 ms | 10 ms | 60.0 ms = 3.00 RTT | 10 ms | 150 ms | RETR 3, QUIT 1 |"),
            "{md}"
        );
    }

    #[test]
    fn markers_are_replaced_not_duplicated() {
        let doc = "# Benchmarks\n\nIntro.\n";
        let once = replace_between_markers(doc, DEFAULT_BLOCK, "first");
        assert!(once.starts_with("# Benchmarks\n\nIntro.\n\n<!-- mirror-bench:results:begin -->"));
        let twice = replace_between_markers(&once, DEFAULT_BLOCK, "second\n");
        assert_eq!(twice.matches("mirror-bench:results:begin").count(), 1);
        assert!(twice.contains("second") && !twice.contains("first"));
        let tail = format!("{twice}\n## After\n");
        let again = replace_between_markers(&tail, DEFAULT_BLOCK, "third");
        assert!(again.ends_with("## After\n"), "{again}");
        // Another block lives next to it and leaves it alone.
        let both = replace_between_markers(&again, "large", "big files");
        let both = replace_between_markers(&both, "large", "big files again");
        assert!(both.contains("third") && both.contains("big files again"));
        assert_eq!(both.matches("mirror-bench:large:end").count(), 1);
    }

    #[test]
    fn table_has_ratios_to_ftp_mirror() {
        let rows = vec![
            summary(Tool::FtpMirror, 16, 2.0),
            summary(Tool::Lftp, 16, 5.0),
            summary(Tool::Wget, 1, 30.0),
        ];
        let trees = vec![TreeInfo {
            name: "a".into(),
            description: "d".into(),
            files: 10,
            bytes: 1 << 20,
        }];
        let md = markdown(
            &RunInfo::default(),
            &trees,
            &rows,
            &[],
            &[],
            &["tree d: too slow".to_string()],
            Some("benchmarks.svg"),
        );
        assert!(
            md.contains("| lftp | 16 | 5.000 | [5.000, 5.000] | 2.50x |"),
            "{md}"
        );
        assert!(
            md.contains("| wget | 1 | 30.000 | [30.000, 30.000] | 15.00x |"),
            "{md}"
        );
        assert!(md.contains("![Median wall time per tool](benchmarks.svg)"));
        assert!(
            md.contains("### Not measured\n\n- tree d: too slow\n"),
            "{md}"
        );
        assert!(
            md.contains("| Range s | Peer / ftp-mirror | CPU s |"),
            "{md}"
        );
        let svg = svg_chart(&rows);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<rect x=").count(), 3);
        assert!(
            svg.contains(">30.0 s<") && svg.contains(">2.00 s<"),
            "{svg}"
        );
        assert_eq!(human_secs(0.0456), "46 ms");
    }

    #[test]
    fn table_has_ratios_to_each_ftp_mirror_variant() {
        let rows = vec![
            summary(Tool::FtpMirror, 16, 2.0),
            summary(Tool::FtpMirrorStat, 16, 1.0),
            summary(Tool::Lftp, 16, 5.0),
            summary(Tool::LftpStat, 16, 4.0),
            summary(Tool::Wget, 1, 30.0),
        ];
        let trees = vec![TreeInfo {
            name: "a".into(),
            description: "d".into(),
            files: 10,
            bytes: 1 << 20,
        }];
        let md = markdown(&RunInfo::default(), &trees, &rows, &[], &[], &[], None);
        assert!(
            md.contains("| Range s | Peer / ftp-mirror | Peer / ftp-mirror-stat | CPU s |"),
            "{md}"
        );
        // Each peer against each variant; our variants are not peers.
        assert!(
            md.contains("| ftp-mirror | 16 | 2.000 | [2.000, 2.000] | - | - |"),
            "{md}"
        );
        assert!(
            md.contains("| ftp-mirror-stat | 16 | 1.000 | [1.000, 1.000] | - | - |"),
            "{md}"
        );
        assert!(
            md.contains("| lftp | 16 | 5.000 | [5.000, 5.000] | 2.50x | 5.00x |"),
            "{md}"
        );
        assert!(
            md.contains("| lftp-stat | 16 | 4.000 | [4.000, 4.000] | 2.00x | 4.00x |"),
            "{md}"
        );
        assert!(
            md.contains("| wget | 1 | 30.000 | [30.000, 30.000] | 15.00x | 30.00x |"),
            "{md}"
        );
        // Every data row has as many cells as the header.
        let cells = |l: &str| l.matches('|').count();
        let table: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with("| pyftpdlib"))
            .collect();
        let head = md
            .lines()
            .find(|l| l.starts_with("| Server |"))
            .expect("header");
        let sep = md
            .lines()
            .find(|l| l.starts_with("|---|---:|"))
            .expect("separator");
        assert_eq!(table.len(), 5);
        assert_eq!(cells(head), 15);
        assert_eq!(cells(sep), cells(head), "{sep}");
        assert!(table.iter().all(|l| cells(l) == cells(head)), "{md}");
        let svg = svg_chart(&rows);
        assert_eq!(svg.matches("<rect x=").count(), 5);
        assert!(
            svg.contains(">ftp-mirror-stat ×16<") && svg.contains(">lftp-stat ×16<"),
            "{svg}"
        );
        assert!(svg.contains("#ff922b") && svg.contains("#74c0fc"), "{svg}");
    }
}
