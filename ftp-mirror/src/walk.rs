//! The parallel walk: a shared queue of jobs that workers both consume and
//! produce, like ripgrep's directory walker.
//!
//! A job is either a listing (a directory to list, which produces more
//! jobs) or a transfer. Listings go first, so the queue fills early and
//! files start downloading while the walk goes on; only when [`BACKLOG`]
//! transfers wait do they go first, which bounds the queue's memory.
//! Workers run under [`std::thread::scope`]; the walk ends when the queue
//! is empty and no worker is busy (an active-worker count), or when
//! someone sets the quit flag.
//!
//! A handler queues what it produces with [`Jobs::push`] as it goes, so a
//! large directory's first files download while its last entries are still
//! being compared.
//!
//! The scheduler knows nothing about FTP: a worker never holds a session
//! while it waits for work, so the engine keeps "one session per thread at
//! a time" as its only rule, and nothing can deadlock even with a single
//! session (see `sync`).
//!
//! ```
//! use ftp_mirror::walk::{walk, Priority};
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! // Count the nodes of a binary tree of depth 5 with 3 workers.
//! let seen = AtomicUsize::new(0);
//! walk(3, vec![0u32], |_| Priority::High, |depth, out| {
//!     seen.fetch_add(1, Ordering::Relaxed);
//!     if depth < 5 {
//!         out.push(depth + 1);
//!         out.push(depth + 1);
//!     }
//! }, &Default::default());
//! assert_eq!(seen.load(Ordering::Relaxed), 63);
//! ```

mod listing;
mod names;

pub use listing::{list_dir, DirListing, ListingMethod, ListingMode, ListingSupport};
pub use names::{check_link_target, check_name, LinkProblem, NameProblem};

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Which end of the queue a job goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// Taken before any normal job (directory listings).
    High,
    /// Taken when no high-priority job waits (transfers).
    Normal,
}

/// Set to stop a [`walk`] early: workers finish the job in hand and take no
/// more; queued jobs are dropped.
#[derive(Debug, Default)]
pub struct QuitFlag(AtomicBool);

impl QuitFlag {
    /// Asks every worker to stop.
    pub fn quit(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`QuitFlag::quit`] was called.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

struct Queue<J> {
    high: VecDeque<J>,
    normal: VecDeque<J>,
    /// Workers running a job right now (they may still produce jobs).
    active: usize,
}

/// When this many normal jobs wait, they go before high-priority ones, so
/// a huge tree cannot pile up millions of queued transfers in memory while
/// its listings run ahead.
pub const BACKLOG: usize = 4096;

impl<J> Queue<J> {
    fn pop(&mut self) -> Option<J> {
        if self.normal.len() >= BACKLOG {
            return self.normal.pop_front();
        }
        self.high.pop_front().or_else(|| self.normal.pop_front())
    }
}

/// What the workers share.
struct Shared<'p, J> {
    queue: Mutex<Queue<J>>,
    cond: Condvar,
    priority: &'p (dyn Fn(&J) -> Priority + Sync),
}

impl<J> Shared<'_, J> {
    fn lock(&self) -> MutexGuard<'_, Queue<J>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where a job handler puts the jobs it produces. Each is queued at once,
/// so idle workers can start on it while the handler goes on.
pub struct Jobs<'s, J> {
    shared: &'s Shared<'s, J>,
}

impl<J> Jobs<'_, J> {
    /// Queues a job.
    pub fn push(&mut self, job: J) {
        let high = (self.shared.priority)(&job) == Priority::High;
        let mut q = self.shared.lock();
        if high {
            q.high.push_back(job);
        } else {
            q.normal.push_back(job);
        }
        drop(q);
        self.shared.cond.notify_one();
    }
}

/// Runs `handle` on every job with `workers` threads (at least one), until
/// no job is left and no worker is busy, or until `quit` is set. `handle`
/// queues the jobs it produces with [`Jobs::push`]; `priority` says where
/// a job goes.
pub fn walk<J, P, H>(workers: usize, initial: Vec<J>, priority: P, handle: H, quit: &QuitFlag)
where
    J: Send,
    P: Fn(&J) -> Priority + Sync,
    H: Fn(J, &mut Jobs<'_, J>) + Sync,
{
    let shared = Shared {
        queue: Mutex::new(Queue {
            high: VecDeque::new(),
            normal: VecDeque::new(),
            active: 0,
        }),
        cond: Condvar::new(),
        priority: &priority,
    };
    {
        let mut jobs = Jobs { shared: &shared };
        for job in initial {
            jobs.push(job);
        }
    }
    std::thread::scope(|s| {
        for i in 0..workers.max(1) {
            let (shared, handle) = (&shared, &handle);
            let spawned = std::thread::Builder::new()
                .name(format!("mirror-worker-{i}"))
                .spawn_scoped(s, move || worker(shared, handle, quit));
            if let Err(e) = spawned {
                // Fewer workers is slower, not wrong; the first one is run
                // on this thread if none could start.
                log::warn!("cannot start a worker thread: {e}");
                if i == 0 {
                    worker(shared, handle, quit);
                }
                break;
            }
        }
    });
}

fn worker<J, H>(shared: &Shared<'_, J>, handle: &H, quit: &QuitFlag)
where
    H: Fn(J, &mut Jobs<'_, J>),
{
    loop {
        let job = {
            let mut q = shared.lock();
            loop {
                if quit.is_set() {
                    q.high.clear();
                    q.normal.clear();
                    shared.cond.notify_all();
                    return;
                }
                if let Some(job) = q.pop() {
                    q.active += 1;
                    break job;
                }
                if q.active == 0 {
                    // Nothing queued and nobody who could queue more.
                    shared.cond.notify_all();
                    return;
                }
                q = shared.cond.wait(q).unwrap_or_else(PoisonError::into_inner);
            }
        };
        // A panic in `handle` must not leave `active` counted forever, or the
        // other workers would wait for ever; the guard fixes the count.
        let _guard = ActiveGuard { shared };
        handle(job, &mut Jobs { shared });
    }
}

struct ActiveGuard<'a, 'p, J> {
    shared: &'a Shared<'p, J>,
}

impl<J> Drop for ActiveGuard<'_, '_, J> {
    fn drop(&mut self) {
        let mut q = self.shared.lock();
        q.active -= 1;
        drop(q);
        self.shared.cond.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    #[test]
    fn listings_go_first() {
        // One worker: the order is deterministic.
        let order = Mutex::new(Vec::new());
        let prio = |j: &(bool, u32)| {
            if j.0 {
                Priority::High
            } else {
                Priority::Normal
            }
        };
        walk(
            1,
            vec![(false, 1), (true, 2)],
            prio,
            |job, out| {
                order.lock().unwrap().push(job.1);
                if job.1 == 2 {
                    out.push((false, 3));
                    out.push((true, 4));
                }
            },
            &QuitFlag::default(),
        );
        assert_eq!(*order.lock().unwrap(), vec![2, 4, 1, 3]);
    }

    #[test]
    fn a_long_backlog_of_normal_jobs_goes_first() {
        let order = Mutex::new(Vec::new());
        let mut initial: Vec<(bool, usize)> = (0..BACKLOG + 1).map(|i| (false, i)).collect();
        initial.push((true, usize::MAX));
        walk(
            1,
            initial,
            |j: &(bool, usize)| {
                if j.0 {
                    Priority::High
                } else {
                    Priority::Normal
                }
            },
            |job, _| order.lock().unwrap().push(job.1),
            &QuitFlag::default(),
        );
        let order = order.into_inner().unwrap();
        // Normal jobs run until the backlog is below the mark, then the
        // high-priority one.
        assert_eq!(order[0], 0);
        assert_eq!(order[2], usize::MAX);
        assert_eq!(order.len(), BACKLOG + 2);
    }

    #[test]
    fn deep_chain_with_many_workers_terminates() {
        // Only one job exists at any time: the idle workers must wait, not
        // leave early, and must all leave at the end.
        let count = AtomicUsize::new(0);
        let started = Instant::now();
        walk(
            8,
            vec![0u32],
            |_| Priority::High,
            |n, out| {
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(1));
                if n < 200 {
                    out.push(n + 1);
                }
            },
            &QuitFlag::default(),
        );
        assert_eq!(count.load(Ordering::SeqCst), 201);
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn quit_stops_the_walk() {
        let quit = QuitFlag::default();
        let count = AtomicUsize::new(0);
        walk(
            4,
            vec![0u64],
            |_| Priority::Normal,
            |n, out| {
                if count.fetch_add(1, Ordering::SeqCst) == 50 {
                    quit.quit();
                }
                // Unbounded without the flag.
                out.push(n + 1);
                out.push(n + 1);
            },
            &quit,
        );
        let n = count.load(Ordering::SeqCst);
        assert!((51..60).contains(&n), "{n}");
    }

    #[test]
    fn no_jobs_returns_at_once() {
        walk(
            3,
            Vec::<u8>::new(),
            |_| Priority::High,
            |_, _| {},
            &QuitFlag::default(),
        );
    }
}
