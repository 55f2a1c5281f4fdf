//! `bench-exec RUSAGE_FILE PROGRAM [ARGS...]`: runs PROGRAM as a child and
//! writes the child's own rusage to RUSAGE_FILE, then exits with its status.
//!
//! Why: Linux records the peak RSS of the address space a process had before
//! `exec` in the process's `ru_maxrss`, and a child spawned with `vfork` or
//! `fork` had its parent's address space just before `exec`. A tool spawned
//! straight from the (large) harness would report the harness's peak RSS as
//! its own. This small program forks and execs the tool, so the tool inherits
//! at most this program's footprint (about 1-2 MiB).
//!
//! RUSAGE_FILE receives one line: `user_us sys_us maxrss_kib wait_status`.
//! The child gets SIGKILL if this program dies (e.g. killed on a timeout).

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: bench-exec RUSAGE_FILE PROGRAM [ARGS...]");
        return ExitCode::from(2);
    }
    let out = std::path::PathBuf::from(&args[0]);
    let argv: Result<Vec<CString>, _> = args[1..]
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect();
    let Ok(argv) = argv else {
        eprintln!("bench-exec: an argument contains a NUL byte");
        return ExitCode::from(2);
    };
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };

    // SAFETY: this program is single-threaded here; the child only calls
    // async-signal-safe functions (prctl, getppid, execvp, write, _exit).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        eprintln!(
            "bench-exec: fork failed: {}",
            std::io::Error::last_os_error()
        );
        return ExitCode::from(2);
    }
    if pid == 0 {
        // SAFETY: see above; `ptrs` is a NULL-terminated array of valid C
        // strings that outlive the call.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
            if libc::getppid() != parent {
                libc::_exit(127);
            }
            libc::execvp(ptrs[0], ptrs.as_ptr());
            let msg = b"bench-exec: exec failed\n";
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::_exit(127);
        }
    }
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both out-pointers are valid for the duration of the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            eprintln!("bench-exec: wait4 failed: {e}");
            return ExitCode::from(2);
        }
    }
    let us = |t: libc::timeval| t.tv_sec * 1_000_000 + t.tv_usec;
    let line = format!(
        "{} {} {} {}\n",
        us(usage.ru_utime),
        us(usage.ru_stime),
        usage.ru_maxrss,
        status
    );
    if let Err(e) = std::fs::write(&out, line) {
        eprintln!("bench-exec: {}: {e}", out.display());
        return ExitCode::from(2);
    }
    if libc::WIFEXITED(status) {
        ExitCode::from(libc::WEXITSTATUS(status) as u8)
    } else {
        ExitCode::from(128u8.saturating_add(libc::WTERMSIG(status) as u8))
    }
}
