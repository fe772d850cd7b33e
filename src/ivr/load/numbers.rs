//! The integrated numbers' entries, checked with the menus' rules: a known menu or queue, a
//! notice that exists, is purpose `information` (the closed purpose list: no advertising) and
//! fits with the menu's greeting in `ivr.max_greeting`. Errors point at the configuration's
//! line (`config/hotline.toml`), not at a menu file.

use std::collections::BTreeMap;
use std::time::Duration;

use super::check::list;
use super::Cx;
use crate::ivr::error::{Location, MenuError, MenuErrorKind, MenuWarning};
use crate::ivr::model::{MenuTree, Prompt, PromptRef, Purpose};
use crate::ivr::numbers::{NumberEntry, NumberRoute, NumberSpec, NumberTarget, Spot};

/// Checks every number of the options; returns the valid ones (meaningful only when no error
/// was pushed). `tree` is `None` when the menus themselves failed: menus are then not looked up.
pub(super) fn check(cx: &mut Cx, tree: Option<&MenuTree>) -> BTreeMap<String, NumberEntry> {
    let mut out = BTreeMap::new();
    let specs = cx.opts.numbers.clone();
    for spec in &specs {
        if let Some(entry) = check_one(cx, spec, tree) {
            out.insert(spec.number.clone(), entry);
        }
    }
    out
}

fn at(spec: &NumberSpec, line: usize) -> Location {
    Location {
        path: spec.path.clone(),
        line,
    }
}

fn push(cx: &mut Cx, spec: &NumberSpec, line: usize, kind: MenuErrorKind) {
    cx.errors.push(MenuError {
        location: Some(at(spec, line)),
        kind,
    });
}

fn check_one(cx: &mut Cx, spec: &NumberSpec, tree: Option<&MenuTree>) -> Option<NumberEntry> {
    let what = |field: &str| format!("[numbers.{}] {field}", spec.number);
    let route = match &spec.target {
        NumberTarget::Entry => tree.map(|t| NumberRoute::Menu(t.entry())),
        NumberTarget::Menu(Spot { value, line }) => match tree {
            Some(t) => match t.find(value) {
                Some(i) => Some(NumberRoute::Menu(i)),
                None => {
                    let known: Vec<String> = t.menus().map(|(_, m)| m.id().to_string()).collect();
                    let kind = MenuErrorKind::UnknownMenu {
                        what: what("menu"),
                        target: value.clone(),
                        known: list(&known),
                    };
                    push(cx, spec, *line, kind);
                    None
                }
            },
            None => None,
        },
        NumberTarget::Queue(Spot { value, line }) => {
            if cx.opts.queues.contains(value) {
                Some(NumberRoute::Queue(value.clone()))
            } else {
                let known: Vec<String> = cx.opts.queues.iter().cloned().collect();
                let kind = MenuErrorKind::UnknownQueue {
                    what: what("queue"),
                    queue: value.clone(),
                    known: list(&known),
                };
                push(cx, spec, *line, kind);
                None
            }
        }
    };
    let notice = match &spec.notice {
        None => Some(None),
        Some((file, purpose)) => check_notice(cx, spec, file, purpose).map(Some),
    };
    let (route, notice) = (route?, notice?);
    // Rule C4 as for the entry menu: everything before the first menu prompt (or the queue)
    // fits in max_greeting.
    let lead = notice.as_ref().map_or(Duration::ZERO, |p| p.duration);
    let before = match (&route, tree) {
        (NumberRoute::Menu(i), Some(t)) => lead + t.menu(*i).pre_menu(),
        _ => lead,
    };
    if notice.is_some() && before > cx.opts.max_greeting {
        let line = spec.notice.as_ref().map_or(spec.line, |(f, _)| f.line);
        let kind = MenuErrorKind::NoticeTooLong {
            number: spec.number.clone(),
            total: before,
            limit: cx.opts.max_greeting,
        };
        push(cx, spec, line, kind);
        return None;
    }
    Some(NumberEntry {
        name: spec.name.clone(),
        route,
        notice,
    })
}

fn check_notice(cx: &mut Cx, spec: &NumberSpec, file: &Spot, purpose: &Spot) -> Option<Prompt> {
    let duration = cx.prompt_at(at(spec, file.line), &file.value);
    let Some(parsed) = Purpose::parse(&purpose.value) else {
        let kind = MenuErrorKind::BadPurpose {
            purpose: purpose.value.clone(),
            allowed: Purpose::list(&Purpose::MENU),
        };
        push(cx, spec, purpose.line, kind);
        return None;
    };
    if parsed != Purpose::Information {
        let kind = MenuErrorKind::NoticeNotInformation {
            number: spec.number.clone(),
            purpose: purpose.value.clone(),
        };
        push(cx, spec, purpose.line, kind);
        return None;
    }
    Some(Prompt {
        file: PromptRef::new(file.value.clone()),
        purpose: parsed,
        duration: duration?,
    })
}

/// Numbers whose callers, pressing nothing, reach a person later than `limit`.
pub(super) fn slow(tree: &MenuTree, limit: Duration) -> Vec<MenuWarning> {
    tree.numbers()
        .filter_map(|(number, e)| {
            let NumberRoute::Menu(i) = e.route() else {
                return None;
            };
            let lead = e.notice().map_or(Duration::ZERO, |p| p.duration());
            let worst = tree.worst_case_from(*i, lead);
            (worst > limit).then(|| MenuWarning::SlowToPersonFrom {
                number: number.to_string(),
                worst,
                limit,
            })
        })
        .collect()
}
