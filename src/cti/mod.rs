//! The HTTP API (JSON) and pages: health, live calls, call records. Holds no business rules:
//! it asks the engine and renders what it answers.

pub mod auth;
pub mod tickets;
