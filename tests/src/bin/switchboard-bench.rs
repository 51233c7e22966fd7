//! `switchboard-bench ring <chats> <operators>`: prints ring latency figures;
//! `switchboard-bench ring-audio [rings]`: ring start/stop latency from the sound (default 100
//! rings; needs pulseaudio, pulseaudio-utils and libasound2-plugins);
//! `switchboard-bench core [missed] [chats] [messages]`: the offline-first core's figures
//! (defaults 10,000 / 10,000 / 1,000,000);
//! `switchboard-bench routing [operators] [visitors] [chats/s] [seconds]`: routing under load
//! (defaults 500 / 5,000 / 100 / 60). Figures, not tests.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ring") => {
            let chats = args
                .get(1)
                .map(|value| value.parse::<usize>())
                .transpose()
                .context("chats must be a number")?
                .unwrap_or(100);
            let operators = args
                .get(2)
                .map(|value| value.parse::<usize>())
                .transpose()
                .context("operators must be a number")?
                .unwrap_or(10);
            let report = switchboard_e2e::bench::ring_latency(chats, operators).await?;
            println!("{}", switchboard_e2e::bench::format_report(&report));
            Ok(())
        }
        // Ring start/stop latency from the sound itself, through a private PulseAudio.
        Some("ring-audio") => {
            let rings = args
                .get(1)
                .map(|value| value.parse::<usize>())
                .transpose()
                .context("rings must be a number")?
                .unwrap_or(100);
            // PulseAudio and the re-executed child block: off the async threads.
            tokio::task::spawn_blocking(move || {
                switchboard_e2e::bench::ring_audio::ring_audio(rings)
            })
            .await?
        }
        Some(switchboard_e2e::bench::ring_audio::CHILD_COMMAND) => {
            let rings = args
                .get(1)
                .map(|value| value.parse::<usize>())
                .transpose()
                .context("rings must be a number")?
                .unwrap_or(100);
            let report = switchboard_e2e::bench::ring_audio::ring_audio_child(rings).await?;
            println!(
                "{}",
                switchboard_e2e::bench::ring_audio::format_report(&report)
            );
            Ok(())
        }
        Some("routing") => {
            let number = |index: usize, default: usize, what: &str| {
                args.get(index)
                    .map(|value| value.parse::<usize>())
                    .transpose()
                    .with_context(|| format!("{what} must be a number"))
                    .map(|value| value.unwrap_or(default))
            };
            let load = switchboard_e2e::bench::routing::RoutingLoad {
                operators: number(1, 500, "operators")?,
                visitors: number(2, 5_000, "visitors")?.max(1),
                chats_per_second: number(3, 100, "chats per second")?.max(1),
                seconds: number(4, 60, "seconds")? as u64,
            };
            // The server binary next to this one runs in its own process, so its CPU and memory
            // are measured alone; without it the server runs in-process.
            let binary = std::env::current_exe()?.with_file_name("switchboard-server");
            let under_test = if binary.exists() {
                switchboard_e2e::bench::routing::ServerUnderTest::Process(binary)
            } else {
                switchboard_e2e::bench::routing::ServerUnderTest::InProcess
            };
            let (p50, p99) = switchboard_e2e::bench::routing::decision_latency(
                load.operators,
                load.chats_per_second * load.seconds as usize,
                100,
            );
            println!(
                "routing decision alone (pure router, {} operators, ~100 chats waiting): \
                 p50 {:.3} ms, p99 {:.3} ms",
                load.operators,
                p50.as_secs_f64() * 1000.0,
                p99.as_secs_f64() * 1000.0
            );
            let report = switchboard_e2e::bench::routing::routing_load(load, under_test).await?;
            println!(
                "{}",
                switchboard_e2e::bench::routing::format_report(&report)
            );
            Ok(())
        }
        Some("core") => {
            let number = |index: usize, default: usize, what: &str| {
                args.get(index)
                    .map(|value| value.parse::<usize>())
                    .transpose()
                    .with_context(|| format!("{what} must be a number"))
                    .map(|value| value.unwrap_or(default))
            };
            let missed = number(1, 10_000, "missed events")?;
            let chats = number(2, 10_000, "chats")?;
            let messages = number(3, 1_000_000, "messages")?;
            let report =
                switchboard_e2e::bench::offline::core_figures(missed as u64, chats, messages)
                    .await?;
            println!(
                "{}",
                switchboard_e2e::bench::offline::format_core_report(&report)
            );
            Ok(())
        }
        _ => anyhow::bail!(
            "usage: switchboard-bench ring <chats> <operators> | ring-audio [rings] \
             | core [missed] [chats] [messages] \
             | routing [operators] [visitors] [chats per second] [seconds]"
        ),
    }
}
