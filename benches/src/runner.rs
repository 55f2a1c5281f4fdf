//! Runs one command once and measures it: wall time, CPU seconds and peak
//! RSS of that child alone (`wait4` rusage), with a hard timeout.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// What one child process cost.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Measurement {
    /// Wall-clock time from spawn to exit.
    pub wall: Duration,
    /// User CPU time of the child (and descendants it waited for).
    pub user: Duration,
    /// System CPU time of the child (and descendants it waited for).
    pub sys: Duration,
    /// Peak resident set size in KiB (`ru_maxrss`).
    pub max_rss_kib: u64,
}

impl Measurement {
    /// User plus system CPU time.
    pub fn cpu(&self) -> Duration {
        self.user + self.sys
    }
}

/// How a measured run ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The cost.
    pub measurement: Measurement,
    /// True when the child exited with status 0.
    pub success: bool,
    /// A description of the exit ("exit 1", "signal 9", "timed out after 60s").
    pub exit: String,
    /// The last lines the child wrote to stdout/stderr.
    pub output_tail: String,
}

/// Spawns `cmd` with stdout and stderr going to `log`, waits for it with
/// `wait4` and kills it after `timeout`.
///
/// With `wrapper` (the `bench-exec` binary) the command runs under it and
/// its CPU times and peak RSS are the command's own, as reported by the
/// wrapper. Without it they come from `wait4` on the command, whose peak
/// RSS is at least this process's peak RSS (see `bench-exec`).
pub fn run_measured(
    cmd: &mut Command,
    log: &Path,
    timeout: Duration,
    wrapper: Option<&Path>,
) -> io::Result<Outcome> {
    let usage_file = log.with_extension("rusage");
    let mut wrapped = wrapper.map(|w| wrap(cmd, w, &usage_file));
    let to_run = wrapped.as_mut().unwrap_or(cmd);
    let log_file = File::create(log)?;
    to_run
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file);
    let start = Instant::now();
    let child = to_run.spawn().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot start {:?}: {e}", to_run.get_program()),
        )
    })?;
    let pid = child.id() as libc::pid_t;
    // The child is reaped by wait4 below, never by `Child::wait`.
    drop(child);
    let (tx, rx) = mpsc::channel();
    thread::Builder::new().name("wait4".into()).spawn(move || {
        let _ = tx.send(wait4(pid).map(|r| (r, Instant::now())));
    })?;
    let (timed_out, result) = match rx.recv_timeout(timeout) {
        Ok(r) => (false, r),
        Err(_) => {
            // SAFETY: plain kill(2) on the pid of our own unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let r = rx
                .recv()
                .map_err(|_| io::Error::other("wait4 thread vanished"))?;
            (true, r)
        }
    };
    let ((status, usage), end) = result?;
    let mut measurement = Measurement {
        wall: end - start,
        user: timeval(usage.ru_utime),
        sys: timeval(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss.max(0) as u64,
    };
    if wrapper.is_some() && !timed_out {
        let own = std::fs::read_to_string(&usage_file)
            .ok()
            .and_then(|text| parse_usage(&text))
            .ok_or_else(|| {
                io::Error::other(format!(
                    "bench-exec wrote no usable {}",
                    usage_file.display()
                ))
            })?;
        measurement.user = own.0;
        measurement.sys = own.1;
        measurement.max_rss_kib = own.2;
    }
    let (success, exit) = if timed_out {
        (false, format!("timed out after {}s", timeout.as_secs()))
    } else if libc::WIFEXITED(status) {
        let code = libc::WEXITSTATUS(status);
        (code == 0, format!("exit {code}"))
    } else if libc::WIFSIGNALED(status) {
        (false, format!("signal {}", libc::WTERMSIG(status)))
    } else {
        (false, format!("status {status:#x}"))
    };
    Ok(Outcome {
        measurement,
        success,
        exit,
        output_tail: tail(log, 2048).unwrap_or_default(),
    })
}

/// `wrapper USAGE_FILE PROGRAM ARGS...` with `cmd`'s environment and directory.
fn wrap(cmd: &Command, wrapper: &Path, usage_file: &Path) -> Command {
    let mut w = Command::new(wrapper);
    w.arg(usage_file)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => w.env(k, v),
            None => w.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        w.current_dir(dir);
    }
    w
}

/// `user_us sys_us maxrss_kib status` as written by `bench-exec`.
fn parse_usage(text: &str) -> Option<(Duration, Duration, u64)> {
    let mut f = text.split_whitespace().map(|v| v.parse::<i64>().ok());
    let user = f.next()??;
    let sys = f.next()??;
    let rss = f.next()??;
    let us = |v: i64| Duration::from_micros(v.max(0) as u64);
    Some((us(user), us(sys), rss.max(0) as u64))
}

/// The `bench-exec` wrapper: `$MIRROR_BENCH_EXEC`, next to the running
/// binary, or in the workspace's `target/release` or `target/debug`.
pub fn find_exec_wrapper() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("MIRROR_BENCH_EXEC").filter(|p| !p.is_empty()) {
        return Some(p.into());
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.join("bench-exec")));
    let root = crate::server::repo_root();
    beside
        .into_iter()
        .chain([
            root.join("target/release/bench-exec"),
            root.join("target/debug/bench-exec"),
        ])
        .find(|p| p.is_file())
}

fn wait4(pid: libc::pid_t) -> io::Result<(libc::c_int, libc::rusage)> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: both out-pointers are valid for the duration of the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// The last `max` bytes of a file, lossily decoded.
pub fn tail(path: &Path, max: u64) -> io::Result<String> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(max)))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).trim().to_string())
}

/// Finds `name` on `PATH`.
pub fn find_in_path(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_cpu_time_and_exit_status() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("log");
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done; exit 3",
        ]);
        let out = run_measured(&mut cmd, &log, Duration::from_secs(30), None).expect("run");
        assert!(!out.success);
        assert_eq!(out.exit, "exit 3");
        assert_eq!(out.output_tail, "done");
        assert!(
            out.measurement.cpu() > Duration::ZERO,
            "{:?}",
            out.measurement
        );
        assert!(out.measurement.max_rss_kib > 0);
        assert!(out.measurement.wall >= out.measurement.cpu() / 2);
    }

    #[test]
    fn usage_lines_parse() {
        assert_eq!(
            parse_usage("1500000 250 4096 0\n"),
            Some((
                Duration::from_millis(1500),
                Duration::from_micros(250),
                4096
            ))
        );
        assert_eq!(parse_usage("1 2"), None);
        assert_eq!(parse_usage("x 2 3 0"), None);
    }

    #[test]
    fn peak_rss_is_per_child() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("log");
        // A child that touches 64 MiB, then one that does not: the second
        // must not inherit the first one's peak (as RUSAGE_CHILDREN would).
        let mut big = Command::new("dd");
        big.args(["if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]);
        let out = run_measured(&mut big, &log, Duration::from_secs(30), None).expect("run");
        assert!(out.success, "{}", out.output_tail);
        assert!(
            out.measurement.max_rss_kib >= 60 * 1024,
            "{:?}",
            out.measurement
        );
        let mut small = Command::new("true");
        let out = run_measured(&mut small, &log, Duration::from_secs(30), None).expect("run");
        assert!(
            out.measurement.max_rss_kib < 32 * 1024,
            "{:?}",
            out.measurement
        );
    }

    #[test]
    fn kills_after_the_timeout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let t0 = Instant::now();
        let out = run_measured(
            &mut cmd,
            &dir.path().join("log"),
            Duration::from_millis(300),
            None,
        )
        .expect("run");
        assert!(!out.success);
        assert!(out.exit.starts_with("timed out"), "{}", out.exit);
        assert!(t0.elapsed() < Duration::from_secs(10));
    }
}
