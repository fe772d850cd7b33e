use std::time::Duration;

use super::*;
use crate::sip::transaction::test_support::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn udp(t0: Instant) -> InviteServerTransaction<FakeReq> {
    InviteServerTransaction::new(Transport::Unreliable, TimerConfig::default(), t0)
}

#[test]
fn retransmitted_invite_gets_the_latest_provisional() {
    let t0 = t0();
    let mut t = udp(t0);
    t.handle_request(t0 + ms(10));
    assert!(
        drain(|| t.poll_output()).is_empty(),
        "nothing sent yet, nothing to resend"
    );
    assert_eq!(t.send_response(FakeResp(100), t0 + ms(20)), Ok(()));
    assert_eq!(t.send_response(FakeResp(180), t0 + ms(30)), Ok(()));
    assert_eq!(
        drain(|| t.poll_output()),
        vec![send_resp(100), send_resp(180)]
    );
    t.handle_request(t0 + ms(500));
    assert_eq!(drain(|| t.poll_output()), vec![send_resp(180)]);
    assert_eq!(t.poll_timeout(), None, "Proceeding waits for the TU");
    assert!(t.is_cancellable());
}

#[test]
fn non_2xx_final_retransmits_on_g_doubling_to_t2_until_h() {
    let t0 = t0();
    let mut t = udp(t0);
    t.send_response(FakeResp(486), t0).unwrap();
    assert_eq!(drain(|| t.poll_output()), vec![send_resp(486)]);
    let mut sends = Vec::new();
    let mut timed_out_at = None;
    while let Some((at, _)) = t.poll_timeout() {
        t.handle_timeout(at);
        for o in drain(|| t.poll_output()) {
            if o == send_resp(486) {
                sends.push(at - t0);
            } else if o == Output::ToTu(TuEvent::Timeout(Timer::H)) {
                timed_out_at = Some(at - t0);
            }
        }
    }
    let expected: Vec<_> = [
        500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]
    .map(ms)
    .to_vec();
    assert_eq!(sends, expected);
    assert_eq!(timed_out_at, Some(secs(32)));
    assert!(t.is_terminated());
}

#[test]
fn ack_confirms_absorbs_copies_and_timer_i_terminates() {
    let t0 = t0();
    let mut t = udp(t0);
    t.send_response(FakeResp(486), t0).unwrap();
    t.handle_request(t0 + ms(100));
    assert_eq!(
        drain(|| t.poll_output()),
        vec![send_resp(486), send_resp(486)]
    );
    t.handle_ack(ack(), t0 + ms(200));
    assert_eq!(t.state().name(), "Confirmed");
    let i_at = t0 + ms(200) + secs(5);
    assert_eq!(t.poll_timeout(), Some((i_at, Timer::I)));
    t.handle_ack(ack(), t0 + ms(300));
    t.handle_request(t0 + ms(400));
    t.handle_timeout(t0 + secs(4));
    assert!(
        drain(|| t.poll_output()).is_empty(),
        "no G after the ACK, copies absorbed"
    );
    t.handle_timeout(i_at);
    assert_eq!(drain(|| t.poll_output()), vec![terminated()]);
}

#[test]
fn reliable_has_no_g_and_ack_terminates_at_once() {
    let t0 = t0();
    let mut t =
        InviteServerTransaction::<FakeReq>::new(Transport::Reliable, TimerConfig::default(), t0);
    t.send_response(FakeResp(603), t0).unwrap();
    assert_eq!(t.poll_timeout(), Some((t0 + secs(32), Timer::H)));
    t.handle_ack(ack(), t0 + ms(50));
    assert_eq!(
        drain(|| t.poll_output()),
        vec![send_resp(603), terminated()]
    );
}

#[test]
fn accepted_absorbs_invites_passes_2xx_and_ack_until_timer_l() {
    let t0 = t0();
    let mut t = udp(t0);
    t.send_response(FakeResp(180), t0).unwrap();
    t.send_response(FakeResp(200), t0 + ms(10)).unwrap();
    assert_eq!(
        drain(|| t.poll_output()),
        vec![send_resp(180), send_resp(200)]
    );
    let l_at = t0 + ms(10) + secs(32);
    assert_eq!(t.poll_timeout(), Some((l_at, Timer::L)));
    t.handle_request(t0 + ms(600));
    assert!(
        drain(|| t.poll_output()).is_empty(),
        "INVITE copy absorbed, not a new call"
    );
    // The dialog retransmits its 2xx itself; the transaction only carries it.
    t.send_response(FakeResp(200), t0 + ms(510)).unwrap();
    assert_eq!(drain(|| t.poll_output()), vec![send_resp(200)]);
    assert!(t.send_response(FakeResp(486), t0 + ms(520)).is_err());
    t.handle_ack(ack(), t0 + ms(700));
    assert_eq!(
        drain(|| t.poll_output()),
        vec![Output::ToTu(TuEvent::Ack(ack()))]
    );
    t.handle_timeout(l_at);
    assert_eq!(drain(|| t.poll_output()), vec![terminated()]);
}

#[test]
fn timer_h_over_reliable_still_gives_up() {
    let t0 = t0();
    let mut t =
        InviteServerTransaction::<FakeReq>::new(Transport::Reliable, TimerConfig::default(), t0);
    t.send_response(FakeResp(480), t0).unwrap();
    let _ = drain(|| t.poll_output());
    t.handle_timeout(t0 + secs(32));
    assert_eq!(
        drain(|| t.poll_output()),
        vec![Output::ToTu(TuEvent::Timeout(Timer::H)), terminated()]
    );
}

/// §9.2: after a CANCEL the TU answers the INVITE with 487; the machine treats it as any
/// non-2xx final (retransmit until ACK), and refuses a late 2xx.
#[test]
fn cancel_then_487_runs_the_non_2xx_handshake() {
    let t0 = t0();
    let mut t = udp(t0);
    t.send_response(FakeResp(180), t0).unwrap();
    assert!(t.is_cancellable());
    t.send_response(FakeResp(487), t0 + secs(3)).unwrap();
    assert!(!t.is_cancellable());
    assert_eq!(
        t.send_response(FakeResp(200), t0 + secs(3)),
        Err(TransactionError::WrongState {
            status: 200,
            state: "Completed"
        })
    );
    t.handle_timeout(t0 + secs(3) + ms(500));
    assert_eq!(
        drain(|| t.poll_output()),
        vec![send_resp(180), send_resp(487), send_resp(487)]
    );
    t.handle_ack(ack(), t0 + secs(4));
    t.handle_timeout(t0 + secs(9));
    assert_eq!(drain(|| t.poll_output()), vec![terminated()]);
}

#[test]
fn invalid_status_and_sends_after_terminated_are_refused() {
    let t0 = t0();
    let mut t = udp(t0);
    assert_eq!(
        t.send_response(FakeResp(99), t0),
        Err(TransactionError::InvalidStatus { status: 99 })
    );
    t.handle_transport_error(t0);
    assert_eq!(
        drain(|| t.poll_output()),
        vec![Output::ToTu(TuEvent::TransportError), terminated()]
    );
    assert!(t.send_response(FakeResp(200), t0).is_err());
    t.handle_request(t0);
    t.handle_ack(ack(), t0);
    assert!(drain(|| t.poll_output()).is_empty());
}

#[test]
fn transport_error_in_accepted_informs_but_keeps_absorbing() {
    let t0 = t0();
    let mut t = udp(t0);
    t.send_response(FakeResp(200), t0).unwrap();
    let _ = drain(|| t.poll_output());
    t.handle_transport_error(t0 + ms(1));
    assert_eq!(
        drain(|| t.poll_output()),
        vec![Output::ToTu(TuEvent::TransportError)]
    );
    assert_eq!(t.state().name(), "Accepted");
}
