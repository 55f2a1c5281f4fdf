//! Helpers for the `serve_*` tests: a served sample tree, a server started
//! in-process, external clients run with a deadline, a raw control
//! connection, and a comparison of downloaded files with the source.

#![allow(dead_code)] // Each test file uses a different part.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use ftp_mirror_tests::tree::pseudo_random_bytes;
use ftp_proto::reply::{parse, Limits, Reply, Status};
use ftp_serve::{Server, ServerConfig, ServerHandle};

/// The hint given when a client program is missing.
pub const INSTALL_HINT: &str =
    "run the README's test command (scripts/test.sh), which installs curl, wget and lftp";

/// The 5 MiB file of the sample tree.
pub const BIG_FILE: &str = "big/five-mib.bin";

/// Socket timeout for raw connections.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A served tree: the source directory and what a client must fetch.
pub struct Served {
    /// Holds the tree; removed on drop.
    pub dir: tempfile::TempDir,
    /// Holds what the escaping symbolic link points to; removed on drop.
    pub outside: tempfile::TempDir,
    /// Relative path (raw bytes) to expected content, for every file a
    /// client should fetch.
    pub files: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Served {
    /// The served root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// Builds the sample tree: nested directories, a non-ASCII name, names with
/// spaces, an empty file, a 5 MiB file, a symbolic link inside the root
/// (served as a file) and one leading outside (never served).
pub fn sample_tree() -> Served {
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let secret = outside.path().join("secret.txt");
    fs::write(&secret, b"outside the root\n").expect("write secret");

    let mut files: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut add = |rel: &str, content: Vec<u8>| {
        let path = dir.path().join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, &content).expect("write");
        files.insert(rel.as_bytes().to_vec(), content);
    };
    add("readme.txt", b"a small text file\n".to_vec());
    add("empty.txt", Vec::new());
    add("name with spaces.txt", b"spaces in the name\n".to_vec());
    add(
        "caf\u{e9}/na\u{ef}ve \u{2713}.txt",
        "na\u{ef}ve content \u{2713}\n".into(),
    );
    add("nested/a/b/c/deep.txt", b"deep down\n".to_vec());
    add(
        "nested/a/lines.dat",
        b"unix\nand dos\r\nlines\n\x00\xff".to_vec(),
    );
    add(
        "dir with space/inner file.txt",
        b"inside a spaced directory\n".to_vec(),
    );
    add(BIG_FILE, pseudo_random_bytes(0x005e_127e, 5 * 1024 * 1024));

    std::os::unix::fs::symlink("readme.txt", dir.path().join("link-to-readme")).expect("symlink");
    files.insert(b"link-to-readme".to_vec(), b"a small text file\n".to_vec());
    std::os::unix::fs::symlink(&secret, dir.path().join("escape-link")).expect("symlink");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("escape-dir")).expect("symlink");

    Served {
        dir,
        outside,
        files,
    }
}

/// Starts a server for `root` with short timeouts; `tweak` adjusts the rest.
pub fn serve(root: &Path, tweak: impl FnOnce(&mut ServerConfig)) -> ServerHandle {
    let mut config = ServerConfig {
        root: root.to_path_buf(),
        idle_timeout: Duration::from_secs(30),
        data_timeout: Duration::from_secs(10),
        ..ServerConfig::default()
    };
    tweak(&mut config);
    Server::bind(config).expect("bind").spawn().expect("spawn")
}

/// The path of a client program, or a failure that says how to install it.
pub fn require_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("`{name}` is not installed: {INSTALL_HINT}");
}

/// Runs `command` with no stdin, killing it if it runs past `limit`.
/// Panics (with its output) if it is killed.
pub fn run_with_deadline(mut command: Command, limit: Duration) -> Output {
    let shown = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {shown}: {e}"));
    // Drain the pipes on threads so a chatty child cannot block on them.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match status {
        Some(status) => Output {
            status,
            stdout,
            stderr,
        },
        None => panic!(
            "{shown} still running after {limit:?}; killed.\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
    }
}

/// Panics with the output unless the command succeeded.
pub fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}).\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every regular file below `root`, by relative path (raw bytes), skipping
/// file names in `ignore`.
pub fn files_below(root: &Path, ignore: &[&str]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
            let entry = entry.expect("dir entry");
            let name = entry.file_name();
            if ignore.iter().any(|i| OsStr::new(i) == name) {
                continue;
            }
            let rel = rel.join(&name);
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                stack.push(rel);
            } else {
                assert!(kind.is_file(), "{} is not a regular file", rel.display());
                let content = fs::read(root.join(&rel)).expect("read file");
                out.insert(rel.as_os_str().as_bytes().to_vec(), content);
            }
        }
    }
    out
}

/// Panics unless `got` has exactly the files of `want`, byte for byte.
pub fn assert_same_files(
    client: &str,
    want: &BTreeMap<Vec<u8>, Vec<u8>>,
    got: &BTreeMap<Vec<u8>, Vec<u8>>,
) {
    let show = |k: &[u8]| String::from_utf8_lossy(k).into_owned();
    let missing: Vec<String> = want
        .keys()
        .filter(|k| !got.contains_key(*k))
        .map(|k| show(k))
        .collect();
    let extra: Vec<String> = got
        .keys()
        .filter(|k| !want.contains_key(*k))
        .map(|k| show(k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{client}: missing {missing:?}, unexpected {extra:?}"
    );
    for (path, content) in want {
        let fetched = &got[path];
        assert!(
            fetched == content,
            "{client}: {} differs ({} bytes fetched, {} expected)",
            show(path),
            fetched.len(),
            content.len()
        );
    }
}

/// Percent-encodes a path for an `ftp://` URL (keeps `/`).
pub fn url_path(rel: &[u8]) -> String {
    let mut out = String::new();
    for &b in rel {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A raw control connection, for sending exactly what a test wants.
pub struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    /// Connects and returns the connection with the greeting.
    pub fn connect(addr: SocketAddr) -> (Raw, Reply) {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        stream.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
        let mut raw = Raw {
            stream,
            buf: Vec::new(),
        };
        let greeting = raw.reply();
        (raw, greeting)
    }

    /// Connects and logs in anonymously.
    pub fn login(addr: SocketAddr) -> Raw {
        let (mut raw, greeting) = Raw::connect(addr);
        assert_eq!(greeting.code().get(), 220, "{greeting:?}");
        raw.expect("USER anonymous", 331);
        raw.expect("PASS guest", 230);
        raw
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Sends a command line (CRLF added) and reads the reply.
    pub fn cmd(&mut self, line: impl AsRef<[u8]>) -> Reply {
        let mut bytes = line.as_ref().to_vec();
        bytes.extend_from_slice(b"\r\n");
        self.send_raw(&bytes);
        self.reply()
    }

    /// Sends a command and asserts the reply code.
    pub fn expect(&mut self, line: impl AsRef<[u8]>, code: u16) -> Reply {
        let shown = String::from_utf8_lossy(line.as_ref()).into_owned();
        let reply = self.cmd(line);
        assert_eq!(reply.code().get(), code, "{shown}: {reply:?}");
        reply
    }

    /// Reads one reply.
    pub fn reply(&mut self) -> Reply {
        self.try_reply()
            .expect("a reply before the connection closed")
    }

    /// Reads one reply; `None` if the connection closed first.
    pub fn try_reply(&mut self) -> Option<Reply> {
        loop {
            match parse(&self.buf, &Limits::default()).expect("well-formed reply") {
                Status::Complete((reply, used)) => {
                    self.buf.drain(..used);
                    return Some(reply);
                }
                Status::Partial => {}
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("read reply");
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Whether the server closed the connection (reads until end of stream,
    /// within the socket timeout).
    pub fn is_closed(&mut self) -> bool {
        let mut chunk = [0u8; 256];
        matches!(self.stream.read(&mut chunk), Ok(0) | Err(_))
    }

    /// Sends EPSV and connects to the announced port.
    pub fn epsv(&mut self) -> TcpStream {
        let reply = self.expect("EPSV", 229);
        let port = ftp_proto::passive::parse_epsv(&reply.lines()[0]).expect("EPSV port");
        let addr = SocketAddr::new(self.stream.peer_addr().expect("peer").ip(), port);
        let data = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("data connect");
        data.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        data
    }

    /// Runs a data command over EPSV; returns the preliminary reply, the
    /// data and the final reply, or the refusal when there is no 150.
    pub fn transfer(&mut self, line: impl AsRef<[u8]>) -> Result<(Vec<u8>, Reply), Reply> {
        let mut data = self.epsv();
        let first = self.cmd(line);
        if first.code().get() != 150 {
            return Err(first);
        }
        let mut got = Vec::new();
        data.read_to_end(&mut got).expect("read data");
        let last = self.reply();
        Ok((got, last))
    }
}
