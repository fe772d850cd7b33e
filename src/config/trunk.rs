//! `[trunk]`: the SIP trunk the hotline calls citizens through, and the digest credentials
//! it may ask for (a 401/407 to our INVITE). The password may sit in the file itself or,
//! better, in a file of its own (`password_file`) that the config can name without holding
//! the secret; that file is read once, when the config is loaded (`serve`, `check`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::sip::digest_client::{ClientCredentials, Secret};

/// The SIP trunk (a carrier's SBC or a gateway) the hotline calls citizens through; it may
/// be the same as `[transfer] gateway`. Without an address nothing is dialled out.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TrunkConfig {
    /// `host:port` over UDP.
    pub address: Option<SocketAddr>,
    /// The number citizens see (the hotline's own); default: the first service number.
    pub caller_id: Option<String>,
    /// The user the trunk knows the hotline by, when it challenges our INVITEs (RFC 3261
    /// §22); needs `password` or `password_file`.
    pub username: Option<String>,
    /// The secret written in the config itself (prefer `password_file`: the config is often
    /// shared, printed or kept in version control).
    pub password: Option<Secret>,
    /// A file whose first line is the secret; relative to the project root.
    pub password_file: Option<PathBuf>,
    /// Answer only challenges of this realm (a trunk naming another realm is refused rather
    /// than handed our credentials); unset: the realm the trunk names.
    pub realm: Option<String>,
    /// The secret read from `password_file` by [`TrunkConfig::read_password_file`].
    #[serde(skip)]
    file_secret: Option<Secret>,
}

/// A name the trunk may see in a quoted-string: no control characters (they would end or
/// fold the header).
fn printable(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_control)
}

impl TrunkConfig {
    /// What types alone cannot check: `(key, message)` for each problem.
    pub(super) fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(id) = &self.caller_id {
            if !crate::outbound::rules::is_phone_number(id) {
                out.push((
                    "caller_id",
                    format!("trunk.caller_id: {id:?} is not a phone number (digits, an optional leading +)"),
                ));
            }
        }
        let has_secret = self.password.is_some() || self.password_file.is_some();
        match &self.username {
            Some(u) if !printable(u) => out.push((
                "username",
                "trunk.username must not be empty nor hold control characters".into(),
            )),
            Some(_) if !has_secret => out.push((
                "username",
                "trunk.username is set but no secret: set trunk.password_file (a file whose first line is the password) or trunk.password".into(),
            )),
            None if has_secret => out.push((
                if self.password.is_some() { "password" } else { "password_file" },
                "trunk.password or trunk.password_file is set without trunk.username: set the user the trunk knows the hotline by".into(),
            )),
            _ => {}
        }
        if self.password.is_some() && self.password_file.is_some() {
            out.push((
                "password_file",
                "set only one of trunk.password and trunk.password_file".into(),
            ));
        }
        if self
            .password
            .as_ref()
            .is_some_and(|p| p.expose().is_empty())
        {
            out.push(("password", "trunk.password is empty".into()));
        }
        if self.realm.as_deref().is_some_and(|r| !printable(r)) {
            out.push((
                "realm",
                "trunk.realm must not be empty nor hold control characters (leave it out to answer any realm)".into(),
            ));
        }
        out
    }

    /// Resolves a relative `password_file` against the project root.
    pub(super) fn resolve(&mut self, base: &Path) {
        if let Some(p) = &mut self.password_file {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// Reads the secret of `password_file` (its first line, line end removed); the message
    /// says what is wrong and how to fix it.
    pub(super) fn read_password_file(&mut self) -> Result<(), String> {
        let Some(path) = &self.password_file else {
            return Ok(());
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "trunk.password_file {}: cannot read: {e} (its first line must be the trunk's password)",
                path.display()
            )
        })?;
        let line = text.lines().next().unwrap_or("");
        if line.is_empty() {
            return Err(format!(
                "trunk.password_file {}: the first line is empty: write the trunk's password there",
                path.display()
            ));
        }
        self.file_secret = Some(Secret::new(line));
        Ok(())
    }

    /// Whether `password_file` can be read by every user of the machine (a secret file
    /// should be the service's alone: `chmod 600`); `check` warns about it.
    pub fn password_file_world_readable(&self) -> bool {
        use std::os::unix::fs::PermissionsExt;
        self.password_file
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .is_some_and(|m| m.permissions().mode() & 0o004 != 0)
    }

    /// The credentials to answer the trunk's challenges with; `None` when none are set.
    pub fn credentials(&self) -> Option<ClientCredentials> {
        let user = self.username.clone()?;
        let secret = self.password.clone().or_else(|| self.file_secret.clone())?;
        Some(ClientCredentials::new(user, secret, self.realm.clone()))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    fn problems(text: &str) -> Vec<String> {
        let config = Config::parse(text, Path::new("x.toml")).expect("parses");
        match config.validate(text, Path::new("x.toml")) {
            Ok(()) => Vec::new(),
            Err(e) => e.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn credentials_need_a_user_and_exactly_one_secret() {
        assert!(problems("[trunk]\nusername = \"hotline\"\npassword = \"s\"\n").is_empty());
        let p = problems("[trunk]\nusername = \"hotline\"\n");
        assert!(
            p[0].starts_with("x.toml:2: trunk.username is set but no secret"),
            "{p:?}"
        );
        let p = problems("[trunk]\naddress = \"127.0.0.1:5090\"\npassword = \"s\"\n");
        assert!(
            p[0].starts_with("x.toml:3: ") && p[0].contains("without trunk.username"),
            "{p:?}"
        );
        let p = problems(
            "[trunk]\nusername = \"u\"\npassword = \"s\"\npassword_file = \"/run/secret\"\n",
        );
        assert!(p[0].starts_with("x.toml:4: set only one of"), "{p:?}");
        let p = problems("[trunk]\nusername = \"u\"\npassword = \"\"\n");
        assert!(p[0].contains("trunk.password is empty"), "{p:?}");
        let p = problems("[trunk]\nusername = \"u\\r\\nX: y\"\npassword = \"s\"\n");
        assert!(p[0].contains("control characters"), "{p:?}");
        let p = problems("[trunk]\nusername = \"u\"\npassword = \"s\"\nrealm = \"\"\n");
        assert!(p[0].starts_with("x.toml:4: trunk.realm"), "{p:?}");
        let err = Config::parse(
            "[trunk]\nusername = \"u\"\npasswd = \"s\"\n",
            Path::new("x.toml"),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("x.toml:3: "), "{err}");
    }

    #[test]
    fn the_password_file_s_first_line_is_the_secret_and_a_bad_file_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let secret = dir.path().join("trunk.secret");
        std::fs::write(&secret, "s3cret \r\nsecond line\n").expect("write");
        let text = format!(
            "[trunk]\naddress = \"127.0.0.1:5090\"\nusername = \"hotline\"\npassword_file = \"{}\"\nrealm = \"carrier\"\n",
            secret.display()
        );
        let path = dir.path().join("hotline.toml");
        std::fs::write(&path, &text).expect("write");
        let config = Config::load(&path).expect("loads");
        let creds = config.trunk.credentials().expect("credentials");
        assert_eq!(creds.username, "hotline");
        assert_eq!(creds.realm.as_deref(), Some("carrier"));
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cret"), "the secret shows in {debug}");
        std::fs::write(&secret, "\n").expect("write");
        let errs = Config::load(&path).unwrap_err();
        let msg = errs[0].to_string();
        assert!(
            msg.contains(":4: trunk.password_file") && msg.contains("first line is empty"),
            "{msg}"
        );
        std::fs::remove_file(&secret).expect("rm");
        let msg = Config::load(&path).unwrap_err()[0].to_string();
        assert!(
            msg.contains(":4: trunk.password_file") && msg.contains("cannot read"),
            "{msg}"
        );
        // Relative to the project root, like the other paths.
        std::fs::create_dir(dir.path().join("config")).expect("mkdir");
        std::fs::write(dir.path().join("trunk.secret"), "x\n").expect("write");
        let nested = dir.path().join("config/hotline.toml");
        std::fs::write(
            &nested,
            "[trunk]\nusername = \"hotline\"\npassword_file = \"trunk.secret\"\n",
        )
        .expect("write");
        assert!(Config::load(&nested)
            .expect("loads")
            .trunk
            .credentials()
            .is_some());
        assert!(Config::parse("", Path::new("x.toml"))
            .expect("empty")
            .trunk
            .credentials()
            .is_none());
    }
}
