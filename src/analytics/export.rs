//! Data sharing (分类分级…数据脱敏): what a data-sharing consumer may take out of the tickets
//! and how each field is masked by its class — names, numbers and addresses masked, numbers
//! inside the content masked — unless the consumer's configuration (`users.toml`) says that
//! class is shown whole. Renders one ticket into a JSON line or a CSV line; the shell pages
//! through the store and streams the lines, and logs every export.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::workflow::store::IndexRow;
use crate::workflow::Ticket;

/// How sensitive a field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldClass {
    /// Categories, dates, states: shown as they are.
    Plain,
    /// A person's name (`caller_name`).
    Name,
    /// A phone number (`caller_phone`).
    Number,
    /// Where (`location`).
    Address,
    /// Free text (`content`): the numbers in it (phones, ID numbers, plates) are masked.
    Content,
}

/// Every field a consumer may ask for, with its class.
pub const FIELDS: &[(&str, FieldClass)] = &[
    ("id", FieldClass::Plain),
    ("received_at", FieldClass::Plain),
    ("channel", FieldClass::Plain),
    ("type", FieldClass::Plain),
    ("domain", FieldClass::Plain),
    ("category", FieldClass::Plain),
    ("urgency", FieldClass::Plain),
    ("area", FieldClass::Plain),
    ("state", FieldClass::Plain),
    ("lead_unit", FieldClass::Plain),
    ("closed_at", FieldClass::Plain),
    ("rating", FieldClass::Plain),
    ("location", FieldClass::Address),
    ("content", FieldClass::Content),
    ("caller_name", FieldClass::Name),
    ("caller_phone", FieldClass::Number),
];

/// The class of a field name, if it is one.
pub fn class_of(field: &str) -> Option<FieldClass> {
    FIELDS.iter().find(|(f, _)| *f == field).map(|(_, c)| *c)
}

/// One consumer's configuration: the fields it may take, the classes it sees whole.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportPolicy {
    pub fields: Vec<String>,
    pub unmasked: Vec<FieldClass>,
}

/// Why an export was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("unknown field `{0}`; fields are {list}", list = FIELDS.iter().map(|f| f.0).collect::<Vec<_>>().join(", "))]
    UnknownField(String),
    #[error("field `{0}` is not in this consumer's configured fields")]
    NotAllowed(String),
    #[error("no field asked for")]
    NoFields,
}

impl ExportPolicy {
    /// The fields of an export: those asked for (`a,b,c`), each known and allowed, in the
    /// order asked; all the consumer's fields when none are asked for.
    pub fn choose(&self, asked: Option<&str>) -> Result<Vec<String>, ExportError> {
        let Some(asked) = asked else {
            return Ok(self.fields.clone());
        };
        let mut out: Vec<String> = Vec::new();
        for f in asked.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            if class_of(f).is_none() {
                return Err(ExportError::UnknownField(f.to_string()));
            }
            if !self.fields.iter().any(|x| x == f) {
                return Err(ExportError::NotAllowed(f.to_string()));
            }
            if !out.iter().any(|x| x == f) {
                out.push(f.to_string());
            }
        }
        if out.is_empty() {
            return Err(ExportError::NoFields);
        }
        Ok(out)
    }

    fn shows_whole(&self, class: FieldClass) -> bool {
        class == FieldClass::Plain || self.unmasked.contains(&class)
    }
}

/// Masks every run of four or more digits (ASCII or full-width) in free text: phone
/// numbers, ID numbers, house and plate numbers; shorter numbers (a floor, a date) stay.
pub fn mask_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 4 {
            out.push_str(&"*".repeat(run.chars().count()));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || ('０'..='９').contains(&c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn wire<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// One ticket's exported fields, masked by the policy, in `fields` order.
pub type Row = Vec<(String, Value)>;

/// Renders one ticket: its `fields`, masked by class unless the policy shows the class whole.
pub fn row(t: &Ticket, index: &IndexRow, fields: &[String], policy: &ExportPolicy) -> Row {
    let china = crate::workflow::model::china();
    let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::String(s.to_string()));
    let mut out = Row::new();
    for f in fields {
        let Some(class) = class_of(f) else { continue };
        let v = match f.as_str() {
            "id" => Value::String(t.id.to_string()),
            "received_at" => Value::String(t.intake.received_at.with_timezone(&china).to_rfc3339()),
            "channel" => wire(&t.intake.channel),
            "type" => wire(&t.intake.request_type),
            "domain" => wire(&t.intake.domain),
            "category" => text(t.intake.category.as_deref()),
            "urgency" => wire(&t.intake.urgency),
            "area" => text(t.intake.area.as_deref()),
            "state" => Value::String(index.state.clone()),
            "lead_unit" => text(index.lead_unit.as_ref().map(|u| u.0.as_str())),
            "closed_at" => index.closed_at.map_or(Value::Null, |c| {
                Value::String(c.with_timezone(&china).to_rfc3339())
            }),
            "rating" => index.rating.as_ref().map_or(Value::Null, wire),
            "location" => text(t.intake.location.as_deref()),
            "content" => Value::String(t.intake.content.clone()),
            "caller_name" => text(t.intake.caller.name.as_deref()),
            "caller_phone" => text(t.intake.caller.phone.as_deref()),
            _ => Value::Null,
        };
        let v = match (v, policy.shows_whole(class)) {
            (Value::String(s), false) => Value::String(match class {
                FieldClass::Content => mask_numbers(&s),
                _ => crate::masked::Masked::new(s).masked(),
            }),
            (v, _) => v,
        };
        out.push((f.clone(), v));
    }
    out
}

/// A row as one JSON line, its keys in the fields' order.
pub fn json_line(row: &Row) -> String {
    let parts: Vec<String> = row
        .iter()
        .map(|(k, v)| {
            format!(
                "{}:{}",
                Value::String(k.clone()),
                serde_json::to_string(v).unwrap_or_else(|_| "null".into())
            )
        })
        .collect();
    format!("{{{}}}\n", parts.join(","))
}

/// The CSV header for `fields`.
pub fn csv_header(fields: &[String]) -> String {
    let mut s = fields.join(",");
    s.push('\n');
    s
}

/// A row as one CSV line (values quoted when needed; formulas neutralised).
pub fn csv_line(row: &Row) -> String {
    let cells: Vec<String> = row
        .iter()
        .map(|(_, v)| match v {
            Value::Null => String::new(),
            Value::String(s) => crate::stats::agents::csv_field(s),
            other => crate::stats::agents::csv_field(&other.to_string()),
        })
        .collect();
    let mut s = cells.join(",");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_content_are_masked_short_ones_stay() {
        assert_eq!(
            mask_numbers("电话13812345678，3号楼２０２１室"),
            "电话***********，3号楼****室"
        );
        assert_eq!(
            mask_numbers("身份证110101199003071234"),
            "身份证******************"
        );
        assert_eq!(mask_numbers("第12期"), "第12期");
    }

    #[test]
    fn fields_are_chosen_from_the_policy_only() {
        let p = ExportPolicy {
            fields: vec!["id".into(), "content".into(), "caller_phone".into()],
            unmasked: vec![],
        };
        assert_eq!(p.choose(None).unwrap(), ["id", "content", "caller_phone"]);
        assert_eq!(p.choose(Some("content,id,id")).unwrap(), ["content", "id"]);
        assert_eq!(
            p.choose(Some("id,caller_name")),
            Err(ExportError::NotAllowed("caller_name".into()))
        );
        assert_eq!(
            p.choose(Some("password")),
            Err(ExportError::UnknownField("password".into()))
        );
        assert_eq!(p.choose(Some(",")), Err(ExportError::NoFields));
    }
}
