//! Capturing the ring through ALSA's file plugin: a private `~/.asoundrc` points the default
//! device at a WAV file, a re-executed child process plays, and the parent reads the samples.
//! Used by the `ring_sound` test.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// If this process is the re-executed child (`child_env` names its folder), runs `child` on a
/// two-thread runtime and returns `true`.
pub fn run_as_child<F: Future<Output = ()>>(
    child_env: &str,
    child: impl FnOnce(PathBuf) -> F,
) -> bool {
    let Some(folder) = std::env::var_os(child_env) else {
        return false;
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(child(PathBuf::from(folder)));
    true
}

/// Writes a `.asoundrc` into `folder` that sends ALSA's default device to a WAV file there;
/// returns the path of that file.
pub fn write_asoundrc(folder: &Path) -> PathBuf {
    let capture = folder.join("capture.wav");
    std::fs::write(
        folder.join(".asoundrc"),
        format!(
            "pcm.!default {{ type file; slave.pcm \"null\"; file \"{}\"; format \"wav\" }}\n",
            capture.display()
        ),
    )
    .expect("write .asoundrc");
    capture
}

/// This program re-executed as the child: `child_env` and `HOME` point at `folder`.
pub fn child_command(exe: &str, child_env: &str, folder: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().expect(exe));
    command.env(child_env, folder).env("HOME", folder);
    command
}

/// Re-executes this test binary to run only `test_name` as the child, and asserts it passed.
pub fn run_test_child(test_name: &str, child_env: &str, folder: &Path, what: &str) {
    let output = child_command("the test binary's path", child_env, folder)
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the {what} child failed:\n{stdout}\n{stderr}"
    );
}

/// A WAV written by ALSA's file plugin, read block by block (captures run to hundreds of MB
/// when the null device takes samples faster than real time). The plugin may leave the RIFF
/// length fields unset, so the samples are simply whatever follows the `data` chunk header;
/// and it tags 32-bit float samples as integer PCM (format 1), so 32-bit data is decoded as
/// the float samples cpal writes (a wrong guess shows up as an absurd RMS, not a pass).
pub struct Wav {
    path: PathBuf,
    pub channels: usize,
    pub rate: usize,
    pub format: (usize, usize),
    data_start: u64,
    data_bytes: u64,
}

impl Wav {
    pub fn read(path: &Path) -> Wav {
        let mut header = vec![0; 4096];
        let mut file = std::fs::File::open(path).expect("the capture file exists");
        let length = file.metadata().expect("capture metadata").len();
        let read = std::io::Read::read(&mut file, &mut header).expect("read the WAV header");
        let bytes = &header[..read];
        assert!(bytes.len() > 44 && &bytes[..4] == b"RIFF", "not a WAV file");
        let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
        let u32_at = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        };
        let mut at = 12;
        let (mut channels, mut rate, mut bits, mut format) = (0, 0, 0, 0);
        let data_start = loop {
            assert!(at + 8 <= bytes.len(), "no data chunk in the capture header");
            let id = &bytes[at..at + 4];
            let size = u32_at(at + 4);
            if id == b"fmt " {
                format = u16_at(at + 8);
                channels = u16_at(at + 10);
                rate = u32_at(at + 12);
                bits = u16_at(at + 22);
            } else if id == b"data" {
                break at as u64 + 8;
            }
            at += 8 + size + (size & 1);
        };
        assert!(
            matches!((format, bits), (1, 16) | (1, 32) | (3, 32)),
            "unexpected WAV sample format {:?}",
            (format, bits)
        );
        Wav {
            path: path.to_owned(),
            channels: channels.max(1),
            rate: rate.max(1),
            format: (format, bits),
            data_start,
            data_bytes: length.saturating_sub(data_start),
        }
    }

    fn sample_bytes(&self) -> usize {
        self.format.1 / 8
    }

    pub fn seconds(&self) -> f64 {
        let samples = self.data_bytes as f64 / self.sample_bytes() as f64;
        samples / (self.channels * self.rate) as f64
    }

    fn sample(&self, raw: &[u8]) -> f64 {
        match self.format {
            (1, 16) => f64::from(i16::from_le_bytes([raw[0], raw[1]])) / 32768.0,
            _ => f64::from(f32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]])),
        }
    }

    /// Root mean square of every block of `block` sample time, in order.
    pub fn block_rms(&self, block: Duration) -> Vec<f64> {
        self.map_blocks(block, |count, samples| {
            (samples.map(|sample| sample.powi(2)).sum::<f64>() / count as f64).sqrt()
        })
    }

    /// `summary(sample count, samples)` of every block of `block` sample time, in order.
    pub fn map_blocks<T>(
        &self,
        block: Duration,
        mut summary: impl FnMut(usize, &mut dyn Iterator<Item = f64>) -> T,
    ) -> Vec<T> {
        use std::io::{Read, Seek, SeekFrom};
        let per_block = (self.rate as u128 * block.as_millis() / 1000) as usize
            * self.channels
            * self.sample_bytes();
        let mut file = std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(&self.path).expect("reopen the capture"),
        );
        file.seek(SeekFrom::Start(self.data_start))
            .expect("seek to the samples");
        let mut chunk = vec![0; per_block];
        let mut blocks = Vec::new();
        loop {
            let mut filled = 0;
            while filled < per_block {
                match file.read(&mut chunk[filled..]).expect("read the samples") {
                    0 => break,
                    read => filled += read,
                }
            }
            let samples = chunk[..filled].chunks_exact(self.sample_bytes());
            if samples.len() == 0 {
                return blocks;
            }
            let count = samples.len();
            blocks.push(summary(count, &mut samples.map(|raw| self.sample(raw))));
            if filled < per_block {
                return blocks;
            }
        }
    }
}
