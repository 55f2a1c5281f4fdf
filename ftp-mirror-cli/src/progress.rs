//! Turns engine events into one aggregate progress bar on a terminal, or
//! plain periodic lines otherwise.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ftp_mirror::events::{Event, EventSink};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Runs `f` (which prints) without tearing the progress bar.
pub fn suspend(f: impl FnOnce()) {
    let bar = BAR.lock().ok().and_then(|b| b.clone());
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A live bar (stderr is a terminal).
    Bar,
    /// A line every few seconds.
    Lines,
    /// Nothing.
    Off,
}

impl Mode {
    /// A bar on a terminal, lines otherwise, nothing when disabled.
    pub fn pick(no_progress: bool) -> Mode {
        if no_progress {
            Mode::Off
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

/// Counts files and bytes from events and displays them.
pub struct Reporter {
    mode: Mode,
    files_total: AtomicU64,
    files_done: AtomicU64,
    bytes_total: AtomicU64,
    bytes_done: AtomicU64,
    /// Bytes received (unchanged files count in `bytes_done`, not here):
    /// the transfer rate.
    bytes_fetched: AtomicU64,
    failures: AtomicU64,
    retries: AtomicU64,
    started: Instant,
    last_line: Mutex<Instant>,
    bar: Option<ProgressBar>,
}

impl Reporter {
    /// A reporter showing progress in `mode`.
    pub fn new(mode: Mode) -> Reporter {
        let bar = (mode == Mode::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            if let Ok(mut slot) = BAR.lock() {
                *slot = Some(bar.clone());
            }
            bar
        });
        Reporter {
            mode,
            files_total: AtomicU64::new(0),
            files_done: AtomicU64::new(0),
            bytes_total: AtomicU64::new(0),
            bytes_done: AtomicU64::new(0),
            bytes_fetched: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
            bar,
        }
    }

    /// Removes the bar; later output goes straight to the terminal.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if let Ok(mut slot) = BAR.lock() {
            *slot = None;
        }
        if self.mode == Mode::Lines {
            self.line();
        }
    }

    fn update(&self) {
        let files = format!(
            "files {}/{}{}",
            self.files_done.load(Ordering::Relaxed),
            self.files_total.load(Ordering::Relaxed),
            match self.failures.load(Ordering::Relaxed) {
                0 => String::new(),
                n => format!(", {n} failed"),
            }
        );
        match self.mode {
            Mode::Bar => {
                if let Some(bar) = &self.bar {
                    bar.set_length(self.bytes_total.load(Ordering::Relaxed));
                    bar.set_position(self.bytes_done.load(Ordering::Relaxed));
                    bar.set_message(files);
                }
            }
            Mode::Lines => {
                let due = self
                    .last_line
                    .lock()
                    .map(|mut last| {
                        if last.elapsed() >= Duration::from_secs(5) {
                            *last = Instant::now();
                            true
                        } else {
                            false
                        }
                    })
                    .unwrap_or(false);
                if due {
                    self.line();
                }
            }
            Mode::Off => {}
        }
    }

    fn line(&self) {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let done = self.bytes_done.load(Ordering::Relaxed);
        let fetched = self.bytes_fetched.load(Ordering::Relaxed);
        eprintln!(
            "progress: files {}/{}, {} of {}, {}/s, {} retries, {} failed, {:.0}s",
            self.files_done.load(Ordering::Relaxed),
            self.files_total.load(Ordering::Relaxed),
            human_bytes(done),
            human_bytes(self.bytes_total.load(Ordering::Relaxed)),
            human_bytes((fetched as f64 / secs) as u64),
            self.retries.load(Ordering::Relaxed),
            self.failures.load(Ordering::Relaxed),
            secs
        );
    }
}

impl EventSink for Reporter {
    fn event(&self, event: &Event) {
        match event {
            Event::FileQueued { size, .. } => {
                self.files_total.fetch_add(1, Ordering::Relaxed);
                self.bytes_total
                    .fetch_add(size.unwrap_or(0), Ordering::Relaxed);
            }
            Event::FileUnchanged { size, .. } => {
                self.files_total.fetch_add(1, Ordering::Relaxed);
                self.files_done.fetch_add(1, Ordering::Relaxed);
                self.bytes_total.fetch_add(*size, Ordering::Relaxed);
                self.bytes_done.fetch_add(*size, Ordering::Relaxed);
            }
            Event::Bytes { delta, .. } => {
                self.bytes_done.fetch_add(*delta, Ordering::Relaxed);
                self.bytes_fetched.fetch_add(*delta, Ordering::Relaxed);
            }
            Event::FileDone { .. } => {
                self.files_done.fetch_add(1, Ordering::Relaxed);
            }
            Event::Retry {
                module,
                what,
                attempt,
                error,
                delay,
            } => {
                self.retries.fetch_add(1, Ordering::Relaxed);
                log::warn!(
                    "{module}: {what}: {error}; retry {attempt} in {:.1}s",
                    delay.as_secs_f64()
                );
            }
            Event::Failed { .. } => {
                self.failures.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        self.update();
    }
}

/// `1.5 MiB`-style sizes.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn counts_events() {
        let r = Reporter::new(Mode::Off);
        let m = String::from("M");
        r.event(&Event::FileQueued {
            module: m.clone(),
            path: "a".into(),
            size: Some(10),
        });
        r.event(&Event::FileUnchanged {
            module: m.clone(),
            path: "b".into(),
            size: 5,
        });
        r.event(&Event::Bytes {
            module: m.clone(),
            delta: 10,
        });
        r.event(&Event::FileDone {
            module: m,
            path: "a".into(),
            bytes: 10,
        });
        assert_eq!(r.files_total.load(Ordering::Relaxed), 2);
        assert_eq!(r.files_done.load(Ordering::Relaxed), 2);
        assert_eq!(r.bytes_done.load(Ordering::Relaxed), 15);
        assert_eq!(r.bytes_total.load(Ordering::Relaxed), 15);
        // The rate counts received bytes only.
        assert_eq!(r.bytes_fetched.load(Ordering::Relaxed), 10);
    }
}
