//! Outbound calling (issue 15): the dialler that calls citizens back through the trunk,
//! within the operator's rules. Sans-IO like every core: it is handed requests, outcomes and
//! the time, and says whom to dial and when to wake it; the shell places the calls.
//! Must not open sockets or know how a call is carried.

pub mod dialler;
pub mod result;
pub mod rules;
pub mod settings;

#[cfg(test)]
mod tests;
