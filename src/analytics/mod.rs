//! Analyses over periods for supervisors and the management office: staffing (Erlang C),
//! the conformance report against the standard's rules, masked data sharing, trends and the
//! early warnings (W19). Fed rows and events by the shell; it
//! never reads the database, a file or the clock itself.

pub mod conformance;
mod conformance_callbacks;
mod conformance_tickets;
pub mod deadlines;
pub mod export;
pub mod staffing;
pub mod trends;
pub mod warnings;
#[cfg(test)]
mod warnings_tests;

/// A value's serde name (`web`, `satisfied`, …), for the report's keys.
pub(crate) fn wire_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
