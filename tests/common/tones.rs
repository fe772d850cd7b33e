//! What each peer of a call hears. [`ToneEndpoint`] is the RTP side of a SIPp-signalled peer:
//! SIPp does the SIP (its SDP names our port through `-key rtpport PORT`) and sends no RTP;
//! the endpoint sends a sine as G.711 every 20 ms and keeps everything it receives, decoded.
//! [`tone_levels`] measures given frequencies (Goertzel) in what a peer heard, and
//! [`assert_hears`] says in words what was heard instead of what was expected.
//!
//! Everything here is the test's own: G.711 and the RTP header are written out again rather
//! than borrowed from the engine, so a bug in the engine's codec cannot hide itself.

// Real peers run in real time: the sender paces itself by the clock.
#![allow(clippy::disallowed_methods)]
#![allow(dead_code)] // each test binary uses a different part of this

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Samples per second of G.711 and of everything measured here (unless told otherwise).
pub const RATE: u32 = 8000;
/// Samples in one 20 ms packet.
const FRAME: usize = 160;
/// The telephone-event payload type the scenarios offer (`a=rtpmap:101 telephone-event`).
const EVENT_PT: u8 = 101;

/// G.711 law: μ-law (payload type 0) or A-law (8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    Pcmu,
    Pcma,
}

impl Law {
    fn payload_type(self) -> u8 {
        match self {
            Law::Pcmu => 0,
            Law::Pcma => 8,
        }
    }
}

/// ITU-T G.711 μ-law encoding of one linear sample.
pub fn ulaw_encode(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32635;
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(CLIP) + BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && s & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (s >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// ITU-T G.711 μ-law decoding.
pub fn ulaw_decode(byte: u8) -> i16 {
    let u = !byte;
    let sign = u & 0x80;
    let exponent = i32::from((u >> 4) & 0x07);
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if sign != 0 { -magnitude } else { magnitude }) as i16
}

/// ITU-T G.711 A-law encoding of one linear sample.
pub fn alaw_encode(sample: i16) -> u8 {
    let mut s = i32::from(sample) >> 3; // 13-bit magnitude
    let sign = if s >= 0 {
        0x80
    } else {
        s = -s - 1;
        0
    };
    s = s.min(0x0FFF);
    let out = if s < 32 {
        s >> 1
    } else {
        let mut exponent = 1;
        while s >= (32 << exponent) && exponent < 7 {
            exponent += 1;
        }
        (exponent << 4) | ((s >> exponent) & 0x0F)
    };
    ((out | sign) ^ 0x55) as u8
}

/// ITU-T G.711 A-law decoding.
pub fn alaw_decode(byte: u8) -> i16 {
    let a = i32::from(byte ^ 0x55);
    let exponent = (a >> 4) & 0x07;
    let mantissa = a & 0x0F;
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    (if a & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

/// What the endpoint's thread and its owner share.
#[derive(Default)]
struct Shared {
    /// Where to send: the SDP's address once the test knows it, else the first source heard.
    peer: Option<SocketAddr>,
    /// Decoded audio received, in arrival order (telephone-events and unknown payloads skipped).
    heard: Vec<i16>,
    /// Packets received (of any payload type).
    packets_in: u64,
    /// Packets received per payload type.
    payload_types: std::collections::BTreeMap<u8, u64>,
    /// Packets sent.
    packets_out: u64,
    /// Keys still to press (RFC 4733), in order.
    digits: std::collections::VecDeque<u8>,
    /// RFC 4733 events received (payload type 101): each key once, by its first packet.
    events: Vec<u8>,
    last_event_ts: Option<u32>,
}

/// One peer's RTP: sends a sine, records what arrives. Stopped (and its thread joined) by
/// [`ToneEndpoint::stop`] or on drop; never runs longer than the `limit` it was given.
pub struct ToneEndpoint {
    port: u16,
    law: Law,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for ToneEndpoint {
    fn drop(&mut self) {
        self.stop();
    }
}

impl ToneEndpoint {
    /// Binds 127.0.0.1:0 and starts sending `freq_hz` (amplitude 8000, about -12 dBFS) as
    /// `law` every 20 ms once it knows where to (see [`ToneEndpoint::aim`]), for at most
    /// `limit`.
    pub fn start(freq_hz: f64, law: Law, limit: Duration) -> ToneEndpoint {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the endpoint's RTP socket");
        let port = socket.local_addr().expect("local addr").port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || run(socket, freq_hz, law, limit, &shared, &stop))
        };
        ToneEndpoint {
            port,
            law,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// Our RTP port: pass it to SIPp as `-key rtpport PORT` so its SDP names it.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// SIPp's arguments for a `tests/sipp/*_tone.xml` scenario: our port and payload type
    /// for its SDP (`-key rtpport`, `-key pt`), and `log` for the `engine_rtp=` line it
    /// writes (read it with [`engine_rtp_from_sipp_log`]).
    pub fn sipp_args(&self, log: &Path) -> Vec<String> {
        [
            "-key",
            "rtpport",
            &self.port.to_string(),
            "-key",
            "pt",
            &self.law.payload_type().to_string(),
            "-trace_logs",
            "-log_file",
            &log.display().to_string(),
        ]
        .map(String::from)
        .to_vec()
    }

    /// Sends to `peer` from now on (the address the engine's SDP named). Until then the
    /// endpoint answers the first source it hears (the engine's RTP is symmetric).
    pub fn aim(&self, peer: SocketAddr) {
        self.lock().peer = Some(peer);
    }

    /// Where the endpoint sends, if it knows yet.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.lock().peer
    }

    /// Presses `digit` (0-9, `*`, `#`) as an RFC 4733 event (payload type 101, 160 ms),
    /// in place of the tone for those packets.
    pub fn press(&self, digit: char) {
        let code = match digit {
            '0'..='9' => digit as u8 - b'0',
            '*' => 10,
            '#' => 11,
            other => panic!("no RFC 4733 event for {other:?}"),
        };
        self.lock().digits.push_back(code);
    }

    /// A position in what was heard so far (samples), for [`ToneEndpoint::heard_since`].
    pub fn mark(&self) -> usize {
        self.lock().heard.len()
    }

    /// Everything heard so far (8 kHz linear PCM, in arrival order).
    pub fn heard(&self) -> Vec<i16> {
        self.lock().heard.clone()
    }

    /// What was heard after `mark`.
    pub fn heard_since(&self, mark: usize) -> Vec<i16> {
        let s = self.lock();
        s.heard[mark.min(s.heard.len())..].to_vec()
    }

    /// What was heard between two marks.
    pub fn heard_between(&self, from: usize, to: usize) -> Vec<i16> {
        let s = self.lock();
        let to = to.min(s.heard.len());
        s.heard[from.min(to)..to].to_vec()
    }

    /// (packets received, packets sent), for assertion messages.
    pub fn counts(&self) -> (u64, u64) {
        let s = self.lock();
        (s.packets_in, s.packets_out)
    }

    /// The payload types received, with their packet counts (e.g. `[(8, 740)]`: A-law only),
    /// to check the engine speaks each peer's own codec.
    pub fn payload_types(&self) -> Vec<(u8, u64)> {
        self.lock()
            .payload_types
            .iter()
            .map(|(&pt, &n)| (pt, n))
            .collect()
    }

    /// The keys received as RFC 4733 events ('0'–'9', '*', '#'), in order.
    pub fn keys_heard(&self) -> String {
        self.lock()
            .events
            .iter()
            .filter_map(|&c| match c {
                0..=9 => char::from_digit(u32::from(c), 10),
                10 => Some('*'),
                11 => Some('#'),
                _ => None,
            })
            .collect()
    }

    /// Stops sending and receiving (idempotent).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The endpoint's one thread: every 20 ms send a packet, in between read what arrives.
fn run(
    socket: UdpSocket,
    freq_hz: f64,
    law: Law,
    limit: Duration,
    shared: &Mutex<Shared>,
    stop: &AtomicBool,
) {
    let lock = || shared.lock().unwrap_or_else(|p| p.into_inner());
    let started = Instant::now();
    // Distinct per endpoint without a random-number crate.
    let ssrc = std::process::id().wrapping_mul(2_654_435_761) ^ u32::from(socket_port(&socket));
    let mut seq: u16 = (ssrc >> 16) as u16;
    let mut timestamp: u32 = ssrc.rotate_left(7);
    let mut phase: u64 = 0;
    let mut first = true;
    // The key being pressed: (event code, its first timestamp, packets sent of it).
    let mut event: Option<(u8, u32, u32)> = None;
    let mut next_tick = Instant::now();
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) && started.elapsed() < limit {
        let now = Instant::now();
        if now >= next_tick {
            next_tick += Duration::from_millis(20);
            // Fell far behind (a loaded machine): do not burst to catch up.
            if now > next_tick + Duration::from_millis(200) {
                next_tick = now + Duration::from_millis(20);
            }
            let peer = lock().peer;
            if let Some(peer) = peer {
                if event.is_none() {
                    if let Some(code) = lock().digits.pop_front() {
                        event = Some((code, timestamp, 0));
                    }
                }
                let packet = match event {
                    Some((code, start, n)) => {
                        // 5 packets of a growing duration, then the end packet 3 times.
                        let end = n >= 5;
                        let duration = (FRAME as u32 * (n.min(5) + 1)) as u16;
                        let mut p = header(EVENT_PT, n == 0, seq, start, ssrc);
                        p.push(code);
                        p.push(if end { 0x80 } else { 0 } | 10);
                        p.extend_from_slice(&duration.to_be_bytes());
                        event = if n + 1 >= 8 {
                            None
                        } else {
                            Some((code, start, n + 1))
                        };
                        p
                    }
                    None => {
                        let mut p = header(law.payload_type(), first, seq, timestamp, ssrc);
                        for _ in 0..FRAME {
                            let t = phase as f64 / f64::from(RATE);
                            let v = (t * 2.0 * std::f64::consts::PI * freq_hz).sin() * 8000.0;
                            let s = v as i16;
                            p.push(match law {
                                Law::Pcmu => ulaw_encode(s),
                                Law::Pcma => alaw_encode(s),
                            });
                            phase += 1;
                        }
                        first = false;
                        p
                    }
                };
                if socket.send_to(&packet, peer).is_ok() {
                    lock().packets_out += 1;
                }
                seq = seq.wrapping_add(1);
                timestamp = timestamp.wrapping_add(FRAME as u32);
            }
        }
        let wait = next_tick
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let _ = socket.set_read_timeout(Some(wait));
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            receive(&buf[..n], from, &mut lock());
        }
    }
}

fn socket_port(socket: &UdpSocket) -> u16 {
    socket.local_addr().map(|a| a.port()).unwrap_or(0)
}

/// A 12-byte RTP header (version 2, no CSRC, no extension).
fn header(pt: u8, marker: bool, seq: u16, timestamp: u32, ssrc: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(12 + FRAME);
    p.push(0x80);
    p.push(if marker { 0x80 } else { 0 } | (pt & 0x7F));
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&timestamp.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p
}

/// Decodes one received packet into `shared.heard` (G.711 only).
fn receive(packet: &[u8], from: SocketAddr, shared: &mut Shared) {
    shared.packets_in += 1;
    if shared.peer.is_none() {
        shared.peer = Some(from);
    }
    if packet.len() < 12 || packet[0] >> 6 != 2 {
        return;
    }
    let csrc = usize::from(packet[0] & 0x0F) * 4;
    let mut start = 12 + csrc;
    if packet[0] & 0x10 != 0 {
        // Header extension: 4 bytes, then its length in 32-bit words.
        let Some(ext) = packet.get(start + 2..start + 4) else {
            return;
        };
        start += 4 + usize::from(u16::from_be_bytes([ext[0], ext[1]])) * 4;
    }
    let mut end = packet.len();
    if packet[0] & 0x20 != 0 {
        end = end.saturating_sub(usize::from(packet[end - 1]));
    }
    let Some(payload) = packet.get(start..end) else {
        return;
    };
    *shared.payload_types.entry(packet[1] & 0x7F).or_default() += 1;
    match packet[1] & 0x7F {
        0 => shared.heard.extend(payload.iter().map(|&b| ulaw_decode(b))),
        8 => shared.heard.extend(payload.iter().map(|&b| alaw_decode(b))),
        101 => {
            // One event is many packets with the same timestamp.
            let ts = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
            if let (Some(&code), true) = (payload.first(), shared.last_event_ts != Some(ts)) {
                shared.last_event_ts = Some(ts);
                shared.events.push(code);
            }
        }
        _ => {}
    }
}

/// The engine's RTP address from a SIPp `<log>` file: the scenarios log a line
/// `engine_rtp=IP:PORT` from the SDP they received; waits (bounded) for it to appear.
pub fn engine_rtp_from_sipp_log(log: &Path, limit: Duration) -> Option<SocketAddr> {
    sipp_logged(log, "engine_rtp", limit)?.parse().ok()
}

/// The first `key=VALUE` word a SIPp `<log>` file holds (e.g. `called` from
/// `uas_gateway_tone.xml`), waiting (bounded) for it to appear.
pub fn sipp_logged(log: &Path, key: &str, limit: Duration) -> Option<String> {
    let prefix = format!("{key}=");
    super::wait_for(limit, || {
        let text = std::fs::read_to_string(log).ok()?;
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(&prefix))
            .map(str::to_string)
    })
}

/// Skipped at the start of every measured stretch (jitter buffers filling, a tone starting).
const SKIP: Duration = Duration::from_millis(200);
/// Goertzel block: 100 ms, so every multiple of 10 Hz (400, 440, 600, 700, 800 …) is a bin.
const BLOCK: usize = 800;

/// The power of each of `freqs` in `pcm` (8 kHz) after its first 200 ms, in dB relative to
/// the total power of the same samples: 0 dB is "all of it is this tone", a tone that is not
/// there is far below (-40 dB or less); `-inf` when there is no signal at all.
pub fn tone_levels(pcm: &[i16], freqs: &[f64]) -> Vec<f64> {
    tone_levels_at(pcm, RATE, freqs)
}

/// [`tone_levels`] at another sample rate.
pub fn tone_levels_at(pcm: &[i16], rate: u32, freqs: &[f64]) -> Vec<f64> {
    let skip = (rate as usize * SKIP.as_millis() as usize) / 1000;
    let pcm = pcm.get(skip..).unwrap_or(&[]);
    let block = BLOCK * rate as usize / RATE as usize;
    let mut tone_power = vec![0.0f64; freqs.len()];
    let mut total = 0.0f64;
    for chunk in pcm.chunks_exact(block.max(1)) {
        let energy: f64 = chunk.iter().map(|&s| f64::from(s).powi(2)).sum();
        // A pure sine's |X(f)|² is N/2 times its energy: normalise so it reads 1.
        total += energy * chunk.len() as f64 / 2.0;
        for (p, &f) in tone_power.iter_mut().zip(freqs) {
            *p += goertzel(chunk, rate, f);
        }
    }
    tone_power
        .iter()
        .map(|&p| {
            if total <= 0.0 {
                f64::NEG_INFINITY
            } else {
                10.0 * (p / total).max(1e-30).log10()
            }
        })
        .collect()
}

/// |X(f)|² of `x` by the Goertzel recurrence.
fn goertzel(x: &[i16], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s0 = f64::from(v) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// The loudness of `pcm` in dBFS (RMS against a full-scale 16-bit sample).
pub fn rms_dbfs(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return f64::NEG_INFINITY;
    }
    let mean = pcm.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / pcm.len() as f64;
    10.0 * (mean / f64::from(i16::MAX).powi(2)).max(1e-30).log10()
}

/// How far (dB) every expected tone must stand above every unexpected one.
pub const MARGIN_DB: f64 = 20.0;
/// Every expected tone must carry at least this share (dB) of what was heard.
pub const PRESENT_DB: f64 = -15.0;

/// Fails unless `who` heard each of `expected` (each at least [`PRESENT_DB`] of the total)
/// and each of `absent` at least [`MARGIN_DB`] below the quietest expected one, with a
/// message that says what was heard: "citizen heard 600 Hz at -1 dB, 400 Hz at -62 dB …".
/// With no `expected` (a party who must hear none of `absent`, e.g. the citizen while a
/// supervisor whispers), each absent tone must be [`MARGIN_DB`] under the total, or silence.
pub fn assert_hears(who: &str, pcm: &[i16], expected: &[f64], absent: &[f64]) {
    assert_hears_at(who, pcm, RATE, expected, absent);
}

/// [`assert_hears`] at another sample rate.
pub fn assert_hears_at(who: &str, pcm: &[i16], rate: u32, expected: &[f64], absent: &[f64]) {
    match check_hears(who, pcm, rate, expected, absent) {
        // Shown with `--nocapture`: the figures behind a pass.
        Ok(report) => eprintln!("ok: {report}"),
        Err(report) => panic!("{report}"),
    }
}

/// The judgement of [`assert_hears_at`] without the panic: `Ok` or `Err` with the same words.
pub fn check_hears(
    who: &str,
    pcm: &[i16],
    rate: u32,
    expected: &[f64],
    absent: &[f64],
) -> Result<String, String> {
    let freqs: Vec<f64> = expected.iter().chain(absent).copied().collect();
    let levels = tone_levels_at(pcm, rate, &freqs);
    let report = freqs
        .iter()
        .zip(&levels)
        .map(|(f, l)| format!("{f:.0} Hz at {l:.0} dB"))
        .collect::<Vec<_>>()
        .join(", ");
    let seconds = pcm.len() as f64 / f64::from(rate);
    let want = |fs: &[f64]| {
        fs.iter()
            .map(|f| format!("{f:.0}"))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let message = format!(
        "{who} heard {report} (of {seconds:.1} s at {:.0} dBFS): expected {} and not {}",
        rms_dbfs(pcm),
        want(expected),
        if absent.is_empty() {
            "-".to_string()
        } else {
            want(absent)
        },
    );
    let (exp, abs) = levels.split_at(expected.len());
    // 0 dB is the total: with nothing expected, absent tones are judged against it.
    let quietest = exp.iter().copied().fold(0.0, f64::min);
    if !exp.iter().all(|&l| l >= PRESENT_DB) {
        return Err(format!(
            "{message} (an expected tone is under {PRESENT_DB} dB of the total)"
        ));
    }
    if !abs.iter().all(|&l| l <= quietest - MARGIN_DB) {
        return Err(format!(
            "{message} (an unexpected tone is within {MARGIN_DB} dB of the expected)"
        ));
    }
    Ok(message)
}

/// Which of `freqs` dominates each `window` of `pcm` (8 kHz): `Some(f)` when `f` carries at
/// least half the window's power, `None` for silence or anything else (prompts, a mix).
pub fn dominant_tones(pcm: &[i16], window: Duration, freqs: &[f64]) -> Vec<Option<f64>> {
    let n = (RATE as usize * window.as_millis() as usize / 1000).max(BLOCK);
    pcm.chunks(n)
        .map(|w| {
            // `tone_levels` skips 200 ms: hand it the window with that much in front.
            let skip = (RATE as usize * SKIP.as_millis() as usize) / 1000;
            let mut padded = vec![0i16; skip];
            padded.extend_from_slice(w);
            let levels = tone_levels(&padded, freqs);
            if rms_dbfs(w) < -60.0 {
                return None;
            }
            freqs
                .iter()
                .zip(&levels)
                .find(|(_, &l)| l >= -3.0)
                .map(|(&f, _)| f)
        })
        .collect()
}

/// A stereo 16-bit WAV (the engine's recordings) as (left, right, sample rate).
pub fn read_stereo_wav(path: &Path) -> (Vec<i16>, Vec<i16>, u32) {
    let mut wav = hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("{}: not a readable WAV: {e}", path.display()));
    let spec = wav.spec();
    assert_eq!(spec.channels, 2, "{}: not stereo", path.display());
    let samples: Vec<i16> = wav.samples::<i16>().map_while(Result::ok).collect();
    let left = samples.iter().step_by(2).copied().collect();
    let right = samples.iter().skip(1).step_by(2).copied().collect();
    (left, right, spec.sample_rate)
}

/// The 16-bit PCM samples and rate of a WAV file, even one still being written (its header's
/// sizes still 0, as a live baresip `sndfile` dump has): everything after the `data` chunk
/// header is taken. Mono, or the first channel of more.
pub fn read_wav_lenient(path: &Path) -> Option<(Vec<i16>, u32)> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.get(0..4)? != b"RIFF" || bytes.get(8..12)? != b"WAVE" {
        return None;
    }
    let mut at = 12;
    let (mut rate, mut channels, mut bits) = (0u32, 1usize, 16u16);
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().ok()?) as usize;
        let body = at + 8;
        if id == b"fmt " {
            let f = bytes.get(body..body + 16)?;
            channels = usize::from(u16::from_le_bytes([f[2], f[3]])).max(1);
            rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
            bits = u16::from_le_bytes([f[14], f[15]]);
        } else if id == b"data" {
            if bits != 16 {
                return None;
            }
            let data = &bytes[body..];
            let end = if len == 0 || body + len > bytes.len() {
                data.len()
            } else {
                len
            };
            let samples = data[..end - end % (2 * channels)]
                .chunks_exact(2 * channels)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
            return Some((samples, rate));
        }
        at = body + len + len % 2;
    }
    None
}

/// 20 s of `hz` at 48 kHz, mono 16-bit: Chromium's fake microphone loops it.
pub fn microphone_wav(path: &std::path::Path, hz: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("tone file");
    for i in 0..48000 * 20 {
        let v = (f64::from(i) * 2.0 * std::f64::consts::PI * hz / 48000.0).sin() * 12000.0;
        w.write_sample(v as i16).expect("sample");
    }
    w.finalize().expect("tone written");
}
