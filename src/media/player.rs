//! The per-call player: turns a queue of shared prompts into 20 ms payload frames for the
//! call's codec, and tells the IVR when each item finished (so it can start its no-input timer)
//! or was cut off (barge-in: a key press stops the menu prompt at once).
//!
//! It is the [`FrameSource`] the pacer pulls from. It never decodes: prompts arrive decoded and
//! encoded as `Arc<Prompt>`, and a frame is a slice into them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crate::media::codec::Codec;
use crate::media::pacer::{FrameSource, FRAME};
use crate::media::prompt::Prompt;

/// Names one queued item, so the IVR can match "finished" events to what it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlayId(pub u64);

/// What happened to a queued item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayerEvent {
    /// It played to its end (for a menu prompt: start waiting for a key).
    Finished(PlayId),
    /// `stop()` cut it off or removed it from the queue before it played out.
    Interrupted(PlayId),
}

/// What to send when there is nothing to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleMode {
    /// Silence frames: keeps NAT bindings and the peer's jitter buffer alive (the default).
    Silence,
    /// No packets; the next prompt starts a new talkspurt (marker bit).
    NoPackets,
}

#[derive(Debug, Clone)]
enum Item {
    Prompt(Arc<Prompt>),
    /// Repeats until stopped (hold music).
    Loop(Arc<Prompt>),
    /// Frames of silence (pauses inside a sequence, e.g. between "您前面还有" and the number).
    Silence(u64),
}

/// The player's state: one variant per thing it can be doing, with its data.
#[derive(Debug, Clone)]
enum State {
    Idle,
    Playing {
        id: PlayId,
        prompt: Arc<Prompt>,
        frame: usize,
        looping: bool,
    },
    Silence {
        id: PlayId,
        left: u64,
    },
    /// The pause between two items.
    Gap {
        left: u64,
    },
}

/// What `next_frame` decided to send, before borrowing the frame.
enum Next {
    Prompt(usize),
    Silence,
    Nothing,
}

/// One call's outgoing audio. See the module doc.
#[derive(Debug)]
pub struct Player {
    codec: Codec,
    idle: IdleMode,
    gap_frames: u64,
    state: State,
    queue: VecDeque<(PlayId, Item)>,
    next_id: u64,
    events: VecDeque<PlayerEvent>,
    /// Where a stopped loop was (hold music cut by a position notice): the same loop queued
    /// again resumes there instead of starting over.
    resume_loop: Option<(Arc<Prompt>, usize)>,
}

fn frames_in(d: Duration) -> u64 {
    (d.as_nanos() / FRAME.as_nanos()) as u64
}

impl Player {
    /// A silent player for a call that negotiated `codec`.
    pub fn new(codec: Codec) -> Self {
        Player {
            codec,
            idle: IdleMode::Silence,
            gap_frames: 0,
            state: State::Idle,
            queue: VecDeque::new(),
            next_id: 0,
            events: VecDeque::new(),
            resume_loop: None,
        }
    }

    /// Sets what is sent while idle.
    pub fn with_idle(mut self, idle: IdleMode) -> Self {
        self.idle = idle;
        self
    }

    /// Inserts `gap` of silence between consecutive items (rounded down to 20 ms frames).
    pub fn with_gap(mut self, gap: Duration) -> Self {
        self.gap_frames = frames_in(gap);
        self
    }

    /// The codec frames are produced in.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Switches codec (re-INVITE); the current prompt continues in the new encoding.
    pub fn set_codec(&mut self, codec: Codec) {
        self.codec = codec;
    }

    fn enqueue(&mut self, item: Item) -> PlayId {
        let id = PlayId(self.next_id);
        self.next_id += 1;
        self.queue.push_back((id, item));
        id
    }

    /// Queues a prompt after whatever is playing.
    pub fn play(&mut self, prompt: Arc<Prompt>) -> PlayId {
        self.enqueue(Item::Prompt(prompt))
    }

    /// Queues a prompt that repeats until `stop()` (hold music).
    pub fn play_loop(&mut self, prompt: Arc<Prompt>) -> PlayId {
        self.enqueue(Item::Loop(prompt))
    }

    /// Queues a pause (rounded down to 20 ms frames).
    pub fn pause(&mut self, duration: Duration) -> PlayId {
        self.enqueue(Item::Silence(frames_in(duration)))
    }

    /// Stops at once: the current item and everything queued are dropped, each reported as
    /// `Interrupted`. The very next frame is idle audio.
    pub fn stop(&mut self) {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Playing {
                id,
                prompt,
                frame,
                looping,
            } => {
                if looping {
                    self.resume_loop = Some((prompt, frame));
                }
                self.events.push_back(PlayerEvent::Interrupted(id));
            }
            State::Silence { id, .. } => {
                self.events.push_back(PlayerEvent::Interrupted(id));
            }
            State::Idle | State::Gap { .. } => {}
        }
        for (id, _) in self.queue.drain(..) {
            self.events.push_back(PlayerEvent::Interrupted(id));
        }
    }

    /// Nothing playing and nothing queued.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle) && self.queue.is_empty()
    }

    /// The item being played, if any.
    pub fn current(&self) -> Option<PlayId> {
        match self.state {
            State::Playing { id, .. } | State::Silence { id, .. } => Some(id),
            State::Idle | State::Gap { .. } => None,
        }
    }

    /// Moves to the next queued item (or idle), through a gap if one is configured.
    fn advance(&mut self, after_item: bool) {
        if after_item && self.gap_frames > 0 && !self.queue.is_empty() {
            self.state = State::Gap {
                left: self.gap_frames,
            };
            return;
        }
        self.state = match self.queue.pop_front() {
            None => State::Idle,
            Some((id, Item::Prompt(prompt))) => State::Playing {
                id,
                prompt,
                frame: 0,
                looping: false,
            },
            Some((id, Item::Loop(prompt))) => {
                // The same music again: on from where it was cut.
                let frame = match self.resume_loop.take() {
                    Some((p, f)) if Arc::ptr_eq(&p, &prompt) && prompt.frame_count() > 0 => {
                        f % prompt.frame_count()
                    }
                    _ => 0,
                };
                State::Playing {
                    id,
                    prompt,
                    frame,
                    looping: true,
                }
            }
            Some((id, Item::Silence(left))) => State::Silence { id, left },
        };
    }

    fn decide(&mut self) -> Next {
        loop {
            match &mut self.state {
                State::Idle => {
                    if self.queue.is_empty() {
                        return match self.idle {
                            IdleMode::Silence => Next::Silence,
                            IdleMode::NoPackets => Next::Nothing,
                        };
                    }
                    self.advance(false);
                }
                State::Playing {
                    id,
                    prompt,
                    frame,
                    looping,
                } => {
                    let count = prompt.frame_count();
                    if *frame >= count && *looping && count > 0 {
                        *frame = 0;
                    }
                    if *frame < count {
                        *frame += 1;
                        return Next::Prompt(*frame - 1);
                    }
                    let id = *id;
                    self.events.push_back(PlayerEvent::Finished(id));
                    self.advance(true);
                }
                State::Silence { id, left } => {
                    if *left > 0 {
                        *left -= 1;
                        return Next::Silence;
                    }
                    let id = *id;
                    self.events.push_back(PlayerEvent::Finished(id));
                    self.advance(true);
                }
                State::Gap { left } => {
                    if *left > 0 {
                        *left -= 1;
                        return Next::Silence;
                    }
                    self.advance(false);
                }
            }
        }
    }
}

impl FrameSource for Player {
    type Event = PlayerEvent;

    fn next_frame(&mut self) -> Option<&[u8]> {
        match self.decide() {
            Next::Prompt(i) => match &self.state {
                State::Playing { prompt, .. } => prompt.frame(self.codec, i),
                _ => Some(self.codec.silence_frame()),
            },
            Next::Silence => Some(self.codec.silence_frame()),
            Next::Nothing => None,
        }
    }

    fn poll_event(&mut self) -> Option<PlayerEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A prompt of `frames` frames whose samples encode the frame number, so tests can tell
    /// which frame of which prompt came out.
    fn prompt(name: &str, frames: usize, level: i16) -> Arc<Prompt> {
        let pcm = (0..frames * 160)
            .map(|i| level + (i / 160) as i16 * 64)
            .collect();
        Arc::new(Prompt::from_pcm(name, pcm))
    }

    fn pull(p: &mut Player, n: usize) -> Vec<Option<Vec<u8>>> {
        (0..n).map(|_| p.next_frame().map(<[u8]>::to_vec)).collect()
    }

    fn events(p: &mut Player) -> Vec<PlayerEvent> {
        std::iter::from_fn(|| p.poll_event()).collect()
    }

    #[test]
    fn plays_the_queue_in_order_then_idles_with_silence() {
        let a = prompt("a.wav", 2, 1000);
        let b = prompt("b.wav", 1, 5000);
        let mut p = Player::new(Codec::Pcma);
        assert!(p.is_idle());
        let ia = p.play(a.clone());
        let ib = p.play(b.clone());
        let got = pull(&mut p, 4);
        assert_eq!(got[0].as_deref(), a.frame(Codec::Pcma, 0));
        assert_eq!(got[1].as_deref(), a.frame(Codec::Pcma, 1));
        assert_eq!(got[2].as_deref(), b.frame(Codec::Pcma, 0));
        assert_eq!(got[3].as_deref(), Some(&Codec::Pcma.silence_frame()[..]));
        assert_eq!(
            events(&mut p),
            vec![PlayerEvent::Finished(ia), PlayerEvent::Finished(ib)]
        );
        assert!(p.is_idle());
    }

    #[test]
    fn finished_is_raised_when_the_frame_after_the_last_is_pulled() {
        let mut p = Player::new(Codec::Pcmu);
        let id = p.play(prompt("m.wav", 3, 0));
        pull(&mut p, 3);
        assert!(events(&mut p).is_empty(), "last frame is still on the wire");
        pull(&mut p, 1);
        assert_eq!(events(&mut p), vec![PlayerEvent::Finished(id)]);
    }

    #[test]
    fn stop_is_immediate_and_reports_everything_cut_off() {
        let mut p = Player::new(Codec::Pcmu);
        let a = p.play(prompt("menu.wav", 50, 3000));
        let b = p.play(prompt("next.wav", 50, 3000));
        pull(&mut p, 10);
        assert_eq!(p.current(), Some(a));
        p.stop();
        assert_eq!(
            events(&mut p),
            vec![PlayerEvent::Interrupted(a), PlayerEvent::Interrupted(b)]
        );
        assert_eq!(
            pull(&mut p, 1)[0].as_deref(),
            Some(&Codec::Pcmu.silence_frame()[..])
        );
        assert!(p.is_idle());
    }

    #[test]
    fn loop_repeats_until_stopped() {
        let hold = prompt("hold.ogg", 3, 2000);
        let mut p = Player::new(Codec::Pcmu);
        let id = p.play_loop(hold.clone());
        let got = pull(&mut p, 7);
        for (i, f) in got.iter().enumerate() {
            assert_eq!(f.as_deref(), hold.frame(Codec::Pcmu, i % 3));
        }
        assert!(events(&mut p).is_empty());
        p.stop();
        assert_eq!(events(&mut p), vec![PlayerEvent::Interrupted(id)]);
    }

    #[test]
    fn gaps_and_pauses_are_silence_frames() {
        let a = prompt("a.wav", 1, 4000);
        let mut p = Player::new(Codec::Pcmu).with_gap(Duration::from_millis(40));
        p.play(a.clone());
        let pause = p.pause(Duration::from_millis(20));
        p.play(a.clone());
        let silence = Some(Codec::Pcmu.silence_frame().to_vec());
        let got = pull(&mut p, 8);
        let expect_a = a.frame(Codec::Pcmu, 0).map(<[u8]>::to_vec);
        assert_eq!(
            got,
            vec![
                expect_a.clone(),
                silence.clone(), // gap
                silence.clone(), // gap
                silence.clone(), // the pause
                silence.clone(), // gap
                silence.clone(), // gap
                expect_a,
                silence, // idle
            ]
        );
        assert!(events(&mut p).contains(&PlayerEvent::Finished(pause)));
    }

    #[test]
    fn no_packets_idle_mode_and_codec_switch() {
        let a = prompt("a.wav", 2, 4000);
        let mut p = Player::new(Codec::Pcmu).with_idle(IdleMode::NoPackets);
        assert_eq!(p.next_frame(), None);
        p.play(a.clone());
        assert_eq!(p.next_frame(), a.frame(Codec::Pcmu, 0));
        p.set_codec(Codec::Pcma);
        assert_eq!(p.next_frame(), a.frame(Codec::Pcma, 1));
        assert_eq!(p.next_frame(), None);
    }

    #[test]
    fn skipping_keeps_the_prompt_in_step_with_media_time() {
        let a = prompt("a.wav", 10, 0);
        let mut p = Player::new(Codec::Pcmu);
        p.play(a.clone());
        p.skip_frames(4);
        assert_eq!(p.next_frame(), a.frame(Codec::Pcmu, 4));
    }

    #[test]
    fn hold_music_resumes_where_a_notice_cut_it() {
        let hold = prompt("hold.ogg", 50, 1000);
        let notice = prompt("notice.wav", 3, 5000);
        let mut p = Player::new(Codec::Pcmu);
        p.play_loop(hold.clone());
        let before = pull(&mut p, 20);
        // A position notice: stop, say it, then the music again.
        p.stop();
        p.play(notice.clone());
        p.play_loop(hold.clone());
        let after = pull(&mut p, 4);
        let expected = |pr: &Arc<Prompt>, i: usize| pr.frame(Codec::Pcmu, i).map(<[u8]>::to_vec);
        assert_eq!(before[19], expected(&hold, 19));
        assert_eq!(after[0], expected(&notice, 0));
        assert_eq!(
            after[3],
            expected(&hold, 20),
            "the music goes on at frame 20, not 0"
        );
        // Another prompt's loop starts at its beginning.
        let other = prompt("other.ogg", 10, 3000);
        p.stop();
        p.play_loop(other.clone());
        assert_eq!(pull(&mut p, 1)[0], expected(&other, 0));
    }
}
