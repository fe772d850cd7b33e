//! The engine's handle on the media threads: it starts them (each a single-threaded runtime
//! on its own OS thread, owning its calls' sockets, their poller and timers), routes each
//! call's commands to its thread, and ends them when the last handle is dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{Command, MediaCounters, MediaEvent, MediaSettings, Worker};
use crate::call::engine::MediaCommand;
use crate::media::pacer::{Pacer, PacerConfig};
use crate::shell::assets::Prompts;
use crate::shell::media_ports::ReservedPorts;

/// Routes the engine's media commands to the task that owns the call.
#[derive(Clone)]
pub struct MediaHandle {
    workers: Vec<mpsc::UnboundedSender<Command>>,
    pub counters: Arc<MediaCounters>,
    /// Callers' ports bound before the answer (the engine task reserves them).
    pub reserved: ReservedPorts,
    /// Ends the media threads when the last handle is dropped.
    _stop: Arc<StopOnDrop>,
}

/// Dropped with the last [`MediaHandle`]: each media thread closes its calls (their
/// recordings are finished) and ends.
struct StopOnDrop(Vec<oneshot::Sender<()>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        for stop in self.0.drain(..) {
            let _ = stop.send(());
        }
    }
}

impl MediaHandle {
    /// Starts `workers` media tasks, each on its own OS thread with its own single-threaded
    /// runtime, receiving its calls' packets itself. Issue 14: on the engine's shared
    /// runtime the 20 ms ticks and the packets for them waited behind signaling, HTTP and
    /// ~900 receive tasks spread over both threads, and conference parties underran.
    pub fn start(
        workers: usize,
        bind_ip: IpAddr,
        data_dir: PathBuf,
        prompts: Arc<Prompts>,
        to_engine: mpsc::UnboundedSender<MediaEvent>,
        settings: MediaSettings,
    ) -> std::io::Result<MediaHandle> {
        let counters = Arc::new(MediaCounters::default());
        let reserved = ReservedPorts::new(bind_ip);
        let mut senders = Vec::new();
        let mut stops = Vec::new();
        for i in 0..workers.max(1) {
            let (tx, rx) = mpsc::unbounded_channel();
            let (stop_tx, stop_rx) = oneshot::channel();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            // The legs' poller registers with this thread's reactor.
            let legs = {
                let _in_runtime = runtime.enter();
                super::receive::Legs::new()?
            };
            let worker = Worker {
                settings,
                data_dir: data_dir.clone(),
                prompts: prompts.clone(),
                to_engine: to_engine.clone(),
                legs,
                pacer: Pacer::new(PacerConfig::default()),
                calls: HashMap::new(),
                counters: counters.clone(),
                reserved: reserved.clone(),
                whispers: HashMap::new(),
                #[cfg(test)]
                stall_at_tick: None,
            };
            std::thread::Builder::new()
                .name(format!("hotline-media-{i}"))
                .spawn(move || {
                    // A spawned task, not the `block_on` future itself: that one is polled
                    // first whenever the thread wakes, so after a stall the overdue tick
                    // mixed before the receive tasks woken with it had forwarded their
                    // packets (underruns); spawned, it queues behind them. Dropping the
                    // runtime at the end waits for the recordings being finished.
                    runtime.block_on(async move {
                        if let Err(e) = tokio::spawn(worker.run(rx, stop_rx)).await {
                            tracing::error!(error = %e, "media task failed");
                        }
                    });
                })?;
            senders.push(tx);
            stops.push(stop_tx);
        }
        Ok(MediaHandle {
            workers: senders,
            counters,
            reserved,
            _stop: Arc::new(StopOnDrop(stops)),
        })
    }

    /// Gives every media task reloaded prompts: later plays use them, a prompt already
    /// playing finishes from the set it started with.
    pub fn set_prompts(&self, prompts: Arc<Prompts>) {
        for w in &self.workers {
            let _ = w.send(Command::Prompts(prompts.clone()));
        }
    }

    /// Hands a command to the call's task (never blocks the engine).
    pub fn send(&self, cmd: MediaCommand) {
        let call = match &cmd {
            MediaCommand::Open { call, .. }
            | MediaCommand::OpenAgent { call, .. }
            | MediaCommand::OpenWebRtcAgent { call, .. }
            | MediaCommand::OpenWebRtcParty { call, .. }
            | MediaCommand::WebRtcReoffer { call, .. }
            | MediaCommand::Bridge { call, .. }
            | MediaCommand::Hold { call, .. }
            | MediaCommand::Whisper { call, .. }
            | MediaCommand::Unbridge { call }
            | MediaCommand::SendDigit { call, .. }
            | MediaCommand::Play { call, .. }
            | MediaCommand::OpenParty { call, .. }
            | MediaCommand::Mix { call, .. }
            | MediaCommand::CloseParty { call, .. }
            | MediaCommand::RecordRobot { call, .. }
            | MediaCommand::StartReason { call, .. }
            | MediaCommand::StopReason { call }
            | MediaCommand::Stop { call } => *call,
            MediaCommand::Close { call } => {
                self.reserved.release(*call);
                *call
            }
            // Bound by the engine task itself (`reserved`), which answers the core at once.
            MediaCommand::Reserve { .. } | MediaCommand::ReserveLeg { .. } => return,
        };
        let i = (call.0 % self.workers.len() as u64) as usize;
        let _ = self.workers[i].send(Command::Engine(cmd));
    }

    /// Makes a browser agent's WebRTC leg the call's agent leg, in place of `OpenAgent`.
    ///
    /// The call room builds the leg on the core: [`WebRtcLeg::offer`] with the media
    /// address and a `port` from the RTP range (the SDP offer goes in the INVITE to the
    /// agent's WebSocket binding), then [`WebRtcLeg::accept_answer`] with the 200 OK's SDP
    /// (the bridge-side codec it returns is what the call record notes). Then the leg comes
    /// here; `Bridge`, `Hold`, `Unbridge` and `Close` treat it like any agent leg, and a
    /// failed leg (refused DTLS fingerprint, ICE lost) is reported as `MediaEvent::Failed`.
    ///
    /// [`WebRtcLeg::offer`]: crate::media::webrtc::WebRtcLeg::offer
    /// [`WebRtcLeg::accept_answer`]: crate::media::webrtc::WebRtcLeg::accept_answer
    pub fn open_webrtc_agent(
        &self,
        call: crate::call::session::CallId,
        port: u16,
        leg: Box<crate::media::webrtc::WebRtcLeg>,
    ) {
        let i = (call.0 % self.workers.len() as u64) as usize;
        let _ = self.workers[i].send(Command::OpenWebRtcAgent { call, port, leg });
    }
}

#[cfg(test)]
impl MediaHandle {
    /// Blocks the first media thread until `gate` opens (a stall the OS could cause); it
    /// says so on `stalled` first.
    pub(super) fn stall(
        &self,
        stalled: std::sync::mpsc::Sender<()>,
        gate: std::sync::mpsc::Receiver<()>,
    ) {
        let _ = self.workers[0].send(Command::Stall { stalled, gate });
    }

    /// The same stall, at the start of the first media thread's next tick.
    pub(super) fn stall_at_tick(
        &self,
        stalled: std::sync::mpsc::Sender<()>,
        gate: std::sync::mpsc::Receiver<()>,
    ) {
        let _ = self.workers[0].send(Command::StallAtTick { stalled, gate });
    }
}
