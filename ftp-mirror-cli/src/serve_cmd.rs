//! `ftp-mirror serve DIR`: serve a directory read-only over FTP (see
//! `docs/serve.md`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::builder::TypedValueParser as _;
use ftp_proto::client::Password;
use ftp_serve::{Server, ServerConfig};

use crate::exit;

/// Arguments of `ftp-mirror serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The directory to serve; clients see it as `/`.
    dir: PathBuf,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2121")]
    listen: SocketAddr,
    /// Accept only this user, with the password from --password-env
    /// (without --user, any user and any password log in).
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// The environment variable holding the password for --user.
    #[arg(long, value_name = "VAR", default_value = "FTP_PASSWORD")]
    password_env: String,
    /// The most sessions at once; further connections get 421.
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..=10_000).map(|n| n as usize))]
    max_sessions: usize,
    /// Seconds a session may wait for a command before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    idle_timeout: u64,
    /// Allow listening on an address other than loopback (FTP sends
    /// passwords and data in clear text).
    #[arg(long)]
    allow_remote: bool,
    /// DEBUG (every command), INFO (sessions; the default), WARNING or ERROR.
    #[arg(long, value_name = "LEVEL", value_parser = crate::parse_level)]
    log_level: Option<log::LevelFilter>,
}

/// Binds, prints `serving DIR on ftp://ADDR/` and serves until killed.
pub fn run(args: &ServeArgs) -> ExitCode {
    if let Some(level) = args.log_level {
        crate::logging::set_level(level);
    }
    let config = match config_from(args, |var| std::env::var(var)) {
        Ok(config) => config,
        Err(msg) => return exit::usage(msg),
    };
    let server = match Server::bind(config) {
        Ok(server) => server,
        Err(e) => return exit::failure(format!("cannot serve {}: {e}", args.dir.display())),
    };
    println!(
        "serving {} on ftp://{}/",
        args.dir.display(),
        server.local_addr()
    );
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::failure(format!("server stopped: {e}")),
    }
}

/// The server configuration for `args`; `env` reads an environment
/// variable. An error is a usage error, worded for the user.
fn config_from(
    args: &ServeArgs,
    env: impl Fn(&str) -> Result<String, std::env::VarError>,
) -> Result<ServerConfig, String> {
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        return Err(format!(
            "refusing to listen on {}: not a loopback address (FTP is clear text; \
             pass --allow-remote to serve other hosts)",
            args.listen
        ));
    }
    let credentials = match &args.user {
        None => None,
        Some(user) => {
            let var = &args.password_env;
            let password = env(var).map_err(|e| match e {
                std::env::VarError::NotPresent => {
                    format!("--user {user} needs the password in the environment variable {var}")
                }
                std::env::VarError::NotUnicode(_) => {
                    format!("the environment variable {var} is not valid UTF-8")
                }
            })?;
            if password.is_empty() {
                return Err(format!("the environment variable {var} is empty"));
            }
            Some((user.clone(), Password::new(password)))
        }
    };
    Ok(ServerConfig {
        root: args.dir.clone(),
        listen: args.listen,
        credentials,
        max_sessions: args.max_sessions,
        idle_timeout: Duration::from_secs(args.idle_timeout),
        ..ServerConfig::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Wrapper {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn parse(argv: &[&str]) -> Result<ServeArgs, clap::Error> {
        Wrapper::try_parse_from(std::iter::once("serve").chain(argv.iter().copied()))
            .map(|w| w.args)
    }

    fn no_env(_: &str) -> Result<String, std::env::VarError> {
        Err(std::env::VarError::NotPresent)
    }

    #[test]
    fn defaults_are_anonymous_on_loopback() {
        let args = parse(&["/srv/pub"]).unwrap();
        let config = config_from(&args, no_env).unwrap();
        assert_eq!(config.listen, "127.0.0.1:2121".parse().unwrap());
        assert_eq!(config.root, PathBuf::from("/srv/pub"));
        assert!(config.credentials.is_none());
        assert_eq!(config.max_sessions, 32);
        assert_eq!(config.idle_timeout, Duration::from_secs(300));
    }

    #[test]
    fn remote_addresses_need_allow_remote() {
        let args = parse(&["d", "--listen", "0.0.0.0:21"]).unwrap();
        let err = config_from(&args, no_env).unwrap_err();
        assert!(err.contains("--allow-remote"), "{err}");
        let args = parse(&["d", "--listen", "0.0.0.0:21", "--allow-remote"]).unwrap();
        assert!(config_from(&args, no_env).is_ok());
        let args = parse(&["d", "--listen", "[::1]:2121"]).unwrap();
        assert!(config_from(&args, no_env).is_ok());
    }

    #[test]
    fn user_takes_the_password_from_the_environment() {
        let args = parse(&["d", "--user", "alice", "--password-env", "SERVE_PW"]).unwrap();
        let err = config_from(&args, no_env).unwrap_err();
        assert!(err.contains("SERVE_PW"), "{err}");
        let env = |var: &str| {
            assert_eq!(var, "SERVE_PW");
            Ok("s3cret".to_string())
        };
        let config = config_from(&args, env).unwrap();
        let (user, password) = config.credentials.unwrap();
        assert_eq!((user.as_str(), password.expose()), ("alice", "s3cret"));
        assert!(config_from(&args, |_| Ok(String::new())).is_err());
    }

    #[test]
    fn limits_are_validated() {
        assert!(parse(&["d", "--max-sessions", "0"]).is_err());
        assert!(parse(&["d", "--idle-timeout", "0"]).is_err());
        let args = parse(&["d", "--max-sessions", "4", "--idle-timeout", "9"]).unwrap();
        let config = config_from(&args, no_env).unwrap();
        assert_eq!(
            (config.max_sessions, config.idle_timeout),
            (4, Duration::from_secs(9))
        );
        assert!(parse(&[]).is_err());
    }
}
