//! The citizen's side of the internet channel (issue 13): query codes, per-address throttles
//! and the arithmetic challenge, submission checks with their refusal codes (zh/en), file
//! sniffing, and what a citizen may see of a ticket. Sans-IO: the shell hands in `now` and
//! random bytes; nothing here reads a clock, a socket or a file.
//!
//! Must not hold ticket rules: what a citizen may do to a ticket is `workflow`'s (`Role::Citizen`).

pub mod code;
pub mod sniff;
pub mod submit;
pub mod throttle;
pub mod view;

pub use code::{CodeKey, QueryCode};
pub use submit::{Lang, Refused};
