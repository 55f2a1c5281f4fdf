//! Plan parsing tests: the documented sample, each setting, each error.

use super::*;

/// The sample from the plan format reference, with an inline DTD added.
const SAMPLE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE download [
  <!ELEMENT download ANY>
  <!ENTITY srv "/srv">
]>
<download>
  <config_list>
    <config_item id="LOG" description="log file, written besides stderr">/var/log/ftp-mirror.log</config_item>
    <config_item id="NUM_CONNECTION" description="sessions per server">8</config_item>
    <config_item id="FTP_TIMEOUT" description="seconds to wait for a free session">600</config_item>
    <config_item id="LOG_LEVEL" description="DEBUG, INFO, WARNING or ERROR">INFO</config_item>
    <config_item id="BUFFER_SIZE" description="transfer buffer in KiB">64</config_item>
  </config_list>
  <module_list>
    <module id="NIGHTLY" common_name="nightly" install_depot_name="nightly"
            keep_original="yes" keep_history="3">
      <alias_name_list><alias_name>latest</alias_name><alias_name> </alias_name></alias_name_list>
      <ftp_info machine_name="ftp.example.net">
        <ftp_uid>builder</ftp_uid>
        <ftp_password encryption="base64">c2VjcmV0</ftp_password>
        <ftp_location>/builds/nightly</ftp_location>
      </ftp_info>
      <stage_location>&srv;/stage</stage_location>
      <backup_location>/srv/backup</backup_location>
    </module>
  </module_list>
  <machine_list>
    <machine machine_name="web1">
      <distribute_module>
        <module_name id="NIGHTLY"/>
        <local_location>/mnt/web1/nightly</local_location>
      </distribute_module>
    </machine>
  </machine_list>
</download>"#;

/// A plan with the given modules (the inside of `<module_list>`).
fn with_modules(modules: &str) -> String {
    format!("<download><module_list>{modules}</module_list></download>")
}

fn module(id: &str, machine: &str, location: &str, stage: &str) -> String {
    format!(
        r#"<module id="{id}"><ftp_info machine_name="{machine}"><ftp_location>{location}</ftp_location></ftp_info>
        <stage_location>{stage}</stage_location></module>"#
    )
}

fn invalid(text: &str) -> (u32, String) {
    match Plan::from_str(text) {
        Err(PlanError::Invalid { line, message }) => (line, message),
        other => panic!("expected an Invalid error, got {other:?}"),
    }
}

#[test]
fn parses_the_documented_sample_with_doctype() {
    let plan = Plan::from_str(SAMPLE).unwrap();
    assert_eq!(
        plan.settings,
        Settings {
            log_file: Some(PathBuf::from("/var/log/ftp-mirror.log")),
            num_connection: 8,
            ftp_timeout: Duration::from_secs(600),
            log_level: LogLevel::Info,
            buffer_size: 64 * 1024,
        }
    );
    assert_eq!(plan.modules.len(), 1);
    let m = &plan.modules[0];
    assert_eq!(m.id, "NIGHTLY");
    assert_eq!(m.aliases, vec!["latest"]);
    assert_eq!(m.common_name.as_deref(), Some("nightly"));
    assert_eq!(m.install_depot_name.as_deref(), Some("nightly"));
    assert_eq!(
        (
            m.server.host.as_str(),
            m.server.port,
            m.server.user.as_str()
        ),
        ("ftp.example.net", 21, "builder")
    );
    assert_eq!(m.server.password.expose(), "secret");
    assert_eq!(m.ftp_location, "/builds/nightly");
    assert_eq!(m.remote_root(), b"/builds/nightly");
    assert_eq!(m.leaf(), "nightly");
    assert_eq!(m.local_dir(), PathBuf::from("/srv/stage/nightly"));
    assert_eq!(m.backup_location, Some(PathBuf::from("/srv/backup")));
    assert!(m.keep_original);
    assert_eq!(m.keep_history, KeepHistory::Last(3));
    assert_eq!(m.line, 15);
    assert_eq!(plan.machines.len(), 1);
    assert_eq!(plan.machines[0].name, "web1");
    let dests: Vec<_> = plan
        .destinations_of("NIGHTLY")
        .map(|(m, d)| (m.name.clone(), d.local_location.clone()))
        .collect();
    assert_eq!(
        dests,
        vec![("web1".to_string(), PathBuf::from("/mnt/web1/nightly"))]
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
}

#[test]
fn parses_through_from_str_trait() {
    let plan: Plan = SAMPLE.parse().unwrap();
    assert_eq!(plan.modules[0].id, "NIGHTLY");
}

#[test]
fn debug_output_hides_passwords() {
    let plan = Plan::from_str(SAMPLE).unwrap();
    let debug = format!("{plan:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(!debug.contains("c2VjcmV0"), "{debug}");
    assert!(debug.contains("***"));
}

#[test]
fn defaults_apply_without_config_list() {
    let plan = Plan::from_str(&with_modules(&module("A", "h", "/pub/a", "/s"))).unwrap();
    assert_eq!(plan.settings, Settings::default());
    assert_eq!(plan.settings.num_connection, 4);
    assert_eq!(plan.settings.ftp_timeout, Duration::from_secs(600));
    assert_eq!(plan.settings.buffer_size, 65536);
    assert_eq!(plan.settings.log_level, LogLevel::Info);
    let m = &plan.modules[0];
    assert_eq!(m.server.user, "anonymous");
    assert_eq!(m.server.password.expose(), "anonymous@");
    assert!(!m.keep_original);
    assert_eq!(m.keep_history, KeepHistory::No);
    assert!(plan.machines.is_empty());
}

#[test]
fn settings_are_trimmed_and_checked() {
    let text = |items: &str| {
        format!(
            "<download><config_list>{items}</config_list><module_list>{}</module_list></download>",
            module("A", "h", "/a", "/s")
        )
    };
    let plan = Plan::from_str(&text(
        r#"<config_item id="NUM_CONNECTION"> 3 </config_item><config_item id="LOG_LEVEL">
        debug </config_item><config_item id="BUFFER_SIZE">8</config_item><config_item id="FTP_TIMEOUT">5</config_item>"#,
    ))
    .unwrap();
    assert_eq!(plan.settings.num_connection, 3);
    assert_eq!(plan.settings.log_level, LogLevel::Debug);
    assert_eq!(plan.settings.buffer_size, 8192);
    assert_eq!(plan.settings.ftp_timeout, Duration::from_secs(5));
    assert_eq!(
        plan.settings.log_level.to_level_filter(),
        log::LevelFilter::Debug
    );

    for bad in [
        r#"<config_item id="NUM_CONNECTION">0</config_item>"#,
        r#"<config_item id="NUM_CONNECTION">many</config_item>"#,
        r#"<config_item id="FTP_TIMEOUT">-1</config_item>"#,
        r#"<config_item id="LOG_LEVEL">LOUD</config_item>"#,
        r#"<config_item id="BUFFER_SIZE">999999999</config_item>"#,
        r#"<config_item id="LOG">a</config_item><config_item id="LOG">b</config_item>"#,
        r#"<config_item>8</config_item>"#,
    ] {
        let (line, message) = invalid(&text(bad));
        assert_eq!(line, 1, "{message}");
        assert!(message.contains("config_item"), "{message}");
    }
    let plan = Plan::from_str(&text(r#"<config_item id="COLOUR">blue</config_item>"#)).unwrap();
    assert_eq!(plan.warnings.len(), 1);
    assert!(plan.warnings[0].contains("COLOUR"), "{:?}", plan.warnings);
}

#[test]
fn plaintext_and_base64_passwords() {
    let pw = |element: &str| {
        let text = with_modules(&format!(
            r#"<module id="A"><ftp_info machine_name="h"><ftp_uid>u</ftp_uid>{element}<ftp_location>/a</ftp_location></ftp_info>
            <stage_location>/s</stage_location></module>"#
        ));
        Plan::from_str(&text).map(|p| p.modules[0].server.password.expose().to_string())
    };
    assert_eq!(pw("<ftp_password>pa ss</ftp_password>").unwrap(), "pa ss");
    assert_eq!(
        pw(r#"<ftp_password encryption="plaintext">x&amp;y</ftp_password>"#).unwrap(),
        "x&y"
    );
    assert_eq!(
        pw(r#"<ftp_password encryption="base64">w6nDqA==</ftp_password>"#).unwrap(),
        "éè"
    );
    assert_eq!(
        pw(r#"<ftp_password encryption="base64"> c2Vj
        cmV0 </ftp_password>"#)
        .unwrap(),
        "secret"
    );
    assert_eq!(
        pw("").unwrap(),
        "",
        "a named user without a password gets an empty one"
    );
    let err = pw(r#"<ftp_password encryption="base64">c2Vj*mV0</ftp_password>"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 1") && err.contains("base64"), "{err}");
    assert!(
        !err.contains("c2Vj"),
        "the error must not echo the password: {err}"
    );
    let err = pw(r#"<ftp_password encryption="base64">/w==</ftp_password>"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("UTF-8"), "{err}");
    let err = pw(r#"<ftp_password encryption="rot13">x</ftp_password>"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("rot13"), "{err}");
}

#[test]
fn missing_ftp_location_names_element_and_line() {
    let text = "<download>\n<module_list>\n<module id=\"A\">\n<ftp_info machine_name=\"h\">\n</ftp_info>\n\
                <stage_location>/s</stage_location>\n</module>\n</module_list>\n</download>";
    let (line, message) = invalid(text);
    assert_eq!(line, 4);
    assert!(
        message.contains("<ftp_location>") && message.contains("module A"),
        "{message}"
    );
    let shown = Plan::from_str(text).unwrap_err().to_string();
    assert!(shown.starts_with("line 4: "), "{shown}");
}

#[test]
fn other_missing_parts_are_errors() {
    let cases = [
        ("<download/>", "<module_list>"),
        ("<download><module_list/></download>", "<module>"),
        ("<plan/>", "<download>"),
        (
            r#"<download><module_list><module><ftp_info machine_name="h"><ftp_location>/a</ftp_location></ftp_info><stage_location>/s</stage_location></module></module_list></download>"#,
            "id",
        ),
        (
            r#"<download><module_list><module id="A"><stage_location>/s</stage_location></module></module_list></download>"#,
            "<ftp_info>",
        ),
        (
            r#"<download><module_list><module id="A"><ftp_info><ftp_location>/a</ftp_location></ftp_info><stage_location>/s</stage_location></module></module_list></download>"#,
            "machine_name",
        ),
        (
            r#"<download><module_list><module id="A"><ftp_info machine_name="h"><ftp_location>/a</ftp_location></ftp_info></module></module_list></download>"#,
            "<stage_location>",
        ),
        (
            r#"<download><module_list><module id="A"><ftp_info machine_name="h"><ftp_location>/</ftp_location></ftp_info><stage_location>/s</stage_location></module></module_list></download>"#,
            "last part",
        ),
        (
            r#"<download><module_list><module id="A" keep_original="yes"><ftp_info machine_name="h"><ftp_location>/a</ftp_location></ftp_info><stage_location>/s</stage_location></module></module_list></download>"#,
            "<backup_location>",
        ),
        (
            r#"<download><module_list><module id="A" keep_original="maybe"><ftp_info machine_name="h"><ftp_location>/a</ftp_location></ftp_info><stage_location>/s</stage_location></module></module_list></download>"#,
            "keep_original",
        ),
        (
            r#"<download><module_list><module id="A"><ftp_info machine_name="h"><ftp_location>/a</ftp_location><ftp_location>/b</ftp_location></ftp_info><stage_location>/s</stage_location></module></module_list></download>"#,
            "twice",
        ),
        (
            r#"<download><module_list><module id="A"><ftp_info machine_name="h"><ftp_uid> </ftp_uid><ftp_location>/a</ftp_location></ftp_info><stage_location>/s</stage_location></module></module_list></download>"#,
            "<ftp_uid>",
        ),
    ];
    for (text, needle) in cases {
        let (_, message) = invalid(text);
        assert!(message.contains(needle), "{needle:?} not in {message:?}");
    }
    assert!(matches!(
        Plan::from_str("<download>"),
        Err(PlanError::Xml(_))
    ));
}

#[test]
fn duplicate_ids_are_rejected() {
    let text = with_modules(&format!(
        "{}\n{}",
        module("A", "h", "/a", "/s1"),
        module("A", "h", "/b", "/s2")
    ));
    let (line, message) = invalid(&text);
    assert_eq!(line, 3);
    assert!(
        message.contains("\"A\"") && message.contains("twice"),
        "{message}"
    );
}

#[test]
fn alias_clashes_are_rejected() {
    let aliased = |id: &str, alias: &str, loc: &str| {
        format!(
            r#"<module id="{id}"><alias_name_list><alias_name>{alias}</alias_name></alias_name_list>
            <ftp_info machine_name="h"><ftp_location>{loc}</ftp_location></ftp_info><stage_location>/s</stage_location></module>"#
        )
    };
    let (_, message) = invalid(&with_modules(&format!(
        "{}{}",
        module("A", "h", "/a", "/s"),
        aliased("B", "A", "/b")
    )));
    assert!(
        message.contains("alias \"A\" of module B is the id"),
        "{message}"
    );
    let (_, message) = invalid(&with_modules(&format!(
        "{}{}",
        aliased("A", "x", "/a"),
        aliased("B", "x", "/b")
    )));
    assert!(message.contains("also an alias of module A"), "{message}");
    let (_, message) = invalid(&with_modules(&format!(
        "{}{}",
        aliased("A", "B", "/a"),
        module("B", "h", "/b", "/s")
    )));
    assert!(
        message.contains("already an alias of module A"),
        "{message}"
    );
    // An alias equal to the module's own id is harmless.
    assert!(Plan::from_str(&with_modules(&aliased("A", "A", "/a"))).is_ok());
}

#[test]
fn unknown_elements_and_attributes_warn_with_lines() {
    let text = "<download colour=\"red\">\n<module_list>\n<module id=\"A\" owner=\"me\">\n<ftp_info machine_name=\"h\">\
                <ftp_location>/a</ftp_location></ftp_info>\n<stage_location>/s</stage_location>\n<schedule>daily</schedule>\n\
                </module>\n</module_list>\n<extras/>\n</download>";
    let plan = Plan::from_str(text).unwrap();
    assert_eq!(
        plan.warnings,
        vec![
            "line 1: unknown attribute \"colour\" of <download> ignored",
            "line 9: unknown element <extras> in <download> ignored",
            "line 3: unknown attribute \"owner\" of <module> ignored",
            "line 6: unknown element <schedule> in <module> ignored",
        ]
    );
}

#[test]
fn same_local_directory_is_a_conflict() {
    let text = with_modules(&format!(
        "{}{}",
        module("A", "h1", "/x/pub", "/s"),
        module("B", "h2", "/y/pub/", "/s/.")
    ));
    let (_, message) = invalid(&text);
    assert!(
        message.contains("local directory of module B") && message.contains("module A"),
        "{message}"
    );
    // Same leaf in different stages is fine.
    assert!(Plan::from_str(&with_modules(&format!(
        "{}{}",
        module("A", "h", "/x/pub", "/s1"),
        module("B", "h", "/y/pub", "/s2")
    )))
    .is_ok());
}

/// Regression: a destination that held the stage (or other data) passed
/// validation, and the first distribution replaced it whole, deleting the
/// stage and everything else in it.
#[test]
fn nested_directories_are_conflicts() {
    let plan = |machines: &str| {
        format!(
            "<download><module_list>{}</module_list><machine_list>{machines}</machine_list></download>",
            module("A", "h", "/a", "/root/stage"),
        )
    };
    let dist = |path: &str| {
        format!(
            "<machine machine_name=\"m\"><distribute_module><module_name id=\"A\"/>\
             <local_location>{path}</local_location></distribute_module></machine>"
        )
    };
    let (_, message) = invalid(&plan(&dist("/root")));
    assert!(
        message.contains("which holds") && message.contains("local directory of module A"),
        "{message}"
    );
    let (_, message) = invalid(&plan(&dist("/root/stage/a/copy")));
    assert!(message.contains("inside"), "{message}");
    // A sibling is fine.
    assert!(Plan::from_str(&plan(&dist("/root/dest/a"))).is_ok());
    // One module's local directory inside another's.
    let (_, message) = invalid(&with_modules(&format!(
        "{}{}",
        module("A", "h", "/pub", "/s"),
        module("B", "h", "/x/inner", "/s/pub")
    )));
    assert!(
        message.contains("module B") && message.contains("module A"),
        "{message}"
    );
}

#[test]
fn destination_clashes_are_conflicts() {
    let plan = |machines: &str| {
        format!(
            "<download><module_list>{}{}</module_list><machine_list>{machines}</machine_list></download>",
            module("A", "h", "/a", "/s"),
            module("B", "h", "/b", "/s")
        )
    };
    let dist = |id: &str, path: &str| {
        format!("<distribute_module><module_name id=\"{id}\"/><local_location>{path}</local_location></distribute_module>")
    };
    let ok = Plan::from_str(&plan(&format!(
        "<machine machine_name=\"m\">{}{}</machine>",
        dist("A", "/d/a"),
        dist("B", "/d/b")
    )))
    .unwrap();
    assert_eq!(ok.destinations_of("B").count(), 1);
    let (_, message) = invalid(&plan(&format!(
        "<machine machine_name=\"m\">{}{}</machine>",
        dist("A", "/d"),
        dist("B", "/d")
    )));
    assert!(message.contains("destination of module B"), "{message}");
    let (_, message) = invalid(&plan(&format!(
        "<machine machine_name=\"m\">{}</machine>",
        dist("A", "/s/b")
    )));
    assert!(message.contains("local directory of module B"), "{message}");
    let (_, message) = invalid(&plan(&format!(
        "<machine machine_name=\"m\">{}</machine>",
        dist("C", "/d")
    )));
    assert!(message.contains("names no module"), "{message}");
    let (_, message) = invalid(&plan("<machine><distribute_module/></machine>"));
    assert!(message.contains("machine_name"), "{message}");
}

#[test]
fn machine_names_with_ports() {
    use super::parse::parse_machine_name as p;
    assert_eq!(p("ftp.example.net"), Ok(("ftp.example.net".into(), 21)));
    assert_eq!(
        p("ftp.example.net:2121"),
        Ok(("ftp.example.net".into(), 2121))
    );
    assert_eq!(p("127.0.0.1:21000"), Ok(("127.0.0.1".into(), 21000)));
    assert_eq!(p("[::1]:2121"), Ok(("::1".into(), 2121)));
    assert_eq!(p("[fe80::1]"), Ok(("fe80::1".into(), 21)));
    assert_eq!(p("::1"), Ok(("::1".into(), 21)));
    for bad in [
        "", ":21", "h:0", "h:70000", "h:x", "[::1", "[::1]x", "a b", "h/x",
    ] {
        assert!(p(bad).is_err(), "{bad:?}");
    }
    let (line, message) = invalid(&with_modules(&module("A", "h:port", "/a", "/s")));
    assert_eq!(line, 1);
    assert!(message.contains("machine_name"), "{message}");
}

#[test]
fn keep_history_values() {
    let with = |attrs: &str| {
        let text = with_modules(&format!(
            r#"<module id="A" {attrs}><ftp_info machine_name="h"><ftp_location>/a</ftp_location></ftp_info>
            <stage_location>/s</stage_location><backup_location>/b</backup_location></module>"#
        ));
        Plan::from_str(&text)
    };
    let kh = |attrs: &str| with(attrs).unwrap().modules[0].keep_history;
    assert_eq!(kh(r#"keep_original="yes""#), KeepHistory::No);
    assert_eq!(
        kh(r#"keep_original="yes" keep_history="no""#),
        KeepHistory::No
    );
    assert_eq!(
        kh(r#"keep_original="yes" keep_history="YES""#),
        KeepHistory::All
    );
    assert_eq!(
        kh(r#"keep_original="yes" keep_history=" 2 ""#),
        KeepHistory::Last(2)
    );
    assert_eq!(KeepHistory::Last(2).limit().map(|n| n.get()), Some(2));
    assert_eq!(KeepHistory::No.limit().map(|n| n.get()), Some(1));
    assert_eq!(KeepHistory::All.limit(), None);
    for bad in ["0", "-1", "many", ""] {
        let err = with(&format!(r#"keep_original="yes" keep_history="{bad}""#))
            .unwrap_err()
            .to_string();
        assert!(err.contains("keep_history"), "{err}");
    }
    let plan = with(r#"keep_history="3""#).unwrap();
    assert!(!plan.modules[0].keep_original);
    assert_eq!(plan.warnings.len(), 2, "{:?}", plan.warnings);
}

#[test]
fn select_by_id_or_alias() {
    let text = with_modules(&format!(
        r#"{}<module id="B"><alias_name_list><alias_name>bee</alias_name></alias_name_list>
        <ftp_info machine_name="h"><ftp_location>/b</ftp_location></ftp_info><stage_location>/s</stage_location></module>{}"#,
        module("A", "h", "/a", "/s"),
        module("C", "h", "/c", "/s")
    ));
    let plan = Plan::from_str(&text).unwrap();
    let ids = |names: &[&str]| {
        plan.select(names)
            .map(|v| v.iter().map(|m| m.id.clone()).collect::<Vec<_>>())
    };
    assert_eq!(ids(&[]).unwrap(), ["A", "B", "C"]);
    assert_eq!(ids(&["C", "bee", "B"]).unwrap(), ["B", "C"]);
    match plan.select(&["nope"]) {
        Err(PlanError::UnknownModule { name, known }) => {
            assert_eq!(name, "nope");
            assert_eq!(known, ["A", "B", "C"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(plan.module("bee").map(|m| m.id.as_str()), Some("B"));
}

#[test]
fn from_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.xml");
    std::fs::write(&path, SAMPLE).unwrap();
    assert_eq!(Plan::from_file(&path).unwrap().modules[0].id, "NIGHTLY");
    std::fs::write(&path, "<download/>").unwrap();
    let err = Plan::from_file(&path).unwrap_err().to_string();
    assert!(
        err.starts_with(&path.display().to_string()) && err.contains("line 1"),
        "{err}"
    );
    let err = Plan::from_file(dir.path().join("missing.xml")).unwrap_err();
    assert!(matches!(err, PlanError::Io { .. }), "{err:?}");
}

#[test]
fn same_login_with_different_passwords_warns() {
    let login = |id: &str, loc: &str, pw: &str| {
        format!(
            r#"<module id="{id}"><ftp_info machine_name="h:2121"><ftp_uid>u</ftp_uid><ftp_password>{pw}</ftp_password>
            <ftp_location>{loc}</ftp_location></ftp_info><stage_location>/s</stage_location></module>"#
        )
    };
    let same = Plan::from_str(&with_modules(&format!(
        "{}{}",
        login("A", "/a", "p1"),
        login("B", "/b", "p1")
    )))
    .unwrap();
    assert!(same.warnings.is_empty(), "{:?}", same.warnings);
    let differ = Plan::from_str(&with_modules(&format!(
        "{}{}",
        login("A", "/a", "p1"),
        login("B", "/b", "p2")
    )))
    .unwrap();
    assert_eq!(differ.warnings.len(), 1, "{:?}", differ.warnings);
    assert!(differ.warnings[0].contains("module B") && differ.warnings[0].contains("module A"));
    assert!(!differ.warnings[0].contains("p1") && !differ.warnings[0].contains("p2"));
}
