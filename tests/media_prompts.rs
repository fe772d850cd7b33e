//! Every shipped voice prompt decodes, has a sensible length, and never looks like a key press
//! to the in-band DTMF detector (an echo of our own prompt must not navigate the menu).

use std::path::Path;
use std::time::Duration;

use hotline::media::codec::{Codec, FRAME_SAMPLES};
use hotline::media::dtmf::ToneDetector;
use hotline::media::prompt::Prompt;

/// (file, shortest, longest) — the IVR and the callback robot reference these names.
const PROMPTS: &[(&str, f64, f64)] = &[
    ("greeting.wav", 2.0, 10.0),
    ("main-menu.wav", 4.0, 20.0),
    ("special-menu.wav", 4.0, 20.0),
    ("invalid-key.wav", 1.0, 8.0),
    ("no-input.wav", 1.0, 8.0),
    ("transfer.wav", 1.0, 8.0),
    ("queue-position-prefix.wav", 0.4, 4.0),
    ("queue-position-suffix.wav", 2.0, 12.0),
    ("digit-0.wav", 0.2, 1.5),
    ("digit-1.wav", 0.2, 1.5),
    ("digit-2.wav", 0.2, 1.5),
    ("digit-3.wav", 0.2, 1.5),
    ("digit-4.wav", 0.2, 1.5),
    ("digit-5.wav", 0.2, 1.5),
    ("digit-6.wav", 0.2, 1.5),
    ("digit-7.wav", 0.2, 1.5),
    ("digit-8.wav", 0.2, 1.5),
    ("digit-9.wav", 0.2, 1.5),
    ("hold-music.ogg", 15.0, 25.0),
    // The callback robot (ivr-menus/callback.toml).
    ("robot-identify.wav", 3.0, 10.0),
    ("robot-consent.wav", 3.0, 15.0),
    ("robot-contacted.wav", 4.0, 15.0),
    ("robot-solved.wav", 4.0, 15.0),
    ("robot-rating.wav", 4.0, 15.0),
    ("robot-reason.wav", 3.0, 15.0),
    ("robot-thanks.wav", 3.0, 15.0),
    ("robot-goodbye.wav", 3.0, 15.0),
    // Integrated numbers' notices ([numbers.<n>] in config/hotline.toml): within max_greeting.
    ("notice-12315.wav", 2.0, 10.0),
    ("notice-12333.wav", 2.0, 10.0),
];

fn load(name: &str) -> std::sync::Arc<Prompt> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("ivr-menus/prompts")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Prompt::decode(name, &bytes).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_shipped_prompt_decodes_within_its_duration_bounds() {
    for &(name, min, max) in PROMPTS {
        let p = load(name);
        let secs = p.duration().as_secs_f64();
        assert!(
            (min..=max).contains(&secs),
            "{name}: {secs:.2} s, expected {min}–{max} s"
        );
        assert_eq!(p.name(), name);
        let peak = p
            .samples()
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0);
        assert!(peak > 3000, "{name}: nearly silent (peak {peak})");
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let last = p.frame(codec, p.frame_count() - 1).map(<[u8]>::len);
            assert_eq!(last, Some(FRAME_SAMPLES));
        }
    }
    assert!(load("greeting.wav").duration() < Duration::from_secs(10));
}

#[test]
fn no_shipped_prompt_triggers_the_in_band_dtmf_detector() {
    for &(name, _, _) in PROMPTS {
        let p = load(name);
        for codec in [Codec::Pcmu, Codec::Pcma] {
            // As a gateway would hand it back: G.711 frames, decoded, 20 ms at a time.
            let mut det = ToneDetector::default();
            let mut pcm = [0i16; FRAME_SAMPLES];
            for i in 0..p.frame_count() {
                if let Some(frame) = p.frame(codec, i) {
                    codec.decode(frame, &mut pcm);
                    det.handle_samples(&pcm);
                }
            }
            det.flush();
            let false_keys: Vec<_> = std::iter::from_fn(|| det.poll_digit()).collect();
            assert!(
                false_keys.is_empty(),
                "{name} ({codec:?}) looks like key presses: {false_keys:?}"
            );
        }
    }
}

#[test]
fn a_key_pressed_after_a_prompt_is_still_heard() {
    // Guards the test above against a detector that hears nothing at all.
    let mut pcm = load("invalid-key.wav").samples().to_vec();
    pcm.extend((0..800).map(|i| {
        let t = i as f32 / 8000.0;
        let two_pi = 2.0 * std::f32::consts::PI;
        (5000.0 * ((two_pi * 852.0 * t).sin() + (two_pi * 1477.0 * t).sin())) as i16
    }));
    pcm.extend([0i16; 800]);
    let mut det = ToneDetector::default();
    det.handle_samples(&pcm);
    let keys: String = std::iter::from_fn(|| det.poll_digit())
        .map(|d| d.digit.as_char())
        .collect();
    assert_eq!(keys, "9");
}
