//! The mirror engine: run a plan of modules from several FTP servers with a
//! pool of sessions per server, parallel listing and downloading, staging,
//! backups of the previous copy and distribution to several destinations.
//!
//! The library never prints: it reports through [`events::EventSink`].

pub mod events;
