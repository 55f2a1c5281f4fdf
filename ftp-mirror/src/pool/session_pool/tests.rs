//! The pool against a fake manager: no network.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, Once};
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
    /// Fail the first `n` connects (transient, "connection refused"), then
    /// succeed.
    FailFirst(usize),
}

#[derive(Clone)]
struct Fake {
    script: Arc<Mutex<Script>>,
    connects: Arc<AtomicUsize>,
    live: Arc<AtomicUsize>,
    max_live: Arc<AtomicUsize>,
    valid: Arc<AtomicBool>,
    broken: Arc<AtomicBool>,
    /// How long each connect takes.
    delay: Arc<Mutex<Duration>>,
    /// When each connect started.
    starts: Arc<Mutex<Vec<Instant>>>,
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
            // Pretend the network takes a moment, so threads overlap.
            delay: Arc::new(Mutex::new(Duration::from_millis(2))),
            starts: Arc::default(),
        }
    }

    /// Every connect takes `delay` from now on.
    fn slow(self, delay: Duration) -> Fake {
        *self.delay.lock().unwrap() = delay;
        self
    }

    fn starts(&self) -> Vec<Instant> {
        self.starts.lock().unwrap().clone()
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
        self.starts.lock().unwrap().push(Instant::now());
        let n = self.connects.fetch_add(1, Ordering::SeqCst);
        let delay = *self.delay.lock().unwrap();
        thread::sleep(delay);
        let script = self.script.lock().unwrap().clone();
        match script {
            Script::Ok => {}
            Script::FailFirst(k) if n < k => {
                return Err(ConnectError::new(
                    ConnectErrorKind::Transient,
                    "connection refused",
                ))
            }
            Script::FailFirst(_) => {}
            Script::Fail(kind, msg) => return Err(ConnectError::new(kind, msg)),
            Script::AtMost(_) => {}
        }
        // Admit and count in one atomic step: two connects checking `live`
        // and then adding to it could both be let in, which no real server
        // enforcing a cap does.
        let cap = match script {
            Script::AtMost(max) => max,
            _ => usize::MAX,
        };
        let Ok(before) = self
            .live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < cap).then_some(n + 1)
            })
        else {
            return Err(ConnectError::new(
                ConnectErrorKind::TooMany,
                "421 Too many connections",
            ));
        };
        let live = before + 1;
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
fn nothing_open_and_connects_failing_gives_up_after_the_documented_attempts() {
    let fake = Fake::new(Script::Fail(
        ConnectErrorKind::Transient,
        "connection refused",
    ));
    // A wait far longer than the test may take: the give-up must come
    // from the attempt count, not from the deadline.
    let p = pool(&fake, 2, 600_000);
    let p2 = p.clone();
    let err = bounded(Duration::from_secs(20), "get", move || p2.get().map(drop))
        .expect_err("nothing can connect");
    assert!(
        matches!(
            err,
            PoolError::Unreachable {
                attempts: CONNECT_ATTEMPTS,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fake.connects(), CONNECT_ATTEMPTS as usize);
    assert!(err.is_transient());
    let text = err.to_string();
    assert!(text.contains("fake@127.0.0.1:21"), "{text}");
    assert!(text.contains("connection refused"), "{text}");
    // The attempts were spaced by the backoff, not made back to back.
    let starts = fake.starts();
    for pair in starts.windows(2) {
        assert!(
            pair[1].duration_since(pair[0]) >= CONNECT_BACKOFF.0,
            "{starts:?}"
        );
    }
    // A later caller is not failed by the earlier failures: it tries
    // again, and gives up after its own attempts.
    let p2 = p.clone();
    let again = bounded(Duration::from_secs(20), "get", move || p2.get().map(drop));
    assert!(
        matches!(again, Err(PoolError::Unreachable { .. })),
        "{again:?}"
    );
    assert_eq!(fake.connects(), 2 * CONNECT_ATTEMPTS as usize);
}

#[test]
fn a_transient_failure_heals_within_the_attempts() {
    let fails = CONNECT_ATTEMPTS as usize - 1;
    let fake = Fake::new(Script::FailFirst(fails));
    let p = pool(&fake, 1, 600_000);
    let p2 = p.clone();
    let s = bounded(Duration::from_secs(20), "get", move || {
        p2.get().map(|s| s.id)
    })
    .expect("connects after the failures");
    assert_eq!(s, fails, "the first successful connect");
    assert_eq!(fake.connects(), fails + 1);
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
fn a_connect_slower_than_the_backoff_ends_at_the_deadline() {
    // Each attempt outlasts the first backoffs (as a server that accepts
    // but never greets does): the deadline still ends the wait.
    let attempt = Duration::from_millis(300);
    let fake = Fake::new(Script::Fail(ConnectErrorKind::Transient, "timed out")).slow(attempt);
    let p = pool(&fake, 2, 600_000);
    let deadline = Instant::now() + Duration::from_millis(500);
    let p2 = p.clone();
    let (err, returned) = bounded(Duration::from_secs(20), "get_until", move || {
        let r = p2.get_until(deadline).map(drop);
        (r, Instant::now())
    });
    let err = err.expect_err("nothing can connect");
    let starts = fake.starts();
    assert!(!starts.is_empty());
    assert!(
        starts.iter().all(|&t| t < deadline),
        "an attempt started after the deadline"
    );
    assert!(
        starts.len() < CONNECT_ATTEMPTS as usize,
        "the deadline, not the count, ended it: {} attempts",
        starts.len()
    );
    // One attempt's duration late at most (plus scheduling slack).
    assert!(
        returned < deadline + attempt + Duration::from_secs(2),
        "{:?} late",
        returned.saturating_duration_since(deadline)
    );
    // Nothing is open: the error is that the server is unreachable.
    assert!(matches!(err, PoolError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[test]
fn slow_failing_connects_while_sessions_are_busy_end_at_the_deadline() {
    let attempt = Duration::from_millis(300);
    let fake = Fake::new(Script::Ok);
    let p = pool(&fake, 3, 600_000);
    let held = p.get().unwrap();
    fake.set(Script::Fail(ConnectErrorKind::Transient, "timed out"));
    *fake.delay.lock().unwrap() = attempt;
    let deadline = Instant::now() + Duration::from_millis(500);
    let p2 = p.clone();
    let (err, returned) = bounded(Duration::from_secs(20), "get_until", move || {
        let r = p2.get_until(deadline).map(drop);
        (r, Instant::now())
    });
    let err = err.expect_err("the only session is held");
    // A session is open, so this is a wait for it that timed out.
    assert!(
        matches!(
            &err,
            PoolError::Timeout {
                last_error: Some(e),
                ..
            } if e == "timed out"
        ),
        "{err}"
    );
    let starts = fake.starts();
    assert!(starts.len() >= 2, "the first session, then failed attempts");
    assert!(starts.iter().all(|&t| t < deadline), "{starts:?}");
    assert!(returned < deadline + attempt + Duration::from_secs(2));
    drop(held);
}

#[test]
fn busy_sessions_keep_a_caller_waiting_despite_failed_connects() {
    let fake = Fake::new(Script::Ok);
    let p = pool(&fake, 2, 600_000);
    let held = p.get().unwrap();
    let id = held.id;
    fake.set(Script::Fail(
        ConnectErrorKind::Transient,
        "connection refused",
    ));
    let p2 = p.clone();
    let waiter = thread::spawn(move || p2.get().map(|s| s.id));
    // Let more connects fail than would give up with nothing open.
    let failed = |f: &Fake| f.connects().saturating_sub(1);
    let until = Instant::now() + Duration::from_secs(10);
    while failed(&fake) <= CONNECT_ATTEMPTS as usize && Instant::now() < until {
        thread::sleep(Duration::from_millis(10));
    }
    assert!(
        failed(&fake) > CONNECT_ATTEMPTS as usize,
        "too few attempts"
    );
    assert!(!waiter.is_finished(), "gave up although a session is open");
    drop(held);
    let got = bounded(Duration::from_secs(20), "waiter", move || waiter.join());
    assert_eq!(got.expect("waiter thread"), Ok(id));
}

#[test]
fn warm_up_failures_are_left_for_get() {
    let fake = Fake::new(Script::Fail(
        ConnectErrorKind::Transient,
        "connection refused",
    ));
    let p = pool(&fake, 3, 600_000);
    p.warm_up(3);
    // One attempt each at most, never a wait for the backoff.
    assert!((1..=3).contains(&fake.connects()), "{}", fake.connects());
    assert_eq!(p.open(), 0);
    let before = fake.connects();
    let p2 = p.clone();
    let err = bounded(Duration::from_secs(20), "get", move || p2.get().map(drop))
        .expect_err("nothing can connect");
    assert!(
        matches!(
            err,
            PoolError::Unreachable {
                attempts: CONNECT_ATTEMPTS,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fake.connects() - before, CONNECT_ATTEMPTS as usize);
}

#[test]
fn warm_up_makes_no_attempt_after_a_refused_login() {
    let fake = Fake::new(Script::Fail(ConnectErrorKind::Permanent, "530 no"));
    let p = pool(&fake, 3, 1_000);
    assert!(matches!(p.get().unwrap_err(), PoolError::Refused { .. }));
    p.warm_up(3);
    assert_eq!(fake.connects(), 1);
}

#[test]
fn each_failed_connect_is_logged_as_a_warning() {
    capture_logs();
    let server = "u@warn-test.invalid:2121";
    let p = SessionPool::with_manager(
        Unreachable {
            name: server,
            tries: AtomicUsize::new(0),
        },
        2,
        Duration::from_secs(600),
    );
    let p2 = p.clone();
    let err = bounded(Duration::from_secs(20), "get", move || p2.get().map(drop));
    assert!(matches!(err, Err(PoolError::Unreachable { .. })), "{err:?}");
    let warnings: Vec<String> = logged()
        .into_iter()
        .filter(|(level, text)| *level == log::Level::Warn && text.contains(server))
        .map(|(_, text)| text)
        .collect();
    assert_eq!(
        warnings.len(),
        p.manager().tries.load(Ordering::SeqCst),
        "{warnings:?}"
    );
    assert_eq!(warnings.len(), CONNECT_ATTEMPTS as usize);
    assert!(
        warnings.iter().all(|w| w.contains("no route to host")),
        "{warnings:?}"
    );
}

/// A manager that never connects; names itself `name`.
struct Unreachable {
    name: &'static str,
    tries: AtomicUsize,
}

impl Manager for Unreachable {
    type Connection = ();

    fn connect(&self) -> Result<(), ConnectError> {
        self.tries.fetch_add(1, Ordering::SeqCst);
        Err(ConnectError::new(
            ConnectErrorKind::Transient,
            "no route to host",
        ))
    }

    fn has_broken(&self, _: &()) -> bool {
        false
    }

    fn describe(&self) -> String {
        self.name.into()
    }
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

/// Runs `f` on its own thread and returns its result; panics when it takes
/// longer than `limit` (a hang fails the test instead of stalling it).
pub(in crate::pool) fn bounded<T, F>(limit: Duration, what: &str, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(_) => panic!("{what} did not return within {limit:?}"),
    }
}

/// Every record logged so far by any test of this crate, as
/// `(level, "target: message")`. Installs the capturing logger on first use.
pub(in crate::pool) fn logged() -> Vec<(log::Level, String)> {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if log::set_logger(&CAPTURE).is_ok() {
            log::set_max_level(log::LevelFilter::Debug);
        }
    });
    CAPTURE.records.lock().unwrap().clone()
}

/// Installs the capturing logger before the code under test runs.
pub(in crate::pool) fn capture_logs() {
    let _ = logged();
}

struct Capture {
    records: Mutex<Vec<(log::Level, String)>>,
}

static CAPTURE: Capture = Capture {
    records: Mutex::new(Vec::new()),
};

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let text = format!("{}: {}", record.target(), record.args());
        if let Ok(mut records) = self.records.lock() {
            records.push((record.level(), text));
        }
    }

    fn flush(&self) {}
}
