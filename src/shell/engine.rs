//! The engine task: owns the signaling cores (transactions, dialogs, calls, IVR navigators,
//! queues) with no locks around them, and is the only caller of their `poll_*` methods.
//! What may be asked of it, and the handle to ask: `shell::engine_handle`.

use tokio::sync::mpsc;

pub use crate::shell::engine_handle::{EngineCommand, EngineGone, EngineHandle, WebItemCommand};

/// Runs the signaling core until shutdown: feeds it every input with the time, drains its
/// outputs to the transports, the media tasks and the call records.
pub struct EngineTask {
    pub core: crate::call::engine::CallEngine,
    pub sip_rx: mpsc::Receiver<crate::shell::sip_transport::Inbound>,
    pub media_rx: mpsc::UnboundedReceiver<crate::shell::media::MediaEvent>,
    pub cmd_rx: mpsc::Receiver<EngineCommand>,
    pub outbound: crate::shell::sip_transport::Outbound,
    pub media: crate::shell::media::MediaHandle,
    pub records: crate::shell::records::CallRecordLog,
    /// How long shutdown waits for calls to end politely.
    pub grace: std::time::Duration,
    /// The 15-second answer rate and the 24 h connection rate.
    pub kpis: crate::stats::kpi::Kpis,
    /// Opens an answered call's draft ticket and attaches its recording.
    pub tickets: Option<crate::shell::call_tickets::CallTickets>,
    /// Where registrations and agent states are saved across restarts (none: not saved).
    pub state_file: Option<crate::shell::state_file::StateFile>,
    /// Live calls' milestones, so a crash leaves a record of each (none: not journalled).
    pub journal: Option<crate::shell::journal::CallJournal>,
    /// Raised while the data folder refuses writes (full disk).
    pub storage: std::sync::Arc<crate::shell::metrics::StorageAlarm>,
    /// The engine's callbacks to citizens (none: nobody is called back).
    pub callbacks: Option<crate::shell::callbacks::Callbacks>,
    /// Two engines behind Kamailio (issue 19): role changes in, state to keep out. `None`:
    /// one engine, always active, state in `state_file`.
    pub cluster: Option<crate::shell::leadership::ClusterLink>,
    /// The shared copy of the journal and the records in PostgreSQL (`[storage] url`), with
    /// the writer task to wait for at shutdown. `None`: files only.
    pub shared_calls: Option<(
        crate::shell::store::pg_calls::SharedCalls,
        tokio::task::JoinHandle<()>,
    )>,
}

/// The state file is written at most this often (the engine says when something changed).
const SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Saves of `state.json`: at most one in flight and one per [`SAVE_EVERY`].
#[derive(Default)]
struct Saver {
    /// Something changed that is not on disk yet.
    dirty: bool,
    last: Option<std::time::Instant>,
    writing: Option<tokio::task::JoinHandle<()>>,
}

impl Saver {
    /// When the next save may start, if one is due.
    fn due(&self) -> Option<std::time::Instant> {
        if !self.dirty {
            return None;
        }
        if self.writing.as_ref().is_some_and(|w| !w.is_finished()) {
            // Look again shortly rather than spin while the write is under way.
            return Some(crate::shell::clock::now() + std::time::Duration::from_millis(20));
        }
        Some(
            self.last
                .map_or_else(crate::shell::clock::now, |l| l + SAVE_EVERY),
        )
    }
}

/// The next ticket link, or never when tickets are off.
async fn next_link(
    tickets: &mut Option<crate::shell::call_tickets::CallTickets>,
) -> Option<crate::shell::call_tickets::TicketLink> {
    match tickets {
        Some(t) => t.next_link().await,
        None => std::future::pending().await,
    }
}

/// The next finished store job of the callbacks, or never when there are none.
async fn next_callback_done(
    callbacks: &mut Option<crate::shell::callbacks::Callbacks>,
) -> Option<crate::shell::callbacks::DoneEvent> {
    match callbacks {
        Some(c) => c.next_done().await,
        None => std::future::pending().await,
    }
}

/// The next role the leadership task hands over, or never when not clustered.
async fn next_role(
    cluster: &mut Option<crate::shell::leadership::ClusterLink>,
) -> Option<crate::shell::leadership::RoleChange> {
    match cluster {
        Some(c) => c.roles.recv().await,
        None => std::future::pending().await,
    }
}

/// Records of recorded calls wait for their file's SHA-256 (the media task closes the file
/// after the engine is done with the call); hashes that arrive first wait for their record.
#[derive(Default)]
struct PendingRecords {
    records: std::collections::HashMap<String, Box<crate::call::record::CallRecord>>,
    hashes: std::collections::HashMap<String, Option<String>>,
}

impl EngineTask {
    /// The task body; returns when shutdown has completed.
    pub async fn run(mut self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut pending = PendingRecords::default();
        use crate::shell::media::MediaEvent;
        use crate::shell::sip_transport::Inbound;
        let mut stopping_until: Option<std::time::Instant> = None;
        let mut saver = Saver::default();
        loop {
            let journal_due = self.journal.as_ref().and_then(|j| j.sync_due());
            // The standby of two engines calls nobody back (the active engine does).
            let dialling = self
                .callbacks
                .as_ref()
                .filter(|_| stopping_until.is_none() && !self.core.is_standby())
                .map(|c| {
                    c.poll_timeout(crate::shell::clock::now(), crate::shell::clock::wall_now())
                });
            let wake = [
                self.core.poll_timeout(),
                stopping_until,
                saver.due(),
                journal_due,
                dialling,
            ]
            .into_iter()
            .flatten()
            .min();
            tokio::select! {
                Some(inbound) = self.sip_rx.recv() => {
                    let now = crate::shell::clock::now();
                    match inbound {
                        Inbound::Message(msg, peer) => self.core.handle_message(*msg, peer, now),
                        Inbound::Malformed(err, peer) => self.core.handle_malformed(&err, peer),
                        Inbound::Closed(link) => self.core.handle_link_closed(link, now),
                    }
                }
                Some(event) = self.media_rx.recv() => {
                    let now = crate::shell::clock::now();
                    match event {
                        MediaEvent::Digit { call, digit } => self.core.handle_digit(call, digit, now),
                        MediaEvent::PlayFinished { call, token } => self.core.handle_play_finished(call, token, now),
                        MediaEvent::Failed { call } => self.core.handle_media_failed(call, now),
                        MediaEvent::WebRtcReanswer { call, party, answer } => {
                            self.core.handle_webrtc_reanswer(call, party, answer, now)
                        }
                        MediaEvent::PartyLegFailed { call, party, reason } => {
                            self.core.handle_party_leg_failed(call, party, &reason, now)
                        }
                        MediaEvent::AgentLegFailed { call, reason } => {
                            self.core.handle_agent_media_failed(call, &reason, now)
                        }
                        MediaEvent::PartyFailed { call, party } => {
                            self.core.party_media_failed(call, party, now)
                        }
                        MediaEvent::Inactive { call } => self.core.handle_media_inactive(call, now),
                        MediaEvent::ReasonTaken { call, duration } => {
                            self.core.handle_reason_taken(call, duration, now)
                        }
                        MediaEvent::ReasonSaved { call, recording, reason } => {
                            if !self.core.handle_reason_saved(call, reason.clone()) {
                                // The call ended first: its record waits for the recording's
                                // hash, which comes after this.
                                match pending
                                    .records
                                    .get_mut(&recording)
                                    .and_then(|r| r.call.outbound.as_mut())
                                {
                                    Some(o) => o.reason = Some(reason),
                                    None => tracing::warn!(%recording, "a reason saved for no waiting record"),
                                }
                            }
                        }
                        MediaEvent::RecordingClosed { name, sha256 } => {
                            match pending.records.remove(&name) {
                                Some(mut record) => {
                                    record.recording_sha256 = sha256;
                                    self.write_record(&record);
                                }
                                None => {
                                    pending.hashes.insert(name, sha256);
                                }
                            }
                        }
                    }
                }
                Some(cmd) = self.cmd_rx.recv() => match cmd {
                    EngineCommand::LiveCalls(reply) => {
                        let _ = reply.send(self.core.live_calls());
                    }
                    EngineCommand::Snapshot(reply) => {
                        let _ = reply.send(self.core.snapshot());
                    }
                    EngineCommand::Acd(reply) => {
                        let _ = reply.send(self.core.acd_snapshot(crate::shell::clock::now()));
                    }
                    EngineCommand::AgentState { agent, request, reply } => {
                        let now = crate::shell::clock::now();
                        let _ = reply.send(self.core.set_agent_state(&agent, request, now));
                    }
                    EngineCommand::Hold { call, on, agent, reply } => {
                        use crate::call::transfer::TransferError;
                        let now = crate::shell::clock::now();
                        let result = match self.core.call_by_name(&call) {
                            None => Err(TransferError::UnknownCall(call)),
                            Some(id) if agent.is_some() && self.core.agent_of_call(id) != agent => {
                                Err(TransferError::NotTalking(call))
                            }
                            Some(id) => self.core.hold(id, on, now),
                        };
                        let _ = reply.send(result);
                    }
                    EngineCommand::Transfer { call, target, agent, reply } => {
                        use crate::call::transfer::TransferError;
                        let now = crate::shell::clock::now();
                        let result = match self.core.call_by_name(&call) {
                            None => Err(TransferError::UnknownCall(call)),
                            Some(id) if agent.is_some() && self.core.agent_of_call(id) != agent => {
                                Err(TransferError::NotTalking(call))
                            }
                            Some(id) => self.core.transfer(id, &target, now),
                        };
                        let _ = reply.send(result);
                    }
                    EngineCommand::Party { call, agent, action, reply } => {
                        let now = crate::shell::clock::now();
                        let _ = reply.send(self.core.party_action(&call, agent, action, now));
                    }
                    EngineCommand::Stats(reply) => {
                        let _ = reply.send(self.kpis.snapshot(crate::shell::clock::wall_now()));
                    }
                    EngineCommand::StatsFor { number, reply } => {
                        let now = crate::shell::clock::wall_now();
                        let _ = reply.send(self.kpis.snapshot_number(&number, now));
                    }
                    EngineCommand::CallerOf { call, reply } => {
                        let _ = reply.send(self.core.caller_of(&call));
                    }
                    EngineCommand::PhoneCredentials { agent, reply } => {
                        let _ = reply.send(self.core.phone_credentials(&agent));
                    }
                    EngineCommand::WrapUpDone { agent, reply } => {
                        let now = crate::shell::clock::now();
                        let _ = reply.send(self.core.wrap_up_done(&agent, now));
                    }
                    EngineCommand::WebItem(cmd) => self.web_item(cmd),
                    EngineCommand::Surge { set, reply } => {
                        let now = crate::shell::clock::now();
                        if let Some((on, by)) = set {
                            self.core.set_surge(on, &by, now);
                        }
                        let _ = reply.send(self.core.surge_view());
                    }
                    EngineCommand::Reload {
                        menus,
                        acd,
                        unit_numbers,
                        service_numbers,
                        reply,
                    } => {
                        let now = crate::shell::clock::now();
                        self.core.set_unit_numbers(unit_numbers);
                        self.core.set_service_numbers(service_numbers);
                        let credentials = Box::new(super::AgentCredentials((*acd).clone()));
                        let _ = reply.send(self.core.handle_reload(menus, &acd, credentials, now));
                    }
                },
                Some(link) = next_link(&mut self.tickets) => {
                    let ticket = link.ticket.to_string();
                    if !self.core.link_ticket(&link.call, ticket.clone()) {
                        // The call ended first: its record may still wait for the recording.
                        match pending.records.values_mut().find(|r| r.call.id == link.call) {
                            Some(r) => r.call.ticket = Some(ticket),
                            None => tracing::warn!(call = crate::call::ids::id_of_name(&link.call), %ticket, "draft opened after the call's record was written; the ticket links the call"),
                        }
                    }
                }
                _ = crate::shell::clock::sleep_until(wake) => {
                    let now = crate::shell::clock::now();
                    self.core.handle_timeout(now);
                    if let Some(c) = self.callbacks.as_mut().filter(|_| stopping_until.is_none()) {
                        c.tick(&mut self.core, now, crate::shell::clock::wall_now());
                    }
                }
                Some(change) = next_role(&mut self.cluster) => {
                    self.take_role(change);
                }
                Some(done) = next_callback_done(&mut self.callbacks) => {
                    if let Some(c) = self.callbacks.as_mut() {
                        let now = crate::shell::clock::now();
                        c.handle_done(done, &mut self.core, now, crate::shell::clock::wall_now());
                    }
                }
                changed = shutdown.changed(), if stopping_until.is_none() => {
                    let now = crate::shell::clock::now();
                    if changed.is_err() || *shutdown.borrow() {
                        tracing::info!(calls = self.core.live_calls().len(), "shutting down: no new calls, ending live ones");
                        self.core.begin_shutdown(now);
                        stopping_until = Some(now + self.grace);
                    }
                }
            }
            self.drain(&mut pending);
            self.save_state(&mut saver);
            if let Some(j) = self.journal.as_mut() {
                j.sync_if_due();
            }
            if let Some(until) = stopping_until {
                let now = crate::shell::clock::now();
                if self.core.is_idle() || now >= until {
                    self.core.abandon_all(now);
                    self.core.record_stop(now);
                    self.drain(&mut pending);
                    break;
                }
            }
        }
        // The media tasks close the last recordings now: wait for their hashes (bounded),
        // then write every record, hashed or not.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
        while !pending.records.is_empty() {
            match tokio::time::timeout_at(deadline, self.media_rx.recv()).await {
                Ok(Some(crate::shell::media::MediaEvent::RecordingClosed { name, sha256 })) => {
                    if let Some(mut record) = pending.records.remove(&name) {
                        record.recording_sha256 = sha256;
                        self.write_record(&record);
                    }
                }
                Ok(Some(crate::shell::media::MediaEvent::ReasonSaved {
                    recording,
                    reason,
                    ..
                })) => {
                    if let Some(o) = pending
                        .records
                        .get_mut(&recording)
                        .and_then(|r| r.call.outbound.as_mut())
                    {
                        o.reason = Some(reason);
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        for (_, record) in pending.records.drain() {
            self.write_record(&record);
        }
        if let Err(e) = self.records.sync() {
            tracing::error!(error = %e, "could not sync call records");
        }
        if let Some(j) = self.journal.take() {
            j.close(&mut self.records).await;
        }
        if let Some((shared, writer)) = self.shared_calls.take() {
            // The writer commits what it has, then ends (bounded: a gone database must not
            // hold the stop; the files have every record).
            drop(shared);
            if tokio::time::timeout(std::time::Duration::from_secs(5), writer)
                .await
                .is_err()
            {
                tracing::error!(
                    "shared call store: records not all written at shutdown (the files have them)"
                );
            }
        }
        if let Some(t) = self.tickets.take() {
            t.finish(std::time::Duration::from_secs(3)).await;
        }
        // The last word on registrations and agent states, after the last call ended.
        if let Some(w) = saver.writing.take() {
            let _ = w.await;
        }
        if let Some(file) = &self.state_file {
            let state = self.core.saved_state(crate::shell::clock::now());
            match file.write(&state) {
                Ok(()) => tracing::info!(
                    registrations = state.registrations.len(),
                    agents = state.agents.len(),
                    "saved registrations and agent states"
                ),
                Err(e) => {
                    tracing::error!(error = %e, "could not save registrations and agent states")
                }
            }
        }
        tracing::info!("engine stopped");
    }

    /// Carries a web item command into the core. A request's receipt becomes an instant on
    /// the engine's clock, so one received before a restart keeps its wait.
    fn web_item(&mut self, cmd: WebItemCommand) {
        let now = crate::shell::clock::now();
        match cmd {
            WebItemCommand::Queued {
                id,
                request_type,
                content,
                received_at,
            } => {
                let waited = (crate::shell::clock::wall_now() - received_at.to_utc())
                    .to_std()
                    .unwrap_or_default();
                let t0 = now.checked_sub(waited).unwrap_or(now);
                match self
                    .core
                    .web_item_queued(&id, &request_type, &content, t0, now)
                {
                    Ok(queue) => {
                        tracing::info!(ticket = %id, %queue, waited_s = waited.as_secs(), "web request queued")
                    }
                    Err(e) => tracing::warn!(ticket = %id, error = %e, "web request not queued"),
                }
            }
            WebItemCommand::Answer {
                id,
                agent,
                accept,
                reply,
            } => {
                let result = if accept {
                    self.core.web_item_accepted(&id, &agent, now)
                } else {
                    self.core.web_item_declined(&id, &agent, now)
                };
                let _ = reply.send(result);
            }
            WebItemCommand::TicketChanged { id, stage } => {
                self.core.web_item_ticket_changed(&id, stage, now)
            }
        }
    }

    /// Becomes what the leadership task decided: the active engine puts back the phones'
    /// registrations and agents' states the last active engine kept, so it rings every phone
    /// at once without waiting for a re-REGISTER.
    fn take_role(&mut self, change: crate::shell::leadership::RoleChange) {
        let now = crate::shell::clock::now();
        match change.role {
            crate::cluster::Role::Active => {
                self.core.set_standby(false, now);
                if let Some(saved) = change.restore {
                    let done = self.core.restore(&saved, now);
                    tracing::info!(
                        registrations = done.registrations,
                        dropped = done.dropped_registrations,
                        agents = done.agents,
                        saved_at = %saved.saved_at,
                        "cluster: took over registrations and agent states"
                    );
                }
                if let Some(calls) = change.calls {
                    self.take_over_calls(*calls);
                }
            }
            crate::cluster::Role::Standby => self.core.set_standby(true, now),
        }
    }

    /// The dead engine's live calls get their `lost_in_failover` records here too (files,
    /// counters, draft tickets: what a crash's `interrupted` calls get at a start), and the
    /// rolling figures are rebuilt from every engine's records, so the wallboard shows on
    /// this engine what it showed on the dead one.
    fn take_over_calls(&mut self, calls: crate::shell::store::pg_calls::TakeOver) {
        for lost in calls.lost {
            tracing::warn!(
                call = crate::call::ids::id_of_name(&lost.record.call.id),
                node = %lost.node,
                state = %lost.record.call.state.as_str(),
                "call cut by the failover: recorded as lost_in_failover"
            );
            self.core.counters.call_ended(lost.record.outcome);
            if let (Some(t), Some(number), None) = (
                self.tickets.as_mut(),
                lost.caller_number,
                &lost.record.call.ticket,
            ) {
                // A person had answered: the draft may not have committed before the death.
                t.call_answered(crate::call::record::ConnectedCall {
                    live: lost.record.call.clone(),
                    caller_number: number,
                });
            }
            // Already in the shared store (written by the takeover's transaction).
            self.write_local_record(&lost.record);
        }
        let mut kpis = self.kpis.emptied();
        let mut events: Vec<_> = calls
            .records
            .iter()
            .flat_map(crate::shell::records::kpi_events)
            .collect();
        events.sort_by_key(|e| e.at);
        for e in &events {
            kpis.record_event(e);
        }
        self.kpis = kpis;
        tracing::info!(
            records = calls.records.len(),
            events = events.len(),
            "cluster: figures rebuilt from the shared call records"
        );
    }

    /// Writes `state.json` off the engine task when something changed, at most once a second;
    /// a clustered active engine hands it to the leadership task (PostgreSQL) instead.
    fn save_state(&mut self, saver: &mut Saver) {
        if self.state_file.is_none() && self.cluster.is_none() {
            return;
        }
        saver.dirty |= self.core.take_saved_state_dirty();
        let now = crate::shell::clock::now();
        if !saver.dirty
            || saver.last.is_some_and(|l| now < l + SAVE_EVERY)
            || saver.writing.as_ref().is_some_and(|w| !w.is_finished())
        {
            return;
        }
        saver.dirty = false;
        saver.last = Some(now);
        if let Some(cluster) = &self.cluster {
            // Only the active engine's view counts; a standby has nothing to say.
            if !self.core.is_standby() {
                let state = Box::new(self.core.saved_state(now));
                if cluster.saves.try_send(state).is_err() {
                    saver.dirty = true;
                }
            }
            return;
        }
        let Some(file) = &self.state_file else {
            return;
        };
        let state = self.core.saved_state(now);
        let file = file.clone();
        saver.writing = Some(tokio::task::spawn_blocking(move || {
            if let Err(e) = file.write(&state) {
                tracing::error!(error = %e, "could not save registrations and agent states");
            }
        }));
    }

    fn drain(&mut self, pending: &mut PendingRecords) {
        use crate::call::engine::{MediaCommand, Output};
        while let Some(out) = self.core.poll_output() {
            match out {
                Output::Transmit { to, data } => self.outbound.send(to, data),
                Output::Media(MediaCommand::Reserve { call, port }) => {
                    // Bound here, so the core learns at once whether it may answer.
                    let now = crate::shell::clock::now();
                    match self.media.reserved.reserve(call, port) {
                        Ok(()) => self.core.handle_media_ready(call, now),
                        Err(e) => {
                            tracing::warn!(%call, port, error = %e, "cannot open a caller's RTP port: refusing the call");
                            self.core.handle_media_failed(call, now);
                        }
                    }
                }
                Output::Media(MediaCommand::ReserveLeg { call, port }) => {
                    if let Err(e) = self.media.reserved.reserve_leg(call, port) {
                        tracing::warn!(%call, port, error = %e, "cannot bind a browser leg's port before its offer; the leg will try again when it opens");
                    }
                }
                Output::Media(cmd) => self.media.send(cmd),
                Output::Kpi(e) => self.kpis.record_event(&e),
                Output::Journal(e) => {
                    if let Some((shared, _)) = &self.shared_calls {
                        shared.journal(&e);
                    }
                    if let Some(j) = self.journal.as_mut() {
                        let written = j.append(&e);
                        self.storage.files_written(&written);
                        if let Err(err) = written {
                            tracing::error!(error = %err, call = crate::call::ids::id_of_name(&e.call.id), "could not journal the call");
                        }
                    }
                }
                Output::Connected(c) => {
                    if let Some(t) = self.tickets.as_mut() {
                        t.call_answered(*c);
                    }
                }
                Output::Party(p) => {
                    tracing::info!(call = %p.call, party = ?p.party, left = p.left_at.is_some(), "call party");
                    if let Some(t) = self.tickets.as_mut() {
                        t.party(*p);
                    }
                }
                Output::AgentActivity(a) => {
                    if let Some(t) = self.tickets.as_mut() {
                        t.agent_activity(*a);
                    }
                }
                Output::Outbound { attempt, outcome } => {
                    tracing::info!(attempt, ?outcome, "outbound try over");
                    if let Some(c) = self.callbacks.as_mut() {
                        let now = crate::shell::clock::now();
                        let wall = crate::shell::clock::wall_now();
                        c.handle_outcome(attempt, outcome, &mut self.core, now, wall);
                    }
                }
                Output::OutboundEnded { attempt } => {
                    if let Some(c) = self.callbacks.as_mut() {
                        let now = crate::shell::clock::now();
                        let wall = crate::shell::clock::wall_now();
                        c.handle_call_ended(attempt, &mut self.core, now, wall);
                    }
                }
                Output::EmergencyTransfer { call, target } => {
                    if let Some(t) = self.tickets.as_mut() {
                        t.emergency_transfer(call, &target);
                    }
                }
                Output::Record(mut record) => {
                    if let Some(e) = crate::shell::records::handled(&record) {
                        self.kpis.record_event(&e);
                    }
                    match record.call.recording.clone() {
                        Some(name) => match pending.hashes.remove(&name) {
                            Some(sha256) => {
                                record.recording_sha256 = sha256;
                                self.write_record(&record);
                            }
                            None => {
                                pending.records.insert(name, record);
                            }
                        },
                        None => self.write_record(&record),
                    }
                }
            }
        }
    }

    fn write_record(&mut self, record: &crate::call::record::CallRecord) {
        if let Some((shared, _)) = &self.shared_calls {
            shared.finished(record);
        }
        self.write_local_record(record);
    }

    /// The record into this machine's files (and what follows a written record: the
    /// journal's entry superseded, the callback told, the recording attached to the ticket).
    fn write_local_record(&mut self, record: &crate::call::record::CallRecord) {
        let written = self.records.append(record);
        self.storage.files_written(&written);
        match written {
            Err(e) => {
                tracing::error!(error = %e, call = crate::call::ids::id_of_name(&record.call.id), "could not write call record")
            }
            Ok(()) => {
                if let Some(j) = self.journal.as_mut() {
                    j.finished(&record.call.id, &mut self.records);
                }
                if let Some(c) = self.callbacks.as_mut() {
                    c.handle_record(record);
                }
            }
        }
        if let (Some(t), Some(path), Some(sha256)) = (
            self.tickets.as_mut(),
            &record.call.recording,
            &record.recording_sha256,
        ) {
            let recording = crate::workflow::model::Recording {
                path: path.clone(),
                sha256: sha256.clone(),
            };
            t.call_recorded(record.call.id.clone(), recording);
        }
    }
}
