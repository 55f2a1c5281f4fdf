//! A small, read-only FTP server for one directory, for demos, tests and
//! benchmarks.
//!
//! Blocking and thread-per-session: every control connection gets its own
//! thread, up to [`ServerConfig::max_sessions`]; every socket has a timeout,
//! so one slow client cannot stall the others. Unix only.
//!
//! **What it serves.** Downloads and listings of [`ServerConfig::root`]
//! (seen by clients as `/`): `RETR` (with `REST`), `LIST`, `NLST`, `MLSD`,
//! `MLST`, `SIZE`, `MDTM`, passive (`PASV`, `EPSV`) and active (`PORT`,
//! `EPRT`) data connections, `ABOR`. Names are raw bytes, so names that are
//! not UTF-8 work.
//!
//! **What it refuses.** Every command that would write (`STOR`, `DELE`,
//! `MKD`, `RNFR`, `SITE CHMOD`, ...) gets `550 Read-only server`; commands it
//! does not know get `502`; commands before login get `530`.
//!
//! **Confinement.** A client path is normalized lexically against the
//! working directory (`..` never climbs above `/`), then resolved on disk
//! with every symbolic link followed, and refused unless the result is
//! still inside the canonical root. A link leading out is refused (`550`)
//! and left out of listings. Active data connections go only to the
//! control connection's peer (no FTP bounce); passive ones accept only the
//! peer.
//!
//! ```
//! use std::io::{BufRead, BufReader, Write};
//! use std::net::TcpStream;
//! use ftp_serve::{Server, ServerConfig};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("hello.txt"), b"hello")?;
//!
//! let server = Server::bind(ServerConfig { root: dir.path().into(), ..ServerConfig::default() })?;
//! let handle = server.spawn()?;
//!
//! let control = TcpStream::connect(handle.local_addr())?;
//! control.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
//! let mut replies = BufReader::new(control.try_clone()?);
//! let mut line = String::new();
//! replies.read_line(&mut line)?;
//! assert!(line.starts_with("220 "));
//! for (command, code) in [("USER anonymous", "331"), ("PASS guest", "230"),
//!                         ("SIZE hello.txt", "213 5"), ("DELE hello.txt", "550")] {
//!     (&control).write_all(format!("{command}\r\n").as_bytes())?;
//!     line.clear();
//!     replies.read_line(&mut line)?;
//!     assert!(line.starts_with(code), "{command}: {line}");
//! }
//! handle.shutdown();
//! # Ok::<(), std::io::Error>(())
//! ```

#![warn(missing_docs)]

mod config;
mod control;
mod data;
mod dirlist;
mod server;
mod session;
mod sys;
mod verb;
mod vfs;

pub use config::ServerConfig;
pub use server::{Server, ServerHandle};
