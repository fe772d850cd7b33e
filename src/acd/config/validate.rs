//! From the files' raw shape to the validated [`AcdConfig`]: every rule types cannot say,
//! each failure located at the line of the table or key at fault.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use super::{
    ha1, web, AcdConfig, AgentConfig, AgentsFile, Credentials, DigestAlgorithm, ExpansionStep,
    QueueChannel, QueueConfig, QueuesFile, RawAgent, RawQueue, RawStep, Widen,
    DEFAULT_OFFER_TIMEOUT, MIN_RING_WINDOW,
};
use crate::acd::model::{AgentId, Skill, SkillKind, SkillNeed};
use crate::config::{line_of, ConfigError};

/// One file's text and name, to turn spans into `file:line`.
#[derive(Clone, Copy)]
pub(super) struct Source<'a> {
    pub text: &'a str,
    pub path: &'a Path,
}

pub(super) struct Errors(Vec<ConfigError>);

impl Errors {
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn at(&mut self, src: Source<'_>, span: &Range<usize>, message: String) {
        self.0.push(ConfigError::Invalid {
            path: src.path.to_path_buf(),
            line: line_of(src.text, span.start),
            message,
        });
    }
}

const MAX_WRAP_UP: Duration = Duration::from_secs(600);
const MIN_RING: Duration = Duration::from_secs(2);
const MAX_RING: Duration = Duration::from_secs(60);
const MIN_OFFER: Duration = Duration::from_secs(5);
const MAX_OFFER: Duration = Duration::from_secs(600);

pub(super) fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks the variant keys against the kind: `dialect` needs `dialect = ".."`, and so on.
fn need_of(
    kind: SkillKind,
    dialect: &Option<String>,
    language: &Option<String>,
    topic: &Option<String>,
    variant_required: bool,
) -> Result<SkillNeed, String> {
    let given: Vec<(&str, &String)> = [
        ("dialect", dialect),
        ("language", language),
        ("topic", topic),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    .collect();
    match (kind.variant_key(), given.as_slice()) {
        (None, []) => Ok(SkillNeed {
            kind,
            variant: None,
        }),
        (None, [(k, _), ..]) => Err(format!("skill {kind} takes no `{k}`: remove it")),
        (Some(want), []) if variant_required => Err(format!(
            "skill {kind} needs `{want} = \"...\"` (which {want})"
        )),
        (Some(_), []) => Ok(SkillNeed {
            kind,
            variant: None,
        }),
        (Some(want), [(k, v)]) if *k == want => {
            if v.trim().is_empty() {
                Err(format!("`{want}` is empty"))
            } else {
                Ok(SkillNeed {
                    kind,
                    variant: Some(v.trim().to_string()),
                })
            }
        }
        (Some(want), _) => Err(format!(
            "skill {kind} is named with `{want}` only (got {})",
            given
                .iter()
                .map(|(k, _)| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn agent(
    raw: &RawAgent,
    span: &Range<usize>,
    realm: &str,
    web_capacity: u8,
    src: Source<'_>,
    errs: &mut Errors,
) -> Option<AgentConfig> {
    let before = errs.0.len();
    if !is_name(&raw.id) {
        errs.at(
            src,
            span,
            format!(
                "agent id {:?} must be 1–64 letters, digits, '-', '_' or '.'",
                raw.id
            ),
        );
    }
    if raw.name.trim().is_empty() {
        errs.at(src, span, format!("agent {}: name is empty", raw.id));
    }
    let sip_user = raw.sip_user.clone().unwrap_or_else(|| raw.id.clone());
    if !is_name(&sip_user) {
        errs.at(
            src,
            span,
            format!(
                "agent {}: sip_user {sip_user:?} is not a plain SIP user",
                raw.id
            ),
        );
    }
    let owner = format!("agent {}", raw.id);
    let secrets = (&raw.password, &raw.ha1_md5, &raw.ha1_sha256);
    let (credentials, demo_password) =
        credentials(&owner, &raw.id, &sip_user, realm, secrets, span, src, errs)?;
    if raw.skills.is_empty() {
        errs.at(
            src,
            span,
            format!(
                "agent {}: no skills: give at least `{{ skill = \"general\", level = 1 }}`",
                raw.id
            ),
        );
    }
    let mut skills = Vec::new();
    let mut seen = HashSet::new();
    for s in &raw.skills {
        let sspan = s.span();
        let s = s.get_ref();
        if !(1..=5).contains(&s.level) {
            errs.at(
                src,
                &sspan,
                format!(
                    "agent {}: skill {} level {} is not 1–5",
                    raw.id, s.skill, s.level
                ),
            );
        }
        match need_of(s.skill, &s.dialect, &s.language, &s.topic, true) {
            Ok(need) => {
                if !seen.insert(need.clone()) {
                    errs.at(
                        src,
                        &sspan,
                        format!("agent {}: skill {need} is listed twice", raw.id),
                    );
                }
                skills.push(Skill {
                    kind: need.kind,
                    variant: need.variant,
                    level: s.level,
                });
            }
            Err(m) => errs.at(src, &sspan, format!("agent {}: {m}", raw.id)),
        }
    }
    let web_capacity = raw.web_capacity.unwrap_or(web_capacity);
    if web_capacity > web::MAX_WEB_CAPACITY {
        errs.at(
            src,
            span,
            format!(
                "agent {}: web_capacity {web_capacity} is above {} (0 = never offered web items)",
                raw.id,
                web::MAX_WEB_CAPACITY
            ),
        );
    }
    (errs.0.len() == before).then(|| AgentConfig {
        id: AgentId::new(&raw.id),
        name: raw.name.trim().to_string(),
        sip_user,
        credentials,
        skills,
        demo_password,
        web_capacity,
    })
}

/// The digest secrets of a phone (`password`, or `ha1_md5`/`ha1_sha256`), for an agent or a
/// supervisor (`owner` names it in errors); with whether they are the shipped `demo-<id>`.
#[allow(clippy::too_many_arguments)]
pub(super) fn credentials(
    owner: &str,
    id: &str,
    sip_user: &str,
    realm: &str,
    secrets: (&Option<super::Secret>, &Option<String>, &Option<String>),
    span: &Range<usize>,
    src: Source<'_>,
    errs: &mut Errors,
) -> Option<(Credentials, bool)> {
    let credentials = match secrets {
        (Some(pw), None, None) => {
            if pw.0.len() < 8 {
                errs.at(
                    src,
                    span,
                    format!("{owner}: password is shorter than 8 characters"),
                );
            }
            Credentials {
                ha1_md5: Some(ha1(sip_user, realm, &pw.0, DigestAlgorithm::Md5)),
                ha1_sha256: Some(ha1(sip_user, realm, &pw.0, DigestAlgorithm::Sha256)),
            }
        }
        (None, md5, sha) if md5.is_some() || sha.is_some() => {
            if md5.as_ref().is_some_and(|h| !is_hex(h, 32)) {
                errs.at(
                    src,
                    span,
                    format!("{owner}: ha1_md5 must be 32 lowercase hex digits"),
                );
            }
            if sha.as_ref().is_some_and(|h| !is_hex(h, 64)) {
                errs.at(
                    src,
                    span,
                    format!("{owner}: ha1_sha256 must be 64 lowercase hex digits"),
                );
            }
            Credentials {
                ha1_md5: md5.clone(),
                ha1_sha256: sha.clone(),
            }
        }
        (Some(_), _, _) => {
            errs.at(
                src,
                span,
                format!("{owner}: give either `password` or `ha1_md5`/`ha1_sha256`, not both"),
            );
            return None;
        }
        _ => {
            errs.at(src, span, format!("{owner}: no credentials: set `password` (hashed at load) or `ha1_md5`/`ha1_sha256` (H(user:realm:password))"));
            return None;
        }
    };
    let demo = format!("demo-{id}");
    let demo_password = credentials.ha1_md5.as_deref()
        == Some(ha1(sip_user, realm, &demo, DigestAlgorithm::Md5).as_str())
        || credentials.ha1_sha256.as_deref()
            == Some(ha1(sip_user, realm, &demo, DigestAlgorithm::Sha256).as_str());
    Some((credentials, demo_password))
}

fn step(
    raw: &RawStep,
    span: &Range<usize>,
    queue: &str,
    queue_level: u8,
    src: Source<'_>,
    errs: &mut Errors,
) -> Option<Widen> {
    let has_variant = raw.dialect.is_some() || raw.language.is_some() || raw.topic.is_some();
    match (raw.everyone, raw.skill, raw.min_level) {
        (true, None, None) if !has_variant => Some(Widen::Everyone),
        (true, _, _) => {
            errs.at(src, span, format!("queue {queue}: a step with `everyone = true` takes no `skill`, `min_level` or variant"));
            None
        }
        (false, None, Some(level)) if !has_variant => {
            if level == 0 || level >= queue_level {
                errs.at(src, span, format!("queue {queue}: step min_level {level} does not widen: use 1..{queue_level} (below the queue's min_level {queue_level})"));
                return None;
            }
            Some(Widen::Level { min_level: level })
        }
        (false, Some(kind), level) => {
            let level = level.unwrap_or(1);
            if !(1..=5).contains(&level) {
                errs.at(
                    src,
                    span,
                    format!("queue {queue}: step min_level {level} is not 1–5"),
                );
                return None;
            }
            match need_of(kind, &raw.dialect, &raw.language, &raw.topic, false) {
                Ok(need) => Some(Widen::Skill {
                    need,
                    min_level: level,
                }),
                Err(m) => {
                    errs.at(src, span, format!("queue {queue}: step: {m}"));
                    None
                }
            }
        }
        _ => {
            errs.at(src, span, format!("queue {queue}: a step says how it widens: `min_level = N` (same skill, lower level), `skill = \"general\"` (another skill) or `everyone = true`"));
            None
        }
    }
}

fn queue(
    raw: &RawQueue,
    span: &Range<usize>,
    defaults: &super::RawDefaults,
    web_deadline: Duration,
    src: Source<'_>,
    errs: &mut Errors,
) -> Option<QueueConfig> {
    let before = errs.0.len();
    let name = &raw.name;
    if !is_name(name) {
        errs.at(
            src,
            span,
            format!("queue name {name:?} must be 1–64 letters, digits, '-', '_' or '.'"),
        );
    }
    let need = match need_of(raw.skill, &raw.dialect, &raw.language, &raw.topic, false) {
        Ok(n) => Some(n),
        Err(m) => {
            errs.at(src, span, format!("queue {name}: {m}"));
            None
        }
    };
    if !(1..=5).contains(&raw.min_level) {
        errs.at(
            src,
            span,
            format!("queue {name}: min_level {} is not 1–5", raw.min_level),
        );
    }
    let web = raw.channel == QueueChannel::Web;
    let offer_timeout = raw.offer_timeout.unwrap_or(DEFAULT_OFFER_TIMEOUT);
    for (given, key) in [
        (raw.ring_timeout.is_some() && web, "ring_timeout"),
        (raw.wrap_up.is_some() && web, "wrap_up"),
        (raw.offer_timeout.is_some() && !web, "offer_timeout"),
    ] {
        if given {
            let (is, use_) = if web {
                ("a web queue", "web items are offered on the desk for `offer_timeout` and freed when the agent says done")
            } else {
                ("a voice queue", "`offer_timeout` is for `channel = \"web\"` queues; calls ring for `ring_timeout`")
            };
            errs.at(
                src,
                span,
                format!("queue {name}: `{key}` does not apply to {is}: {use_}"),
            );
        }
    }
    if web && !(MIN_OFFER..=MAX_OFFER).contains(&offer_timeout) {
        errs.at(
            src,
            span,
            format!("queue {name}: offer_timeout {offer_timeout:?} must be 5s–10m"),
        );
    }
    let ring_timeout = raw.ring_timeout.unwrap_or(defaults.ring_timeout);
    if !(MIN_RING..=MAX_RING).contains(&ring_timeout) {
        errs.at(
            src,
            span,
            format!("queue {name}: ring_timeout {ring_timeout:?} must be 2s–60s"),
        );
    }
    let wrap_up = raw.wrap_up.unwrap_or(defaults.wrap_up);
    if wrap_up > MAX_WRAP_UP {
        errs.at(
            src,
            span,
            format!("queue {name}: wrap_up {wrap_up:?} is longer than 10m"),
        );
    }
    // A widened call must still have time to ring; a widened web item, time for an offer.
    let (deadline, window, what, needs) = if web {
        (
            web_deadline,
            offer_timeout,
            "web response",
            "an offer needs its offer_timeout to be seen and accepted",
        )
    } else {
        (
            defaults.answer_deadline,
            MIN_RING_WINDOW,
            "answer",
            "a phone needs at least that long to ring and be answered",
        )
    };
    let mut expand = Vec::new();
    let mut last = Duration::ZERO;
    for s in &raw.expand {
        let sspan = s.span();
        let r = s.get_ref();
        if r.after <= last {
            errs.at(src, &sspan, format!("queue {name}: step after {:?} must come later than the one before ({last:?}) and after 0s", r.after));
        }
        if r.after + window > deadline {
            errs.at(src, &sspan, format!(
                "queue {name}: step after {:?} leaves {:?} before the {:?} {what} deadline; {needs} ({window:?}): move it to {:?} or earlier",
                r.after,
                deadline.saturating_sub(r.after),
                deadline,
                deadline.saturating_sub(window)
            ));
        }
        last = last.max(r.after);
        if let Some(widen) = step(r, &sspan, name, raw.min_level, src, errs) {
            expand.push(ExpansionStep {
                after: r.after,
                widen,
            });
        }
    }
    let need = need?;
    (errs.0.len() == before).then(|| QueueConfig {
        name: name.clone(),
        channel: raw.channel,
        need,
        min_level: raw.min_level,
        priority: raw.priority,
        ring_timeout,
        wrap_up,
        offer_timeout,
        expand,
    })
}

pub(super) fn build(
    agents: AgentsFile,
    asrc: Source<'_>,
    queues: QueuesFile,
    qsrc: Source<'_>,
) -> Result<AcdConfig, Vec<ConfigError>> {
    let mut errs = Errors(Vec::new());
    let whole = 0..0;
    if agents.realm.trim().is_empty() || agents.realm.contains('"') {
        errs.at(
            asrc,
            &whole,
            "realm must be non-empty and contain no '\"'".into(),
        );
    }
    if agents.agent.is_empty() {
        errs.at(
            asrc,
            &whole,
            "no [[agent]]: a hotline needs people (rule C1)".into(),
        );
    }
    let mut out_agents: Vec<AgentConfig> = Vec::new();
    let (mut ids, mut users) = (HashSet::new(), HashSet::new());
    for a in &agents.agent {
        let span = a.span();
        let raw = a.get_ref();
        if !ids.insert(raw.id.clone()) {
            errs.at(asrc, &span, format!("agent id {} is used twice", raw.id));
        }
        let user = raw.sip_user.clone().unwrap_or_else(|| raw.id.clone());
        if !users.insert(user.clone()) {
            errs.at(
                asrc,
                &span,
                format!("sip_user {user} is used by two agents"),
            );
        }
        if let Some(ok) = agent(
            raw,
            &span,
            &agents.realm,
            agents.web_capacity,
            asrc,
            &mut errs,
        ) {
            out_agents.push(ok);
        }
    }

    let d = &queues.defaults;
    if d.answer_deadline.is_zero() || d.answer_deadline > super::DEFAULT_ANSWER_DEADLINE {
        errs.at(
            qsrc,
            &whole,
            format!(
                "defaults.answer_deadline {:?} must be above 0 and at most 15s (rule C2)",
                d.answer_deadline
            ),
        );
    }
    if agents.web_capacity > web::MAX_WEB_CAPACITY {
        errs.at(
            asrc,
            &whole,
            format!(
                "web_capacity {} is above {} (0 = agents are never offered web items)",
                agents.web_capacity,
                web::MAX_WEB_CAPACITY
            ),
        );
    }
    let taken: HashSet<String> = out_agents.iter().map(|a| a.sip_user.clone()).collect();
    let supervisors =
        super::phones::supervisors(&agents.supervisor, &taken, &agents.realm, asrc, &mut errs);
    let web_deadline = web::deadline(queues.web.as_ref());
    let mut out_queues: Vec<QueueConfig> = Vec::new();
    let mut names = HashSet::new();
    for q in &queues.queue {
        let span = q.span();
        let raw = q.get_ref();
        if !names.insert(raw.name.clone()) {
            errs.at(qsrc, &span, format!("queue {} is defined twice", raw.name));
        }
        if ["general", "enterprise"].contains(&raw.name.as_str())
            && raw.channel != QueueChannel::Voice
        {
            errs.at(qsrc, &span, format!("queue {}: the {} queue takes calls (the IVR's fallback, rule C6): remove `channel = \"web\"` and give the web queue another name", raw.name, raw.name));
        }
        if let Some(ok) = queue(raw, &span, d, web_deadline, qsrc, &mut errs) {
            out_queues.push(ok);
        }
    }
    let web = web::build(queues.web.as_ref(), &out_queues, qsrc, &mut errs);
    for required in ["general", "enterprise"] {
        if !names.contains(required) {
            errs.at(qsrc, &whole, format!(
                "no queue {required:?}: the {required} queue is mandatory (rule C6 for enterprise; the IVR's fallback for general)"
            ));
        }
    }
    // A queue nobody can serve at its own level only works through expansion: a mistake.
    for (raw, q) in queues.queue.iter().filter_map(|r| {
        out_queues
            .iter()
            .find(|q| q.name == r.get_ref().name)
            .map(|q| (r, q))
    }) {
        let served = out_agents.iter().any(|a| {
            a.skills
                .iter()
                .any(|s| s.meets(&q.need) && s.level >= q.min_level)
        });
        if !served && !out_agents.is_empty() {
            errs.at(
                qsrc,
                &raw.span(),
                format!(
                    "queue {}: no agent in {} holds skill {} at level {} or above",
                    q.name,
                    asrc.path.display(),
                    q.need,
                    q.min_level
                ),
            );
        }
    }
    if errs.0.is_empty() {
        Ok(AcdConfig {
            realm: agents.realm,
            answer_deadline: d.answer_deadline,
            agents: out_agents,
            queues: out_queues,
            web,
            supervisors,
        })
    } else {
        errs.0.sort_by_key(|e| match e {
            ConfigError::Invalid { path, line, .. } => (path.clone(), *line),
            ConfigError::Read { path, .. } => (path.clone(), 0),
        });
        Err(errs.0)
    }
}
