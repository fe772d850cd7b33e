//! The wallboard's picture at an instant: per queue the calls waiting, the longest wait and
//! its colour, agents by state; overall the KPIs; and the alarms a supervisor must not miss
//! (a queue nobody staffs, a call past 15 s, the 24 h connection rate under 95 %). Built from
//! plain figures the cti layer hands in, so this room reaches into no other.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::kpi::{KpiSnapshot, Rates, SeriesPoint, Targets, ANSWER_TARGET};

/// A wait turns amber here: five seconds before the target, time to act.
pub const WAIT_AMBER: Duration = Duration::from_secs(10);

/// How a wait looks against the 15-second target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitLevel {
    Ok,
    Amber,
    Red,
}

impl WaitLevel {
    /// The colour of a wait: amber from 10 s, red past the 15 s target.
    pub fn of(wait: Option<Duration>) -> WaitLevel {
        match wait {
            Some(w) if w > ANSWER_TARGET => WaitLevel::Red,
            Some(w) if w >= WAIT_AMBER => WaitLevel::Amber,
            _ => WaitLevel::Ok,
        }
    }
}

/// Agents by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AgentCounts {
    pub logged_out: u32,
    /// Ready with a registered phone: available.
    pub ready: u32,
    /// Ready on the desk, but their phone is not registered: not available.
    pub ready_no_phone: u32,
    pub not_ready: u32,
    /// Ringing: offered a call, not answered yet.
    pub reserved: u32,
    pub talking: u32,
    /// On a colleague's call (consult, conference, interpreter): busy, like talking.
    pub assisting: u32,
    pub wrap_up: u32,
}

/// One queue's figures as the ACD reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueInput {
    pub name: String,
    pub waiting: usize,
    pub ringing: usize,
    pub longest_wait: Option<Duration>,
    pub agents: AgentCounts,
    pub unstaffed: bool,
}

/// One queue on the board.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueView {
    pub name: String,
    /// Calls waiting for a person, including those whose agent's phone rings.
    pub waiting: usize,
    pub ringing: usize,
    pub longest_wait_s: Option<u64>,
    pub wait_level: WaitLevel,
    pub agents: AgentCounts,
    pub unstaffed: bool,
    /// The queue's rates today and over the rolling 24 h (`null` before its first call).
    pub today: Option<Rates>,
    pub last_24h: Option<Rates>,
}

/// An alarm banner.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Alarm {
    /// C1: nobody is logged in for this queue; its callers keep waiting.
    QueueUnstaffed { queue: String },
    /// C2: a caller has waited past the 15-second target.
    CallPastTarget { queue: String, wait_s: u64 },
    /// C3: the rolling 24 h connection rate is under 95 %.
    ConnectionRateBelowTarget { rate: f64 },
    /// C13: requests from the internet channels nobody has responded to within 3 minutes.
    InternetRequestsUnanswered { requests: u64, oldest_wait_s: u64 },
    /// C13: a web request has waited for an agent longer than `[web] alarm_after` (2.5 min by
    /// default), so its 3-minute response is at risk.
    WebRequestWaiting { wait_s: u64, alarm_after_s: u64 },
    /// The data folder is full: tickets, call records and recordings cannot be written (the
    /// engine retries the calls' drafts until there is room). Free space now.
    StorageFull,
}

/// Everything the wallboard page draws, and `GET /api/stats` answers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Wallboard {
    #[serde(serialize_with = "crate::china_time::serialize")]
    pub at: DateTime<Utc>,
    pub queues: Vec<QueueView>,
    /// All queues together: waiting, the longest wait, and every agent once.
    pub waiting: usize,
    pub longest_wait_s: Option<u64>,
    pub wait_level: WaitLevel,
    pub agents: AgentCounts,
    /// The two numbers and the counts behind them, overall.
    pub today: Rates,
    pub last_24h: Rates,
    pub targets: Targets,
    /// 96 bars of 15 minutes with the rolling 24 h connection rate.
    pub series: Vec<SeriesPoint>,
    /// The two numbers per service number dialled (integrated numbers, `docs/KPI.md`).
    pub by_number: Vec<super::kpi::NumberRates>,
    /// `GET /api/stats?number=`: the number `today`, `last_24h`, `series`, `by_number` and
    /// the connection-rate alarm are about; queues and agents stay whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    pub alarms: Vec<Alarm>,
    /// Web requests (C13) waiting for an agent, not yet offered to one.
    pub web_waiting: usize,
    /// Web requests on an agent's desk, offered and not yet accepted.
    pub web_offered: usize,
    /// The longest wait of a web request not yet accepted (`null` when none waits).
    pub web_longest_wait_s: Option<u64>,
    /// When a web request's wait raises its alarm.
    pub web_alarm_after_s: u64,
    /// The internet requests of the last 24 h: responded to within 3 minutes or not.
    pub web_last_24h: WebRates,
    /// C12: seconds from the citizen's request (the call's start) to the linkage with
    /// 110/119/120/122 or a utility hotline, per service, today and over the last 24 h.
    pub emergency_linkage: crate::stats::linkage::LinkageFigures,
}

/// C13 over a period: internet requests received, responded to within 3 minutes, late, and
/// still inside their 3 minutes; `rate` = within / (within + late), `null` before any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WebRates {
    pub received: u64,
    pub within_3_min: u64,
    pub late: u64,
    pub waiting: u64,
    pub rate: Option<f64>,
}

/// The internet channel's figures as the ACD and the ticket store report them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WebInput {
    pub waiting: usize,
    pub offered: usize,
    pub longest_wait: Option<Duration>,
    pub alarm_after: Duration,
    pub last_24h: WebRates,
}

impl Wallboard {
    /// The board from the ACD's queues, every agent's state once (`agents`) and the KPIs.
    pub fn build(
        at: DateTime<Utc>,
        queues: Vec<QueueInput>,
        agents: AgentCounts,
        kpi: KpiSnapshot,
    ) -> Wallboard {
        let mut alarms = Vec::new();
        for q in &queues {
            if q.unstaffed {
                alarms.push(Alarm::QueueUnstaffed {
                    queue: q.name.clone(),
                });
            }
            if let Some(w) = q.longest_wait.filter(|w| *w > ANSWER_TARGET) {
                alarms.push(Alarm::CallPastTarget {
                    queue: q.name.clone(),
                    wait_s: w.as_secs(),
                });
            }
        }
        if kpi.alarms.contains(&"connection_rate_below_target") {
            if let Some(rate) = kpi.last_24h.connection_rate {
                alarms.push(Alarm::ConnectionRateBelowTarget { rate });
            }
        }
        let longest = queues.iter().filter_map(|q| q.longest_wait).max();
        let rates = |name: &str| kpi.queues.iter().find(|r| r.queue == name);
        Wallboard {
            at,
            waiting: queues.iter().map(|q| q.waiting).sum(),
            longest_wait_s: longest.map(|w| w.as_secs()),
            wait_level: WaitLevel::of(longest),
            agents,
            queues: queues
                .into_iter()
                .map(|q| QueueView {
                    wait_level: WaitLevel::of(q.longest_wait),
                    longest_wait_s: q.longest_wait.map(|w| w.as_secs()),
                    today: rates(&q.name).map(|r| r.today),
                    last_24h: rates(&q.name).map(|r| r.last_24h),
                    name: q.name,
                    waiting: q.waiting,
                    ringing: q.ringing,
                    agents: q.agents,
                    unstaffed: q.unstaffed,
                })
                .collect(),
            today: kpi.today,
            last_24h: kpi.last_24h,
            targets: kpi.targets,
            series: kpi.series,
            by_number: kpi.by_number,
            number: kpi.number,
            alarms,
            web_waiting: 0,
            web_offered: 0,
            web_longest_wait_s: None,
            web_alarm_after_s: 0,
            web_last_24h: WebRates::default(),
            emergency_linkage: Default::default(),
        }
    }

    /// Adds C12's linkage timing from the linkages of the last 24 h, over the board's windows.
    pub fn with_linkages(mut self, rows: &[crate::stats::linkage::Linkage]) -> Self {
        self.emergency_linkage = crate::stats::linkage::LinkageFigures::at(rows, self.at);
        self
    }

    /// Adds the internet channel's figures, and their alarm when a web request has waited
    /// past `alarm_after` without an agent accepting it.
    pub fn with_web(mut self, web: WebInput) -> Self {
        self.web_waiting = web.waiting;
        self.web_offered = web.offered;
        self.web_longest_wait_s = web.longest_wait.map(|w| w.as_secs());
        self.web_alarm_after_s = web.alarm_after.as_secs();
        self.web_last_24h = web.last_24h;
        if let Some(w) = web.longest_wait.filter(|w| *w > web.alarm_after) {
            self.alarms.push(Alarm::WebRequestWaiting {
                wait_s: w.as_secs(),
                alarm_after_s: web.alarm_after.as_secs(),
            });
        }
        self
    }

    /// Adds the `storage_full` alarm while the data folder refuses writes.
    pub fn with_storage_full(mut self, full: bool) -> Self {
        if full {
            self.alarms.push(Alarm::StorageFull);
        }
        self
    }

    /// Adds C13's alarm when `requests` internet requests (the oldest waiting
    /// `oldest_wait_s`) have had no response within 3 minutes; the ticket store counts them.
    pub fn with_unanswered_internet(mut self, requests: u64, oldest_wait_s: u64) -> Self {
        if requests > 0 {
            self.alarms.push(Alarm::InternetRequestsUnanswered {
                requests,
                oldest_wait_s,
            });
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::kpi::{Kpis, Outcome};
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0)
            .single()
            .unwrap()
    }

    fn queue(name: &str, wait: Option<u64>, unstaffed: bool) -> QueueInput {
        QueueInput {
            name: name.into(),
            waiting: usize::from(wait.is_some()),
            ringing: 0,
            longest_wait: wait.map(Duration::from_secs),
            agents: AgentCounts::default(),
            unstaffed,
        }
    }

    #[test]
    fn waits_turn_amber_at_10_s_and_red_past_15_s() {
        let s = Duration::from_secs;
        assert_eq!(WaitLevel::of(None), WaitLevel::Ok);
        assert_eq!(WaitLevel::of(Some(s(9))), WaitLevel::Ok);
        assert_eq!(WaitLevel::of(Some(s(10))), WaitLevel::Amber);
        assert_eq!(WaitLevel::of(Some(s(15))), WaitLevel::Amber);
        assert_eq!(WaitLevel::of(Some(s(16))), WaitLevel::Red);
    }

    #[test]
    fn alarms_name_the_queue_and_the_rate() {
        let mut k = Kpis::new(Duration::from_secs(5), 20);
        for i in 0..30 {
            let o = if i < 20 {
                Outcome::Answered {
                    wait: Duration::from_secs(3),
                }
            } else {
                Outcome::Abandoned {
                    wait: Duration::from_secs(30),
                }
            };
            k.record(None, o, at() - chrono::Duration::minutes(i));
        }
        let board = Wallboard::build(
            at(),
            vec![
                queue("general", Some(16), false),
                queue("sign", None, true),
                queue("dialect", Some(11), false),
            ],
            AgentCounts::default(),
            k.snapshot(at()),
        );
        assert_eq!(board.waiting, 2);
        assert_eq!(board.longest_wait_s, Some(16));
        assert_eq!(board.wait_level, WaitLevel::Red);
        assert_eq!(board.queues[2].wait_level, WaitLevel::Amber);
        assert_eq!(
            board.alarms[..2],
            [
                Alarm::CallPastTarget {
                    queue: "general".into(),
                    wait_s: 16
                },
                Alarm::QueueUnstaffed {
                    queue: "sign".into()
                },
            ]
        );
        assert!(matches!(
            board.alarms[2],
            Alarm::ConnectionRateBelowTarget { rate } if (rate - 20.0 / 30.0).abs() < 1e-9
        ));
        // C13: only when a request is actually waiting, with the page's field names.
        assert_eq!(board.clone().with_unanswered_internet(0, 0).alarms.len(), 3);
        let board = board.with_unanswered_internet(2, 420);
        let json = serde_json::to_value(&board.alarms[3]).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"kind": "internet_requests_unanswered", "requests": 2, "oldest_wait_s": 420})
        );
        // C13 on the board: a web request past `alarm_after` raises its own alarm.
        let web = WebInput {
            waiting: 2,
            offered: 1,
            longest_wait: Some(Duration::from_secs(150)),
            alarm_after: Duration::from_secs(150),
            last_24h: WebRates::default(),
        };
        let calm = board.clone().with_web(web);
        assert_eq!(
            (calm.web_waiting, calm.web_offered, calm.web_longest_wait_s),
            (2, 1, Some(150))
        );
        assert_eq!(calm.alarms.len(), 4);
        let late = board.clone().with_web(WebInput {
            longest_wait: Some(Duration::from_secs(151)),
            ..web
        });
        assert_eq!(
            serde_json::to_value(&late.alarms[4]).expect("json"),
            serde_json::json!({"kind": "web_request_waiting", "wait_s": 151, "alarm_after_s": 150})
        );
        // A full data folder (issue 12 item 8) is a banner of its own while it lasts.
        assert_eq!(board.clone().with_storage_full(false).alarms.len(), 4);
        let full = board.with_storage_full(true);
        assert_eq!(
            serde_json::to_value(&full.alarms[4]).expect("json"),
            serde_json::json!({"kind": "storage_full"})
        );
    }
}
