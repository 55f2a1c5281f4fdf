//! A protocol profile of one run, read from the proxy's control-line trace
//! (see [`LatencyProxy::set_trace`](crate::proxy::LatencyProxy::set_trace)):
//! where a tool spends its round trips.
//!
//! Times in a trace are when the proxy read a line, i.e. when the client sent
//! a command or the server sent a reply.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

/// What a trace says about one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    /// Control connections.
    pub sessions: usize,
    /// Commands sent, by verb (`RETR`, `EPSV`, `MLSD`, ...).
    pub commands: BTreeMap<String, usize>,
    /// When the last session to open sent its first command, in ms from the
    /// first line (how long the tool takes to open all its sessions).
    pub all_sessions_busy_ms: f64,
    /// When the first `RETR` was sent, in ms from the first line.
    pub first_retr_ms: Option<f64>,
    /// Median time between two `RETR` commands on the same session, in ms:
    /// the cost of one file.
    pub median_file_cycle_ms: Option<f64>,
    /// From the first `QUIT` to the last line, in ms (closing the sessions).
    pub quit_phase_ms: Option<f64>,
    /// From the first line to the last, in ms.
    pub total_ms: f64,
}

/// Reads and profiles the trace at `path`.
pub fn profile_file(path: &Path) -> io::Result<Profile> {
    Ok(profile(&fs::read_to_string(path)?))
}

/// Profiles trace text (`ms \t connection \t C|S \t line` per line).
pub fn profile(text: &str) -> Profile {
    let mut lines: Vec<(f64, u64, bool, &str)> = Vec::new();
    for l in text.lines() {
        let mut f = l.splitn(4, '\t');
        let (Some(t), Some(c), Some(d), Some(rest)) = (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let (Ok(t), Ok(c)) = (t.parse::<f64>(), c.parse::<u64>()) else {
            continue;
        };
        lines.push((t, c, d == "C", rest));
    }
    let mut p = Profile::default();
    let Some(start) = lines.iter().map(|l| l.0).reduce(f64::min) else {
        return p;
    };
    let end = lines.iter().map(|l| l.0).fold(start, f64::max);
    p.total_ms = end - start;
    let mut first_cmd: BTreeMap<u64, f64> = BTreeMap::new();
    let mut last_retr: BTreeMap<u64, f64> = BTreeMap::new();
    let mut cycles: Vec<f64> = Vec::new();
    let mut first_quit: Option<f64> = None;
    for &(t, conn, client, line) in &lines {
        first_cmd.entry(conn).or_insert(f64::INFINITY);
        if !client {
            continue;
        }
        let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
        let e = first_cmd.entry(conn).or_insert(t);
        if e.is_infinite() {
            *e = t;
        }
        match verb.as_str() {
            "RETR" => {
                p.first_retr_ms = Some(p.first_retr_ms.map_or(t - start, |v| v.min(t - start)));
                if let Some(prev) = last_retr.insert(conn, t) {
                    cycles.push(t - prev);
                }
            }
            "QUIT" => first_quit = Some(first_quit.map_or(t, |v| v.min(t))),
            _ => {}
        }
        *p.commands.entry(verb).or_insert(0) += 1;
    }
    p.sessions = first_cmd.len();
    p.all_sessions_busy_ms = first_cmd
        .values()
        .copied()
        .filter(|v| v.is_finite())
        .fold(start, f64::max)
        - start;
    p.quit_phase_ms = first_quit.map(|q| end - q);
    cycles.sort_by(f64::total_cmp);
    p.median_file_cycle_ms = cycles.get(cycles.len() / 2).copied();
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_a_two_session_trace() {
        let trace = "\
0.0\t1\tS\t220 hi
10.0\t1\tC\tUSER anonymous
20.0\t1\tS\t331 ok
30.0\t1\tC\tPASS ***
35.0\t2\tS\t220 hi
45.0\t2\tC\tUSER anonymous
50.0\t1\tC\tEPSV
50.0\t1\tC\tRETR a
110.0\t1\tC\tEPSV
110.0\t1\tC\tRETR b
170.0\t1\tC\tEPSV
170.0\t1\tC\tRETR c
300.0\t1\tC\tQUIT
310.0\t1\tS\t221 bye
320.0\t2\tC\tQUIT
330.0\t2\tS\t221 bye
garbage line
";
        let p = profile(trace);
        assert_eq!(p.sessions, 2);
        assert_eq!(p.commands.get("RETR"), Some(&3));
        assert_eq!(p.commands.get("EPSV"), Some(&3));
        assert_eq!(p.first_retr_ms, Some(50.0));
        assert_eq!(p.median_file_cycle_ms, Some(60.0));
        assert_eq!(p.all_sessions_busy_ms, 45.0);
        assert_eq!(p.quit_phase_ms, Some(30.0));
        assert_eq!(p.total_ms, 330.0);
    }

    #[test]
    fn empty_trace() {
        assert_eq!(profile(""), Profile::default());
    }
}
