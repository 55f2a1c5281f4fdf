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
//! - [`listing`]: the listing model and MLSD, Unix and MS-DOS parsers.
//! - [`Features`]: the parsed FEAT reply.
//! - [`Error`]: one error type that keeps the server's reply.

#![warn(missing_docs)]

pub mod command;
mod error;
mod features;
pub mod listing;
pub mod reply;

pub use error::{Error, Phase, Result};
pub use features::Features;
pub use listing::{Entry, EntryKind, FileTime, TimeAccuracy};
pub use reply::{Reply, ReplyClass, ReplyCode};
