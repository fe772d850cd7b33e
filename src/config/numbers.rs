//! Integrated numbers (GB/T 44190 4.2, 6.2.1): how each answered service number is taken in.
//! `[sip] service_numbers` lists what is answered; a `[numbers.<digits>]` table says where that
//! number's calls go (the entry menu, a named menu branch, or straight to a queue) and what
//! short notice they hear first. Menus, queues and prompts are resolved by the menu loader
//! (`ivr::load`), which reports an unknown one at the line here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

/// One answered number's entry, as written in `[numbers.<digits>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberEntry {
    /// What screens and reports call the number, e.g. `12315 市场监管`.
    #[serde(default)]
    pub name: Option<String>,
    /// Start in this menu (the entry menu or a level-2 branch) instead of the entry menu.
    #[serde(default)]
    pub menu: Option<Spanned<String>>,
    /// Skip the menus: the call waits in this ACD queue from the answer.
    #[serde(default)]
    pub queue: Option<Spanned<String>>,
    /// A short notice played first (e.g. "this number is now answered by 12345").
    #[serde(default)]
    pub notice: Option<NoticePrompt>,
}

/// The notice's prompt, declared as menu prompts are (its purpose must be `information`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticePrompt {
    pub file: Spanned<String>,
    pub purpose: Spanned<String>,
}

/// The text of the file the configuration came from, so spans become `file:line`.
#[derive(Debug, Clone, Default)]
pub struct ConfigSource {
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl ConfigSource {
    /// The 1-based line of a byte offset in the file.
    pub fn line(&self, offset: usize) -> usize {
        super::line_of(&self.text, offset)
    }
}

/// What `Config::validate` says about `[numbers]`: every table names an answered number and
/// at most one of `menu` and `queue`. `(line, message)` pairs.
pub(super) fn problems(
    numbers: &BTreeMap<String, NumberEntry>,
    service_numbers: &[String],
    text: &str,
) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (number, entry) in numbers {
        let header = header_line(text, number);
        if !service_numbers.iter().any(|n| n == number) {
            out.push((
                header,
                format!("[numbers.{number}]: {number} is not in sip.service_numbers: add it there (service_numbers lists every number answered; [numbers.{number}] says where its calls go) or delete this table"),
            ));
        }
        if let (Some(_), Some(q)) = (&entry.menu, &entry.queue) {
            out.push((
                super::line_of(text, q.span().start),
                format!("[numbers.{number}]: give either menu or queue, not both (menu: start in that menu; queue: straight to a person)"),
            ));
        }
        if entry.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            out.push((
                header,
                format!("[numbers.{number}]: name is empty: write what screens should call the number, or delete it"),
            ));
        }
    }
    out
}

/// The line of `[numbers.<n>]` (or `[numbers."<n>"]`), or 1.
fn header_line(text: &str, number: &str) -> usize {
    let plain = format!("[numbers.{number}]");
    let quoted = format!("[numbers.\"{number}\"]");
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.starts_with(&plain) || l.starts_with(&quoted)
        })
        .map_or(1, |i| i + 1)
}

/// The number tables as the menu loader checks them (lines resolved in `source`).
pub fn number_specs(
    numbers: &BTreeMap<String, NumberEntry>,
    source: &ConfigSource,
) -> Vec<crate::ivr::NumberSpec> {
    use crate::ivr::{NumberSpec, NumberTarget, Spot};
    let spot = |s: &Spanned<String>| Spot {
        value: s.get_ref().clone(),
        line: source.line(s.span().start),
    };
    numbers
        .iter()
        .map(|(number, e)| NumberSpec {
            number: number.clone(),
            name: e.name.clone(),
            path: source.path.clone(),
            line: header_line(&source.text, number),
            target: match (&e.menu, &e.queue) {
                (_, Some(q)) => NumberTarget::Queue(spot(q)),
                (Some(m), None) => NumberTarget::Menu(spot(m)),
                (None, None) => NumberTarget::Entry,
            },
            notice: e.notice.as_ref().map(|n| (spot(&n.file), spot(&n.purpose))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use std::path::Path;

    #[test]
    fn shipped_config_has_two_integrated_numbers_besides_12345() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/hotline.toml");
        let config = Config::load(&path).expect("shipped config is valid");
        let queue = |n: &str| {
            config.numbers[n]
                .queue
                .as_ref()
                .map(|q| q.get_ref().clone())
        };
        assert_eq!(queue("12315").as_deref(), Some("market"));
        assert_eq!(queue("12333").as_deref(), Some("hrss"));
        assert!(config.numbers["12345"].queue.is_none() && config.numbers["12345"].menu.is_none());
        assert_eq!(config.source.path, path);
    }

    #[test]
    fn a_number_table_must_name_an_answered_number_and_one_target() {
        let text = "[sip]\nservice_numbers = [\"12345\"]\n\n[numbers.12315]\nqueue = \"market\"\n";
        let config = Config::parse(text, Path::new("x.toml")).unwrap();
        let errs = config.validate(text, Path::new("x.toml")).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        let msg = errs[0].to_string();
        assert!(
            msg.starts_with("x.toml:4: [numbers.12315]: 12315 is not in sip.service_numbers"),
            "{msg}"
        );
        let text = "[sip]\nservice_numbers = [\"12315\"]\n[numbers.12315]\nmenu = \"main\"\nqueue = \"market\"\n";
        let config = Config::parse(text, Path::new("x.toml")).unwrap();
        let errs = config.validate(text, Path::new("x.toml")).unwrap_err();
        assert!(
            errs[0]
                .to_string()
                .starts_with("x.toml:5: [numbers.12315]: give either menu or queue"),
            "{}",
            errs[0]
        );
        let err =
            Config::parse("[numbers.12315]\nqueu = \"market\"\n", Path::new("x.toml")).unwrap_err();
        assert!(err.to_string().starts_with("x.toml:2: "), "{err}");
        // A plain list still works: every number walks the entry menu.
        let text = "[sip]\nservice_numbers = [\"12345\", \"12315\"]\n";
        let config = Config::parse(text, Path::new("x.toml")).unwrap();
        assert!(config.validate(text, Path::new("x.toml")).is_ok());
        assert!(config.numbers.is_empty());
    }
}
