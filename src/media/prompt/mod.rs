//! Prompt audio: decodes a prompt file handed in as bytes (the shell reads the file), downmixes
//! to mono, resamples to 8 kHz ([`resample`]) and encodes it once to PCMU and PCMA 20 ms frames.
//! One `Arc<Prompt>` is then shared by every call that plays it: no per-call decoding.
//!
//! Formats: WAV through `hound` (8/16/24/32-bit integer and 32-bit float, any rate, any channel
//! count); MP3, Ogg Vorbis and FLAC through `symphonia`.

pub mod resample;

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use thiserror::Error;

use crate::media::codec::{Codec, FRAME_SAMPLES};

/// Longest prompt accepted: hold music loops, so nothing needs more; protects memory from a
/// mistaken multi-hour file.
pub const MAX_DURATION: Duration = Duration::from_secs(600);

/// Why a prompt file cannot be used. Always names the file, so the operator can fix it.
#[derive(Debug, Error)]
pub enum PromptError {
    /// Neither the extension nor the first bytes name a format we decode.
    #[error("{file}: unsupported audio format (use .wav, .mp3, .ogg or .flac)")]
    UnsupportedFormat { file: String },
    /// The WAV container or its samples are broken or of an unsupported kind.
    #[error("{file}: invalid WAV: {source}")]
    Wav {
        file: String,
        #[source]
        source: hound::Error,
    },
    /// The compressed stream could not be demuxed or decoded.
    #[error("{file}: cannot decode: {reason}")]
    Decode { file: String, reason: String },
    /// The file decodes but contains no audio samples.
    #[error("{file}: contains no audio")]
    Empty { file: String },
    /// The file does not say its sample rate (or says 0).
    #[error("{file}: unknown or zero sample rate")]
    NoSampleRate { file: String },
    /// Longer than [`MAX_DURATION`].
    #[error("{file}: {seconds:.0} s long, prompts may be at most {max} s")]
    TooLong {
        file: String,
        seconds: f64,
        max: u64,
    },
}

/// A decoded prompt, ready to send: 8 kHz PCM plus both G.711 encodings, padded to whole
/// 20 ms frames with silence.
#[derive(Debug)]
pub struct Prompt {
    name: String,
    pcm: Vec<i16>,
    pcmu: Vec<u8>,
    pcma: Vec<u8>,
}

impl Prompt {
    /// Decodes a prompt file. `file_name` picks the format by extension (falling back to the
    /// content's magic bytes) and names the file in errors.
    pub fn decode(file_name: &str, bytes: &[u8]) -> Result<Arc<Prompt>, PromptError> {
        let (mono, rate) = match Format::detect(file_name, bytes) {
            Some(Format::Wav) => decode_wav(file_name, bytes)?,
            Some(Format::Compressed(ext)) => decode_compressed(file_name, ext, bytes)?,
            None => {
                return Err(PromptError::UnsupportedFormat {
                    file: file_name.to_owned(),
                })
            }
        };
        if rate == 0 {
            return Err(PromptError::NoSampleRate {
                file: file_name.to_owned(),
            });
        }
        if mono.is_empty() {
            return Err(PromptError::Empty {
                file: file_name.to_owned(),
            });
        }
        let seconds = mono.len() as f64 / f64::from(rate);
        if seconds > MAX_DURATION.as_secs_f64() {
            return Err(PromptError::TooLong {
                file: file_name.to_owned(),
                seconds,
                max: MAX_DURATION.as_secs(),
            });
        }
        let at_8k = resample::to_8k(&mono, rate);
        let pcm = at_8k
            .iter()
            .map(|s| (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
            .collect();
        Ok(Arc::new(Self::from_pcm(file_name, pcm)))
    }

    /// A prompt from 8 kHz mono samples (generated tones, tests, text-to-speech output).
    pub fn from_pcm(name: impl Into<String>, pcm: Vec<i16>) -> Prompt {
        let frames = pcm.len().div_ceil(FRAME_SAMPLES);
        let mut padded = pcm.clone();
        padded.resize(frames * FRAME_SAMPLES, 0);
        let encode = |c: Codec| padded.iter().map(|&s| c.encode_sample(s)).collect();
        Prompt {
            name: name.into(),
            pcmu: encode(Codec::Pcmu),
            pcma: encode(Codec::Pcma),
            pcm,
        }
    }

    /// The file name it was loaded from (for logs and "prompt finished" events).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Playing time, rounded up to whole frames.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(20 * self.frame_count() as u64)
    }

    /// Number of 20 ms frames.
    pub fn frame_count(&self) -> usize {
        self.pcmu.len() / FRAME_SAMPLES
    }

    /// Frame `index` (160 bytes) in `codec`, or `None` past the end.
    #[inline]
    pub fn frame(&self, codec: Codec, index: usize) -> Option<&[u8]> {
        let all = match codec {
            Codec::Pcmu => &self.pcmu,
            Codec::Pcma => &self.pcma,
        };
        all.get(index * FRAME_SAMPLES..(index + 1) * FRAME_SAMPLES)
    }

    /// The 8 kHz linear samples (unpadded): for analysis, mixing into recordings, tests.
    pub fn samples(&self) -> &[i16] {
        &self.pcm
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Wav,
    /// A symphonia format, with the extension to hint the prober.
    Compressed(&'static str),
}

impl Format {
    fn detect(file_name: &str, bytes: &[u8]) -> Option<Format> {
        let ext = file_name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("wav" | "wave") => return Some(Format::Wav),
            Some("mp3") => return Some(Format::Compressed("mp3")),
            Some("ogg" | "oga") => return Some(Format::Compressed("ogg")),
            Some("flac") => return Some(Format::Compressed("flac")),
            _ => {}
        }
        match bytes {
            [b'R', b'I', b'F', b'F', ..] => Some(Format::Wav),
            [b'O', b'g', b'g', b'S', ..] => Some(Format::Compressed("ogg")),
            [b'f', b'L', b'a', b'C', ..] => Some(Format::Compressed("flac")),
            [b'I', b'D', b'3', ..] => Some(Format::Compressed("mp3")),
            [0xFF, b, ..] if b & 0xE0 == 0xE0 => Some(Format::Compressed("mp3")),
            _ => None,
        }
    }
}

/// Averages interleaved frames of `channels` samples into one mono sample each.
fn downmix(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    if channels <= 1 {
        out.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    out.extend(
        interleaved
            .chunks_exact(channels)
            .map(|f| f.iter().sum::<f32>() * scale),
    );
}

fn decode_wav(file: &str, bytes: &[u8]) -> Result<(Vec<f32>, u32), PromptError> {
    let wav_err = |source| PromptError::Wav {
        file: file.to_owned(),
        source,
    };
    let reader = hound::WavReader::new(Cursor::new(bytes)).map_err(wav_err)?;
    let spec = reader.spec();
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(wav_err)?,
        hound::SampleFormat::Int => {
            let full_scale = 2f32.powi(i32::from(spec.bits_per_sample.max(1)) - 1);
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 / full_scale))
                .collect::<Result<_, _>>()
                .map_err(wav_err)?
        }
    };
    let mut mono = Vec::with_capacity(interleaved.len() / usize::from(spec.channels.max(1)));
    downmix(&interleaved, usize::from(spec.channels), &mut mono);
    Ok((mono, spec.sample_rate))
}

fn decode_compressed(
    file: &str,
    ext: &'static str,
    bytes: &[u8],
) -> Result<(Vec<f32>, u32), PromptError> {
    let fail = |reason: String| PromptError::Decode {
        file: file.to_owned(),
        reason,
    };
    // symphonia wants an owned, 'static source; one copy per prompt load is nothing.
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(ext);
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| fail(format!("not a readable {ext} stream ({e})")))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| fail("no audio track".to_owned()))?;
    let track_id = track.id;
    let mut rate = track.codec_params.sample_rate.unwrap_or(0);
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| fail(format!("unsupported codec ({e})")))?;

    let mut mono = Vec::new();
    let mut buf: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(e) => return Err(fail(format!("demux error ({e})"))),
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(audio) => {
                let spec = *audio.spec();
                rate = spec.rate;
                let needed = audio.capacity() as u64 * spec.channels.count() as u64;
                let sb = match &mut buf {
                    Some(b) if b.capacity() as u64 >= needed => b,
                    _ => buf.insert(SampleBuffer::new(audio.capacity() as u64, spec)),
                };
                sb.copy_interleaved_ref(audio);
                downmix(sb.samples(), spec.channels.count(), &mut mono);
                if mono.len() as u64 > u64::from(rate.max(1)) * (MAX_DURATION.as_secs() + 1) {
                    break; // decode() reports TooLong
                }
            }
            // A corrupt packet costs a few milliseconds of audio, not the whole prompt.
            Err(SymError::DecodeError(e)) => {
                tracing::debug!(file, error = e, "skipping undecodable packet");
            }
            Err(e) => return Err(fail(format!("decode error ({e})"))),
        }
    }
    Ok((mono, rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_bytes(
        spec: hound::WavSpec,
        write: impl Fn(&mut hound::WavWriter<&mut Cursor<Vec<u8>>>),
    ) -> Vec<u8> {
        let mut cur = Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
            write(&mut w);
            w.finalize().unwrap();
        }
        cur.into_inner()
    }

    fn tone(rate: u32, i: usize) -> f32 {
        (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin() * 0.5
    }

    #[test]
    fn decodes_16_bit_mono_8k_exactly() {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let bytes = wav_bytes(spec, |w| {
            for i in 0..400 {
                w.write_sample((i * 10) as i16).unwrap();
            }
        });
        let p = Prompt::decode("x.wav", &bytes).unwrap();
        assert_eq!(p.samples().len(), 400);
        assert_eq!(p.samples()[39], 390);
        assert_eq!(p.frame_count(), 3, "400 samples pad to 3 frames");
        assert_eq!(p.duration(), Duration::from_millis(60));
        let last = p.frame(Codec::Pcmu, 2).unwrap();
        assert_eq!(last[80..], [0xFF; 80], "padding is silence");
        assert_eq!(p.frame(Codec::Pcma, 3), None);
        assert_eq!(
            p.frame(Codec::Pcma, 0).unwrap()[0],
            Codec::Pcma.encode_sample(0)
        );
    }

    #[test]
    fn decodes_stereo_float_and_24_bit_at_other_rates() {
        let stereo = hound::WavSpec {
            channels: 2,
            sample_rate: 48000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        // Left has the tone, right is silent: the downmix halves it.
        let bytes = wav_bytes(stereo, |w| {
            for i in 0..48000 {
                w.write_sample(tone(48000, i)).unwrap();
                w.write_sample(0.0f32).unwrap();
            }
        });
        let p = Prompt::decode("s.WAV", &bytes).unwrap();
        assert_eq!(p.samples().len(), 8000);
        let peak = p.samples()[2000..6000]
            .iter()
            .map(|s| s.abs())
            .max()
            .unwrap();
        assert!((8000..8400).contains(&peak), "peak {peak}");

        let deep = hound::WavSpec {
            channels: 1,
            sample_rate: 16000,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        let bytes = wav_bytes(deep, |w| {
            for i in 0..16000 {
                w.write_sample((tone(16000, i) * 8_388_607.0) as i32)
                    .unwrap();
            }
        });
        let p = Prompt::decode("d.wav", &bytes).unwrap();
        let peak = p.samples()[2000..6000]
            .iter()
            .map(|s| s.abs())
            .max()
            .unwrap();
        assert!((16100..16500).contains(&peak), "peak {peak}");
    }

    #[test]
    fn decodes_8_bit_wav() {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 8,
            sample_format: hound::SampleFormat::Int,
        };
        let bytes = wav_bytes(spec, |w| {
            for _ in 0..160 {
                w.write_sample(64i8).unwrap();
            }
        });
        let p = Prompt::decode("e.wav", &bytes).unwrap();
        assert_eq!(p.samples()[0], 16384);
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let e = Prompt::decode("menu.txt", b"hello").unwrap_err();
        assert!(matches!(e, PromptError::UnsupportedFormat { .. }));
        assert_eq!(
            e.to_string(),
            "menu.txt: unsupported audio format (use .wav, .mp3, .ogg or .flac)"
        );

        let e = Prompt::decode("broken.wav", b"RIFF\x10\0\0\0WAVEjunk").unwrap_err();
        assert!(
            matches!(e, PromptError::Wav { ref file, .. } if file == "broken.wav"),
            "{e}"
        );

        let e = Prompt::decode("hold.ogg", b"OggS but not really").unwrap_err();
        assert!(
            matches!(e, PromptError::Decode { ref file, .. } if file == "hold.ogg"),
            "{e}"
        );

        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let empty = wav_bytes(spec, |_| {});
        let e = Prompt::decode("empty.wav", &empty).unwrap_err();
        assert!(matches!(e, PromptError::Empty { .. }));
        assert!(e.to_string().starts_with("empty.wav: "));
    }

    #[test]
    fn format_is_sniffed_when_the_name_has_no_extension() {
        assert_eq!(Format::detect("prompt", b"RIFFxxxx"), Some(Format::Wav));
        assert_eq!(
            Format::detect("prompt", b"OggS"),
            Some(Format::Compressed("ogg"))
        );
        assert_eq!(
            Format::detect("prompt", b"ID3\x03"),
            Some(Format::Compressed("mp3"))
        );
        assert_eq!(Format::detect("prompt", b"????"), None);
    }
}
