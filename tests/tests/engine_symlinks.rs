//! Symbolic links listed with LIST (`name -> target`, pyftpdlib without
//! MLSD): those whose target stays inside the mirror are made again with
//! the same target, the others are skipped with a warning and never
//! written, and an unchanged second run fetches nothing and keeps them.

mod engine_util;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use engine_util::*;
use ftp_mirror::events::Event;
use ftp_mirror::filter::Exclude;
use ftp_mirror::sync::SyncOptions;
use ftp_mirror_tests::pyftpd::PyFtpd;
use ftp_mirror_tests::tree::write_file;

/// The links that must be made: path, target.
const SAFE: &[(&str, &str)] = &[
    ("latest", "v2"),
    ("cur.txt", "v2/notes.txt"),
    ("sub/up", "../v1"),
];

/// The links that must be refused: path, target.
const HOSTILE: &[(&str, &str)] = &[
    ("abs", "/etc/passwd"),
    ("esc", "../../outside"),
    ("sub/esc2", "../../x"),
];

/// A server tree with two versions, the safe and the hostile links.
fn server_tree(root: &Path) {
    write_file(&root.join("v1/notes.txt"), b"version one\n");
    write_file(&root.join("v2/notes.txt"), b"version two, longer\n");
    write_file(&root.join("v2/data.bin"), &[7u8; 3000]);
    write_file(&root.join("sub/plain.txt"), b"a plain file\n");
    for (path, target) in SAFE.iter().chain(HOSTILE) {
        symlink(target, root.join(path)).unwrap();
    }
}

/// A LIST-only pyftpdlib on `root` and an anonymous pool of two sessions.
fn list_only_server(root: &Path) -> (PyFtpd, ftp_mirror::pool::Pool) {
    let server = PyFtpd::builder(root).no_mlst().start();
    let pool = pool(&server.host(), server.port(), "anonymous", "guest@", 2);
    (server, pool)
}

fn link_target(path: &Path) -> PathBuf {
    fs::read_link(path).unwrap_or_else(|e| panic!("{} is not a link: {e}", path.display()))
}

/// Every path below `root` (links not followed), sorted.
fn all_paths(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if fs::symlink_metadata(&path).unwrap().is_dir() {
                dirs.push(path.clone());
            }
            out.push(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
    out.sort();
    out
}

fn warnings(rec: &Recorder) -> Vec<String> {
    rec.all()
        .into_iter()
        .filter_map(|e| match e {
            Event::Warning { message } => Some(message),
            _ => None,
        })
        .collect()
}

fn assert_safe_links(dest: &Path) {
    for (path, target) in SAFE {
        assert_eq!(link_target(&dest.join(path)), Path::new(target), "{path}");
    }
    // They lead where they did on the server.
    assert_eq!(
        fs::read(dest.join("latest/notes.txt")).unwrap(),
        b"version two, longer\n"
    );
    assert_eq!(
        fs::read(dest.join("cur.txt")).unwrap(),
        b"version two, longer\n"
    );
    assert_eq!(
        fs::read(dest.join("sub/up/notes.txt")).unwrap(),
        b"version one\n"
    );
}

#[test]
fn safe_links_are_made_and_hostile_ones_refused() {
    let src = tempfile::tempdir().unwrap();
    server_tree(src.path());
    // `esc` and `sub/esc2` would land in `work` and `work/a` when followed
    // from `work/a/dest`: nothing may appear there.
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("a/dest");
    let (_server, pool) = list_only_server(src.path());

    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &options(&dest), rec.clone()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched, 4);
    assert_eq!(stats.links, 3, "{stats:?}");
    assert_safe_links(&dest);
    for (path, _) in HOSTILE {
        assert!(
            fs::symlink_metadata(dest.join(path)).is_err(),
            "{path} must not exist"
        );
    }
    // Each hostile link is reported, saying why.
    let warned = warnings(&rec);
    for ((path, target), why) in HOSTILE.iter().zip([
        "absolute target",
        "outside the mirror",
        "outside the mirror",
    ]) {
        assert_eq!(
            warned
                .iter()
                .filter(|w| w.contains(&format!("/{path} -> {target}")) && w.contains(why))
                .count(),
            1,
            "{path}: {warned:?}"
        );
    }
    // Nothing beside or above the destination.
    assert!(all_paths(work.path())
        .iter()
        .all(|p| p.starts_with("a/dest") || p == Path::new("a")));
    let mut want: Vec<PathBuf> = [
        "cur.txt",
        "latest",
        "sub",
        "sub/plain.txt",
        "sub/up",
        "v1",
        "v1/notes.txt",
        "v2",
        "v2/data.bin",
        "v2/notes.txt",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    want.sort();
    assert_eq!(all_paths(&dest), want);

    // Unchanged: nothing is fetched, the links stay as they are.
    let rec = Arc::new(Recorder::default());
    let again = sync(&pool, &options(&dest), rec.clone()).expect("second sync");
    assert!(again.failures.is_empty(), "{:?}", again.failures);
    assert_eq!(again.files_fetched, 0, "{:?}", rec.done());
    assert_eq!(again.files_unchanged, 4);
    assert_eq!(again.links, 3);
    assert_safe_links(&dest);
    assert_eq!(all_paths(&dest), want);
}

#[test]
fn links_replace_what_the_copy_holds_and_follow_the_server() {
    let src = tempfile::tempdir().unwrap();
    server_tree(src.path());
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("dest");
    let (_server, pool) = list_only_server(src.path());
    sync(&pool, &options(&dest), Arc::default()).expect("sync");

    // The server moves `latest`; locally `cur.txt` became a file, `sub/up`
    // a directory holding a file, and a link the server never had appeared.
    fs::remove_file(src.path().join("latest")).unwrap();
    symlink("v1", src.path().join("latest")).unwrap();
    let victim = work.path().join("victim.txt");
    fs::write(&victim, b"must stay").unwrap();
    fs::remove_file(dest.join("cur.txt")).unwrap();
    fs::write(dest.join("cur.txt"), b"not a link").unwrap();
    fs::remove_file(dest.join("sub/up")).unwrap();
    write_file(&dest.join("sub/up/inner.txt"), b"x");
    symlink(&victim, dest.join("stray")).unwrap();

    let stats = sync(&pool, &options(&dest), Arc::default()).expect("second sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.files_fetched, 0);
    assert_eq!(link_target(&dest.join("latest")), Path::new("v1"));
    assert_eq!(
        link_target(&dest.join("cur.txt")),
        Path::new("v2/notes.txt")
    );
    assert_eq!(link_target(&dest.join("sub/up")), Path::new("../v1"));
    assert!(fs::symlink_metadata(dest.join("stray")).is_err());
    assert_eq!(fs::read(&victim).unwrap(), b"must stay");
    assert_eq!(
        fs::read(src.path().join("v1/notes.txt")).unwrap(),
        b"version one\n"
    );
}

#[test]
fn exclude_patterns_apply_to_links_and_a_dry_run_writes_none() {
    let src = tempfile::tempdir().unwrap();
    server_tree(src.path());
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("dest");
    let (_server, pool) = list_only_server(src.path());

    let dry = SyncOptions {
        dry_run: true,
        ..options(&dest)
    };
    let stats = sync(&pool, &dry, Arc::default()).expect("dry run");
    assert_eq!(stats.links, 3);
    assert!(!dest.exists(), "a dry run writes nothing");

    let opts = SyncOptions {
        exclude: Exclude::new(["latest", "sub/up"]).unwrap(),
        ..options(&dest)
    };
    let rec = Arc::new(Recorder::default());
    let stats = sync(&pool, &opts, rec.clone()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!((stats.links, stats.excluded), (1, 2), "{stats:?}");
    assert_eq!(
        link_target(&dest.join("cur.txt")),
        Path::new("v2/notes.txt")
    );
    for gone in ["latest", "sub/up"] {
        assert!(fs::symlink_metadata(dest.join(gone)).is_err(), "{gone}");
    }
    assert_eq!(
        rec.count(|e| matches!(e, Event::Excluded { path, dir: false, .. } if path == "latest")),
        1
    );
}

/// Two links that each stay inside could lead out together if written as
/// listed: `l -> ../..` is the root, so `l/../../outside` taken after it
/// climbs above the root. The target is written folded instead.
#[test]
fn two_links_cannot_combine_to_lead_outside() {
    let src = tempfile::tempdir().unwrap();
    write_file(&src.path().join("deep/deeper/f.txt"), b"f");
    symlink("../..", src.path().join("deep/deeper/l")).unwrap();
    symlink("l/../../outside", src.path().join("deep/deeper/m")).unwrap();
    let work = tempfile::tempdir().unwrap();
    write_file(&work.path().join("outside/secret.txt"), b"secret");
    let dest = work.path().join("a/dest");
    let (_server, pool) = list_only_server(src.path());

    let stats = sync(&pool, &options(&dest), Arc::default()).expect("sync");
    assert!(stats.failures.is_empty(), "{:?}", stats.failures);
    assert_eq!(stats.links, 2);
    let deeper = dest.join("deep/deeper");
    assert_eq!(link_target(&deeper.join("l")), Path::new("../.."));
    assert_eq!(link_target(&deeper.join("m")), Path::new("../outside"));
    assert_eq!(fs::read(deeper.join("l/deep/deeper/f.txt")).unwrap(), b"f");
    assert!(fs::read(deeper.join("m/secret.txt")).is_err());
    assert!(fs::read(work.path().join("outside/secret.txt")).is_ok());
}
