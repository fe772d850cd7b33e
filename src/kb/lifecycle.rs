//! The life cycle as a sans-IO state machine: a command from someone at a time → the events
//! to store, or a refusal. Draft → in review → approved / sent back with a reason; withdrawn
//! when the source is repealed or (by [`sweep`]) on the expiry date; the owning unit reminded
//! a configured number of working days ahead. Units touch only their own items; only the
//! knowledge editor (or a supervisor) approves.

use chrono::{DateTime, FixedOffset};

use super::error::KbError;
use super::model::{Item, ItemContent, ItemState, KbEvent, KbEventKind, WithdrawReason};
use crate::workflow::calendar::WorkCalendar;
use crate::workflow::catalogue::DispatchCatalogue;
use crate::workflow::model::{china, Actor, Role};

/// What someone asks of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Write a new version (version 1 when the item is new).
    Write(Box<ItemContent>),
    /// Hand the latest version to the editor.
    Submit,
    Approve,
    SendBack {
        reason: String,
    },
    /// The source was repealed (or the item is wrong): stop serving it now.
    Withdraw {
        note: String,
    },
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Write(_) => "editing",
            Command::Submit => "submitting",
            Command::Approve => "approving",
            Command::SendBack { .. } => "sending back",
            Command::Withdraw { .. } => "withdrawing",
        }
    }
}

fn editor(actor: &Actor) -> bool {
    matches!(actor.role, Role::KbEditor | Role::Supervisor)
}

/// Whether `actor` may write an item owned by `content.unit`.
fn may_write(actor: &Actor, content: &ItemContent) -> bool {
    editor(actor) || matches!(&actor.role, Role::Unit(u) if *u == content.unit)
}

/// Decides `cmd` on `item` (`None`: a new item). The events carry who and when.
pub fn decide(
    item: Option<&Item>,
    actor: &Actor,
    cmd: Command,
    at: DateTime<FixedOffset>,
    catalogue: &DispatchCatalogue,
) -> Result<Vec<KbEvent>, KbError> {
    let ev = |kind| KbEvent {
        at,
        by: actor.user.clone(),
        role: actor.role.name(),
        kind,
    };
    let Some(item) = item else {
        let Command::Write(content) = cmd else {
            return Err(KbError::WrongState {
                state: "new",
                action: cmd.name(),
                needs: "written first",
            });
        };
        if !may_write(actor, &content) {
            return Err(KbError::Forbidden(
                "a unit writes items of its own unit; the knowledge editor writes any",
            ));
        }
        content.validate(catalogue)?;
        return Ok(vec![ev(KbEventKind::Created { content: *content })]);
    };
    let latest = item.latest().ok_or(KbError::NotFound(item.id))?;
    let action = cmd.name();
    let wrong = |needs| KbError::WrongState {
        state: item.state.name(),
        action,
        needs,
    };
    match &cmd {
        Command::Write(_) | Command::Submit | Command::Withdraw { .. } => {
            if !may_write(actor, latest) {
                return Err(KbError::Forbidden(
                    "only the owning unit or the knowledge editor changes an item",
                ));
            }
        }
        Command::Approve | Command::SendBack { .. } => {
            if !editor(actor) {
                return Err(KbError::Forbidden(
                    "only the knowledge editor reviews items",
                ));
            }
        }
    }
    let kind = match cmd {
        Command::Write(content) => {
            if item.state == ItemState::InReview {
                return Err(wrong("out of review (ask the editor to send it back)"));
            }
            if !may_write(actor, &content) {
                return Err(KbError::Forbidden(
                    "a unit cannot hand its item to another unit",
                ));
            }
            content.validate(catalogue)?;
            KbEventKind::Edited {
                version: item.version() + 1,
                content: *content,
            }
        }
        Command::Submit => match item.state {
            ItemState::Draft | ItemState::SentBack { .. } => KbEventKind::Submitted {
                version: item.version(),
            },
            _ => return Err(wrong("a draft or sent back")),
        },
        Command::Approve => match item.state {
            ItemState::InReview => KbEventKind::Approved {
                version: item.version(),
            },
            _ => return Err(wrong("in review")),
        },
        Command::SendBack { reason } => {
            if reason.trim().is_empty() {
                return Err(KbError::NoReason);
            }
            match item.state {
                ItemState::InReview => KbEventKind::SentBack {
                    version: item.version(),
                    reason,
                },
                _ => return Err(wrong("in review")),
            }
        }
        Command::Withdraw { note } => {
            if note.trim().is_empty() {
                return Err(KbError::NoReason);
            }
            match item.state {
                ItemState::Withdrawn { .. } => return Err(wrong("not withdrawn already")),
                _ => KbEventKind::Withdrawn {
                    reason: WithdrawReason::Repealed { note },
                },
            }
        }
    };
    Ok(vec![ev(kind)])
}

/// The automatic part: every served item whose expiry date has come is withdrawn; every
/// served item expiring within `remind_working_days` working days gets one reminder for its
/// owning unit (once per expiry date).
pub fn sweep<'a>(
    items: impl IntoIterator<Item = &'a Item>,
    at: DateTime<FixedOffset>,
    calendar: &WorkCalendar,
    remind_working_days: u32,
) -> Vec<(u64, KbEvent)> {
    let today = at.with_timezone(&china()).date_naive();
    let sys = Actor::system();
    let ev = |kind| KbEvent {
        at,
        by: sys.user.clone(),
        role: sys.role.name(),
        kind,
    };
    let mut out = Vec::new();
    for item in items {
        let Some((_, content)) = item.served_content() else {
            continue;
        };
        let Some(expires) = content.expires else {
            continue;
        };
        if today >= expires {
            out.push((
                item.id,
                ev(KbEventKind::Withdrawn {
                    reason: WithdrawReason::Expired { on: expires },
                }),
            ));
        } else if item.reminded_for != Some(expires) {
            let left =
                calendar.working_days_between(at, crate::workflow::calendar::start_of_day(expires));
            if left <= remind_working_days {
                out.push((
                    item.id,
                    ev(KbEventKind::ExpiryReminded {
                        expires,
                        working_days_left: left,
                    }),
                ));
            }
        }
    }
    out
}
