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
//! - `io_uring_sendmsg_fixed/1000_legs`: the same 1,000 packets on the same 1,000 sockets
//!   submitted in one `io_uring_enter` (registered files, so no descriptor lookup per
//!   packet): batching the kernel crossings while keeping the per-call ports.
//! - `sendmmsg/1000_on_one_socket`: 1,000 packets in one `sendmmsg` from one socket (what a
//!   shared socket per media thread would pay): the kernel's own cost per datagram, the floor
//!   under any batching.
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
    // Room for all 1,000 datagrams of a round (the default buffer takes ≈ 270 of them, and
    // the kernel's drop of the rest is cheaper than a delivery).
    let room: libc::c_int = 16 << 20;
    // SAFETY: a valid fd and a pointer to a c_int of the stated length.
    let forced = unsafe {
        libc::setsockopt(
            sink.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&raw const room).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if forced != 0 {
        eprintln!("SO_RCVBUFFORCE refused (not root): some sends may be dropped at the sink");
    }
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

    let fds: Vec<i32> = l.sockets.iter().map(|s| s.as_raw_fd()).collect();
    let msgs = Messages::new(to, 1_000);
    let mut g = c.benchmark_group("io_uring_sendmsg_fixed");
    g.throughput(Throughput::Elements(1_000));
    match io_uring::IoUring::new(1_024) {
        Ok(mut ring) => {
            ring.submitter()
                .register_files(&fds)
                .expect("register the legs' sockets");
            g.bench_function("1000_legs", |b| {
                b.iter_batched(
                    || while sink.recv(&mut drain).is_ok() {},
                    |()| {
                        {
                            let mut sq = ring.submission();
                            for (i, m) in msgs.headers.iter().enumerate() {
                                let e = io_uring::opcode::SendMsg::new(
                                    io_uring::types::Fixed(i as u32),
                                    m,
                                )
                                .build()
                                .user_data(i as u64);
                                // SAFETY: the header, its iovec, address and packet live in
                                // `msgs` until the completions below are reaped.
                                unsafe { sq.push(&e).expect("room for 1,000 entries") };
                            }
                        }
                        ring.submit_and_wait(1_000).expect("io_uring_enter");
                        let sent = ring.completion().filter(|c| c.result() > 0).count();
                        black_box(sent);
                    },
                    BatchSize::PerIteration,
                )
            });
        }
        Err(e) => eprintln!("io_uring unavailable here ({e}): io_uring_sendmsg_fixed skipped"),
    }
    g.finish();

    let mut g = c.benchmark_group("sendmmsg");
    let one = &l.sockets[0];
    let mut mmsgs: Vec<libc::mmsghdr> = msgs
        .headers
        .iter()
        .map(|h| libc::mmsghdr {
            msg_hdr: *h,
            msg_len: 0,
        })
        .collect();
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("1000_on_one_socket", |b| {
        b.iter_batched(
            || while sink.recv(&mut drain).is_ok() {},
            |()| {
                let mut done = 0;
                while done < mmsgs.len() {
                    // SAFETY: every header points into `msgs`, alive for the whole bench.
                    let n = unsafe {
                        libc::sendmmsg(
                            one.as_raw_fd(),
                            mmsgs[done..].as_mut_ptr(),
                            (mmsgs.len() - done) as libc::c_uint,
                            0,
                        )
                    };
                    let Ok(n) = usize::try_from(n) else { break };
                    done += n.max(1);
                }
                black_box(done);
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// `n` message headers that each send [`PACKET`] to `to`, with the storage they point at.
struct Messages {
    headers: Vec<libc::msghdr>,
    _iov: Box<libc::iovec>,
    _addr: Box<libc::sockaddr_in>,
}

impl Messages {
    fn new(to: SocketAddr, n: usize) -> Self {
        let SocketAddr::V4(v4) = to else {
            panic!("the sink is IPv4")
        };
        let addr = Box::new(libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: v4.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*v4.ip()).to_be(),
            },
            sin_zero: [0; 8],
        });
        let mut iov = Box::new(libc::iovec {
            iov_base: PACKET.as_ptr() as *mut libc::c_void,
            iov_len: PACKET.len(),
        });
        let headers = (0..n)
            .map(|_| {
                // SAFETY: an all-zero msghdr is valid; the fields set point at boxed storage.
                let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
                h.msg_name = (&raw const *addr).cast_mut().cast();
                h.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
                h.msg_iov = &raw mut *iov;
                h.msg_iovlen = 1;
                h
            })
            .collect();
        Self {
            headers,
            _iov: iov,
            _addr: addr,
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
