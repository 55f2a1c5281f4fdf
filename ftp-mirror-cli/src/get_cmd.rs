//! `ftp-mirror get URL [DEST]`: one file, or one directory mirrored, with
//! no plan file.

use std::path::PathBuf;
use std::process::ExitCode;

use ftp_mirror::run::run_url;
use ftp_mirror::url::FtpUrl;

use crate::progress::{Mode, Reporter};
use crate::{exit, run_cmd, CommonArgs};

/// Arguments of `get`.
#[derive(clap::Args, Debug)]
pub struct GetArgs {
    /// ftp://[user[:password]@]host[:port]/path (a file or a directory)
    pub url: String,
    /// Where to put it (default: the last part of the URL's path, here).
    pub dest: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

pub fn run(args: &GetArgs) -> ExitCode {
    if let Err(e) = args.common.check_json_target() {
        return exit::usage(e);
    }
    let url = match FtpUrl::parse(&args.url) {
        Ok(u) => u,
        Err(e) => return exit::usage(format!("{}: {e}", ftp_mirror::url::redact(&args.url))),
    };
    let dest = match &args.dest {
        Some(d) => d.clone(),
        None => match url.leaf() {
            Some(leaf) => {
                use std::os::unix::ffi::OsStrExt;
                PathBuf::from(std::ffi::OsStr::from_bytes(leaf))
            }
            None => return exit::usage("no DEST given and the URL has no path to name one"),
        },
    };
    let opts = args.common.run_options();
    let reporter = Reporter::new(Mode::pick(args.common.no_progress));
    let report = run_url(&url, &dest, &opts, &reporter);
    reporter.finish();
    run_cmd::finish(&report, &args.common)
}
