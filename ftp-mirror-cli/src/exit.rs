//! Exit codes (documented in the README): 0 all done, 1 something failed
//! (the rest still done), 2 bad usage or plan.

use std::process::ExitCode;

/// Exit code 1 after printing `msg`.
pub fn failure(msg: impl std::fmt::Display) -> ExitCode {
    crate::progress::suspend(|| eprintln!("ftp-mirror: {msg}"));
    ExitCode::from(1)
}

/// Exit code 2 after printing `msg`.
pub fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("ftp-mirror: {msg}");
    ExitCode::from(2)
}

/// The exit code of a run report.
pub fn of_report(report: &ftp_mirror::report::RunReport) -> ExitCode {
    ExitCode::from(report.exit_code().clamp(0, 255) as u8)
}
