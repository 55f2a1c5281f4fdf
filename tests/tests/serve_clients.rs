//! Real FTP clients nobody here wrote (curl, wget, lftp, Python's ftplib)
//! and the ftp-proto client fetch a tree served by ftp-serve, byte for byte.
//!
//! The tree has nested directories, a non-ASCII name, names with spaces, an
//! empty file, a 5 MiB file, a symbolic link inside the root (served as a
//! file) and two leading outside (never served). A missing client program
//! fails the test with a hint to run the README's test command.

mod serve_util;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;
use std::time::Duration;

use ftp_mirror_tests::within;
use ftp_proto::client::{Client, Config, DataMode, Timeouts};
use serve_util::{
    assert_same_files, assert_success, files_below, require_tool, run_with_deadline, sample_tree,
    serve, url_path, BIG_FILE,
};

/// The most any one client run may take.
const CLIENT_LIMIT: Duration = Duration::from_secs(120);

/// What a listing of `/` must show: the sample tree's top level, without
/// the links that lead outside.
const TOP_LEVEL: &[&str] = &[
    "big",
    "caf\u{e9}",
    "dir with space",
    "empty.txt",
    "link-to-readme",
    "name with spaces.txt",
    "nested",
    "readme.txt",
];

#[test]
fn curl_fetches_each_file_in_every_data_mode_and_lists_names() {
    let curl = require_tool("curl");
    let tree = sample_tree();
    let server = serve(tree.root(), |_| {});
    let addr = server.local_addr();

    // (name, extra curl arguments): EPSV (the default), PASV, active (EPRT/PORT).
    let modes: &[(&str, &[&str])] = &[
        ("epsv", &[]),
        ("pasv", &["--disable-epsv"]),
        ("active", &["--ftp-port", "127.0.0.1"]),
    ];
    for (mode, extra) in modes {
        let dest = tempfile::tempdir().expect("tempdir");
        for rel in tree.files.keys() {
            let out = dest.path().join(OsStr::from_bytes(rel));
            let mut cmd = Command::new(&curl);
            cmd.args([
                "--silent",
                "--show-error",
                "--max-time",
                "60",
                "--create-dirs",
            ])
            .args(*extra)
            .arg("--output")
            .arg(&out)
            .arg(format!("ftp://{addr}/{}", url_path(rel)));
            let output = run_with_deadline(cmd, CLIENT_LIMIT);
            assert_success(
                &format!("curl ({mode}) {}", String::from_utf8_lossy(rel)),
                &output,
            );
        }
        assert_same_files(
            &format!("curl ({mode})"),
            &tree.files,
            &files_below(dest.path(), &[]),
        );
    }

    let mut cmd = Command::new(&curl);
    cmd.args([
        "--silent",
        "--show-error",
        "--max-time",
        "60",
        "--list-only",
    ])
    .arg(format!("ftp://{addr}/"));
    let output = run_with_deadline(cmd, CLIENT_LIMIT);
    assert_success("curl --list-only", &output);
    let listed = String::from_utf8(output.stdout).expect("UTF-8 names");
    let mut names: Vec<&str> = listed.lines().collect();
    names.sort_unstable();
    assert_eq!(names, TOP_LEVEL);

    // A nested, non-ASCII directory.
    let mut cmd = Command::new(&curl);
    cmd.args([
        "--silent",
        "--show-error",
        "--max-time",
        "60",
        "--list-only",
    ])
    .arg(format!(
        "ftp://{addr}/{}/",
        url_path("caf\u{e9}".as_bytes())
    ));
    let output = run_with_deadline(cmd, CLIENT_LIMIT);
    assert_success("curl --list-only café/", &output);
    // curl turns the ASCII-mode CRLF line ends into LF.
    let listed = String::from_utf8(output.stdout).expect("UTF-8 names");
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        ["na\u{ef}ve \u{2713}.txt"]
    );
}

#[test]
fn curl_resumes_a_partial_download() {
    let curl = require_tool("curl");
    let tree = sample_tree();
    let server = serve(tree.root(), |_| {});
    let dest = tempfile::tempdir().expect("tempdir");
    let out = dest.path().join("big.bin");
    let full = &tree.files[BIG_FILE.as_bytes()];
    std::fs::write(&out, &full[..1_000_000]).expect("write partial");
    let mut cmd = Command::new(&curl);
    cmd.args([
        "--silent",
        "--show-error",
        "--max-time",
        "60",
        "--continue-at",
        "-",
        "--output",
    ])
    .arg(&out)
    .arg(format!("ftp://{}/{BIG_FILE}", server.local_addr()));
    assert_success(
        "curl --continue-at -",
        &run_with_deadline(cmd, CLIENT_LIMIT),
    );
    assert!(
        std::fs::read(&out).expect("read") == *full,
        "resumed file differs"
    );
}

#[test]
fn wget_mirrors_the_whole_tree() {
    let wget = require_tool("wget");
    let tree = sample_tree();
    let server = serve(tree.root(), |_| {});
    let dest = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(&wget);
    cmd.args([
        "--mirror",
        "--no-host-directories",
        "--restrict-file-names=nocontrol",
        "--no-verbose",
        "--timeout=30",
        "--tries=1",
        "--directory-prefix",
    ])
    .arg(dest.path())
    .arg(format!("ftp://{}/", server.local_addr()));
    let output = run_with_deadline(cmd, CLIENT_LIMIT);
    assert_success("wget --mirror", &output);
    // wget --mirror keeps each directory's LIST output as `.listing`.
    assert_same_files(
        "wget --mirror",
        &tree.files,
        &files_below(dest.path(), &[".listing"]),
    );
}

#[test]
fn lftp_mirrors_the_whole_tree() {
    let lftp = require_tool("lftp");
    let tree = sample_tree();
    let server = serve(tree.root(), |_| {});
    let dest = tempfile::tempdir().expect("tempdir");
    let addr = server.local_addr();
    let script = format!(
        "set net:timeout 10; set net:max-retries 1; set net:persist-retries 0; \
         set ftp:ssl-allow no; set file:charset utf-8; set cmd:fail-exit yes; \
         open -u anonymous,guest -p {} {}; mirror --parallel=4 / '{}'",
        addr.port(),
        addr.ip(),
        dest.path().display()
    );
    let mut cmd = Command::new(&lftp);
    cmd.env("LC_ALL", "C.UTF-8").arg("-c").arg(script);
    let output = run_with_deadline(cmd, CLIENT_LIMIT);
    assert_success("lftp mirror", &output);
    assert_same_files("lftp mirror", &tree.files, &files_below(dest.path(), &[]));
}

/// Python's ftplib: login, an MLSD walk, RETR of every file, sizes checked
/// against the MLSD facts.
const FTPLIB_SCRIPT: &str = r#"
import ftplib, os, sys
host, port, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ftp = ftplib.FTP()
ftp.encoding = "utf-8"
ftp.connect(host, port, timeout=20)
ftp.login("anonymous", "guest")
def walk(path, local):
    os.makedirs(local, exist_ok=True)
    for name, facts in ftp.mlsd(path):
        remote = path.rstrip("/") + "/" + name
        target = os.path.join(local, name)
        if facts["type"] == "dir":
            walk(remote, target)
        elif facts["type"] == "file":
            with open(target, "wb") as f:
                ftp.retrbinary("RETR " + remote, f.write)
            got = os.path.getsize(target)
            if got != int(facts["size"]):
                sys.exit(f"{remote}: {got} bytes, MLSD said {facts['size']}")
walk("/", dest)
ftp.quit()
"#;

#[test]
fn python_ftplib_walks_mlsd_and_retrieves_every_file() {
    let python = require_tool("python3");
    let tree = sample_tree();
    let server = serve(tree.root(), |_| {});
    let dest = tempfile::tempdir().expect("tempdir");
    let addr = server.local_addr();
    let mut cmd = Command::new(&python);
    cmd.arg("-c")
        .arg(FTPLIB_SCRIPT)
        .arg(addr.ip().to_string())
        .arg(addr.port().to_string())
        .arg(dest.path());
    let output = run_with_deadline(cmd, CLIENT_LIMIT);
    assert_success("python ftplib", &output);
    assert_same_files("python ftplib", &tree.files, &files_below(dest.path(), &[]));
}

#[test]
fn ftp_proto_client_walks_and_fetches_in_every_data_mode() {
    let tree = sample_tree();
    let server = serve(tree.root(), |_| {});
    let addr = server.local_addr();
    let want = tree.files.clone();
    within(CLIENT_LIMIT, "ftp-proto client", move || {
        for mode in [DataMode::Passive, DataMode::PassiveOnly, DataMode::Active] {
            let config = Config {
                timeouts: Timeouts::all(Duration::from_secs(20)),
                data_mode: mode,
                ..Config::default()
            };
            let mut client =
                Client::connect(&addr.ip().to_string(), addr.port(), config).expect("connect");
            client.login_anonymous().expect("login");
            let mut got = std::collections::BTreeMap::new();
            let mut dirs = vec![Vec::new()];
            while let Some(dir) = dirs.pop() {
                let path = [b"/".as_slice(), &dir].concat();
                for entry in client.mlsd(Some(&path)).expect("MLSD") {
                    let rel = if dir.is_empty() {
                        entry.name.clone()
                    } else {
                        [dir.as_slice(), b"/", &entry.name].concat()
                    };
                    if entry.is_dir() {
                        dirs.push(rel);
                    } else {
                        let mut content = Vec::new();
                        let remote = [b"/".as_slice(), &rel].concat();
                        client
                            .retr(&remote, 0, &mut content, &mut |_| {})
                            .expect("RETR");
                        assert_eq!(entry.size, Some(content.len() as u64));
                        got.insert(rel, content);
                    }
                }
            }
            assert_same_files(&format!("ftp-proto ({mode:?})"), &want, &got);
            // LIST output parses back into the same names.
            let mut listed: Vec<String> = client
                .list_entries(None)
                .expect("LIST")
                .iter()
                .map(|e| e.name_lossy())
                .collect();
            listed.sort_unstable();
            assert_eq!(listed, TOP_LEVEL);
            client.quit().expect("QUIT");
        }
    });
}

#[test]
#[should_panic(expected = "run the README's test command (scripts/test.sh)")]
fn a_missing_client_fails_with_the_install_hint() {
    require_tool("no-such-ftp-client-program");
}
