//! A password that never shows itself.

use std::fmt;

/// A password. `Debug` and `Display` print `***`; only [`Password::expose`]
/// gives the text, and the client uses it for `PASS` alone.
///
/// ```
/// use ftp_proto::client::Password;
/// let p = Password::new("hunter2");
/// assert_eq!(format!("{p:?} {p}"), "*** ***");
/// assert_eq!(p.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(p: impl Into<String>) -> Password {
        Password(p.into())
    }

    /// The password used for anonymous logins (an e-mail-like placeholder).
    pub fn anonymous() -> Password {
        Password("anonymous@".into())
    }

    /// The password's text. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
