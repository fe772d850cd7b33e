//! The dispatch catalogue (派单目录, W5): categories → a lead unit (主办) and assisting units
//! (协办), plus which categories are basic livelihood (W4: dispatch immediately). Parsed from
//! the text of `config/dispatch.toml`; this module never reads the file itself. Dispatch by
//! area (网格化): `[[rule]]`s map a category in an area of the [`AreaTree`] to its units,
//! found by walking up the tree to the category's city-level units; units form a tree of
//! their own (`parent`) through which a unit hands a ticket on to a sub-unit (下派).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::areas::{line_at, AreaTree};
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
    /// A problem with meaning (an area rule, a unit's parent or area, a category that
    /// resolves to no unit somewhere) at the line of the entry to fix.
    #[error("line {line}: {message}")]
    At { line: usize, message: String },
}

impl CatalogueError {
    /// The line to fix, when the problem has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            CatalogueError::Syntax { line, .. } | CatalogueError::At { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// What a unit is: a government body, or a utility or public-service company with its own
/// hotline that the hotline works with (GB/T 44190 6.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    #[default]
    Government,
    /// Water, power, gas, heating, telecoms: `phone` is its own hotline, to which an agent
    /// may transfer the caller.
    Utility,
}

impl UnitKind {
    fn is_default(&self) -> bool {
        *self == UnitKind::Government
    }
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
    #[serde(default, skip_serializing_if = "UnitKind::is_default")]
    pub kind: UnitKind,
    /// The area (code of the area tree) the unit serves; none: the whole city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// The unit above it (a street office under its district's, a district bureau under the
    /// city's): the parent may hand a ticket on to it (下派).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<UnitId>,
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
    /// The city-level lead unit; may be left out only when `[[rule]]`s give one for every
    /// area (`hotline check` proves it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<UnitId>,
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
    #[serde(default, rename = "rule")]
    rules: Vec<AreaRule>,
}

/// Dispatch by area: a category in an area (and every area below it without a nearer rule)
/// goes to these units instead of the category's city-level ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaRule {
    pub category: String,
    /// An area code of `areas.toml`.
    pub area: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<UnitId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assisting: Option<Vec<UnitId>>,
}

/// Where each entry starts, read beside the typed file so meaning errors name a line.
#[derive(Deserialize, Default)]
struct Lines {
    #[serde(default)]
    unit: Vec<Entry>,
    #[serde(default)]
    category: Vec<Entry>,
    #[serde(default)]
    rule: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default, alias = "category")]
    id: Option<toml::Spanned<toml::Value>>,
}

impl Lines {
    fn of(text: &str, list: &[Entry], i: usize) -> usize {
        list.get(i)
            .and_then(|e| e.id.as_ref())
            .map(|s| line_at(text, s.span().start))
            .unwrap_or(1)
    }
}

/// The units a category goes to in an area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Resolved {
    pub lead: UnitId,
    pub assisting: Vec<UnitId>,
    /// The area whose rule chose the lead; none: the category's city-level unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_area: Option<String>,
}

/// The validated catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DispatchCatalogue {
    domains: BTreeSet<String>,
    units: BTreeMap<UnitId, Unit>,
    categories: BTreeMap<String, Category>,
    /// (category, area code) → rule, with the rule's line.
    rules: BTreeMap<(String, String), (AreaRule, usize)>,
    /// The line of each category and unit, for the checks against the area tree.
    category_lines: BTreeMap<String, usize>,
    unit_lines: BTreeMap<UnitId, usize>,
    areas: AreaTree,
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
        let lines: Lines = toml::from_str(text).unwrap_or_default();
        let mut units = BTreeMap::new();
        let mut unit_lines = BTreeMap::new();
        for (i, u) in file.units.into_iter().enumerate() {
            unit_lines.insert(u.id.clone(), Lines::of(text, &lines.unit, i));
            if units.insert(u.id.clone(), u.clone()).is_some() {
                return Err(CatalogueError::Unit {
                    unit: u.id.0,
                    message: "listed twice".into(),
                });
            }
        }
        check_unit_parents(&units, &unit_lines)?;
        let mut categories = BTreeMap::new();
        let mut category_lines = BTreeMap::new();
        for (i, c) in file.categories.into_iter().enumerate() {
            category_lines.insert(c.id.clone(), Lines::of(text, &lines.category, i));
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
            for u in c.lead.iter().chain(&c.assisting) {
                if !units.contains_key(u) {
                    return Err(bad(format!("unknown unit `{u}`; add a [[unit]] entry")));
                }
            }
            if c.lead.as_ref().is_some_and(|l| c.assisting.contains(l)) {
                return Err(bad("the lead unit is also listed as assisting".into()));
            }
            if categories.insert(c.id.clone(), c.clone()).is_some() {
                return Err(bad("listed twice".into()));
            }
        }
        let mut rules = BTreeMap::new();
        for (i, r) in file.rules.into_iter().enumerate() {
            let line = Lines::of(text, &lines.rule, i);
            let at = |message: String| CatalogueError::At { line, message };
            if !categories.contains_key(&r.category) {
                return Err(at(format!(
                    "rule for unknown category `{}`; add a [[category]] entry",
                    r.category
                )));
            }
            if r.lead.is_none() && r.assisting.is_none() {
                return Err(at("a rule names `lead`, `assisting` or both".into()));
            }
            for u in r.lead.iter().chain(r.assisting.iter().flatten()) {
                if !units.contains_key(u) {
                    return Err(at(format!("unknown unit `{u}`; add a [[unit]] entry")));
                }
            }
            let key = (r.category.clone(), r.area.clone());
            if let Some((_, first)) = rules.insert(key, (r.clone(), line)) {
                return Err(at(format!(
                    "a second rule for `{}` in area `{}` (first at line {first})",
                    r.category, r.area
                )));
            }
        }
        Ok(Self {
            domains,
            units,
            categories,
            rules,
            category_lines,
            unit_lines,
            areas: AreaTree::default(),
        })
    }

    /// Binds the area tree: every rule's and unit's area must be in it, and every category
    /// must resolve to a lead unit in every area of it (and for a request with no area).
    pub fn with_areas(mut self, areas: AreaTree) -> Result<Self, CatalogueError> {
        for (rule, line) in self.rules.values() {
            if areas.get(&rule.area).is_none() {
                return Err(CatalogueError::At {
                    line: *line,
                    message: format!("rule area `{}` is not an area of areas.toml", rule.area),
                });
            }
        }
        for u in self.units.values() {
            if let Some(a) = u.area.as_deref().filter(|a| areas.get(a).is_none()) {
                return Err(CatalogueError::At {
                    line: self.unit_lines.get(&u.id).copied().unwrap_or(1),
                    message: format!("unit `{}`: area `{a}` is not an area of areas.toml", u.id),
                });
            }
        }
        self.areas = areas;
        for c in self.categories.values() {
            let line = self.category_lines.get(&c.id).copied().unwrap_or(1);
            if self.resolve(&c.id, None).is_none() {
                return Err(CatalogueError::At {
                    line,
                    message: format!("category `{}` has no city-level `lead`, so a request without an area resolves to no unit: add `lead`", c.id),
                });
            }
            for a in self.areas.iter() {
                if self.resolve(&c.id, Some(&a.code)).is_none() {
                    return Err(CatalogueError::At {
                        line,
                        message: format!(
                            "category `{}` resolves to no unit in area `{}` ({}): add a city-level `lead` or a [[rule]] for that area or one above it",
                            c.id,
                            a.code,
                            self.areas.path_name(&a.code).unwrap_or_default()
                        ),
                    });
                }
            }
        }
        Ok(self)
    }

    /// The area tree the catalogue was bound to (empty when none).
    pub fn areas(&self) -> &AreaTree {
        &self.areas
    }

    /// The units `category` goes to in `area`: the nearest rule up the tree that names a
    /// lead (assisting units likewise, each found on its own), else the category's own.
    /// None for an unknown category, or when nothing gives a lead.
    pub fn resolve(&self, category: &str, area: Option<&str>) -> Option<Resolved> {
        let c = self.categories.get(category)?;
        let up = area.map(|a| self.areas.up(a)).unwrap_or_default();
        let rule = |a: &&super::areas::Area| self.rules.get(&(c.id.clone(), a.code.clone()));
        let by_lead = up
            .iter()
            .find_map(|a| rule(a).and_then(|(r, _)| r.lead.clone().map(|l| (l, a.code.clone()))));
        let assisting = up
            .iter()
            .find_map(|a| rule(a).and_then(|(r, _)| r.assisting.clone()))
            .unwrap_or_else(|| c.assisting.clone());
        let (lead, by_area) = match by_lead {
            Some((l, a)) => (l, Some(a)),
            None => (c.lead.clone()?, None),
        };
        Some(Resolved {
            assisting: assisting.into_iter().filter(|u| *u != lead).collect(),
            lead,
            by_area,
        })
    }

    /// Whether `unit` is below `of` in the units' tree (its sub-unit, or a sub-unit's).
    pub fn is_sub_unit(&self, unit: &UnitId, of: &UnitId) -> bool {
        let mut cur = self.units.get(unit).and_then(|u| u.parent.as_ref());
        // Parents were checked for loops; the bound guards a hand-built value.
        for _ in 0..self.units.len() {
            match cur {
                Some(p) if p == of => return true,
                Some(p) => cur = self.units.get(p).and_then(|u| u.parent.as_ref()),
                None => return false,
            }
        }
        false
    }

    /// The units directly below `of`.
    pub fn sub_units(&self, of: &UnitId) -> impl Iterator<Item = &Unit> {
        let of = of.clone();
        self.units
            .values()
            .filter(move |u| u.parent.as_ref() == Some(&of))
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

/// Every unit's `parent` is a unit, and walking up never comes back.
fn check_unit_parents(
    units: &BTreeMap<UnitId, Unit>,
    lines: &BTreeMap<UnitId, usize>,
) -> Result<(), CatalogueError> {
    for u in units.values() {
        let line = lines.get(&u.id).copied().unwrap_or(1);
        let mut seen = BTreeSet::from([&u.id]);
        let mut cur = u;
        while let Some(p) = &cur.parent {
            let Some(next) = units.get(p) else {
                return Err(CatalogueError::At {
                    line,
                    message: format!("unit `{}`: parent `{p}` is not a unit", cur.id),
                });
            };
            if !seen.insert(p) {
                return Err(CatalogueError::At {
                    line,
                    message: format!("unit `{}`: the parents form a loop through `{p}`", u.id),
                });
            }
            cur = next;
        }
    }
    Ok(())
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
        assert_eq!(water.lead, Some(UnitId::new("water")));
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
