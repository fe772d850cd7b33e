//! A callback robot's call (回访机器人, issue 15): once the citizen answers, the robot's
//! script (`ivr::robot::RobotNavigator`) runs on the call — prompts, keys, the spoken reason —
//! while the call is recorded in stereo (the citizen left, the robot right). `0` at any step
//! hands the citizen to a person in the script's queue (C5), in the same recording; otherwise
//! the robot says goodbye and hangs up. What it collected goes into the call record
//! (`OutboundInfo::robot`), from which the shell writes the ticket's `callback` event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::call::engine::{CallEngine, MediaCommand, Output};
use crate::call::record::{CallOutcome, ReasonRecording, RobotSummary};
use crate::call::session::{CallId, Phase};
use crate::ivr::robot::{RobotNavigator, RobotOutput};
use crate::ivr::script::RobotScript;

/// How long past the navigator's own deadlines a call that ends mid-step waits for nothing:
/// a hang-up ends the robot at once.
const AT_ONCE: Duration = Duration::from_secs(3600);

impl CallEngine {
    /// The citizen answered a robot callback: record the call and start the script.
    pub(crate) fn start_robot(&mut self, id: CallId, script: &Arc<RobotScript>, now: Instant) {
        let wall = self.wall(now);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let recording = call.recording.get_or_insert_with(|| {
            format!("recordings/{}/{}.wav", wall.format("%Y/%m/%d"), call.name)
        });
        let recording = recording.clone();
        let mut nav = RobotNavigator::new(script);
        nav.start(now);
        call.phase = Phase::Robot {
            nav: Box::new(nav),
            play: None,
            to_person: None,
        };
        tracing::info!(call = %call.id, robot = script.id(), "the callback robot talks with the citizen");
        self.out.push_back(Output::Media(MediaCommand::RecordRobot {
            call: id,
            recording,
        }));
        self.drive_robot(id, now);
    }

    /// Carries out what the robot decided.
    pub(crate) fn drive_robot(&mut self, id: CallId, now: Instant) {
        let mut finished = None;
        loop {
            let Some(call) = self.calls.get_mut(&id) else {
                return;
            };
            let Phase::Robot {
                nav,
                play,
                to_person,
            } = &mut call.phase
            else {
                break;
            };
            let Some(action) = nav.poll_output() else {
                break;
            };
            match action {
                RobotOutput::Play {
                    id: play_id,
                    prompts,
                } => {
                    let token = self.next_token;
                    self.next_token += 1;
                    *play = Some((token, play_id));
                    self.out.push_back(Output::Media(MediaCommand::Play {
                        call: id,
                        token,
                        prompts: prompts.iter().map(|p| p.as_str().to_string()).collect(),
                        loop_last: false,
                    }));
                }
                RobotOutput::StartRecording { max, silence } => {
                    *play = None;
                    self.out.push_back(Output::Media(MediaCommand::StartReason {
                        call: id,
                        max,
                        silence,
                    }));
                }
                RobotOutput::StopRecording => {
                    self.out
                        .push_back(Output::Media(MediaCommand::StopReason { call: id }));
                }
                RobotOutput::ToPerson { queue } => *to_person = Some(queue),
                RobotOutput::Finished(result) => {
                    if let Some(o) = call.outbound.as_mut() {
                        o.info.robot = Some(RobotSummary::of(&result));
                    }
                    tracing::info!(call = %call.id, ended = ?result.ended, rating = ?result.rating, "the callback robot finished");
                    finished = Some(to_person.take());
                    break;
                }
            }
        }
        match finished {
            // C5: the citizen asked for a person (a new request, a question).
            Some(Some(queue)) => {
                if let Some(call) = self.calls.get_mut(&id) {
                    call.menu_path = vec!["robot".into(), "0".into()];
                }
                self.enqueue(id, queue, now);
            }
            Some(None) => self.send_bye(id, CallOutcome::Answered, now),
            None => {}
        }
        self.rearm(id);
    }

    /// The media shell finished a robot's play list.
    pub(crate) fn robot_play_finished(&mut self, id: CallId, token: u64, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Phase::Robot { nav, play, .. } = &mut call.phase {
            if let Some((t, play_id)) = *play {
                if t == token {
                    *play = None;
                    nav.handle_play_done(play_id, now);
                    self.drive_robot(id, now);
                }
            }
        }
    }

    /// The citizen's reason ended (`#`, silence, its maximum): how long it is.
    pub fn handle_reason_taken(&mut self, id: CallId, duration: Duration, now: Instant) {
        if let Some(Phase::Robot { nav, .. }) = self.calls.get_mut(&id).map(|c| &mut c.phase) {
            nav.handle_recording_done(duration, now);
            self.drive_robot(id, now);
        }
        self.flush_transactions(now);
    }

    /// The reason's file is written: it goes with the robot's result. False when the call
    /// has ended already (the shell then adds it to the call's record itself).
    pub fn handle_reason_saved(&mut self, id: CallId, reason: ReasonRecording) -> bool {
        let Some(o) = self.calls.get_mut(&id).and_then(|c| c.outbound.as_mut()) else {
            return false;
        };
        o.info.reason = Some(reason);
        true
    }

    /// A key while the robot talks.
    pub(crate) fn robot_digit(&mut self, id: CallId, digit: char, now: Instant) {
        if let Some(Phase::Robot { nav, .. }) = self.calls.get_mut(&id).map(|c| &mut c.phase) {
            nav.handle_digit(digit, now);
            self.drive_robot(id, now);
        }
    }

    /// The robot's deadlines (a question unanswered, a prompt or recording not reported).
    pub(crate) fn robot_timeout(&mut self, id: CallId, now: Instant) {
        if let Some(Phase::Robot { nav, .. }) = self.calls.get_mut(&id).map(|c| &mut c.phase) {
            if nav.poll_timeout().is_some_and(|t| t <= now) {
                nav.handle_timeout(now);
                self.drive_robot(id, now);
            }
        }
    }

    /// The call ends while the robot talks (the citizen hung up, the line died, shutdown):
    /// the robot's result is settled now, so the record carries it.
    pub(crate) fn robot_call_ends(&mut self, id: CallId, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Phase::Robot { nav, .. } = &mut call.phase else {
            return;
        };
        if nav.is_finished() {
            return;
        }
        nav.handle_hangup(now);
        // A reason being taken is stopped by the media's close; its file joins the record.
        nav.handle_timeout(now + AT_ONCE);
        let mut result = None;
        while let Some(out) = nav.poll_output() {
            if let RobotOutput::Finished(r) = out {
                result = Some(r);
            }
        }
        if let (Some(result), Some(o)) = (result, call.outbound.as_mut()) {
            tracing::info!(call = %call.id, ended = ?result.ended, "the callback ended before the robot did");
            o.info.robot = Some(RobotSummary::of(&result));
        }
    }
}
