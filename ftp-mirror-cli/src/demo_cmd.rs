//! `ftp-mirror demo`: the main job on a built-in sample, with no server of
//! your own. It writes a sample tree, serves it from two embedded read-only
//! servers on loopback ports, writes a two-module plan with distribution to
//! two destinations, runs it, and says where everything landed. Running it
//! again shows an incremental run (nothing changed, nothing fetched).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ftp_mirror::plan::Plan;
use ftp_mirror::run::run_plan;
use ftp_proto::client::Password;
use ftp_serve::{Server, ServerConfig};

use crate::progress::{Mode, Reporter};
use crate::{exit, run_cmd, CommonArgs};

/// Arguments of `demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Where the sample tree, plan, stage, backups and destinations go.
    #[arg(long, default_value = "ftp-mirror-demo")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
}

const DEMO_USER: &str = "builder";
const DEMO_PASSWORD: &str = "secret";

pub fn run(args: &DemoArgs) -> ExitCode {
    if let Err(e) = args.common.check_json_target() {
        return exit::usage(e);
    }
    match demo(args) {
        Ok(code) => code,
        Err(e) => exit::failure(format!("demo: {e}")),
    }
}

fn demo(args: &DemoArgs) -> io::Result<ExitCode> {
    crate::logging::quiet("ftp_serve");
    let dir = absolute(&args.dir)?;
    let served = dir.join("served");
    let builds = served.join("builds");
    let datasets = served.join("datasets");
    write_sample(&builds.join("nightly"), &datasets.join("weather"))?;

    // Two servers, as in real life: builds need a login, datasets are public.
    let builds_server = Server::bind(ServerConfig {
        root: builds.clone(),
        credentials: Some((DEMO_USER.into(), Password::new(DEMO_PASSWORD))),
        ..ServerConfig::default()
    })?
    .spawn()?;
    let data_server = Server::bind(ServerConfig {
        root: datasets.clone(),
        ..ServerConfig::default()
    })?
    .spawn()?;

    let plan_path = dir.join("plan.xml");
    let xml = plan_xml(&dir, builds_server.local_addr(), data_server.local_addr());
    fs::write(&plan_path, &xml)?;
    let plan = match Plan::from_str(&xml) {
        Ok(p) => p,
        Err(e) => return Ok(exit::failure(format!("the demo plan is invalid: {e}"))),
    };
    run_cmd::apply_settings(&plan, &args.common);
    eprintln!(
        "demo: serving {} on ftp://{}/ (user {DEMO_USER}) and {} on ftp://{}/ (anonymous)",
        builds.display(),
        builds_server.local_addr(),
        datasets.display(),
        data_server.local_addr()
    );
    eprintln!("demo: running the plan {}", plan_path.display());

    let opts = args.common.run_options();
    let reporter = Reporter::new(Mode::pick(args.common.no_progress));
    let report = run_plan(&plan, &opts, &reporter);
    reporter.finish();
    let code = run_cmd::finish(&report, &args.common);
    builds_server.shutdown();
    data_server.shutdown();

    let lines = [
        "\nWhere everything landed:".to_string(),
        format!("  plan          {}", plan_path.display()),
        format!("  served trees  {}", served.display()),
        format!("  stage         {}", dir.join("stage").display()),
        format!("  backups       {}", dir.join("backup").display()),
        format!("  destinations  {}", dir.join("machines").display()),
        "Run the demo again to see an incremental run that fetches nothing new.".to_string(),
    ];
    // With `--json -`, stdout is for the JSON alone.
    let json_on_stdout = args.common.json_on_stdout();
    for line in lines {
        if json_on_stdout {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    Ok(code)
}

fn absolute(p: &Path) -> io::Result<PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(p))
    }
}

/// XML text with `&`, `<`, `>` and quotes escaped.
fn esc(p: &Path) -> String {
    p.display()
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn plan_xml(dir: &Path, builds: std::net::SocketAddr, data: std::net::SocketAddr) -> String {
    let stage = esc(&dir.join("stage"));
    let backup = esc(&dir.join("backup"));
    let web1 = esc(&dir.join("machines/web1"));
    let web2 = esc(&dir.join("machines/web2"));
    let log = esc(&dir.join("ftp-mirror.log"));
    // "secret", base64-encoded as operators keep it.
    let password = "c2VjcmV0";
    format!(
        r#"<?xml version="1.0"?>
<!DOCTYPE download [
  <!ELEMENT download (config_list, module_list, machine_list)>
]>
<download>
  <config_list>
    <config_item id="LOG" description="log file, written besides stderr">{log}</config_item>
    <config_item id="NUM_CONNECTION" description="sessions per server">4</config_item>
    <config_item id="FTP_TIMEOUT" description="seconds to wait for a free session">60</config_item>
    <config_item id="LOG_LEVEL" description="DEBUG, INFO, WARNING or ERROR">INFO</config_item>
    <config_item id="BUFFER_SIZE" description="transfer buffer in KiB">64</config_item>
  </config_list>
  <module_list>
    <module id="NIGHTLY" common_name="nightly builds" install_depot_name="nightly"
            keep_original="yes" keep_history="3">
      <alias_name_list><alias_name>latest</alias_name></alias_name_list>
      <ftp_info machine_name="{builds}">
        <ftp_uid>{DEMO_USER}</ftp_uid>
        <ftp_password encryption="base64">{password}</ftp_password>
        <ftp_location>/nightly</ftp_location>
      </ftp_info>
      <stage_location>{stage}</stage_location>
      <backup_location>{backup}</backup_location>
    </module>
    <module id="WEATHER" common_name="weather dataset" install_depot_name="weather"
            keep_original="no">
      <ftp_info machine_name="{data}">
        <ftp_location>/weather</ftp_location>
      </ftp_info>
      <stage_location>{stage}</stage_location>
    </module>
  </module_list>
  <machine_list>
    <machine machine_name="web1">
      <distribute_module>
        <module_name id="NIGHTLY"/>
        <local_location>{web1}/nightly</local_location>
      </distribute_module>
      <distribute_module>
        <module_name id="WEATHER"/>
        <local_location>{web1}/weather</local_location>
      </distribute_module>
    </machine>
    <machine machine_name="web2">
      <distribute_module>
        <module_name id="NIGHTLY"/>
        <local_location>{web2}/nightly</local_location>
      </distribute_module>
    </machine>
  </machine_list>
</download>
"#
    )
}

/// Writes the sample trees once (kept between runs, so a second run is
/// incremental).
fn write_sample(builds: &Path, weather: &Path) -> io::Result<()> {
    if builds.exists() && weather.exists() {
        return Ok(());
    }
    let mut rng = Rng(0x5eed_f7b0);
    for (platform, size) in [
        ("linux-x86_64", 3 << 20),
        ("linux-aarch64", 2 << 20),
        ("windows", 1 << 20),
    ] {
        let d = builds.join(platform);
        fs::create_dir_all(&d)?;
        fs::write(d.join("installer.bin"), rng.bytes(size))?;
        fs::write(d.join("SHA256SUMS"), rng.text(200))?;
        fs::write(d.join("release notes.txt"), rng.text(3000))?;
    }
    fs::create_dir_all(builds.join("logs/empty"))?;
    fs::write(builds.join("logs/build.log"), rng.text(50_000))?;
    fs::write(builds.join("logs/.keep"), b"")?;
    fs::write(builds.join("BUILD-ID"), b"2026.11.21-nightly\n")?;
    for year in ["2024", "2025", "2026"] {
        for month in 1..=12 {
            let d = weather.join(year).join(format!("{month:02}"));
            fs::create_dir_all(&d)?;
            fs::write(
                d.join("stations.csv"),
                rng.text(2_000 + (month * 300) as usize),
            )?;
        }
    }
    fs::write(
        weather.join("Zürich – readme.txt"),
        "Données météo, exemple.\n",
    )?;
    Ok(())
}

/// A small deterministic generator (xorshift), so the sample is the same
/// on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }

    fn text(&mut self, n: usize) -> Vec<u8> {
        const WORDS: [&str; 8] = [
            "station", "temp", "12.5", "wind", "north", "ok", "2026", "rain",
        ];
        let mut v = Vec::with_capacity(n + 16);
        while v.len() < n {
            v.extend_from_slice(WORDS[(self.next() % 8) as usize].as_bytes());
            v.push(if self.next().is_multiple_of(8) {
                b'\n'
            } else {
                b','
            });
        }
        v.truncate(n);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_plan_parses() {
        let a: std::net::SocketAddr = "127.0.0.1:2121".parse().unwrap();
        let plan = Plan::from_str(&plan_xml(Path::new("/tmp/d&<x>"), a, a)).unwrap();
        assert_eq!(plan.modules.len(), 2);
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
        assert_eq!(plan.modules[0].server.password.expose(), DEMO_PASSWORD);
    }
}
