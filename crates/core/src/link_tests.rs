//! The link against a scripted server: a real WebSocket on 127.0.0.1 whose every frame the
//! test writes, to produce what a real server only does by accident (a skipped sequence
//! number, a link that goes silent, a long catch-up, a transient failure).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use switchboard_protocol::{
    ApiError, Author, Availability, Channel, ChatId, ChatState, ChatSummary, ClientFrame, ClientId,
    ErrorCode, LiveChatId, Message, MessageId, OperatorClientFrame, OperatorCommand, OperatorEvent,
    OperatorResponse, OperatorServerFrame, Outcome, PROTOCOL_VERSION, Timestamp, Visibility,
    VisitorId, VisitorProfile,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::credentials::SecretStore;
use crate::sensitive::Sensitive;
use crate::{
    AudioOutput, ConnectionState, Core, CoreConfig, CoreError, CoreEvent, CredentialStore,
    OutboxState,
};

/// Real time a step may take before the test fails (generous: slow machines pass).
const WAIT: Duration = Duration::from_secs(20);

/// One operator connection to the scripted server, after its `Hello`.
struct ScriptedConnection {
    since: Option<u64>,
    socket: WebSocketStream<TcpStream>,
}

impl ScriptedConnection {
    async fn send(&mut self, frame: OperatorServerFrame) {
        let text = serde_json::to_string(&frame).expect("json");
        self.socket
            .send(WsMessage::text(text))
            .await
            .expect("the core is connected");
    }

    async fn welcome(&mut self, head: u64, resumed: bool) {
        self.send(OperatorServerFrame::Welcome {
            protocol: PROTOCOL_VERSION,
            head,
            resumed,
            // As an older server: progress by position (dense numbers here).
            missed: None,
        })
        .await;
    }

    async fn event(&mut self, seq: u64, event: OperatorEvent) {
        self.send(OperatorServerFrame::Event {
            seq,
            prev: None,
            event,
        })
        .await;
    }

    /// The next command the core sends (pings are skipped).
    async fn next_command(&mut self) -> (ClientId, OperatorCommand) {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a command in time")
                .expect("the core is connected")
                .expect("a frame");
            let WsMessage::Text(text) = message else {
                continue;
            };
            if let Ok(ClientFrame::Command { id, command }) =
                serde_json::from_str::<OperatorClientFrame>(text.as_str())
            {
                return (id, command);
            }
        }
    }
}

/// Listens on an ephemeral port; every WebSocket that says `Hello` is handed to the test.
/// Anything else (the core's REST calls) is answered by closing the socket.
async fn scripted_server() -> (String, mpsc::UnboundedReceiver<ScriptedConnection>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (connections, accepted) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let connections = connections.clone();
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                while let Some(Ok(message)) = socket.next().await {
                    let WsMessage::Text(text) = message else {
                        continue;
                    };
                    if let Ok(ClientFrame::Hello { since, .. }) =
                        serde_json::from_str::<OperatorClientFrame>(text.as_str())
                    {
                        let _ = connections.send(ScriptedConnection { since, socket });
                        return;
                    }
                }
            });
        }
    });
    (url, accepted)
}

/// A core with a stored session for `url`, so it connects at start without signing in.
async fn signed_in_core(url: &str, data_dir: &std::path::Path) -> Core {
    SecretStore::open(&CredentialStore::Memory)
        .save(url, &Sensitive::new("scripted-token".to_owned()))
        .expect("store the token");
    Core::start(CoreConfig {
        server_url: url.to_owned(),
        data_dir: data_dir.to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await
    .expect("start")
}

async fn next_connection(
    accepted: &mut mpsc::UnboundedReceiver<ScriptedConnection>,
) -> ScriptedConnection {
    tokio::time::timeout(WAIT, accepted.recv())
        .await
        .expect("the core connects in time")
        .expect("the server runs")
}

fn chat(id: i64) -> ChatSummary {
    ChatSummary {
        id: ChatId(id),
        live_chat: LiveChatId(1),
        state: ChatState::Pending,
        channel: Channel::Web,
        visitor: VisitorProfile {
            id: VisitorId(id),
            name: format!("Visitor {id}"),
            email: None,
            page_url: None,
            location: None,
            country: None,
            language: None,
            time_zone: None,
            topic: None,
        },
        subject: "Help".to_owned(),
        responsible: None,
        created_at: Timestamp(id),
        updated_at: Timestamp(id),
        rating: None,
    }
}

fn snapshot(chats: &[i64]) -> OperatorEvent {
    OperatorEvent::Snapshot {
        chats: chats.iter().map(|id| chat(*id)).collect(),
        ringing: Vec::new(),
        availability: Availability::Online,
    }
}

fn chat_ids(core: &Core) -> Vec<i64> {
    let mut ids: Vec<i64> = core
        .state()
        .chats
        .iter()
        .map(|chat| chat.summary.id.0)
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d02_a_skipped_sequence_number_triggers_a_snapshot_resync() {
    let (url, mut accepted) = scripted_server().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = signed_in_core(&url, data.path()).await;

    let mut first = next_connection(&mut accepted).await;
    assert_eq!(first.since, None, "an empty cache asks for a snapshot");
    first.welcome(5, false).await;
    first.event(5, snapshot(&[1])).await;
    first
        .event(6, OperatorEvent::ChatUpserted { chat: chat(2) })
        .await;
    // 7 never comes: the core must not apply 8 on top of a hole.
    first
        .event(8, OperatorEvent::ChatUpserted { chat: chat(3) })
        .await;

    let mut second = next_connection(&mut accepted).await;
    assert_eq!(
        second.since, None,
        "after a gap the cursor is dropped and a snapshot asked for"
    );
    assert_eq!(
        chat_ids(&core),
        vec![1, 2],
        "the event after the gap was not applied"
    );
    second.welcome(8, false).await;
    second.event(8, snapshot(&[1, 2, 3])).await;
    core.wait_until(WAIT, |state| state.chats.len() == 3)
        .await
        .expect("the snapshot repairs the cache");
    assert_eq!(chat_ids(&core), vec![1, 2, 3]);
    core.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn d02_a_silent_link_is_found_dead_within_45_seconds() {
    let (url, mut accepted) = scripted_server().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = signed_in_core(&url, data.path()).await;
    let connection = core.connection();

    // The server welcomes, then never sends another frame (no pong either), the way a link
    // behind a dead NAT or a suspended laptop's Wi-Fi looks: no error, just silence.
    let mut silent = next_connection(&mut accepted).await;
    silent.welcome(1, false).await;
    silent.event(1, snapshot(&[1])).await;
    core.wait_until(WAIT, |state| {
        state.connection == ConnectionState::Connected && state.chats.len() == 1
    })
    .await
    .expect("connected, snapshot applied");
    // The last frame arrived no later than this (the paused clock may move while real sockets
    // carry bytes, never backwards).
    let last_frame = tokio::time::Instant::now();

    // Silence for 30 s is not yet death: pings are unanswered, but the limit is 45 s.
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(*connection.borrow(), ConnectionState::Connected);

    // Every change is recorded by the core's own event stream, so none is missed however fast
    // the states follow one another.
    let mut events = core.subscribe();
    let dropped = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            if let Ok(CoreEvent::Connection {
                state: ConnectionState::Reconnecting { .. },
            }) = events.recv().await
            {
                return;
            }
        }
    })
    .await;
    assert!(dropped.is_ok(), "the dead link was never noticed");
    let noticed_after = last_frame.elapsed();
    assert!(
        noticed_after <= Duration::from_secs(45),
        "noticed only {noticed_after:?} after the last frame"
    );
    // It reconnects by itself and resumes from its cursor.
    let again = next_connection(&mut accepted).await;
    assert_eq!(again.since, Some(1));
    drop(silent);
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d02_catching_up_reports_syncing_n_of_m_until_done() {
    let (url, mut accepted) = scripted_server().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = signed_in_core(&url, data.path()).await;

    let mut first = next_connection(&mut accepted).await;
    first.welcome(1, false).await;
    first.event(1, snapshot(&[1])).await;
    core.wait_until(WAIT, |state| state.chats.len() == 1)
        .await
        .expect("the snapshot applied");
    let mut events = core.subscribe();
    drop(first);

    const MISSED: u64 = 1_000;
    let mut second = next_connection(&mut accepted).await;
    assert_eq!(second.since, Some(1), "resumes from its cursor");
    second.welcome(1 + MISSED, true).await;
    for index in 0..MISSED {
        let id = i64::try_from(index).expect("small");
        let message = Message {
            id: MessageId(id + 1),
            chat: ChatId(1),
            client_id: None,
            author: Author::Visitor {
                name: "Visitor 1".to_owned(),
            },
            visibility: Visibility::Public,
            body: format!("missed message {index}"),
            sent_at: Timestamp(id),
            attachments: Vec::new(),
            edited_at: None,
        };
        second
            .event(2 + index, OperatorEvent::MessagePosted { message })
            .await;
    }

    let mut progress = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("catch-up finishes in time")
            .expect("events flow");
        if let CoreEvent::Sync { progress: step } = event {
            progress.push(step);
            if step.is_none() {
                break;
            }
        }
    }
    let steps: Vec<(u64, u64)> = progress
        .iter()
        .flatten()
        .map(|step| (step.applied, step.total))
        .collect();
    assert_eq!(steps.first(), Some(&(0, MISSED)), "starts at 0 of {MISSED}");
    assert!(
        // At most 256 events are applied per step, so 1,000 take at least four steps.
        steps.len() >= 4 && steps.len() <= 101,
        "published in steps, not per event: {} steps",
        steps.len()
    );
    assert!(
        steps.windows(2).all(|pair| pair[0].0 < pair[1].0),
        "progress only grows: {steps:?}"
    );
    assert_eq!(core.state().sync, None, "caught up");
    assert_eq!(
        core.search("missed", Some(ChatId(1)))
            .expect("search")
            .messages
            .len(),
        50,
        "everything missed is in the cache (search shows the first 50)"
    );
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d01_a_command_the_server_failed_on_is_sent_again_after_a_backoff() {
    let (url, mut accepted) = scripted_server().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = signed_in_core(&url, data.path()).await;
    let mut server = next_connection(&mut accepted).await;
    server.welcome(1, false).await;
    server.event(1, snapshot(&[1])).await;
    core.wait_until(WAIT, |state| state.connection == ConnectionState::Connected)
        .await
        .expect("connected");

    let sender = core.clone();
    let reply = tokio::spawn(async move {
        sender
            .send(ChatId(1), "Hello again".to_owned(), Visibility::Public)
            .await
    });
    let (id, command) = server.next_command().await;
    assert!(matches!(command, OperatorCommand::Send(_)));
    // A failure on the server's side is transient: it does not remember it, so the same id
    // may run again, and the core tries again after a backoff.
    server
        .send(OperatorServerFrame::Reply {
            id: id.clone(),
            outcome: Outcome::Error {
                error: ApiError::new(ErrorCode::Internal, "The database is busy."),
            },
        })
        .await;
    let answered = reply.await.expect("the send task ends");
    assert!(
        matches!(answered, Err(CoreError::Queued)),
        "the caller hears it is queued: {answered:?}"
    );
    let state = core.state();
    assert_eq!(state.outbox.len(), 1);
    assert_eq!(state.outbox[0].state, OutboxState::Pending, "not failed");

    let (again, _) = server.next_command().await;
    assert_eq!(again, id, "the retry reuses the client id");
    server
        .send(OperatorServerFrame::Reply {
            id: again,
            outcome: Outcome::Ok {
                response: OperatorResponse::Send(Message {
                    id: MessageId(500),
                    chat: ChatId(1),
                    client_id: Some(id),
                    author: Author::System,
                    visibility: Visibility::Public,
                    body: "Hello again".to_owned(),
                    sent_at: Timestamp(5),
                    attachments: Vec::new(),
                    edited_at: None,
                }),
            },
        })
        .await;
    core.wait_until(WAIT, |state| state.outbox.is_empty())
        .await
        .expect("confirmed and removed from the outbox");
    core.shutdown().await;
}

/// Address changes fed to the core by the test, as the OS watcher feeds its own.
fn injected_network(core: &Core) -> mpsc::UnboundedSender<crate::NetworkChange> {
    let (changes, mut receiver) = mpsc::unbounded_channel();
    core.follow_network_changes(futures_util::stream::poll_fn(move |context| {
        receiver.poll_recv(context)
    }));
    changes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d02_an_address_change_reported_by_the_os_reconnects_and_catches_up_at_once() {
    let (url, mut accepted) = scripted_server().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = signed_in_core(&url, data.path()).await;
    let network = injected_network(&core);

    let mut first = next_connection(&mut accepted).await;
    first.welcome(1, false).await;
    first.event(1, snapshot(&[1])).await;
    core.wait_until(WAIT, |state| {
        state.connection == ConnectionState::Connected && state.chats.len() == 1
    })
    .await
    .expect("connected, snapshot applied");

    // The laptop joins another Wi-Fi. The old socket gives no error (the scripted server keeps
    // it open), and the heartbeat would only give up after 45 s, longer than `WAIT`: only the
    // address change can make the core come back this soon.
    let cafe = std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7));
    network
        .send(crate::NetworkChange::Up(cafe))
        .expect("the core follows the network");
    let mut second = next_connection(&mut accepted).await;
    assert_eq!(second.since, Some(1), "it resumes from its cursor");
    second.welcome(3, true).await;
    second
        .event(2, OperatorEvent::ChatUpserted { chat: chat(2) })
        .await;
    second
        .event(3, OperatorEvent::ChatUpserted { chat: chat(3) })
        .await;
    core.wait_until(WAIT, |state| {
        state.connection == ConnectionState::Connected && state.chats.len() == 3
    })
    .await
    .expect("caught up with what it missed");
    assert_eq!(chat_ids(&core), vec![1, 2, 3]);
    drop(first);
    core.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn d02_waking_from_sleep_while_backing_off_reconnects_at_once() {
    // A server that is down: every attempt is accepted by the OS and dropped at once, so the
    // backoff grows towards 30 s. Each attempt is reported with the (paused) monotonic time.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (attempts, mut attempted) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = attempts.send(tokio::time::Instant::now());
            drop(stream);
        }
    });
    let data = tempfile::tempdir().expect("a data folder");
    let core = signed_in_core(&url, data.path()).await;
    // Early states may pass unseen: the one awaited comes after several attempts.
    let mut events = core.subscribe();

    // Wait for a backoff long enough to tell "at once" from "when the backoff ends".
    let remaining = tokio::time::timeout(Duration::from_secs(600), async {
        loop {
            if let Ok(CoreEvent::Connection {
                state: ConnectionState::Reconnecting { at },
            }) = events.recv().await
            {
                let remaining =
                    Duration::from_millis(u64::try_from(at.0 - crate::now().0).unwrap_or_default());
                if remaining > Duration::from_secs(12) {
                    return remaining;
                }
            }
        }
    })
    .await
    .expect("the backoff grows");
    while attempted.try_recv().is_ok() {}

    // The lid closes for an hour: the monotonic clock stands still, the wall clock does not.
    let woke = tokio::time::Instant::now();
    core.inner.wall_clock.jump(Duration::from_secs(3600));
    let next = tokio::time::timeout(Duration::from_secs(600), attempted.recv())
        .await
        .expect("it tries again")
        .expect("the listener runs");
    let waited = next - woke;
    assert!(
        waited <= super::connection::WAKE_CHECK_EVERY + Duration::from_secs(1)
            && waited < remaining,
        "tried again {waited:?} after waking, with {remaining:?} of backoff left"
    );
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_arrives_as_an_event_without_moving_the_cursor_and_read_state_is_passed_on() {
    let (url, mut accepted) = scripted_server().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = signed_in_core(&url, data.path()).await;
    let mut events = core.subscribe();

    let mut first = next_connection(&mut accepted).await;
    first.welcome(1, false).await;
    first.event(1, snapshot(&[1])).await;
    first
        .send(OperatorServerFrame::Transient {
            event: OperatorEvent::VisitorTyping {
                chat: ChatId(1),
                typing: true,
            },
        })
        .await;
    first
        .event(
            2,
            OperatorEvent::VisitorRead {
                chat: ChatId(1),
                up_to: MessageId(9),
            },
        )
        .await;
    let mut typing = false;
    let read = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(CoreEvent::VisitorTyping {
                    chat: ChatId(1),
                    typing: true,
                }) => typing = true,
                Ok(CoreEvent::VisitorRead { chat, up_to }) => return (chat, up_to),
                Ok(_) => {}
                Err(error) => panic!("the event stream ended: {error}"),
            }
        }
    })
    .await
    .expect("the read mark reaches the console");
    assert!(typing, "the typing frame reached the console before it");
    assert_eq!(read, (ChatId(1), MessageId(9)));

    // The transient frame took no sequence number: a reconnect resumes from the last event.
    drop(first);
    let again = next_connection(&mut accepted).await;
    assert_eq!(again.since, Some(2));
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d02_a_network_change_told_while_connecting_keeps_the_new_link() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let data = tempfile::tempdir().expect("a data folder");
    let core = signed_in_core(&url, data.path()).await;

    // The core is mid-connect (TCP open, WebSocket handshake not answered yet) when the OS
    // reports the new network: the link being made already goes over it.
    let (stream, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .expect("the core connects in time")
        .expect("accept");
    core.network_changed();
    let mut socket = tokio_tungstenite::accept_async(stream)
        .await
        .expect("the handshake");
    let since = loop {
        let message = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a hello in time")
            .expect("the core is connected")
            .expect("a frame");
        if let WsMessage::Text(text) = message
            && let Ok(ClientFrame::Hello { since, .. }) =
                serde_json::from_str::<OperatorClientFrame>(text.as_str())
        {
            break since;
        }
    };
    let mut server = ScriptedConnection { since, socket };
    server.welcome(1, false).await;
    server.event(1, snapshot(&[1])).await;
    core.wait_until(WAIT, |state| {
        state.connection == ConnectionState::Connected && state.chats.len() == 1
    })
    .await
    .expect("connected, snapshot applied");
    server
        .event(2, OperatorEvent::ChatUpserted { chat: chat(2) })
        .await;
    core.wait_until(WAIT, |state| state.chats.len() == 2)
        .await
        .expect("the same link carries on: the change was not taken for a reason to drop it");
    core.shutdown().await;
}
