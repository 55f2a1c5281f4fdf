//! A blocking FTP client over a protocol core without I/O.
//!
//! **In scope:** the FTP grammar (commands, replies, listings), the session's
//! states and a blocking client over `std::net` implementing RFC 959, RFC 2428
//! (EPSV/EPRT) and RFC 3659 (MLSD/MLST/SIZE/MDTM/REST).
//!
//! **Out of scope:** threads, pools, retries, progress display. Those belong
//! to the caller (see the `ftp-mirror` crate). This crate never spawns a
//! thread, keeps no global state and never prints.
//!
//! The pieces, from the bottom up:
//! - [`reply`]: replies and their sans-IO parser.
//! - [`command`]: safe command lines (CR/LF/NUL refused).
//! - [`passive`]: 227/229 replies and PORT/EPRT arguments.
//! - [`listing`]: the listing model and MLSD, Unix and MS-DOS parsers.
//! - [`Features`]: the parsed FEAT reply.
//! - [`client`]: the blocking session and its transfers; listings over the
//!   control connection (`STAT <dir>`, pipelined `MLST`) need no data
//!   connection.
//! - [`Error`]: one error type that keeps the server's reply.
//!
//! ```no_run
//! use ftp_proto::client::{Client, Config, Password};
//!
//! let mut ftp = Client::connect("127.0.0.1", 21, Config::default())?;
//! ftp.login("builder", &Password::new("secret"))?;
//! let mut file = std::fs::File::create("/tmp/build.tar")?;
//! let n = ftp.retr("/builds/nightly/build.tar", 0, &mut file, &mut |p| {
//!     eprintln!("{} of {:?} bytes", p.bytes, p.expected);
//! })?;
//! println!("{n} bytes");
//! ftp.quit()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod client;
pub mod command;
mod config;
mod control;
mod error;
mod features;
pub mod listing;
pub mod passive;
mod password;
pub mod reply;
mod stat;
mod transfer;

pub use error::{Error, Phase, Result};
pub use features::Features;
pub use listing::{Entry, EntryKind, FileTime, TimeAccuracy};
pub use reply::{Reply, ReplyClass, ReplyCode};
pub use stat::{BatchReplies, MLST_BATCH};
