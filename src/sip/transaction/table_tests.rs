use std::time::Duration;

use super::*;
use crate::sip::transaction::test_support::*;
use crate::sip::transaction::TuEvent;

type Table = TransactionTable<u32, FakeReq>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn drain_table(t: &mut Table) -> Vec<(u32, Out)> {
    std::iter::from_fn(|| t.poll_output()).collect()
}

#[test]
fn routes_new_retransmitted_ack_and_stray_requests() {
    let t0 = t0();
    let mut t = Table::new(TimerConfig::default());
    assert_eq!(t.handle_request(&7, invite(), t0), Incoming::New(invite()));
    t.start_server(7, &invite(), Transport::Unreliable, t0)
        .unwrap();
    t.send_response(&7, FakeResp(180), t0).unwrap();
    assert_eq!(
        t.handle_request(&7, invite(), t0 + ms(500)),
        Incoming::Matched
    );
    assert_eq!(
        drain_table(&mut t),
        vec![(7, send_resp(180)), (7, send_resp(180))]
    );
    assert_eq!(t.handle_request(&8, ack(), t0), Incoming::StrayAck(ack()));
    t.send_response(&7, FakeResp(486), t0 + ms(600)).unwrap();
    assert_eq!(t.handle_request(&7, ack(), t0 + ms(700)), Incoming::Matched);
    assert_eq!(t.get(&7).map(|x| x.state_name()), Some("Confirmed"));
}

#[test]
fn stray_and_matched_responses() {
    let t0 = t0();
    let mut t = Table::new(TimerConfig::default());
    assert_eq!(
        t.handle_response(&1, FakeResp(200), t0),
        Some(FakeResp(200))
    );
    t.start_client(1, bye(), Transport::Unreliable, t0).unwrap();
    assert_eq!(t.handle_response(&1, FakeResp(200), t0 + ms(30)), None);
    assert_eq!(
        drain_table(&mut t),
        vec![(1, Output::SendRequest(bye())), (1, to_tu_resp(200))]
    );
    // A response keyed to a server transaction is not taken by it.
    t.start_server(2, &bye(), Transport::Unreliable, t0)
        .unwrap();
    assert_eq!(
        t.handle_response(&2, FakeResp(200), t0),
        Some(FakeResp(200))
    );
}

#[test]
fn refuses_duplicates_acks_and_unknown_keys() {
    let t0 = t0();
    let mut t = Table::new(TimerConfig::default());
    t.start_server(1, &bye(), Transport::Unreliable, t0)
        .unwrap();
    assert_eq!(
        t.start_server(1, &bye(), Transport::Unreliable, t0),
        Err(TableError::DuplicateKey)
    );
    assert_eq!(
        t.start_client(2, ack(), Transport::Unreliable, t0),
        Err(TableError::AckStartsNoTransaction)
    );
    assert_eq!(
        t.send_response(&3, FakeResp(200), t0),
        Err(TableError::NoSuchTransaction)
    );
    assert_eq!(
        t.cancel_sent(&1, t0),
        Err(TableError::WrongKind {
            kind: Kind::NonInviteServer,
            action: "be cancelled"
        })
    );
    assert!(matches!(
        t.send_response(&1, FakeResp(1000), t0),
        Err(TableError::Transaction(TransactionError::InvalidStatus {
            status: 1000
        }))
    ));
}

#[test]
fn one_ordered_timer_map_fires_only_due_timers() {
    let t0 = t0();
    let mut t = Table::new(TimerConfig::default());
    // Server 1 completes at t0 (J at 32 s); client 2 starts at t0 + 1 s (E at 1.5 s);
    // server 3 completes at t0 + 2 s (J at 34 s).
    t.start_server(1, &bye(), Transport::Unreliable, t0)
        .unwrap();
    t.send_response(&1, FakeResp(200), t0).unwrap();
    t.start_client(2, bye(), Transport::Unreliable, t0 + secs(1))
        .unwrap();
    t.start_server(3, &bye(), Transport::Unreliable, t0 + secs(2))
        .unwrap();
    t.send_response(&3, FakeResp(200), t0 + secs(2)).unwrap();
    let _ = drain_table(&mut t);
    assert_eq!(t.poll_timeout(), Some((t0 + ms(1500), Timer::E)));
    t.handle_timeout(t0 + ms(1499));
    assert!(drain_table(&mut t).is_empty());
    t.handle_timeout(t0 + ms(1500));
    assert_eq!(drain_table(&mut t), vec![(2, Output::SendRequest(bye()))]);
    assert_eq!(t.handle_response(&2, FakeResp(200), t0 + secs(2)), None);
    let _ = drain_table(&mut t);
    // K of client 2 at 7 s, then J of 1 at 32 s and of 3 at 34 s.
    assert_eq!(t.poll_timeout(), Some((t0 + secs(7), Timer::K)));
    t.handle_timeout(t0 + secs(33));
    assert_eq!(
        drain_table(&mut t),
        vec![(2, terminated()), (1, terminated())]
    );
    assert_eq!(t.len(), 1);
    assert_eq!(t.poll_timeout(), Some((t0 + secs(34), Timer::J)));
    t.handle_timeout(t0 + secs(34));
    assert_eq!(drain_table(&mut t), vec![(3, terminated())]);
    assert!(t.is_empty());
    assert_eq!(t.poll_timeout(), None);
}

#[test]
fn counts_per_kind_and_terminated_leave() {
    let t0 = t0();
    let mut t = Table::new(TimerConfig::default());
    t.start_client(1, invite(), Transport::Unreliable, t0)
        .unwrap();
    t.start_client(2, bye(), Transport::Reliable, t0).unwrap();
    t.start_server(3, &invite(), Transport::Unreliable, t0)
        .unwrap();
    t.start_server(4, &bye(), Transport::Reliable, t0).unwrap();
    let c = t.counts();
    assert_eq!(
        (
            c.invite_client,
            c.non_invite_client,
            c.invite_server,
            c.non_invite_server
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(c.total(), 4);
    // Reliable non-INVITE server: the final ends it at once.
    t.send_response(&4, FakeResp(200), t0).unwrap();
    assert_eq!(t.counts().non_invite_server, 0);
    assert!(t.get(&4).is_none());
    t.handle_transport_error(&1, t0).unwrap();
    assert_eq!(t.counts().invite_client, 0);
    assert_eq!(
        t.handle_transport_error(&1, t0),
        Err(TableError::NoSuchTransaction)
    );
}

#[test]
fn cancel_target_follows_the_invite_server_state() {
    let t0 = t0();
    let mut t = Table::new(TimerConfig::default());
    assert_eq!(t.cancel_target(&5), CancelTarget::NoMatch);
    t.start_server(5, &invite(), Transport::Unreliable, t0)
        .unwrap();
    t.send_response(&5, FakeResp(180), t0).unwrap();
    assert_eq!(t.cancel_target(&5), CancelTarget::Pending);
    // §9.2: the TU answers the INVITE with 487.
    t.send_response(&5, FakeResp(487), t0 + secs(1)).unwrap();
    assert_eq!(t.cancel_target(&5), CancelTarget::AlreadyFinal);
    t.start_server(6, &bye(), Transport::Unreliable, t0)
        .unwrap();
    assert_eq!(
        t.cancel_target(&6),
        CancelTarget::NoMatch,
        "only INVITEs are cancelled"
    );
}

#[test]
fn client_cancel_guard_through_the_table() {
    let t0 = t0();
    let mut t = Table::new(TimerConfig::default());
    t.start_client(1, invite(), Transport::Reliable, t0)
        .unwrap();
    assert_eq!(t.handle_response(&1, FakeResp(180), t0 + ms(10)), None);
    assert_eq!(t.poll_timeout(), None, "Proceeding waits for the TU");
    t.cancel_sent(&1, t0 + secs(60)).unwrap();
    assert_eq!(t.poll_timeout(), Some((t0 + secs(92), Timer::CancelGuard)));
    t.handle_timeout(t0 + secs(92));
    let out = drain_table(&mut t);
    assert!(out.contains(&(1, Output::ToTu(TuEvent::Timeout(Timer::CancelGuard)))));
    assert!(t.is_empty());
}

#[test]
fn thousands_of_mixed_transactions_all_drain() {
    let t0 = t0();
    let mut t = Table::new(TimerConfig::default());
    for i in 0..4000u32 {
        let at = t0 + ms(u64::from(i));
        match i % 4 {
            0 => t
                .start_client(i, invite(), Transport::Unreliable, at)
                .unwrap(),
            1 => t.start_client(i, bye(), Transport::Unreliable, at).unwrap(),
            2 => {
                t.start_server(i, &invite(), Transport::Unreliable, at)
                    .unwrap();
                let status = if i % 8 == 2 { 200 } else { 486 };
                t.send_response(&i, FakeResp(status), at).unwrap();
            }
            _ => {
                t.start_server(i, &bye(), Transport::Unreliable, at)
                    .unwrap();
                t.send_response(&i, FakeResp(200), at).unwrap();
            }
        }
    }
    assert_eq!(t.len(), 4000);
    let mut ended = 0;
    let mut wakeups = 0;
    while let Some((at, _)) = t.poll_timeout() {
        t.handle_timeout(at);
        wakeups += 1;
        ended += drain_table(&mut t)
            .iter()
            .filter(|(_, o)| *o == terminated())
            .count();
    }
    assert_eq!(ended, 4000);
    assert!(t.is_empty());
    assert_eq!(t.counts(), TransactionCounts::default());
    assert!(wakeups > 0);
    assert!(t.poll_timeout().is_none());
}
