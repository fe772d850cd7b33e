//! Supervisors' phones (`[[supervisor]]` in `agents.toml`): they register like agents' phones
//! but never take calls; the engine rings one when its supervisor listens to, whispers on or
//! barges into a call (rule C16). Validated here so the registrar and the call room can
//! trust them.

use std::collections::HashSet;

use serde::Deserialize;
use toml::Spanned;

use super::validate::{credentials, Errors, Source};
use super::{Credentials, Secret};

/// A supervisor's phone.
#[derive(Debug, Clone)]
pub struct SupervisorPhone {
    /// The supervisor's user in `config/users.toml` (whose token asks to monitor).
    pub user: String,
    /// The user part the phone registers with (defaults to `user`).
    pub sip_user: String,
    pub credentials: Credentials,
    /// The shipped `demo-<user>` password (fine on loopback only).
    pub demo_password: bool,
}

/// A `[[supervisor]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSupervisor {
    user: String,
    sip_user: Option<String>,
    password: Option<Secret>,
    ha1_md5: Option<String>,
    ha1_sha256: Option<String>,
}

/// Validates the supervisors' phones; `taken` holds the agents' SIP users (one phone, one
/// account).
pub(super) fn supervisors(
    raw: &[Spanned<RawSupervisor>],
    taken: &HashSet<String>,
    realm: &str,
    src: Source<'_>,
    errs: &mut Errors,
) -> Vec<SupervisorPhone> {
    let mut users = HashSet::new();
    let mut sip_users = HashSet::new();
    let mut out = Vec::new();
    for s in raw {
        let span = s.span();
        let s = s.get_ref();
        let owner = format!("supervisor {}", s.user);
        let sip_user = s.sip_user.clone().unwrap_or_else(|| s.user.clone());
        if !super::validate::is_name(&s.user) || !super::validate::is_name(&sip_user) {
            errs.at(
                src,
                &span,
                format!(
                    "{owner}: `user` and `sip_user` must be 1–64 letters, digits, '-', '_' or '.'"
                ),
            );
            continue;
        }
        if !users.insert(s.user.clone()) {
            errs.at(
                src,
                &span,
                format!("{owner} has two phones: keep one [[supervisor]]"),
            );
        }
        if taken.contains(&sip_user) || !sip_users.insert(sip_user.clone()) {
            errs.at(
                src,
                &span,
                format!("{owner}: sip_user {sip_user} is already another phone's"),
            );
        }
        let secrets = (&s.password, &s.ha1_md5, &s.ha1_sha256);
        if let Some((credentials, demo_password)) =
            credentials(&owner, &s.user, &sip_user, realm, secrets, &span, src, errs)
        {
            out.push(SupervisorPhone {
                user: s.user.clone(),
                sip_user,
                credentials,
                demo_password,
            });
        }
    }
    out
}
