//! `ftp-mirror ls URL [--json]`: one remote directory, listed.

use std::process::ExitCode;

use ftp_mirror::url::FtpUrl;
use ftp_proto::client::{Client, Config};
use ftp_proto::{Entry, EntryKind};

use crate::{exit, summary};

/// Arguments of `ls`.
#[derive(clap::Args, Debug)]
pub struct LsArgs {
    /// ftp://[user[:password]@]host[:port]/path
    pub url: String,
    /// Print JSON (one object per entry) instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &LsArgs) -> ExitCode {
    let url = match FtpUrl::parse(&args.url) {
        Ok(u) => u,
        Err(e) => return exit::usage(format!("{}: {e}", ftp_mirror::url::redact(&args.url))),
    };
    match list(&url) {
        Ok(entries) => {
            if args.json {
                let items: Vec<serde_json::Value> = entries.iter().map(to_json).collect();
                println!("{}", serde_json::Value::Array(items));
            } else {
                let mut rows = Vec::new();
                for e in &entries {
                    rows.push(vec![
                        kind(&e.kind).to_string(),
                        e.size.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                        e.modified.map(time).unwrap_or_else(|| "-".into()),
                        display_name(e),
                    ]);
                }
                print!("{}", summary::table(&rows));
            }
            ExitCode::SUCCESS
        }
        Err(e) => exit::failure(format!("{url}: {e}")),
    }
}

fn list(url: &FtpUrl) -> Result<Vec<Entry>, ftp_proto::Error> {
    let mut ftp = Client::connect(&url.host, url.port, Config::default())?;
    ftp.login(&url.resolve_user(), &url.resolve_password())?;
    let path = (!url.path.is_empty()).then_some(url.path.as_slice());
    let mut entries = if ftp.features()?.has("MLST") {
        match (ftp.mlsd(path), path) {
            // MLSD lists directories only; a URL naming a file gets its facts.
            (Err(e), Some(p)) if e.is_permanent() => match ftp.mlst(p) {
                Ok(mut entry) if !entry.is_dir() => {
                    // MLST names the path as given; show its last part.
                    if let Some(leaf) = entry.name.rsplit(|&b| b == b'/').find(|p| !p.is_empty()) {
                        entry.name = leaf.to_vec();
                    }
                    vec![entry]
                }
                _ => return Err(e),
            },
            (listed, _) => listed?,
        }
    } else {
        ftp.list_entries(path)?
    };
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let _ = ftp.quit();
    Ok(entries)
}

fn kind(k: &EntryKind) -> &'static str {
    match k {
        EntryKind::File => "file",
        EntryKind::Dir => "dir",
        EntryKind::Symlink { .. } => "link",
        _ => "other",
    }
}

fn display_name(e: &Entry) -> String {
    let name = e.name_lossy();
    match &e.kind {
        EntryKind::Symlink { target: Some(t) } => {
            format!("{name} -> {}", String::from_utf8_lossy(t))
        }
        EntryKind::Dir => format!("{name}/"),
        _ => name,
    }
}

/// `2026-11-21 10:00:00Z` (exact UTC) or `2026-11-21 10:00:00` (the
/// server's local time, from LIST); `sep` is `' '` for tables and `'T'`
/// for JSON (RFC 3339 when exact).
fn time_with(t: ftp_proto::FileTime, sep: char) -> String {
    let (y, mo, d, h, mi, s) = t.to_civil();
    let zone = if t.is_exact() { "Z" } else { "" };
    format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{zone}")
}

fn time(t: ftp_proto::FileTime) -> String {
    time_with(t, ' ')
}

fn to_json(e: &Entry) -> serde_json::Value {
    let mut v = serde_json::json!({
        "name": e.name_lossy(),
        "kind": kind(&e.kind),
        "size": e.size,
        "modified": e.modified.map(|t| time_with(t, 'T')),
        "exact_time": e.modified.map(|t| t.is_exact()),
    });
    if let EntryKind::Symlink { target: Some(t) } = &e.kind {
        v["target"] = serde_json::Value::String(String::from_utf8_lossy(t).into_owned());
    }
    if std::str::from_utf8(&e.name).is_err() {
        v["name_bytes"] = e.name.iter().map(|&b| serde_json::Value::from(b)).collect();
    }
    v
}
