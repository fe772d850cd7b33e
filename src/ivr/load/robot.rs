//! The callback robot's rules (`[robot.<id>]`), checked with the menus' context so the
//! problems read the same: every step present and binding `0` to a person (rule C5), every
//! answer of a step bound, prompts from the robot's part of the closed purpose list (no
//! advertising, rule C4) naming files that exist, a short introduction before the first
//! question (`ivr.max_greeting`), timeouts, tries and the reason recording bounded.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use humantime_serde::re::humantime;
use toml::Spanned;

use super::check::{check_timeout, check_tries, list};
use super::{Cx, FoundRobot};
use crate::ivr::error::MenuErrorKind;
use crate::ivr::format::{RawRobot, RawStep};
use crate::ivr::model::{Key, Prompt, PromptRef, Purpose};
use crate::ivr::script::{Answer, RobotScript, RobotStep, StepKind};

/// Where `0` leads when the script does not say.
const DEFAULT_PERSON_QUEUE: &str = "general";
const DEFAULT_REASON_MAX: Duration = Duration::from_secs(60);
const MIN_REASON_MAX: Duration = Duration::from_secs(5);
const MAX_REASON_MAX: Duration = Duration::from_secs(180);
const DEFAULT_REASON_SILENCE: Duration = Duration::from_secs(4);
const MIN_REASON_SILENCE: Duration = Duration::from_secs(1);
const MAX_REASON_SILENCE: Duration = Duration::from_secs(10);

/// Every robot of every file, by id; the ones with problems are left out (and reported).
pub(super) fn build_all(cx: &mut Cx, robots: Vec<FoundRobot>) -> BTreeMap<String, RobotScript> {
    robots
        .into_iter()
        .filter_map(|r| build(cx, r))
        .map(|s| (s.id.clone(), s))
        .collect()
}

fn build(cx: &mut Cx, found: FoundRobot) -> Option<RobotScript> {
    let FoundRobot { file, id, raw } = found;
    let header = id.span();
    let robot = id.into_inner();
    let RawRobot {
        timeout,
        tries,
        person_queue,
        invalid_key_prompt,
        no_input_prompt,
        consent,
        contacted,
        solved,
        rating,
        reason,
        thanks,
        goodbye,
    } = raw;
    let timeout = check_timeout(cx, file, timeout.as_ref());
    let tries = check_tries(cx, file, tries.as_ref());
    let person_queue = check_person_queue(cx, file, &header, &robot, person_queue.as_ref());
    let invalid_key_prompt = error_prompt(cx, file, invalid_key_prompt.as_ref());
    let no_input_prompt = error_prompt(cx, file, no_input_prompt.as_ref());

    let raw_steps = [consent, contacted, solved, rating, reason, thanks, goodbye];
    let mut reason_max = DEFAULT_REASON_MAX;
    let mut reason_silence = DEFAULT_REASON_SILENCE;
    let mut steps = Vec::with_capacity(StepKind::ALL.len());
    for (kind, raw) in StepKind::ALL.into_iter().zip(raw_steps) {
        let Some(raw) = raw else {
            let kind = MenuErrorKind::MissingStep {
                robot: robot.clone(),
                step: kind.to_string(),
            };
            cx.error(file, &header, kind);
            continue;
        };
        let span = raw.span();
        let raw = raw.into_inner();
        if kind == StepKind::Reason {
            reason_max = check_range(
                cx,
                file,
                raw.max.as_ref(),
                ("max", DEFAULT_REASON_MAX),
                MIN_REASON_MAX..=MAX_REASON_MAX,
            );
            reason_silence = check_range(
                cx,
                file,
                raw.silence.as_ref(),
                ("silence", DEFAULT_REASON_SILENCE),
                MIN_REASON_SILENCE..=MAX_REASON_SILENCE,
            );
        } else {
            for (field, value) in [("max", &raw.max), ("silence", &raw.silence)] {
                if let Some(v) = value {
                    let problem = MenuErrorKind::MisplacedField {
                        field,
                        step: kind.to_string(),
                    };
                    cx.error(file, &v.span(), problem);
                }
            }
        }
        if let Some(step) = check_step(cx, file, &robot, kind, &span, &raw) {
            steps.push(step);
        }
    }
    if steps.len() != StepKind::ALL.len() {
        return None;
    }
    Some(RobotScript {
        id: robot,
        steps,
        timeout,
        tries,
        person_queue: person_queue?,
        invalid_key_prompt: invalid_key_prompt?,
        no_input_prompt: no_input_prompt?,
        reason_max,
        reason_silence,
    })
}

/// `person_queue` must name a configured queue; without it, `general`.
fn check_person_queue(
    cx: &mut Cx,
    file: usize,
    header: &Range<usize>,
    robot: &str,
    value: Option<&Spanned<String>>,
) -> Option<String> {
    let (queue, span) = match value {
        Some(v) => (v.get_ref().clone(), v.span()),
        None => (DEFAULT_PERSON_QUEUE.to_string(), header.clone()),
    };
    if cx.opts.queues.contains(&queue) {
        return Some(queue);
    }
    let known: Vec<String> = cx.opts.queues.iter().cloned().collect();
    let kind = MenuErrorKind::UnknownQueue {
        what: format!("person_queue of robot `{robot}`"),
        queue,
        known: list(&known),
    };
    cx.error(file, &span, kind);
    None
}

/// An optional error prompt: `Some(None)` when absent, `None` when it names a bad file.
fn error_prompt(
    cx: &mut Cx,
    file: usize,
    name: Option<&Spanned<String>>,
) -> Option<Option<Prompt>> {
    let Some(name) = name else {
        return Some(None);
    };
    let duration = cx.prompt_duration(file, name)?;
    Some(Some(Prompt {
        file: PromptRef::new(name.get_ref().clone()),
        purpose: Purpose::Error,
        duration,
    }))
}

/// A duration field within `range`, or its default.
fn check_range(
    cx: &mut Cx,
    file: usize,
    value: Option<&Spanned<String>>,
    (field, default): (&'static str, Duration),
    range: std::ops::RangeInclusive<Duration>,
) -> Duration {
    let Some(value) = value else {
        return default;
    };
    match humantime::parse_duration(value.get_ref()) {
        Ok(d) if range.contains(&d) => d,
        Ok(d) => {
            let kind = MenuErrorKind::DurationOutOfRange {
                field,
                value: d,
                min: *range.start(),
                max: *range.end(),
            };
            cx.error(file, &value.span(), kind);
            default
        }
        Err(_) => {
            let kind = MenuErrorKind::BadDuration {
                field,
                value: value.get_ref().clone(),
            };
            cx.error(file, &value.span(), kind);
            default
        }
    }
}

/// One step: its prompts (purposes, files, the question or closing words it needs, the
/// introduction before consent) and its keys (`0` = person, every answer bound, nothing else).
fn check_step(
    cx: &mut Cx,
    file: usize,
    robot: &str,
    kind: StepKind,
    span: &Range<usize>,
    raw: &RawStep,
) -> Option<RobotStep> {
    let mut ok = true;
    let mut prompts = Vec::with_capacity(raw.prompts.len());
    let mut retry_start = None;
    let required = kind.required_purpose();
    for p in &raw.prompts {
        let Some(purpose) = Purpose::parse_in(p.purpose.get_ref(), &Purpose::ROBOT) else {
            let problem = MenuErrorKind::BadPurpose {
                purpose: p.purpose.get_ref().clone(),
                allowed: Purpose::list(&Purpose::ROBOT),
            };
            cx.error(file, &p.purpose.span(), problem);
            ok = false;
            continue;
        };
        if purpose == required && retry_start.is_none() {
            retry_start = Some(prompts.len());
        }
        match cx.prompt_duration(file, &p.file) {
            Some(duration) => prompts.push(Prompt {
                file: PromptRef::new(p.file.get_ref().clone()),
                purpose,
                duration,
            }),
            None => ok = false,
        }
    }
    if ok && retry_start.is_none() {
        let problem = MenuErrorKind::MissingStepPrompt {
            robot: robot.to_string(),
            step: kind.to_string(),
            purpose: required.as_str(),
        };
        cx.error(file, span, problem);
        ok = false;
    }
    if kind == StepKind::Consent
        && ok
        && prompts.first().map(|p| p.purpose) != Some(Purpose::Information)
    {
        let problem = MenuErrorKind::MissingIdentify {
            robot: robot.to_string(),
        };
        let at = raw.prompts.first().map_or(span.clone(), |p| p.file.span());
        cx.error(file, &at, problem);
        ok = false;
    }
    if let (StepKind::Consent, true, Some(start)) = (kind, ok, retry_start) {
        // The citizen hears who calls and why, briefly, before being asked anything.
        let intro: Duration = prompts[..start].iter().map(|p| p.duration).sum();
        if intro > cx.opts.max_greeting {
            let problem = MenuErrorKind::IntroTooLong {
                robot: robot.to_string(),
                total: intro,
                limit: cx.opts.max_greeting,
            };
            let at = raw.prompts.first().map_or(span.clone(), |p| p.file.span());
            cx.error(file, &at, problem);
            ok = false;
        }
    }
    let keys = check_keys(cx, file, robot, kind, span, raw);
    match (ok, keys, retry_start) {
        (true, Some(keys), Some(retry_start)) => Some(RobotStep {
            kind,
            prompts,
            retry_start,
            keys,
        }),
        _ => None,
    }
}

fn check_keys(
    cx: &mut Cx,
    file: usize,
    robot: &str,
    kind: StepKind,
    span: &Range<usize>,
    raw: &RawStep,
) -> Option<BTreeMap<Key, Answer>> {
    let allowed = kind.answers();
    let names = allowed
        .iter()
        .map(|a| format!("\"{}\"", a.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut keys = BTreeMap::new();
    let mut ok = true;
    for (name, value) in &raw.keys {
        let Some(key) = Key::parse(name.get_ref()) else {
            let problem = MenuErrorKind::InvalidKeyName {
                name: name.get_ref().clone(),
            };
            cx.error(file, &name.span(), problem);
            ok = false;
            continue;
        };
        let bad = |problem: String| MenuErrorKind::BadAnswer {
            robot: robot.to_string(),
            step: kind.to_string(),
            key: key.to_string(),
            problem,
            allowed: names.clone(),
            example: allowed[0].as_str(),
        };
        let answer = match value.get_ref() {
            toml::Value::String(s) => match Answer::parse_in(s, allowed) {
                Some(a) => a,
                None => {
                    let problem = format!("\"{s}\" is not an answer of this step");
                    cx.error(file, &name.span(), bad(problem));
                    ok = false;
                    continue;
                }
            },
            other => {
                let problem = format!("a {} is not an answer", other.type_str());
                cx.error(file, &name.span(), bad(problem));
                ok = false;
                continue;
            }
        };
        keys.insert(key, answer);
    }
    if ok && keys.get(&Key::Digit(0)) != Some(&Answer::Person) {
        let at = raw
            .keys
            .keys()
            .find(|k| k.get_ref() == "0")
            .map_or(span.clone(), |k| k.span());
        let problem = MenuErrorKind::RobotNoPerson {
            robot: robot.to_string(),
            step: kind.to_string(),
        };
        cx.error(file, &at, problem);
        ok = false;
    }
    for (i, &answer) in allowed.iter().enumerate() {
        if answer == Answer::Person || !ok || keys.values().any(|&a| a == answer) {
            continue;
        }
        let example = if answer == Answer::Done {
            '#'
        } else {
            char::from(b'1' + i as u8)
        };
        let problem = MenuErrorKind::MissingAnswer {
            robot: robot.to_string(),
            step: kind.to_string(),
            answer: answer.as_str(),
            example,
        };
        cx.error(file, span, problem);
        ok = false;
    }
    ok.then_some(keys)
}
