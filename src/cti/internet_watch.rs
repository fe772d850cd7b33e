//! C13 on the wallboard: the ticket store counts, every few seconds, the internet requests past
//! 3 minutes without a response and the last 24 h of them responded to within 3 minutes.

use super::tickets::TicketApi;
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
