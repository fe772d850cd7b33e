//! `rtp-probe`: the receiving side of the load runs (`benches/load_ivr.sh`,
//! `benches/load_bridged.sh`). It binds the address the SIPp phones' SDP names, takes every RTP
//! packet the engine sends there with the kernel's receive time (`SO_TIMESTAMPNS`, so the
//! probe's own scheduling does not bend the figures), and reports per-stream pacing: the gaps
//! between consecutive packets of each stream (p50/p99/p99.9/max) and how many packets came
//! more than 10 ms after their due instant (the stream's RTP clock, anchored at its earliest
//! packet). Counters on the sender's side cannot see what the kernel, the loopback and the
//! scheduler did afterwards.
//!
//! It also sends each stream one packet of silence every 5 s, as a caller would send its
//! voice: the engine hangs up callers that send nothing for `rtp.media_timeout`.
//!
//! With `--reply` it plays the agents' phones of bridged calls instead: every packet it
//! receives (the caller's audio relayed to the agent's leg) is answered at once, to the
//! packet's source, with one packet of the agent's voice (A-law, payload type 8, as
//! `benches/load/agent_answer.xml` offers: 20 ms of a 600 Hz tone), under its own SSRC per
//! stream with sequence and timestamp counting on by 160. The engine's recording then carries
//! 600 Hz on the agent's (right) channel, as with SIPp's own `rtp_stream`, and the probe
//! measures what the engine relays to the agents rather than what SIPp would hear. The relayed
//! stream keeps the caller's pace and RTP clock, so the caller's own jitter is in the figures:
//! SIPp's `rtp_stream` alone (caller to probe, no engine between) already measures p99 gaps of
//! 36 ms and 78 % of packets more than 10 ms late by this rule (docs/PERFORMANCE.md).
//!
//! `rtp-probe [--reply] LISTEN SECONDS [SKIP_SECONDS [LINGER_SECONDS]]`: reads for
//! SKIP_SECONDS without measuring (the ramp), then measures for SECONDS and prints one line
//! per figure, then goes on answering the streams for LINGER_SECONDS (the calls still held)
//! and exits. A `SIGUSR1` starts the window at once, before SKIP_SECONDS are over: a load
//! script whose full load comes at a moment it cannot foretell (conferences set up over the
//! API) signals the probe when it starts its own measurement.

// A load tool beside the engine, not the engine: it reads the clock where it likes.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hotline::media::Codec;

/// Datagrams per `recvmmsg`.
const BATCH: usize = 256;
/// Sockets bound to the one address with `SO_REUSEPORT`: the kernel spreads the engine's
/// legs over them by source port, so its media threads do not all queue on one socket's lock
/// (remote callers are many sockets on other machines).
const SOCKETS: usize = 4;
/// How long the probe sleeps once the socket is drained (remote callers cost the engine no
/// wake-ups; a probe on the same machine should not either).
const IDLE: Duration = Duration::from_millis(2);
/// Gap histogram: 10 µs buckets up to 2 s (larger gaps go in the last bucket).
const BUCKET_US: u64 = 10;
const BUCKETS: usize = 200_000;
/// How often the probe answers each stream with one packet of silence: a caller that sends
/// no RTP for `rtp.media_timeout` (30 s) is hung up as vanished (issue 12), and the load runs
/// hold calls longer than that; one packet in 250 keeps the engine's checks on.
const KEEPALIVE_NS: u64 = 5_000_000_000;
/// A packet later than this after its due instant is late (issue 20's goal).
const LATE: Duration = Duration::from_millis(10);
/// `--reply`: the agent's voice, a 600 Hz tone (whole periods in one second, so the table
/// loops without a click); A-law, the only codec the load agents offer.
const REPLY_HZ: f64 = 600.0;
const REPLY_AMPLITUDE: f64 = 8000.0;
const REPLY_PT: u8 = 8;
/// Samples (and RTP timestamp units) per reply: 20 ms at 8 kHz.
const FRAME: usize = 160;
/// An RTP header and one frame.
const REPLY_LEN: usize = 12 + FRAME;

/// Set by `SIGUSR1`: start the window now.
static START_NOW: AtomicBool = AtomicBool::new(false);

extern "C" fn on_usr1(_: libc::c_int) {
    START_NOW.store(true, Ordering::Relaxed);
}

/// One engine leg the probe answers (`--reply`), by the address its packets come from. Kept
/// apart from the measured streams (which start afresh with the window) so the engine sees one
/// unbroken stream from each agent.
struct Reply {
    ssrc: u32,
    seq: u16,
    ts: u32,
    /// Where the next frame starts in the tone table.
    pos: usize,
}

/// What `--reply` sent.
#[derive(Default)]
struct Replies {
    sent: u64,
    failed: u64,
}

struct Stream {
    last_ns: u64,
    /// The smallest (arrival − RTP time) seen: the stream's on-time offset.
    min_offset_ns: i128,
    /// RTP timestamps unwrapped to 64 bits.
    ts_base: u64,
    last_ts: u32,
    late: u64,
    max_gap_ns: u64,
    packets: u64,
    /// When this probe last sent the engine a packet of this stream (`KEEPALIVE`).
    keepalive_ns: u64,
}

#[derive(Default)]
struct Report {
    gaps: Vec<u64>,
    packets: u64,
    late: u64,
    not_rtp: u64,
}

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let reply_mode = args.iter().any(|a| a == "--reply");
    args.retain(|a| a != "--reply");
    let (Some(listen), Some(secs)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: rtp-probe [--reply] LISTEN SECONDS [SKIP_SECONDS [LINGER_SECONDS]]");
        std::process::exit(2);
    };
    let listen: SocketAddr = listen
        .parse()
        .unwrap_or_else(|e| fail(&format!("LISTEN: {e}")));
    let secs: f64 = secs
        .parse()
        .unwrap_or_else(|e| fail(&format!("SECONDS: {e}")));
    let skip: f64 = args
        .get(3)
        .map(|s| {
            s.parse()
                .unwrap_or_else(|e| fail(&format!("SKIP_SECONDS: {e}")))
        })
        .unwrap_or(0.0);
    let linger: f64 = args
        .get(4)
        .map(|s| {
            s.parse()
                .unwrap_or_else(|e| fail(&format!("LINGER_SECONDS: {e}")))
        })
        .unwrap_or(0.0);
    let sockets: Vec<UdpSocket> = (0..SOCKETS)
        .map(|_| bind_shared(listen).unwrap_or_else(|e| fail(&format!("bind {listen}: {e}"))))
        .collect();
    for socket in &sockets {
        setup(socket).unwrap_or_else(|e| fail(&format!("socket options: {e}")));
    }
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGUSR1, on_usr1 as *const () as libc::sighandler_t);
    }
    let tone = tone_table();
    let mut replies: HashMap<SocketAddr, Reply> = HashMap::new();
    let mut reply_stats = Replies::default();
    let mut out: Vec<([u8; REPLY_LEN], SocketAddr)> = Vec::with_capacity(BATCH);
    let mut next_socket = 0;
    let mut drained = 0;
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(skip);
    let window = Duration::from_secs_f64(secs);
    let linger = Duration::from_secs_f64(linger);
    // Moved forward when SIGUSR1 starts the window early.
    let mut end = measure_from + window;
    let mut streams: HashMap<(SocketAddr, u32), Stream> = HashMap::new();
    let mut report = Report {
        gaps: vec![0; BUCKETS],
        ..Report::default()
    };
    let mut bufs = vec![[0u8; 256]; BATCH];
    let mut measuring = false;
    let mut keepalive_seq = 0u16;
    let mut window_start_ns = 0u64;
    let mut dropped_before = 0u64;
    let mut linger_end = end + linger;
    let mut reported = false;
    loop {
        let now = Instant::now();
        if measuring && now >= end {
            measuring = false;
            reported = true;
            let window = (realtime_ns() - window_start_ns) as f64 / 1e9;
            let drops = socket_drops(listen.port()).saturating_sub(dropped_before);
            print_report(&report, &streams, window, drops);
            if reply_mode {
                println!(
                    "probe: replied (A-law 600 Hz, one packet per packet received) to {} legs: {} packets sent, {} not sent",
                    replies.len(),
                    reply_stats.sent,
                    reply_stats.failed
                );
            }
        }
        if now >= linger_end {
            break;
        }
        if !measuring && !reported && (now >= measure_from || START_NOW.load(Ordering::Relaxed)) {
            measuring = true;
            end = now + window;
            linger_end = end + linger;
            // Gaps that straddle the start of the window are not counted.
            streams.clear();
            window_start_ns = realtime_ns();
            dropped_before = socket_drops(listen.port());
        }
        let socket = &sockets[next_socket];
        next_socket = (next_socket + 1) % SOCKETS;
        let got = match recv_batch(socket, &mut bufs) {
            Ok(got) => {
                drained = 0;
                got
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // All drained: sleep rather than block on a socket. A receiver waiting in
                // `recvmmsg` is woken by every datagram, and on loopback the sender pays
                // for that wake-up (the engine's `sendto` then measures the probe, not
                // itself); the kernel's receive times keep the figures exact.
                drained += 1;
                if drained >= SOCKETS {
                    drained = 0;
                    std::thread::sleep(IDLE);
                }
                continue;
            }
            Err(e) => fail(&format!("recvmmsg: {e}")),
        };
        for (i, (len, from, stamp_ns)) in got.into_iter().enumerate() {
            let b = &bufs[i][..len.min(256)];
            if len < 12 || b[0] >> 6 != 2 {
                report.not_rtp += 1;
                continue;
            }
            let ts = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            let ssrc = u32::from_be_bytes([b[8], b[9], b[10], b[11]]);
            let clock_rate = 8_000u64;
            let s = streams.entry((from, ssrc)).or_insert(Stream {
                last_ns: 0,
                min_offset_ns: i128::MAX,
                ts_base: 0,
                last_ts: ts,
                late: 0,
                max_gap_ns: 0,
                packets: 0,
                keepalive_ns: 0,
            });
            if reply_mode {
                // The agent's voice, one frame for each frame heard.
                let next = replies.len() as u32;
                let r = replies.entry(from).or_insert_with(|| Reply {
                    ssrc: 0x6167_0000 ^ next,
                    seq: 0,
                    ts: 0,
                    pos: 0,
                });
                let mut packet = [0u8; REPLY_LEN];
                packet[..12].copy_from_slice(&rtp_header(REPLY_PT, r.seq, r.ts, r.ssrc));
                packet[12..].copy_from_slice(&tone[r.pos..r.pos + FRAME]);
                r.seq = r.seq.wrapping_add(1);
                r.ts = r.ts.wrapping_add(FRAME as u32);
                r.pos = (r.pos + FRAME) % tone.len();
                out.push((packet, from));
            } else if stamp_ns.saturating_sub(s.keepalive_ns) >= KEEPALIVE_NS {
                s.keepalive_ns = stamp_ns;
                keepalive_seq = keepalive_seq.wrapping_add(1);
                // PCMU silence under the probe's own SSRC; a refused send only costs this one.
                let mut packet = [0xFFu8; 172];
                let ts = u32::from(keepalive_seq) * 160;
                packet[..12].copy_from_slice(&rtp_header(0, keepalive_seq, ts, 0x7072_6f62));
                let _ = socket.send_to(&packet, from);
            }
            // Unwrap the 32-bit timestamp (forward steps only; a step back stays put).
            let step = ts.wrapping_sub(s.last_ts);
            if step < u32::MAX / 2 {
                s.ts_base += u64::from(step);
            }
            s.last_ts = ts;
            let rtp_ns = i128::from(s.ts_base) * 1_000_000_000 / i128::from(clock_rate);
            let offset = i128::from(stamp_ns) - rtp_ns;
            s.min_offset_ns = s.min_offset_ns.min(offset);
            if !measuring {
                s.last_ns = stamp_ns;
                continue;
            }
            report.packets += 1;
            s.packets += 1;
            if offset - s.min_offset_ns > LATE.as_nanos() as i128 {
                s.late += 1;
                report.late += 1;
            }
            if s.last_ns != 0 {
                let gap = stamp_ns.saturating_sub(s.last_ns);
                s.max_gap_ns = s.max_gap_ns.max(gap);
                let bucket = ((gap / 1_000 / BUCKET_US) as usize).min(BUCKETS - 1);
                report.gaps[bucket] += 1;
            }
            s.last_ns = stamp_ns;
        }
        if !out.is_empty() {
            let sent = send_batch(socket, &out);
            reply_stats.sent += sent as u64;
            reply_stats.failed += (out.len() - sent) as u64;
            out.clear();
        }
    }
}

/// One second of the agent's tone in A-law: 8,000 samples, whole periods of `REPLY_HZ`.
fn tone_table() -> Vec<u8> {
    let pcm: Vec<i16> = (0..8000)
        .map(|t| {
            let phase = 2.0 * std::f64::consts::PI * REPLY_HZ * f64::from(t) / 8000.0;
            (REPLY_AMPLITUDE * phase.sin()) as i16
        })
        .collect();
    let mut table = vec![0u8; pcm.len()];
    Codec::Pcma.encode(&pcm, &mut table);
    table
}

/// Sends each packet to its address with one `sendmmsg` (a batch of replies costs one
/// syscall, not one each: the probe shares the engine's cores). Returns how many left.
fn send_batch(socket: &UdpSocket, packets: &[([u8; REPLY_LEN], SocketAddr)]) -> usize {
    let n = packets.len().min(BATCH);
    // SAFETY: plain C structs for which all-zero is valid.
    let mut addrs: [libc::sockaddr_in; BATCH] = unsafe { zeroed() };
    let mut iovs: [libc::iovec; BATCH] = unsafe { zeroed() };
    let mut msgs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
    let mut count = 0;
    for (packet, to) in &packets[..n] {
        let SocketAddr::V4(to) = to else {
            continue;
        };
        addrs[count] = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: to.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*to.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        // The kernel only reads the buffer; the cast to `*mut` is what `iovec` asks for.
        iovs[count] = libc::iovec {
            iov_base: packet.as_ptr().cast_mut().cast(),
            iov_len: packet.len(),
        };
        count += 1;
    }
    for i in 0..count {
        let h = &mut msgs[i].msg_hdr;
        h.msg_name = (&raw mut addrs[i]).cast();
        h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        h.msg_iov = &raw mut iovs[i];
        h.msg_iovlen = 1;
    }
    // A blocking socket sends them all unless one fails: then it is skipped and the rest
    // go on (each round moves on by at least one message, so at most `count` rounds).
    let (mut next, mut sent) = (0, 0);
    while next < count {
        // SAFETY: every pointer in `msgs[next..count]` points at a live buffer or address of
        // the stated length.
        let rc = unsafe {
            libc::sendmmsg(
                socket.as_raw_fd(),
                msgs[next..].as_mut_ptr(),
                (count - next) as libc::c_uint,
                0,
            )
        };
        match usize::try_from(rc) {
            Ok(n) if n > 0 => {
                sent += n;
                next += n;
            }
            _ => next += 1,
        }
    }
    sent
}

/// Prints the window's figures, one line each.
fn print_report(
    report: &Report,
    streams: &HashMap<(SocketAddr, u32), Stream>,
    window: f64,
    drops: u64,
) {
    let n: u64 = report.gaps.iter().sum();
    let pct = |q: f64| -> f64 {
        let target = ((n as f64) * q).ceil() as u64;
        let mut seen = 0;
        for (i, c) in report.gaps.iter().enumerate() {
            seen += c;
            if seen >= target.max(1) {
                return (i as u64 * BUCKET_US) as f64 / 1000.0 + BUCKET_US as f64 / 2000.0;
            }
        }
        f64::NAN
    };
    let over = |ms: u64| -> u64 {
        report.gaps[((ms * 1000 / BUCKET_US) as usize).min(BUCKETS - 1)..]
            .iter()
            .sum()
    };
    let max_gap = streams.values().map(|s| s.max_gap_ns).max().unwrap_or(0);
    let streams_late = streams.values().filter(|s| s.late > 0).count();
    let streams_gap40 = streams
        .values()
        .filter(|s| s.max_gap_ns > 40_000_000)
        .count();
    println!("probe: streams {} packets {} in {window:.1}s = {:.0} packets/s; not RTP {}; kernel drops at the probe {}",
        streams.len(), report.packets, report.packets as f64 / window, report.not_rtp, drops);
    println!(
        "probe: gaps p50 {:.2} ms p99 {:.2} ms p99.9 {:.2} ms max {:.1} ms; gaps > 22 ms {} > 30 ms {} > 40 ms {} (of {n})",
        pct(0.50),
        pct(0.99),
        pct(0.999),
        max_gap as f64 / 1e6,
        over(22),
        over(30),
        over(40)
    );
    println!(
        "probe: packets later than 10 ms after their due instant {} ({:.3} %); streams with a late packet {}, with a gap > 40 ms {}",
        report.late,
        100.0 * report.late as f64 / report.packets.max(1) as f64,
        streams_late,
        streams_gap40
    );
}

/// An RTP version 2 header: no padding, extension, CSRC or marker.
fn rtp_header(payload_type: u8, seq: u16, ts: u32, ssrc: u32) -> [u8; 12] {
    let mut h = [0u8; 12];
    h[0] = 0x80;
    h[1] = payload_type;
    h[2..4].copy_from_slice(&seq.to_be_bytes());
    h[4..8].copy_from_slice(&ts.to_be_bytes());
    h[8..12].copy_from_slice(&ssrc.to_be_bytes());
    h
}

fn fail(msg: &str) -> ! {
    eprintln!("rtp-probe: {msg}");
    std::process::exit(1);
}

fn realtime_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// A UDP socket bound to `listen` with `SO_REUSEPORT`, so several can share it.
fn bind_shared(listen: SocketAddr) -> io::Result<UdpSocket> {
    use std::os::fd::FromRawFd;
    let SocketAddr::V4(v4) = listen else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "IPv4 only"));
    };
    // SAFETY: no pointers; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a descriptor just created and owned by nothing else.
    let socket = unsafe { UdpSocket::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: v4.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*v4.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: a valid fd, and pointers to live values of the stated lengths.
    let ok = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEPORT,
            (&raw const one).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
            && libc::bind(
                fd,
                (&raw const addr).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            ) == 0
    };
    if ok {
        Ok(socket)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Kernel receive stamps and a large receive buffer (a probe that falls behind or sleeps
/// loses nothing but its CPU).
fn setup(socket: &UdpSocket) -> io::Result<()> {
    let fd = socket.as_raw_fd();
    let set = |level, name, value: libc::c_int| -> io::Result<()> {
        // SAFETY: a valid fd and a pointer to a c_int of the given length.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (&raw const value).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    set(libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)?;
    // Root may exceed rmem_max; otherwise the ordinary option (capped by the kernel).
    if set(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 256 << 20).is_err() {
        set(libc::SOL_SOCKET, libc::SO_RCVBUF, 256 << 20)?;
    }
    Ok(())
}

/// Up to `BATCH` datagrams: (length, source, kernel receive time in ns since the epoch).
fn recv_batch(
    socket: &UdpSocket,
    bufs: &mut [[u8; 256]],
) -> io::Result<Vec<(usize, SocketAddr, u64)>> {
    // SAFETY: plain C structs for which all-zero is valid.
    let mut addrs: [libc::sockaddr_in; BATCH] = unsafe { zeroed() };
    let mut iovs: Vec<libc::iovec> = bufs
        .iter_mut()
        .map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        })
        .collect();
    let mut controls = [[0u64; 8]; BATCH];
    // SAFETY: as above.
    let mut msgs: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
    for i in 0..BATCH {
        let h = &mut msgs[i].msg_hdr;
        h.msg_name = (&raw mut addrs[i]).cast();
        h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
        h.msg_iov = &raw mut iovs[i];
        h.msg_iovlen = 1;
        h.msg_control = controls[i].as_mut_ptr().cast();
        h.msg_controllen = size_of::<[u64; 8]>() as _;
    }
    // Takes what is queued without blocking.
    // SAFETY: every pointer in `msgs` points at a live buffer of the stated length.
    let n = unsafe {
        libc::recvmmsg(
            socket.as_raw_fd(),
            msgs.as_mut_ptr(),
            BATCH as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    let Ok(n) = usize::try_from(n) else {
        let e = io::Error::last_os_error();
        return Err(if e.raw_os_error() == Some(libc::EAGAIN) {
            io::ErrorKind::WouldBlock.into()
        } else {
            e
        });
    };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let a = &addrs[i];
        let from = SocketAddr::from((
            std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
            u16::from_be(a.sin_port),
        ));
        let mut stamp = 0u64;
        // SAFETY: the kernel filled this message's control buffer up to `msg_controllen`.
        unsafe {
            let h = &raw const msgs[i].msg_hdr;
            let mut c = libc::CMSG_FIRSTHDR(h);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    stamp = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
                }
                c = libc::CMSG_NXTHDR(h, c);
            }
        }
        if stamp == 0 {
            stamp = realtime_ns();
        }
        out.push((msgs[i].msg_len as usize, from, stamp));
    }
    Ok(out)
}

/// The kernel's drop counter for the probe's UDP socket (`/proc/net/udp`, last column).
fn socket_drops(port: u16) -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/net/udp") else {
        return 0;
    };
    let hex = format!(":{port:04X}");
    text.lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|local| local.ends_with(&hex))
        })
        .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .sum()
}
