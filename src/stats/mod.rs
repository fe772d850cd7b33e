//! KPIs computed from timestamped events: the 15-second answer rate, the rolling 24 h
//! connection rate, waits and abandons. It is fed events; it reaches into no other room.

pub mod kpi;
pub mod wallboard;
