//! Listing one remote directory: MLSD when the server offers it, LIST
//! parsed by `ftp_proto::listing` otherwise. Never the "CWD into every
//! name" trick: one command per directory, by full path.

use ftp_proto::client::Client;
use ftp_proto::Entry;

/// How a directory was listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListingMethod {
    /// MLSD: exact UTC times and sizes.
    Mlsd,
    /// LIST parsed as `ls -l` or MS-DOS lines: approximate times.
    List,
}

/// Lists `path` (`None`: the login directory). Uses MLSD when FEAT offers
/// MLST and `try_mlsd` is set; when the server then refuses MLSD as unknown
/// (`500`/`502`) or unimplemented for the argument (`504`), falls back to
/// LIST. The method used is returned, so a caller can stop trying MLSD on a
/// server that refused it once.
pub fn list_dir(
    client: &mut Client,
    path: Option<&[u8]>,
    try_mlsd: bool,
) -> ftp_proto::Result<(Vec<Entry>, ListingMethod)> {
    let path = path.map(protect_dash);
    let path = path.as_deref();
    if try_mlsd && client.features()?.has("MLST") {
        match client.mlsd(path) {
            Ok(entries) => return Ok((entries, ListingMethod::Mlsd)),
            Err(e) if matches!(e.code(), Some(500 | 502 | 504)) && client.is_reusable() => {
                log::debug!("MLSD refused ({e}); using LIST");
            }
            Err(e) => return Err(e),
        }
    }
    let entries = client.list_entries(path)?;
    Ok((entries, ListingMethod::List))
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
