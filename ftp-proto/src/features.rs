//! The FEAT reply (RFC 2389), parsed.

use crate::reply::Reply;

/// What a server said it supports in its FEAT reply.
///
/// ```
/// use ftp_proto::{Features, reply::Reply};
///
/// let reply = Reply::new(
///     ftp_proto::reply::ReplyCode::new(211).unwrap(),
///     vec![b"Features:".to_vec(), b" MLST type*;size*;modify*;".to_vec(),
///          b" EPSV".to_vec(), b" UTF8".to_vec(), b" REST STREAM".to_vec(), b"End".to_vec()],
/// );
/// let f = Features::from_reply(&reply);
/// assert!(f.has("mlst") && f.has("EPSV") && f.has("UTF8"));
/// assert_eq!(f.params("REST"), Some("STREAM"));
/// assert!(f.rest_stream());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// `(NAME, parameters)`, names upper-cased.
    entries: Vec<(String, String)>,
}

impl Features {
    /// Reads the feature lines of a `211` FEAT reply (the lines between the
    /// first and the last; each starts with a space).
    pub fn from_reply(reply: &Reply) -> Features {
        let lines = reply.lines();
        let inner = if lines.len() >= 2 {
            &lines[1..lines.len() - 1]
        } else {
            &[][..]
        };
        let entries = inner
            .iter()
            .filter_map(|l| {
                let l = String::from_utf8_lossy(l);
                let l = l.trim();
                if l.is_empty() {
                    return None;
                }
                let (name, params) = l.split_once(' ').unwrap_or((l, ""));
                Some((name.to_ascii_uppercase(), params.trim().to_string()))
            })
            .collect();
        Features { entries }
    }

    /// Whether the feature `name` (any case) was listed.
    pub fn has(&self, name: &str) -> bool {
        self.params(name).is_some()
    }

    /// The parameters listed after feature `name`.
    pub fn params(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, p)| p.as_str())
    }

    /// Whether `REST STREAM` (restart of stream-mode transfers) is offered.
    pub fn rest_stream(&self) -> bool {
        self.params("REST")
            .is_some_and(|p| p.eq_ignore_ascii_case("STREAM"))
    }

    /// Every feature name, upper-cased.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }
}
