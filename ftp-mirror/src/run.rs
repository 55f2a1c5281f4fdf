//! The orchestration the CLI calls: run a plan ([`run_plan`]) or mirror one
//! URL without a plan ([`run_url`]).
//!
//! For every selected module, concurrently (one thread each):
//! 1. take the stage lock (a second run on the same stage skips the module);
//! 2. finish anything an interrupted earlier run left (see
//!    [`Stage::recover`]) and make sure the new-copy directory exists;
//! 3. [`sync_tree`] the remote directory into the new copy, reusing unchanged
//!    files from the current copy and whatever an earlier failed run left;
//! 4. if every file made it: swap the new copy in, keep or delete the old
//!    one ([`Stage::commit`]), then copy the module to its destinations
//!    ([`distribute_all`]). A module with any failure is reported failed and
//!    neither swapped nor distributed; its new copy stays for the next run.
//!
//! Modules on the same server share one session pool (`NUM_CONNECTION`
//! sessions at most, `FTP_TIMEOUT` to wait for one).
//!
//! A dry run lists and compares only: it creates, changes and deletes
//! nothing, locally or remotely, and reports what would be fetched, kept
//! and copied.

mod get;

use std::path::Path;
use std::time::{Duration, Instant};

use ftp_proto::client::Config;

pub use get::run_url;

use crate::distribute::{distribute_all, preview, Target};
use crate::events::{Event, EventSink};
use crate::filter::Exclude;
use crate::interrupt::Interrupt;
use crate::plan::{Module, Plan};
use crate::pool::{Pool, PoolConfig, Pools, ServerAuth, ServerKey};
use crate::report::{DestinationReport, DestinationStatus, ModuleReport, ModuleStatus, RunReport};
use crate::stage::Stage;
use crate::sync::{sync_tree, SyncError, SyncOptions, SyncStats};
use crate::walk::ListingMode;

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Module ids or aliases to run; empty means every module of the plan.
    pub modules: Vec<String>,
    /// List and compare only; change nothing anywhere.
    pub dry_run: bool,
    /// Sessions per server, overriding the plan's `NUM_CONNECTION`
    /// (for [`run_url`]: the session count, default 4).
    pub connections: Option<usize>,
    /// How long to wait for a free session, overriding `FTP_TIMEOUT`.
    pub wait_timeout: Option<Duration>,
    /// Attempts after the first for a file that fails transiently.
    pub max_retries: u32,
    /// FTP session settings (timeouts, passive/active). Its `buffer_size` is
    /// replaced by the plan's `BUFFER_SIZE`.
    pub client: Config,
    /// Which listing commands to use; see [`ListingMode`].
    pub listing: ListingMode,
    /// Entries to leave out of every module (see [`crate::filter`]).
    pub exclude: Exclude,
    /// Stops the run when triggered (e.g. from a Ctrl-C handler): modules
    /// still mirroring end as [`ModuleStatus::Interrupted`], with their
    /// current copies unchanged, their work kept for the next run and
    /// nothing distributed.
    pub interrupt: Interrupt,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            modules: Vec::new(),
            dry_run: false,
            connections: None,
            wait_timeout: None,
            max_retries: 3,
            client: Config::default(),
            listing: ListingMode::Auto,
            exclude: Exclude::none(),
            interrupt: Interrupt::new(),
        }
    }
}

/// Runs the selected modules of `plan` and reports on each module and
/// destination. Never panics on bad input; problems end up in the report
/// (an unknown module name in [`RunReport::errors`]).
pub fn run_plan(plan: &Plan, opts: &RunOptions, events: &dyn EventSink) -> RunReport {
    let started = Instant::now();
    let mut report = RunReport::new();
    let modules = match plan.select(&opts.modules) {
        Ok(modules) => modules,
        Err(e) => {
            report.errors.push(e.to_string());
            report.elapsed = started.elapsed();
            return report;
        }
    };
    let settings = &plan.settings;
    let pool_config = PoolConfig {
        max_sessions: opts.connections.unwrap_or(settings.num_connection).max(1),
        wait_timeout: opts.wait_timeout.unwrap_or(settings.ftp_timeout),
        client: Config {
            buffer_size: settings.buffer_size,
            ..opts.client.clone()
        },
    };
    let pools = Pools::default();
    let jobs: Vec<(&Module, Pool)> = modules
        .into_iter()
        .map(|module| {
            let auth = ServerAuth {
                key: ServerKey {
                    host: module.server.host.clone(),
                    port: module.server.port,
                    user: module.server.user.clone(),
                },
                password: module.server.password.clone(),
            };
            (module, pools.pool_for(auth, pool_config.clone()))
        })
        .collect();
    let buffer_size = settings.buffer_size;
    let outcomes: Vec<(ModuleReport, Vec<DestinationReport>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(module, pool)| {
                scope.spawn(move || run_module(plan, module, pool, buffer_size, opts, events))
            })
            .collect();
        handles
            .into_iter()
            .zip(&jobs)
            .map(|(handle, (module, _))| {
                handle.join().unwrap_or_else(|_| {
                    let mut failed = module_report(module);
                    failed
                        .errors
                        .push("internal error: the module's thread panicked".into());
                    (failed, Vec::new())
                })
            })
            .collect()
    });
    for (module, destinations) in outcomes {
        report.modules.push(module);
        report.destinations.extend(destinations);
    }
    report.interrupted = opts.interrupt.is_set();
    report.elapsed = started.elapsed();
    report
}

/// One module, start to end.
fn run_module(
    plan: &Plan,
    module: &Module,
    pool: &Pool,
    buffer_size: usize,
    opts: &RunOptions,
    events: &dyn EventSink,
) -> (ModuleReport, Vec<DestinationReport>) {
    let targets: Vec<Target> = plan
        .destinations_of(&module.id)
        .map(|(machine, d)| Target {
            machine: machine.name.clone(),
            path: d.local_location.clone(),
        })
        .collect();
    let stage = Stage::for_module(module);
    let mut report = module_report(module);
    let job = Mirror {
        id: &module.id,
        remote_root: module.remote_root(),
        stage: &stage,
        pool,
        buffer_size,
        opts,
        events,
        announce: true,
    };
    let (status, _lock) = job.run(&mut report);
    let destinations = match status {
        // Interrupted after the swap: the destinations are left as they
        // are (skipped below); the next run distributes.
        ModuleStatus::Ok if !opts.interrupt.is_set() => distribute_all(
            &module.id,
            stage.current(),
            &targets,
            events,
            &opts.interrupt,
        )
        .into_iter()
        .map(|outcome| distributed(&module.id, outcome, &opts.interrupt))
        .collect(),
        ModuleStatus::DryRun => targets
            .iter()
            .map(|t| {
                let mut d = destination_report(&module.id, t, DestinationStatus::DryRun, None);
                let would = preview(
                    stage.previous(),
                    &t.path,
                    &report.would_fetch,
                    &report.would_keep,
                );
                d.files_copied = would.files_copied;
                d.files_linked = would.files_linked;
                d
            })
            .collect(),
        _ => targets
            .iter()
            .map(|t| {
                let why = format!("not copied: module {} did not complete", module.id);
                destination_report(&module.id, t, DestinationStatus::Skipped, Some(why))
            })
            .collect(),
    };
    (report, destinations)
}

/// Mirroring one remote directory into one stage: shared by plan modules
/// and [`run_url`].
pub(crate) struct Mirror<'a> {
    pub id: &'a str,
    pub remote_root: Vec<u8>,
    pub stage: &'a Stage,
    pub pool: &'a Pool,
    pub buffer_size: usize,
    pub opts: &'a RunOptions,
    pub events: &'a dyn EventSink,
    /// Whether [`Mirror::run`] sends `ModuleStarted` (the caller may have).
    pub announce: bool,
}

impl Mirror<'_> {
    /// Runs the steps, fills `report` (status, counters, errors, elapsed)
    /// and returns the status with the stage lock, which the caller holds
    /// while it distributes the copy.
    pub fn run(
        &self,
        report: &mut ModuleReport,
    ) -> (ModuleStatus, Option<crate::stage::StageLock>) {
        let started = Instant::now();
        if self.announce {
            self.events.event(&Event::ModuleStarted {
                module: self.id.to_string(),
            });
        }
        log::info!(
            "module {}: mirroring into {}",
            self.id,
            self.stage.current().display()
        );
        report.path = Some(self.stage.current().display().to_string());
        let (status, lock) = self.steps(report);
        report.status = status;
        report.set_elapsed(started.elapsed());
        let ok = matches!(status, ModuleStatus::Ok | ModuleStatus::DryRun);
        match status {
            ModuleStatus::Ok | ModuleStatus::DryRun => log::info!(
                "module {}: {} ({} fetched, {} bytes; {} unchanged) in {:.2}s",
                self.id,
                if status == ModuleStatus::Ok {
                    "done"
                } else {
                    "dry run done"
                },
                report.files_fetched,
                report.bytes_fetched,
                report.files_unchanged,
                report.elapsed.as_secs_f64()
            ),
            ModuleStatus::Skipped => {
                log::warn!("module {}: skipped: {}", self.id, first_error(report))
            }
            ModuleStatus::Interrupted => log::warn!("module {}: interrupted", self.id),
            _ => log::error!(
                "module {}: failed ({} error(s); first: {})",
                self.id,
                report.errors.len(),
                first_error(report)
            ),
        }
        self.events.event(&Event::ModuleFinished {
            module: self.id.to_string(),
            ok,
        });
        (status, lock)
    }

    fn steps(&self, report: &mut ModuleReport) -> (ModuleStatus, Option<crate::stage::StageLock>) {
        let mut lock = None;
        if !self.opts.dry_run {
            match self.stage.lock() {
                Ok(Some(held)) => lock = Some(held),
                Ok(None) => {
                    report.errors.push(format!(
                        "another ftp-mirror run is using {}; module skipped",
                        self.stage.current().display()
                    ));
                    return (ModuleStatus::Skipped, None);
                }
                Err(e) => return (self.fail(report, e.to_string()), None),
            }
            if let Err(e) = self.stage.prepare() {
                return (self.fail(report, e.to_string()), lock);
            }
        }
        let options = SyncOptions {
            module: self.id.to_string(),
            remote_root: self.remote_root.clone(),
            dest: self.stage.new_dir().to_path_buf(),
            previous: self.stage.previous().map(Path::to_path_buf),
            dry_run: self.opts.dry_run,
            max_retries: self.opts.max_retries,
            buffer_size: self.buffer_size,
            workers: self.pool.limit().max(1),
            listing: self.opts.listing,
            exclude: self.opts.exclude.clone(),
            interrupt: self.opts.interrupt.clone(),
        };
        let stats = match sync_tree(self.pool, &options, self.events) {
            Ok(stats) => stats,
            Err(SyncError::Interrupted(stats)) => {
                fill_counts(report, &stats);
                report.errors.push(
                    "interrupted; the current copy is unchanged and the next run resumes".into(),
                );
                return (ModuleStatus::Interrupted, lock);
            }
            Err(e) => {
                // sync_tree has already sent the `Failed` event for this.
                report.errors.push(e.to_string());
                return (ModuleStatus::Failed, lock);
            }
        };
        fill_counts(report, &stats);
        if stats.excluded > 0 {
            log::info!(
                "module {}: {} entries left out by exclude patterns",
                self.id,
                stats.excluded
            );
        }
        if !stats.failures.is_empty() {
            report.errors.extend(
                stats
                    .failures
                    .iter()
                    .map(|(path, error)| format!("{path}: {error}")),
            );
            return (ModuleStatus::Failed, lock);
        }
        if self.opts.dry_run {
            report.would_fetch = stats.would_fetch;
            report.would_keep = stats.would_keep;
            report.would_delete = stats.would_delete;
            return (ModuleStatus::DryRun, None);
        }
        if self.opts.interrupt.is_set() {
            // Complete, but not swapped in: the next run finds everything
            // in the new copy already and swaps it in then.
            report.errors.push(
                "interrupted before the swap; the current copy is unchanged and the next run \
                 finishes"
                    .into(),
            );
            return (ModuleStatus::Interrupted, lock);
        }
        if stats.files_fetched == 0 {
            match self.stage.discard_if_unchanged() {
                Ok(true) => {
                    log::info!("module {}: nothing changed; current copy kept", self.id);
                    return (ModuleStatus::Ok, lock);
                }
                Ok(false) => {}
                Err(e) => return (self.fail(report, e.to_string()), lock),
            }
        }
        match self.stage.commit() {
            Ok(committed) => {
                report.backup = committed.backup.map(|p| p.display().to_string());
                (ModuleStatus::Ok, lock)
            }
            Err(e) => (self.fail(report, e.to_string()), lock),
        }
    }

    fn fail(&self, report: &mut ModuleReport, error: String) -> ModuleStatus {
        self.events.event(&Event::Failed {
            module: self.id.to_string(),
            path: String::new(),
            error: error.clone(),
        });
        report.errors.push(error);
        ModuleStatus::Failed
    }
}

/// The report of one destination that distribution went to.
fn distributed(
    module: &str,
    outcome: crate::distribute::Outcome,
    interrupt: &Interrupt,
) -> DestinationReport {
    let mut d = destination_report(module, &outcome.target, DestinationStatus::Ok, None);
    d.elapsed = outcome.elapsed;
    match outcome.result {
        Ok(stats) => {
            d.files_copied = stats.files_copied;
            d.files_linked = stats.files_linked + stats.files_kept;
            d.bytes_copied = stats.bytes_copied;
        }
        // Stopped by the interrupt: the destination keeps its old copy
        // and the next run distributes.
        Err(_) if interrupt.is_set() => {
            d.status = DestinationStatus::Skipped;
            d.error = Some("interrupted; the next run distributes".into());
        }
        Err(e) => {
            d.status = DestinationStatus::Failed;
            d.error = Some(e.to_string());
        }
    }
    d
}

fn first_error(report: &ModuleReport) -> &str {
    report.errors.first().map_or("", |e| e.as_str())
}

fn fill_counts(report: &mut ModuleReport, stats: &SyncStats) {
    report.files_fetched = stats.files_fetched;
    report.files_unchanged = stats.files_unchanged;
    report.bytes_fetched = stats.bytes_fetched;
    report.bytes_total = stats.bytes_total;
    report.dirs = stats.dirs;
    report.retries = stats.retries;
    report.excluded = stats.excluded;
    report.links = stats.links;
}

fn module_report(module: &Module) -> ModuleReport {
    let mut report = ModuleReport::new(module.id.clone());
    report.common_name = module.common_name.clone();
    report.install_depot_name = module.install_depot_name.clone();
    report
}

fn destination_report(
    module: &str,
    target: &Target,
    status: DestinationStatus,
    error: Option<String>,
) -> DestinationReport {
    DestinationReport {
        module: module.to_string(),
        machine: target.machine.clone(),
        path: target.path.display().to_string(),
        status,
        files_copied: 0,
        files_linked: 0,
        bytes_copied: 0,
        elapsed: Duration::ZERO,
        error,
    }
}
