//! Ring latency: a visitor starts a chat → every operator's core has applied `RingStarted`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use switchboard_core::Core;
use switchboard_core::protocol::{ChatId, OperatorEvent};
use switchboard_server::test_support::{DEMO_EMBED_KEY, DEMO_PASSWORD, TestServer, TestVisitor};
use tokio::sync::mpsc;

use crate::{WAIT, headless_core, wait_for_state};

pub mod offline;
pub mod ring_audio;
pub mod routing;

/// Latency percentiles over all chats, each taken at the slowest operator's arrival.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingLatencyReport {
    pub p50: Duration,
    pub p99: Duration,
    pub samples: usize,
    pub chats: usize,
    pub operators: usize,
}

/// Starts a server and `operators` signed-in cores (audio disabled), then `chats` visitors
/// one after another, and measures StartChat sent → every core applied `RingStarted`.
pub async fn ring_latency(chats: usize, operators: usize) -> anyhow::Result<RingLatencyReport> {
    let server = TestServer::start().await;
    let url = server.url();
    let folder = tempfile::tempdir()?;
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<(ChatId, Instant)>();
    let mut cores: Vec<Core> = Vec::with_capacity(operators);
    for index in 0..operators {
        let email = format!("bench{index}@example.com");
        server.create_operator(&email, &format!("Bench Operator {index}"), DEMO_PASSWORD);
        let core = headless_core(&url, &folder.path().join(format!("operator{index}"))).await;
        core.sign_in(&email, DEMO_PASSWORD).await?;
        wait_for_state(&core, "the bench operator connected", |state| {
            state.connection == switchboard_core::ConnectionState::Connected
        })
        .await;
        let mut stream = core.stream_events();
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            loop {
                match stream.recv().await {
                    Ok((_, OperatorEvent::RingStarted { chat })) => {
                        let _ = arrivals.send((chat, Instant::now()));
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        cores.push(core);
    }
    drop(arrivals);

    let mut started: HashMap<ChatId, Instant> = HashMap::with_capacity(chats);
    let mut last_arrival: HashMap<ChatId, (usize, Instant)> = HashMap::with_capacity(chats);
    let mut visitors = Vec::with_capacity(chats);
    for index in 0..chats {
        let mut visitor = TestVisitor::connect(&url, DEMO_EMBED_KEY).await;
        let sent = Instant::now();
        let chat = visitor
            .start_chat(&format!("Visitor {index}"), "How fast do you answer?")
            .await;
        started.insert(chat.id, sent);
        // Keep each visitor online so its chat stays pending (and ringing).
        visitors.push(visitor);
        while let Ok((chat, at)) = arrived.try_recv() {
            let entry = last_arrival.entry(chat).or_insert((0, at));
            entry.0 += 1;
            entry.1 = entry.1.max(at);
        }
    }
    let deadline = tokio::time::Instant::now() + WAIT + Duration::from_millis(20 * chats as u64);
    while last_arrival
        .values()
        .filter(|(count, _)| *count >= operators)
        .count()
        < chats
    {
        match tokio::time::timeout_at(deadline, arrived.recv()).await {
            Ok(Some((chat, at))) => {
                let entry = last_arrival.entry(chat).or_insert((0, at));
                entry.0 += 1;
                entry.1 = entry.1.max(at);
            }
            Ok(None) | Err(_) => break,
        }
    }
    let mut latencies: Vec<Duration> = started
        .iter()
        .filter_map(|(chat, sent)| {
            let (count, at) = last_arrival.get(chat)?;
            (*count >= operators).then(|| at.saturating_duration_since(*sent))
        })
        .collect();
    latencies.sort();
    for core in &cores {
        core.shutdown().await;
    }
    drop(visitors);
    server.stop().await;
    anyhow::ensure!(
        latencies.len() == chats,
        "only {} of {chats} chats rang for all {operators} operators",
        latencies.len()
    );
    Ok(RingLatencyReport {
        p50: percentile(&latencies, 50),
        p99: percentile(&latencies, 99),
        samples: latencies.len(),
        chats,
        operators,
    })
}

/// The machine a benchmark ran on: CPU model, cores, memory.
pub fn machine_summary() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split(':').nth(1))
        .map_or("unknown CPU", str::trim);
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("MemTotal"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    format!(
        "{model}, {cores} cores, {memory_gib:.1} GiB, {}",
        std::env::consts::OS
    )
}

fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * percent).div_ceil(100).max(1) - 1;
    sorted[rank.min(sorted.len() - 1)]
}

/// One line per figure, for `cargo xtask bench`.
pub fn format_report(report: &RingLatencyReport) -> String {
    format!(
        "ring latency over {} chats x {} operator cores (slowest operator per chat):\n  \
         p50 {:.1} ms\n  p99 {:.1} ms\n  samples {}",
        report.chats,
        report.operators,
        report.p50.as_secs_f64() * 1000.0,
        report.p99.as_secs_f64() * 1000.0,
        report.samples
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 50), Duration::from_millis(50));
        assert_eq!(percentile(&samples, 99), Duration::from_millis(99));
        assert_eq!(percentile(&samples[..1], 99), Duration::from_millis(1));
    }
}
