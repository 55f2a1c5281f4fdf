//! The commands the server knows, by verb.

/// A recognized command verb (aliases such as `XPWD` map to their RFC 959 name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    User,
    Pass,
    Quit,
    Feat,
    Syst,
    Noop,
    Help,
    Opts,
    Pwd,
    Cwd,
    Cdup,
    Type,
    Mode,
    Stru,
    Pasv,
    Epsv,
    Port,
    Eprt,
    List,
    Nlst,
    Mlsd,
    Mlst,
    Size,
    Mdtm,
    Rest,
    Retr,
    Abor,
    Allo,
    Stat,
    Site,
    /// Any command that would change the served tree (STOR, DELE, MKD, ...).
    Write,
}

impl Verb {
    /// The verb for an upper-cased command name; `None` if unknown.
    pub(crate) fn parse(name: &str) -> Option<Verb> {
        Some(match name {
            "USER" => Verb::User,
            "PASS" => Verb::Pass,
            "QUIT" => Verb::Quit,
            "FEAT" => Verb::Feat,
            "SYST" => Verb::Syst,
            "NOOP" => Verb::Noop,
            "HELP" => Verb::Help,
            "OPTS" => Verb::Opts,
            "PWD" | "XPWD" => Verb::Pwd,
            "CWD" | "XCWD" => Verb::Cwd,
            "CDUP" | "XCUP" => Verb::Cdup,
            "TYPE" => Verb::Type,
            "MODE" => Verb::Mode,
            "STRU" => Verb::Stru,
            "PASV" => Verb::Pasv,
            "EPSV" => Verb::Epsv,
            "PORT" => Verb::Port,
            "EPRT" => Verb::Eprt,
            "LIST" => Verb::List,
            "NLST" => Verb::Nlst,
            "MLSD" => Verb::Mlsd,
            "MLST" => Verb::Mlst,
            "SIZE" => Verb::Size,
            "MDTM" => Verb::Mdtm,
            "REST" => Verb::Rest,
            "RETR" => Verb::Retr,
            "ABOR" => Verb::Abor,
            "ALLO" => Verb::Allo,
            "STAT" => Verb::Stat,
            "SITE" => Verb::Site,
            "STOR" | "STOU" | "APPE" | "DELE" | "RMD" | "XRMD" | "MKD" | "XMKD" | "RNFR"
            | "RNTO" | "MFMT" | "MFCT" | "MFF" => Verb::Write,
            _ => return None,
        })
    }

    /// Whether the command is refused with `530` before a successful login.
    pub(crate) fn needs_login(self) -> bool {
        !matches!(
            self,
            Verb::User
                | Verb::Pass
                | Verb::Quit
                | Verb::Feat
                | Verb::Syst
                | Verb::Noop
                | Verb::Help
                | Verb::Opts
        )
    }
}

/// The `214` HELP text: the verbs the server recognizes.
pub(crate) const HELP_LINES: &[&str] = &[
    "The following commands are recognized:",
    " ABOR ALLO CDUP CWD  EPRT EPSV FEAT HELP LIST MDTM MLSD MLST MODE NLST",
    " NOOP OPTS PASS PASV PORT PWD  QUIT REST RETR SITE SIZE STAT STRU SYST",
    " TYPE USER XCUP XCWD XPWD",
    "This server is read-only: STOR, APPE, DELE, MKD, RMD, RNFR and RNTO are refused.",
    "Help OK",
];

/// The `211` FEAT lines (between the first and the last line).
pub(crate) const FEATURES: &[&str] = &[
    " EPSV",
    " MDTM",
    " MLST type*;size*;modify*;perm*;",
    " PASV",
    " REST STREAM",
    " SIZE",
    " TVFS",
    " UTF8",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_verbs_and_aliases() {
        assert_eq!(Verb::parse("XPWD"), Some(Verb::Pwd));
        assert_eq!(Verb::parse("XCUP"), Some(Verb::Cdup));
        assert_eq!(Verb::parse("DELE"), Some(Verb::Write));
        assert_eq!(Verb::parse("retr"), None, "callers upper-case first");
        assert_eq!(Verb::parse("AUTH"), None);
        assert!(!Verb::User.needs_login());
        assert!(Verb::Retr.needs_login());
        assert!(Verb::Write.needs_login());
    }
}
