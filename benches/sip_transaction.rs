//! Transaction-layer throughput: full INVITE server lifecycles (INVITE → 100 → 200, or
//! INVITE → 100 → 486 → ACK, then timers to Terminated) through a `TransactionTable` that
//! holds about 10,000 live transactions in steady state.
//!
//! The fake clock advances 1.85 ms per new call; a 2xx lives 64·T1 = 32 s in `Accepted`
//! (Timer L) and a 486 lives T4 = 5 s in `Confirmed` (Timer I), so half and half gives
//! (32 + 5) / 2 / 1.85 ms ≈ 10,000 live transactions, each step firing the due timers of older
//! calls. One criterion element is one complete lifecycle.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hotline::sip::transaction::{
    Incoming, MethodKind, TimerConfig, TransactionTable, Transport, TxRequest, TxResponse,
};

#[derive(Debug, Clone)]
struct Req(MethodKind);

#[derive(Debug, Clone)]
struct Resp(u16);

impl TxResponse for Resp {
    fn status_code(&self) -> u16 {
        self.0
    }
}

impl TxRequest for Req {
    type Response = Resp;
    fn method_kind(&self) -> MethodKind {
        self.0
    }
    fn build_ack(&self, _response: &Resp) -> Self {
        Req(MethodKind::Ack)
    }
}

const STEP: Duration = Duration::from_micros(1850);
const LIVE_TARGET: usize = 10_000;

/// A table in steady state plus the fake clock and the next call number.
struct Load<K> {
    table: TransactionTable<K, Req>,
    now: Instant,
    next: u64,
    make_key: fn(u64) -> K,
}

impl<K: std::hash::Hash + Eq + Clone> Load<K> {
    fn new(make_key: fn(u64) -> K) -> Self {
        #[allow(clippy::disallowed_methods)] // the bench's one clock reading: its t0
        let now = Instant::now();
        let mut load = Self {
            table: TransactionTable::new(TimerConfig::default()),
            now,
            next: 0,
            make_key,
        };
        // Warm up past the longest lifetime (32 s of fake time) to reach steady state.
        while load.now < now + Duration::from_secs(40) {
            load.step();
        }
        let live = load.table.len();
        assert!(
            (LIVE_TARGET * 9 / 10..=LIVE_TARGET * 11 / 10).contains(&live),
            "steady state should hold ~{LIVE_TARGET} live transactions, holds {live}"
        );
        load
    }

    /// One full lifecycle, plus whatever older timers are due now.
    fn step(&mut self) -> usize {
        self.now += STEP;
        let now = self.now;
        let i = self.next;
        self.next += 1;
        let key = (self.make_key)(i);
        let t = &mut self.table;
        if let Incoming::New(req) = t.handle_request(&key, Req(MethodKind::Invite), now) {
            let started = t.start_server(key.clone(), &req, Transport::Unreliable, now);
            debug_assert!(started.is_ok());
        }
        let _ = t.send_response(&key, Resp(100), now);
        if i % 2 == 0 {
            let _ = t.send_response(&key, Resp(200), now);
        } else {
            let _ = t.send_response(&key, Resp(486), now);
            let _ = t.handle_request(&key, Req(MethodKind::Ack), now);
        }
        t.handle_timeout(now);
        let mut outputs = 0;
        while let Some(o) = t.poll_output() {
            black_box(o);
            outputs += 1;
        }
        outputs
    }
}

fn u64_key(i: u64) -> u64 {
    i
}

/// Shaped like a real §17.2.3 key: branch, sent-by, method.
fn string_key(i: u64) -> (String, String, u8) {
    (format!("z9hG4bK{i:016x}"), "10.0.0.7:5060".to_owned(), 1)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("invite_server_lifecycle_10k_live");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));

    let mut load = Load::new(u64_key);
    group.bench_function(BenchmarkId::from_parameter("u64_key"), |b| {
        b.iter(|| black_box(load.step()))
    });

    let mut load = Load::new(string_key);
    group.bench_function(BenchmarkId::from_parameter("string_key"), |b| {
        b.iter(|| black_box(load.step()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
