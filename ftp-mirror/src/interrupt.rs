//! A request to stop a run early, shared by whoever asks (a signal handler,
//! a GUI's cancel button) and the engine, which checks it between jobs and
//! while it writes downloaded bytes.
//!
//! An interrupted module keeps its staged new copy, `.part` files and their
//! origin records, and leaves the current copy as it was: the next run
//! resumes where this one stopped.
//!
//! ```
//! use ftp_mirror::interrupt::Interrupt;
//!
//! let interrupt = Interrupt::new();
//! let for_the_handler = interrupt.clone();
//! assert!(!interrupt.is_set());
//! for_the_handler.trigger();
//! assert!(interrupt.is_set());
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A cloneable stop request; every clone sees [`Interrupt::trigger`].
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Not triggered.
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Asks the run to stop. Safe to call from a signal-handling thread.
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Interrupt::trigger`] was called on any clone.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
