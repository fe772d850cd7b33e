//! C13 on the wallboard: the ticket store counts, every few seconds, the internet requests past
//! 3 minutes without a response and the last 24 h of them responded to within 3 minutes; and
//! C12: it reads the last day's linkages to emergency hotlines for their timing.

use super::tickets::TicketApi;
use crate::stats::linkage::Linkage;
use crate::workflow::store::TicketStore;

/// How often the wallboard's count of unanswered internet requests (C13) is refreshed: a
/// small fraction of the 3 minutes they may wait.
pub const INTERNET_WATCH_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Counts the internet requests without a response past 3 minutes, and the rolling 24 h
/// response figures, every `every`, for the wallboard's C13 alarm and rate. Two indexed
/// queries; the last good count stays if the store fails.
pub fn spawn_internet_watch(
    api: TicketApi,
    every: std::time::Duration,
    out: tokio::sync::watch::Sender<crate::workflow::store::InternetFigures>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let now = (api.clock)();
            let figures = api
                .worker()
                .call(move |s, _| {
                    let day_ago = now - chrono::Duration::hours(24);
                    Ok(crate::workflow::store::InternetFigures {
                        backlog: s.internet_backlog(now)?,
                        last_24h: s.internet_response(
                            day_ago,
                            now + chrono::Duration::seconds(1),
                            now,
                        )?,
                    })
                })
                .await;
            match figures {
                Ok(f) => {
                    out.send_if_modified(|cur| std::mem::replace(cur, f) != f);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "counting internet requests failed")
                }
            }
        }
    })
}

/// C12's linkages of the last 24 h (and a little more), as the ticket store last read them:
/// the wallboard and `GET /api/stats` compute their timing over their own windows.
pub type LinkageWatch = tokio::sync::watch::Receiver<std::sync::Arc<Vec<Linkage>>>;

/// Reads the linkages to emergency and utility hotlines of the last 25 hours every `every`
/// (one indexed range query), for the wallboard's C12 timing; the last good read stays if
/// the store fails.
pub fn spawn_linkage_watch(
    api: TicketApi,
    every: std::time::Duration,
    out: tokio::sync::watch::Sender<std::sync::Arc<Vec<Linkage>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let now = (api.clock)();
            let rows = api
                .worker()
                .call(move |s, _| {
                    Ok(s.emergency_linkages(
                        now - chrono::Duration::hours(25),
                        now + chrono::Duration::minutes(1),
                    )?)
                })
                .await;
            match rows {
                Ok(rows) => {
                    let rows: Vec<Linkage> = rows.iter().filter_map(linkage).collect();
                    out.send_if_modified(|cur| {
                        let changed = **cur != rows;
                        if changed {
                            *cur = std::sync::Arc::new(rows);
                        }
                        changed
                    });
                }
                Err(e) => tracing::warn!(error = %e, "reading the emergency linkages failed"),
            }
        }
    })
}

/// A stored linkage as the statistics take it (one recorded before its time was, is left out).
fn linkage(l: &crate::workflow::store::EmergencyLinkage) -> Option<Linkage> {
    Some(Linkage {
        service: crate::shell::ticket_store::wire(&l.service),
        at: l.at.with_timezone(&chrono::Utc),
        after_secs: u64::try_from(l.after_secs?).unwrap_or(0),
    })
}
