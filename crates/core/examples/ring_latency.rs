//! Ring start and stop latency (D03), measured on the real sound: ALSA's default device is
//! pointed at a WAV file, a core rings 100 times (a visitor starts a chat; another operator
//! accepts it), and the capture is lined up with the times the ring events reached the core.
//!
//! `cargo run -p switchboard-core --example ring_latency [rings]`. A benchmark, not a test: it
//! prints p50/p99 of "event received → sound starts" and "event received → sound stops".
//! Sample 0 of the capture is taken as the moment the core opened the device, so the figures
//! include that alignment error (a few ms) plus the audio buffering, which is what an operator
//! hears.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use switchboard_core::protocol::{OperatorEvent, RingStopReason};
use switchboard_core::{AudioOutput, Core, CoreConfig, CredentialStore, RingerState};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, TestServer, TestVisitor,
};

#[path = "../tests/support/capture.rs"]
#[allow(dead_code)]
mod capture;

const CHILD_ENV: &str = "SWITCHBOARD_RING_LATENCY_CHILD";
const RINGS_ENV: &str = "SWITCHBOARD_RING_LATENCY_RINGS";
const WAIT: Duration = Duration::from_secs(20);
/// Inside the tone's first one-second burst, so each ring is one burst in the capture.
const HOLD: Duration = Duration::from_millis(400);
const GAP: Duration = Duration::from_millis(600);
const BLOCK_MS: f64 = 2.0;

fn main() {
    let rings_in_child = || {
        std::env::var(RINGS_ENV)
            .ok()
            .and_then(|rings| rings.parse().ok())
            .unwrap_or(100)
    };
    if capture::run_as_child(CHILD_ENV, |folder| child(folder, rings_in_child())) {
        return;
    }
    let rings: usize = std::env::args()
        .nth(1)
        .and_then(|rings| rings.parse().ok())
        .unwrap_or(100);
    let folder = tempfile::tempdir().expect("a folder for the capture");
    let capture = capture::write_asoundrc(folder.path());
    let status = capture::child_command("this program's path", CHILD_ENV, folder.path())
        .env(RINGS_ENV, rings.to_string())
        .status()
        .expect("the ringing child runs");
    assert!(status.success(), "the ringing child failed: {status}");
    let timeline = std::fs::read_to_string(folder.path().join("timeline")).expect("timeline");
    let marks: Vec<(f64, f64)> = timeline
        .lines()
        .map(|line| {
            let mut parts = line.split_whitespace().map(|mark| mark.parse::<f64>());
            match (parts.next(), parts.next()) {
                (Some(Ok(start)), Some(Ok(stop))) => (start, stop),
                _ => panic!("unexpected timeline line {line:?}"),
            }
        })
        .collect();
    let loud = read_loud_blocks(&capture);
    let capture_ms = loud.len() as f64 * BLOCK_MS;
    let last_mark = marks.last().map_or(0.0, |(_, stop)| *stop);
    if capture_ms > last_mark * 1.5 + 1000.0 {
        println!(
            "the capture ({capture_ms:.0} ms) ran faster than real time: it cannot be lined up"
        );
        return;
    }
    let mut starts = Vec::new();
    let mut stops = Vec::new();
    for (start, stop) in &marks {
        let from = ((start - 100.0).max(0.0) / BLOCK_MS) as usize;
        if let Some(onset) = (from..loud.len()).find(|index| loud[*index]) {
            starts.push(onset as f64 * BLOCK_MS - start);
        }
        let from = ((stop - 100.0).max(0.0) / BLOCK_MS) as usize;
        // Silence means 20 ms without a loud block (the tone itself crosses zero).
        let quiet = (20.0 / BLOCK_MS) as usize;
        if let Some(end) =
            (from..loud.len()).find(|index| loud[*index..].iter().take(quiet).all(|loud| !loud))
        {
            stops.push(end as f64 * BLOCK_MS - stop);
        }
    }
    println!(
        "{} rings; start latency p50 {:.0} ms p99 {:.0} ms ({} measured); stop latency p50 {:.0} ms p99 {:.0} ms ({} measured)",
        marks.len(),
        percentile(&mut starts, 0.50),
        percentile(&mut starts, 0.99),
        starts.len(),
        percentile(&mut stops, 0.50),
        percentile(&mut stops, 0.99),
        stops.len(),
    );
}

fn percentile(values: &mut [f64], quantile: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let index = ((values.len() - 1) as f64 * quantile).round() as usize;
    values[index]
}

/// Whether each [`BLOCK_MS`] block of the capture sounds (peak above a quiet threshold).
fn read_loud_blocks(path: &Path) -> Vec<bool> {
    capture::Wav::read(path).map_blocks(Duration::from_millis(BLOCK_MS as u64), |_, mut samples| {
        Iterator::any(&mut samples, |sample| sample.abs() > 0.02)
    })
}

async fn child(folder: PathBuf, rings: usize) {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let ann = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.path().join("ann"),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Default,
    })
    .await
    .expect("Ann's core starts");
    let origin = Instant::now();
    assert!(
        !matches!(ann.state().ringer, RingerState::NoDevice { .. }),
        "the ALSA file device must open"
    );
    let bob = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.path().join("bob"),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await
    .expect("Bob's core starts");
    ann.sign_in(ANN, DEMO_PASSWORD).await.expect("Ann signs in");
    bob.sign_in(BOB, DEMO_PASSWORD).await.expect("Bob signs in");
    let mut events = ann.stream_events();
    let mut timeline = String::new();
    for _ in 0..rings {
        let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
        let chat = visitor.start_chat("Nora", "Latency?").await.id;
        let started = loop {
            let (_, event) = tokio::time::timeout(WAIT, events.recv())
                .await
                .expect("the ring arrives")
                .expect("the stream runs");
            if event == (OperatorEvent::RingStarted { chat }) {
                break origin.elapsed();
            }
        };
        tokio::time::sleep(HOLD).await;
        bob.accept(chat).await.expect("Bob accepts");
        let stopped = loop {
            let (_, event) = tokio::time::timeout(WAIT, events.recv())
                .await
                .expect("the stop arrives")
                .expect("the stream runs");
            if let OperatorEvent::RingStopped {
                chat: stopped,
                reason,
            } = &event
                && *stopped == chat
                && matches!(reason, RingStopReason::AcceptedBy { .. })
            {
                break origin.elapsed();
            }
        };
        bob.end_chat(chat).await.expect("Bob ends the chat");
        timeline.push_str(&format!(
            "{:.3} {:.3}\n",
            started.as_secs_f64() * 1000.0,
            stopped.as_secs_f64() * 1000.0
        ));
        tokio::time::sleep(GAP).await;
    }
    ann.shutdown().await;
    bob.shutdown().await;
    std::fs::write(folder.join("timeline"), timeline).expect("write the timeline");
    server.stop().await;
}
