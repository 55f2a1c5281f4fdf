//! The outcome of a run: one entry per module and per destination, an exit
//! code, and JSON for scripts.
//!
//! A report never holds a password: it is built from ids, paths, counters
//! and error texts, and the engine's error texts carry no secrets.
//!
//! ```
//! use ftp_mirror::report::{ModuleReport, ModuleStatus, RunReport};
//!
//! let mut report = RunReport::new();
//! let mut module = ModuleReport::new("NIGHTLY");
//! module.status = ModuleStatus::Ok;
//! module.bytes_fetched = 2048;
//! report.modules.push(module);
//! assert_eq!(report.exit_code(), 0);
//! let json = report.to_json();
//! assert!(json.contains("\"status\": \"ok\""));
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// When the run started (JSON: RFC 3339, UTC).
    #[serde(serialize_with = "rfc3339")]
    pub started: SystemTime,
    /// How long it took (JSON: seconds).
    #[serde(serialize_with = "seconds", rename = "elapsed_secs")]
    pub elapsed: Duration,
    /// One entry per selected module, in plan order.
    pub modules: Vec<ModuleReport>,
    /// One entry per destination of the selected modules.
    pub destinations: Vec<DestinationReport>,
    /// Problems that concern no single module (e.g. an unknown module name).
    pub errors: Vec<String>,
    /// The run was interrupted ([`RunOptions::interrupt`](crate::run::RunOptions::interrupt)).
    pub interrupted: bool,
}

/// How a module ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ModuleStatus {
    /// Mirrored completely and swapped in.
    Ok,
    /// Not mirrored completely; the current copy is unchanged.
    Failed,
    /// Not attempted: another run was using the same stage directory.
    Skipped,
    /// Dry run: listed and compared only.
    DryRun,
    /// Not attempted: the request itself was refused (e.g. a `get`
    /// destination that would be replaced whole); nothing was touched.
    Refused,
    /// Stopped by [`RunOptions::interrupt`](crate::run::RunOptions::interrupt):
    /// the current copy is unchanged and the next run resumes.
    Interrupted,
}

/// How a destination ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DestinationStatus {
    /// Holds the new copy.
    Ok,
    /// The copy failed; the destination holds its old copy.
    Failed,
    /// Not attempted because the module failed or was skipped.
    Skipped,
    /// Dry run: would receive the new copy.
    DryRun,
}

/// One module.
#[derive(Clone, Debug, Serialize)]
pub struct ModuleReport {
    /// Module id.
    pub id: String,
    /// `common_name` from the plan.
    pub common_name: Option<String>,
    /// `install_depot_name` from the plan.
    pub install_depot_name: Option<String>,
    /// How it ended.
    pub status: ModuleStatus,
    /// The directory holding the current copy.
    pub path: Option<String>,
    /// Files downloaded.
    pub files_fetched: u64,
    /// Files found unchanged and carried over.
    pub files_unchanged: u64,
    /// Bytes downloaded.
    pub bytes_fetched: u64,
    /// Size of the whole tree.
    pub bytes_total: u64,
    /// Directories listed.
    pub dirs: u64,
    /// Transient failures that were retried.
    pub retries: u64,
    /// Entries (files, and directories with all they hold) left out by
    /// exclude patterns; what is below an excluded directory is not counted.
    pub excluded: u64,
    /// Symbolic links made in the new copy (their targets stay inside it);
    /// in a dry run, that would be.
    pub links: u64,
    /// Time spent (JSON: seconds).
    #[serde(serialize_with = "seconds", rename = "elapsed_secs")]
    pub elapsed: Duration,
    /// Download rate in bytes per second over `elapsed`.
    pub throughput_bytes_per_sec: f64,
    /// Where the replaced copy was kept, if it was.
    pub backup: Option<String>,
    /// What went wrong (per file: `path: error`).
    pub errors: Vec<String>,
    /// Dry run: files that would be fetched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_fetch: Vec<String>,
    /// Dry run: files that would be kept.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_keep: Vec<String>,
    /// Dry run: files of the current copy that would be gone from the new one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_delete: Vec<String>,
}

/// One destination of one module.
#[derive(Clone, Debug, Serialize)]
pub struct DestinationReport {
    /// Module id.
    pub module: String,
    /// Machine name from the plan.
    pub machine: String,
    /// The destination directory.
    pub path: String,
    /// How it ended.
    pub status: DestinationStatus,
    /// Files copied from the stage.
    pub files_copied: u64,
    /// Unchanged files linked from the previous copy.
    pub files_linked: u64,
    /// Bytes copied.
    pub bytes_copied: u64,
    /// Time spent (JSON: seconds).
    #[serde(serialize_with = "seconds", rename = "elapsed_secs")]
    pub elapsed: Duration,
    /// Why it failed or was skipped.
    pub error: Option<String>,
}

impl RunReport {
    /// An empty report starting now.
    pub fn new() -> RunReport {
        RunReport {
            started: SystemTime::now(),
            elapsed: Duration::ZERO,
            modules: Vec::new(),
            destinations: Vec::new(),
            errors: Vec::new(),
            interrupted: false,
        }
    }

    /// Whether every module and destination succeeded (or was a dry run)
    /// and there was no run-level error.
    pub fn is_success(&self) -> bool {
        self.errors.is_empty()
            && self
                .modules
                .iter()
                .all(|m| matches!(m.status, ModuleStatus::Ok | ModuleStatus::DryRun))
            && self
                .destinations
                .iter()
                .all(|d| matches!(d.status, DestinationStatus::Ok | DestinationStatus::DryRun))
    }

    /// The process exit code: 0 when everything succeeded, 130 when a module
    /// was interrupted, 2 when a request was refused as bad usage (nothing
    /// was touched), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.is_success() {
            0
        } else if self.interrupted
            || self
                .modules
                .iter()
                .any(|m| m.status == ModuleStatus::Interrupted)
        {
            // As a shell reports a command stopped by SIGINT.
            130
        } else if self
            .modules
            .iter()
            .any(|m| m.status == ModuleStatus::Refused)
        {
            2
        } else {
            1
        }
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Totals over all modules: (files fetched, files unchanged, bytes fetched).
    pub fn totals(&self) -> (u64, u64, u64) {
        self.modules.iter().fold((0, 0, 0), |(f, u, b), m| {
            (
                f + m.files_fetched,
                u + m.files_unchanged,
                b + m.bytes_fetched,
            )
        })
    }
}

impl Default for RunReport {
    fn default() -> RunReport {
        RunReport::new()
    }
}

impl ModuleReport {
    /// A report for module `id` that has not run yet (status `Failed` until
    /// the run says otherwise).
    pub fn new(id: impl Into<String>) -> ModuleReport {
        ModuleReport {
            id: id.into(),
            common_name: None,
            install_depot_name: None,
            status: ModuleStatus::Failed,
            path: None,
            files_fetched: 0,
            files_unchanged: 0,
            bytes_fetched: 0,
            bytes_total: 0,
            dirs: 0,
            retries: 0,
            excluded: 0,
            links: 0,
            elapsed: Duration::ZERO,
            throughput_bytes_per_sec: 0.0,
            backup: None,
            errors: Vec::new(),
            would_fetch: Vec::new(),
            would_keep: Vec::new(),
            would_delete: Vec::new(),
        }
    }

    /// Sets `elapsed` and the throughput derived from it.
    pub fn set_elapsed(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
        let secs = elapsed.as_secs_f64();
        self.throughput_bytes_per_sec = if secs > 0.0 {
            self.bytes_fetched as f64 / secs
        } else {
            0.0
        };
    }
}

fn seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

fn rfc3339<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_rfc3339(*t))
}

/// `YYYY-MM-DDThh:mm:ssZ` (UTC) for a time after 1970.
pub fn format_rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01
/// (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(status: DestinationStatus) -> DestinationReport {
        DestinationReport {
            module: "M".into(),
            machine: "web1".into(),
            path: "/mnt/web1".into(),
            status,
            files_copied: 1,
            files_linked: 2,
            bytes_copied: 3,
            elapsed: Duration::from_millis(1500),
            error: None,
        }
    }

    #[test]
    fn exit_code_reflects_every_part() {
        let mut report = RunReport::new();
        assert_eq!(report.exit_code(), 0);
        let mut ok = ModuleReport::new("A");
        ok.status = ModuleStatus::Ok;
        report.modules.push(ok);
        report.destinations.push(destination(DestinationStatus::Ok));
        assert_eq!(report.exit_code(), 0);
        report
            .destinations
            .push(destination(DestinationStatus::Failed));
        assert_eq!(report.exit_code(), 1);
        report.destinations.pop();
        report.modules.push(ModuleReport::new("B"));
        assert_eq!(
            report.exit_code(),
            1,
            "a new module report counts as failed"
        );
        report.modules.pop();
        report.errors.push("unknown module".into());
        assert_eq!(report.exit_code(), 1);
    }

    #[test]
    fn json_has_names_statuses_and_seconds() {
        let mut report = RunReport::new();
        report.started = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        report.elapsed = Duration::from_millis(2500);
        let mut m = ModuleReport::new("NIGHTLY");
        m.common_name = Some("nightly".into());
        m.status = ModuleStatus::DryRun;
        m.bytes_fetched = 1000;
        m.set_elapsed(Duration::from_secs(4));
        m.would_fetch.push("a/b.iso".into());
        report.modules.push(m);
        report
            .destinations
            .push(destination(DestinationStatus::Skipped));
        let value: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(value["started"], "2023-11-14T22:13:20Z");
        assert_eq!(value["elapsed_secs"], 2.5);
        assert_eq!(value["modules"][0]["id"], "NIGHTLY");
        assert_eq!(value["modules"][0]["status"], "dry_run");
        assert_eq!(value["modules"][0]["throughput_bytes_per_sec"], 250.0);
        assert_eq!(value["modules"][0]["excluded"], 0);
        assert_eq!(value["modules"][0]["links"], 0);
        assert_eq!(value["modules"][0]["would_fetch"][0], "a/b.iso");
        assert!(value["modules"][0].get("would_keep").is_none());
        assert_eq!(value["destinations"][0]["status"], "skipped");
        assert_eq!(value["destinations"][0]["elapsed_secs"], 1.5);
    }

    #[test]
    fn dates_convert() {
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            format_rfc3339(UNIX_EPOCH + Duration::from_secs(4_102_444_799)),
            "2099-12-31T23:59:59Z"
        );
    }
}
