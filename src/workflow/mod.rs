//! The ticket (诉求工单) workflow core: legal transitions, working-day deadlines, the event log.
//! It is handed the time and a store; it never reads the clock or the database itself.
