//! Ring start and stop latency measured from the sound itself (D03): event received by the
//! core → the ring audible at the output, and → silent again, p50/p99 over many rings.
//!
//! ALSA's file plugin cannot give wall-clock times (over the `null` device it takes samples
//! as fast as they come, ~190x real time here), so this runs a private PulseAudio server with
//! a null sink, which consumes samples at the real sample rate on its own timer. The core
//! plays through ALSA's default device, pointed at that server (the `pulse` ALSA plugin); a
//! `parec` recorder reads the sink's monitor in this same process, and every recorded block
//! gets a timestamp from the same clock that stamps the ring events. So the figures cover
//! rodio's and ALSA's buffers, the PulseAudio sink and the monitor recording (its fragment of
//! [`RECORD_FRAGMENT_MS`] ms: the figures are upper bounds by about that much). No hardware
//! sits behind a null sink, so a real card's own buffer (a few ms) is not included.
//!
//! The parent process starts PulseAudio and re-executes this program with `HOME` (where the
//! `.asoundrc` is) and `PULSE_SERVER` set, because ALSA reads both from the environment of the
//! process that plays, and changing this process's environment is not allowed here.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use switchboard_core::protocol::{OperatorEvent, RingStopReason};
use switchboard_core::{AudioOutput, Core, CoreConfig, CredentialStore, RingerState};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, TestServer, TestVisitor,
};

use crate::WAIT;

/// The argument that makes `switchboard-bench` the playing child.
pub const CHILD_COMMAND: &str = "ring-audio-child";
const SAMPLE_RATE: usize = 44_100;
/// The recorder's fragment: how much sound it gathers before handing it over.
pub const RECORD_FRAGMENT_MS: u64 = 5;
/// Blocks of this many samples (1 ms) are judged loud or quiet.
const BLOCK: usize = SAMPLE_RATE / 1000;
/// Peak above which a block counts as sound (the ring's peak is 0.25 x volume 0.8 = 0.2).
const LOUD: f32 = 0.02;
/// Silence means this long without a loud block (the tone itself crosses zero every ms).
const QUIET_FOR: Duration = Duration::from_millis(30);
/// Each ring is held inside the tone's first one-second burst, so a stop is a stop of sound
/// and not the tone's own pause.
const HOLD: Duration = Duration::from_millis(400);
const GAP: Duration = Duration::from_millis(500);

/// The figures, in milliseconds.
#[derive(Clone, Debug)]
pub struct RingAudioReport {
    pub rings: usize,
    pub start: Vec<f64>,
    pub stop: Vec<f64>,
}

/// The parent: a private PulseAudio with a null sink, then this program re-executed as the
/// playing child; prints the child's report.
pub fn ring_audio(rings: usize) -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let runtime = folder.path().join("run");
    std::fs::create_dir_all(&runtime)?;
    let socket = folder.path().join("pulse-native");
    let server = format!("unix:{}", socket.display());
    let pulse = PulseAudio::start(folder.path(), &runtime, &socket)?;
    std::fs::write(
        folder.path().join(".asoundrc"),
        format!(
            "pcm.!default {{ type pulse; server \"{server}\" }}\nctl.!default {{ type pulse; server \"{server}\" }}\n"
        ),
    )?;
    let status = Command::new(std::env::current_exe()?)
        .args([CHILD_COMMAND, &rings.to_string()])
        .env("HOME", folder.path())
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("PULSE_SERVER", &server)
        .status()
        .context("the playing child runs")?;
    drop(pulse);
    ensure!(status.success(), "the playing child failed: {status}");
    Ok(())
}

/// A private PulseAudio server (no D-Bus, no real devices), ended on drop.
struct PulseAudio {
    child: Child,
}

impl PulseAudio {
    fn start(home: &Path, runtime: &Path, socket: &Path) -> anyhow::Result<PulseAudio> {
        let child = Command::new("pulseaudio")
            .args([
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--disallow-exit",
                "--log-target=stderr",
                "--log-level=error",
                "-L",
                "module-null-sink sink_name=bench rate=44100 channels=2",
                "-L",
            ])
            .arg(format!(
                "module-native-protocol-unix socket={} auth-anonymous=1",
                socket.display()
            ))
            .env("HOME", home)
            .env("XDG_RUNTIME_DIR", runtime)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context(
                "pulseaudio starts (Debian: pulseaudio pulseaudio-utils libasound2-plugins; \
                 `cargo xtask bench ring-audio` installs them)",
            )?;
        let mut pulse = PulseAudio { child };
        // Ready once `pactl` gets an answer through the socket; bounded.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let answered = Command::new("pactl")
                .arg(format!("--server=unix:{}", socket.display()))
                .arg("info")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if answered {
                return Ok(pulse);
            }
            if let Some(status) = pulse.child.try_wait()? {
                bail!("pulseaudio exited at start: {status}");
            }
            ensure!(Instant::now() < deadline, "pulseaudio never answered");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for PulseAudio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sink's monitor as it arrives: 1 ms blocks, each with the time it was heard and whether
/// it was loud.
struct Recorder {
    child: Child,
    blocks: Arc<Mutex<Vec<(Instant, bool)>>>,
}

impl Recorder {
    fn start() -> anyhow::Result<Recorder> {
        let mut child = Command::new("parec")
            .args([
                "--device=bench.monitor",
                "--raw",
                "--format=float32le",
                "--rate=44100",
                "--channels=1",
                &format!("--latency-msec={RECORD_FRAGMENT_MS}"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("parec starts (Debian: pulseaudio-utils)")?;
        let mut stdout = child.stdout.take().context("parec's output")?;
        let blocks = Arc::new(Mutex::new(Vec::new()));
        let filled = blocks.clone();
        std::thread::spawn(move || {
            let mut buffer = vec![0u8; 64 * 1024];
            let mut pending: Vec<f32> = Vec::new();
            loop {
                let read = match stdout.read(&mut buffer) {
                    Ok(0) | Err(_) => return,
                    Ok(read) => read,
                };
                let arrived = Instant::now();
                // A read may end inside a sample; the bytes of a sample always come in order.
                pending.extend(
                    buffer[..read - read % 4]
                        .chunks_exact(4)
                        .map(|raw| f32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]])),
                );
                let whole = pending.len() / BLOCK;
                let mut blocks = filled
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                // The newest sample arrived now; each earlier one a sample period before.
                for index in 0..whole {
                    let after = (whole - index - 1) * BLOCK;
                    let at = arrived
                        .checked_sub(Duration::from_secs_f64(after as f64 / SAMPLE_RATE as f64))
                        .unwrap_or(arrived);
                    let block = &pending[index * BLOCK..(index + 1) * BLOCK];
                    blocks.push((at, block.iter().any(|sample| sample.abs() > LOUD)));
                }
                pending.drain(..whole * BLOCK);
                // Reads are whole samples in practice; a split one is dropped, never misread.
                if read % 4 != 0 {
                    pending.clear();
                }
            }
        });
        Ok(Recorder { child, blocks })
    }

    /// The first loud block at or after `from`.
    fn first_sound_after(&self, from: Instant) -> Option<Instant> {
        let blocks = self
            .blocks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        blocks
            .iter()
            .find(|(at, loud)| *at >= from && *loud)
            .map(|(at, _)| *at)
    }

    /// The start of the first run of [`QUIET_FOR`] without sound at or after `from`.
    fn silence_after(&self, from: Instant) -> Option<Instant> {
        let blocks = self
            .blocks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut quiet_since: Option<Instant> = None;
        for (at, loud) in blocks.iter().filter(|(at, _)| *at >= from) {
            if *loud {
                quiet_since = None;
            } else {
                let since = *quiet_since.get_or_insert(*at);
                if at.duration_since(since) >= QUIET_FOR {
                    return Some(since);
                }
            }
        }
        None
    }

    /// Waits (bounded) until the recording reaches `until`.
    async fn wait_until_recorded(&self, until: Instant) -> anyhow::Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            let reached = self
                .blocks
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .last()
                .is_some_and(|(at, _)| *at >= until);
            if reached {
                return Ok(());
            }
            ensure!(Instant::now() < deadline, "the recorder stopped recording");
            // Polling the recorder's own progress: it has no event to await.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The playing child: a server, Ann's core playing through ALSA → PulseAudio, Bob's silent core
/// accepting every chat; `rings` times a visitor starts a chat that rings and Bob takes it.
pub async fn ring_audio_child(rings: usize) -> anyhow::Result<RingAudioReport> {
    let recorder = Recorder::start()?;
    let server = TestServer::start().await;
    let folder = tempfile::tempdir()?;
    let data: PathBuf = folder.path().to_owned();
    let ann = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.join("ann"),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Default,
    })
    .await?;
    if let RingerState::NoDevice { reason } = ann.state().ringer {
        bail!("the ALSA → PulseAudio device did not open: {reason}");
    }
    let bob = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.join("bob"),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await?;
    ann.sign_in(ANN, DEMO_PASSWORD).await?;
    bob.sign_in(BOB, DEMO_PASSWORD).await?;
    let mut events = ann.stream_events();
    let mut report = RingAudioReport {
        rings,
        start: Vec::with_capacity(rings),
        stop: Vec::with_capacity(rings),
    };
    // One ring first that is not counted: the first sound opens the ALSA → PulseAudio stream.
    for ring in 0..=rings {
        let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
        let chat = visitor.start_chat("Nora", "Can you hear me?").await.id;
        let started = loop {
            let (_, event) = tokio::time::timeout(WAIT, events.recv())
                .await
                .context("the ring arrives")??;
            if event == (OperatorEvent::RingStarted { chat }) {
                break Instant::now();
            }
        };
        tokio::time::sleep(HOLD).await;
        bob.accept(chat).await?;
        let stopped = loop {
            let (_, event) = tokio::time::timeout(WAIT, events.recv())
                .await
                .context("the stop arrives")??;
            if let OperatorEvent::RingStopped {
                chat: stopped,
                reason: RingStopReason::AcceptedBy { .. },
            } = &event
                && *stopped == chat
            {
                break Instant::now();
            }
        };
        bob.end_chat(chat).await?;
        tokio::time::sleep(GAP).await;
        recorder.wait_until_recorded(stopped + GAP).await?;
        if ring == 0 {
            continue;
        }
        match recorder.first_sound_after(started) {
            Some(sound) if sound < stopped => report
                .start
                .push(sound.duration_since(started).as_secs_f64() * 1000.0),
            other => eprintln!(
                "ring {ring}: no sound between the ring and its stop ({:?} after the ring)",
                other.map(|sound| sound.duration_since(started))
            ),
        }
        match recorder.silence_after(stopped) {
            Some(silence) => report
                .stop
                .push(silence.duration_since(stopped).as_secs_f64() * 1000.0),
            None => eprintln!("ring {ring}: never silent after its stop"),
        }
    }
    ann.shutdown().await;
    bob.shutdown().await;
    server.stop().await;
    drop(folder);
    Ok(report)
}

/// Nearest-rank percentile of unsorted milliseconds; NaN when there are none.
fn percentile(values: &[f64], percent: usize) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (sorted.len() * percent).div_ceil(100).max(1) - 1;
    sorted[rank.min(sorted.len() - 1)]
}

/// The report in words, saying what was measured.
pub fn format_report(report: &RingAudioReport) -> String {
    let line = |what: &str, values: &[f64]| {
        format!(
            "  {what}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} of {} rings measured)",
            percentile(values, 50),
            percentile(values, 99),
            values.iter().copied().fold(f64::NAN, f64::max),
            values.len(),
            report.rings
        )
    };
    format!(
        "ring audio latency, from the sound: ring event received by the core → ring audible at a \
         real-time PulseAudio null sink's monitor (rodio → ALSA → pulse plugin → sink → parec, \
         {RECORD_FRAGMENT_MS} ms recorder fragments; no sound card buffer), and RingStopped \
         received → {} ms of silence begins; after one uncounted warm-up ring:\n{}\n{}",
        QUIET_FOR.as_millis(),
        line("start", &report.start),
        line("stop ", &report.stop)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank_and_say_nan_when_empty() {
        let values: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(percentile(&values, 50), 50.0);
        assert_eq!(percentile(&values, 99), 99.0);
        assert!(percentile(&[], 50).is_nan());
    }
}
