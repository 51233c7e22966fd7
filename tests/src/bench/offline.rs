//! The offline-first core's figures (issue 4): catch-up after missed events, cold open of a
//! large cache with no network, local search, and the cache's size on disk.

use std::time::{Duration, Instant};

use switchboard_core::Core;
use switchboard_core::protocol::{ChatId, OperatorEvent};
use switchboard_server::test_support::{DEMO_EMBED_KEY, DEMO_PASSWORD, TestServer, TestVisitor};

use super::percentile;
use crate::{WAIT, headless_core};

/// The offline-first core's figures (issue 4).
#[derive(Clone, Debug)]
pub struct CoreReport {
    pub missed_events: u64,
    /// Whether the server replayed the missed events (else it sent a snapshot).
    pub resumed: bool,
    /// Core started → every missed event applied (connect and hello included).
    pub catch_up_from_start: Duration,
    /// First missed event applied → last one applied.
    pub catch_up_apply: Duration,
    pub chats: usize,
    pub messages: usize,
    pub populate: Duration,
    /// `Core::start` → `Core::state()` returned the chat list, with the server unreachable.
    pub cold_open_first: Duration,
    pub cold_open_median: Duration,
    /// Searches with a chat open (its name and history).
    pub search_in_chat: SearchFigures,
    /// Searches with no chat open (chat names and the messages of every chat).
    pub search_all_chats: SearchFigures,
    /// Every search that found at least one message, and every one that found none.
    pub search_hits: SearchFigures,
    pub search_misses: SearchFigures,
    pub search_overall: SearchFigures,
    pub cache_bytes: u64,
}

/// Measures catch-up after `missed` events, then cold open and search over a cache of
/// `chats` chats holding `messages` messages in all, and the cache's size on disk.
pub async fn core_figures(
    missed: u64,
    chats: usize,
    messages: usize,
) -> anyhow::Result<CoreReport> {
    use switchboard_core::bench_support;
    use switchboard_server::test_support::ANN;

    let server = TestServer::start().await;
    let url = server.url();
    let folder = tempfile::tempdir()?;

    // Catch-up: Ann's core is closed while visitors write to the live chat she is a member of;
    // every message is one event on her stream. Ten visitors write in parallel (the server
    // takes one at a time, but each send waits for its round trip).
    let catch_up_cache = folder.path().join("catch-up");
    let core = headless_core(&url, &catch_up_cache).await;
    let mut applied = core.stream_events();
    core.sign_in(ANN, DEMO_PASSWORD).await?;
    // The cursor is set once the first snapshot is applied.
    loop {
        match tokio::time::timeout(WAIT, applied.recv()).await {
            Ok(Ok((_, OperatorEvent::Snapshot { .. }))) => break,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(_)) | Err(_) => anyhow::bail!("the first snapshot never came"),
        }
    }
    core.shutdown().await;
    drop(core);
    const WRITERS: u64 = 10;
    // Starting a chat adds a few events of its own; the server keeps the last 10,000 events
    // per stream, so the total stays just under that to be replayed rather than snapshotted.
    let per_writer = missed.saturating_sub(WRITERS * 4) / WRITERS;
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let url = url.clone();
        writers.push(tokio::spawn(async move {
            let mut visitor = TestVisitor::connect(&url, DEMO_EMBED_KEY).await;
            visitor
                .start_chat(&format!("Bench Visitor {writer}"), "Catch me up")
                .await;
            for index in 0..per_writer {
                visitor.send(&format!("missed message {index}")).await;
            }
        }));
    }
    for writer in writers {
        writer.await?;
    }
    let started = Instant::now();
    let core = headless_core(&url, &catch_up_cache).await;
    let mut events = core.subscribe();
    let mut stream = core.stream_events();
    let mut first_applied: Option<Instant> = None;
    let mut resumed = false;
    let mut replayed = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let caught_up = loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(switchboard_core::CoreEvent::Sync { progress: Some(progress) }) => {
                    resumed = true;
                    replayed = replayed.max(progress.total);
                }
                Ok(switchboard_core::CoreEvent::Sync { progress: None }) if resumed => break Instant::now(),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => anyhow::bail!("the core stopped"),
            },
            applied = stream.recv() => {
                if first_applied.is_none() && applied.is_ok() {
                    first_applied = Some(Instant::now());
                }
                if let Ok((_, OperatorEvent::Snapshot { .. })) = applied {
                    anyhow::bail!("the server sent a snapshot: its log does not reach back far enough");
                }
            }
            _ = tokio::time::sleep_until(deadline) => anyhow::bail!("catch-up did not finish in 300 s"),
        }
    };
    let catch_up_from_start = caught_up - started;
    let catch_up_apply = caught_up - first_applied.unwrap_or(started);
    core.shutdown().await;
    drop(core);

    // Cold open: a signed-in cache of `chats` chats / `messages` messages, no server.
    let big_cache = folder.path().join("big");
    let core = headless_core(&url, &big_cache).await;
    core.sign_in(ANN, DEMO_PASSWORD).await?;
    core.shutdown().await;
    drop(core);
    server.stop().await;
    let populating = Instant::now();
    let per_chat = messages / chats.max(1);
    let seeded = big_cache.clone();
    tokio::task::spawn_blocking(move || bench_support::populate(&seeded, chats, per_chat, 7))
        .await??;
    let populate = populating.elapsed();

    let mut opens = Vec::new();
    let mut open_core = None;
    for _ in 0..5 {
        let opening = Instant::now();
        let core = headless_core(&url, &big_cache).await;
        let state = core.state();
        opens.push(opening.elapsed());
        anyhow::ensure!(
            state.chats.len() == chats,
            "the console would show {} chats, not {chats}",
            state.chats.len()
        );
        if let Some(previous) = open_core.replace(core) {
            let previous: Core = previous;
            previous.shutdown().await;
        }
    }
    let core = open_core.expect("opened");
    let cold_open_first = opens[0];
    let mut sorted_opens = opens.clone();
    sorted_opens.sort();
    let cold_open_median = sorted_opens[sorted_opens.len() / 2];

    // Search: mixed query shapes (see `search_query`), with and without a chat open.
    const SEARCHES: usize = 1_800;
    let mut random = fastrand_seeded(11);
    let (mut in_chat, mut all_chats) = (Vec::new(), Vec::new());
    let (mut hits, mut misses, mut overall) = (Vec::new(), Vec::new(), Vec::new());
    for index in 0..SEARCHES {
        let query = search_query(&mut random, index / 2);
        let open = (index % 2 == 0)
            .then(|| ChatId(i64::try_from(random.usize(1..=chats.max(1))).unwrap_or(1)));
        let searching = Instant::now();
        let results = core.search(&query, open)?;
        let took = searching.elapsed();
        overall.push(took);
        if results.messages.is_empty() {
            misses.push(took);
        } else {
            hits.push(took);
        }
        std::hint::black_box(results);
        match open {
            Some(_) => in_chat.push(took),
            None => all_chats.push(took),
        }
    }
    core.shutdown().await;
    drop(core);

    let cache_bytes = ["cache.sqlite3", "cache.sqlite3-wal", "cache.sqlite3-shm"]
        .iter()
        .filter_map(|name| std::fs::metadata(big_cache.join(name)).ok())
        .map(|metadata| metadata.len())
        .sum();
    Ok(CoreReport {
        missed_events: replayed,
        resumed,
        catch_up_from_start,
        catch_up_apply,
        chats,
        messages: per_chat * chats,
        populate,
        cold_open_first,
        cold_open_median,
        search_in_chat: SearchFigures::of(in_chat),
        search_all_chats: SearchFigures::of(all_chats),
        search_hits: SearchFigures::of(hits),
        search_misses: SearchFigures::of(misses),
        search_overall: SearchFigures::of(overall),
        cache_bytes,
    })
}

/// Percentiles of one kind of search.
#[derive(Clone, Debug, Default)]
pub struct SearchFigures {
    pub p50: Duration,
    pub p95: Duration,
    pub max: Duration,
    pub count: usize,
}

impl SearchFigures {
    fn of(mut samples: Vec<Duration>) -> SearchFigures {
        samples.sort();
        SearchFigures {
            p50: percentile(&samples, 50),
            p95: percentile(&samples, 95),
            max: samples.last().copied().unwrap_or_default(),
            count: samples.len(),
        }
    }
}

/// The shapes of query a person types, from the first letter of a word to two whole words,
/// plus queries that find nothing (a made-up word, alone or after a real one).
fn search_query(random: &mut fastrand::Rng, shape: usize) -> String {
    use switchboard_core::bench_support::random_word;
    let word = random_word(random);
    let other = random_word(random);
    let missing = format!("zq{}", random.u32(..100_000));
    match shape % 9 {
        // Typing a word: its first 1 to 5 characters.
        typed @ 0..=4 => word.chars().take(typed + 1).collect(),
        5 => word,
        6 => format!("{word} {other}"),
        // Typing the second word.
        7 => format!("{word} {}", other.chars().take(3).collect::<String>()),
        _ => {
            if random.bool() {
                missing
            } else {
                format!("{word} {missing}")
            }
        }
    }
}

fn fastrand_seeded(seed: u64) -> fastrand::Rng {
    fastrand::Rng::with_seed(seed)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn format_search(name: &str, figures: &SearchFigures) -> String {
    format!(
        "  {name}: p95 {:.2} ms, p50 {:.2} ms, max {:.2} ms ({} queries)",
        millis(figures.p95),
        millis(figures.p50),
        millis(figures.max),
        figures.count
    )
}

/// The four figures of issue 4, one per line, with their goals.
pub fn format_core_report(report: &CoreReport) -> String {
    let searches = [
        format_search("all queries", &report.search_overall),
        format_search(
            "with a chat open (its name and history)",
            &report.search_in_chat,
        ),
        format_search(
            "no chat open (chat names and every chat's messages)",
            &report.search_all_chats,
        ),
        format_search("queries finding messages", &report.search_hits),
        format_search("queries finding no message", &report.search_misses),
    ]
    .join("\n");
    let per_million = report.cache_bytes as f64 * 1_000_000.0 / report.messages.max(1) as f64;
    format!(
        "catch-up: {} missed events ({}) applied in {:.0} ms (first to last event; {:.0} ms from core start) [goal < 1000 ms]\n\
         cold open: {} chats / {} messages, start -> chat list in {:.1} ms first, {:.1} ms median of 5 [goal < 200 ms] (cache built in {:.1} s)\n\
         search over {} messages (1-5 typed characters, whole words, two words, misses) [goal p95 < 20 ms]:\n{}\n\
         cache size: {:.0} MiB for {} messages = {:.0} MiB per 1,000,000 messages",
        report.missed_events,
        if report.resumed {
            "replayed"
        } else {
            "snapshot"
        },
        millis(report.catch_up_apply),
        millis(report.catch_up_from_start),
        report.chats,
        report.messages,
        millis(report.cold_open_first),
        millis(report.cold_open_median),
        report.populate.as_secs_f64(),
        report.messages,
        searches,
        report.cache_bytes as f64 / 1024.0 / 1024.0,
        report.messages,
        per_million / 1024.0 / 1024.0,
    )
}
