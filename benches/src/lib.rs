//! Side-by-side benchmark harness for `ftp-mirror`.
//!
//! The harness mirrors deterministic trees from one real FTP server
//! (pyftpdlib, and our own `ftp-serve`) with `ftp-mirror` and with the usual
//! peers (lftp, rclone, wget, curl and a Python `ftplib` session pool),
//! optionally through a user-space latency proxy, verifies every output byte
//! for byte and reports medians, ratios, CPU seconds and peak RSS.
//!
//! The pieces, from the top down:
//! - [`suite`]: one whole benchmark run (the `mirror-bench` binary drives it).
//! - [`targets`]: the product targets, evaluated on the measured numbers.
//! - [`report`]: the Markdown table and the hand-written SVG chart.
//! - [`runner`]: runs one tool once and measures it (wall time, `wait4` rusage).
//! - [`tools`]: the exact command line of every tool, one function each.
//! - [`server`]: the FTP servers under test (pyftpdlib, `ftp-serve`).
//! - [`proxy`]: the FTP-aware latency proxy.
//! - [`profile`]: where a tool spends its round trips, from a proxy trace.
//! - [`tree`]: the seeded tree generator and its cache.
//! - [`verify`]: byte-for-byte comparison of a mirror with its source.
//! - [`stats`]: medians and friends.
//!
//! ```no_run
//! use ftp_mirror_benches::tree::{TreeSpec, ensure_tree};
//! let root = ensure_tree(std::path::Path::new("bench-out"), &TreeSpec::small_files())?;
//! println!("tree at {}", root.display());
//! # Ok::<(), std::io::Error>(())
//! ```

#![warn(missing_docs)]

pub mod profile;
pub mod proxy;
pub mod report;
pub mod runner;
pub mod server;
pub mod stats;
pub mod suite;
pub mod targets;
pub mod tools;
pub mod tree;
pub mod verify;
