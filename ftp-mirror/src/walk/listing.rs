//! Listing one remote directory: MLSD when the server offers it, LIST
//! parsed by `ftp_proto::listing` otherwise, or (opted into with
//! [`ListingMode::Stat`]) `STAT <dir>` for the names and pipelined MLST for
//! their facts, which needs no data connection. Never the "CWD into every
//! name" trick: one command per directory, by full path.

use std::sync::atomic::{AtomicBool, Ordering};

use ftp_proto::client::Client;
use ftp_proto::{Entry, MLST_BATCH};

/// How a directory was listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListingMethod {
    /// MLSD: exact UTC times and sizes.
    Mlsd,
    /// LIST parsed as `ls -l` or MS-DOS lines: approximate times.
    List,
    /// `STAT <dir>` for the names, one MLST per entry for its facts: the
    /// same exact facts as MLSD, over the control connection only.
    Stat,
}

/// Which listing commands a walk uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListingMode {
    /// MLSD when FEAT offers MLST, LIST otherwise.
    #[default]
    Auto,
    /// `STAT <dir>` and pipelined MLST where the server takes them (MLSD or
    /// LIST elsewhere). Two round trips per directory instead of three, no
    /// data connections. Only for servers whose STAT lists every entry:
    /// some (ProFTPD without `ListOptions -a`) leave out dot files, which
    /// would then be missing from the mirror.
    Stat,
}

/// What the server turned out not to support, shared by every worker of a
/// walk so that a refusal is met once, not once per directory.
#[derive(Debug)]
pub struct ListingSupport {
    mode: ListingMode,
    stat_refused: AtomicBool,
    mlsd_refused: AtomicBool,
}

impl ListingSupport {
    /// Nothing refused yet.
    pub fn new(mode: ListingMode) -> ListingSupport {
        ListingSupport {
            mode,
            stat_refused: AtomicBool::new(false),
            mlsd_refused: AtomicBool::new(false),
        }
    }
}

/// A listed directory.
#[derive(Debug)]
pub struct DirListing {
    /// Its entries.
    pub entries: Vec<Entry>,
    /// How it was listed.
    pub method: ListingMethod,
    /// STAT listings of some subdirectories (by name), read in the same
    /// round trip: give each to [`list_dir`] when listing that directory.
    pub prefetched: Vec<(Vec<u8>, Vec<Entry>)>,
}

/// Lists `path` (`None`: the login directory) with the commands `support`
/// allows: STAT and MLST in [`ListingMode::Stat`] (for directories of at
/// most [`MLST_BATCH`] entries whose path holds no glob character), else
/// MLSD when FEAT offers MLST, else LIST. `prefetched` is this directory's
/// STAT listing when its parent's listing already read it. A STAT listing
/// also reads its subdirectories' listings ahead, except those (by name)
/// `skip_subdir` accepts: the walk will not list them (excluded).
///
/// A server that refuses STAT or MLSD as unknown (`500`/`502`) or
/// unimplemented for the argument (`504`) is not asked again during the
/// walk; nor is STAT after a STAT listing broke the session (replies out of
/// step, a reply over the size limits). The error then returned is
/// transient: listing again on a new session uses MLSD.
pub fn list_dir(
    client: &mut Client,
    path: Option<&[u8]>,
    support: &ListingSupport,
    prefetched: Option<Vec<Entry>>,
    skip_subdir: &dyn Fn(&[u8]) -> bool,
) -> ftp_proto::Result<DirListing> {
    let path = path.map(protect_dash);
    let path = path.as_deref();
    let mlst = client.features()?.has("MLST");
    let stat_ok = support.mode == ListingMode::Stat
        && mlst
        && !support.stat_refused.load(Ordering::Relaxed)
        && !path.is_some_and(has_glob);
    if stat_ok {
        match list_by_stat(client, path, prefetched, skip_subdir) {
            Ok(Some(listing)) => return Ok(listing),
            Ok(None) => {}
            Err(e) => {
                let transport = matches!(
                    e,
                    ftp_proto::Error::Io { .. }
                        | ftp_proto::Error::Timeout { .. }
                        | ftp_proto::Error::Closed { .. }
                );
                // A refusal for this directory (550: gone, or not
                // readable) says nothing about the others.
                let this_dir = client.is_reusable()
                    && matches!(e.code(), Some(c) if c >= 400 && !matches!(c, 500 | 502 | 504));
                if !transport && !this_dir {
                    log::debug!("STAT listing not usable ({e}); listing with MLSD from now on");
                    support.stat_refused.store(true, Ordering::Relaxed);
                }
                if !client.is_reusable() {
                    return Err(e);
                }
            }
        }
    }
    let (entries, method) = list_plain(client, path, mlst, support)?;
    Ok(DirListing {
        entries,
        method,
        prefetched: Vec::new(),
    })
}

/// MLSD, or LIST.
fn list_plain(
    client: &mut Client,
    path: Option<&[u8]>,
    mlst: bool,
    support: &ListingSupport,
) -> ftp_proto::Result<(Vec<Entry>, ListingMethod)> {
    if mlst && !support.mlsd_refused.load(Ordering::Relaxed) {
        match client.mlsd(path) {
            Ok(entries) => return Ok((entries, ListingMethod::Mlsd)),
            Err(e) if matches!(e.code(), Some(500 | 502 | 504)) && client.is_reusable() => {
                log::debug!("MLSD refused ({e}); using LIST");
                support.mlsd_refused.store(true, Ordering::Relaxed);
            }
            Err(e) => return Err(e),
        }
    }
    let entries = client.list_entries(path)?;
    Ok((entries, ListingMethod::List))
}

/// STAT for the names (unless `prefetched`), then one batch: MLST for every
/// entry and STAT for every subdirectory but those `skip_subdir` names.
/// Each entry's facts, and its name, which a LIST line can blur, come from
/// its MLST reply, exactly as MLSD would give them. `None` for a directory
/// too large for one batch (MLSD lists it in fewer round trips) or with an
/// entry MLST cannot confirm.
fn list_by_stat(
    client: &mut Client,
    path: Option<&[u8]>,
    prefetched: Option<Vec<Entry>>,
    skip_subdir: &dyn Fn(&[u8]) -> bool,
) -> ftp_proto::Result<Option<DirListing>> {
    let listed = match prefetched {
        Some(listed) => listed,
        None => client.stat_list(path.unwrap_or(b"."))?,
    };
    if listed.len() > MLST_BATCH {
        return Ok(None);
    }
    let child = |name: &[u8]| match path {
        Some(dir) => {
            let mut p = dir.to_vec();
            if !p.ends_with(b"/") {
                p.push(b'/');
            }
            p.extend_from_slice(name);
            p
        }
        // `./-l`, not `-l`, which a server would read as options.
        None => protect_dash(name),
    };
    let paths: Vec<Vec<u8>> = listed.iter().map(|e| child(&e.name)).collect();
    let subdirs: Vec<usize> = (0..listed.len())
        .filter(|&i| listed[i].is_dir() && !has_glob(&paths[i]) && !skip_subdir(&listed[i].name))
        .collect();
    let stat_paths: Vec<Vec<u8>> = subdirs.iter().map(|&i| paths[i].clone()).collect();
    let replies = client.list_batch(&paths, &stat_paths)?;
    let mut entries = Vec::with_capacity(listed.len());
    for (listed, fact) in listed.iter().zip(replies.mlst) {
        match fact {
            Ok(mut entry) => {
                entry.name = listed.name.clone();
                entries.push(entry);
            }
            // Gone between STAT and MLST, or a name the LIST line blurred
            // (leading spaces): MLSD says which.
            Err(e) => {
                log::debug!("MLST of a STAT entry failed ({e}); listing with MLSD");
                return Ok(None);
            }
        }
    }
    let prefetched = subdirs
        .iter()
        .zip(replies.stat)
        .filter_map(|(&i, stat)| Some((listed[i].name.clone(), stat.ok()?)))
        .collect();
    Ok(Some(DirListing {
        entries,
        method: ListingMethod::Stat,
        prefetched,
    }))
}

/// Whether a path holds a character some servers expand in STAT's argument.
fn has_glob(path: &[u8]) -> bool {
    path.iter()
        .any(|b| matches!(b, b'*' | b'?' | b'[' | b']' | b'{' | b'}' | b'~'))
}

/// Many servers run LIST through `ls`, which would take a relative path that
/// starts with `-` as options: `./-x` is the same directory without that risk.
fn protect_dash(path: &[u8]) -> Vec<u8> {
    if path.first() == Some(&b'-') {
        let mut p = b"./".to_vec();
        p.extend_from_slice(path);
        p
    } else {
        path.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_paths_are_protected() {
        assert_eq!(protect_dash(b"-l"), b"./-l");
        assert_eq!(protect_dash(b"/pub/-l"), b"/pub/-l");
        assert_eq!(protect_dash(b"a"), b"a");
        assert_eq!(protect_dash(b""), b"");
    }
}
