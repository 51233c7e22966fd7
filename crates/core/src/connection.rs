//! The live link to the server: one background task per signed-in session that keeps the
//! operator WebSocket open, applies the event stream to the cache, delivers commands and
//! reconnects with backoff.

use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use switchboard_protocol::{
    ClientFrame, ErrorCode, OPERATOR_WS_PATH, OperatorClientFrame, OperatorEvent,
    OperatorServerFrame, PROTOCOL_VERSION, Timestamp, VERSION_QUERY_PARAM,
};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::sensitive::Sensitive;
use crate::state::{ConnectionState, SyncProgress};
use crate::{Inner, now};

/// How often the client proves it is alive, and how long a silent link is trusted.
const PING_EVERY: Duration = Duration::from_secs(15);
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_LAST: Duration = Duration::from_secs(30);
/// How often the wall clock is compared with the monotonic one to notice a wake from sleep.
pub(crate) const WAKE_CHECK_EVERY: Duration = Duration::from_secs(5);
/// Wall time running this much ahead of monotonic time between two checks means the machine
/// slept (the monotonic clock stops during suspend, the wall clock does not).
const WAKE_JUMP: Duration = Duration::from_secs(10);
/// Catch-up progress is published at most this many times per catch-up, not per event.
const SYNC_STEPS: u64 = 100;
/// Most events applied in one transaction while catching up.
const CATCH_UP_BATCH: usize = 256;

/// Notices a wake from sleep: between two observations the wall clock moved much further than
/// the monotonic clock. A wall clock set backwards or slightly adjusted (NTP) is not a wake.
pub(crate) struct WakeDetector {
    last: Option<(tokio::time::Instant, std::time::SystemTime)>,
}

impl WakeDetector {
    pub(crate) fn new() -> WakeDetector {
        WakeDetector { last: None }
    }

    /// Records one observation; true when the machine slept since the previous one.
    pub(crate) fn observe(
        &mut self,
        monotonic: tokio::time::Instant,
        wall: std::time::SystemTime,
    ) -> bool {
        let previous = self.last.replace((monotonic, wall));
        let Some((last_monotonic, last_wall)) = previous else {
            return false;
        };
        let monotonic_elapsed = monotonic.saturating_duration_since(last_monotonic);
        let Ok(wall_elapsed) = wall.duration_since(last_wall) else {
            return false;
        };
        wall_elapsed > monotonic_elapsed + WAKE_JUMP
    }
}

/// The wall clock [`WakeDetector`] compares with the monotonic one: the system's, moved by a
/// test to fake a sleep (tokio's paused clock stands in for the monotonic one).
#[derive(Clone, Debug, Default)]
pub(crate) struct WallClock {
    /// Added to the system's clock, in milliseconds.
    #[cfg_attr(not(test), allow(dead_code))]
    ahead: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl WallClock {
    pub(crate) fn now(&self) -> std::time::SystemTime {
        let ahead = self.ahead.load(std::sync::atomic::Ordering::Relaxed);
        std::time::SystemTime::now() + Duration::from_millis(ahead)
    }

    /// Moves the wall clock forward, as a suspend of `by` does.
    #[cfg(test)]
    pub(crate) fn jump(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.ahead
            .fetch_add(by, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Why one connection ended.
#[derive(Debug)]
enum Ended {
    /// Shut down or signed out on purpose.
    Stopped,
    /// The server speaks another protocol version (HTTP 426).
    UpgradeRequired,
    /// The token is not valid any more.
    Unauthorized,
    /// The event stream skipped a sequence number: start over from a snapshot.
    Gap,
    /// Network trouble; retry later. `live` says whether the server had welcomed us.
    Dropped { reason: String, live: bool },
}

/// Reconnect delays: doubling from 0.5 s up to 30 s, each drawn from the upper half of its
/// window so many clients do not reconnect in lockstep after a server restart.
pub(crate) struct Backoff {
    attempt: u32,
    random: fastrand::Rng,
}

impl Backoff {
    pub(crate) fn new(seed: u64) -> Backoff {
        Backoff {
            attempt: 0,
            random: fastrand::Rng::with_seed(seed),
        }
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = BACKOFF_FIRST
            .saturating_mul(1 << self.attempt.min(16))
            .min(BACKOFF_LAST);
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        half + half.mul_f64(self.random.f64())
    }

    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// The WebSocket URL for the operator stream, derived from the server's HTTP URL.
pub(crate) fn operator_ws_url(server_url: &str) -> String {
    let base = server_url.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    format!("{base}{OPERATOR_WS_PATH}?{VERSION_QUERY_PARAM}={PROTOCOL_VERSION}")
}

/// Runs until stopped, signed out by the server, or told to upgrade.
pub(crate) async fn run(
    inner: std::sync::Arc<Inner>,
    token: Sensitive<String>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::new(fastrand::u64(..));
    loop {
        if *stop.borrow() {
            return;
        }
        inner.set_connection(ConnectionState::Connecting);
        let ended = connect_once(&inner, &token, &mut stop).await;
        inner.detach_writer();
        // A catch-up cut short restarts from the cursor on the next connection.
        inner.set_sync(None);
        match ended {
            Ended::Stopped => return,
            Ended::UpgradeRequired => {
                inner.set_connection(ConnectionState::UpgradeRequired);
                inner.fail_pending();
                return;
            }
            Ended::Unauthorized => {
                inner.fail_pending();
                inner.session_revoked().await;
                return;
            }
            Ended::Gap => {
                // Retry at once: the snapshot repairs the cache.
                tracing::info!("event stream skipped a number; reconnecting for a snapshot");
                continue;
            }
            Ended::Dropped { reason, live } => {
                if live {
                    backoff.reset();
                }
                let delay = backoff.next_delay();
                tracing::info!(%reason, ?delay, "operator link dropped; retrying");
                let at = Timestamp(now().0 + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
                // Watched from before the state says when the retry is, so a sleep that starts
                // right after is noticed.
                let mut wake = WakeDetector::new();
                wake.observe(tokio::time::Instant::now(), inner.wall_clock.now());
                inner.set_connection(ConnectionState::Reconnecting { at });
                match wait_to_reconnect(&inner, delay, &mut wake, &mut stop).await {
                    Waited::Stopped => return,
                    Waited::Elapsed => {}
                    // The failures so far were on the old network or before the sleep: start
                    // the backoff over.
                    Waited::Changed => backoff.reset(),
                }
            }
        }
    }
}

/// How a wait before reconnecting ended.
enum Waited {
    Elapsed,
    /// The network changed or the machine woke up: reconnect now.
    Changed,
    Stopped,
}

/// Waits out a backoff delay. The wait ends early when the network changed or the machine
/// woke from sleep: the monotonic clock stands still while suspended, so after a night asleep
/// the rest of a 30 s backoff would still be ahead, for nothing.
async fn wait_to_reconnect(
    inner: &Inner,
    delay: Duration,
    wake: &mut WakeDetector,
    stop: &mut watch::Receiver<bool>,
) -> Waited {
    let retry_at = tokio::time::Instant::now() + delay;
    let mut wake_check = tokio::time::interval_at(
        tokio::time::Instant::now() + WAKE_CHECK_EVERY,
        WAKE_CHECK_EVERY,
    );
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(retry_at) => return Waited::Elapsed,
            // The network came back: try now rather than at the end of the backoff.
            _ = inner.nudge.notified() => return Waited::Changed,
            _ = wake_check.tick() => {
                if wake.observe(tokio::time::Instant::now(), inner.wall_clock.now()) {
                    tracing::info!("woke from sleep while waiting to reconnect; reconnecting now");
                    return Waited::Changed;
                }
            }
            _ = stop.changed() => return Waited::Stopped,
        }
    }
}

async fn connect_once(
    inner: &std::sync::Arc<Inner>,
    token: &Sensitive<String>,
    stop: &mut watch::Receiver<bool>,
) -> Ended {
    let url = operator_ws_url(&inner.server_url);
    let connected = tokio::select! {
        // `true` disables Nagle's algorithm: commands and pings are small frames that must not
        // wait for a delayed ACK.
        connected = tokio::time::timeout(
            SILENCE_LIMIT,
            tokio_tungstenite::connect_async_with_config(url, None, true),
        ) => connected,
        _ = stop.changed() => return Ended::Stopped,
    };
    let socket = match connected {
        Err(_) => {
            return Ended::Dropped {
                reason: "connecting timed out".to_owned(),
                live: false,
            };
        }
        Ok(Err(tungstenite::Error::Http(response))) => {
            return match response.status().as_u16() {
                426 => Ended::UpgradeRequired,
                401 => Ended::Unauthorized,
                status => Ended::Dropped {
                    reason: format!("HTTP {status}"),
                    live: false,
                },
            };
        }
        Ok(Err(error)) => {
            return Ended::Dropped {
                reason: error.to_string(),
                live: false,
            };
        }
        Ok(Ok((socket, _response))) => {
            // A network change told while connecting is one this new link already follows:
            // forget it rather than drop the link it would otherwise cut at once.
            let _ = inner.nudge.notified().now_or_never();
            socket
        }
    };
    let (mut write, mut read) = socket.split();

    let mut last_seq = inner.cursor();
    let hello: OperatorClientFrame = ClientFrame::Hello {
        token: token.expose().clone(),
        since: last_seq,
    };
    if let Err(error) = send_frame(&mut write, &hello).await {
        return Ended::Dropped {
            reason: error,
            live: false,
        };
    }

    let (outgoing, mut outgoing_receiver) = mpsc::unbounded_channel::<String>();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let mut nonce: u64 = 0;
    let mut live = false;
    let mut wake_check = tokio::time::interval(WAKE_CHECK_EVERY);
    let mut wake = WakeDetector::new();
    // Set while replaying what was missed.
    let mut catching_up: Option<CatchUp> = None;
    // Anything from the server proves the link alive; the server answers every ping.
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = stop.changed() => {
                inner.set_sync(None);
                let _ = write.send(WsMessage::Close(None)).await;
                return Ended::Stopped;
            }
            _ = inner.nudge.notified() => {
                // The old link may be dead without knowing it (new network, new address):
                // reconnect now and catch up rather than wait 45 s for the heartbeat.
                inner.set_sync(None);
                return Ended::Dropped { reason: "the network changed".to_owned(), live };
            }
            _ = wake_check.tick() => {
                if wake.observe(tokio::time::Instant::now(), inner.wall_clock.now()) {
                    inner.set_sync(None);
                    return Ended::Dropped { reason: "woke from sleep".to_owned(), live };
                }
            }
            _ = ping.tick() => {
                nonce += 1;
                let frame: OperatorClientFrame = ClientFrame::Ping { nonce };
                if let Err(reason) = send_frame(&mut write, &frame).await {
                    return Ended::Dropped { reason, live };
                }
            }
            Some(text) = outgoing_receiver.recv() => {
                if let Err(error) = write.send(WsMessage::text(text)).await {
                    return Ended::Dropped { reason: error.to_string(), live };
                }
            }
            // The deadline counts from the last frame heard, not from the last loop turn: the
            // ping and wake ticks turn the loop far more often than the limit.
            _ = tokio::time::sleep_until(last_heard + SILENCE_LIMIT) => {
                return Ended::Dropped { reason: "no frame from the server for 45 s".to_owned(), live };
            }
            frame = read.next() => {
                last_heard = tokio::time::Instant::now();
                let text = match frame {
                    None => return Ended::Dropped { reason: "the server closed the connection".to_owned(), live },
                    Some(Err(error)) => return Ended::Dropped { reason: error.to_string(), live },
                    Some(Ok(WsMessage::Text(text))) => text,
                    Some(Ok(WsMessage::Close(_))) => return Ended::Dropped { reason: "the server closed the connection".to_owned(), live },
                    Some(Ok(_)) => continue,
                };
                let frame: OperatorServerFrame = match serde_json::from_str(text.as_str()) {
                    Ok(frame) => frame,
                    Err(error) => {
                        tracing::warn!(%error, "ignoring a frame this client does not understand");
                        continue;
                    }
                };
                // Usually one frame; a catch-up may read ahead and leave the first frame that
                // is not an event for after the events it applied.
                let mut next_frame = Some(frame);
                while let Some(frame) = next_frame.take() {
                    match frame {
                        OperatorServerFrame::Welcome { resumed, head, missed, .. } => {
                            live = true;
                            if !resumed {
                                last_seq = None;
                            }
                            catching_up = match last_seq {
                                Some(since) if resumed && head > since && missed != Some(0) => {
                                    let catch_up = CatchUp::new(since, head, missed);
                                    inner.set_sync(Some(SyncProgress { applied: 0, total: catch_up.total }));
                                    Some(catch_up)
                                }
                                _ => {
                                    inner.set_sync(None);
                                    None
                                }
                            };
                            inner.attach_writer(outgoing.clone());
                            inner.set_connection(ConnectionState::Connected);
                        }
                        OperatorServerFrame::Event { seq, prev, event } => {
                            let mut received = vec![(seq, prev, event)];
                            // While catching up, the events already here are applied together, in
                            // one transaction.
                            if catching_up.is_some() {
                                while received.len() < CATCH_UP_BATCH {
                                    let Some(Some(Ok(WsMessage::Text(text)))) = read.next().now_or_never() else {
                                        break;
                                    };
                                    match serde_json::from_str::<OperatorServerFrame>(text.as_str()) {
                                        Ok(OperatorServerFrame::Event { seq, prev, event }) => received.push((seq, prev, event)),
                                        Ok(other) => {
                                            next_frame = Some(other);
                                            break;
                                        }
                                        Err(error) => tracing::warn!(%error, "ignoring a frame this client does not understand"),
                                    }
                                }
                            }
                            let mut accepted = Vec::with_capacity(received.len());
                            let mut gap = false;
                            for (seq, prev, event) in received {
                                let snapshot = matches!(event, OperatorEvent::Snapshot { .. });
                                if !snapshot {
                                    match last_seq {
                                        // Already applied (a duplicate or a replay overlap).
                                        Some(applied) if seq <= applied => continue,
                                        Some(applied) if is_gap(applied, seq, prev) => {
                                            gap = true;
                                            break;
                                        }
                                        _ => {}
                                    }
                                }
                                last_seq = Some(seq);
                                accepted.push((seq, event));
                            }
                            let accepted_count = accepted.len() as u64;
                            match accepted.as_slice() {
                                [] => {}
                                [(seq, event)] => inner.apply_event(*seq, event),
                                run => inner.apply_events(run),
                            }
                            if gap {
                                // The stream skipped a number: what follows cannot be trusted on
                                // top of the hole; start over from a snapshot.
                                inner.clear_cursor();
                                return Ended::Gap;
                            }
                            if let (Some(catch_up), Some(seq)) = (catching_up.as_mut(), last_seq) {
                                match catch_up.applied(seq, accepted_count) {
                                    None => {
                                        catching_up = None;
                                        inner.set_sync(None);
                                    }
                                    Some(Some(progress)) => inner.set_sync(Some(progress)),
                                    Some(None) => {}
                                }
                            }
                        }
                        OperatorServerFrame::Reply { id, outcome } => inner.resolve(&id, outcome),
                        OperatorServerFrame::Error { error } => {
                            if error.code == ErrorCode::Unauthorized {
                                return Ended::Unauthorized;
                            }
                            if error.code == ErrorCode::UpgradeRequired {
                                return Ended::UpgradeRequired;
                            }
                            tracing::warn!(%error, "the server reported an error");
                        }
                        OperatorServerFrame::Pong { .. } => {}
                        OperatorServerFrame::Transient { event } => inner.apply_transient(&event),
                    }
                }
            }
        }
    }
}

/// Catch-up progress after a resume: counted in events when the server said how many it
/// replays, else (older servers, dense numbers) by position between the cursor and the head.
struct CatchUp {
    since: u64,
    head: u64,
    /// Events the replay holds, when the server said.
    missed: Option<u64>,
    total: u64,
    counted: u64,
    reported: u64,
}

impl CatchUp {
    fn new(since: u64, head: u64, missed: Option<u64>) -> Self {
        CatchUp {
            since,
            head,
            missed,
            total: missed.unwrap_or(head - since),
            counted: 0,
            reported: 0,
        }
    }

    /// Records `count` more applied events, the last with `seq`. `None`: caught up;
    /// `Some(Some(progress))`: a step worth showing; `Some(None)`: nothing new to show.
    fn applied(&mut self, seq: u64, count: u64) -> Option<Option<SyncProgress>> {
        self.counted += count;
        if seq >= self.head {
            return None;
        }
        let applied = match self.missed {
            Some(_) => self.counted,
            None => seq.saturating_sub(self.since),
        }
        .min(self.total);
        let step = self.total.div_ceil(SYNC_STEPS).max(1);
        if applied / step > self.reported / step {
            self.reported = applied;
            Some(Some(SyncProgress {
                applied,
                total: self.total,
            }))
        } else {
            Some(None)
        }
    }
}

/// Whether an event after the last applied one leaves a hole. With `prev` (the previous event of
/// this stream, whose numbers are ids in a log shared by many operators and so skip) the client
/// missed something exactly when it has not applied `prev`; without it numbers are dense.
fn is_gap(applied: u64, seq: u64, prev: Option<u64>) -> bool {
    match prev {
        Some(prev) => prev > applied,
        None => seq != applied + 1,
    }
}

async fn send_frame<S>(write: &mut S, frame: &OperatorClientFrame) -> Result<(), String>
where
    S: futures_util::Sink<WsMessage, Error = tungstenite::Error> + Unpin,
{
    let text = serde_json::to_string(frame).map_err(|error| error.to_string())?;
    write
        .send(WsMessage::text(text))
        .await
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_url_swaps_the_scheme_and_carries_the_version() {
        assert_eq!(
            operator_ws_url("http://127.0.0.1:8080/"),
            "ws://127.0.0.1:8080/api/v1/operator/ws?v=1"
        );
        assert_eq!(
            operator_ws_url("https://chat.example.com"),
            "wss://chat.example.com/api/v1/operator/ws?v=1"
        );
    }

    #[test]
    fn d02_catch_up_progress_counts_events_when_the_server_says_how_many() {
        // 200 events replayed between ids 1,000 and 9,000 (other operators' events in between).
        let mut catch_up = CatchUp::new(1_000, 9_000, Some(200));
        assert_eq!(catch_up.total, 200);
        let progress = catch_up.applied(1_400, 50).expect("not caught up yet");
        assert_eq!(
            progress,
            Some(SyncProgress {
                applied: 50,
                total: 200
            }),
            "50 of 200 events, not 400 of 8,000 numbers"
        );
        assert_eq!(catch_up.applied(9_000, 150), None, "the head: caught up");

        // An older server: by position between the cursor and the head.
        let mut by_number = CatchUp::new(100, 300, None);
        assert_eq!(
            by_number.applied(150, 1).expect("not caught up"),
            Some(SyncProgress {
                applied: 50,
                total: 200
            })
        );
    }

    #[test]
    fn d02_a_gap_is_a_missed_predecessor_not_a_skipped_number() {
        // Shared-log ids skip numbers: 7 after 3 is fine when 3 is its predecessor.
        assert!(!is_gap(3, 7, Some(3)));
        // A snapshot stamped at 5 covers everything up to 5, whatever came before.
        assert!(!is_gap(5, 7, Some(3)));
        // The predecessor 6 never arrived.
        assert!(is_gap(5, 9, Some(6)));
        // Without `prev` the numbers are dense.
        assert!(!is_gap(5, 6, None));
        assert!(is_gap(5, 7, None));
    }

    #[test]
    fn d02_a_wall_clock_far_ahead_of_the_monotonic_clock_is_a_wake_from_sleep() {
        let start = tokio::time::Instant::now();
        let wall = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut detector = WakeDetector::new();
        assert!(
            !detector.observe(start, wall),
            "the first look has nothing to compare"
        );
        // Both clocks moved 5 s: awake all along.
        let (start, wall) = (start + WAKE_CHECK_EVERY, wall + WAKE_CHECK_EVERY);
        assert!(!detector.observe(start, wall));
        // NTP nudged the wall clock a little, or set it back: not a wake.
        let (start, wall) = (
            start + WAKE_CHECK_EVERY,
            wall + WAKE_CHECK_EVERY + Duration::from_secs(2),
        );
        assert!(!detector.observe(start, wall));
        let (start, wall) = (start + WAKE_CHECK_EVERY, wall - Duration::from_secs(3600));
        assert!(!detector.observe(start, wall));
        // Suspended for an hour: the monotonic clock stood still, the wall clock did not.
        let (start, wall) = (start + WAKE_CHECK_EVERY, wall + Duration::from_secs(3600));
        assert!(detector.observe(start, wall));
        // And only once.
        assert!(!detector.observe(start + WAKE_CHECK_EVERY, wall + WAKE_CHECK_EVERY));
    }

    #[test]
    fn backoff_grows_from_half_a_second_to_thirty_with_jitter() {
        let mut backoff = Backoff::new(7);
        let delays: Vec<Duration> = (0..12).map(|_| backoff.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(250) && delays[0] <= BACKOFF_FIRST);
        assert!(delays.iter().all(|delay| *delay <= BACKOFF_LAST));
        assert!(
            delays[11] >= BACKOFF_LAST / 2,
            "the ceiling is reached: {delays:?}"
        );
        backoff.reset();
        assert!(backoff.next_delay() <= BACKOFF_FIRST);
        let again: Vec<Duration> = {
            let mut seeded = Backoff::new(7);
            (0..12).map(|_| seeded.next_delay()).collect()
        };
        assert_eq!(delays, again, "the same seed gives the same delays");
    }
}
