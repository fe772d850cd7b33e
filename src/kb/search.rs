//! Search through a [`Search`] trait: what is asked (a query with filters and a day), what
//! comes back (ranked hits with a highlighted snippet), and the engine-free parts every
//! implementation shares: synonym groups from config, stop words, snippets. The index itself
//! (segmentation, ranking) is the shell's (`shell::kb_store`).

use chrono::NaiveDate;
use serde::Serialize;

use super::model::{ItemContent, ItemId};

/// A search: words as a citizen or an agent typed them, filters, and the day that decides
/// what is in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: String,
    pub area: Option<String>,
    pub category: Option<String>,
    pub unit: Option<String>,
    /// Only items marked public (the citizens' search).
    pub public_only: bool,
    /// Also items not in force on `today` (staff looking at old or future items).
    pub include_not_in_force: bool,
    pub today: NaiveDate,
    /// Most hits returned.
    pub limit: usize,
}

/// One ranked result.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Hit {
    pub id: ItemId,
    /// The served version (cite this one).
    pub version: u32,
    pub title: String,
    /// A short passage with the matched words in `<mark>…</mark>` (the rest HTML-escaped).
    pub snippet: String,
    /// Higher is better (BM25-based, only comparable within one search).
    pub score: f64,
    pub unit: String,
    pub category: String,
    pub area: String,
    /// The source document's name.
    pub source: String,
}

/// An index failed (the backend's words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("search index: {0}")]
pub struct SearchError(pub String);

/// A full-text index over the served versions of the items.
pub trait Search {
    /// Puts (or replaces) the served version of an item.
    fn put(&mut self, id: ItemId, version: u32, content: &ItemContent) -> Result<(), SearchError>;
    /// Takes an item out (withdrawn, or nothing approved).
    fn remove(&mut self, id: ItemId) -> Result<(), SearchError>;
    /// The best hits for a query, best first.
    fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>, SearchError>;
}

/// Groups of words that mean the same (医保 / 医疗保险): a query word of a group also finds
/// the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
}

impl Synonyms {
    /// Groups as configured; empty words and one-word groups are dropped.
    pub fn new(groups: impl IntoIterator<Item = Vec<String>>) -> Self {
        let groups = groups
            .into_iter()
            .map(|g| {
                g.into_iter()
                    .map(|w| w.trim().to_string())
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|g| g.len() > 1)
            .collect();
        Self { groups }
    }

    /// `word` and every word sharing a group with it.
    pub fn expand(&self, word: &str) -> Vec<String> {
        let mut out = vec![word.to_string()];
        for g in self.groups.iter().filter(|g| g.iter().any(|w| w == word)) {
            for w in g {
                if !out.contains(w) {
                    out.push(w.clone());
                }
            }
        }
        out
    }

    /// Every word of every group (a segmenter learns them as words).
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().flatten().map(String::as_str)
    }
}

/// Words that carry no meaning for a search (how citizens frame a question).
const STOP: &[&str] = &[
    "的",
    "了",
    "吗",
    "呢",
    "吧",
    "啊",
    "是",
    "我",
    "我们",
    "你",
    "你们",
    "他",
    "她",
    "在",
    "有",
    "和",
    "与",
    "或",
    "要",
    "想",
    "能",
    "可以",
    "怎么",
    "怎么办",
    "怎样",
    "如何",
    "什么",
    "请问",
    "一下",
    "哪里",
    "哪儿",
    "多少",
    "为什么",
    "还",
    "就",
    "都",
    "也",
    "被",
    "把",
    "给",
    "从",
    "到",
    "去",
    "这",
    "那",
    "这个",
    "那个",
    "个",
    "没有",
    "不",
    "没",
    "么",
    "办",
    "呀",
    "嘛",
    "问",
    "知道",
    "需要",
    "应该",
    "现在",
    "家",
    "里",
    "上",
    "下",
    "该",
    "找",
    "哪个",
    "几",
    "吗？",
];

/// Whether a segmented query word is worth searching for.
pub fn is_search_word(w: &str) -> bool {
    let w = w.trim();
    !w.is_empty() && w.chars().any(char::is_alphanumeric) && !STOP.contains(&w)
}

fn escape(out: &mut String, c: char) {
    match c {
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '&' => out.push_str("&amp;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

/// A passage of about `width` characters of `text` around the first of `words` found, every
/// occurrence of a word wrapped in `<mark>…</mark>`, the rest HTML-escaped; the start of the
/// text when none is found.
pub fn snippet(text: &str, words: &[String], width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let words: Vec<Vec<char>> = {
        let mut w: Vec<Vec<char>> = words
            .iter()
            .filter(|w| !w.is_empty())
            .map(|w| w.chars().collect())
            .collect();
        // Longest first, so 医疗保险 is marked whole rather than as 医疗.
        w.sort_by_key(|w| std::cmp::Reverse(w.len()));
        w
    };
    let matches_at = |i: usize| {
        words
            .iter()
            .find(|w| chars.len() >= i + w.len() && chars[i..i + w.len()] == w[..])
            .map(Vec::len)
    };
    let first = (0..chars.len()).find(|&i| matches_at(i).is_some());
    let start = first.map_or(0, |f| f.saturating_sub(width / 4));
    let end = (start + width).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut i = start;
    while i < end {
        match matches_at(i) {
            Some(n) => {
                out.push_str("<mark>");
                for &c in &chars[i..(i + n).min(chars.len())] {
                    escape(&mut out, c);
                }
                out.push_str("</mark>");
                i += n;
            }
            None => {
                escape(&mut out, chars[i]);
                i += 1;
            }
        }
    }
    if end < chars.len() {
        out.push('…');
    }
    out
}
