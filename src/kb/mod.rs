//! The knowledge base (知识库, issue 16): knowledge items with every version kept, their
//! review (draft → in review → approved / sent back), withdrawal on expiry or repeal, the
//! expiry reminder in working days, and search through the [`search::Search`] trait.
//! Sans-IO: it is handed the time and the catalogue; it knows neither HTTP nor the store's
//! engine (the SQLite store and its full-text index are `shell::kb_store`).
//!
//! | module | owns |
//! |---|---|
//! | [`model`] | the item, one version's content and its validation, states, events |
//! | [`lifecycle`] | who may do what when: command → events or refusal; the expiry sweep |
//! | [`search`] | the `Search` trait, queries, hits, synonyms, stop words, snippets |
//! | [`transfer`] | import / export as JSON lines and CSV (a bad line names itself) |
//! | [`usage`] | what the knowledge page counts: gaps (searches that found nothing), citations, items near expiry |
//! | [`error`] | typed refusals with stable codes |

pub mod error;
pub mod lifecycle;
pub mod model;
pub mod search;
pub mod transfer;
pub mod usage;

pub use error::KbError;
pub use lifecycle::{decide, sweep, Command};
pub use model::{Item, ItemContent, ItemId, ItemState, KbEvent, KbEventKind, Source};
pub use search::{Hit, Search, SearchError, SearchQuery, Synonyms};

#[cfg(test)]
mod tests;
