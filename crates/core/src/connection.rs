//! The live link to the server: one background task per signed-in session that keeps the
//! operator WebSocket open, applies the event stream to the cache, delivers commands and
//! reconnects with backoff.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use switchboard_protocol::{
    ClientFrame, ErrorCode, OPERATOR_WS_PATH, OperatorClientFrame, OperatorEvent,
    OperatorServerFrame, PROTOCOL_VERSION, Timestamp, VERSION_QUERY_PARAM,
};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::sensitive::Sensitive;
use crate::state::ConnectionState;
use crate::{Inner, now};

/// How often the client proves it is alive, and how long a silent link is trusted.
const PING_EVERY: Duration = Duration::from_secs(15);
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_LAST: Duration = Duration::from_secs(30);

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
                inner.set_connection(ConnectionState::Reconnecting { at });
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.changed() => return,
                }
            }
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
        connected = tokio::time::timeout(SILENCE_LIMIT, tokio_tungstenite::connect_async(url)) => connected,
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
        Ok(Ok((socket, _response))) => socket,
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
    loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = write.send(WsMessage::Close(None)).await;
                return Ended::Stopped;
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
            frame = tokio::time::timeout(SILENCE_LIMIT, read.next()) => {
                let text = match frame {
                    Err(_) => return Ended::Dropped { reason: "no frame from the server for 45 s".to_owned(), live },
                    Ok(None) => return Ended::Dropped { reason: "the server closed the connection".to_owned(), live },
                    Ok(Some(Err(error))) => return Ended::Dropped { reason: error.to_string(), live },
                    Ok(Some(Ok(WsMessage::Text(text)))) => text,
                    Ok(Some(Ok(WsMessage::Close(_)))) => return Ended::Dropped { reason: "the server closed the connection".to_owned(), live },
                    Ok(Some(Ok(_))) => continue,
                };
                let frame: OperatorServerFrame = match serde_json::from_str(text.as_str()) {
                    Ok(frame) => frame,
                    Err(error) => {
                        tracing::warn!(%error, "ignoring a frame this client does not understand");
                        continue;
                    }
                };
                match frame {
                    OperatorServerFrame::Welcome { resumed, .. } => {
                        live = true;
                        if !resumed {
                            last_seq = None;
                        }
                        inner.attach_writer(outgoing.clone());
                        inner.set_connection(ConnectionState::Connected);
                    }
                    OperatorServerFrame::Event { seq, event } => {
                        let snapshot = matches!(event, OperatorEvent::Snapshot { .. });
                        if !snapshot {
                            match last_seq {
                                Some(applied) if seq <= applied => continue,
                                Some(applied) if seq != applied + 1 => {
                                    inner.clear_cursor();
                                    return Ended::Gap;
                                }
                                _ => {}
                            }
                        }
                        inner.apply_event(seq, &event);
                        last_seq = Some(seq);
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
                }
            }
        }
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
