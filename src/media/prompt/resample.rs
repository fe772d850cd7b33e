//! Sample-rate conversion to 8 kHz with a polyphase windowed-sinc low-pass filter.
//!
//! Written here rather than taken from `rubato`: prompts are converted once at load time, only
//! ever *to* 8 kHz, from a rational rate (44.1, 48, 22.05, 16 kHz…), so an exact polyphase
//! filter (one precomputed tap set per phase) is ~100 lines, and a dependency with its own
//! FFT stack would buy nothing on this path.

use std::f64::consts::PI;

/// The output rate.
pub const TARGET_RATE: u32 = 8000;
/// Zero crossings of the sinc on each side: 16 gives a steep enough transition band.
const ZERO_CROSSINGS: f64 = 16.0;
/// Pass band edge as a fraction of the lower Nyquist frequency (3.8 kHz when going to 8 kHz):
/// the telephone band ends at 3.4 kHz, so the transition band sits above everything we keep.
const PASS_FRACTION: f64 = 0.95;
/// Phases beyond this are quantised (odd rates like 44 101 Hz): error < 1/2048 of a sample.
const MAX_PHASES: u64 = 1024;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Blackman window on [-1, 1] (−74 dB side lobes, enough for 8-bit G.711 output).
fn blackman(x: f64) -> f64 {
    if x.abs() >= 1.0 {
        0.0
    } else {
        0.42 + 0.5 * (PI * x).cos() + 0.08 * (2.0 * PI * x).cos()
    }
}

/// Converts mono `input` at `rate` Hz to 8 kHz. `rate == 8000` is a copy.
pub fn to_8k(input: &[f32], rate: u32) -> Vec<f32> {
    if rate == TARGET_RATE || input.is_empty() || rate == 0 {
        return input.to_vec();
    }
    let g = gcd(u64::from(rate), u64::from(TARGET_RATE));
    let up = u64::from(TARGET_RATE) / g; // L: output steps per common tick
    let down = u64::from(rate) / g; // M: input steps per common tick
    let phases = up.min(MAX_PHASES);

    // Cutoff in cycles per input sample, below the lower of the two Nyquist frequencies.
    let nyquist = f64::from(rate.min(TARGET_RATE)) / 2.0;
    let fc = nyquist * PASS_FRACTION / f64::from(rate);
    let half_width = ZERO_CROSSINGS / (2.0 * fc); // in input samples
    let reach = half_width.ceil() as i64;
    let taps = (2 * reach) as usize;

    // bank[p][i] weights input sample (ip - reach + 1 + i) for an output at ip + p/phases.
    let bank: Vec<Vec<f32>> = (0..phases)
        .map(|p| {
            let frac = p as f64 / phases as f64;
            let mut h: Vec<f64> = (0..taps)
                .map(|i| {
                    let d = frac - (i as f64 - (reach - 1) as f64);
                    let x = 2.0 * fc * d;
                    let sinc = if x.abs() < 1e-12 {
                        1.0
                    } else {
                        (PI * x).sin() / (PI * x)
                    };
                    2.0 * fc * sinc * blackman(d / half_width)
                })
                .collect();
            let sum: f64 = h.iter().sum();
            if sum.abs() > 1e-12 {
                h.iter_mut().for_each(|v| *v /= sum); // unity gain at DC for every phase
            }
            h.into_iter().map(|v| v as f32).collect()
        })
        .collect();

    let out_len = (input.len() as u64 * up).div_ceil(down) as usize;
    let mut out = Vec::with_capacity(out_len);
    let last = input.len() as i64 - 1;
    for n in 0..out_len as u64 {
        let pos = n * down; // in units of 1/up input samples
        let mut ip = (pos / up) as i64;
        let mut phase = (pos % up) * phases / up;
        if up > phases {
            // Quantised phase: round to nearest instead of truncating.
            let exact = (pos % up) as f64 * phases as f64 / up as f64;
            phase = exact.round() as u64;
            if phase == phases {
                phase = 0;
                ip += 1;
            }
        }
        let h = &bank[phase as usize];
        let first = ip - reach + 1;
        let mut acc = 0.0f32;
        if first >= 0 && first + taps as i64 - 1 <= last {
            let s = &input[first as usize..first as usize + taps];
            for (x, w) in s.iter().zip(h) {
                acc += x * w;
            }
        } else {
            // Edges: samples outside the signal count as silence.
            for (i, w) in h.iter().enumerate() {
                let j = first + i as i64;
                if (0..=last).contains(&j) {
                    acc += input[j as usize] * w;
                }
            }
        }
        out.push(acc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, secs: f64, amp: f32) -> Vec<f32> {
        let n = (f64::from(rate) * secs) as usize;
        (0..n)
            .map(|i| amp * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin() as f32)
            .collect()
    }

    /// RMS of the middle half, away from the edges.
    fn rms_mid(x: &[f32]) -> f32 {
        let s = &x[x.len() / 4..3 * x.len() / 4];
        (s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32).sqrt()
    }

    #[test]
    fn keeps_the_voice_band_and_the_length() {
        for rate in [11025, 16000, 22050, 44100, 48000, 6000] {
            let x = sine(1000.0, rate, 0.5, 0.5);
            let y = to_8k(&x, rate);
            assert!(
                y.len().abs_diff(4000) <= 1,
                "rate {rate}: {} samples",
                y.len()
            );
            let r = rms_mid(&y);
            assert!((r - 0.5 / 2f32.sqrt()).abs() < 0.01, "rate {rate}: rms {r}");
        }
    }

    #[test]
    fn removes_what_would_alias() {
        // 6 kHz at 48 kHz would fold to 2 kHz with nearest-sample decimation.
        for (freq, rate) in [(6000.0, 48000), (5000.0, 44100), (4700.0, 16000)] {
            let y = to_8k(&sine(freq, rate, 0.5, 0.5), rate);
            let r = rms_mid(&y);
            assert!(r < 0.35 * 0.01, "{freq} Hz at {rate}: rms {r} not < -40 dB");
        }
    }

    #[test]
    fn odd_rates_use_quantised_phases() {
        let y = to_8k(&sine(500.0, 44101, 0.5, 0.5), 44101);
        assert!((rms_mid(&y) - 0.3536).abs() < 0.01);
    }

    #[test]
    fn eight_khz_is_a_copy() {
        assert_eq!(to_8k(&[0.1, 0.2], 8000), vec![0.1, 0.2]);
    }
}
