//! Why the knowledge base says no: one variant per reason, each with a stable code.

use chrono::NaiveDate;

/// A refused knowledge-base command or item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KbError {
    #[error("an item needs its source document (name and issuing body)")]
    MissingSource,
    #[error("the expiry date {expires} is not after the effective date {effective}")]
    ExpiryBeforeEffect {
        effective: NaiveDate,
        expires: NaiveDate,
    },
    #[error("`{field}` is empty")]
    Empty { field: &'static str },
    #[error("`{field}` is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("`{field}` has more than {max} entries")]
    TooMany { field: &'static str, max: usize },
    #[error("unit `{0}` is not in the dispatch catalogue")]
    UnknownUnit(String),
    #[error("category `{0}` is not in the dispatch catalogue")]
    UnknownCategory(String),
    #[error("no knowledge item {0}")]
    NotFound(u64),
    #[error("item {item} has no version {version}")]
    NoSuchVersion { item: u64, version: u32 },
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the item is {state}; {action} needs it {needs}")]
    WrongState {
        state: &'static str,
        action: &'static str,
        needs: &'static str,
    },
    #[error("a reason is needed")]
    NoReason,
}

impl KbError {
    /// The machine-readable code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            KbError::MissingSource => "missing_source",
            KbError::ExpiryBeforeEffect { .. } => "expiry_before_effect",
            KbError::Empty { .. } => "empty_field",
            KbError::TooLong { .. } => "too_long",
            KbError::TooMany { .. } => "too_many",
            KbError::UnknownUnit(_) => "unknown_unit",
            KbError::UnknownCategory(_) => "unknown_category",
            KbError::NotFound(_) => "not_found",
            KbError::NoSuchVersion { .. } => "no_such_version",
            KbError::Forbidden(_) => "forbidden",
            KbError::WrongState { .. } => "wrong_state",
            KbError::NoReason => "reason_required",
        }
    }
}
