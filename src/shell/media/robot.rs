//! A callback robot's call on a media task (issue 15): its stereo recording (the citizen and
//! the robot's prompts, [`RobotRecorder`]) from the answer on, and the citizen's spoken
//! reason, written beside it as a mono WAV off the media thread. When the robot hands the
//! citizen to a person, the same file goes on as the bridge's recording.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{CallId, MediaEvent, Worker};
use crate::media::bridge::Bridge;
use crate::media::recorder::{RecorderStats, BLOCK_SAMPLES};
use crate::media::robot_recorder::{ReasonTake, RobotRecorder};
use crate::shell::bridge::{Bridged, RecordedCore, RecordingCounters};
use crate::shell::clock;

impl RecordedCore for RobotRecorder {
    type Stats = ();
    fn handle_timeout(&mut self, now: Instant) {
        RobotRecorder::handle_timeout(self, now);
    }
    fn poll_block(&mut self) -> Option<[i16; BLOCK_SAMPLES]> {
        RobotRecorder::poll_block(self)
    }
    fn flush(&mut self) {
        RobotRecorder::flush(self);
    }
    fn recorder_stats(&self) -> RecorderStats {
        RobotRecorder::recorder_stats(self)
    }
    fn stats(&self) {}
    fn report(_: &(), _: &(), _: &RecordingCounters) {}
}

/// The reason's file beside the call's recording: `…/<call>.wav` → `…/<call>-reason.wav`.
pub fn reason_name(recording: &str) -> String {
    match recording.strip_suffix(".wav") {
        Some(stem) => format!("{stem}-reason.wav"),
        None => format!("{recording}-reason.wav"),
    }
}

/// Writes a reason take as an 8 kHz mono 16-bit WAV, synced; its SHA-256.
fn write_reason(path: &Path, take: &ReasonTake) -> Result<String, String> {
    if let Some(dir) = path.parent() {
        crate::shell::private_fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: crate::media::codec::SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let file = crate::shell::private_fs::options()
        .create_new(true)
        .write(true)
        .open(path)
        .map_err(|e| e.to_string())?;
    let mut w =
        hound::WavWriter::new(std::io::BufWriter::new(file), spec).map_err(|e| e.to_string())?;
    for &s in &take.pcm {
        w.write_sample(s).map_err(|e| e.to_string())?;
    }
    w.finalize().map_err(|e| e.to_string())?;
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| e.to_string())?;
    crate::shell::recording::sha256_of(path).map_err(|e| e.to_string())
}

impl Worker {
    /// The citizen answered a robot callback: record the call from now on, and have the
    /// receive task forward the citizen's packets here (keys are still read there).
    pub(super) fn record_robot(&mut self, call: CallId, recording: String) {
        let Some(s) = self.calls.get_mut(&call) else {
            return;
        };
        if s.bridged.is_some() || s.mixed.is_some() || s.robot.is_some() {
            tracing::warn!(%call, "robot recording of a call already recorded ignored");
            return;
        }
        let path = self.data_dir.join(&recording);
        if let Some(dir) = path.parent() {
            if let Err(e) = crate::shell::private_fs::create_dir_all(dir) {
                tracing::error!(dir = %dir.display(), error = %e, "cannot create the recordings folder");
            }
        }
        let core = RobotRecorder::new(s.media.telephone_event, clock::now());
        s.robot = Some(Bridged::new(
            core,
            recording,
            path,
            self.counters.recording.clone(),
        ));
        s.bridged_flag.store(true, Ordering::Relaxed);
    }

    pub(super) fn start_reason(&mut self, call: CallId, max: Duration, silence: Duration) {
        if let Some(r) = self.calls.get_mut(&call).and_then(|s| s.robot.as_mut()) {
            r.core.start_reason(max, silence, clock::now());
        } else {
            // Nothing records the call: the robot hears an empty reason at once.
            let _ = self.to_engine.send(MediaEvent::ReasonTaken {
                call,
                duration: Duration::ZERO,
            });
        }
    }

    pub(super) fn stop_reason(&mut self, call: CallId) {
        if let Some(r) = self.calls.get_mut(&call).and_then(|s| s.robot.as_mut()) {
            r.core.stop_reason();
        }
        self.reason_taken(call);
    }

    /// A citizen's packet while the robot talks with them.
    pub(super) fn robot_packet(&mut self, call: CallId, packet: &[u8]) {
        if let Some(r) = self.calls.get_mut(&call).and_then(|s| s.robot.as_mut()) {
            r.core.handle_caller_packet(packet, clock::now());
            r.write_blocks();
        }
        self.reason_taken(call);
    }

    /// The 20 ms tick of every robot call on this task.
    pub(super) fn tick_robots(&mut self, now: Instant) {
        let mut ended = Vec::new();
        for (id, s) in &mut self.calls {
            if let Some(r) = s.robot.as_mut() {
                let taking = r.core.is_taking_reason();
                r.tick(now);
                if taking && !r.core.is_taking_reason() {
                    ended.push(*id);
                }
            }
        }
        for id in ended {
            self.reason_taken(id);
        }
    }

    /// A reason that ended: its length to the engine now, its file written off this thread.
    fn reason_taken(&mut self, call: CallId) {
        let Some(r) = self.calls.get_mut(&call).and_then(|s| s.robot.as_mut()) else {
            return;
        };
        let Some(take) = r.core.poll_reason() else {
            return;
        };
        let recording = r.recording_name.clone();
        let _ = self.to_engine.send(MediaEvent::ReasonTaken {
            call,
            duration: take.duration,
        });
        if take.pcm.is_empty() {
            return;
        }
        let job = self.save_reason(call, recording, take);
        if let Some(s) = self.calls.get_mut(&call) {
            s.reason_jobs.push(job);
        }
    }

    fn save_reason(
        &self,
        call: CallId,
        recording: String,
        take: ReasonTake,
    ) -> tokio::task::JoinHandle<()> {
        let name = reason_name(&recording);
        let path: PathBuf = self.data_dir.join(&name);
        let to_engine = self.to_engine.clone();
        tokio::task::spawn_blocking(move || match write_reason(&path, &take) {
            Ok(sha256) => {
                let _ = to_engine.send(MediaEvent::ReasonSaved {
                    call,
                    recording,
                    reason: crate::call::record::ReasonRecording {
                        path: name,
                        sha256,
                        duration_ms: u64::try_from(take.duration.as_millis()).unwrap_or(u64::MAX),
                    },
                });
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "cannot write the citizen's reason");
            }
        })
    }

    /// The robot hands the citizen to a person: the robot's recording becomes the bridge's,
    /// same file (the agent on the right channel from here on).
    pub(super) fn robot_into_bridge(
        robot: Bridged<RobotRecorder>,
        make: impl FnOnce(crate::media::recorder::StereoRecorder) -> Bridge,
    ) -> Bridged<Bridge> {
        robot.map_core(|core| make(core.into_recorder()))
    }
}
