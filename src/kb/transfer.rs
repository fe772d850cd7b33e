//! Import and export in plain formats (docs/KB.md): JSON lines (one item's content per line,
//! the API's field names) and CSV (a header row, question forms separated by `|`). An import
//! is all or nothing: the first bad line is named and the whole file refused.

use chrono::NaiveDate;

use super::error::KbError;
use super::model::{ItemContent, Source};
use crate::workflow::catalogue::DispatchCatalogue;
use crate::workflow::model::UnitId;

/// Why an import file was refused: the line (1-based, the header is line 1 in CSV) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ImportError {
    pub line: usize,
    /// The refusal's code when the content itself was refused (`missing_source`…).
    pub code: &'static str,
    pub message: String,
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 13] = [
    "title",
    "questions",
    "answer",
    "source_name",
    "source_number",
    "source_issuer",
    "source_link",
    "unit",
    "category",
    "area",
    "effective",
    "expires",
    "public",
];

/// Most items in one import.
pub const MAX_IMPORT: usize = 100_000;

fn checked(
    line: usize,
    c: ItemContent,
    catalogue: &DispatchCatalogue,
) -> Result<ItemContent, ImportError> {
    c.validate(catalogue).map_err(|e: KbError| ImportError {
        line,
        code: e.code(),
        message: e.to_string(),
    })?;
    Ok(c)
}

fn too_many(line: usize) -> ImportError {
    ImportError {
        line,
        code: "too_many",
        message: format!("an import holds at most {MAX_IMPORT} items"),
    }
}

/// Reads JSON lines; blank lines are skipped.
pub fn parse_jsonl(
    text: &str,
    catalogue: &DispatchCatalogue,
) -> Result<Vec<ItemContent>, ImportError> {
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        if l.trim().is_empty() {
            continue;
        }
        if out.len() >= MAX_IMPORT {
            return Err(too_many(line));
        }
        let c: ItemContent = serde_json::from_str(l).map_err(|e| ImportError {
            line,
            code: "malformed",
            message: e.to_string(),
        })?;
        out.push(checked(line, c, catalogue)?);
    }
    Ok(out)
}

/// Writes JSON lines.
pub fn to_jsonl<'a>(items: impl IntoIterator<Item = &'a ItemContent>) -> String {
    let mut out = String::new();
    for c in items {
        if let Ok(s) = serde_json::to_string(c) {
            out.push_str(&s);
            out.push('\n');
        }
    }
    out
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn date(line: usize, field: &str, s: &str) -> Result<NaiveDate, ImportError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| ImportError {
        line,
        code: "malformed",
        message: format!("`{field}` must be a date like 2026-01-31, not `{s}`"),
    })
}

/// Reads CSV with the [`CSV_HEADER`] columns.
pub fn parse_csv(
    text: &str,
    catalogue: &DispatchCatalogue,
) -> Result<Vec<ItemContent>, ImportError> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header = r.headers().map_err(|e| ImportError {
        line: 1,
        code: "malformed",
        message: e.to_string(),
    })?;
    if header.iter().map(str::trim).ne(CSV_HEADER) {
        return Err(ImportError {
            line: 1,
            code: "malformed",
            message: format!("the header must be `{}`", CSV_HEADER.join(",")),
        });
    }
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| ImportError {
            line: e.position().map_or(0, |p| p.line() as usize),
            code: "malformed",
            message: e.to_string(),
        })?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        if out.len() >= MAX_IMPORT {
            return Err(too_many(line));
        }
        let f = |i: usize| rec.get(i).unwrap_or("");
        let public = match f(12).trim() {
            "" | "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            other => {
                return Err(ImportError {
                    line,
                    code: "malformed",
                    message: format!("`public` must be true or false, not `{other}`"),
                })
            }
        };
        let source = match (opt(f(3)), opt(f(5))) {
            (None, None) => None,
            (name, issuer) => Some(Source {
                name: name.unwrap_or_default(),
                number: opt(f(4)),
                issuer: issuer.unwrap_or_default(),
                link: opt(f(6)),
            }),
        };
        let c = ItemContent {
            title: f(0).trim().to_string(),
            questions: f(1)
                .split('|')
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .map(str::to_string)
                .collect(),
            answer: f(2).trim().to_string(),
            source,
            unit: UnitId::new(f(7).trim().to_string()),
            category: f(8).trim().to_string(),
            area: f(9).trim().to_string(),
            effective: date(line, "effective", f(10))?,
            expires: match opt(f(11)) {
                Some(s) => Some(date(line, "expires", &s)?),
                None => None,
            },
            public,
        };
        out.push(checked(line, c, catalogue)?);
    }
    Ok(out)
}

/// Writes CSV with the [`CSV_HEADER`] columns.
pub fn to_csv<'a>(items: impl IntoIterator<Item = &'a ItemContent>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(CSV_HEADER);
    for c in items {
        let s = c.source.as_ref();
        let _ = w.write_record([
            c.title.as_str(),
            &c.questions.join("|"),
            &c.answer,
            s.map_or("", |s| s.name.as_str()),
            s.and_then(|s| s.number.as_deref()).unwrap_or(""),
            s.map_or("", |s| s.issuer.as_str()),
            s.and_then(|s| s.link.as_deref()).unwrap_or(""),
            c.unit.0.as_str(),
            &c.category,
            &c.area,
            &c.effective.to_string(),
            &c.expires.map(|d| d.to_string()).unwrap_or_default(),
            if c.public { "true" } else { "false" },
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
