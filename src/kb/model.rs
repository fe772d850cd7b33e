//! What a knowledge item (知识点) is: its content (one version), its source document, its
//! life-cycle state and the events that built it. Validation of one version's content lives
//! here so every way in (the API, an import) refuses the same things with the same codes.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use super::error::KbError;
use crate::workflow::catalogue::DispatchCatalogue;
use crate::workflow::model::UnitId;

/// An item's number: stable across its versions, cited by tickets.
pub type ItemId = u64;

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest answer, in characters.
pub const MAX_ANSWER: usize = 20_000;
/// Most question forms per item.
pub const MAX_QUESTIONS: usize = 50;
/// Longest question form, area, source field, in characters.
pub const MAX_SHORT: usize = 500;

/// The document an answer rests on (政策依据): an item without one is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The document's name (e.g. 《住房公积金管理条例》).
    pub name: String,
    /// Its number (文号), when it has one.
    #[serde(default)]
    pub number: Option<String>,
    /// Who issued it (发文机关).
    pub issuer: String,
    /// Where it is published.
    #[serde(default)]
    pub link: Option<String>,
}

/// One version of an item: everything a unit writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemContent {
    pub title: String,
    /// How citizens ask it, in their words (several).
    pub questions: Vec<String>,
    pub answer: String,
    /// The source document; `null` or absent is refused with `missing_source`.
    #[serde(default)]
    pub source: Option<Source>,
    /// The owning unit (a unit id of the dispatch catalogue, or `hotline`).
    pub unit: UnitId,
    /// A category id of the dispatch catalogue.
    pub category: String,
    /// The area it applies to (全市, a district…).
    pub area: String,
    /// The first day it applies (China date).
    #[schema(value_type = String, format = Date)]
    pub effective: NaiveDate,
    /// The day it stops applying (not served from that day on); none = open-ended.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub expires: Option<NaiveDate>,
    /// Served to citizens on the public search too (default true); internal notes are not.
    #[serde(default = "yes")]
    pub public: bool,
}

fn yes() -> bool {
    true
}

/// The owner id the hotline itself uses for its own items.
pub const HOTLINE_UNIT: &str = "hotline";

impl ItemContent {
    /// Checks one version: source present, dates in order, fields within limits, unit and
    /// category known to the catalogue.
    pub fn validate(&self, catalogue: &DispatchCatalogue) -> Result<(), KbError> {
        let long = |field: &'static str, max: usize, s: &str| {
            if s.chars().count() > max {
                Err(KbError::TooLong { field, max })
            } else {
                Ok(())
            }
        };
        if self.title.trim().is_empty() {
            return Err(KbError::Empty { field: "title" });
        }
        long("title", MAX_TITLE, &self.title)?;
        if self.answer.trim().is_empty() {
            return Err(KbError::Empty { field: "answer" });
        }
        long("answer", MAX_ANSWER, &self.answer)?;
        if self.questions.iter().all(|q| q.trim().is_empty()) {
            return Err(KbError::Empty { field: "questions" });
        }
        if self.questions.len() > MAX_QUESTIONS {
            return Err(KbError::TooMany {
                field: "questions",
                max: MAX_QUESTIONS,
            });
        }
        for q in &self.questions {
            long("questions", MAX_SHORT, q)?;
        }
        if self.area.trim().is_empty() {
            return Err(KbError::Empty { field: "area" });
        }
        long("area", MAX_SHORT, &self.area)?;
        let source = self.source.as_ref().ok_or(KbError::MissingSource)?;
        if source.name.trim().is_empty() || source.issuer.trim().is_empty() {
            return Err(KbError::MissingSource);
        }
        for s in [&source.name, &source.issuer]
            .into_iter()
            .chain(source.number.iter())
            .chain(source.link.iter())
        {
            long("source", MAX_SHORT, s)?;
        }
        if let Some(exp) = self.expires {
            if exp <= self.effective {
                return Err(KbError::ExpiryBeforeEffect {
                    effective: self.effective,
                    expires: exp,
                });
            }
        }
        if self.unit.0.as_str() != HOTLINE_UNIT && catalogue.unit(&self.unit).is_none() {
            return Err(KbError::UnknownUnit(self.unit.to_string()));
        }
        if catalogue.category(&self.category).is_none() {
            return Err(KbError::UnknownCategory(self.category.clone()));
        }
        Ok(())
    }

    /// Whether this version applies on `day`.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.effective <= day && self.expires.is_none_or(|e| day < e)
    }
}

/// Why an item stopped being served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WithdrawReason {
    /// Its expiry date came (the sweep).
    Expired {
        #[schema(value_type = String, format = Date)]
        on: NaiveDate,
    },
    /// Its source document was repealed (废止).
    Repealed { note: String },
}

/// Where the latest version stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ItemState {
    /// Being written; not yet with the editor.
    Draft,
    /// With the knowledge editor.
    InReview,
    /// The editor sent it back; the reason says what to fix.
    SentBack { reason: String },
    /// The latest version is approved (and served while in force).
    Approved,
    /// No longer served.
    Withdrawn { reason: WithdrawReason },
}

impl ItemState {
    /// The state's wire name (for the index, filters and metrics).
    pub fn name(&self) -> &'static str {
        match self {
            ItemState::Draft => "draft",
            ItemState::InReview => "in_review",
            ItemState::SentBack { .. } => "sent_back",
            ItemState::Approved => "approved",
            ItemState::Withdrawn { .. } => "withdrawn",
        }
    }

    /// Every state name, for metrics.
    pub const NAMES: [&'static str; 5] =
        ["draft", "in_review", "sent_back", "approved", "withdrawn"];
}

/// What happened to an item; the item is rebuilt from these in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KbEventKind {
    /// Version 1 written.
    Created {
        content: ItemContent,
    },
    /// A new version written (the earlier ones stay).
    Edited {
        version: u32,
        content: ItemContent,
    },
    Submitted {
        version: u32,
    },
    Approved {
        version: u32,
    },
    SentBack {
        version: u32,
        reason: String,
    },
    Withdrawn {
        reason: WithdrawReason,
    },
    /// The owning unit was told the served version expires soon.
    ExpiryReminded {
        #[schema(value_type = String, format = Date)]
        expires: NaiveDate,
        working_days_left: u32,
    },
}

/// One entry of an item's history: what, who, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KbEvent {
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<FixedOffset>,
    /// The user's name (`sweep` for the automatic withdrawal and reminders).
    pub by: String,
    /// The user's role (`unit:water`, `kb_editor`, `system`…).
    pub role: String,
    #[serde(flatten)]
    pub kind: KbEventKind,
}

/// An item as its events left it: every version, the served one, the state, the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    pub id: ItemId,
    /// Every version, oldest first (version n is `versions[n-1]`).
    pub versions: Vec<ItemContent>,
    /// The approved version served while in force, if any.
    pub served: Option<u32>,
    #[serde(flatten)]
    pub state: ItemState,
    /// The expiry date a reminder was already sent for.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub reminded_for: Option<NaiveDate>,
    pub history: Vec<KbEvent>,
}

impl Item {
    /// The latest version's number.
    pub fn version(&self) -> u32 {
        self.versions.len() as u32
    }

    /// The latest version.
    pub fn latest(&self) -> Option<&ItemContent> {
        self.versions.last()
    }

    /// Version `v` (1-based).
    pub fn get(&self, v: u32) -> Option<&ItemContent> {
        (v as usize)
            .checked_sub(1)
            .and_then(|i| self.versions.get(i))
    }

    /// The served version and its content, when the item is not withdrawn.
    pub fn served_content(&self) -> Option<(u32, &ItemContent)> {
        if matches!(self.state, ItemState::Withdrawn { .. }) {
            return None;
        }
        let v = self.served?;
        Some((v, self.get(v)?))
    }

    /// The owning unit (of the latest version).
    pub fn unit(&self) -> Option<&UnitId> {
        self.latest().map(|c| &c.unit)
    }

    /// Rebuilds an item from its events.
    pub fn replay(id: ItemId, events: impl IntoIterator<Item = KbEvent>) -> Option<Item> {
        let mut item: Option<Item> = None;
        for e in events {
            match item.as_mut() {
                None => {
                    if let KbEventKind::Created { content } = &e.kind {
                        item = Some(Item {
                            id,
                            versions: vec![content.clone()],
                            served: None,
                            state: ItemState::Draft,
                            reminded_for: None,
                            history: vec![e],
                        });
                    }
                }
                Some(it) => it.apply(e),
            }
        }
        item
    }

    /// Applies one event (already decided legal).
    pub fn apply(&mut self, e: KbEvent) {
        match &e.kind {
            KbEventKind::Created { content } => {
                self.versions = vec![content.clone()];
                self.state = ItemState::Draft;
            }
            KbEventKind::Edited { content, .. } => {
                self.versions.push(content.clone());
                if matches!(self.state, ItemState::Withdrawn { .. }) {
                    self.served = None;
                }
                self.state = ItemState::Draft;
            }
            KbEventKind::Submitted { .. } => self.state = ItemState::InReview,
            KbEventKind::Approved { version } => {
                self.served = Some(*version);
                self.state = ItemState::Approved;
                self.reminded_for = None;
            }
            KbEventKind::SentBack { reason, .. } => {
                self.state = ItemState::SentBack {
                    reason: reason.clone(),
                }
            }
            KbEventKind::Withdrawn { reason } => {
                self.state = ItemState::Withdrawn {
                    reason: reason.clone(),
                }
            }
            KbEventKind::ExpiryReminded { expires, .. } => self.reminded_for = Some(*expires),
        }
        self.history.push(e);
    }
}
