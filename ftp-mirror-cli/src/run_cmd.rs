//! `ftp-mirror run PLAN.xml`: the nightly job.

use std::path::PathBuf;
use std::process::ExitCode;

use ftp_mirror::plan::Plan;
use ftp_mirror::report::RunReport;
use ftp_mirror::run::{run_plan, RunOptions};

use crate::progress::{Mode, Reporter};
use crate::{exit, logging, summary, CommonArgs};

/// Arguments of `run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The XML plan.
    pub plan: PathBuf,
    /// Only this module (id or alias); repeat for several.
    #[arg(long = "module", short = 'm', value_name = "ID")]
    pub modules: Vec<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

pub fn run(args: &RunArgs) -> ExitCode {
    if let Err(e) = args.common.check_json_target() {
        return exit::usage(e);
    }
    let plan = match Plan::from_file(&args.plan) {
        Ok(p) => p,
        // The error names the file already.
        Err(e) => return exit::usage(e),
    };
    // Plan::from_file has logged the plan's warnings already.
    apply_settings(&plan, &args.common);
    if let Err(e) = plan.select(&args.modules) {
        return exit::usage(format!("{}: {e}", args.plan.display()));
    }
    let opts = RunOptions {
        modules: args.modules.clone(),
        ..args.common.run_options()
    };
    let reporter = Reporter::new(Mode::pick(args.common.no_progress));
    let report = run_plan(&plan, &opts, &reporter);
    reporter.finish();
    finish(&report, &args.common)
}

/// Applies the plan's LOG_LEVEL (unless `--log-level` overrides it) and LOG file.
pub fn apply_settings(plan: &Plan, common: &CommonArgs) {
    if common.log_level.is_none() {
        logging::set_level(plan.settings.log_level.to_level_filter());
    }
    if let Some(log) = &plan.settings.log_file {
        if let Err(e) = logging::add_file(log) {
            log::warn!("cannot write log file {}: {e}", log.display());
        }
    }
}

/// Prints the summary, writes the JSON report, and maps the exit code.
///
/// With `--json -` stdout carries the JSON alone, so the summary goes to
/// stderr.
pub fn finish(report: &RunReport, common: &CommonArgs) -> ExitCode {
    let json_on_stdout = common.json_on_stdout();
    if json_on_stdout {
        eprint!("{}", summary::render(report));
    } else {
        print!("{}", summary::render(report));
    }
    if let Some(path) = &common.json {
        let written = if json_on_stdout {
            println!("{}", report.to_json());
            Ok(())
        } else {
            std::fs::write(path, report.to_json() + "\n")
        };
        if let Err(e) = written {
            return exit::failure(format!("cannot write {}: {e}", path.display()));
        }
    }
    exit::of_report(report)
}
