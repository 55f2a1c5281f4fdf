//! Staging, swapping and backup rotation on temporary directories.

use std::fs;
use std::path::Path;

use super::*;

/// Builds a new copy holding `version` and commits it.
fn run_version(stage: &Stage, version: &str) -> Committed {
    stage.prepare().unwrap();
    fs::write(stage.new_dir().join("version"), version).unwrap();
    fs::create_dir_all(stage.new_dir().join("sub")).unwrap();
    fs::write(
        stage.new_dir().join("sub/data"),
        format!("data of {version}"),
    )
    .unwrap();
    stage.commit().unwrap()
}

fn version_at(dir: &Path) -> Option<String> {
    fs::read_to_string(dir.join("version")).ok()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn at(secs: u64) -> std::time::SystemTime {
    std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

fn mtime(path: &Path) -> std::time::SystemTime {
    fs::symlink_metadata(path).unwrap().modified().unwrap()
}

fn stage_with(root: &Path, keep: Option<KeepHistory>) -> Stage {
    let backup = keep.map(|keep| BackupPolicy {
        dir: root.join("backup"),
        keep,
    });
    Stage::new(root.join("stage/pub"), backup).unwrap()
}

#[test]
fn paths_are_hidden_siblings() {
    let stage = Stage::new("/srv/stage/nightly", None).unwrap();
    assert_eq!(stage.current(), Path::new("/srv/stage/nightly"));
    assert_eq!(
        stage.new_dir(),
        Path::new("/srv/stage/.nightly.ftp-mirror-new")
    );
    assert_eq!(stage.leaf(), "nightly");
    assert!(Stage::new("/", None).is_none());
    assert_eq!(backup_name(OsStr::new("pub"), 0), "pub");
    assert_eq!(backup_name(OsStr::new("pub"), 2), "pub.2");
}

#[test]
fn first_commit_installs_and_later_ones_replace() {
    let root = tempfile::tempdir().unwrap();
    let stage = stage_with(root.path(), None);
    assert_eq!(stage.previous(), None);
    let first = run_version(&stage, "v1");
    assert_eq!(first.swapped, Swapped::Installed);
    assert_eq!(version_at(stage.current()).as_deref(), Some("v1"));
    assert_eq!(stage.previous(), Some(stage.current()));
    let second = run_version(&stage, "v2");
    assert!(matches!(
        second.swapped,
        Swapped::Exchanged | Swapped::Renamed
    ));
    assert_eq!(second.backup, None);
    assert_eq!(version_at(stage.current()).as_deref(), Some("v2"));
    assert_eq!(
        fs::read_to_string(stage.current().join("sub/data")).unwrap(),
        "data of v2"
    );
    // Only the current copy is left: no new, old or backup directories.
    assert_eq!(names(&root.path().join("stage")), vec!["pub"]);
    assert!(!root.path().join("backup").exists());
}

#[test]
fn keep_history_no_keeps_exactly_one_backup() {
    let root = tempfile::tempdir().unwrap();
    let stage = stage_with(root.path(), Some(KeepHistory::No));
    for v in ["v1", "v2", "v3"] {
        run_version(&stage, v);
    }
    let backup = root.path().join("backup");
    assert_eq!(names(&backup), vec!["pub"]);
    assert_eq!(version_at(&backup.join("pub")).as_deref(), Some("v2"));
    assert_eq!(version_at(stage.current()).as_deref(), Some("v3"));
}

#[test]
fn keep_history_two_rotates_two_copies() {
    let root = tempfile::tempdir().unwrap();
    let stage = stage_with(root.path(), Some(KeepHistory::Last(2)));
    let mut last = None;
    for v in ["v1", "v2", "v3", "v4"] {
        last = run_version(&stage, v).backup;
    }
    let backup = root.path().join("backup");
    assert_eq!(last, Some(backup.join("pub")));
    assert_eq!(names(&backup), vec!["pub", "pub.1"]);
    assert_eq!(version_at(&backup.join("pub")).as_deref(), Some("v3"));
    assert_eq!(version_at(&backup.join("pub.1")).as_deref(), Some("v2"));
}

#[test]
fn keep_history_three_rotates_three_copies() {
    let root = tempfile::tempdir().unwrap();
    let stage = stage_with(root.path(), Some(KeepHistory::Last(3)));
    let backup = root.path().join("backup");
    run_version(&stage, "v1");
    run_version(&stage, "v2");
    assert_eq!(names(&backup), vec!["pub"]);
    run_version(&stage, "v3");
    assert_eq!(names(&backup), vec!["pub", "pub.1"]);
    for v in ["v4", "v5", "v6"] {
        run_version(&stage, v);
    }
    assert_eq!(names(&backup), vec!["pub", "pub.1", "pub.2"]);
    let versions: Vec<_> = ["pub", "pub.1", "pub.2"]
        .iter()
        .map(|n| version_at(&backup.join(n)).unwrap())
        .collect();
    assert_eq!(versions, ["v5", "v4", "v3"]);
    assert_eq!(version_at(stage.current()).as_deref(), Some("v6"));
}

#[test]
fn keep_history_yes_keeps_everything() {
    let root = tempfile::tempdir().unwrap();
    let stage = stage_with(root.path(), Some(KeepHistory::All));
    for v in ["v1", "v2", "v3", "v4", "v5"] {
        run_version(&stage, v);
    }
    let backup = root.path().join("backup");
    assert_eq!(names(&backup), vec!["pub", "pub.1", "pub.2", "pub.3"]);
    let versions: Vec<_> = ["pub", "pub.1", "pub.2", "pub.3"]
        .iter()
        .map(|n| version_at(&backup.join(n)).unwrap())
        .collect();
    assert_eq!(versions, ["v4", "v3", "v2", "v1"]);
}

#[test]
fn lowering_the_limit_drops_the_excess_and_ignores_strangers() {
    let root = tempfile::tempdir().unwrap();
    let backup = root.path().join("backup");
    for name in [
        "pub", "pub.1", "pub.2", "pub.4", "pub.01", "pub.x", "public.1",
    ] {
        fs::create_dir_all(backup.join(name)).unwrap();
        fs::write(backup.join(name).join("version"), name).unwrap();
    }
    rotate(&backup, OsStr::new("pub"), KeepHistory::Last(2)).unwrap();
    assert_eq!(names(&backup), vec!["pub.01", "pub.1", "pub.x", "public.1"]);
    assert_eq!(version_at(&backup.join("pub.1")).as_deref(), Some("pub"));
}

#[test]
fn rotation_tolerates_gaps() {
    let root = tempfile::tempdir().unwrap();
    let backup = root.path().join("backup");
    for name in ["pub", "pub.2"] {
        fs::create_dir_all(backup.join(name)).unwrap();
        fs::write(backup.join(name).join("version"), name).unwrap();
    }
    rotate(&backup, OsStr::new("pub"), KeepHistory::All).unwrap();
    assert_eq!(names(&backup), vec!["pub.1", "pub.3"]);
    // With an empty newest slot nothing moves.
    rotate(&backup, OsStr::new("pub"), KeepHistory::All).unwrap();
    assert_eq!(names(&backup), vec!["pub.1", "pub.3"]);
}

#[test]
fn unfinished_new_copy_is_kept_and_current_untouched() {
    let root = tempfile::tempdir().unwrap();
    let stage = stage_with(root.path(), Some(KeepHistory::No));
    run_version(&stage, "v1");
    // A run that fails: the new copy is half built and never committed.
    stage.prepare().unwrap();
    fs::write(stage.new_dir().join("big.iso.part"), "half").unwrap();
    assert_eq!(version_at(stage.current()).as_deref(), Some("v1"));
    // The next run finds the partial file again.
    stage.prepare().unwrap();
    assert_eq!(
        fs::read_to_string(stage.new_dir().join("big.iso.part")).unwrap(),
        "half"
    );
    assert_eq!(version_at(stage.current()).as_deref(), Some("v1"));
    assert!(!root.path().join("backup").exists());
}

#[test]
fn recover_puts_back_a_copy_lost_between_two_renames() {
    let root = tempfile::tempdir().unwrap();
    let stage = stage_with(root.path(), None);
    run_version(&stage, "v1");
    stage.prepare().unwrap();
    fs::write(stage.new_dir().join("version"), "v2").unwrap();
    // Simulate a crash after "current -> old" and before "new -> current".
    let old = sibling(stage.current(), "old").unwrap();
    fs::rename(stage.current(), &old).unwrap();
    assert!(stage.recover().unwrap());
    assert_eq!(version_at(stage.current()).as_deref(), Some("v1"));
    assert_eq!(version_at(stage.new_dir()).as_deref(), Some("v2"));
    assert!(!old.exists());
    assert!(!stage.recover().unwrap());
}

#[test]
fn recover_finishes_an_interrupted_backup() {
    let root = tempfile::tempdir().unwrap();
    let stage = stage_with(root.path(), Some(KeepHistory::Last(3)));
    run_version(&stage, "v1");
    run_version(&stage, "v2");
    // Simulate a crash after the swap (v3 in place, v2 parked) during a
    // cross-device backup copy (a partial temporary copy is there).
    let old = sibling(stage.current(), "old").unwrap();
    fs::rename(stage.current(), &old).unwrap();
    fs::create_dir_all(stage.current()).unwrap();
    fs::write(stage.current().join("version"), "v3").unwrap();
    let tmp = root.path().join("backup/.pub.ftp-mirror-tmp");
    fs::create_dir_all(&tmp).unwrap();
    fs::write(tmp.join("version"), "partial").unwrap();
    stage.prepare().unwrap();
    let backup = root.path().join("backup");
    assert_eq!(names(&backup), vec!["pub", "pub.1"]);
    assert_eq!(version_at(&backup.join("pub")).as_deref(), Some("v2"));
    assert_eq!(version_at(&backup.join("pub.1")).as_deref(), Some("v1"));
    assert_eq!(version_at(stage.current()).as_deref(), Some("v3"));
    assert!(!old.exists());
}

#[test]
fn a_file_in_the_way_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let stage = stage_with(root.path(), None);
    fs::create_dir_all(root.path().join("stage")).unwrap();
    fs::write(stage.current(), "not a dir").unwrap();
    let err = stage.prepare().unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
}

#[test]
fn swap_refuses_a_leftover_old_copy() {
    let root = tempfile::tempdir().unwrap();
    let (new, current, old) = (
        root.path().join("n"),
        root.path().join("c"),
        root.path().join("o"),
    );
    for dir in [&new, &current, &old] {
        fs::create_dir(dir).unwrap();
    }
    assert!(swap_in(&new, &current, &old).is_err());
    assert!(new.exists() && current.exists());
}

#[test]
fn exchange_swaps_two_directories() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    fs::create_dir(&a).unwrap();
    fs::create_dir(&b).unwrap();
    fs::write(a.join("version"), "a").unwrap();
    fs::write(b.join("version"), "b").unwrap();
    if exchange(&a, &b).unwrap() {
        assert_eq!(version_at(&a).as_deref(), Some("b"));
        assert_eq!(version_at(&b).as_deref(), Some("a"));
    } else {
        // Not supported on this system: nothing may have moved.
        assert_eq!(version_at(&a).as_deref(), Some("a"));
    }
}

#[test]
fn copy_tree_keeps_contents_times_and_links() {
    let root = tempfile::tempdir().unwrap();
    let src = root.path().join("src");
    fs::create_dir_all(src.join("a/b")).unwrap();
    fs::write(src.join("a/b/file"), "content").unwrap();
    fs::write(src.join("empty"), "").unwrap();
    let when = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(src.join("a/b/file"))
        .unwrap()
        .set_modified(when)
        .unwrap();
    let (a_time, b_time) = (at(900_000_000), at(800_000_000));
    set_dir_mtime(&src.join("a/b"), b_time).unwrap();
    set_dir_mtime(&src.join("a"), a_time).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("a/b/file", src.join("link")).unwrap();
    let dst = root.path().join("dst");
    let stats = copy_tree(&src, &dst).unwrap();
    assert_eq!((stats.files, stats.bytes, stats.dirs), (2, 7, 3));
    assert_eq!(mtime(&dst.join("a")), a_time);
    assert_eq!(mtime(&dst.join("a/b")), b_time);
    assert_eq!(fs::read_to_string(dst.join("a/b/file")).unwrap(), "content");
    assert_eq!(
        fs::metadata(dst.join("a/b/file"))
            .unwrap()
            .modified()
            .unwrap(),
        when
    );
    assert_eq!(fs::metadata(dst.join("empty")).unwrap().len(), 0);
    #[cfg(unix)]
    assert_eq!(
        fs::read_link(dst.join("link")).unwrap(),
        Path::new("a/b/file")
    );
}

#[test]
fn second_lock_is_refused_until_the_first_is_dropped() {
    let root = tempfile::tempdir().unwrap();
    let stage = stage_with(root.path(), None);
    let first = stage.lock().unwrap().expect("first lock");
    assert!(stage.lock().unwrap().is_none());
    drop(first);
    assert!(stage.lock().unwrap().is_some());
}

#[test]
fn backup_by_copy_replaces_a_half_copied_leftover() {
    let root = tempfile::tempdir().unwrap();
    let (old, backup) = (
        root.path().join("stage/.pub.ftp-mirror-old"),
        root.path().join("backup"),
    );
    fs::create_dir_all(old.join("sub")).unwrap();
    fs::write(old.join("version"), "v1").unwrap();
    fs::write(old.join("sub/data"), "data").unwrap();
    fs::create_dir_all(backup.join(".pub.ftp-mirror-tmp")).unwrap();
    fs::write(backup.join(".pub.ftp-mirror-tmp/junk"), "partial").unwrap();
    let stored = rotate::store_by_copy(&old, &backup, OsStr::new("pub")).unwrap();
    assert_eq!(stored, backup.join("pub"));
    assert_eq!(names(&backup), vec!["pub"]);
    assert_eq!(version_at(&stored).as_deref(), Some("v1"));
    assert_eq!(fs::read_to_string(stored.join("sub/data")).unwrap(), "data");
    assert!(!old.exists());
}

/// With the backup directory on another file system (/dev/shm, when it is
/// one), the whole commit goes through the copying path; elsewhere the
/// same steps run with renames.
#[cfg(target_os = "linux")]
#[test]
fn backup_on_another_file_system_is_copied() {
    use std::os::unix::fs::MetadataExt;
    let root = tempfile::tempdir().unwrap();
    let shm = Path::new("/dev/shm");
    let other = match fs::metadata(shm) {
        Ok(meta) if meta.dev() != fs::metadata(root.path()).unwrap().dev() => {
            tempfile::tempdir_in(shm).ok()
        }
        _ => None,
    };
    let backup_dir = other
        .as_ref()
        .map_or_else(|| root.path().join("backup"), |d| d.path().join("backup"));
    let stage = Stage::new(
        root.path().join("stage/pub"),
        Some(BackupPolicy {
            dir: backup_dir.clone(),
            keep: KeepHistory::Last(2),
        }),
    )
    .unwrap();
    for v in ["v1", "v2", "v3"] {
        run_version(&stage, v);
    }
    assert_eq!(names(&backup_dir), vec!["pub", "pub.1"]);
    assert_eq!(version_at(&backup_dir.join("pub")).as_deref(), Some("v2"));
    assert_eq!(version_at(&backup_dir.join("pub.1")).as_deref(), Some("v1"));
    assert_eq!(names(&root.path().join("stage")), vec!["pub"]);
}

/// Directory times alone are no reason to swap: the current copy stays
/// (no backup) and takes the new copy's directory times in place.
#[test]
fn unchanged_content_with_new_directory_times_is_not_swapped() {
    let root = tempfile::tempdir().unwrap();
    let stage = stage_with(root.path(), Some(KeepHistory::Last(2)));
    run_version(&stage, "v1");
    set_dir_mtime(&stage.current().join("sub"), at(1_000)).unwrap();
    let copy_of_current = |stage: &Stage| {
        stage.prepare().unwrap();
        copy_tree(stage.current(), &root.path().join("scratch")).unwrap();
        fs::remove_dir(stage.new_dir()).unwrap();
        fs::rename(root.path().join("scratch"), stage.new_dir()).unwrap();
    };

    copy_of_current(&stage);
    assert_eq!(mtime(&stage.new_dir().join("sub")), at(1_000));
    assert!(stage.discard_if_unchanged().unwrap());
    assert!(!stage.new_dir().exists());

    copy_of_current(&stage);
    set_dir_mtime(&stage.new_dir().join("sub"), at(2_000)).unwrap();
    let root_time = mtime(stage.current());
    assert!(
        stage.discard_if_unchanged().unwrap(),
        "only a directory time"
    );
    assert_eq!(mtime(&stage.current().join("sub")), at(2_000));
    assert_eq!(mtime(stage.current()), root_time);
    assert!(names(&root.path().join("backup")).is_empty(), "no backup");

    copy_of_current(&stage);
    fs::write(stage.new_dir().join("sub/more"), "x").unwrap();
    assert!(!stage.discard_if_unchanged().unwrap(), "a new file");
}
