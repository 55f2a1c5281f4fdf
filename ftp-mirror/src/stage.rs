//! Staging and backups for one module.
//!
//! The current copy lives at `stage_location/<leaf>`. A run builds the new
//! copy beside it, in the hidden sibling `stage_location/.<leaf>.ftp-mirror-new`
//! (see [`Stage::new_dir`]). That directory is kept when a run fails or is
//! interrupted, so the next run resumes from it: complete files are reused
//! and `.part` files are resumed. The current copy is not touched until the
//! new one is complete.
//!
//! [`Stage::commit`] then swaps the new copy in whole. On Linux the two
//! directories are exchanged in one `renameat2(RENAME_EXCHANGE)` call, so the
//! current path always names a complete copy. Where that call is not
//! available (another OS, or a file system without it) two renames are used:
//! current → `.<leaf>.ftp-mirror-old`, then new → current; between them (a
//! few microseconds) the current path does not exist. If the process dies in
//! that window, [`Stage::recover`] (run by [`Stage::prepare`]) puts the old
//! copy back.
//!
//! The replaced copy is then parked at `.<leaf>.ftp-mirror-old` and either
//! moved to the backup directory (`keep_original`, rotated as
//! [`KeepHistory`] says, see [`rotate`]) or deleted. A backup directory on
//! another file system is filled by copying into
//! `backup_location/.<leaf>.ftp-mirror-tmp` and renaming. Should the process
//! die during that, the next [`Stage::recover`] finishes the job.

mod copy;
mod lock;
mod rotate;
mod same;
mod swap;

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};

pub(crate) use copy::warn_dir_times;
pub use copy::{copy_dir_times, copy_file, copy_tree, set_dir_mtime, CopyStats};
pub use lock::StageLock;
pub use rotate::{backup_name, rotate};
pub(crate) use same::same_state;
pub use swap::{exchange, swap_in, Swapped};

use crate::plan::{KeepHistory, Module};

/// Where earlier copies go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupPolicy {
    /// `backup_location`.
    pub dir: PathBuf,
    /// How many copies to keep.
    pub keep: KeepHistory,
}

/// The staging directories of one module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    current: PathBuf,
    new: PathBuf,
    old: PathBuf,
    leaf: OsString,
    backup: Option<BackupPolicy>,
}

/// What [`Stage::commit`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// How the new copy was put in place.
    pub swapped: Swapped,
    /// Where the replaced copy went, when it was kept.
    pub backup: Option<PathBuf>,
}

/// A staging step that failed, with the paths involved.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {source}", path.display())]
pub struct StageError {
    /// What was being done ("create", "swap in", "back up", …).
    pub action: &'static str,
    /// The path it was done to.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: io::Error,
}

impl StageError {
    pub(crate) fn new(action: &'static str, path: &Path, source: io::Error) -> StageError {
        StageError {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The hidden sibling of `dir` with this suffix: `parent/.<name>.ftp-mirror-<suffix>`.
/// When that name would be longer than file systems allow (255 bytes), it
/// is `parent/.ftp-mirror-<hash of name>-<suffix>` instead: the same name
/// every time, so a later run finds what an earlier one left. `None` when
/// `dir` has no final name (`/`, `..`).
///
/// ```
/// use ftp_mirror::stage::sibling;
/// use std::path::Path;
///
/// assert_eq!(
///     sibling(Path::new("/m/pub"), "new").unwrap(),
///     Path::new("/m/.pub.ftp-mirror-new")
/// );
/// let long = format!("/m/{}", "x".repeat(255));
/// let part = sibling(Path::new(&long), "part").unwrap();
/// assert!(part.file_name().unwrap().len() <= 255);
/// assert_eq!(part, sibling(Path::new(&long), "part").unwrap());
/// ```
pub fn sibling(dir: &Path, suffix: &str) -> Option<PathBuf> {
    const NAME_MAX: usize = 255;
    const INFIX: &str = ".ftp-mirror-";
    let name = dir.file_name()?;
    let mut hidden = OsString::from(".");
    if 1 + name.len() + INFIX.len() + suffix.len() <= NAME_MAX {
        hidden.push(name);
        hidden.push(INFIX);
    } else {
        let hash = crate::fetch::fnv1a(name.as_encoded_bytes());
        hidden.push(format!("ftp-mirror-{hash:016x}-"));
    }
    hidden.push(suffix);
    Some(dir.with_file_name(hidden))
}

impl Stage {
    /// The stage for a current copy at `current`, with an optional backup
    /// policy. `None` when `current` has no final name component.
    pub fn new(current: impl Into<PathBuf>, backup: Option<BackupPolicy>) -> Option<Stage> {
        let current = current.into();
        Some(Stage {
            new: sibling(&current, "new")?,
            old: sibling(&current, "old")?,
            leaf: current.file_name()?.to_os_string(),
            current,
            backup,
        })
    }

    /// The stage of a plan module: `stage_location/<leaf>`, with a backup
    /// policy when `keep_original="yes"`.
    pub fn for_module(module: &Module) -> Stage {
        let backup = match (&module.backup_location, module.keep_original) {
            (Some(dir), true) => Some(BackupPolicy {
                dir: dir.clone(),
                keep: module.keep_history,
            }),
            _ => None,
        };
        // A plan module always has a leaf (the plan checks it), so `new`
        // cannot fail; build the paths directly all the same.
        let current = module.local_dir();
        let leaf = OsString::from(module.leaf());
        let named = |suffix: &str| {
            module
                .stage_location
                .join(format!(".{}.ftp-mirror-{suffix}", module.leaf()))
        };
        Stage {
            new: named("new"),
            old: named("old"),
            current,
            leaf,
            backup,
        }
    }

    /// The current copy's path (it may not exist yet).
    pub fn current(&self) -> &Path {
        &self.current
    }

    /// The directory the new copy is built in.
    pub fn new_dir(&self) -> &Path {
        &self.new
    }

    /// The directory name used in the stage and the backup directory.
    pub fn leaf(&self) -> &OsStr {
        &self.leaf
    }

    /// The backup policy, if earlier copies are kept.
    pub fn backup(&self) -> Option<&BackupPolicy> {
        self.backup.as_ref()
    }

    /// The current copy, if there is one (to reuse unchanged files from).
    pub fn previous(&self) -> Option<&Path> {
        self.current.is_dir().then_some(self.current.as_path())
    }

    /// Takes the lock that keeps two runs from using this stage at once.
    /// `Ok(None)`: another process holds it.
    pub fn lock(&self) -> Result<Option<StageLock>, StageError> {
        let parent = self.current.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| StageError::new("create", parent, e))?;
        let path =
            sibling(&self.current, "lock").unwrap_or_else(|| self.current.with_extension("lock"));
        StageLock::try_acquire(&path).map_err(|e| StageError::new("lock", &path, e))
    }

    /// Finishes a commit an earlier process did not finish, then makes sure
    /// the new-copy directory exists (keeping what it already holds).
    pub fn prepare(&self) -> Result<(), StageError> {
        self.recover()?;
        if let Ok(meta) = std::fs::symlink_metadata(&self.current) {
            if !meta.is_dir() {
                return Err(StageError::new(
                    "use",
                    &self.current,
                    io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        "exists and is not a directory",
                    ),
                ));
            }
        }
        std::fs::create_dir_all(&self.new).map_err(|e| StageError::new("create", &self.new, e))
    }

    /// Repairs what an interrupted [`commit`](Stage::commit) left: the old
    /// copy is put back when the current path is missing, or disposed of
    /// (backed up or deleted) when the swap had happened; half-written backup
    /// files are removed. Returns whether anything was repaired.
    pub fn recover(&self) -> Result<bool, StageError> {
        let mut repaired = false;
        if let Some(policy) = &self.backup {
            repaired |= rotate::clean_leftovers(&policy.dir, &self.leaf)?;
        }
        if std::fs::symlink_metadata(&self.old).is_ok() {
            repaired = true;
            if std::fs::symlink_metadata(&self.current).is_err() {
                log::warn!(
                    "putting back {} left by an interrupted swap",
                    self.current.display()
                );
                std::fs::rename(&self.old, &self.current)
                    .map_err(|e| StageError::new("restore", &self.current, e))?;
            } else {
                log::warn!(
                    "finishing the disposal of {} left by an interrupted run",
                    self.old.display()
                );
                self.dispose_old()?;
            }
        }
        Ok(repaired)
    }

    /// Swaps the complete new copy in and disposes of the replaced one.
    /// The new-copy directory no longer exists afterwards.
    pub fn commit(&self) -> Result<Committed, StageError> {
        self.recover()?;
        let swapped = swap_in(&self.new, &self.current, &self.old)?;
        let backup = match swapped {
            Swapped::Installed => None,
            Swapped::Exchanged | Swapped::Renamed => self.dispose_old()?,
        };
        Ok(Committed { swapped, backup })
    }

    /// When the new copy holds exactly what the current one holds (same
    /// paths, sizes and file times), deletes the new copy and returns
    /// `true`: the current copy stays and no backup is rotated, so an
    /// unchanged run never pushes a real older copy out of the history.
    ///
    /// Directory times alone are not a change worth a swap (see
    /// `stage/same.rs`): when only they differ, the current copy's directories
    /// are given the new copy's times in place (a time that cannot be set
    /// is logged) before the new copy is deleted. That is the one change
    /// ever made inside a current copy; it touches no file and no name.
    pub fn discard_if_unchanged(&self) -> Result<bool, StageError> {
        if !self.current.is_dir() || !self.new.is_dir() {
            return Ok(false);
        }
        let same = same::same_tree(&self.new, &self.current)
            .map_err(|e| StageError::new("compare", &self.new, e))?;
        if same {
            copy::warn_dir_times(&copy::copy_dir_times(&self.new, &self.current));
            std::fs::remove_dir_all(&self.new)
                .map_err(|e| StageError::new("remove", &self.new, e))?;
        }
        Ok(same)
    }

    /// Moves `.<leaf>.ftp-mirror-old` to the backups, or deletes it.
    fn dispose_old(&self) -> Result<Option<PathBuf>, StageError> {
        match &self.backup {
            Some(policy) => {
                rotate::store(&self.old, &policy.dir, &self.leaf, policy.keep).map(Some)
            }
            None => {
                std::fs::remove_dir_all(&self.old)
                    .map_err(|e| StageError::new("remove", &self.old, e))?;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests;
