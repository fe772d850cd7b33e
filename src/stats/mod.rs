//! KPIs computed from timestamped events: the 15-second answer rate, the rolling 24 h
//! connection rate, waits and abandons, and C12's emergency linkage timing. It is fed events
//! and rows; it reaches into no other room.

pub mod activity;
pub mod agents;
pub mod kpi;
pub mod linkage;
pub mod numbers;
pub mod wallboard;
