//! The validated menu tree: what the loader hands the navigator. Every value here has passed
//! the rules (≤ 2 levels, a person reachable from every level, only allowed prompt purposes),
//! so the types have no public constructors: a `MenuTree` exists only if it is valid.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// A telephone key a caller can press: what a menu may bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// `0`–`9`; the value is always below 10.
    Digit(u8),
    Star,
    Hash,
}

impl Key {
    /// The key for a DTMF character, or `None` for `A`–`D` and anything else a phone cannot
    /// bind in a menu.
    pub fn from_char(c: char) -> Option<Key> {
        match c {
            '0'..='9' => c.to_digit(10).map(|d| Key::Digit(d as u8)),
            '*' => Some(Key::Star),
            '#' => Some(Key::Hash),
            _ => None,
        }
    }

    /// Parses a key name as written in a menu file: exactly one of `0`–`9`, `*`, `#`.
    pub fn parse(name: &str) -> Option<Key> {
        let mut chars = name.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Key::from_char(c),
            _ => None,
        }
    }

    /// The character on the phone's keypad.
    pub fn as_char(self) -> char {
        match self {
            Key::Digit(d) => char::from(b'0' + d.min(9)),
            Key::Star => '*',
            Key::Hash => '#',
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

/// Why a prompt is played. The list is closed on purpose: rule C4 forbids commercial
/// advertising in the IVR and the callback robot, so there is no variant a promotion could
/// hide behind. Menus and robot scripts each accept their own part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// The short welcome before the first menu (entry menu only, limited in length).
    Greeting,
    /// Reads out the keys; a menu is offered again from its first `menu` prompt.
    Menu,
    /// A short service notice (e.g. holiday hours), or the robot saying who calls and why.
    Information,
    /// Queue position and waiting notices.
    QueueNotice,
    /// Invalid key, no input.
    Error,
    /// A callback robot's question; a step is asked again from its first `question` prompt.
    Question,
    /// The robot's closing words (thanks, goodbye).
    Thanks,
}

impl Purpose {
    /// What a menu file may declare, in the order the error message lists them.
    pub const MENU: [Purpose; 5] = [
        Purpose::Greeting,
        Purpose::Menu,
        Purpose::Information,
        Purpose::QueueNotice,
        Purpose::Error,
    ];

    /// What a robot script may declare.
    pub const ROBOT: [Purpose; 4] = [
        Purpose::Information,
        Purpose::Question,
        Purpose::Thanks,
        Purpose::Error,
    ];

    /// Parses a purpose as written in a menu or robot file, among those `allowed` there.
    pub fn parse_in(name: &str, allowed: &[Purpose]) -> Option<Purpose> {
        allowed.iter().copied().find(|p| p.as_str() == name)
    }

    /// Parses a purpose as written in a menu file.
    pub fn parse(name: &str) -> Option<Purpose> {
        Purpose::parse_in(name, &Purpose::MENU)
    }

    /// `allowed` as the error messages list it: `a, b, c`.
    pub fn list(allowed: &[Purpose]) -> String {
        allowed
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The name used in menu and robot files.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Greeting => "greeting",
            Purpose::Menu => "menu",
            Purpose::Information => "information",
            Purpose::QueueNotice => "queue_notice",
            Purpose::Error => "error",
            Purpose::Question => "question",
            Purpose::Thanks => "thanks",
        }
    }
}

/// A prompt file, named relative to `ivr-menus/prompts/`: what the call layer hands the player.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PromptRef(String);

impl PromptRef {
    pub(crate) fn new(file: impl Into<String>) -> Self {
        PromptRef(file.into())
    }

    /// The file name under the prompts folder.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PromptRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A prompt with its checked purpose and its length (from the prompt catalog), which the
/// greeting limit and the worst-case time to a person are computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub(crate) file: PromptRef,
    pub(crate) purpose: Purpose,
    pub(crate) duration: Duration,
}

impl Prompt {
    pub fn file(&self) -> &PromptRef {
        &self.file
    }
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }
    pub fn duration(&self) -> Duration {
        self.duration
    }
}

/// Index of a menu inside its `MenuTree`; only meaningful for the tree that gave it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MenuIdx(pub(crate) usize);

/// What a bound key does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Hand the call to this ACD queue (terminal).
    Queue(String),
    /// Open this level-2 menu (only the entry menu has them).
    Menu(MenuIdx),
    /// Read this menu out again.
    Repeat,
    /// Return to the parent menu (only level-2 menus have one).
    Back,
}

/// One validated menu.
#[derive(Debug, Clone)]
pub struct Menu {
    pub(crate) id: String,
    pub(crate) parent: Option<MenuIdx>,
    pub(crate) prompts: Vec<Prompt>,
    /// Index in `prompts` of the first `menu` prompt; the loader guarantees one exists.
    pub(crate) menu_start: usize,
    pub(crate) keys: BTreeMap<Key, Action>,
    pub(crate) timeout: Duration,
    pub(crate) tries: u32,
    pub(crate) no_input_queue: String,
    pub(crate) invalid_key_prompt: Option<Prompt>,
    pub(crate) no_input_prompt: Option<Prompt>,
}

impl Menu {
    /// The id used in files and in the call record's path (`main:2`).
    pub fn id(&self) -> &str {
        &self.id
    }
    /// 1 for the entry menu, 2 below it; never more (rule C4).
    pub fn level(&self) -> u8 {
        if self.parent.is_some() {
            2
        } else {
            1
        }
    }
    pub fn parent(&self) -> Option<MenuIdx> {
        self.parent
    }
    /// Everything played on first entry, greeting included.
    pub fn prompts(&self) -> &[Prompt] {
        &self.prompts
    }
    /// What is played when the menu is offered again (repeat, retry, back): from the first
    /// `menu` prompt on, so nobody hears the greeting twice.
    pub fn menu_prompts(&self) -> &[Prompt] {
        self.prompts.get(self.menu_start..).unwrap_or(&[])
    }
    /// Audio before the menu prompt (greeting, notices): what rule C4 keeps short.
    pub fn pre_menu(&self) -> Duration {
        total(self.prompts.get(..self.menu_start).unwrap_or(&[]))
    }
    pub fn keys(&self) -> &BTreeMap<Key, Action> {
        &self.keys
    }
    pub fn action(&self, key: Key) -> Option<&Action> {
        self.keys.get(&key)
    }
    /// How long the caller has to press a key after the menu prompt ends.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// How many times the menu is offered before the no-input fallback; timeouts and invalid
    /// keys each use one.
    pub fn tries(&self) -> u32 {
        self.tries
    }
    /// Where a caller goes who presses nothing (or only wrong keys) `tries` times.
    pub fn no_input_queue(&self) -> &str {
        &self.no_input_queue
    }
    pub fn invalid_key_prompt(&self) -> Option<&Prompt> {
        self.invalid_key_prompt.as_ref()
    }
    pub fn no_input_prompt(&self) -> Option<&Prompt> {
        self.no_input_prompt.as_ref()
    }
}

/// The audio a caller hears while waiting in a queue; named here so the menu files are the one
/// place IT staff change what callers hear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAudio {
    pub(crate) hold: PromptRef,
    pub(crate) transfer: PromptRef,
    pub(crate) position_prefix: PromptRef,
    pub(crate) position_digits: [PromptRef; 10],
    pub(crate) position_suffix: PromptRef,
    /// The "call me back" offer's prompts; `None`: the menus offer no callback.
    pub(crate) callback: Option<CallbackAudio>,
    /// The short notice played before the menu while surge mode is on (C8).
    pub(crate) surge_notice: Option<PromptRef>,
    /// A callback's agent hears this, then `ringback` looping, until the citizen answers.
    pub(crate) callback_agent: Option<PromptRef>,
    pub(crate) ringback: Option<PromptRef>,
}

/// What a waiting caller hears of the "keep your place and be called back" offer (issue 15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackAudio {
    /// "The wait is long: press 1 to keep your place and be called back."
    pub offer: PromptRef,
    /// "We will call you back at" … the number, digit by digit …
    pub confirm_prefix: PromptRef,
    /// "… press 1 to confirm, 2 for another number, * to keep waiting."
    pub confirm_suffix: PromptRef,
    /// "Key in the number to call, then #."
    pub enter: PromptRef,
    /// "Your place is kept; we will call you when it is your turn. You may hang up."
    pub accepted: PromptRef,
}

impl QueueAudio {
    /// The callback offer's prompts, when the menus have them.
    pub fn callback(&self) -> Option<&CallbackAudio> {
        self.callback.as_ref()
    }

    /// What a callback's agent hears while the citizen's phone rings (empty: silence).
    pub fn callback_whisper(&self) -> Vec<PromptRef> {
        [&self.callback_agent, &self.ringback]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// The surge notice, when the menus have one.
    pub fn surge_notice(&self) -> Option<&PromptRef> {
        self.surge_notice.as_ref()
    }

    /// One prompt per digit of `number` (what is not a digit is skipped).
    pub fn digits(&self, number: &str) -> Vec<PromptRef> {
        number
            .chars()
            .filter_map(|c| c.to_digit(10))
            .map(|d| self.position_digits[d as usize].clone())
            .collect()
    }

    /// Music looped while the caller waits.
    pub fn hold(&self) -> &PromptRef {
        &self.hold
    }
    /// "Transferring you to an agent", played when the navigator routes.
    pub fn transfer(&self) -> &PromptRef {
        &self.transfer
    }
    /// The play list for "you are number N in the queue": prefix, one file per digit, suffix.
    pub fn position_notice(&self, position: u32) -> Vec<PromptRef> {
        let mut out = vec![self.position_prefix.clone()];
        for c in position.to_string().chars() {
            let d = c.to_digit(10).unwrap_or(0) as usize;
            out.push(self.position_digits[d.min(9)].clone());
        }
        out.push(self.position_suffix.clone());
        out
    }
}

/// The whole validated IVR: menus (index 0 is the entry menu) and the queue audio.
#[derive(Debug, Clone)]
pub struct MenuTree {
    pub(crate) menus: Vec<Menu>,
    pub(crate) queue_audio: QueueAudio,
    /// Integrated numbers that do not start at the entry menu, or hear a notice first.
    pub(crate) numbers: BTreeMap<String, super::numbers::NumberEntry>,
}

impl MenuTree {
    /// Where every call starts.
    pub fn entry(&self) -> MenuIdx {
        MenuIdx(0)
    }

    /// A menu by index. Indices come from this tree, so the lookup cannot miss; an index from
    /// another tree falls back to the entry menu rather than panic mid-call.
    pub fn menu(&self, idx: MenuIdx) -> &Menu {
        self.menus.get(idx.0).unwrap_or(&self.menus[0])
    }

    /// A menu by its id.
    pub fn find(&self, id: &str) -> Option<MenuIdx> {
        self.menus.iter().position(|m| m.id == id).map(MenuIdx)
    }

    /// All menus, the entry menu first.
    pub fn menus(&self) -> impl Iterator<Item = (MenuIdx, &Menu)> {
        self.menus.iter().enumerate().map(|(i, m)| (MenuIdx(i), m))
    }

    pub fn queue_audio(&self) -> &QueueAudio {
        &self.queue_audio
    }

    /// How calls to `number` are taken in; `None`: the entry menu, no notice (12345).
    pub fn number(&self, number: &str) -> Option<&super::numbers::NumberEntry> {
        self.numbers.get(number)
    }

    /// Every configured number, in number order.
    pub fn numbers(&self) -> impl Iterator<Item = (&str, &super::numbers::NumberEntry)> {
        self.numbers.iter().map(|(n, e)| (n.as_str(), e))
    }

    /// How calls to `number` are taken in, for `hotline check`.
    pub fn describe_number(&self, number: &str) -> String {
        let Some(e) = self.numbers.get(number) else {
            return format!("number {number}: menu {}", self.menus[0].id);
        };
        let name = e.name().map(|n| format!(" ({n})")).unwrap_or_default();
        let notice = e
            .notice()
            .map(|p| {
                format!(
                    " after notice {} ({:.1} s)",
                    p.file(),
                    p.duration.as_secs_f64()
                )
            })
            .unwrap_or_default();
        match e.route() {
            super::numbers::NumberRoute::Menu(i) => {
                let lead = e.notice().map_or(Duration::ZERO, |p| p.duration);
                format!(
                    "number {number}{name}: menu {}{notice}; worst case to a person {:.1} s",
                    self.menu(*i).id,
                    self.worst_case_from(*i, lead).as_secs_f64()
                )
            }
            super::numbers::NumberRoute::Queue(q) => {
                format!("number {number}{name}: straight to queue {q}{notice}")
            }
        }
    }

    /// What screens call `number`: its configured name, if any.
    pub fn number_name(&self, number: &str) -> Option<&str> {
        self.numbers.get(number).and_then(|e| e.name())
    }

    /// The queues a caller can choose with a key, in any menu.
    pub fn queues_by_key(&self) -> std::collections::BTreeSet<&str> {
        self.menus
            .iter()
            .flat_map(|m| m.keys.values())
            .filter_map(|a| match a {
                Action::Queue(q) => Some(q.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The longest time from answer to reaching a queue for a caller who presses nothing: the
    /// entry menu's full prompts, then `tries` rounds of timeout, with the no-input prompt and
    /// the menu prompt between rounds. `hotline check` prints it; the navigator also uses it as
    /// a hard limit, so no key sequence keeps a caller in the IVR longer (rule C5).
    pub fn worst_case_to_person(&self) -> Duration {
        self.worst_case_from(self.entry(), Duration::ZERO)
    }

    /// The same for a caller who starts in `start` after `lead` of notice (an integrated
    /// number's branch).
    pub fn worst_case_from(&self, start: MenuIdx, lead: Duration) -> Duration {
        let m = self.menu(start);
        let retry = m
            .no_input_prompt
            .as_ref()
            .map_or(Duration::ZERO, |p| p.duration)
            + total(m.menu_prompts())
            + m.timeout;
        lead + total(&m.prompts) + m.timeout + retry * m.tries.saturating_sub(1)
    }
}

/// Sum of prompt lengths.
pub(crate) fn total(prompts: &[Prompt]) -> Duration {
    prompts.iter().map(|p| p.duration).sum()
}

/// The tree as `hotline check` prints it: one line per menu with its keys and fallback.
impl fmt::Display for MenuTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.menus {
            let indent = if m.parent.is_some() { "  " } else { "" };
            write!(f, "{indent}{} (level {}):", m.id, m.level())?;
            for (key, action) in &m.keys {
                match action {
                    Action::Queue(q) => write!(f, " {key}→queue {q},")?,
                    Action::Menu(i) => write!(f, " {key}→menu {},", self.menu(*i).id)?,
                    Action::Repeat => write!(f, " {key}→repeat,")?,
                    Action::Back => write!(f, " {key}→back,")?,
                }
            }
            writeln!(f, " no input ×{}→queue {}", m.tries, m.no_input_queue)?;
        }
        for number in self.numbers.keys() {
            writeln!(f, "{}", self.describe_number(number))?;
        }
        write!(
            f,
            "worst case to a person: {:?}",
            self.worst_case_to_person()
        )
    }
}
