//! The mirror engine: run a plan of modules from several FTP servers with a
//! pool of sessions per server, parallel listing and downloading, staging,
//! backups of the previous copy and distribution to several destinations.
//!
//! The library never prints: it reports through [`events::EventSink`].

pub mod distribute;
pub mod events;
pub mod fetch;
pub mod netrc;
pub mod plan;
pub mod pool;
pub mod report;
pub mod run;
pub mod stage;
pub mod sync;
pub mod url;
pub mod walk;
