//! Interrupting a run (what Ctrl-C does): the walk stops, a running
//! download stops at its next chunk and keeps its `.part` file, nothing is
//! recorded as failed, the current copy is untouched, and the next run
//! resumes instead of starting over.

mod engine_util;

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use engine_util::*;
use ftp_mirror::events::{Event, EventSink};
use ftp_mirror::interrupt::Interrupt;
use ftp_mirror::report::ModuleStatus;
use ftp_mirror::run::{run_url, RunOptions};
use ftp_mirror::sync::{sync_tree, SyncError, SyncOptions};
use ftp_mirror::url::FtpUrl;
use ftp_mirror_tests::tree::{assert_trees_equal, pseudo_random_bytes, write_file};
use ftp_mirror_tests::within;

/// Triggers `interrupt` on the `nth` event that `when` matches, and counts
/// the bytes reported.
struct TriggerOn<F> {
    interrupt: Interrupt,
    when: F,
    nth: u64,
    seen: AtomicU64,
    bytes: AtomicU64,
}

impl<F: Fn(&Event) -> bool + Send + Sync> EventSink for TriggerOn<F> {
    fn event(&self, e: &Event) {
        if let Event::Bytes { delta, .. } = e {
            self.bytes.fetch_add(*delta, Ordering::Relaxed);
        }
        if (self.when)(e) && self.seen.fetch_add(1, Ordering::Relaxed) + 1 == self.nth {
            self.interrupt.trigger();
        }
    }
}

fn trigger_on<F: Fn(&Event) -> bool>(nth: u64, when: F) -> TriggerOn<F> {
    TriggerOn {
        interrupt: Interrupt::new(),
        when,
        nth,
        seen: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
    }
}

/// `sync_tree` under the test's time limit.
fn sync_until<S: EventSink + Send + Sync + 'static>(
    pool: &ftp_mirror::pool::Pool,
    opts: &SyncOptions,
    sink: &Arc<S>,
) -> Result<ftp_mirror::sync::SyncStats, SyncError> {
    let (pool, opts, sink) = (pool.clone(), opts.clone(), sink.clone());
    within(LIMIT, "sync_tree", move || sync_tree(&pool, &opts, &*sink))
}

fn files_in(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[test]
fn an_interrupted_walk_stops_early_and_the_next_run_fetches_only_the_rest() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    for i in 0..60 {
        write_file(
            &src.path().join(format!("d{}/f{i:03}", i % 6)),
            &pseudo_random_bytes(i, 2000 + i as usize),
        );
    }
    let server = serve(src.path());
    let pool = anon_pool(&server, 1);
    let sink = Arc::new(trigger_on(5, |e| matches!(e, Event::FileDone { .. })));
    let opts = SyncOptions {
        workers: 1,
        interrupt: sink.interrupt.clone(),
        ..options(dst.path())
    };
    let result = sync_until(&pool, &opts, &sink);
    assert!(
        matches!(result, Err(SyncError::Interrupted(_))),
        "{result:?}"
    );
    let done = files_in(dst.path()).len();
    assert!((5..60).contains(&done), "{done} files after the interrupt");

    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &options(dst.path()), rec).expect("second sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_trees_equal(src.path(), dst.path());
    assert_eq!(stats.files_fetched + stats.files_unchanged, 60);
    assert!(stats.files_unchanged >= 5, "{stats:?}");
}

#[test]
fn a_running_download_stops_at_its_next_chunk_and_is_resumed() {
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let big = pseudo_random_bytes(7, 4 * 1024 * 1024);
    write_file(&src.path().join("big.bin"), &big);
    let server = serve(src.path());
    let pool = anon_pool(&server, 1);
    // The first progress report (after 64 KiB) interrupts.
    let sink = Arc::new(trigger_on(1, |e| matches!(e, Event::Bytes { .. })));
    let opts = SyncOptions {
        interrupt: sink.interrupt.clone(),
        ..options(dst.path())
    };
    let result = sync_until(&pool, &opts, &sink);
    assert!(
        matches!(result, Err(SyncError::Interrupted(_))),
        "{result:?}"
    );
    assert!(!dst.path().join("big.bin").exists());
    let parts: Vec<_> = fs::read_dir(dst.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".part"))
        .collect();
    assert_eq!(parts.len(), 1, "{:?}", files_in(dst.path()));
    let kept = fs::metadata(&parts[0]).unwrap().len();
    assert!(
        kept > 0 && kept < big.len() as u64,
        "{kept} bytes in the .part"
    );

    let again = Arc::new(trigger_on(u64::MAX, |_| false));
    let stats = sync_until(&pool, &options(dst.path()), &again).unwrap();
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(fs::read(dst.path().join("big.bin")).unwrap(), big);
    // Resumed with REST: the kept bytes were not fetched again.
    assert_eq!(again.bytes.load(Ordering::Relaxed), big.len() as u64 - kept);
}

#[test]
fn an_interrupted_get_keeps_the_current_copy_and_exits_130() {
    let src = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    for i in 0..20 {
        write_file(&src.path().join(format!("f{i:02}")), b"first\n");
    }
    let server = serve(src.path());
    let url = FtpUrl::parse(&format!("ftp://{}/", server.local_addr())).unwrap();
    let dest = work.path().join("copy");
    let get = |opts: RunOptions| {
        let (url, dest) = (url.clone(), dest.clone());
        within(LIMIT, "run_url", move || {
            run_url(&url, &dest, &opts, &|_: &Event| {})
        })
    };
    assert_eq!(get(RunOptions::default()).exit_code(), 0);

    write_file(&src.path().join("f00"), b"second, longer\n");
    let interrupt = Interrupt::new();
    interrupt.trigger();
    let report = get(RunOptions {
        interrupt,
        ..RunOptions::default()
    });
    assert_eq!(report.exit_code(), 130, "{}", report.to_json());
    assert_eq!(report.modules[0].status, ModuleStatus::Interrupted);
    assert!(report.interrupted);
    assert!(report.to_json().contains("\"interrupted\""));
    assert_eq!(fs::read(dest.join("f00")).unwrap(), b"first\n");

    // The next run finishes the job.
    assert_eq!(get(RunOptions::default()).exit_code(), 0);
    assert_eq!(fs::read(dest.join("f00")).unwrap(), b"second, longer\n");
}

#[test]
fn an_interrupt_during_a_retry_pause_is_an_interrupt_not_a_failure() {
    use ftp_mirror_tests::fake::{FakeServer, Step};
    let dst = tempfile::tempdir().unwrap();
    let steps = vec![
        Step::send("220 fake ready\r\n"),
        Step::expect("USER"),
        Step::send("331 send a password\r\n"),
        Step::expect("PASS"),
        Step::send("230 in\r\n"),
        Step::expect("FEAT"),
        Step::send("211-Features:\r\n MLST type*;size*;modify*;\r\n211 End\r\n"),
        Step::expect("OPTS UTF8 ON"),
        Step::send("200 UTF8 on\r\n"),
        Step::expect("TYPE I"),
        Step::send("200 binary\r\n"),
        // The root cannot be listed for now: the engine pauses to retry.
        Step::expect("EPSV"),
        Step::Epsv,
        Step::expect("MLSD /"),
        Step::Accept,
        Step::send("450 busy, try later\r\n"),
        Step::DataClose,
        Step::expect("QUIT"),
    ];
    let server = FakeServer::start(steps);
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 1);
    let sink = Arc::new(trigger_on(1, |e| matches!(e, Event::Retry { .. })));
    let opts = SyncOptions {
        workers: 1,
        max_retries: 5,
        interrupt: sink.interrupt.clone(),
        ..options(dst.path())
    };
    let started = std::time::Instant::now();
    let result = sync_until(&pool, &opts, &sink);
    assert!(
        matches!(result, Err(SyncError::Interrupted(_))),
        "{result:?}"
    );
    // The pause was cut short, not slept through.
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    drop(pool);
    drop(server.finish());
}
