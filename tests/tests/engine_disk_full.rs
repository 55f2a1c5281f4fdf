//! A local write error in the middle of a download (here `EFBIG` from a
//! file-size limit, standing in for a full disk) fails that file for good:
//! its `.part` is removed, nothing appears under its final name, and the
//! other files are mirrored.
//!
//! The limit must not hit the test harness, so the test re-runs this
//! binary in a child process under `ulimit -f` with `SIGXFSZ` ignored
//! (writes past the limit then fail with `EFBIG` instead of killing the
//! process). The parent prepares the trees and checks the result.

mod engine_util;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine_util::*;
use ftp_mirror_tests::tree::{pseudo_random_bytes, write_file};

const CHILD_SRC: &str = "FTP_MIRROR_TEST_DISK_FULL_SRC";
const CHILD_DEST: &str = "FTP_MIRROR_TEST_DISK_FULL_DEST";
const TEST_NAME: &str = "a_local_write_error_fails_the_file_and_removes_its_part";

#[test]
fn a_local_write_error_fails_the_file_and_removes_its_part() {
    if let (Some(src), Some(dest)) = (std::env::var_os(CHILD_SRC), std::env::var_os(CHILD_DEST)) {
        child(Path::new(&src), Path::new(&dest));
        return;
    }
    let src = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("dest");
    write_file(
        &src.path().join("big.bin"),
        &pseudo_random_bytes(3, 1024 * 1024),
    );
    write_file(&src.path().join("small.txt"), b"fits\n");

    let exe = std::env::current_exe().expect("the test binary");
    // bash's `ulimit -f` counts KiB: 256 KiB, well under big.bin.
    let script =
        "trap '' XFSZ; ulimit -f 256 && exec \"$0\" --exact \"$1\" --nocapture --test-threads=1";
    let mut child = Command::new("bash")
        .args(["-c", script])
        .arg(&exe)
        .arg(TEST_NAME)
        .env(CHILD_SRC, src.path())
        .env(CHILD_DEST, &dest)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child test");
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child test did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().expect("child output");
    assert!(
        status.success(),
        "child failed: {status}\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // Check again from outside the limit.
    assert!(!dest.join("big.bin").exists());
    assert!(!dest.join(".big.bin.part").exists());
    assert_eq!(std::fs::read(dest.join("small.txt")).unwrap(), b"fits\n");
}

/// Runs under the file-size limit.
fn child(src: &Path, dest: &Path) {
    let server = serve(src);
    let pool = anon_pool(&server, 2);
    let stats = sync(&pool, &options(dest), Arc::default()).expect("the module as a whole runs");
    assert_eq!(stats.failures.len(), 1, "{:?}", stats.failures);
    let (path, error) = &stats.failures[0];
    assert_eq!(path, "big.bin");
    assert!(error.to_lowercase().contains("too large"), "{error}");
    assert_eq!(stats.retries, 0, "a local error is not retried");
    assert_eq!(stats.files_fetched, 1);
    assert!(!dest.join("big.bin").exists());
    assert!(!dest.join(".big.bin.part").exists());
}
