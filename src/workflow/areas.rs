//! The administrative area tree (网格化: city → district/county → street/town →
//! community/village) with codes in the GB/T 2260 / statistical-division style: 6 digits for
//! the city and its districts, 9 for a street or town, 12 for a community or village. Parsed
//! from the text of `config/areas.toml`; this module never reads the file itself. Dispatch by
//! area ([`super::catalogue`]) walks up this tree.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// A problem in the area file, at the line to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct AreaError {
    pub line: usize,
    pub message: String,
}

/// How deep an area sits in the tree; the code's length follows from it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    /// 市 (the root): 6 digits ending in `00`.
    City,
    /// 区/县: 6 digits, the city's first 4 then 2 more.
    District,
    /// 街道/乡镇: the district's 6 digits then 3 more.
    Street,
    /// 社区/村: the street's 9 digits then 3 more.
    Community,
}

impl AreaLevel {
    fn from_depth(depth: usize) -> Option<Self> {
        [Self::City, Self::District, Self::Street, Self::Community]
            .get(depth)
            .copied()
    }
}

/// One area of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Area {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    /// None only for the city.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaFile {
    #[serde(default, rename = "area")]
    areas: Vec<AreaEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaEntry {
    code: Spanned<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    parent: Option<Spanned<String>>,
}

/// The validated tree. Empty (no file) means dispatch by area is off: every category goes to
/// its city-level unit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AreaTree {
    areas: BTreeMap<String, Area>,
}

/// The line (1-based) of byte offset `at` in `text`.
pub(crate) fn line_at(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

impl AreaTree {
    /// Parses and checks the tree: every code unique and all digits, exactly one city (the
    /// only area without a parent), every parent exists, no loop, no deeper than a
    /// community, each code's length and prefix consistent with its parent, a name.
    pub fn from_toml_str(text: &str) -> Result<Self, AreaError> {
        let file: AreaFile = toml::from_str(text).map_err(|e| AreaError {
            line: e.span().map(|s| line_at(text, s.start)).unwrap_or(1),
            message: e.message().to_string(),
        })?;
        let line = |s: &Spanned<String>| line_at(text, s.span().start);
        let mut seen: BTreeMap<&str, (&AreaEntry, usize)> = BTreeMap::new();
        for a in &file.areas {
            let code = a.code.get_ref().as_str();
            let at = line(&a.code);
            if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AreaError {
                    line: at,
                    message: format!("area code {code:?} is not all digits (GB/T 2260: 6 digits for a city or district, 9 for a street or town, 12 for a community or village)"),
                });
            }
            if a.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
                return Err(AreaError {
                    line: at,
                    message: format!("area `{code}` has no `name`"),
                });
            }
            if let Some((_, first)) = seen.insert(code, (a, at)) {
                return Err(AreaError {
                    line: at,
                    message: format!("area code `{code}` is listed twice (first at line {first})"),
                });
            }
        }
        let roots: Vec<_> = file.areas.iter().filter(|a| a.parent.is_none()).collect();
        if roots.len() > 1 {
            return Err(AreaError {
                line: line(&roots[1].code),
                message: format!(
                    "a second area without `parent` (`{}`); the tree has one city, at line {}: give this one its parent",
                    roots[1].code.get_ref(),
                    line(&roots[0].code)
                ),
            });
        }
        for a in &file.areas {
            if let Some(p) = &a.parent {
                if !seen.contains_key(p.get_ref().as_str()) {
                    return Err(AreaError {
                        line: line(p),
                        message: format!(
                            "area `{}`: parent `{}` is not an area of this file",
                            a.code.get_ref(),
                            p.get_ref()
                        ),
                    });
                }
            }
        }
        // A loop: walking up from an area comes back to an area already on the way.
        let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
        for a in &file.areas {
            let mut path: Vec<&str> = vec![a.code.get_ref()];
            let mut on_path: BTreeSet<&str> = path.iter().copied().collect();
            let mut cur = a;
            while let Some(p) = &cur.parent {
                let p = p.get_ref().as_str();
                if !on_path.insert(p) {
                    let at = line(cur.parent.as_ref().unwrap_or(&cur.code));
                    path.push(p);
                    return Err(AreaError {
                        line: at,
                        message: format!(
                            "the parents form a loop ({}): every area leads up to the one city",
                            path.join(" → ")
                        ),
                    });
                }
                path.push(p);
                match seen.get(p) {
                    Some((next, _)) => cur = next,
                    None => break,
                }
            }
            depth.insert(a.code.get_ref(), path.len() - 1);
        }
        if roots.is_empty() && !file.areas.is_empty() {
            return Err(AreaError {
                line: line(&file.areas[0].code),
                message: "no area without `parent`: the tree needs its city".into(),
            });
        }
        let mut areas = BTreeMap::new();
        for a in &file.areas {
            let code = a.code.get_ref().clone();
            let d = depth.get(code.as_str()).copied().unwrap_or(0);
            let at = line(&a.code);
            let Some(level) = AreaLevel::from_depth(d) else {
                return Err(AreaError {
                    line: at,
                    message: format!("area `{code}` is {d} levels below the city; the tree stops at communities and villages (3 levels)"),
                });
            };
            let parent = a.parent.as_ref().map(|p| p.get_ref().clone());
            let want = match level {
                AreaLevel::City | AreaLevel::District => 6,
                AreaLevel::Street => 9,
                AreaLevel::Community => 12,
            };
            if code.len() != want {
                return Err(AreaError {
                    line: at,
                    message: format!(
                        "area `{code}` is a {level:?} and its code has {} digits; GB/T 2260 style wants {want}",
                        code.len()
                    ),
                });
            }
            let prefix_ok = match (&level, &parent) {
                (AreaLevel::City, _) => code.ends_with("00"),
                (AreaLevel::District, Some(p)) => code[..4] == p[..4] && !code.ends_with("00"),
                (_, Some(p)) => code.starts_with(p.as_str()) && !code.ends_with("000"),
                (_, None) => false,
            };
            if !prefix_ok {
                return Err(AreaError {
                    line: at,
                    message: match &parent {
                        None => format!("the city's code `{code}` must end in `00`"),
                        Some(p) => format!(
                            "area `{code}`'s code does not extend its parent's `{p}` (a district keeps the city's first 4 digits, a street the district's 6, a community the street's 9, and adds a non-zero part)"
                        ),
                    },
                });
            }
            areas.insert(
                code.clone(),
                Area {
                    code,
                    name: a.name.clone().unwrap_or_default().trim().to_string(),
                    level,
                    parent,
                },
            );
        }
        Ok(Self { areas })
    }

    /// Whether the tree has no area (dispatch by area is off).
    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// An area by code.
    pub fn get(&self, code: &str) -> Option<&Area> {
        self.areas.get(code)
    }

    /// Every area, by code.
    pub fn iter(&self) -> impl Iterator<Item = &Area> {
        self.areas.values()
    }

    /// The area and its ancestors, the area first and the city last (empty for an unknown code).
    pub fn up(&self, code: &str) -> Vec<&Area> {
        let mut out = Vec::new();
        let mut cur = self.areas.get(code);
        while let Some(a) = cur {
            // The tree was checked for loops; the bound only guards a hand-built value.
            if out.len() > 4 {
                break;
            }
            out.push(a);
            cur = a.parent.as_deref().and_then(|p| self.areas.get(p));
        }
        out
    }

    /// The path from the city down to the area, names joined by ` › ` (what a person reads).
    pub fn path_name(&self, code: &str) -> Option<String> {
        let up = self.up(code);
        if up.is_empty() {
            return None;
        }
        Some(
            up.iter()
                .rev()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(" › "),
        )
    }

    /// The district (or county) the area lies in; the city itself has none.
    pub fn district_of(&self, code: &str) -> Option<&Area> {
        self.up(code)
            .into_iter()
            .find(|a| a.level == AreaLevel::District)
    }

    /// Areas whose name contains `q` (after trimming), shallowest first then by code, at most
    /// `limit` of them.
    pub fn search(&self, q: &str, limit: usize) -> Vec<&Area> {
        let q = q.trim();
        let mut hits: Vec<&Area> = self
            .areas
            .values()
            .filter(|a| q.is_empty() || a.name.contains(q) || a.code.starts_with(q))
            .collect();
        hits.sort_by(|a, b| a.level.cmp(&b.level).then(a.code.cmp(&b.code)));
        hits.truncate(limit);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../config/areas.toml");

    #[test]
    fn the_shipped_city_loads_with_districts_streets_and_communities() {
        let t = AreaTree::from_toml_str(SHIPPED).unwrap();
        let count = |l| t.iter().filter(|a| a.level == l).count();
        assert_eq!(count(AreaLevel::City), 1);
        assert!(count(AreaLevel::District) >= 3);
        for d in t.iter().filter(|a| a.level == AreaLevel::District) {
            let streets: Vec<_> = t
                .iter()
                .filter(|a| a.parent.as_deref() == Some(&d.code))
                .collect();
            assert!(
                streets.len() >= 2,
                "{} has {} streets",
                d.name,
                streets.len()
            );
            for s in streets {
                let n = t
                    .iter()
                    .filter(|a| a.parent.as_deref() == Some(&s.code))
                    .count();
                assert!(n >= 2, "{} has {n} communities", s.name);
            }
        }
    }

    #[test]
    fn search_by_part_of_a_name_gives_the_path() {
        let t = AreaTree::from_toml_str(SHIPPED).unwrap();
        let hits = t.search("滨江", 10);
        let street = hits
            .iter()
            .find(|a| a.level == AreaLevel::Street)
            .expect("a street named 滨江…");
        assert_eq!(
            t.path_name(&street.code).unwrap(),
            "江临市 › 临江区 › 滨江街道"
        );
        assert_eq!(t.district_of(&street.code).unwrap().name, "临江区");
        assert!(t.search("没有这个地方", 10).is_empty());
        assert_eq!(t.search("", 3).len(), 3);
        assert_eq!(t.search("", 3)[0].level, AreaLevel::City);
    }

    fn err(text: &str) -> AreaError {
        AreaTree::from_toml_str(text).unwrap_err()
    }

    const CITY: &str = "[[area]]\ncode = \"351000\"\nname = \"江临市\"\n";

    #[test]
    fn a_loop_is_refused_at_its_line() {
        let text = format!(
            "{CITY}\n[[area]]\ncode = \"351002\"\nname = \"甲区\"\nparent = \"351002001\"\n\n[[area]]\ncode = \"351002001\"\nname = \"乙街道\"\nparent = \"351002\"\n"
        );
        let e = err(&text);
        assert!(e.message.contains("loop"), "{e}");
        assert!(e.line == 8 || e.line == 13, "{e}");
    }

    #[test]
    fn duplicates_orphans_bad_prefixes_and_missing_names_are_refused_at_their_line() {
        let dup = format!("{CITY}\n[[area]]\ncode = \"351000\"\nname = \"又一个\"\n");
        let e = err(&dup);
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("twice"), "{e}");
        let orphan =
            format!("{CITY}\n[[area]]\ncode = \"351002\"\nname = \"甲区\"\nparent = \"351100\"\n");
        let e = err(&orphan);
        assert_eq!(e.line, 8, "{e}");
        assert!(e.message.contains("not an area"), "{e}");
        let two_roots = format!("{CITY}\n[[area]]\ncode = \"352000\"\nname = \"别市\"\n");
        assert!(err(&two_roots).message.contains("second area without"));
        let prefix = format!("{CITY}\n[[area]]\ncode = \"351002\"\nname = \"甲区\"\nparent = \"351000\"\n\n[[area]]\ncode = \"351003001\"\nname = \"乙街道\"\nparent = \"351002\"\n");
        let e = err(&prefix);
        assert_eq!(e.line, 11, "{e}");
        assert!(e.message.contains("does not extend"), "{e}");
        let length =
            format!("{CITY}\n[[area]]\ncode = \"3510021\"\nname = \"甲区\"\nparent = \"351000\"\n");
        assert!(err(&length).message.contains("wants 6"));
        let nameless = "[[area]]\ncode = \"351000\"\n";
        assert_eq!(err(nameless).line, 2);
        let letters = "[[area]]\ncode = \"35A000\"\nname = \"x\"\n";
        assert!(err(letters).message.contains("digits"));
        assert!(AreaTree::from_toml_str("").unwrap().is_empty());
    }
}
