//! Analyses over periods for supervisors and the management office: staffing (Erlang C) and
//! the conformance report against the standard's rules. Fed rows and events by the shell; it
//! never reads the database, a file or the clock itself.

pub mod staffing;
