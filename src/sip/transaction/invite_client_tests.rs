use std::time::Duration;

use super::*;
use crate::sip::transaction::test_support::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn new_udp(t0: Instant) -> InviteClientTransaction<FakeReq> {
    InviteClientTransaction::new(invite(), Transport::Unreliable, TimerConfig::default(), t0)
}

#[test]
fn timer_a_doubles_until_timer_b_gives_up() {
    let t0 = t0();
    let mut t = new_udp(t0);
    assert_eq!(
        drain(|| t.poll_output()),
        vec![Output::SendRequest(invite())]
    );
    let mut sends = Vec::new();
    while let Some((at, timer)) = t.poll_timeout() {
        t.handle_timeout(at);
        for o in drain(|| t.poll_output()) {
            if o == Output::SendRequest(invite()) {
                assert_eq!(timer, Timer::A);
                sends.push(at - t0);
            } else if o == Output::ToTu(TuEvent::Timeout(Timer::B)) {
                assert_eq!(at - t0, Duration::from_secs(32));
            }
        }
    }
    // 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s: A doubles with no T2 cap.
    let expected: Vec<_> = [500, 1500, 3500, 7500, 15500, 31500].map(ms).to_vec();
    assert_eq!(sends, expected);
    assert!(t.is_terminated());
}

#[test]
fn timer_b_reports_timeout_then_terminated_and_nothing_after() {
    let t0 = t0();
    let mut t = new_udp(t0);
    let _ = drain(|| t.poll_output());
    t.handle_timeout(t0 + Duration::from_secs(32));
    let out = drain(|| t.poll_output());
    assert_eq!(
        out.last().cloned(),
        Some(terminated()),
        "terminated is the last word"
    );
    assert!(out.contains(&Output::ToTu(TuEvent::Timeout(Timer::B))));
    t.handle_response(FakeResp(200), t0 + Duration::from_secs(33));
    t.handle_transport_error(t0 + Duration::from_secs(33));
    assert!(drain(|| t.poll_output()).is_empty());
    assert_eq!(t.poll_timeout(), None);
}

#[test]
fn reliable_transport_arms_no_timer_a() {
    let t0 = t0();
    let t = InviteClientTransaction::new(invite(), Transport::Reliable, TimerConfig::default(), t0);
    assert_eq!(
        t.poll_timeout(),
        Some((t0 + Duration::from_secs(32), Timer::B))
    );
}

#[test]
fn non_2xx_final_is_acked_and_retransmissions_absorbed_until_timer_d() {
    let t0 = t0();
    let mut t = new_udp(t0);
    let _ = drain(|| t.poll_output());
    t.handle_response(FakeResp(180), t0 + ms(100));
    assert_eq!(drain(|| t.poll_output()), vec![to_tu_resp(180)]);
    assert_eq!(t.poll_timeout(), None, "no retransmission in Proceeding");
    t.handle_response(FakeResp(486), t0 + ms(200));
    assert_eq!(
        drain(|| t.poll_output()),
        vec![Output::SendRequest(ack()), to_tu_resp(486)]
    );
    assert_eq!(t.state().name(), "Completed");
    let d_at = t0 + ms(200) + Duration::from_secs(32);
    assert_eq!(t.poll_timeout(), Some((d_at, Timer::D)));
    // Our ACK was lost: the peer retransmits; we resend the ACK, the TU hears nothing.
    t.handle_response(FakeResp(486), t0 + ms(700));
    assert_eq!(drain(|| t.poll_output()), vec![Output::SendRequest(ack())]);
    t.handle_timeout(d_at - ms(1));
    assert!(drain(|| t.poll_output()).is_empty());
    t.handle_timeout(d_at);
    assert_eq!(drain(|| t.poll_output()), vec![terminated()]);
}

#[test]
fn non_2xx_over_reliable_terminates_at_once() {
    let t0 = t0();
    let mut t =
        InviteClientTransaction::new(invite(), Transport::Reliable, TimerConfig::default(), t0);
    let _ = drain(|| t.poll_output());
    t.handle_response(FakeResp(503), t0 + ms(10));
    assert_eq!(
        drain(|| t.poll_output()),
        vec![Output::SendRequest(ack()), to_tu_resp(503), terminated()]
    );
}

#[test]
fn every_2xx_goes_to_the_tu_until_timer_m() {
    let t0 = t0();
    let mut t = new_udp(t0);
    let _ = drain(|| t.poll_output());
    t.handle_response(FakeResp(200), t0 + ms(50));
    assert_eq!(drain(|| t.poll_output()), vec![to_tu_resp(200)]);
    let m_at = t0 + ms(50) + Duration::from_secs(32);
    assert_eq!(t.poll_timeout(), Some((m_at, Timer::M)));
    t.handle_response(FakeResp(200), t0 + ms(550));
    t.handle_response(FakeResp(486), t0 + ms(600));
    assert_eq!(drain(|| t.poll_output()), vec![to_tu_resp(200)]);
    t.handle_transport_error(t0 + ms(600));
    assert!(drain(|| t.poll_output()).is_empty());
    t.handle_timeout(m_at);
    assert_eq!(drain(|| t.poll_output()), vec![terminated()]);
}

#[test]
fn transport_error_informs_tu_and_terminates() {
    let t0 = t0();
    let mut t = new_udp(t0);
    let _ = drain(|| t.poll_output());
    t.handle_transport_error(t0);
    assert_eq!(
        drain(|| t.poll_output()),
        vec![Output::ToTu(TuEvent::TransportError), terminated()]
    );
}

#[test]
fn cancel_guard_gives_up_64_t1_after_cancel() {
    let t0 = t0();
    let mut t = new_udp(t0);
    let _ = drain(|| t.poll_output());
    t.handle_response(FakeResp(180), t0 + ms(100));
    let _ = drain(|| t.poll_output());
    t.handle_cancel_sent(t0 + Duration::from_secs(20));
    let at = t0 + Duration::from_secs(52);
    assert_eq!(t.poll_timeout(), Some((at, Timer::CancelGuard)));
    t.handle_timeout(at);
    assert_eq!(
        drain(|| t.poll_output()),
        vec![
            Output::ToTu(TuEvent::Timeout(Timer::CancelGuard)),
            terminated()
        ]
    );
}

#[test]
fn cancelled_invite_completes_on_487() {
    let t0 = t0();
    let mut t = new_udp(t0);
    let _ = drain(|| t.poll_output());
    t.handle_response(FakeResp(180), t0 + ms(100));
    t.handle_cancel_sent(t0 + ms(200));
    t.handle_response(FakeResp(487), t0 + ms(300));
    let out = drain(|| t.poll_output());
    assert_eq!(out[1..], [Output::SendRequest(ack()), to_tu_resp(487)]);
    assert_eq!(t.poll_timeout().map(|(_, timer)| timer), Some(Timer::D));
}
