//! Ctrl-C and SIGTERM. The first asks the run to stop cleanly: no new
//! transfer starts, running ones stop at their next chunk, current copies
//! stay as they are and the next run resumes (exit code 130). A second one,
//! two seconds or more later, ends the process at once; that is safe too,
//! only slower to resume. One sooner is taken for the same request sent
//! twice.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ftp_mirror::interrupt::Interrupt;

static INTERRUPT: OnceLock<Interrupt> = OnceLock::new();

/// A second signal this soon after the first is the same request sent
/// twice (GNU `timeout` signals both the process and its group), not a
/// user pressing Ctrl-C again.
const SAME_REQUEST: Duration = Duration::from_secs(2);

/// The run's interrupt; the handler is installed on first use.
pub fn interrupt() -> Interrupt {
    INTERRUPT
        .get_or_init(|| {
            let interrupt = Interrupt::new();
            let seen = interrupt.clone();
            // ctrlc runs this on its own thread, not in the signal handler.
            let mut first: Option<Instant> = None;
            let installed = ctrlc::set_handler(move || {
                if let Some(at) = first {
                    if at.elapsed() >= SAME_REQUEST {
                        std::process::exit(130);
                    }
                    return;
                }
                first = Some(Instant::now());
                seen.trigger();
                crate::progress::suspend(|| {
                    eprintln!(
                        "ftp-mirror: interrupted; stopping. Finished files are kept and the \
                         next run resumes. Press Ctrl-C again to stop at once."
                    )
                });
            });
            if let Err(e) = installed {
                log::warn!("cannot handle Ctrl-C: {e}");
            }
            interrupt
        })
        .clone()
}
