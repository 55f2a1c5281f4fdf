//! Ctrl-C and SIGTERM. The first asks the run to stop cleanly: no new
//! transfer starts, running ones stop at their next chunk, current copies
//! stay as they are and the next run resumes (exit code 130). A second one
//! ends the process at once; that is safe too, only slower to resume.

use std::sync::OnceLock;

use ftp_mirror::interrupt::Interrupt;

static INTERRUPT: OnceLock<Interrupt> = OnceLock::new();

/// The run's interrupt; the handler is installed on first use.
pub fn interrupt() -> Interrupt {
    INTERRUPT
        .get_or_init(|| {
            let interrupt = Interrupt::new();
            let seen = interrupt.clone();
            // ctrlc runs this on its own thread, not in the signal handler.
            let installed = ctrlc::set_handler(move || {
                if seen.is_set() {
                    std::process::exit(130);
                }
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
