//! The rules, checked over everything the files said: tree shape (two levels, no loops but
//! `back`), a way to a person at every level, allowed prompt purposes and lengths, and names
//! that resolve. Every problem is pushed to the context; a tree is built only when none is.

use std::ops::Range;
use std::time::Duration;

use humantime_serde::re::humantime;
use toml::Spanned;

use super::{Cx, Found, Parsed};
use crate::ivr::error::MenuErrorKind;
use crate::ivr::format::{RawDefaults, RawQueueAudio};
use crate::ivr::model::{
    Action, CallbackAudio, Key, Menu, MenuIdx, MenuTree, Prompt, PromptRef, Purpose, QueueAudio,
};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
const MIN_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_TRIES: u32 = 2;
const MAX_TRIES: u32 = 5;

/// A key action before menu ids are turned into indices.
enum RawAction {
    Queue(String),
    Menu(String),
    Repeat,
    Back,
}

struct Binding {
    key: Key,
    span: Range<usize>,
    action: RawAction,
}

/// Per-menu settings once checked.
struct Parts {
    prompts: Vec<Prompt>,
    menu_start: usize,
    timeout: Duration,
    tries: u32,
    no_input_queue: String,
    invalid_key_prompt: Option<Prompt>,
    no_input_prompt: Option<Prompt>,
}

pub(super) fn build(cx: &mut Cx, parsed: Parsed) -> Option<MenuTree> {
    let Parsed {
        menus,
        defaults,
        queue_audio,
        robots: _,
    } = parsed;
    let queue_audio = match queue_audio {
        Some((file, qa)) => check_queue_audio(cx, file, qa),
        None => {
            // A file that did not parse may well hold it.
            if !cx.unparsed {
                cx.error(0, &(0..0), MenuErrorKind::MissingQueueAudio);
            }
            None
        }
    };
    let ids: Vec<String> = menus.iter().map(|m| m.id.get_ref().clone()).collect();
    let entry = ids.iter().position(|id| *id == cx.opts.entry_menu);
    if entry.is_none() && !cx.unparsed {
        let kind = MenuErrorKind::MissingEntry {
            entry: cx.opts.entry_menu.clone(),
            known: list(&ids),
        };
        cx.error(0, &(0..0), kind);
    }
    let bindings: Vec<Vec<Binding>> = menus.iter().map(|m| parse_keys(cx, m, &ids)).collect();
    let parents = check_shape(cx, &menus, &bindings, &ids, entry);
    let parts: Vec<Option<Parts>> = menus
        .iter()
        .zip(&bindings)
        .enumerate()
        .map(|(i, (m, b))| {
            let is_entry = entry.map(|e| e == i);
            check_menu(cx, m, b, &defaults[m.file], is_entry)
        })
        .collect();
    let (entry, queue_audio) = (entry?, queue_audio?);
    if !cx.errors.is_empty() {
        return None;
    }
    // The entry menu goes first so `MenuIdx(0)` is where calls start.
    let mut order: Vec<usize> = vec![entry];
    order.extend((0..menus.len()).filter(|&i| i != entry));
    let mut new_idx = vec![0; menus.len()];
    for (n, &old) in order.iter().enumerate() {
        new_idx[old] = n;
    }
    let mut parts: Vec<Option<Parts>> = parts;
    let mut bindings = bindings;
    let mut built = Vec::with_capacity(order.len());
    for &old in &order {
        let p = parts[old].take()?;
        let keys = std::mem::take(&mut bindings[old])
            .into_iter()
            .map(|b| {
                let action = match b.action {
                    RawAction::Queue(q) => Action::Queue(q),
                    RawAction::Menu(t) => {
                        let t = ids.iter().position(|id| *id == t).unwrap_or(entry);
                        Action::Menu(MenuIdx(new_idx[t]))
                    }
                    RawAction::Repeat => Action::Repeat,
                    RawAction::Back => Action::Back,
                };
                (b.key, action)
            })
            .collect();
        built.push(Menu {
            id: ids[old].clone(),
            parent: parents[old].map(|p| MenuIdx(new_idx[p])),
            prompts: p.prompts,
            menu_start: p.menu_start,
            keys,
            timeout: p.timeout,
            tries: p.tries,
            no_input_queue: p.no_input_queue,
            invalid_key_prompt: p.invalid_key_prompt,
            no_input_prompt: p.no_input_prompt,
        });
    }
    Some(MenuTree {
        menus: built,
        queue_audio,
        numbers: Default::default(),
    })
}

pub(super) fn list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

/// Reads `[menu.<id>.keys]`: key names and actions, with unknown menus and queues reported.
fn parse_keys(cx: &mut Cx, m: &Found, ids: &[String]) -> Vec<Binding> {
    let mut out = Vec::new();
    let menu = m.id.get_ref();
    for (name, value) in &m.raw.keys {
        let span = name.span();
        let Some(key) = Key::parse(name.get_ref()) else {
            let kind = MenuErrorKind::InvalidKeyName {
                name: name.get_ref().clone(),
            };
            cx.error(m.file, &span, kind);
            continue;
        };
        let what = format!("key `{key}` in menu `{menu}`");
        let Some(action) = parse_action(cx, m.file, &span, &what, value.get_ref()) else {
            continue;
        };
        if let RawAction::Menu(target) = &action {
            if !ids.contains(target) && !cx.unparsed {
                let kind = MenuErrorKind::UnknownMenu {
                    what,
                    target: target.clone(),
                    known: list(ids),
                };
                cx.error(m.file, &span, kind);
                continue;
            }
        }
        out.push(Binding { key, span, action });
    }
    out
}

/// One action value: `{ queue = "x" }`, `{ menu = "x" }`, `"repeat"` or `"back"`.
fn parse_action(
    cx: &mut Cx,
    file: usize,
    span: &Range<usize>,
    what: &str,
    value: &toml::Value,
) -> Option<RawAction> {
    let bad = |problem: String| MenuErrorKind::BadAction {
        what: what.to_string(),
        problem,
    };
    let action = match value {
        toml::Value::String(s) if s == "repeat" => RawAction::Repeat,
        toml::Value::String(s) if s == "back" => RawAction::Back,
        toml::Value::String(s) => {
            cx.error(file, span, bad(format!("\"{s}\" is not an action")));
            return None;
        }
        toml::Value::Table(t) => {
            let mut entries = t.iter();
            match (entries.next(), entries.next()) {
                (Some((k, toml::Value::String(v))), None) if k == "queue" => {
                    RawAction::Queue(v.clone())
                }
                (Some((k, toml::Value::String(v))), None) if k == "menu" => {
                    RawAction::Menu(v.clone())
                }
                _ => {
                    let problem = format!("{{ {} }} is not an action", describe_table(t));
                    cx.error(file, span, bad(problem));
                    return None;
                }
            }
        }
        other => {
            let problem = format!("a {} is not an action", other.type_str());
            cx.error(file, span, bad(problem));
            return None;
        }
    };
    if let RawAction::Queue(q) = &action {
        if !cx.opts.queues.contains(q) {
            let known: Vec<String> = cx.opts.queues.iter().cloned().collect();
            let kind = MenuErrorKind::UnknownQueue {
                what: what.to_string(),
                queue: q.clone(),
                known: list(&known),
            };
            cx.error(file, span, kind);
            return None;
        }
    }
    Some(action)
}

fn describe_table(t: &toml::value::Table) -> String {
    t.iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Levels and loops: the entry menu is level 1, the menus it opens level 2, and a level-2 menu
/// opens nothing (it may go `back`). Returns each menu's parent.
fn check_shape(
    cx: &mut Cx,
    menus: &[Found],
    bindings: &[Vec<Binding>],
    ids: &[String],
    entry: Option<usize>,
) -> Vec<Option<usize>> {
    let mut parents = vec![None; menus.len()];
    let Some(e) = entry else {
        return parents;
    };
    let index = |id: &str| ids.iter().position(|x| x == id);
    for b in &bindings[e] {
        let what = (b.key.to_string(), ids[e].clone());
        match &b.action {
            RawAction::Menu(t) if index(t) == Some(e) => {
                let kind = MenuErrorKind::Cycle {
                    key: what.0,
                    menu: what.1,
                    target: t.clone(),
                    fix: "repeat",
                };
                cx.error(menus[e].file, &b.span, kind);
            }
            RawAction::Menu(t) => {
                if let Some(ti) = index(t) {
                    parents[ti] = Some(e);
                }
            }
            RawAction::Back => {
                let kind = MenuErrorKind::BackFromEntry {
                    key: what.0,
                    menu: what.1,
                };
                cx.error(menus[e].file, &b.span, kind);
            }
            RawAction::Queue(_) | RawAction::Repeat => {}
        }
    }
    // A menu opened from level 2 is reported there (too deep), not as unreachable.
    let targeted: Vec<bool> = (0..menus.len())
        .map(|i| {
            bindings
                .iter()
                .flatten()
                .any(|b| matches!(&b.action, RawAction::Menu(t) if *t == ids[i]))
        })
        .collect();
    for (i, m) in menus.iter().enumerate() {
        if i == e {
            continue;
        }
        let Some(p) = parents[i] else {
            if targeted[i] || cx.unparsed {
                continue;
            }
            let kind = MenuErrorKind::Unreachable {
                id: ids[i].clone(),
                entry: ids[e].clone(),
            };
            cx.error(m.file, &m.id.span(), kind);
            continue;
        };
        for b in &bindings[i] {
            let RawAction::Menu(t) = &b.action else {
                continue;
            };
            let (key, menu, target) = (b.key.to_string(), ids[i].clone(), t.clone());
            let kind = match index(t) {
                Some(ti) if ti == p => MenuErrorKind::Cycle {
                    key,
                    menu,
                    target,
                    fix: "back",
                },
                Some(ti) if ti == i => MenuErrorKind::Cycle {
                    key,
                    menu,
                    target,
                    fix: "repeat",
                },
                _ => MenuErrorKind::TooDeep { key, menu, target },
            };
            cx.error(m.file, &b.span, kind);
        }
    }
    parents
}

/// Everything about one menu that does not depend on the others.
fn check_menu(
    cx: &mut Cx,
    m: &Found,
    bindings: &[Binding],
    defaults: &RawDefaults,
    is_entry: Option<bool>,
) -> Option<Parts> {
    let id = m.id.get_ref().clone();
    let header = m.id.span();
    if !bindings
        .iter()
        .any(|b| matches!(b.action, RawAction::Queue(_)))
    {
        let kind = MenuErrorKind::NoPersonKey { menu: id.clone() };
        cx.error(m.file, &header, kind);
    }
    let no_input_queue = check_no_input(cx, m, defaults);
    let timeout = check_timeout(
        cx,
        m.file,
        m.raw.timeout.as_ref().or(defaults.timeout.as_ref()),
    );
    let tries = check_tries(cx, m.file, m.raw.tries.as_ref().or(defaults.tries.as_ref()));
    let error_prompt =
        |cx: &mut Cx, own: &Option<Spanned<String>>, def: &Option<Spanned<String>>| {
            own.as_ref().or(def.as_ref()).map(|f| {
                cx.prompt_duration(m.file, f).map(|duration| Prompt {
                    file: PromptRef::new(f.get_ref().clone()),
                    purpose: Purpose::Error,
                    duration,
                })
            })
        };
    let invalid_key_prompt =
        error_prompt(cx, &m.raw.invalid_key_prompt, &defaults.invalid_key_prompt);
    let no_input_prompt = error_prompt(cx, &m.raw.no_input_prompt, &defaults.no_input_prompt);

    let mut prompts = Vec::new();
    let mut menu_start = None;
    let mut ok = true;
    for p in &m.raw.prompts {
        let Some(purpose) = Purpose::parse(p.purpose.get_ref()) else {
            let kind = MenuErrorKind::BadPurpose {
                purpose: p.purpose.get_ref().clone(),
                allowed: Purpose::list(&Purpose::MENU),
            };
            cx.error(m.file, &p.purpose.span(), kind);
            ok = false;
            continue;
        };
        // Without a known entry menu there is nothing to say about where greetings belong.
        let misplaced = is_entry == Some(false) || menu_start.is_some();
        if purpose == Purpose::Greeting && is_entry.is_some() && misplaced {
            let kind = MenuErrorKind::MisplacedGreeting {
                entry: cx.opts.entry_menu.clone(),
            };
            cx.error(m.file, &p.purpose.span(), kind);
        }
        if purpose == Purpose::Menu && menu_start.is_none() {
            menu_start = Some(prompts.len());
        }
        match cx.prompt_duration(m.file, &p.file) {
            Some(duration) => prompts.push(Prompt {
                file: PromptRef::new(p.file.get_ref().clone()),
                purpose,
                duration,
            }),
            None => ok = false,
        }
    }
    let Some(menu_start) = menu_start else {
        cx.error(
            m.file,
            &header,
            MenuErrorKind::MissingMenuPrompt { menu: id },
        );
        return None;
    };
    if ok {
        let pre: Duration = prompts[..menu_start].iter().map(|p| p.duration).sum();
        if pre > cx.opts.max_greeting {
            let kind = MenuErrorKind::GreetingTooLong {
                menu: id,
                total: pre,
                limit: cx.opts.max_greeting,
            };
            let span = m.raw.prompts.first().map_or(header, |p| p.file.span());
            cx.error(m.file, &span, kind);
        }
    }
    Some(Parts {
        prompts,
        menu_start,
        timeout,
        tries,
        no_input_queue: no_input_queue?,
        invalid_key_prompt: invalid_key_prompt.flatten(),
        no_input_prompt: no_input_prompt.flatten(),
    })
}

fn check_no_input(cx: &mut Cx, m: &Found, defaults: &RawDefaults) -> Option<String> {
    let menu = m.id.get_ref().clone();
    let Some(value) = m.raw.no_input.as_ref().or(defaults.no_input.as_ref()) else {
        cx.error(m.file, &m.id.span(), MenuErrorKind::MissingNoInput { menu });
        return None;
    };
    let what = format!("no_input of menu `{menu}`");
    match parse_action(cx, m.file, &value.span(), &what, value.get_ref())? {
        RawAction::Queue(q) => Some(q),
        other => {
            let got = match other {
                RawAction::Menu(t) => format!("menu `{t}`"),
                RawAction::Back => "\"back\"".to_string(),
                _ => "\"repeat\"".to_string(),
            };
            let kind = MenuErrorKind::NoInputNotQueue { menu, got };
            cx.error(m.file, &value.span(), kind);
            None
        }
    }
}

pub(super) fn check_timeout(cx: &mut Cx, file: usize, value: Option<&Spanned<String>>) -> Duration {
    let Some(value) = value else {
        return DEFAULT_TIMEOUT;
    };
    match humantime::parse_duration(value.get_ref()) {
        Ok(d) if (MIN_TIMEOUT..=MAX_TIMEOUT).contains(&d) => d,
        Ok(d) => {
            let kind = MenuErrorKind::DurationOutOfRange {
                field: "timeout",
                value: d,
                min: MIN_TIMEOUT,
                max: MAX_TIMEOUT,
            };
            cx.error(file, &value.span(), kind);
            DEFAULT_TIMEOUT
        }
        Err(_) => {
            let kind = MenuErrorKind::BadDuration {
                field: "timeout",
                value: value.get_ref().clone(),
            };
            cx.error(file, &value.span(), kind);
            DEFAULT_TIMEOUT
        }
    }
}

pub(super) fn check_tries(cx: &mut Cx, file: usize, value: Option<&Spanned<i64>>) -> u32 {
    let Some(value) = value else {
        return DEFAULT_TRIES;
    };
    match u32::try_from(*value.get_ref()) {
        Ok(t) if (1..=MAX_TRIES).contains(&t) => t,
        _ => {
            let kind = MenuErrorKind::BadTries {
                value: *value.get_ref(),
                max: MAX_TRIES,
            };
            cx.error(file, &value.span(), kind);
            DEFAULT_TRIES
        }
    }
}

fn check_queue_audio(cx: &mut Cx, file: usize, qa: Spanned<RawQueueAudio>) -> Option<QueueAudio> {
    let qa = qa.into_inner();
    let get = |cx: &mut Cx, f: &Spanned<String>| {
        cx.prompt_duration(file, f)
            .map(|_| PromptRef::new(f.get_ref().clone()))
    };
    let hold = get(cx, &qa.hold);
    let transfer = get(cx, &qa.transfer);
    let prefix = get(cx, &qa.position_prefix);
    let suffix = get(cx, &qa.position_suffix);
    let digits: Vec<Option<PromptRef>> = qa
        .position_digits
        .get_ref()
        .iter()
        .map(|d| get(cx, d))
        .collect();
    let count = digits.len();
    let digits: Option<Vec<PromptRef>> = digits.into_iter().collect();
    let digits: Option<[PromptRef; 10]> = match digits.map(<[PromptRef; 10]>::try_from) {
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            let span = qa.position_digits.span();
            cx.error(file, &span, MenuErrorKind::BadDigitCount { count });
            None
        }
        None => None,
    };
    let callback = check_callback_audio(cx, file, &qa);
    let surge_notice = match &qa.surge_notice {
        Some(f) => Some(get(cx, f)?),
        None => None,
    };
    let callback_agent = match &qa.callback_agent {
        Some(f) => Some(get(cx, f)?),
        None => None,
    };
    let ringback = match &qa.ringback {
        Some(f) => Some(get(cx, f)?),
        None => None,
    };
    Some(QueueAudio {
        hold: hold?,
        transfer: transfer?,
        position_prefix: prefix?,
        position_digits: digits?,
        position_suffix: suffix?,
        callback: callback?,
        surge_notice,
        callback_agent,
        ringback,
    })
}

/// The callback offer's five prompts: all or none. `Some(None)`: none (no offer);
/// `None`: an error was reported.
fn check_callback_audio(
    cx: &mut Cx,
    file: usize,
    qa: &RawQueueAudio,
) -> Option<Option<CallbackAudio>> {
    let fields = [
        ("callback_offer", &qa.callback_offer),
        ("callback_confirm_prefix", &qa.callback_confirm_prefix),
        ("callback_confirm_suffix", &qa.callback_confirm_suffix),
        ("callback_enter", &qa.callback_enter),
        ("callback_accepted", &qa.callback_accepted),
    ];
    let missing: Vec<&str> = fields
        .iter()
        .filter(|(_, f)| f.is_none())
        .map(|(n, _)| *n)
        .collect();
    if missing.len() == fields.len() {
        return Some(None);
    }
    if !missing.is_empty() {
        let span = fields
            .iter()
            .find_map(|(_, f)| f.as_ref().map(|f| f.span()))
            .unwrap_or(0..0);
        let kind = MenuErrorKind::IncompleteCallbackAudio {
            missing: missing.join(", "),
        };
        cx.error(file, &span, kind);
        return None;
    }
    let mut refs = Vec::with_capacity(fields.len());
    for (_, f) in fields {
        let f = f.as_ref()?;
        refs.push(
            cx.prompt_duration(file, f)
                .map(|_| PromptRef::new(f.get_ref().clone())),
        );
    }
    let mut refs = refs.into_iter();
    let mut next = || refs.next().flatten();
    let (offer, confirm_prefix, confirm_suffix, enter, accepted) =
        (next(), next(), next(), next(), next());
    Some(Some(CallbackAudio {
        offer: offer?,
        confirm_prefix: confirm_prefix?,
        confirm_suffix: confirm_suffix?,
        enter: enter?,
        accepted: accepted?,
    }))
}
