//! Call recordings on disk (rule C9): one stereo WAV per answered call, caller left and agent
//! right, 8 kHz 16-bit, written as the call goes, with a valid header once it ends and one
//! repaired at start-up if the engine died mid-call. The SHA-256 of the finished file goes
//! into the call record.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const HEADER_LEN: u64 = 44;
const CHANNELS: u16 = 2;
const RATE: u32 = 8000;
const BITS: u16 = 16;

/// How often a recording's buffered frames go to the OS: with the recorder's 0.5 s playout
/// delay a kill -9 loses under a second of audio (issue 12 item 7).
pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// The 44-byte header of a stereo 8 kHz 16-bit PCM WAV with `data_len` bytes of samples.
fn header(data_len: u32) -> [u8; 44] {
    let block_align = CHANNELS * BITS / 8;
    let byte_rate = RATE * u32::from(block_align);
    let mut h = [0u8; 44];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&data_len.saturating_add(36).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&CHANNELS.to_le_bytes());
    h[24..28].copy_from_slice(&RATE.to_le_bytes());
    h[28..32].copy_from_slice(&byte_rate.to_le_bytes());
    h[32..34].copy_from_slice(&block_align.to_le_bytes());
    h[34..36].copy_from_slice(&BITS.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_len.to_le_bytes());
    h
}

/// A recording being written.
pub struct RecordingFile {
    path: PathBuf,
    out: BufWriter<File>,
    data_len: u64,
}

impl RecordingFile {
    /// Creates the file (and its day folder) with a placeholder header. The file must not
    /// exist yet: an existing one is another call's recording and is never truncated
    /// (`ErrorKind::AlreadyExists`).
    pub fn create(path: &Path) -> std::io::Result<RecordingFile> {
        if let Some(dir) = path.parent() {
            crate::shell::private_fs::create_dir_all(dir)?;
        }
        let file = crate::shell::private_fs::options()
            .create_new(true)
            .write(true)
            .read(true)
            .open(path)?;
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        out.write_all(&header(0))?;
        Ok(RecordingFile {
            path: path.to_path_buf(),
            out,
            data_len: 0,
        })
    }

    /// Appends one 20 ms stereo frame: `left` (caller) and `right` (agent), 160 samples each.
    pub fn write_frame(&mut self, left: &[i16], right: &[i16]) -> std::io::Result<()> {
        let mut buf = [0u8; 160 * 4];
        for (i, chunk) in buf.chunks_exact_mut(4).enumerate() {
            let l = left.get(i).copied().unwrap_or(0);
            let r = right.get(i).copied().unwrap_or(0);
            chunk[..2].copy_from_slice(&l.to_le_bytes());
            chunk[2..].copy_from_slice(&r.to_le_bytes());
        }
        self.out.write_all(&buf)?;
        self.data_len += buf.len() as u64;
        Ok(())
    }

    /// Appends one 20 ms stereo block as the recorder makes it: 160 interleaved sample pairs
    /// (caller, agent).
    pub fn write_block(&mut self, block: &[i16; 320]) -> std::io::Result<()> {
        let mut buf = [0u8; 320 * 2];
        for (chunk, s) in buf.chunks_exact_mut(2).zip(block) {
            chunk.copy_from_slice(&s.to_le_bytes());
        }
        self.out.write_all(&buf)?;
        self.data_len += buf.len() as u64;
        Ok(())
    }

    /// Hands the buffered frames to the OS and writes the sizes so far into the header, so a
    /// killed engine leaves a playable file losing at most what came since (the bridge calls
    /// it every [`FLUSH_EVERY`]). No fsync: a process crash does not lose what the OS has.
    pub fn flush(&mut self) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.out.flush()?;
        let len = u32::try_from(self.data_len).unwrap_or(u32::MAX);
        self.out.get_ref().write_all_at(&header(len), 0)
    }

    /// Writes the real sizes into the header, syncs, and returns the file's SHA-256 (hex).
    pub fn finish(self) -> std::io::Result<String> {
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        let len = u32::try_from(self.data_len).unwrap_or(u32::MAX);
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header(len))?;
        file.sync_all()?;
        sha256_of(&self.path)
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Fixes the headers of recordings left by a crash (sizes still 0 or wrong), cutting a torn
/// last frame; returns the files it repaired. Run at start-up over `DATA/recordings`.
pub fn repair_all(dir: &Path) -> Vec<PathBuf> {
    let mut repaired = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "wav") {
                match repair(&p) {
                    Ok(true) => repaired.push(p),
                    Ok(false) => {}
                    Err(err) => {
                        tracing::warn!(file = %p.display(), error = %err, "cannot repair recording")
                    }
                }
            }
        }
    }
    repaired
}

/// Repairs one file's header if its sizes disagree with its length.
pub fn repair(path: &Path) -> std::io::Result<bool> {
    let mut f = OpenOptions::new().read(true).write(true).open(path)?;
    let len = f.metadata()?.len();
    if len < HEADER_LEN {
        // Not even a header: make it an empty, valid recording.
        f.set_len(0)?;
        f.write_all(&header(0))?;
        f.sync_all()?;
        return Ok(true);
    }
    let mut h = [0u8; 44];
    f.read_exact(&mut h)?;
    let frame = u64::from(CHANNELS * BITS / 8);
    let data = (len - HEADER_LEN) / frame * frame;
    let stated = u64::from(u32::from_le_bytes([h[40], h[41], h[42], h[43]]));
    if &h[0..4] != b"RIFF" || &h[36..40] != b"data" {
        return Ok(false); // not one of ours
    }
    if stated == data && len == HEADER_LEN + data {
        return Ok(false);
    }
    f.set_len(HEADER_LEN + data)?;
    f.seek(SeekFrom::Start(0))?;
    f.write_all(&header(u32::try_from(data).unwrap_or(u32::MAX)))?;
    f.sync_all()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_recording_is_a_valid_stereo_wav_with_both_channels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2026/11/22/c.wav");
        let mut rec = RecordingFile::create(&path).unwrap();
        let tone: Vec<i16> = (0..160).map(|i| (i as i16 - 80) * 100).collect();
        for n in 0..50 {
            let silent = [0i16; 160];
            let (l, r) = if n % 2 == 0 {
                (&tone[..], &silent[..])
            } else {
                (&silent[..], &tone[..])
            };
            rec.write_frame(l, r).unwrap();
        }
        // A block from the recorder: the same layout.
        let mut block = [0i16; 320];
        block[0] = 11;
        block[1] = -22;
        rec.write_block(&block).unwrap();
        let sha = rec.finish().unwrap();
        assert_eq!(sha.len(), 64);
        let reader = hound::WavReader::open(&path).unwrap();
        let spec = reader.spec();
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (2, 8000, 16)
        );
        assert_eq!(reader.duration(), 51 * 160);
        let samples: Vec<i16> = reader.into_samples().map(|s| s.unwrap()).collect();
        assert_eq!(samples[50 * 320..50 * 320 + 2], [11, -22]);
        let left: i64 = samples.iter().step_by(2).map(|s| i64::from(*s).abs()).sum();
        let right: i64 = samples
            .iter()
            .skip(1)
            .step_by(2)
            .map(|s| i64::from(*s).abs())
            .sum();
        assert!(left > 0 && right > 0);
        assert_eq!(sha, sha256_of(&path).unwrap());
    }

    #[test]
    fn an_existing_recording_is_never_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2026/11/22/same-name.wav");
        let mut first = RecordingFile::create(&path).unwrap();
        let tone = [1000i16; 160];
        for _ in 0..10 {
            first.write_frame(&tone, &tone).unwrap();
        }
        first.finish().unwrap();
        let before = std::fs::read(&path).unwrap();
        let second = RecordingFile::create(&path);
        assert_eq!(
            second.err().map(|e| e.kind()),
            Some(std::io::ErrorKind::AlreadyExists)
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the first call's audio is intact"
        );
    }

    #[test]
    fn a_flushed_recording_is_playable_without_finish() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.wav");
        let mut rec = RecordingFile::create(&path).unwrap();
        for _ in 0..25 {
            rec.write_frame(&[7; 160], &[9; 160]).unwrap();
        }
        // Before a flush nothing of it may be on disk (buffered): a kill -9 would lose it.
        rec.flush().unwrap();
        // As a kill -9 leaves it: no `finish`, the writer simply gone.
        std::mem::forget(rec);
        assert!(!repair(&path).unwrap(), "the header already matches");
        assert_eq!(hound::WavReader::open(&path).unwrap().duration(), 25 * 160);
    }

    #[test]
    fn a_recording_cut_by_a_crash_is_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crashed.wav");
        let mut bytes = header(0).to_vec();
        bytes.extend(std::iter::repeat_n(1u8, 640 * 10 + 3)); // a torn last frame
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(repair_all(dir.path()), vec![path.clone()]);
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.duration(), 1600);
        assert!(!repair(&path).unwrap(), "a sound file is left alone");
        // A file with no complete header becomes an empty valid one.
        let stub = dir.path().join("stub.wav");
        std::fs::write(&stub, b"RIFF").unwrap();
        assert!(repair(&stub).unwrap());
        assert_eq!(hound::WavReader::open(&stub).unwrap().duration(), 0);
    }
}
