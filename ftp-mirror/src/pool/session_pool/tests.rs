//! The pool against a fake manager: no network.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::*;

/// A fake connection: an id and a flag the test can set to break it.
#[derive(Debug)]
struct FakeConn {
    id: usize,
    broken: Arc<AtomicBool>,
    live: Arc<AtomicUsize>,
}

impl Drop for FakeConn {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the next connects do.
#[derive(Clone, Debug)]
enum Script {
    Ok,
    Fail(ConnectErrorKind, &'static str),
    /// Refuse with "too many" when `n` connections are already alive.
    AtMost(usize),
}

#[derive(Clone)]
struct Fake {
    script: Arc<Mutex<Script>>,
    connects: Arc<AtomicUsize>,
    live: Arc<AtomicUsize>,
    max_live: Arc<AtomicUsize>,
    valid: Arc<AtomicBool>,
    broken: Arc<AtomicBool>,
}

impl Fake {
    fn new(script: Script) -> Fake {
        Fake {
            script: Arc::new(Mutex::new(script)),
            connects: Arc::default(),
            live: Arc::default(),
            max_live: Arc::default(),
            valid: Arc::new(AtomicBool::new(true)),
            broken: Arc::default(),
        }
    }

    fn set(&self, script: Script) {
        *self.script.lock().unwrap() = script;
    }

    fn connects(&self) -> usize {
        self.connects.load(Ordering::SeqCst)
    }
}

impl Manager for Fake {
    type Connection = FakeConn;

    fn connect(&self) -> Result<FakeConn, ConnectError> {
        let n = self.connects.fetch_add(1, Ordering::SeqCst);
        // Pretend the network takes a moment, so threads overlap.
        thread::sleep(Duration::from_millis(2));
        let script = self.script.lock().unwrap().clone();
        match script {
            Script::Ok => {}
            Script::Fail(kind, msg) => return Err(ConnectError::new(kind, msg)),
            Script::AtMost(max) => {
                if self.live.load(Ordering::SeqCst) >= max {
                    return Err(ConnectError::new(
                        ConnectErrorKind::TooMany,
                        "421 Too many connections",
                    ));
                }
            }
        }
        let live = self.live.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_live.fetch_max(live, Ordering::SeqCst);
        Ok(FakeConn {
            id: n,
            broken: Arc::new(AtomicBool::new(self.broken.load(Ordering::SeqCst))),
            live: Arc::clone(&self.live),
        })
    }

    fn has_broken(&self, conn: &FakeConn) -> bool {
        conn.broken.load(Ordering::SeqCst)
    }

    fn is_valid(&self, _: &mut FakeConn) -> bool {
        self.valid.load(Ordering::SeqCst)
    }

    fn describe(&self) -> String {
        "fake@127.0.0.1:21".into()
    }
}

fn pool(fake: &Fake, max: usize, wait_ms: u64) -> SessionPool<Fake> {
    SessionPool::with_manager(fake.clone(), max, Duration::from_millis(wait_ms))
}

#[test]
fn connects_lazily_and_reuses_returned_sessions() {
    let fake = Fake::new(Script::Ok);
    let p = pool(&fake, 3, 100);
    assert_eq!(fake.connects(), 0);
    let id = p.get().unwrap().id;
    let again = p.get().unwrap();
    assert_eq!(again.id, id);
    assert_eq!(fake.connects(), 1);
    assert_eq!(p.open(), 1);
}

#[test]
fn try_get_never_connects_and_never_blocks() {
    let fake = Fake::new(Script::Ok);
    let p = pool(&fake, 2, 5_000);
    let started = Instant::now();
    assert!(p.try_get().is_none());
    assert_eq!(fake.connects(), 0);
    drop(p.get().unwrap());
    let s = p.try_get().expect("idle session");
    assert!(p.try_get().is_none());
    drop(s);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn get_times_out_when_every_session_is_busy() {
    let fake = Fake::new(Script::Ok);
    let p = pool(&fake, 2, 80);
    let a = p.get().unwrap();
    let b = p.get().unwrap();
    let started = Instant::now();
    let err = p.get().unwrap_err();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(70), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    assert!(
        matches!(
            err,
            PoolError::Timeout {
                last_error: None,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("busy"), "{err}");
    assert_eq!(fake.connects(), 2);
    drop((a, b));
}

#[test]
fn a_waiter_gets_the_session_another_thread_returns() {
    let fake = Fake::new(Script::Ok);
    let p = pool(&fake, 1, 5_000);
    let held = p.get().unwrap();
    let id = held.id;
    let p2 = p.clone();
    let waiter = thread::spawn(move || p2.get().map(|s| s.id));
    thread::sleep(Duration::from_millis(30));
    drop(held);
    assert_eq!(waiter.join().unwrap().unwrap(), id);
    assert_eq!(fake.connects(), 1);
}

#[test]
fn broken_sessions_are_not_reused() {
    let fake = Fake::new(Script::Ok);
    let p = pool(&fake, 1, 100);
    let s = p.get().unwrap();
    let first = s.id;
    s.broken.store(true, Ordering::SeqCst);
    drop(s);
    assert_eq!(p.open(), 0);
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);
    let s = p.get().unwrap();
    assert_ne!(s.id, first);
    assert_eq!(fake.connects(), 2);
}

#[test]
fn discard_frees_the_slot() {
    let fake = Fake::new(Script::Ok);
    let p = pool(&fake, 1, 100);
    p.get().unwrap().discard();
    assert_eq!(p.open(), 0);
    assert!(p.try_get().is_none());
    p.get().unwrap();
    assert_eq!(fake.connects(), 2);
}

#[test]
fn too_many_lowers_the_limit_and_everyone_still_gets_a_session() {
    let fake = Fake::new(Script::AtMost(2));
    let p = pool(&fake, 5, 5_000);
    let done = Arc::new(AtomicUsize::new(0));
    thread::scope(|s| {
        for _ in 0..6 {
            let p = p.clone();
            let done = Arc::clone(&done);
            s.spawn(move || {
                for _ in 0..5 {
                    let session = p.get().expect("a session");
                    thread::sleep(Duration::from_millis(3));
                    drop(session);
                    done.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(done.load(Ordering::SeqCst), 30);
    assert_eq!(p.limit(), 2);
    assert!(fake.max_live.load(Ordering::SeqCst) <= 2);
}

#[test]
fn too_many_with_nothing_open_is_an_error() {
    let fake = Fake::new(Script::AtMost(0));
    let p = pool(&fake, 4, 5_000);
    let started = Instant::now();
    let err = p.get().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(err, PoolError::Unavailable { .. }), "{err}");
    assert!(err.to_string().contains("421"), "{err}");
    assert_eq!(p.limit(), 1);
}

#[test]
fn a_refused_login_fails_fast_and_is_remembered() {
    let fake = Fake::new(Script::Fail(
        ConnectErrorKind::Permanent,
        "530 Login incorrect",
    ));
    let p = pool(&fake, 2, 10_000);
    let started = Instant::now();
    let err = p.get().unwrap_err();
    assert!(matches!(err, PoolError::Refused { .. }), "{err}");
    assert!(!err.is_transient());
    assert!(err.to_string().contains("530 Login incorrect"), "{err}");
    fake.set(Script::Ok);
    assert!(matches!(p.get().unwrap_err(), PoolError::Refused { .. }));
    assert_eq!(fake.connects(), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn timeout_says_why_the_last_connect_failed() {
    let fake = Fake::new(Script::Fail(
        ConnectErrorKind::Transient,
        "connection refused",
    ));
    let p = pool(&fake, 2, 400);
    let started = Instant::now();
    let err = p.get().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(err.is_transient());
    assert!(err.to_string().contains("connection refused"), "{err}");
    // Backoff: a handful of attempts in 400 ms, not thousands.
    let n = fake.connects();
    assert!((2..=10).contains(&n), "{n} connects");
}

#[test]
fn a_transient_failure_heals_within_the_deadline() {
    let fake = Fake::new(Script::Fail(ConnectErrorKind::Transient, "timed out"));
    let p = pool(&fake, 1, 5_000);
    let f2 = fake.clone();
    let healer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(150));
        f2.set(Script::Ok);
    });
    let s = p.get().expect("connects after the failures");
    healer.join().unwrap();
    drop(s);
    // A success clears the old error.
    let _a = p.get().unwrap();
    let err = p
        .get_until(Instant::now() + Duration::from_millis(20))
        .unwrap_err();
    assert!(
        matches!(
            err,
            PoolError::Timeout {
                last_error: None,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn stale_idle_sessions_are_checked_and_replaced() {
    let fake = Fake::new(Script::Ok);
    let p = pool(&fake, 1, 100);
    drop(p.get().unwrap());
    // Age the idle session artificially.
    {
        let mut st = lock(&p.shared.state);
        let Some(old) = Instant::now().checked_sub(IDLE_CHECK_AFTER * 2) else {
            return; // the clock is too young to age anything
        };
        st.idle[0].since = old;
    }
    assert!(p.try_get().is_none(), "try_get does not do I/O to check");
    fake.valid.store(false, Ordering::SeqCst);
    let s = p.get().unwrap();
    assert_eq!(s.id, 1, "the stale session was replaced");
    assert_eq!(fake.live.load(Ordering::SeqCst), 1);
}

#[test]
fn limit_one_many_threads_no_deadlock() {
    let fake = Fake::new(Script::Ok);
    let p = pool(&fake, 1, 10_000);
    let started = Instant::now();
    thread::scope(|s| {
        for _ in 0..8 {
            let p = p.clone();
            s.spawn(move || {
                for _ in 0..50 {
                    let _session = p.get().expect("a session");
                }
            });
        }
    });
    assert_eq!(fake.connects(), 1);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn dropping_the_pool_closes_idle_sessions() {
    let fake = Fake::new(Script::Ok);
    let p = pool(&fake, 2, 100);
    let a = p.get().unwrap();
    let b = p.get().unwrap();
    drop(a);
    drop(p);
    // `b` still holds the pool alive, idle session included.
    assert_eq!(fake.live.load(Ordering::SeqCst), 2);
    drop(b);
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);
}

/// A manager whose connects and closes each wait (at most 5 s) until
/// `meet` of them are under way at once: it tells whether the pool really
/// runs them in parallel, without timing anything.
struct Rendezvous {
    meet: usize,
    connecting: Mutex<usize>,
    closing: Mutex<usize>,
    cond: std::sync::Condvar,
    connects_met: AtomicBool,
    closes_met: AtomicBool,
}

impl Rendezvous {
    fn new(meet: usize) -> Arc<Rendezvous> {
        Arc::new(Rendezvous {
            meet,
            connecting: Mutex::new(0),
            closing: Mutex::new(0),
            cond: std::sync::Condvar::new(),
            connects_met: AtomicBool::new(false),
            closes_met: AtomicBool::new(false),
        })
    }

    /// Waits until `meet` callers are here; `true` when they all came.
    fn wait(&self, count: &Mutex<usize>) -> bool {
        let mut n = count.lock().unwrap();
        *n += 1;
        self.cond.notify_all();
        let deadline = Instant::now() + Duration::from_secs(5);
        while *n < self.meet {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            n = self.cond.wait_timeout(n, left).unwrap().0;
        }
        true
    }
}

impl Manager for Arc<Rendezvous> {
    type Connection = usize;

    fn connect(&self) -> Result<usize, ConnectError> {
        if self.wait(&self.connecting) {
            self.connects_met.store(true, Ordering::SeqCst);
        }
        Ok(0)
    }

    fn has_broken(&self, _: &usize) -> bool {
        false
    }

    fn is_valid(&self, _: &mut usize) -> bool {
        true
    }

    fn close(&self, _: usize) {
        if self.wait(&self.closing) {
            self.closes_met.store(true, Ordering::SeqCst);
        }
    }

    fn describe(&self) -> String {
        "rendezvous".into()
    }
}

#[test]
fn warm_up_opens_sessions_in_parallel_up_to_the_limit() {
    let manager = Rendezvous::new(3);
    let p = SessionPool::with_manager(Arc::clone(&manager), 3, Duration::from_secs(5));
    p.warm_up(8);
    assert!(
        manager.connects_met.load(Ordering::SeqCst),
        "connects ran one by one"
    );
    assert_eq!(
        *manager.connecting.lock().unwrap(),
        3,
        "never past the limit"
    );
    assert_eq!(p.open(), 3);
    let idle: Vec<_> = (0..3).filter_map(|_| p.try_get()).collect();
    assert_eq!(idle.len(), 3, "warmed sessions are idle");
    drop(idle);
    p.warm_up(3);
    assert_eq!(
        *manager.connecting.lock().unwrap(),
        3,
        "nothing more to open"
    );
}

#[test]
fn dropping_the_pool_closes_idle_sessions_in_parallel() {
    let manager = Rendezvous::new(4);
    let p = SessionPool::with_manager(Arc::clone(&manager), 4, Duration::from_secs(5));
    p.warm_up(4);
    drop(p);
    assert_eq!(*manager.closing.lock().unwrap(), 4);
    assert!(
        manager.closes_met.load(Ordering::SeqCst),
        "closes ran one by one"
    );
}
