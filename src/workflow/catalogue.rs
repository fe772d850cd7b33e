//! The dispatch catalogue (派单目录, W5): categories → a lead unit (主办) and assisting units
//! (协办), plus which categories are basic livelihood (W4: dispatch immediately). Parsed from
//! the text of `config/dispatch.toml`; this module never reads the file itself.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::model::{Domain, UnitId, STANDARD_DOMAINS};

/// A problem in the catalogue, with the line (syntax) or the entry (meaning) to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("category `{category}`: {message}")]
    Category { category: String, message: String },
    #[error("unit `{unit}`: {message}")]
    Unit { unit: String, message: String },
}

/// A handling unit (办理单位).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub id: UnitId,
    pub name: String,
}

/// A catalogue entry: what kind of matter goes to whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub domain: Domain,
    pub lead: UnitId,
    #[serde(default)]
    pub assisting: Vec<UnitId>,
    /// Water, power, gas, heating, public transport: dispatched immediately (W4).
    #[serde(default)]
    pub basic_livelihood: bool,
    /// Words that suggest this category to an agent (a hint, never an automatic dispatch).
    #[serde(default)]
    pub keywords: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default, rename = "unit")]
    units: Vec<Unit>,
    #[serde(default, rename = "category")]
    categories: Vec<Category>,
}

/// The validated catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DispatchCatalogue {
    domains: BTreeSet<String>,
    units: BTreeMap<UnitId, Unit>,
    categories: BTreeMap<String, Category>,
}

impl DispatchCatalogue {
    /// Parses and cross-checks the catalogue: every unit a category names exists, the lead is
    /// not also an assisting unit, domains are known (the five standard ones plus `domains`).
    pub fn from_toml_str(text: &str) -> Result<Self, CatalogueError> {
        let file: CatalogueFile = toml::from_str(text).map_err(|e| CatalogueError::Syntax {
            line: e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1),
            message: e.message().to_string(),
        })?;
        let mut domains: BTreeSet<String> =
            STANDARD_DOMAINS.iter().map(|s| s.to_string()).collect();
        domains.extend(file.domains);
        let mut units = BTreeMap::new();
        for u in file.units {
            if units.insert(u.id.clone(), u.clone()).is_some() {
                return Err(CatalogueError::Unit {
                    unit: u.id.0,
                    message: "listed twice".into(),
                });
            }
        }
        let mut categories = BTreeMap::new();
        for c in file.categories {
            let bad = |message: String| CatalogueError::Category {
                category: c.id.clone(),
                message,
            };
            if !domains.contains(&c.domain.0) {
                return Err(bad(format!(
                    "unknown domain `{}`; add it to `domains`",
                    c.domain.0
                )));
            }
            for u in std::iter::once(&c.lead).chain(&c.assisting) {
                if !units.contains_key(u) {
                    return Err(bad(format!("unknown unit `{u}`; add a [[unit]] entry")));
                }
            }
            if c.assisting.contains(&c.lead) {
                return Err(bad("the lead unit is also listed as assisting".into()));
            }
            if categories.insert(c.id.clone(), c.clone()).is_some() {
                return Err(bad("listed twice".into()));
            }
        }
        Ok(Self {
            domains,
            units,
            categories,
        })
    }

    /// Whether a domain may be used on a ticket.
    pub fn has_domain(&self, d: &Domain) -> bool {
        self.domains.contains(&d.0)
    }

    /// The allowed domains.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.domains.iter().map(String::as_str)
    }

    /// A unit by id.
    pub fn unit(&self, id: &UnitId) -> Option<&Unit> {
        self.units.get(id)
    }

    /// Every unit.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }

    /// A category by id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.get(id)
    }

    /// Every category.
    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    /// Categories whose keywords occur in `content` (a hint for the agent), best first.
    pub fn suggest(&self, content: &str) -> Vec<&Category> {
        let mut hits: Vec<(usize, &Category)> = self
            .categories
            .values()
            .map(|c| {
                (
                    c.keywords
                        .iter()
                        .filter(|k| content.contains(k.as_str()))
                        .count(),
                    c,
                )
            })
            .filter(|(n, _)| *n > 0)
            .collect();
        hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        hits.into_iter().map(|(_, c)| c).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../config/dispatch.toml");

    #[test]
    fn shipped_catalogue_loads() {
        let c = DispatchCatalogue::from_toml_str(SHIPPED).unwrap();
        assert!(c.units().count() >= 8);
        let water = c.category("water_supply").unwrap();
        assert!(water.basic_livelihood);
        assert_eq!(water.lead, UnitId::new("water"));
        assert_eq!(c.suggest("小区停水三天了")[0].id, "water_supply");
    }

    #[test]
    fn unknown_unit_is_refused() {
        let e = DispatchCatalogue::from_toml_str(
            "[[category]]\nid = \"x\"\nname = \"x\"\ndomain = \"public_service\"\nlead = \"nobody\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown unit `nobody`"), "{e}");
    }
}
