//! Routing under load (issue 3): many operators online, many visitors connected, new chats at a
//! steady rate; measures StartChat sent → the last operator's socket received its `RingStarted`
//! frame, plus the server's CPU time and memory. With the server binary next to this one it runs
//! in its own process and is measured alone; this process (the load generator) and the rest of
//! the machine are measured too, since they share its cores.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use switchboard_protocol::{
    ChatId, ClientFrame, Endpoint, OPERATOR_WS_PATH, OperatorCommand, OperatorEvent,
    OperatorResponse, ServerFrame, SignIn, SignInRequest, SignInResponse,
};
use switchboard_server::test_support::{
    DEMO_EMBED_KEY, DEMO_PASSWORD, TestServer, TestVisitor, post_json, websocket_url,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WebSocketMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Read buffer of each operator socket: a few frames of a new chat fit.
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// The load to apply.
#[derive(Clone, Copy, Debug)]
pub struct RoutingLoad {
    pub operators: usize,
    pub visitors: usize,
    pub chats_per_second: usize,
    pub seconds: u64,
}

/// Where the server runs.
#[derive(Clone, Debug)]
pub enum ServerUnderTest {
    /// In this process: CPU and memory include the load generators.
    InProcess,
    /// The `switchboard-server` binary at this path, in its own process: CPU and memory are the
    /// server's alone.
    Process(std::path::PathBuf),
}

/// The latency goal of issue 3: p99 of chat started → every operator's ring frame received.
pub const GOAL_P99: Duration = Duration::from_millis(20);

/// What the run measured.
#[derive(Clone, Debug)]
pub struct RoutingReport {
    pub load: RoutingLoad,
    /// Chats the load asked for (rate × seconds).
    pub target: usize,
    pub chats: usize,
    /// Ticks with no idle visitor left (the server fell behind), so no chat was started.
    pub skipped: usize,
    /// Chats that rang for every operator before the run ended.
    pub complete: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// User + system CPU during the load, per second of load: of the server process, or of
    /// this whole process when the server runs in it.
    pub cpu_per_second: f64,
    /// The same for this process (the load generator), when the server runs apart.
    pub generator_cpu_per_second: f64,
    /// Busy CPU of the whole machine during the load, in cores.
    pub machine_cpu_per_second: f64,
    pub separate_process: bool,
    /// Resident memory when the load ended, and at its start (after sign-ins and connects).
    pub rss_mib: f64,
    pub rss_before_mib: f64,
    /// Peak resident memory of the server (`VmHWM`), sign-ins included.
    pub peak_rss_mib: f64,
}

/// A running server under test.
enum Running {
    InProcess(TestServer),
    Process {
        child: std::process::Child,
        url: String,
        _folder: tempfile::TempDir,
    },
}

impl Running {
    fn url(&self) -> String {
        match self {
            Running::InProcess(server) => server.url(),
            Running::Process { url, .. } => url.clone(),
        }
    }

    /// `/proc` entry of the process to measure.
    fn proc_path(&self) -> String {
        match self {
            Running::InProcess(_) => "/proc/self".to_owned(),
            Running::Process { child, .. } => format!("/proc/{}", child.id()),
        }
    }

    async fn stop(self) {
        match self {
            Running::InProcess(server) => server.stop().await,
            Running::Process { mut child, .. } => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// Seeds a database with the demo organisation and `operators` more members (sharing the demo
/// password's hash, so seeding costs no argon2 time), then starts the server binary on it.
fn start_process(binary: &std::path::Path, operators: &[String]) -> anyhow::Result<Running> {
    use std::io::BufRead;
    use switchboard_server::storage;

    let folder = tempfile::tempdir()?;
    let database = folder.path().join("routing-bench.sqlite3");
    let mut connection = storage::open(&database)?;
    storage::seed_demo(&mut connection)?;
    let (_, hash) = storage::operator_credentials(&connection, "ann@example.com")?
        .ok_or_else(|| anyhow::anyhow!("the demo seed has no Ann"))?;
    let live_chat = storage::live_chat_by_embed_key(&connection, DEMO_EMBED_KEY)?
        .ok_or_else(|| anyhow::anyhow!("the demo seed has no live chat"))?
        .0;
    let transaction = connection.transaction()?;
    for (index, email) in operators.iter().enumerate() {
        let operator =
            storage::insert_operator(&transaction, email, &format!("Router {index}"), &hash)?;
        storage::add_membership(&transaction, operator, live_chat, false)?;
    }
    transaction.commit()?;
    drop(connection);
    let mut child = std::process::Command::new(binary)
        .arg("--database")
        .arg(&database)
        .args(["--bind", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|error| anyhow::anyhow!("cannot start {}: {error}", binary.display()))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no server stdout"))?;
    let mut first = String::new();
    std::io::BufReader::new(stdout).read_line(&mut first)?;
    let url = first
        .trim()
        .rsplit_once(' ')
        .map(|(_, url)| url.to_owned())
        .filter(|url| url.starts_with("http://"))
        .ok_or_else(|| anyhow::anyhow!("unexpected server output: {first:?}"))?;
    Ok(Running::Process {
        child,
        url,
        _folder: folder,
    })
}

/// Runs the load against a fresh server.
pub async fn routing_load(
    load: RoutingLoad,
    under_test: ServerUnderTest,
) -> anyhow::Result<RoutingReport> {
    // reqwest is built with `rustls-no-provider` in this workspace; plain HTTP still needs one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emails: Vec<String> = (0..load.operators)
        .map(|index| format!("router{index}@example.com"))
        .collect();
    let server = match &under_test {
        ServerUnderTest::InProcess => {
            let server = TestServer::start().await;
            for (index, email) in emails.iter().enumerate() {
                server.create_operator(email, &format!("Router {index}"), DEMO_PASSWORD);
            }
            Running::InProcess(server)
        }
        ServerUnderTest::Process(binary) => start_process(binary, &emails)?,
    };
    let separate_process = matches!(under_test, ServerUnderTest::Process(_));
    let measured = server.proc_path();
    let url = server.url();
    let setup = Instant::now();
    let progress = |what: &str| {
        eprintln!(
            "  [{:>5.1} s] {what} (server RSS {:.0} MiB)",
            setup.elapsed().as_secs_f64(),
            rss_mib(&measured)
        );
    };
    progress(&format!("signing in {} operators", load.operators));
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<(ChatId, Instant)>();
    let mut readers = Vec::with_capacity(load.operators);
    // Sign-ins verify argon2 hashes: run a few at once.
    let mut tokens = Vec::with_capacity(load.operators);
    for batch in emails.chunks(8) {
        let signed = futures_util::future::join_all(batch.iter().map(|email| {
            let address = format!("{url}{}", SignIn::PATH);
            let request = SignInRequest {
                email: email.clone(),
                password: DEMO_PASSWORD.to_owned(),
            };
            async move { post_json::<SignInResponse>(&address, &request, None).await }
        }))
        .await;
        for result in signed {
            let session = result.map_err(|(status, error)| {
                anyhow::anyhow!("sign-in refused ({status}): {}", error.message)
            })?;
            tokens.push(session.token);
        }
    }
    progress("connecting the operators' sockets");
    for token in tokens {
        // tungstenite zeroes its whole read buffer before every read: with the 128 KiB default
        // that memset was most of this load generator's CPU, stealing cores from the server.
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
        let (mut socket, _) = tokio_tungstenite::connect_async_with_config(
            websocket_url(&url, OPERATOR_WS_PATH),
            Some(config),
            // As the desktop core does: no Nagle delay on small frames.
            true,
        )
        .await?;
        let hello =
            serde_json::to_string(&ClientFrame::<OperatorCommand>::Hello { token, since: None })?;
        socket.send(WebSocketMessage::text(hello)).await?;
        let arrivals = arrivals.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(message)) = socket.next().await {
                let WebSocketMessage::Text(text) = message else {
                    continue;
                };
                // Only ring frames are decoded, so the load generator stays cheap.
                if !text.contains("\"ringStarted\"") {
                    continue;
                }
                let at = Instant::now();
                if let Ok(ServerFrame::Event {
                    event: OperatorEvent::RingStarted { chat },
                    ..
                }) = serde_json::from_str::<ServerFrame<OperatorEvent, OperatorResponse>>(&text)
                {
                    let _ = arrivals.send((chat, at));
                }
            }
        }));
    }
    drop(arrivals);

    progress(&format!("connecting {} visitors", load.visitors));
    let mut visitors = Vec::with_capacity(load.visitors);
    for _ in 0..load.visitors {
        visitors.push(Some(TestVisitor::connect(&url, DEMO_EMBED_KEY).await));
    }
    let mut used = vec![false; load.visitors];

    let total = load.chats_per_second * load.seconds as usize;
    let (started_sender, mut started_receiver) =
        mpsc::unbounded_channel::<(usize, TestVisitor, ChatId, Instant)>();
    let mut sent_at: HashMap<ChatId, Instant> = HashMap::with_capacity(total);
    let mut rung: HashMap<ChatId, (usize, Instant)> = HashMap::with_capacity(total);
    let record = |rung: &mut HashMap<ChatId, (usize, Instant)>, chat, at| {
        let entry = rung.entry(chat).or_insert((0, at));
        entry.0 += 1;
        entry.1 = entry.1.max(at);
    };
    progress(&format!(
        "load: {} chats/s for {} s",
        load.chats_per_second, load.seconds
    ));
    let cpu_before = process_cpu_seconds(&measured);
    let generator_before = process_cpu_seconds("/proc/self");
    let machine_before = machine_busy_seconds();
    let rss_before_mib = rss_mib(&measured);
    let began = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / load.chats_per_second as u32);
    let mut next_visitor = 0;
    let mut launched = 0;
    let mut skipped = 0;
    while launched < total {
        tokio::select! {
            _ = ticker.tick() => {
                // Take the next idle visitor; one whose chat is still in flight is skipped.
                launched += 1;
                let Some(index) = (0..load.visitors)
                    .map(|offset| (next_visitor + offset) % load.visitors)
                    .find(|index| visitors[*index].is_some())
                else {
                    // Every visitor is still waiting for the server: this chat is not started.
                    skipped += 1;
                    continue;
                };
                next_visitor = (index + 1) % load.visitors;
                let mut visitor = visitors[index].take().expect("an idle visitor");
                let again = std::mem::replace(&mut used[index], true);
                let started = started_sender.clone();
                tokio::spawn(async move {
                    if again {
                        // A returning visitor leaves their previous chat first (churn).
                        visitor.leave().await;
                    }
                    let sent = Instant::now();
                    let chat = visitor.start_chat("Load", "Routing under load?").await;
                    let _ = started.send((index, visitor, chat.id, sent));
                });
            }
            Some((index, visitor, chat, sent)) = started_receiver.recv() => {
                sent_at.insert(chat, sent);
                visitors[index] = Some(visitor);
            }
            Some((chat, at)) = arrived.recv() => record(&mut rung, chat, at),
        }
    }
    drop(started_sender);
    // Let the last chats finish ringing (bounded).
    let drain_until = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let done = sent_at.len() + skipped >= total
            && sent_at.keys().all(|chat| {
                rung.get(chat)
                    .is_some_and(|(count, _)| *count >= load.operators)
            });
        if done {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(drain_until) => break,
            Some((index, visitor, chat, sent)) = started_receiver.recv() => {
                sent_at.insert(chat, sent);
                visitors[index] = Some(visitor);
            }
            Some((chat, at)) = arrived.recv() => record(&mut rung, chat, at),
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds(&measured) - cpu_before;
    let generator_cpu = process_cpu_seconds("/proc/self") - generator_before;
    let machine_cpu = machine_busy_seconds() - machine_before;
    let rss_after_mib = rss_mib(&measured);
    let peak_rss_mib = peak_rss_mib(&measured);
    progress("load done");
    while let Ok((chat, at)) = arrived.try_recv() {
        record(&mut rung, chat, at);
    }
    let mut latencies: Vec<Duration> = sent_at
        .iter()
        .filter_map(|(chat, sent)| {
            let (count, at) = rung.get(chat)?;
            (*count >= load.operators).then(|| at.saturating_duration_since(*sent))
        })
        .collect();
    latencies.sort();
    for reader in readers {
        reader.abort();
    }
    drop(visitors);
    server.stop().await;
    let per_second = |seconds: f64| seconds / elapsed.max(f64::EPSILON);
    Ok(RoutingReport {
        load,
        target: total,
        chats: sent_at.len(),
        skipped,
        complete: latencies.len(),
        p50: super::percentile(&latencies, 50),
        p95: super::percentile(&latencies, 95),
        p99: super::percentile(&latencies, 99),
        max: latencies.last().copied().unwrap_or_default(),
        cpu_per_second: per_second(cpu),
        generator_cpu_per_second: per_second(generator_cpu),
        machine_cpu_per_second: per_second(machine_cpu),
        separate_process,
        rss_mib: rss_after_mib,
        rss_before_mib,
        peak_rss_mib,
    })
}

/// User + system CPU seconds of a process so far (Linux `/proc/<pid>/stat`, 100 ticks/s).
fn process_cpu_seconds(process: &str) -> f64 {
    std::fs::read_to_string(format!("{process}/stat"))
        .ok()
        .and_then(|stat| {
            // Fields after the command name, which is in parentheses and may contain spaces.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .unwrap_or(0.0)
}

/// Busy CPU seconds of the whole machine so far (`/proc/stat`: everything but idle and iowait,
/// 100 ticks/s): other work on a shared machine competes with the server for its cores.
fn machine_busy_seconds() -> f64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|stat| {
            let ticks: Vec<f64> = stat
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|field| field.parse().ok())
                .collect();
            let idle = ticks.get(3)? + ticks.get(4)?;
            Some((ticks.iter().take(8).sum::<f64>() - idle) / 100.0)
        })
        .unwrap_or(0.0)
}

/// A memory figure of a process from `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in MiB.
fn status_mib(process: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("{process}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Resident memory now (`VmRSS`), in MiB.
fn rss_mib(process: &str) -> f64 {
    status_mib(process, "VmRSS:")
}

/// Peak resident memory (`VmHWM`), in MiB; argon2 during the sign-ins is part of it.
fn peak_rss_mib(process: &str) -> f64 {
    status_mib(process, "VmHWM:")
}

/// One line per figure, and whether the run met the goal.
pub fn format_report(report: &RoutingReport) -> String {
    let load = report.load;
    let millis = |duration: Duration| duration.as_secs_f64() * 1000.0;
    let all_rang = report.complete == report.target;
    let verdict = if all_rang && report.p99 < GOAL_P99 {
        "PASS"
    } else {
        "MISS"
    };
    let who = if report.separate_process {
        "server process"
    } else {
        "whole process (server in-process + load generators)"
    };
    let mut text = format!(
        "machine: {}\n\
         workload: {} operators online, {} visitors connected, {} new chats/s for {} s\n\
         chats created {} of {} (rang for every operator: {}; not started, no idle visitor: {})\n\
         chat started -> last operator's RingStarted frame received:\n  \
         p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n\
         {who}: CPU {:.0}% of one core ({:.2} cores), RSS {:.0} MiB at the end \
         ({:.0} MiB when the load began), peak RSS {:.0} MiB (sign-ins' argon2 included)",
        super::machine_summary(),
        load.operators,
        load.visitors,
        load.chats_per_second,
        load.seconds,
        report.chats,
        report.target,
        report.complete,
        report.skipped,
        millis(report.p50),
        millis(report.p95),
        millis(report.p99),
        millis(report.max),
        report.cpu_per_second * 100.0,
        report.cpu_per_second,
        report.rss_mib,
        report.rss_before_mib,
        report.peak_rss_mib,
    );
    if report.separate_process {
        text.push_str(&format!(
            "\nload generator (this process): {:.2} cores; whole machine busy: {:.2} of {} cores \
             (other work on it: {:.2} cores)",
            report.generator_cpu_per_second,
            report.machine_cpu_per_second,
            std::thread::available_parallelism().map_or(0, |cores| cores.get()),
            (report.machine_cpu_per_second
                - report.cpu_per_second
                - report.generator_cpu_per_second)
                .max(0.0),
        ));
    }
    text.push_str(&format!(
        "\n{verdict}: p99 {:.1} ms vs the {} ms goal{}",
        millis(report.p99),
        GOAL_P99.as_millis(),
        if all_rang {
            String::new()
        } else {
            format!(
                " ({} of {} chats did not ring for everyone)",
                report.target - report.complete,
                report.target
            )
        }
    ));
    text
}

/// The routing decision alone (no storage, no sockets): how long the pure router takes to decide
/// who rings for a new chat, with `operators` online members and about `pending` chats waiting.
pub fn decision_latency(operators: usize, chats: usize, pending: usize) -> (Duration, Duration) {
    use std::collections::BTreeSet;
    use switchboard_protocol::{LiveChatId, OperatorId, Timestamp};
    use switchboard_server::routing::{Graces, OperatorFacts, PendingChat, Policy, Router};

    let site = LiveChatId(1);
    let mut router = Router::new(Graces {
        operator_ms: 60_000,
        visitor_ms: 120_000,
    });
    router.set_policy(site, Policy::default());
    for index in 0..operators {
        router.set_operator(
            OperatorId(index as i64 + 1),
            OperatorFacts {
                live_chats: BTreeSet::from([site]),
                connections: 1,
                ..OperatorFacts::default()
            },
        );
    }
    let mut latencies = Vec::with_capacity(chats);
    for index in 0..chats {
        let now = Timestamp(1_000_000 + index as i64 * 10);
        let chat = ChatId(index as i64 + 1);
        let began = Instant::now();
        let decisions = router.chat_queued(chat, PendingChat::new(site), now);
        latencies.push(began.elapsed());
        std::hint::black_box(decisions);
        // Keep about `pending` chats waiting: the oldest is accepted.
        if index >= pending {
            let oldest = ChatId((index - pending) as i64 + 1);
            let operator = OperatorId((index % operators.max(1)) as i64 + 1);
            std::hint::black_box(router.accepted(oldest, operator, now));
            std::hint::black_box(router.active_chat_finished(operator, now));
        }
    }
    latencies.sort();
    (
        super::percentile(&latencies, 50),
        super::percentile(&latencies, 99),
    )
}
