//! A read-only FTP server for one directory.
