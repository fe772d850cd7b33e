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
    /// The unit's hotline desk, dialled through the `[transfer]` gateway when an agent brings
    /// the unit onto a citizen's call (W3 three-way transfer); none: it cannot be conferenced.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "phone_number"
    )]
    pub phone: Option<String>,
}

/// The longest unit phone number: an E.164 number (15 digits) with an extension and a
/// prefix fits; anything longer is a typo.
pub const MAX_UNIT_PHONE: usize = 32;

/// Whether `s` is something a gateway can dial: digits, `+`, `*`, `#`, at most
/// [`MAX_UNIT_PHONE`] of them.
pub fn is_dialable(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_UNIT_PHONE
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'*' | b'#'))
}

/// `phone`, checked while parsing so that a bad number is reported at its line.
fn phone_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    if !is_dialable(&s) {
        return Err(serde::de::Error::custom(format!(
            "`phone` {s:?} is not a number a gateway can dial: use digits, `+`, `*` or `#`, at most {MAX_UNIT_PHONE} of them"
        )));
    }
    Ok(Some(s))
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

    /// The units that can be dialled (unit id → `phone`), for the call engine.
    pub fn unit_numbers(&self) -> BTreeMap<String, String> {
        self.units
            .values()
            .filter_map(|u| u.phone.clone().map(|p| (u.id.0.clone(), p)))
            .collect()
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
    fn every_shipped_unit_with_a_phone_loads_and_water_reuses_its_hotline() {
        let c = DispatchCatalogue::from_toml_str(SHIPPED).unwrap();
        let numbers = c.unit_numbers();
        assert_eq!(numbers.get("water").map(String::as_str), Some("96116"));
        assert_eq!(
            numbers.len(),
            c.units().count(),
            "every demo unit has a phone"
        );
        assert!(numbers.values().all(|n| is_dialable(n)));
    }

    #[test]
    fn a_bad_unit_phone_is_refused_at_its_line() {
        for bad in ["\"\"", "\"12a45\"", "\"1234 5678\"", "\"sip:1@x\"", "123"] {
            let text = format!("[[unit]]\nid = \"w\"\nname = \"W\"\nphone = {bad}\n");
            let e = DispatchCatalogue::from_toml_str(&text).unwrap_err();
            assert!(
                matches!(&e, CatalogueError::Syntax { line: 4, .. }),
                "{bad}: {e}"
            );
        }
        let long = "1".repeat(MAX_UNIT_PHONE + 1);
        let text = format!("[[unit]]\nid = \"w\"\nname = \"W\"\nphone = \"{long}\"\n");
        let e = DispatchCatalogue::from_toml_str(&text).unwrap_err();
        assert!(e.to_string().starts_with("line 4: "), "{e}");
        assert!(e.to_string().contains("at most 32"), "{e}");
        let dash = "[[unit]]\nid = \"w\"\nname = \"W\"\nphone = \"+86-10\"\n";
        assert!(
            DispatchCatalogue::from_toml_str(dash).is_err(),
            "a dash is not dialable"
        );
        let ok = "[[unit]]\nid = \"w\"\nname = \"W\"\nphone = \"+861012345*9#\"\n";
        let c = DispatchCatalogue::from_toml_str(ok).unwrap();
        assert_eq!(c.unit_numbers()["w"], "+861012345*9#");
        let none = "[[unit]]\nid = \"w\"\nname = \"W\"\n";
        assert!(DispatchCatalogue::from_toml_str(none)
            .unwrap()
            .unit_numbers()
            .is_empty());
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
