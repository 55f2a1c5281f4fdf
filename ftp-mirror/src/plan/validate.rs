//! Checks across modules and machines: unique names and directories that
//! cannot step on each other.

use std::path::{Component, Path, PathBuf};

use super::{Plan, PlanError};

/// Fails on the first conflict: a duplicate id, an alias that clashes with
/// another id or alias, or two of the directories a run replaces whole
/// (module local directories, backup directories, destinations) that are
/// the same or where one lies inside the other.
pub(super) fn check(plan: &Plan) -> Result<(), PlanError> {
    names(plan)?;
    directories(plan)
}

/// Warnings for modules that log in to the same server as the same user
/// with different passwords: they share one session pool, which logs in
/// with the first module's password.
pub(super) fn shared_logins(plan: &Plan) -> Vec<String> {
    let mut warnings = Vec::new();
    for (i, later) in plan.modules.iter().enumerate() {
        let a = &later.server;
        if let Some(first) = plan.modules[..i].iter().find(|m| {
            m.server.host.eq_ignore_ascii_case(&a.host)
                && m.server.port == a.port
                && m.server.user == a.user
        }) {
            if first.server.password != a.password {
                warnings.push(format!(
                    "line {}: module {} logs in to {}:{} as {} with another password than module {} (line {}); \
                     the modules share one session pool, which uses module {}'s password",
                    later.line, later.id, a.host, a.port, a.user, first.id, first.line, first.id
                ));
            }
        }
    }
    warnings
}

fn names(plan: &Plan) -> Result<(), PlanError> {
    // (name, module index, is an alias)
    let mut seen: Vec<(&str, usize, bool)> = Vec::new();
    for (index, module) in plan.modules.iter().enumerate() {
        let own = std::iter::once((module.id.as_str(), false))
            .chain(module.aliases.iter().map(|a| (a.as_str(), true)));
        for (name, is_alias) in own {
            if let Some(&(_, other, other_alias)) = seen.iter().find(|(n, _, _)| *n == name) {
                if other == index {
                    continue; // an alias repeating the module's own name is harmless
                }
                let other = &plan.modules[other];
                let message = match (is_alias, other_alias) {
                    (false, false) => format!(
                        "module id {name:?} is used twice (also on line {})",
                        other.line
                    ),
                    (true, false) => format!(
                        "alias {name:?} of module {} is the id of another module (line {})",
                        module.id, other.line
                    ),
                    (false, true) => format!(
                        "module id {name:?} is already an alias of module {} (line {})",
                        other.id, other.line
                    ),
                    (true, true) => format!(
                        "alias {name:?} of module {} is also an alias of module {} (line {})",
                        module.id, other.id, other.line
                    ),
                };
                return Err(PlanError::Invalid {
                    line: module.line,
                    message,
                });
            }
            seen.push((name, index, is_alias));
        }
    }
    Ok(())
}

fn directories(plan: &Plan) -> Result<(), PlanError> {
    // (normalized path, what uses it, line)
    let mut used: Vec<(PathBuf, String, u32)> = Vec::new();
    let mut claim = |path: &Path, what: String, line: u32| -> Result<(), PlanError> {
        let path = normalize(path);
        // Each of these directories is replaced whole by a swap, so none may
        // hold another: swapping the outer one would delete the inner one.
        let clash = used
            .iter()
            .find(|(p, _, _)| path.starts_with(p) || p.starts_with(&path));
        if let Some((other_path, other, other_line)) = clash {
            let relation = if *other_path == path {
                "which is also"
            } else if path.starts_with(other_path) {
                "inside"
            } else {
                "which holds"
            };
            return Err(PlanError::Invalid {
                line,
                message: format!(
                    "{what} is {} {relation} {other} ({}, line {other_line}); \
                     each is replaced whole, so they must not overlap",
                    path.display(),
                    other_path.display()
                ),
            });
        }
        used.push((path, what, line));
        Ok(())
    };
    for module in &plan.modules {
        claim(
            &module.local_dir(),
            format!("the local directory of module {}", module.id),
            module.line,
        )?;
    }
    for module in &plan.modules {
        if let (true, Some(backup)) = (module.keep_original, &module.backup_location) {
            claim(
                &backup.join(module.leaf()),
                format!("the backup directory of module {}", module.id),
                module.line,
            )?;
        }
    }
    for machine in &plan.machines {
        for d in &machine.distributions {
            claim(
                &d.local_location,
                format!(
                    "the destination of module {} on machine {}",
                    d.module, machine.name
                ),
                d.line,
            )?;
        }
    }
    Ok(())
}

/// Lexical normalization: drops `.` and trailing separators, folds `..`.
/// The file system is not consulted (the directories may not exist yet).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}
