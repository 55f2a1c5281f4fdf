//! The summary printed after a run: a table per module and per destination.

use std::fmt::Write as _;

use ftp_mirror::report::{DestinationStatus, ModuleStatus, RunReport};

use crate::progress::human_bytes;

/// The summary as text (one table for modules, one for destinations).
pub fn render(report: &RunReport) -> String {
    let mut rows = vec![vec![
        "module".to_string(),
        "status".into(),
        "fetched".into(),
        "unchanged".into(),
        "bytes".into(),
        "retries".into(),
        "time".into(),
        "throughput".into(),
    ]];
    // Columns only some runs need: links recreated, entries excluded.
    let links = report.modules.iter().any(|m| m.links > 0);
    let excluded = report.modules.iter().any(|m| m.excluded > 0);
    if links {
        rows[0].push("links".into());
    }
    if excluded {
        rows[0].push("excluded".into());
    }
    for m in &report.modules {
        let mut row = vec![
            m.id.clone(),
            module_status(m.status).into(),
            m.files_fetched.to_string(),
            m.files_unchanged.to_string(),
            human_bytes(m.bytes_fetched),
            m.retries.to_string(),
            format!("{:.2}s", m.elapsed.as_secs_f64()),
            format!("{}/s", human_bytes(m.throughput_bytes_per_sec as u64)),
        ];
        if links {
            row.push(m.links.to_string());
        }
        if excluded {
            row.push(m.excluded.to_string());
        }
        rows.push(row);
    }
    let mut out = table(&rows);
    if !report.destinations.is_empty() {
        let mut rows = vec![vec![
            "module".to_string(),
            "machine".into(),
            "destination".into(),
            "status".into(),
            "copied".into(),
            "linked".into(),
        ]];
        for d in &report.destinations {
            rows.push(vec![
                d.module.clone(),
                d.machine.clone(),
                d.path.clone(),
                dest_status(d.status).into(),
                d.files_copied.to_string(),
                d.files_linked.to_string(),
            ]);
        }
        out.push('\n');
        out.push_str(&table(&rows));
    }
    let mut errors = String::new();
    for e in &report.errors {
        let _ = writeln!(errors, "error: {e}");
    }
    for m in &report.modules {
        for e in m.errors.iter().take(20) {
            let _ = writeln!(errors, "error: {}: {e}", m.id);
        }
        if m.errors.len() > 20 {
            let _ = writeln!(
                errors,
                "error: {}: ... and {} more",
                m.id,
                m.errors.len() - 20
            );
        }
        if !m.would_fetch.is_empty() || !m.would_keep.is_empty() || !m.would_delete.is_empty() {
            let _ = writeln!(
                errors,
                "dry run: {}: would fetch {} file(s), keep {} unchanged, delete {}",
                m.id,
                m.would_fetch.len(),
                m.would_keep.len(),
                m.would_delete.len()
            );
            for p in &m.would_fetch {
                let _ = writeln!(errors, "  fetch  {p}");
            }
            for p in &m.would_delete {
                let _ = writeln!(errors, "  delete {p}");
            }
        }
    }
    for d in &report.destinations {
        if let Some(e) = &d.error {
            let _ = writeln!(errors, "error: {} -> {}: {e}", d.module, d.path);
        }
    }
    if !errors.is_empty() {
        out.push('\n');
        out.push_str(&errors);
    }
    out
}

fn module_status(s: ModuleStatus) -> &'static str {
    match s {
        ModuleStatus::Ok => "ok",
        ModuleStatus::Failed => "FAILED",
        ModuleStatus::Skipped => "skipped",
        ModuleStatus::DryRun => "dry-run",
        ModuleStatus::Refused => "REFUSED",
        ModuleStatus::Interrupted => "interrupted",
        _ => "?",
    }
}

fn dest_status(s: DestinationStatus) -> &'static str {
    match s {
        DestinationStatus::Ok => "ok",
        DestinationStatus::Failed => "FAILED",
        DestinationStatus::Skipped => "skipped",
        DestinationStatus::DryRun => "dry-run",
        _ => "?",
    }
}

/// Left-aligned columns separated by two spaces.
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.chars().count());
            line.push_str(cell);
            if c + 1 < row.len() {
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ftp_mirror::report::ModuleReport;

    #[test]
    fn renders_modules_and_errors() {
        let mut report = RunReport::new();
        let mut m = ModuleReport::new("NIGHTLY");
        m.status = ModuleStatus::Ok;
        m.files_fetched = 3;
        report.modules.push(m);
        let mut bad = ModuleReport::new("BETA");
        bad.errors.push("login refused".into());
        report.modules.push(bad);
        let text = render(&report);
        assert!(text.contains("NIGHTLY  ok"), "{text}");
        assert!(text.contains("BETA     FAILED"), "{text}");
        assert!(text.contains("error: BETA: login refused"), "{text}");
        assert!(!text.contains("excluded"), "{text}");
    }

    #[test]
    fn shows_excluded_entries_when_there_are_some() {
        let mut report = RunReport::new();
        let mut m = ModuleReport::new("NIGHTLY");
        m.status = ModuleStatus::Ok;
        m.excluded = 7;
        report.modules.push(m);
        let text = render(&report);
        let header = text.lines().next().unwrap();
        assert!(header.ends_with("excluded"), "{text}");
        assert!(text.lines().nth(1).unwrap().ends_with('7'), "{text}");
        assert!(!header.contains("links"), "{text}");
    }

    #[test]
    fn shows_links_when_some_were_made() {
        let mut report = RunReport::new();
        let mut m = ModuleReport::new("DROPS");
        m.status = ModuleStatus::Ok;
        m.links = 3;
        report.modules.push(m);
        let text = render(&report);
        assert!(text.lines().next().unwrap().ends_with("links"), "{text}");
        assert!(text.lines().nth(1).unwrap().ends_with('3'), "{text}");
    }
}
