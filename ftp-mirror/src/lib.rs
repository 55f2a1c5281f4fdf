//! The mirror engine: run a plan of modules from several FTP servers with a
//! pool of sessions per server, parallel listing and downloading, staging,
//! backups of the previous copy and distribution to several destinations.
//!
//! The library never prints: it reports through [`events::EventSink`].
//!
//! The entry points are [`run::run_plan`] (a parsed [`plan::Plan`], the
//! nightly job) and [`run::run_url`] (one URL, no plan). Both return a
//! [`report::RunReport`]. Below them, [`sync::sync_tree`] mirrors one remote
//! directory through a [`pool::Pool`] of sessions.
//!
//! Mirroring one directory, here from an embedded read-only server:
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use ftp_mirror::events::Event;
//! use ftp_mirror::run::{run_url, RunOptions};
//! use ftp_mirror::url::FtpUrl;
//!
//! // A remote tree, served on a loopback port.
//! let remote = tempfile::tempdir()?;
//! std::fs::create_dir_all(remote.path().join("pub/docs"))?;
//! std::fs::write(remote.path().join("pub/docs/readme.txt"), b"hello")?;
//! let server = ftp_serve::Server::bind(ftp_serve::ServerConfig {
//!     root: remote.path().into(),
//!     ..Default::default()
//! })?
//! .spawn()?;
//!
//! // Mirror it with two sessions, counting bytes from the events.
//! let url = FtpUrl::parse(&format!("ftp://{}/pub", server.local_addr()))?;
//! let local = tempfile::tempdir()?;
//! let bytes = AtomicU64::new(0);
//! let events = |e: &Event| {
//!     if let Event::Bytes { delta, .. } = e {
//!         bytes.fetch_add(*delta, Ordering::Relaxed);
//!     }
//! };
//! let opts = RunOptions { connections: Some(2), ..RunOptions::default() };
//! let report = run_url(&url, &local.path().join("pub"), &opts, &events);
//!
//! assert_eq!(report.exit_code(), 0, "{}", report.to_json());
//! assert_eq!(std::fs::read(local.path().join("pub/docs/readme.txt"))?, b"hello");
//! assert_eq!(bytes.load(Ordering::Relaxed), 5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod distribute;
pub mod events;
pub mod fetch;
pub mod filter;
pub mod interrupt;
pub mod netrc;
pub mod plan;
pub mod pool;
pub mod report;
pub mod run;
pub mod stage;
pub mod sync;
pub mod url;
pub mod walk;
