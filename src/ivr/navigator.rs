//! The per-call navigator: a sans-IO state machine that turns key presses, "prompt finished"
//! and timeouts into what to play and, in the end, which queue to route to. It never hangs up:
//! every path ends in `RouteToQueue`, at the latest at answer + `worst_case_to_person()`,
//! whatever the caller presses (rule C5). It plays nothing itself and reads no clock.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use super::model::{Action, Key, Menu, MenuIdx, MenuTree, PromptRef};

/// Names one play list, so a "finished" report for a list that was already stopped (barge-in)
/// cannot start the input timer of the list that replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlayId(u64);

impl PlayId {
    /// The next id from a navigator's counter.
    pub(crate) fn next(counter: &mut u64) -> PlayId {
        let id = PlayId(*counter);
        *counter += 1;
        id
    }
}

/// Why the call left the IVR, for the call record and the stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteReason {
    /// The caller chose the queue.
    Key,
    /// The caller pressed nothing for `tries` rounds.
    NoInput,
    /// The last failed round ended with an invalid key.
    InvalidKeys,
    /// The caller kept navigating until the IVR's time limit.
    TimeLimit,
}

/// What the call layer must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NavAction {
    /// Play these prompts in order, replacing anything playing; report the end with
    /// `handle_prompt_finished(id, now)`. With `barge_in`, a key press stops it at once.
    Play {
        id: PlayId,
        prompts: Vec<PromptRef>,
        barge_in: bool,
    },
    /// Stop the current play list now (a key was pressed during it); no "finished" is expected.
    StopPlayback,
    /// Terminal: put the call in this queue. `path` is the keys pressed as `menu:key` (and
    /// `menu:timeout`, `menu:time_limit`) for the call record.
    RouteToQueue {
        queue: String,
        path: Vec<String>,
        reason: RouteReason,
    },
}

/// The caller's stay in one menu; `failures` counts timeouts and invalid keys there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Visit {
    menu: MenuIdx,
    failures: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// A play list is running; the input timer starts when it ends.
    Playing { visit: Visit, play: PlayId },
    /// The menu has been read out; waiting for a key until `until`.
    Waiting { visit: Visit, until: Instant },
    /// Done; everything later is ignored.
    Routed,
}

/// Why a round failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Timeout,
    InvalidKey,
}

/// One call's way through the menus.
#[derive(Debug)]
pub struct Navigator {
    tree: Arc<MenuTree>,
    state: State,
    path: Vec<String>,
    /// Answer + the tree's worst case: no caller stays in the IVR longer.
    time_limit: Instant,
    next_play: u64,
    out: VecDeque<NavAction>,
}

impl Navigator {
    /// Starts a call at the entry menu, greeting included (`now` is the answer time).
    pub fn new(tree: &Arc<MenuTree>, now: Instant) -> Self {
        Navigator::starting(tree, tree.entry(), None, now)
    }

    /// Starts a call in `menu` (an integrated number's branch, or the entry menu), with the
    /// number's `notice` played first. The time limit counts from `now` through that menu's
    /// worst case, notice included.
    pub fn starting(
        tree: &Arc<MenuTree>,
        menu: MenuIdx,
        notice: Option<&super::model::Prompt>,
        now: Instant,
    ) -> Self {
        let lead = notice.map_or(std::time::Duration::ZERO, |p| p.duration());
        let mut nav = Navigator {
            tree: Arc::clone(tree),
            state: State::Routed,
            path: Vec::new(),
            time_limit: now + tree.worst_case_from(menu, lead),
            next_play: 0,
            out: VecDeque::new(),
        };
        nav.play(
            Visit { menu, failures: 0 },
            notice.map(|p| p.file().clone()),
            true,
        );
        nav
    }

    /// A DTMF digit (`0`–`9`, `*`, `#`; anything else counts as an invalid key). A digit during
    /// a prompt stops it (barge-in, greeting included); after routing it is ignored. Digits are
    /// acted on one by one as they come, so a caller who knows the menu can type ahead.
    pub fn handle_digit(&mut self, digit: char, now: Instant) {
        self.check_time_limit(now);
        let (visit, playing) = match self.state {
            State::Playing { visit, .. } => (visit, true),
            State::Waiting { visit, .. } => (visit, false),
            State::Routed => {
                tracing::debug!(%digit, "digit after routing ignored");
                return;
            }
        };
        if playing {
            self.out.push_back(NavAction::StopPlayback);
        }
        let tree = Arc::clone(&self.tree);
        let menu = tree.menu(visit.menu);
        self.path.push(format!("{}:{digit}", menu.id()));
        let action = Key::from_char(digit).and_then(|k| menu.action(k));
        match action {
            Some(Action::Queue(q)) => self.route(q.clone(), RouteReason::Key),
            Some(Action::Menu(target)) => self.play(fresh(*target), None, true),
            Some(Action::Repeat) => self.play(visit, None, false),
            Some(Action::Back) => {
                let parent = menu.parent().unwrap_or(tree.entry());
                self.play(fresh(parent), None, false);
            }
            None => self.fail(visit, Failure::InvalidKey),
        }
    }

    /// The player finished play list `play`; the input timer starts now. Reports for a list
    /// that was replaced are ignored.
    pub fn handle_prompt_finished(&mut self, play: PlayId, now: Instant) {
        if let State::Playing {
            visit,
            play: current,
        } = self.state
        {
            if current == play {
                let until = now + self.tree.menu(visit.menu).timeout();
                self.state = State::Waiting { visit, until };
            }
        }
        self.check_time_limit(now);
    }

    /// The time from `poll_timeout` has come (early or repeated calls are harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        if let State::Waiting { visit, until } = self.state {
            if now >= until {
                let id = self.tree.menu(visit.menu).id().to_string();
                self.path.push(format!("{id}:timeout"));
                self.fail(visit, Failure::Timeout);
            }
        }
        self.check_time_limit(now);
    }

    /// The next thing to do; drain until `None` after every input.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<NavAction> {
        self.out.pop_front()
    }

    /// When to call `handle_timeout`: the input timeout or the IVR's time limit; `None` once
    /// routed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Playing { .. } => Some(self.time_limit),
            State::Waiting { until, .. } => Some(until.min(self.time_limit)),
            State::Routed => None,
        }
    }

    /// The keys pressed so far, as `menu:key`.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The menu the caller is in, or `None` once routed.
    pub fn current_menu(&self) -> Option<&Menu> {
        match self.state {
            State::Playing { visit, .. } | State::Waiting { visit, .. } => {
                Some(self.tree.menu(visit.menu))
            }
            State::Routed => None,
        }
    }

    /// Whether the call has been handed to a queue.
    pub fn is_routed(&self) -> bool {
        self.state == State::Routed
    }

    /// Offers a menu: everything on first entry, from the menu prompt on otherwise, with an
    /// error prompt in front after a failed round (or a number's notice before the first).
    fn play(&mut self, visit: Visit, error: Option<PromptRef>, first: bool) {
        let menu = self.tree.menu(visit.menu);
        let body = if first {
            menu.prompts()
        } else {
            menu.menu_prompts()
        };
        let prompts: Vec<PromptRef> = error
            .into_iter()
            .chain(body.iter().map(|p| p.file().clone()))
            .collect();
        let play = PlayId::next(&mut self.next_play);
        self.state = State::Playing { visit, play };
        self.out.push_back(NavAction::Play {
            id: play,
            prompts,
            barge_in: true,
        });
    }

    /// A timeout or an invalid key: offer the menu again, or after the last try hand the
    /// caller to the menu's no-input queue.
    fn fail(&mut self, visit: Visit, why: Failure) {
        let menu = self.tree.menu(visit.menu);
        let failures = visit.failures + 1;
        if failures >= menu.tries() {
            let reason = match why {
                Failure::Timeout => RouteReason::NoInput,
                Failure::InvalidKey => RouteReason::InvalidKeys,
            };
            let queue = menu.no_input_queue().to_string();
            self.route(queue, reason);
            return;
        }
        let error = match why {
            Failure::Timeout => menu.no_input_prompt(),
            Failure::InvalidKey => menu.invalid_key_prompt(),
        }
        .map(|p| p.file().clone());
        let visit = Visit { failures, ..visit };
        self.play(visit, error, false);
    }

    fn check_time_limit(&mut self, now: Instant) {
        if now < self.time_limit {
            return;
        }
        let visit = match self.state {
            State::Playing { visit, .. } => {
                self.out.push_back(NavAction::StopPlayback);
                visit
            }
            State::Waiting { visit, .. } => visit,
            State::Routed => return,
        };
        let menu = self.tree.menu(visit.menu);
        let queue = menu.no_input_queue().to_string();
        self.path.push(format!("{}:time_limit", menu.id()));
        self.route(queue, RouteReason::TimeLimit);
    }

    fn route(&mut self, queue: String, reason: RouteReason) {
        self.state = State::Routed;
        self.out.push_back(NavAction::RouteToQueue {
            queue,
            path: self.path.clone(),
            reason,
        });
    }
}

fn fresh(menu: MenuIdx) -> Visit {
    Visit { menu, failures: 0 }
}
