//! Property tests: random inputs and clock steps never panic, nothing is emitted after
//! `Terminated`, and once the peer goes silent (and the TU has done its part: a final
//! response on the server side, a CANCEL for a ringing INVITE) every transaction ends within
//! max(64·T1, Timer D) + T4 + a margin of its last input.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::test_support::*;
use super::*;

#[derive(Debug, Clone, Copy)]
enum Input {
    Advance(u64),
    PeerRequest,
    PeerAck,
    PeerResponse(u16),
    TuResponse(u16),
    TransportError,
    CancelSent,
}

const STATUSES: &[u16] = &[
    99, 100, 180, 183, 200, 202, 302, 404, 486, 487, 500, 603, 700,
];

fn status() -> impl Strategy<Value = u16> {
    proptest::sample::select(STATUSES)
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        3 => (0u64..40_000).prop_map(Input::Advance),
        2 => Just(Input::PeerRequest),
        1 => Just(Input::PeerAck),
        2 => status().prop_map(Input::PeerResponse),
        2 => status().prop_map(Input::TuResponse),
        1 => Just(Input::TransportError),
        1 => Just(Input::CancelSent),
    ]
}

fn config() -> impl Strategy<Value = TimerConfig> {
    proptest::sample::select(vec![100u64, 500, 1000]).prop_map(|t1| TimerConfig {
        t1: Duration::from_millis(t1),
        ..TimerConfig::default()
    })
}

fn transport() -> impl Strategy<Value = Transport> {
    prop_oneof![Just(Transport::Reliable), Just(Transport::Unreliable)]
}

/// The four machines behind one face, so one property covers them all.
enum Machine {
    Ict(InviteClientTransaction<FakeReq>),
    Nict(NonInviteClientTransaction<FakeReq>),
    Ist(InviteServerTransaction<FakeReq>),
    Nist(NonInviteServerTransaction<FakeReq>),
}

impl Machine {
    fn new(kind: u8, transport: Transport, config: TimerConfig, now: Instant) -> Self {
        match kind % 4 {
            0 => Self::Ict(InviteClientTransaction::new(
                invite(),
                transport,
                config,
                now,
            )),
            1 => Self::Nict(NonInviteClientTransaction::new(
                bye(),
                transport,
                config,
                now,
            )),
            2 => Self::Ist(InviteServerTransaction::new(transport, config, now)),
            _ => Self::Nist(NonInviteServerTransaction::new(transport, config, now)),
        }
    }

    fn apply(&mut self, input: Input, now: Instant) {
        match (self, input) {
            (m, Input::Advance(_)) => m.handle_timeout(now),
            (Self::Ict(t), Input::PeerResponse(s)) => t.handle_response(FakeResp(s), now),
            (Self::Nict(t), Input::PeerResponse(s)) => t.handle_response(FakeResp(s), now),
            (Self::Ict(t), Input::CancelSent) => t.handle_cancel_sent(now),
            (Self::Ist(t), Input::PeerRequest) => t.handle_request(now),
            (Self::Ist(t), Input::PeerAck) => t.handle_ack(ack(), now),
            (Self::Ist(t), Input::TuResponse(s)) => {
                let _refused_is_fine = t.send_response(FakeResp(s), now);
            }
            (Self::Nist(t), Input::PeerRequest) => t.handle_request(now),
            (Self::Nist(t), Input::TuResponse(s)) => {
                let _refused_is_fine = t.send_response(FakeResp(s), now);
            }
            (m, Input::TransportError) => m.handle_transport_error(now),
            _ => {}
        }
    }

    /// What a well-behaved TU does before going quiet: answer a pending server transaction,
    /// CANCEL a ringing INVITE.
    fn tu_finishes(&mut self, now: Instant) {
        match self {
            Self::Ict(t) => t.handle_cancel_sent(now),
            Self::Ist(t) if t.is_cancellable() => {
                assert_eq!(t.send_response(FakeResp(500), now), Ok(()));
            }
            Self::Nist(t)
                if matches!(
                    t.state(),
                    NonInviteServerState::Trying | NonInviteServerState::Proceeding { .. }
                ) =>
            {
                assert_eq!(t.send_response(FakeResp(500), now), Ok(()));
            }
            _ => {}
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Self::Ict(t) => t.handle_timeout(now),
            Self::Nict(t) => t.handle_timeout(now),
            Self::Ist(t) => t.handle_timeout(now),
            Self::Nist(t) => t.handle_timeout(now),
        }
    }

    fn handle_transport_error(&mut self, now: Instant) {
        match self {
            Self::Ict(t) => t.handle_transport_error(now),
            Self::Nict(t) => t.handle_transport_error(now),
            Self::Ist(t) => t.handle_transport_error(now),
            Self::Nist(t) => t.handle_transport_error(now),
        }
    }

    fn poll_timeout(&self) -> Option<(Instant, Timer)> {
        match self {
            Self::Ict(t) => t.poll_timeout(),
            Self::Nict(t) => t.poll_timeout(),
            Self::Ist(t) => t.poll_timeout(),
            Self::Nist(t) => t.poll_timeout(),
        }
    }

    fn poll_output(&mut self) -> Option<Out> {
        match self {
            Self::Ict(t) => t.poll_output(),
            Self::Nict(t) => t.poll_output(),
            Self::Ist(t) => t.poll_output(),
            Self::Nist(t) => t.poll_output(),
        }
    }

    fn is_terminated(&self) -> bool {
        match self {
            Self::Ict(t) => t.is_terminated(),
            Self::Nict(t) => t.is_terminated(),
            Self::Ist(t) => t.is_terminated(),
            Self::Nist(t) => t.is_terminated(),
        }
    }
}

/// Drains the machine, failing on anything after `Terminated`.
fn drain_checked(m: &mut Machine, ended: &mut bool) -> Result<(), TestCaseError> {
    while let Some(o) = m.poll_output() {
        prop_assert!(!*ended, "emitted {:?} after Terminated", o);
        if o == terminated() {
            *ended = true;
        }
    }
    prop_assert_eq!(
        *ended,
        m.is_terminated(),
        "Terminated event iff terminated state"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn machines_never_panic_stay_silent_after_terminated_and_always_end(
        kind in 0u8..4,
        transport in transport(),
        config in config(),
        inputs in proptest::collection::vec(input(), 0..40),
    ) {
        let t0 = t0();
        let mut now = t0;
        let mut m = Machine::new(kind, transport, config, t0);
        let mut ended = false;
        drain_checked(&mut m, &mut ended)?;
        for input in inputs {
            if let Input::Advance(ms) = input {
                now += Duration::from_millis(ms);
            }
            m.apply(input, now);
            drain_checked(&mut m, &mut ended)?;
            if let Some((at, _)) = m.poll_timeout() {
                prop_assert!(
                    !matches!(input, Input::Advance(_)) || at > now,
                    "a due timer survived handle_timeout"
                );
            }
        }
        m.tu_finishes(now);
        drain_checked(&mut m, &mut ended)?;
        let last_input = now;
        let bound = config.t1_x64().max(config.timer_d(Transport::Unreliable))
            + config.t4
            + Duration::from_secs(1);
        let mut steps = 0;
        while let Some((at, _)) = m.poll_timeout() {
            prop_assert!(at >= now, "timer in the past");
            prop_assert!(at - last_input <= bound, "timer {:?} past the bound", at - last_input);
            now = at;
            m.handle_timeout(now);
            drain_checked(&mut m, &mut ended)?;
            steps += 1;
            prop_assert!(steps < 10_000, "timers never settle");
        }
        prop_assert!(m.is_terminated(), "quiet transaction did not terminate");
        prop_assert!(ended);
    }

    #[test]
    fn table_keeps_counts_and_drains_to_empty(
        ops in proptest::collection::vec((0u32..8, 0u8..6, input(), transport()), 0..80),
    ) {
        let config = TimerConfig::default();
        let t0 = t0();
        let mut now = t0;
        let mut table = TransactionTable::<u32, FakeReq>::new(config);
        for (key, start, input, transport) in ops {
            if table.get(&key).is_none() {
                let _duplicate_or_ack = match start {
                    0 => table.start_client(key, invite(), transport, now),
                    1 => table.start_client(key, bye(), transport, now),
                    2 => table.start_server(key, &invite(), transport, now),
                    3 => table.start_server(key, &bye(), transport, now),
                    _ => Ok(()),
                };
            }
            match input {
                Input::Advance(ms) => {
                    now += Duration::from_millis(ms);
                    table.handle_timeout(now);
                    if let Some((at, _)) = table.poll_timeout() {
                        prop_assert!(at > now);
                    }
                }
                Input::PeerRequest => { let _ = table.handle_request(&key, invite(), now); }
                Input::PeerAck => { let _ = table.handle_request(&key, ack(), now); }
                Input::PeerResponse(s) => { let _ = table.handle_response(&key, FakeResp(s), now); }
                Input::TuResponse(s) => { let _ = table.send_response(&key, FakeResp(s), now); }
                Input::TransportError => { let _ = table.handle_transport_error(&key, now); }
                Input::CancelSent => { let _ = table.cancel_sent(&key, now); }
            }
            prop_assert_eq!(table.len(), table.counts().total());
            while table.poll_output().is_some() {}
        }
        for key in 0..8 {
            match table.get(&key) {
                Some(Transaction::InviteClient(_)) => { let _ = table.cancel_sent(&key, now); }
                Some(Transaction::InviteServer(t)) if t.is_cancellable() => {
                    prop_assert!(table.send_response(&key, FakeResp(500), now).is_ok());
                }
                Some(Transaction::NonInviteServer(t))
                    if !matches!(t.state(), NonInviteServerState::Completed { .. }) =>
                {
                    prop_assert!(table.send_response(&key, FakeResp(500), now).is_ok());
                }
                _ => {}
            }
        }
        let last_input = now;
        while let Some((at, _)) = table.poll_timeout() {
            prop_assert!(at - last_input <= config.t1_x64() + config.t4 + Duration::from_secs(1));
            table.handle_timeout(at);
            while table.poll_output().is_some() {}
        }
        prop_assert!(table.is_empty());
        prop_assert_eq!(table.counts(), TransactionCounts::default());
    }
}
