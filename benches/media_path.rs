//! The media thread's receive path over real loopback sockets (issue 20), per packet and per
//! batch: what one wake of a media task costs to take the packets its legs' sockets hold.
//!
//! - `epoll_recvmmsg/1000_legs_x1`: 1,000 leg sockets with one packet each (a 20 ms tick's
//!   worth of 1,000 calls' callers): `epoll_wait` for the ready ones, one `recvmmsg` per
//!   socket into the reused [`Batch`] — the new path (`shell::media::rtp_io`).
//! - `epoll_recvmmsg/100_legs_x10`: 100 sockets with ten packets queued each (a media
//!   thread back from a 200 ms stall): one `recvmmsg` takes all ten.
//! - `task_per_leg_recvmsg_vec_channel/1000_legs_x1`: what the old path did per packet
//!   besides waking a task: `recvmsg` until `EAGAIN` (two syscalls per lone packet), a `Vec`
//!   copy, a channel send to the media task and its receive. Task wake-ups are not in it,
//!   so the difference is a lower bound.
//! - `sendto/1000_legs`: one packet sent on each of 1,000 sockets (the pacer's and the
//!   bridge's side: one `sendto` per packet, which per-call ports keep).
//!
//! The senders' `sendto` that fill the sockets are set-up, outside the measured time.

use std::hint::black_box;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hotline::shell::media::rtp_io::{Batch, Poller, RtpSocket, READY_MAX};

const PACKET: [u8; 172] = {
    let mut p = [0u8; 172];
    p[0] = 0x80;
    p
};

struct Legs {
    sockets: Vec<Arc<RtpSocket>>,
    addrs: Vec<SocketAddr>,
    poller: Poller,
    sender: UdpSocket,
}

fn legs(n: usize) -> Legs {
    let poller = Poller::new().expect("epoll");
    let mut sockets = Vec::new();
    let mut addrs = Vec::new();
    for i in 0..n {
        let s = RtpSocket::new(UdpSocket::bind("127.0.0.1:0").expect("bind")).expect("socket");
        poller.add(&s, i as u64).expect("epoll_ctl");
        addrs.push(s.local_addr().expect("addr"));
        sockets.push(Arc::new(s));
    }
    Legs {
        sockets,
        addrs,
        poller,
        sender: UdpSocket::bind("127.0.0.1:0").expect("bind"),
    }
}

fn fill(l: &Legs, per_socket: usize) {
    for a in &l.addrs {
        for _ in 0..per_socket {
            l.sender.send_to(&PACKET, a).expect("loopback send");
        }
    }
}

/// The new path: ready sockets from epoll, each drained by one `recvmmsg`.
fn take_all(l: &Legs, batch: &mut Batch, ready: &mut Vec<u64>) -> usize {
    let mut got = 0;
    loop {
        l.poller.ready(ready).expect("epoll_wait");
        if ready.is_empty() {
            return got;
        }
        for &t in ready.iter() {
            let n = batch.receive(&*l.sockets[t as usize]).expect("recvmmsg");
            for i in 0..n {
                got += black_box(batch.get(i)).map_or(0, |(b, _)| usize::from(!b.is_empty()));
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _in_runtime = rt.enter();
    let mut batch = Batch::default();
    let mut ready = Vec::with_capacity(READY_MAX);

    let mut g = c.benchmark_group("epoll_recvmmsg");
    for (n, per) in [(1_000usize, 1usize), (100, 10)] {
        let l = legs(n);
        g.throughput(Throughput::Elements((n * per) as u64));
        g.bench_function(format!("{n}_legs_x{per}"), |b| {
            b.iter_batched(
                || fill(&l, per),
                |()| assert_eq!(take_all(&l, &mut batch, &mut ready), n * per),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();

    let mut g = c.benchmark_group("task_per_leg_recvmsg_vec_channel");
    let l = legs(1_000);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let mut buf = vec![0u8; 2048];
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("1000_legs_x1", |b| {
        b.iter_batched(
            || fill(&l, 1),
            |()| {
                let mut got = 0;
                for s in &l.sockets {
                    // SAFETY: a live buffer of the stated length; flags as the old path.
                    while unsafe {
                        libc::recv(
                            s.as_raw_fd(),
                            buf.as_mut_ptr().cast(),
                            buf.len(),
                            libc::MSG_DONTWAIT,
                        )
                    } > 0
                    {
                        let _ = tx.send(buf[..172].to_vec());
                    }
                }
                while let Ok(p) = rx.try_recv() {
                    got += black_box(p).len() / 172;
                }
                assert_eq!(got, 1_000);
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("sendto");
    let l = legs(1_000);
    let sink = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let to = sink.local_addr().expect("addr");
    let mut drain = vec![0u8; 2048];
    sink.set_nonblocking(true).expect("nonblocking");
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("1000_legs", |b| {
        b.iter_batched(
            || while sink.recv(&mut drain).is_ok() {},
            |()| {
                for s in &l.sockets {
                    let _ = black_box(s.try_send_to(&PACKET, to));
                }
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
