//! Samples, their grouping and medians.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::profile::Profile;
use crate::runner::Measurement;
use crate::server::ServerKind;
use crate::tools::Tool;

/// Whether the destination started empty or held the previous result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// Empty destination.
    Fresh,
    /// Unchanged re-run over a complete destination.
    Rerun,
}

impl Mode {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Fresh => "fresh",
            Mode::Rerun => "re-run",
        }
    }
}

/// Where a sample was measured: everything but the tool.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scenario {
    /// Tree name (`a`, `b`, ...).
    pub tree: String,
    /// The server.
    pub server: ServerKind,
    /// Round-trip time added by the proxy, in milliseconds (0: no proxy).
    pub rtt_ms: u64,
    /// Fresh or re-run.
    pub mode: Mode,
}

/// One verified run of one tool.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Where.
    pub scenario: Scenario,
    /// Which tool.
    pub tool: Tool,
    /// Sessions the tool used (1 for wget and curl).
    pub sessions: usize,
    /// Run index, from 0.
    pub run: usize,
    /// The cost.
    pub measurement: Measurement,
    /// Control and data connections the tool opened, counted by the latency
    /// proxy (`None` without a proxy).
    pub connections: Option<(u64, u64)>,
    /// The protocol profile from the proxy trace (with `--trace`).
    pub profile: Option<Profile>,
    /// Files in the tree.
    pub files: usize,
    /// Bytes in the tree.
    pub bytes: u64,
}

/// A run that did not count, and why.
#[derive(Clone, Debug)]
pub struct Failure {
    /// Where.
    pub scenario: Scenario,
    /// Which tool.
    pub tool: Tool,
    /// Sessions requested.
    pub sessions: usize,
    /// Run index.
    pub run: usize,
    /// What went wrong (exit status, verification, output tail).
    pub reason: String,
}

/// All samples of one tool at one session count in one scenario.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Where.
    pub scenario: Scenario,
    /// Which tool.
    pub tool: Tool,
    /// Sessions used.
    pub sessions: usize,
    /// Number of verified runs.
    pub runs: usize,
    /// Median wall time.
    pub median_wall: Duration,
    /// Fastest run.
    pub min_wall: Duration,
    /// Slowest run.
    pub max_wall: Duration,
    /// Median CPU time (user + system).
    pub median_cpu: Duration,
    /// Largest peak RSS over the runs, KiB.
    pub peak_rss_kib: u64,
    /// Control and data connections of the first run (through the proxy).
    pub connections: Option<(u64, u64)>,
    /// The protocol profile of the first run (with `--trace`).
    pub profile: Option<Profile>,
    /// Files in the tree.
    pub files: usize,
    /// Bytes in the tree.
    pub bytes: u64,
}

impl Summary {
    /// Bytes per second at the median time.
    pub fn bytes_per_sec(&self) -> f64 {
        self.bytes as f64 / self.median_wall.as_secs_f64().max(1e-9)
    }

    /// Files per second at the median time.
    pub fn files_per_sec(&self) -> f64 {
        self.files as f64 / self.median_wall.as_secs_f64().max(1e-9)
    }
}

/// Groups samples by (scenario, tool, sessions) and summarizes each group.
pub fn summarize(samples: &[Sample]) -> Vec<Summary> {
    let mut groups: BTreeMap<(Scenario, Tool, usize), Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        groups
            .entry((s.scenario.clone(), s.tool, s.sessions))
            .or_default()
            .push(s);
    }
    groups
        .into_iter()
        .filter_map(|((scenario, tool, sessions), group)| {
            let first = group.first()?;
            let walls: Vec<Duration> = group.iter().map(|s| s.measurement.wall).collect();
            let cpus: Vec<Duration> = group.iter().map(|s| s.measurement.cpu()).collect();
            Some(Summary {
                scenario,
                tool,
                sessions,
                runs: group.len(),
                median_wall: median(&walls)?,
                min_wall: walls.iter().copied().min()?,
                max_wall: walls.iter().copied().max()?,
                median_cpu: median(&cpus)?,
                peak_rss_kib: group.iter().map(|s| s.measurement.max_rss_kib).max()?,
                connections: first.connections,
                profile: first.profile.clone(),
                files: first.files,
                bytes: first.bytes,
            })
        })
        .collect()
}

/// The median (mean of the two middle values for an even count).
pub fn median(values: &[Duration]) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[ms(5)]), Some(ms(5)));
        assert_eq!(median(&[ms(9), ms(1), ms(5)]), Some(ms(5)));
        assert_eq!(median(&[ms(4), ms(1), ms(2), ms(10)]), Some(ms(3)));
    }

    #[test]
    fn summaries_group_by_tool_and_sessions() {
        let scenario = Scenario {
            tree: "a".into(),
            server: ServerKind::Pyftpdlib,
            rtt_ms: 20,
            mode: Mode::Fresh,
        };
        let sample = |tool, sessions, wall, rss| Sample {
            scenario: scenario.clone(),
            tool,
            sessions,
            run: 0,
            measurement: Measurement {
                wall: ms(wall),
                user: ms(1),
                sys: ms(1),
                max_rss_kib: rss,
            },
            connections: None,
            profile: None,
            files: 10,
            bytes: 1000,
        };
        let all = vec![
            sample(Tool::Lftp, 8, 300, 10),
            sample(Tool::Lftp, 8, 100, 30),
            sample(Tool::Lftp, 8, 200, 20),
            sample(Tool::Lftp, 16, 50, 5),
        ];
        let s = summarize(&all);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].sessions, s[0].runs, s[0].median_wall),
            (8, 3, ms(200))
        );
        assert_eq!(
            (s[0].min_wall, s[0].max_wall, s[0].peak_rss_kib),
            (ms(100), ms(300), 30)
        );
        assert_eq!(s[0].median_cpu, ms(2));
        assert!((s[1].files_per_sec() - 200.0).abs() < 1e-6);
    }
}
