//! In-band DTMF detection (for gateways that send no RFC 4733 events) with the Goertzel
//! algorithm on 8 kHz PCM.
//!
//! Windows of 205 samples (25.6 ms, the classic size: ~39 Hz resolution separates the DTMF
//! frequencies) overlap by half. A window holds a key when one row and one column tone are
//! loud enough, within the allowed twist, clearly above the other tones of their group, and
//! together carry most of the window's energy — the last test is what rejects speech and
//! music, whose energy is spread over many frequencies. A key must hold for `min_hits`
//! consecutive windows (~40–50 ms) and is reported once, after `release_misses` windows
//! without it (the inter-digit gap), with its start sample and duration.

use std::collections::VecDeque;
use std::f32::consts::PI;

use super::{DetectedDigit, Digit, DigitTime};

const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[Digit; 4]; 4] = [
    [Digit::D1, Digit::D2, Digit::D3, Digit::A],
    [Digit::D4, Digit::D5, Digit::D6, Digit::B],
    [Digit::D7, Digit::D8, Digit::D9, Digit::C],
    [Digit::Star, Digit::D0, Digit::Pound, Digit::D],
];

/// Thresholds of the tone detector. The defaults follow ITU-T Q.24 practice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneDetectorConfig {
    /// Samples per analysis window.
    pub window: usize,
    /// Samples between window starts.
    pub hop: usize,
    /// Minimum amplitude of each tone, in 16-bit sample units (800 ≈ −32 dBFS, below the
    /// −26 dBm0 a receiver must accept).
    pub min_amplitude: f32,
    /// How much louder the row tone may be than the column tone (dB).
    pub max_normal_twist_db: f32,
    /// How much louder the column tone may be than the row tone (dB).
    pub max_reverse_twist_db: f32,
    /// How far (dB) the strongest tone of a group must stand above the next one.
    pub min_peak_margin_db: f32,
    /// Fraction of the window's energy the two tones must carry (1.0 for a pure pair).
    pub min_tone_fraction: f32,
    /// Consecutive windows a key must be seen in before it counts.
    pub min_hits: u32,
    /// Consecutive windows without the key that end it.
    pub release_misses: u32,
}

impl Default for ToneDetectorConfig {
    fn default() -> Self {
        ToneDetectorConfig {
            window: 205,
            hop: 102,
            min_amplitude: 800.0,
            max_normal_twist_db: 8.0,
            max_reverse_twist_db: 4.0,
            min_peak_margin_db: 10.0,
            min_tone_fraction: 0.75,
            min_hits: 2,
            release_misses: 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Candidate {
        digit: Digit,
        start: u64,
        hits: u32,
    },
    Active {
        digit: Digit,
        start: u64,
        end: u64,
        misses: u32,
    },
}

/// Per-call in-band detector: feed decoded 8 kHz samples, drain `poll_digit`.
#[derive(Debug)]
pub struct ToneDetector {
    config: ToneDetectorConfig,
    coeffs: [f32; 8],
    pending: Vec<f32>,
    /// Sample index of `pending[0]` since the detector started.
    position: u64,
    state: State,
    out: VecDeque<DetectedDigit>,
}

impl Default for ToneDetector {
    fn default() -> Self {
        Self::new(ToneDetectorConfig::default())
    }
}

/// The Goertzel recurrence's coefficient for `freq` Hz at 8 kHz.
fn goertzel_coeff(freq: f32) -> f32 {
    2.0 * (2.0 * PI * freq / 8000.0).cos()
}

/// The amplitude (in sample units) of the `freq` Hz component of 8 kHz `pcm`, by the same
/// Goertzel filter the detector runs: a pure tone of amplitude A gives about A. For tests
/// and diagnostics of mixed audio (the conference mixer's tests).
pub fn goertzel_amplitude(pcm: &[i16], freq: f32) -> f32 {
    let coeff = goertzel_coeff(freq);
    let (mut a, mut b) = (0f32, 0f32);
    for &v in pcm {
        let s = f32::from(v) + coeff * a - b;
        b = a;
        a = s;
    }
    let power = a * a + b * b - coeff * a * b;
    2.0 * power.max(0.0).sqrt() / pcm.len().max(1) as f32
}

impl ToneDetector {
    /// A detector with the given thresholds.
    pub fn new(config: ToneDetectorConfig) -> Self {
        let mut coeffs = [0.0; 8];
        for (c, &f) in coeffs.iter_mut().zip(ROWS.iter().chain(COLS.iter())) {
            *c = goertzel_coeff(f);
        }
        ToneDetector {
            config,
            coeffs,
            pending: Vec::with_capacity(config.window + 160),
            position: 0,
            state: State::Idle,
            out: VecDeque::new(),
        }
    }

    /// Feeds the next samples of the stream (any chunk size, e.g. one 20 ms frame).
    pub fn handle_samples(&mut self, pcm: &[i16]) {
        self.pending.extend(pcm.iter().map(|&s| f32::from(s)));
        let (window, hop) = (self.config.window, self.config.hop.max(1));
        while self.pending.len() >= window {
            let found = self.analyse(&self.pending[..window]);
            self.step(found, self.position, self.position + window as u64);
            self.pending.drain(..hop);
            self.position += hop as u64;
        }
    }

    /// Ends the stream: reports a key still held.
    pub fn flush(&mut self) {
        if let State::Active { .. } = self.state {
            self.emit();
        }
        self.state = State::Idle;
    }

    /// The next detected key press.
    #[must_use]
    pub fn poll_digit(&mut self) -> Option<DetectedDigit> {
        self.out.pop_front()
    }

    /// The key present in one window, if any.
    fn analyse(&self, x: &[f32]) -> Option<Digit> {
        let c = &self.config;
        let n = x.len() as f32;
        let energy: f32 = x.iter().map(|v| v * v).sum();
        // Cauchy–Schwarz: no tone's Goertzel power exceeds N·energy, so a window this quiet
        // cannot hold two tones of the minimum amplitude (power (A·N/2)² each).
        let quietest = c.min_amplitude * n / 2.0;
        if energy <= 0.0 || n * energy < quietest * quietest {
            return None;
        }
        // The eight filters run side by side: each is a serial recurrence, and interleaving
        // them lets the CPU overlap the chains (this runs on every caller packet, also while
        // the call is bridged). Each filter's arithmetic is unchanged.
        let (mut s1, mut s2) = ([0f32; 8], [0f32; 8]);
        for &v in x {
            for ((a, b), &coeff) in s1.iter_mut().zip(s2.iter_mut()).zip(&self.coeffs) {
                let s = v + coeff * *a - *b;
                *b = *a;
                *a = s;
            }
        }
        let mut power = [0f32; 8];
        for (((p, &a), &b), &coeff) in power.iter_mut().zip(&s1).zip(&s2).zip(&self.coeffs) {
            *p = a * a + b * b - coeff * a * b;
        }
        let best = |group: &[f32]| -> (usize, f32, f32) {
            let mut idx = 0;
            for i in 1..group.len() {
                if group[i] > group[idx] {
                    idx = i;
                }
            }
            let second = group
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != idx)
                .map(|(_, p)| *p)
                .fold(0f32, f32::max);
            (idx, group[idx], second)
        };
        let (ri, rp, r2) = best(&power[..4]);
        let (ci, cp, c2) = best(&power[4..]);
        // A pure tone of amplitude A gives power (A·N/2)².
        let amp = |p: f32| 2.0 * p.sqrt() / n;
        if amp(rp) < c.min_amplitude || amp(cp) < c.min_amplitude {
            return None;
        }
        let db = |a: f32, b: f32| 10.0 * (a / b.max(f32::MIN_POSITIVE)).log10();
        let twist = db(rp, cp);
        if twist > c.max_normal_twist_db || -twist > c.max_reverse_twist_db {
            return None;
        }
        if db(rp, r2) < c.min_peak_margin_db || db(cp, c2) < c.min_peak_margin_db {
            return None;
        }
        // Tone powers over the window's energy, normalised so a pure pair scores ~1.
        if (rp + cp) / (energy * n / 2.0) < c.min_tone_fraction {
            return None;
        }
        Some(KEYS[ri][ci])
    }

    fn step(&mut self, found: Option<Digit>, win_start: u64, win_end: u64) {
        let c = self.config;
        self.state = match (self.state, found) {
            (State::Idle, None) => State::Idle,
            (State::Candidate { .. }, None) => State::Idle,
            (State::Idle, Some(d)) => Self::candidate(d, win_start, win_end, c.min_hits),
            (
                State::Candidate {
                    digit, start, hits, ..
                },
                Some(d),
            ) if d == digit => {
                if hits + 1 >= c.min_hits {
                    State::Active {
                        digit,
                        start,
                        end: win_end,
                        misses: 0,
                    }
                } else {
                    State::Candidate {
                        digit,
                        start,
                        hits: hits + 1,
                    }
                }
            }
            (State::Candidate { .. }, Some(d)) => {
                Self::candidate(d, win_start, win_end, c.min_hits)
            }
            (State::Active { digit, start, .. }, Some(d)) if d == digit => State::Active {
                digit,
                start,
                end: win_end,
                misses: 0,
            },
            (State::Active { .. }, Some(d)) => {
                self.emit();
                Self::candidate(d, win_start, win_end, c.min_hits)
            }
            (
                State::Active {
                    digit,
                    start,
                    end,
                    misses,
                },
                None,
            ) => {
                if misses + 1 >= c.release_misses {
                    self.emit();
                    State::Idle
                } else {
                    State::Active {
                        digit,
                        start,
                        end,
                        misses: misses + 1,
                    }
                }
            }
        };
    }

    fn candidate(digit: Digit, start: u64, end: u64, min_hits: u32) -> State {
        if min_hits <= 1 {
            State::Active {
                digit,
                start,
                end,
                misses: 0,
            }
        } else {
            State::Candidate {
                digit,
                start,
                hits: 1,
            }
        }
    }

    fn emit(&mut self) {
        if let State::Active {
            digit, start, end, ..
        } = self.state
        {
            self.out.push_back(DetectedDigit {
                digit,
                at: DigitTime::Sample(start),
                duration_samples: u32::try_from(end - start).unwrap_or(u32::MAX),
            });
        }
    }
}

/// Test signals, shared with the prompt tests: DTMF tones and speech-like sounds.
#[cfg(test)]
pub(crate) mod signals {
    use super::*;

    /// `ms` milliseconds of the key's two tones, each at `amp` (16-bit units).
    pub fn dtmf(digit: Digit, ms: u32, row_amp: f32, col_amp: f32) -> Vec<i16> {
        let code = digit.event_code();
        let (r, c) = (0..4)
            .flat_map(|r| (0..4).map(move |c| (r, c)))
            .find(|&(r, c)| KEYS[r][c].event_code() == code)
            .unwrap_or((0, 0));
        let n = (ms * 8) as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / 8000.0;
                let v = row_amp * (2.0 * PI * ROWS[r] * t).sin()
                    + col_amp * (2.0 * PI * COLS[c] * t).sin();
                v as i16
            })
            .collect()
    }

    /// A vowel-like sound: harmonics of a gliding pitch shaped by two formants.
    pub fn vowel(ms: u32, f0_from: f32, f0_to: f32, formants: (f32, f32)) -> Vec<i16> {
        let n = (ms * 8) as usize;
        let mut phase = 0f32;
        (0..n)
            .map(|i| {
                let f0 = f0_from + (f0_to - f0_from) * i as f32 / n as f32;
                phase += 2.0 * PI * f0 / 8000.0;
                let mut v = 0f32;
                let mut h = 1.0f32;
                while h * f0 < 3800.0 {
                    let f = h * f0;
                    let g = (-((f - formants.0) / 150.0).powi(2)).exp()
                        + 0.7 * (-((f - formants.1) / 200.0).powi(2)).exp()
                        + 0.05;
                    v += g * (h * phase).sin();
                    h += 1.0;
                }
                (v * 3000.0).clamp(-32000.0, 32000.0) as i16
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::signals::{dtmf, vowel};
    use super::*;
    use crate::media::codec::Codec;

    fn detect(pcm: &[i16]) -> Vec<DetectedDigit> {
        let mut d = ToneDetector::default();
        for chunk in pcm.chunks(160) {
            d.handle_samples(chunk);
        }
        d.flush();
        std::iter::from_fn(|| d.poll_digit()).collect()
    }

    fn keys(found: &[DetectedDigit]) -> String {
        found.iter().map(|d| d.digit.as_char()).collect()
    }

    /// Through G.711 and back, as the detector will really see it.
    fn through(codec: Codec, pcm: &[i16]) -> Vec<i16> {
        pcm.iter()
            .map(|&s| codec.decode_sample(codec.encode_sample(s)))
            .collect()
    }

    #[test]
    fn detects_all_sixteen_keys_through_g711() {
        let mut pcm = Vec::new();
        for d in "0123456789*#ABCD".chars().filter_map(Digit::from_char) {
            pcm.extend(dtmf(d, 80, 6000.0, 6000.0));
            pcm.extend(std::iter::repeat_n(0i16, 640)); // 80 ms gap
        }
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let found = detect(&through(codec, &pcm));
            assert_eq!(keys(&found), "0123456789*#ABCD", "{codec:?}");
        }
    }

    #[test]
    fn reports_start_sample_and_duration() {
        let mut pcm = vec![0i16; 800]; // 100 ms silence
        pcm.extend(dtmf(Digit::D5, 200, 5000.0, 5000.0));
        pcm.extend(vec![0i16; 800]);
        let found = detect(&pcm);
        assert_eq!(found.len(), 1);
        let DigitTime::Sample(start) = found[0].at else {
            panic!("in-band digits carry sample positions");
        };
        assert!((800..=800 + 102).contains(&start), "start {start}");
        let dur = found[0].duration_samples;
        assert!((1400..=1700).contains(&dur), "duration {dur}");
    }

    #[test]
    fn fast_dialing_with_short_tones_and_gaps() {
        // 50 ms on / 50 ms off, quieter column (normal twist 4 dB), with background noise.
        let mut pcm = Vec::new();
        for d in "13579#".chars().filter_map(Digit::from_char) {
            pcm.extend(dtmf(d, 50, 4000.0, 2500.0));
            pcm.extend(vec![0i16; 400]);
        }
        let mut seed = 1u32;
        for s in &mut pcm {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *s = s.saturating_add(((seed >> 16) % 200) as i16 - 100);
        }
        assert_eq!(keys(&detect(&pcm)), "13579#");
    }

    #[test]
    fn too_short_too_quiet_and_twisted_tones_are_rejected() {
        assert!(
            detect(&dtmf(Digit::D1, 20, 6000.0, 6000.0)).is_empty(),
            "20 ms"
        );
        assert!(
            detect(&dtmf(Digit::D1, 200, 300.0, 300.0)).is_empty(),
            "quiet"
        );
        assert!(
            detect(&dtmf(Digit::D1, 200, 8000.0, 2000.0)).is_empty(),
            "12 dB normal twist"
        );
        assert!(
            detect(&dtmf(Digit::D1, 200, 2000.0, 5000.0)).is_empty(),
            "8 dB reverse twist"
        );
    }

    #[test]
    fn a_held_key_is_one_digit_and_a_repeat_after_a_gap_is_two() {
        let mut pcm = dtmf(Digit::D8, 1000, 5000.0, 5000.0);
        pcm.extend(vec![0i16; 400]);
        pcm.extend(dtmf(Digit::D8, 100, 5000.0, 5000.0));
        assert_eq!(keys(&detect(&pcm)), "88");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_samples_in_arbitrary_chunks_never_panic(
            pcm in proptest::collection::vec(proptest::prelude::any::<i16>(), 0..3000),
            chunk in 1usize..400,
        ) {
            let mut d = ToneDetector::default();
            for c in pcm.chunks(chunk) {
                d.handle_samples(c);
            }
            d.flush();
            while d.poll_digit().is_some() {}
        }
    }

    #[test]
    fn no_digits_from_speech_like_sounds_or_single_tones() {
        let mut pcm = Vec::new();
        for (f0a, f0b, formants) in [
            (110.0, 140.0, (700.0, 1200.0)), // /a/, male
            (220.0, 180.0, (300.0, 2300.0)), // /i/, female
            (130.0, 100.0, (450.0, 900.0)),  // /o/
            (240.0, 300.0, (850.0, 1350.0)), // formants right on DTMF rows/columns
            (174.25, 174.25, (697.0, 1394.0)),
        ] {
            pcm.extend(vowel(400, f0a, f0b, formants));
        }
        // Dial tone (450 Hz, China) and a ring-back-like pair that is not a DTMF pair.
        let tone = |f: f32, ms: u32| -> Vec<i16> {
            (0..ms * 8)
                .map(|i| (8000.0 * (2.0 * PI * f * i as f32 / 8000.0).sin()) as i16)
                .collect()
        };
        pcm.extend(tone(450.0, 500));
        pcm.extend(tone(697.0, 500));
        pcm.extend(tone(1336.0, 500));
        assert_eq!(keys(&detect(&pcm)), "");
    }
}
