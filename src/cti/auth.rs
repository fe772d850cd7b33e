//! Bearer tokens → who is calling (rule C16: access control). `config/users.toml` maps each
//! token to a user and a role: hotline agent, handling unit (with its unit id), reviewer,
//! supervisor. A unit sees and acts on its own tickets only; the workflow core decides what
//! each role may do, this module only says who is asking.

use std::collections::HashMap;

use axum::http::HeaderMap;
use serde::Deserialize;

use crate::workflow::catalogue::DispatchCatalogue;
use crate::workflow::model::{Actor, Role, UnitId};

/// A problem in `users.toml`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsersError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("user `{user}`: {message}")]
    Invalid { user: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default, rename = "user")]
    users: Vec<UserEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum RoleName {
    Agent,
    Unit,
    Reviewer,
    Supervisor,
    Wallboard,
    Channel,
    DataSharing,
    KbEditor,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    token: String,
    user: String,
    role: RoleName,
    #[serde(default)]
    unit: Option<String>,
    /// A `channel` user's channels (`["public_account", "app"]`).
    #[serde(default)]
    channels: Option<Vec<crate::workflow::model::Channel>>,
    /// A `data_sharing` user's fields (`docs/EXPORT.md`).
    #[serde(default)]
    export_fields: Option<Vec<String>>,
    /// A `data_sharing` user's field classes shown whole (`name`, `number`, `address`,
    /// `content`); every other class is masked.
    #[serde(default)]
    unmasked: Option<Vec<crate::analytics::export::FieldClass>>,
}

/// The token table.
#[derive(Clone, Default)]
pub struct Users {
    by_token: HashMap<String, Actor>,
    /// The channels each connector (`role = "channel"`) may hand requests in on.
    channels: HashMap<String, Vec<crate::workflow::model::Channel>>,
    /// What each data-sharing consumer (`role = "data_sharing"`) may export, and how masked.
    exports: HashMap<String, crate::analytics::export::ExportPolicy>,
}

impl std::fmt::Debug for Users {
    /// The users, never their tokens (a debug log must not hand out credentials).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.by_token.values().map(|a| &a.user))
            .finish()
    }
}

impl Users {
    /// Parses `users.toml` and checks every unit user names a unit of the catalogue.
    pub fn from_toml_str(text: &str, catalogue: &DispatchCatalogue) -> Result<Self, UsersError> {
        let file: UsersFile = toml::from_str(text).map_err(|e| UsersError::Syntax {
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1),
            message: e.message().to_string(),
        })?;
        let mut by_token = HashMap::new();
        let mut channels = HashMap::new();
        let mut exports = HashMap::new();
        for u in file.users {
            let bad = |message: &str| UsersError::Invalid {
                user: u.user.clone(),
                message: message.to_string(),
            };
            if u.token.len() < 8 {
                return Err(bad("token must be at least 8 characters"));
            }
            let role = match (u.role, &u.unit) {
                (RoleName::Unit, Some(unit)) => {
                    let id = UnitId::new(unit.clone());
                    if catalogue.unit(&id).is_none() {
                        return Err(bad("`unit` is not a unit of the dispatch catalogue"));
                    }
                    Role::Unit(id)
                }
                (RoleName::Unit, None) => return Err(bad("a unit user needs `unit = \"<id>\"`")),
                (_, Some(_)) => return Err(bad("only unit users have a `unit`")),
                (RoleName::Agent, None) => Role::Agent,
                (RoleName::Reviewer, None) => Role::Reviewer,
                (RoleName::Supervisor, None) => Role::Supervisor,
                (RoleName::Wallboard, None) => Role::Wallboard,
                (RoleName::Channel, None) => Role::Channel,
                (RoleName::DataSharing, None) => Role::DataSharing,
                (RoleName::KbEditor, None) => Role::KbEditor,
            };
            match (&role, &u.export_fields) {
                (Role::DataSharing, Some(fields)) if !fields.is_empty() => {
                    if let Some(f) = fields
                        .iter()
                        .find(|f| crate::analytics::export::class_of(f).is_none())
                    {
                        return Err(bad(&format!(
                            "`export_fields` names `{f}`, not a field of docs/EXPORT.md"
                        )));
                    }
                    exports.insert(
                        u.user.clone(),
                        crate::analytics::export::ExportPolicy {
                            fields: fields.clone(),
                            unmasked: u.unmasked.clone().unwrap_or_default(),
                        },
                    );
                }
                (Role::DataSharing, _) => {
                    return Err(bad(
                        "a data_sharing user needs `export_fields = [\"id\", …]`",
                    ))
                }
                (_, Some(_)) => return Err(bad("only data_sharing users have `export_fields`")),
                _ => {}
            }
            if u.unmasked.is_some() && role != Role::DataSharing {
                return Err(bad("only data_sharing users have `unmasked`"));
            }
            match (&role, &u.channels) {
                (Role::Channel, Some(list)) if !list.is_empty() => {
                    use crate::workflow::model::Channel as C;
                    if list.iter().any(|c| !(c.is_internet() || *c == C::Mailbox)) {
                        return Err(bad(
                            "`channels` may list web, app, mini_program, public_account, mailbox",
                        ));
                    }
                    channels.insert(u.user.clone(), list.clone());
                }
                (Role::Channel, _) => {
                    return Err(bad("a channel user needs `channels = [\"app\", …]`"))
                }
                (_, Some(_)) => return Err(bad("only channel users have `channels`")),
                _ => {}
            }
            if by_token
                .insert(u.token.clone(), Actor::new(u.user.clone(), role))
                .is_some()
            {
                return Err(bad("token used twice"));
            }
        }
        Ok(Self {
            by_token,
            channels,
            exports,
        })
    }

    /// Whether any token is one of the shipped demo tokens (`demo-…`): fine on loopback,
    /// never on a network.
    pub fn has_demo_tokens(&self) -> bool {
        self.by_token.keys().any(|t| t.starts_with("demo-"))
    }

    /// The caller named by `Authorization: Bearer <token>`, if the token is known.
    pub fn authenticate(&self, headers: &HeaderMap) -> Option<&Actor> {
        let value = headers
            .get(axum::http::header::AUTHORIZATION)?
            .to_str()
            .ok()?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))?;
        self.by_token(token.trim())
    }

    /// The user a bare token names: pages' `EventSource` cannot send headers, so live streams
    /// also take `?access_token=` (RFC 6750 §2.3).
    pub fn by_token(&self, token: &str) -> Option<&Actor> {
        self.by_token.get(token)
    }

    /// The channels a connector user may hand requests in on.
    pub fn channels_of(&self, user: &str) -> &[crate::workflow::model::Channel] {
        self.channels
            .get(user)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// What a data-sharing consumer may export, and how masked.
    pub fn export_policy(&self, user: &str) -> Option<&crate::analytics::export::ExportPolicy> {
        self.exports.get(user)
    }

    /// Number of configured users.
    pub fn len(&self) -> usize {
        self.by_token.len()
    }

    /// Whether no user is configured (every request is then refused).
    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }
}

/// The caller a request's bearer token names, or the API's 401: every route asks this. A
/// channel connector's token is refused here (403): it may hand requests in and nothing else.
pub(crate) fn bearer(
    users: &Users,
    headers: &axum::http::HeaderMap,
) -> Result<Actor, crate::cti::ApiError> {
    let actor = any_bearer(users, headers)?;
    if actor.role == Role::Channel {
        return Err(crate::cti::ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            "a channel token hands requests in (POST /api/channels/{channel}/requests), nothing else",
        ));
    }
    if actor.role == Role::DataSharing {
        return Err(crate::cti::ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            "a data-sharing token exports tickets (GET /api/export/tickets), nothing else",
        ));
    }
    Ok(actor)
}

/// The caller a bearer token names, whatever the role (the connector's route asks this).
pub(crate) fn any_bearer(
    users: &Users,
    headers: &axum::http::HeaderMap,
) -> Result<Actor, crate::cti::ApiError> {
    users.authenticate(headers).cloned().ok_or_else(|| {
        crate::cti::ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send `Authorization: Bearer <token>` with a configured token",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> DispatchCatalogue {
        DispatchCatalogue::from_toml_str(include_str!("../../config/dispatch.toml")).unwrap()
    }

    #[test]
    fn data_sharing_users_name_known_fields_and_nobody_else_does() {
        let c = catalogue();
        let users = Users::from_toml_str(include_str!("../../config/users.toml"), &c).unwrap();
        let p = users.export_policy("statistics-bureau").unwrap();
        assert!(p.fields.iter().any(|f| f == "caller_phone"));
        assert_eq!(p.unmasked, [crate::analytics::export::FieldClass::Address]);
        assert!(users
            .export_policy("planning-office")
            .unwrap()
            .unmasked
            .is_empty());
        let entry = |role: &str, extra: &str| {
            format!("[[user]]\ntoken = \"t-12345678\"\nuser = \"u\"\nrole = \"{role}\"\n{extra}")
        };
        for (text, says) in [
            (entry("data_sharing", ""), "needs `export_fields"),
            (
                entry("data_sharing", "export_fields = [\"password\"]\n"),
                "not a field",
            ),
            (
                entry("agent", "export_fields = [\"id\"]\n"),
                "only data_sharing",
            ),
            (
                entry("supervisor", "unmasked = [\"name\"]\n"),
                "only data_sharing",
            ),
        ] {
            let e = Users::from_toml_str(&text, &c).err().unwrap().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn shipped_users_cover_every_unit_of_the_catalogue() {
        let c = catalogue();
        let users = Users::from_toml_str(include_str!("../../config/users.toml"), &c).unwrap();
        let mut h = HeaderMap::new();
        for unit in c.units() {
            h.insert(
                "authorization",
                format!("Bearer demo-unit-{}", unit.id).parse().unwrap(),
            );
            assert_eq!(
                users.authenticate(&h).map(|a| a.role.clone()),
                Some(Role::Unit(unit.id.clone()))
            );
        }
        for (token, role) in [
            ("demo-supervisor", Role::Supervisor),
            ("demo-reviewer", Role::Reviewer),
            ("demo-agent-1006", Role::Agent),
        ] {
            h.insert("authorization", format!("Bearer {token}").parse().unwrap());
            assert_eq!(users.authenticate(&h).map(|a| a.role.clone()), Some(role));
        }
        h.insert("authorization", "Bearer nope-nope-nope".parse().unwrap());
        assert!(users.authenticate(&h).is_none());
    }

    #[test]
    fn a_channel_user_names_its_internet_channels_and_is_refused_elsewhere() {
        let c = catalogue();
        let ok = "[[user]]\ntoken = \"abcdefgh\"\nuser = \"wx\"\nrole = \"channel\"\nchannels = [\"public_account\"]\n";
        let users = Users::from_toml_str(ok, &c).unwrap();
        assert_eq!(
            users.channels_of("wx"),
            &[crate::workflow::model::Channel::PublicAccount]
        );
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer abcdefgh".parse().unwrap());
        assert_eq!(bearer(&users, &h).unwrap_err().status, 403);
        assert_eq!(any_bearer(&users, &h).unwrap().role, Role::Channel);
        for bad in [
            "[[user]]\ntoken = \"abcdefgh\"\nuser = \"wx\"\nrole = \"channel\"\n",
            "[[user]]\ntoken = \"abcdefgh\"\nuser = \"wx\"\nrole = \"channel\"\nchannels = [\"phone\"]\n",
            "[[user]]\ntoken = \"abcdefgh\"\nuser = \"a\"\nrole = \"agent\"\nchannels = [\"app\"]\n",
        ] {
            assert!(Users::from_toml_str(bad, &c).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_unit_user_must_name_a_known_unit() {
        let e = Users::from_toml_str(
            "[[user]]\ntoken = \"abcdefgh\"\nuser = \"x\"\nrole = \"unit\"\nunit = \"mars\"\n",
            &catalogue(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("not a unit"), "{e}");
    }
}
