//! A fault-injecting proxy between a core and the server, for the offline-first proofs.
//!
//! The core is pointed at the proxy's URL. Plain HTTP (sign-in, history) passes through
//! untouched; WebSocket connections are relayed frame by frame, so the test can refuse
//! connections for a while, cut every live link at once (no close handshake, as a network
//! drop looks), drop an event frame, or duplicate frames in either direction.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// The faults to inject, switchable while the proxy runs.
#[derive(Default)]
struct Faults {
    /// Close every new connection at once, as a server that refuses reconnects.
    refusing: AtomicBool,
    /// Send each client frame to the server twice (a retransmitting client or network).
    duplicate_to_server: AtomicBool,
    /// Send each server frame to the client twice.
    duplicate_to_client: AtomicBool,
    /// Drop this many of the next event frames on their way to the client (lost frames).
    drop_events: AtomicUsize,
}

/// A running proxy; dropped, it stops accepting (live links end with their peers).
pub struct FaultProxy {
    url: String,
    faults: Arc<Faults>,
    cut: watch::Sender<u64>,
    relayed_events: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy on an ephemeral port in front of the server at `upstream`.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let faults = Arc::new(Faults::default());
        let (cut, _) = watch::channel(0);
        let relayed_events = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn({
            let faults = faults.clone();
            let cut = cut.clone();
            let relayed_events = relayed_events.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    if faults.refusing.load(Ordering::SeqCst) {
                        drop(stream);
                        continue;
                    }
                    tokio::spawn(relay(
                        stream,
                        upstream,
                        faults.clone(),
                        cut.subscribe(),
                        relayed_events.clone(),
                    ));
                }
            }
        });
        FaultProxy {
            url,
            faults,
            cut,
            relayed_events,
            task,
        }
    }

    /// The URL to give the core instead of the server's.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// While set, new connections are closed as soon as they arrive.
    pub fn refuse(&self, refusing: bool) {
        self.faults.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Cuts every live WebSocket link now, mid-stream, without a close handshake.
    pub fn cut(&self) {
        self.cut.send_modify(|generation| *generation += 1);
    }

    pub fn duplicate_to_server(&self, on: bool) {
        self.faults.duplicate_to_server.store(on, Ordering::SeqCst);
    }

    pub fn duplicate_to_client(&self, on: bool) {
        self.faults.duplicate_to_client.store(on, Ordering::SeqCst);
    }

    /// Loses the next `count` event frames on their way to the client.
    pub fn drop_next_events(&self, count: usize) {
        self.faults.drop_events.store(count, Ordering::SeqCst);
    }

    /// Event frames relayed to clients so far (dropped ones not counted).
    pub fn relayed_events(&self) -> u64 {
        self.relayed_events.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut();
    }
}

/// Whether the request waiting on `stream` asks for a WebSocket upgrade (peeked, not read).
async fn is_upgrade(stream: &TcpStream) -> bool {
    let mut buffer = vec![0u8; 8192];
    loop {
        let Ok(read) = stream.peek(&mut buffer).await else {
            return false;
        };
        if read == 0 {
            return false;
        }
        let head = String::from_utf8_lossy(&buffer[..read]).to_ascii_lowercase();
        if head.contains("\r\n\r\n") || read == buffer.len() {
            return head.contains("upgrade: websocket");
        }
        // Not the whole head yet: wait for more bytes.
        tokio::task::yield_now().await;
    }
}

// The handshake callback's error type is tungstenite's HTTP response, large by design.
#[expect(clippy::result_large_err)]
async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    faults: Arc<Faults>,
    mut cut: watch::Receiver<u64>,
    relayed_events: Arc<AtomicU64>,
) {
    if !is_upgrade(&client).await {
        // Plain HTTP: pass the bytes through.
        let mut client = client;
        if let Ok(mut server) = TcpStream::connect(upstream).await {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        }
        return;
    }
    let mut path = String::new();
    let accepted =
        tokio_tungstenite::accept_hdr_async(client, |request: &Request, response: Response| {
            path = request.uri().to_string();
            Ok(response)
        })
        .await;
    let Ok(client) = accepted else {
        return;
    };
    let Ok((server, _)) = tokio_tungstenite::connect_async(format!("ws://{upstream}{path}")).await
    else {
        // The server is down: the client sees its link end, as with a refused connection.
        return;
    };
    let (mut to_client, mut from_client) = client.split();
    let (mut to_server, mut from_server) = server.split();
    loop {
        tokio::select! {
            _ = cut.changed() => return,
            message = from_client.next() => {
                let Some(Ok(message)) = message else { return };
                let twice = faults.duplicate_to_server.load(Ordering::SeqCst) && message.is_text();
                if twice && to_server.send(message.clone()).await.is_err() {
                    return;
                }
                if to_server.send(message).await.is_err() {
                    return;
                }
            }
            message = from_server.next() => {
                let Some(Ok(message)) = message else { return };
                if let Message::Text(text) = &message
                    && is_event(text.as_str())
                {
                    let dropped = faults
                        .drop_events
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
                        .is_ok();
                    if dropped {
                        continue;
                    }
                    relayed_events.fetch_add(1, Ordering::SeqCst);
                }
                let twice = faults.duplicate_to_client.load(Ordering::SeqCst) && message.is_text();
                if twice && to_client.send(message.clone()).await.is_err() {
                    return;
                }
                if to_client.send(message).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn is_event(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .is_ok_and(|frame| frame.get("type").and_then(|kind| kind.as_str()) == Some("event"))
}
