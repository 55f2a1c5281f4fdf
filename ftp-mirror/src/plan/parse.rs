//! From XML text to a [`Plan`]: walks the known structure, collects warnings
//! for everything it does not know and fails on what is missing or wrong.

use std::path::PathBuf;
use std::time::Duration;

use roxmltree::{Document, Node, ParsingOptions};

use super::{
    base64, leaf_of, Distribution, KeepHistory, LogLevel, Machine, Module, Password, Plan,
    PlanError, Server, Settings, MAX_BUFFER_KIB, MAX_NUM_CONNECTION,
};

/// Parses the plan text; does not yet check cross-module conflicts.
pub(super) fn parse(text: &str) -> Result<Plan, PlanError> {
    let options = ParsingOptions {
        allow_dtd: true,
        ..ParsingOptions::default()
    };
    let doc =
        Document::parse_with_options(text, options).map_err(|e| PlanError::Xml(e.to_string()))?;
    let mut parser = Parser {
        doc: &doc,
        warnings: Vec::new(),
    };
    parser.plan()
}

/// The walk's state: the document (for line numbers) and the warnings so far.
struct Parser<'a, 'input> {
    doc: &'a Document<'input>,
    warnings: Vec<String>,
}

impl<'a, 'input> Parser<'a, 'input> {
    fn plan(&mut self) -> Result<Plan, PlanError> {
        let root = self.doc.root_element();
        if name(root) != "download" {
            return Err(self.invalid(
                root,
                format!("the root element is <{}>, expected <download>", name(root)),
            ));
        }
        self.attributes(root, &[]);
        let mut settings = None;
        let mut module_list = None;
        let mut machine_list = None;
        for child in self.children(root, &["config_list", "module_list", "machine_list"]) {
            let slot = match name(child) {
                "config_list" => &mut settings,
                "module_list" => &mut module_list,
                _ => &mut machine_list,
            };
            self.once(slot, child)?;
        }
        let settings = match settings {
            Some(list) => self.settings(list)?,
            None => Settings::default(),
        };
        let Some(module_list) = module_list else {
            return Err(self.invalid(root, "<download> has no <module_list>".into()));
        };
        self.attributes(module_list, &[]);
        let mut modules = Vec::new();
        for node in self.children(module_list, &["module"]) {
            modules.push(self.module(node)?);
        }
        if modules.is_empty() {
            return Err(self.invalid(module_list, "<module_list> has no <module>".into()));
        }
        let mut machines = Vec::new();
        if let Some(list) = machine_list {
            self.attributes(list, &[]);
            for node in self.children(list, &["machine"]) {
                machines.push(self.machine(node, &modules)?);
            }
        }
        Ok(Plan {
            settings,
            modules,
            machines,
            warnings: std::mem::take(&mut self.warnings),
        })
    }

    fn settings(&mut self, list: Node<'_, 'input>) -> Result<Settings, PlanError> {
        self.attributes(list, &[]);
        let mut settings = Settings::default();
        let mut seen: Vec<String> = Vec::new();
        for item in self.children(list, &["config_item"]) {
            self.attributes(item, &["id", "description"]);
            let id = self.required_attribute(item, "id")?;
            if seen.iter().any(|s| s == id) {
                return Err(self.invalid(item, format!("config_item {id:?} appears twice")));
            }
            seen.push(id.to_string());
            let value = self.text(item);
            let value = value.trim();
            match id {
                "LOG" => settings.log_file = (!value.is_empty()).then(|| PathBuf::from(value)),
                "NUM_CONNECTION" => {
                    settings.num_connection = self.number(item, id, value, 1, MAX_NUM_CONNECTION as u64)? as usize
                }
                "FTP_TIMEOUT" => {
                    settings.ftp_timeout = Duration::from_secs(self.number(item, id, value, 1, 7 * 24 * 3600)?)
                }
                "LOG_LEVEL" => {
                    settings.log_level = LogLevel::parse(value).ok_or_else(|| {
                        self.invalid(
                            item,
                            format!("config_item LOG_LEVEL is {value:?}; expected DEBUG, INFO, WARNING or ERROR"),
                        )
                    })?
                }
                "BUFFER_SIZE" => {
                    settings.buffer_size = self.number(item, id, value, 1, MAX_BUFFER_KIB as u64)? as usize * 1024
                }
                other => self.warn(item, format!("unknown config_item {other:?} ignored")),
            }
        }
        Ok(settings)
    }

    fn module(&mut self, node: Node<'_, 'input>) -> Result<Module, PlanError> {
        self.attributes(
            node,
            &[
                "id",
                "common_name",
                "install_depot_name",
                "keep_original",
                "keep_history",
            ],
        );
        let id = self.required_attribute(node, "id")?.trim().to_string();
        if id.is_empty() {
            return Err(self.invalid(node, "<module> has an empty id".into()));
        }
        let (mut aliases, mut ftp_info, mut stage, mut backup) = (None, None, None, None);
        for child in self.children(
            node,
            &[
                "alias_name_list",
                "ftp_info",
                "stage_location",
                "backup_location",
            ],
        ) {
            let slot = match name(child) {
                "alias_name_list" => &mut aliases,
                "ftp_info" => &mut ftp_info,
                "stage_location" => &mut stage,
                _ => &mut backup,
            };
            self.once(slot, child)?;
        }
        let aliases = match aliases {
            Some(list) => self.aliases(list),
            None => Vec::new(),
        };
        let Some(ftp_info) = ftp_info else {
            return Err(self.invalid(node, format!("module {id} has no <ftp_info>")));
        };
        let (server, ftp_location) = self.ftp_info(ftp_info, &id)?;
        let stage_node = stage
            .ok_or_else(|| self.invalid(node, format!("module {id} has no <stage_location>")))?;
        let stage_location = self.path(stage_node, &id)?;
        let backup_location = match backup {
            Some(b) => Some(self.path(b, &id)?),
            None => None,
        };
        let keep_original = match node.attribute("keep_original").map(str::trim) {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("yes") => true,
            Some(v) if v.eq_ignore_ascii_case("no") => false,
            Some(v) => {
                return Err(self.invalid(
                    node,
                    format!("module {id}: keep_original is {v:?}; expected yes or no"),
                ))
            }
        };
        let keep_history = match node.attribute("keep_history").map(str::trim) {
            None => KeepHistory::No,
            Some(v) if v.eq_ignore_ascii_case("no") => KeepHistory::No,
            Some(v) if v.eq_ignore_ascii_case("yes") => KeepHistory::All,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= 1 => KeepHistory::Last(n),
                _ => {
                    return Err(self.invalid(
                        node,
                        format!("module {id}: keep_history is {v:?}; expected no, yes or a number of copies from 1"),
                    ))
                }
            },
        };
        if keep_original && backup_location.is_none() {
            return Err(self.invalid(
                node,
                format!("module {id} has keep_original=\"yes\" but no <backup_location>"),
            ));
        }
        if !keep_original {
            if let Some(b) = backup {
                self.warn(
                    b,
                    format!(
                        "module {id}: <backup_location> is unused without keep_original=\"yes\""
                    ),
                );
            }
            if node.attribute("keep_history").is_some() {
                self.warn(
                    node,
                    format!(
                        "module {id}: keep_history has no effect without keep_original=\"yes\""
                    ),
                );
            }
        }
        Ok(Module {
            id,
            aliases,
            common_name: node.attribute("common_name").map(str::to_string),
            install_depot_name: node.attribute("install_depot_name").map(str::to_string),
            server,
            ftp_location,
            stage_location,
            backup_location,
            keep_original,
            keep_history,
            line: self.line(node),
        })
    }

    fn aliases(&mut self, list: Node<'_, 'input>) -> Vec<String> {
        self.attributes(list, &[]);
        let mut aliases = Vec::new();
        for alias in self.children(list, &["alias_name"]) {
            self.attributes(alias, &[]);
            let text = self.text(alias).trim().to_string();
            if !text.is_empty() {
                aliases.push(text);
            }
        }
        aliases
    }

    fn ftp_info(
        &mut self,
        node: Node<'_, 'input>,
        id: &str,
    ) -> Result<(Server, String), PlanError> {
        self.attributes(node, &["machine_name"]);
        let machine = self.required_attribute(node, "machine_name")?.trim();
        let (host, port) = parse_machine_name(machine).map_err(|why| {
            self.invalid(
                node,
                format!("module {id}: machine_name {machine:?}: {why}"),
            )
        })?;
        let (mut uid, mut password, mut location) = (None, None, None);
        for child in self.children(node, &["ftp_uid", "ftp_password", "ftp_location"]) {
            let slot = match name(child) {
                "ftp_uid" => &mut uid,
                "ftp_password" => &mut password,
                _ => &mut location,
            };
            self.once(slot, child)?;
        }
        let user = match uid {
            Some(n) => {
                self.attributes(n, &[]);
                let user = self.text(n).trim().to_string();
                if user.is_empty() {
                    return Err(self.invalid(n, format!("module {id}: <ftp_uid> is empty")));
                }
                user
            }
            None => "anonymous".to_string(),
        };
        let password = match password {
            Some(n) => self.password(n, id)?,
            None if user.eq_ignore_ascii_case("anonymous") || user.eq_ignore_ascii_case("ftp") => {
                Password::anonymous()
            }
            None => Password::new(""),
        };
        let Some(location) = location else {
            return Err(self.invalid(
                node,
                format!("<ftp_info> of module {id} has no <ftp_location>"),
            ));
        };
        self.attributes(location, &[]);
        let ftp_location = self.text(location).trim().to_string();
        if leaf_of(&ftp_location).is_none() {
            return Err(self.invalid(
                location,
                format!("module {id}: <ftp_location> {ftp_location:?} has no last part to name the local directory"),
            ));
        }
        Ok((
            Server {
                host,
                port,
                user,
                password,
            },
            ftp_location,
        ))
    }

    fn password(&mut self, node: Node<'_, 'input>, id: &str) -> Result<Password, PlanError> {
        self.attributes(node, &["encryption"]);
        let text = self.text(node);
        match node.attribute("encryption").map(str::trim) {
            None => Ok(Password::new(text)),
            Some(e) if e.eq_ignore_ascii_case("plaintext") => Ok(Password::new(text)),
            Some(e) if e.eq_ignore_ascii_case("base64") => {
                let bytes = base64::decode(&text).map_err(|why| {
                    self.invalid(
                        node,
                        format!("module {id}: <ftp_password> is not valid base64: {why}"),
                    )
                })?;
                let password = String::from_utf8(bytes).map_err(|_| {
                    self.invalid(
                        node,
                        format!("module {id}: <ftp_password> does not decode to UTF-8 text"),
                    )
                })?;
                Ok(Password::new(password))
            }
            Some(e) => Err(self.invalid(
                node,
                format!(
                    "module {id}: <ftp_password> encryption is {e:?}; expected plaintext or base64"
                ),
            )),
        }
    }

    fn machine(
        &mut self,
        node: Node<'_, 'input>,
        modules: &[Module],
    ) -> Result<Machine, PlanError> {
        self.attributes(node, &["machine_name"]);
        let name_attr = self
            .required_attribute(node, "machine_name")?
            .trim()
            .to_string();
        let mut distributions = Vec::new();
        for entry in self.children(node, &["distribute_module"]) {
            self.attributes(entry, &[]);
            let (mut module, mut location) = (None, None);
            for child in self.children(entry, &["module_name", "local_location"]) {
                let slot = if name(child) == "module_name" {
                    &mut module
                } else {
                    &mut location
                };
                self.once(slot, child)?;
            }
            let module = module.ok_or_else(|| {
                self.invalid(
                    entry,
                    format!("<distribute_module> of machine {name_attr} has no <module_name>"),
                )
            })?;
            self.attributes(module, &["id"]);
            let wanted = self.required_attribute(module, "id")?.trim();
            let Some(target) = modules.iter().find(|m| m.is_named(wanted)) else {
                return Err(self.invalid(
                    module,
                    format!("machine {name_attr}: <module_name id=\"{wanted}\"> names no module"),
                ));
            };
            let location = location.ok_or_else(|| {
                self.invalid(
                    entry,
                    format!("<distribute_module> of machine {name_attr} has no <local_location>"),
                )
            })?;
            let local_location = self.path(location, &target.id)?;
            distributions.push(Distribution {
                module: target.id.clone(),
                local_location,
                line: self.line(entry),
            });
        }
        Ok(Machine {
            name: name_attr,
            distributions,
            line: self.line(node),
        })
    }

    // ----- helpers -----

    /// The element children of `node`; any not in `known` draws a warning and
    /// is skipped. Non-blank text between them also draws a warning.
    fn children<'n>(&mut self, node: Node<'n, 'input>, known: &[&str]) -> Vec<Node<'n, 'input>> {
        let mut out = Vec::new();
        for child in node.children() {
            if child.is_element() {
                if known.contains(&name(child)) {
                    out.push(child);
                } else {
                    self.warn(
                        child,
                        format!(
                            "unknown element <{}> in <{}> ignored",
                            name(child),
                            name(node)
                        ),
                    );
                }
            } else if child.is_text() && child.text().is_some_and(|t| !t.trim().is_empty()) {
                self.warn(child, format!("text in <{}> ignored", name(node)));
            }
        }
        out
    }

    /// Warns about attributes of `node` not in `known`.
    fn attributes(&mut self, node: Node<'_, 'input>, known: &[&str]) {
        for attribute in node.attributes() {
            if !known.contains(&attribute.name()) {
                let line = self.doc.text_pos_at(attribute.range().start).row;
                self.push_warning(
                    line,
                    format!(
                        "unknown attribute {:?} of <{}> ignored",
                        attribute.name(),
                        name(node)
                    ),
                );
            }
        }
    }

    /// Stores `node` in `slot`, or fails when the element appeared before.
    fn once<'n>(
        &self,
        slot: &mut Option<Node<'n, 'input>>,
        node: Node<'n, 'input>,
    ) -> Result<(), PlanError> {
        if slot.is_some() {
            return Err(self.invalid(
                node,
                format!("<{}> appears twice in <{}>", name(node), parent_name(node)),
            ));
        }
        *slot = Some(node);
        Ok(())
    }

    fn required_attribute<'n>(
        &self,
        node: Node<'n, 'input>,
        attribute: &str,
    ) -> Result<&'n str, PlanError> {
        node.attribute(attribute).ok_or_else(|| {
            self.invalid(
                node,
                format!("<{}> has no {attribute} attribute", name(node)),
            )
        })
    }

    /// The text of a leaf element (all its text children; child elements warn).
    fn text(&mut self, node: Node<'_, 'input>) -> String {
        let mut text = String::new();
        for child in node.children() {
            if child.is_text() {
                text.push_str(child.text().unwrap_or_default());
            } else if child.is_element() {
                self.warn(
                    child,
                    format!(
                        "unknown element <{}> in <{}> ignored",
                        name(child),
                        name(node)
                    ),
                );
            }
        }
        text
    }

    /// A non-empty trimmed path from a leaf element.
    fn path(&mut self, node: Node<'_, 'input>, id: &str) -> Result<PathBuf, PlanError> {
        self.attributes(node, &[]);
        let text = self.text(node);
        let text = text.trim();
        if text.is_empty() {
            return Err(self.invalid(node, format!("module {id}: <{}> is empty", name(node))));
        }
        Ok(PathBuf::from(text))
    }

    fn number(
        &self,
        node: Node<'_, 'input>,
        id: &str,
        value: &str,
        min: u64,
        max: u64,
    ) -> Result<u64, PlanError> {
        match value.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(self.invalid(
                node,
                format!(
                    "config_item {id} is {value:?}; expected a whole number from {min} to {max}"
                ),
            )),
        }
    }

    fn line(&self, node: Node<'_, 'input>) -> u32 {
        self.doc.text_pos_at(node.range().start).row
    }

    fn invalid(&self, node: Node<'_, 'input>, message: String) -> PlanError {
        PlanError::Invalid {
            line: self.line(node),
            message,
        }
    }

    fn warn(&mut self, node: Node<'_, 'input>, message: String) {
        let line = self.line(node);
        self.push_warning(line, message);
    }

    fn push_warning(&mut self, line: u32, message: String) {
        self.warnings.push(format!("line {line}: {message}"));
    }
}

fn name<'a>(node: Node<'a, '_>) -> &'a str {
    node.tag_name().name()
}

fn parent_name<'a>(node: Node<'a, '_>) -> &'a str {
    node.parent_element().map(name).unwrap_or("document")
}

/// Splits `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address
/// (two colons or more) into host and port (21 when absent).
pub(super) fn parse_machine_name(text: &str) -> Result<(String, u16), String> {
    const DEFAULT_PORT: u16 = 21;
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("a '[' without its ']'")?;
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or("expected ':port' after ']'")?,
                ),
            ),
        }
    } else if text.matches(':').count() >= 2 {
        (text, None)
    } else if let Some((host, port)) = text.split_once(':') {
        (host, Some(port))
    } else {
        (text, None)
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return Err("the host contains a space, a control character or '/'".into());
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 => n,
            _ => return Err(format!("port {p:?} is not a number from 1 to 65535")),
        },
    };
    Ok((host.to_string(), port))
}
