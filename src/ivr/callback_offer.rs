//! "Keep your place and be called back" (issue 15, C8): the short dialog a waiting caller has
//! when the queue's forecast wait is long. Offer → (1) confirm the number read back digit by
//! digit → (1) accepted, or (2) key in another number and `#` → confirm it. `*` at any step,
//! or silence after the last try, declines: the caller simply keeps waiting, with the hold
//! music. Sans-IO: keys, prompt ends and timeouts come in with `now`; plays and the result
//! come out of [`CallbackOffer::poll_action`].

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::ivr::model::{CallbackAudio, PromptRef, QueueAudio};

/// How long the caller has to press a key after a prompt ends.
pub const KEY_TIMEOUT: Duration = Duration::from_secs(6);
/// How often the confirmation or the number entry is offered before the caller is left to
/// wait.
pub const TRIES: u32 = 2;
/// The shortest number a caller may key in (a local fixed line has 7 or 8 digits).
pub const MIN_DIGITS: usize = 7;
/// The longest (international prefix included).
pub const MAX_DIGITS: usize = 20;

/// What the engine does for the dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferAction {
    /// Replace what plays with these prompts; report their end with
    /// [`CallbackOffer::handle_prompt_finished`] and this `play`. The hold music goes on after.
    Play { play: u64, prompts: Vec<PromptRef> },
    /// The caller took the offer: call them back at `number`. The engine keeps their place,
    /// plays `Play` of the farewell (already queued before this) and hangs up at its end.
    Accepted { number: String },
    /// The caller keeps waiting on the line (declined, `*`, or nothing pressed).
    Declined,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Offering,
    Confirming,
    Entering,
    /// Saying farewell: the dialog is over once it ends.
    Farewell,
    Over,
}

/// One caller's offer.
#[derive(Debug)]
pub struct CallbackOffer {
    audio: CallbackAudio,
    digits: [PromptRef; 10],
    step: Step,
    number: String,
    /// `number` is the caller's own (not one they keyed in).
    own: bool,
    typed: String,
    tries: u32,
    play: u64,
    /// The current play list is still going (no key timer yet).
    playing: bool,
    deadline: Option<Instant>,
    out: VecDeque<OfferAction>,
}

impl CallbackOffer {
    /// Starts the offer for a caller whose own number is `number` (what the engine would
    /// call back). `None` when the menus hold no callback prompts.
    pub fn start(audio: &QueueAudio, number: &str) -> Option<CallbackOffer> {
        let cb = audio.callback()?.clone();
        let digits = audio.position_digits.clone();
        let mut offer = CallbackOffer {
            audio: cb,
            digits,
            step: Step::Offering,
            number: number.to_string(),
            own: true,
            typed: String::new(),
            tries: 0,
            play: 0,
            playing: false,
            deadline: None,
            out: VecDeque::new(),
        };
        let offer_prompt = offer.audio.offer.clone();
        offer.play(vec![offer_prompt]);
        Some(offer)
    }

    /// Whether the dialog is still running (the engine routes keys here while it is).
    pub fn is_active(&self) -> bool {
        self.step != Step::Over
    }

    /// The number the caller confirmed (or is confirming).
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The number to call if the caller hangs up now: they took the offer (the farewell
    /// plays), or they pressed 1 and left while their own number was being read back — the
    /// callback is what they asked for. A number they keyed in and did not confirm is not
    /// called.
    pub fn taken_on_hang_up(&self) -> Option<&str> {
        match self.step {
            Step::Farewell => Some(&self.number),
            Step::Confirming if self.own => Some(&self.number),
            _ => None,
        }
    }

    pub fn poll_action(&mut self) -> Option<OfferAction> {
        self.out.pop_front()
    }

    /// When [`CallbackOffer::handle_timeout`] is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// A key the caller pressed (barge-in: a key during a prompt counts).
    pub fn handle_digit(&mut self, digit: char, now: Instant) {
        let _ = now;
        match (self.step, digit) {
            (Step::Farewell | Step::Over, _) => {}
            (_, '*') => self.decline(),
            (Step::Offering, '1') => {
                self.tries = 0;
                self.confirm();
            }
            (Step::Offering, _) => {}
            (Step::Confirming, '1') => self.accept(),
            (Step::Confirming, '2') => {
                self.tries = 0;
                self.enter();
            }
            (Step::Confirming, _) => {}
            (Step::Entering, '#') => self.number_done(),
            (Step::Entering, d) if d.is_ascii_digit() => {
                if self.typed.len() < MAX_DIGITS {
                    self.typed.push(d);
                }
                // Stop the prompt at the first digit; the timer now runs between digits.
                self.playing = false;
                self.deadline = Some(now + KEY_TIMEOUT);
            }
            (Step::Entering, _) => {}
        }
    }

    /// The play list `play` ended: the key timer starts (or, after the farewell, the dialog
    /// is over).
    pub fn handle_prompt_finished(&mut self, play: u64, now: Instant) {
        if play != self.play || !self.playing {
            return;
        }
        self.playing = false;
        if self.step == Step::Farewell {
            self.step = Step::Over;
            self.deadline = None;
            return;
        }
        self.deadline = Some(now + KEY_TIMEOUT);
    }

    /// The key timer ran out.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_none_or(|d| now < d) {
            return;
        }
        self.deadline = None;
        match self.step {
            // Silence after the offer: the caller keeps waiting.
            Step::Offering => self.decline(),
            Step::Confirming => {
                self.tries += 1;
                if self.tries >= TRIES {
                    self.decline();
                } else {
                    self.confirm();
                }
            }
            Step::Entering if !self.typed.is_empty() => self.number_done(),
            Step::Entering => self.retry_entry(),
            Step::Farewell | Step::Over => {}
        }
    }

    fn play(&mut self, prompts: Vec<PromptRef>) {
        self.play += 1;
        self.playing = true;
        self.deadline = None;
        self.out.push_back(OfferAction::Play {
            play: self.play,
            prompts,
        });
    }

    fn confirm(&mut self) {
        self.step = Step::Confirming;
        let mut prompts = vec![self.audio.confirm_prefix.clone()];
        prompts.extend(
            self.number
                .chars()
                .filter_map(|c| c.to_digit(10))
                .map(|d| self.digits[d as usize].clone()),
        );
        prompts.push(self.audio.confirm_suffix.clone());
        self.play(prompts);
    }

    fn enter(&mut self) {
        self.step = Step::Entering;
        self.typed.clear();
        let prompt = self.audio.enter.clone();
        self.play(vec![prompt]);
    }

    fn retry_entry(&mut self) {
        self.tries += 1;
        if self.tries >= TRIES {
            self.decline();
        } else {
            self.enter();
        }
    }

    fn number_done(&mut self) {
        let typed = std::mem::take(&mut self.typed);
        if (MIN_DIGITS..=MAX_DIGITS).contains(&typed.len())
            && crate::outbound::rules::is_phone_number(&typed)
        {
            self.number = typed;
            self.own = false;
            self.tries = 0;
            self.confirm();
        } else {
            self.retry_entry();
        }
    }

    fn accept(&mut self) {
        self.step = Step::Farewell;
        let prompt = self.audio.accepted.clone();
        self.play(vec![prompt]);
        self.out.push_back(OfferAction::Accepted {
            number: self.number.clone(),
        });
    }

    fn decline(&mut self) {
        self.step = Step::Over;
        self.playing = false;
        self.deadline = None;
        self.out.push_back(OfferAction::Declined);
    }
}

#[cfg(test)]
mod tests;
