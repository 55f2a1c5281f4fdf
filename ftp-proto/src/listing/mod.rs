//! Directory listings: the [`Entry`] model and parsers for MLSD facts
//! (RFC 3659), Unix `ls -l` and MS-DOS/IIS LIST formats.
//!
//! Parsers never panic and never fail a whole listing: a line that cannot be
//! read is skipped with a `log::warn!`.

mod dos;
mod entry;
pub mod format;
mod mlsd;
mod unix;

pub use entry::{Entry, EntryKind, FileTime, TimeAccuracy};
