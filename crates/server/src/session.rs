//! One WebSocket session, operator or visitor: the Hello handshake, then frames in (commands,
//! pings) and frames out (events, replies) until either side goes away.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use switchboard_protocol::{
    ApiError, ClientFrame, ClientId, ErrorCode, LiveChatId, MAX_FRAME_BYTES, OperatorCommand,
    OperatorId, ServerFrame, VisitorCommand, VisitorId,
};
use tokio::sync::{mpsc, watch};

use crate::hub::{ConnectionId, Outbox, SharedHub, control_frame, error_frame};

/// How long a new connection may take to say Hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);
/// Frames written to a socket before one flush.
const WRITE_BATCH: usize = 256;

/// What differs between operator and visitor sessions.
pub trait Role: Send + 'static {
    type Command: DeserializeOwned + Send;
    type Actor: Copy + Send + 'static;
    fn authenticate(hub: &SharedHub, token: &str) -> Result<Option<Self::Actor>, ApiError>;
    fn attach(
        hub: &SharedHub,
        actor: Self::Actor,
        since: Option<u64>,
        outbox: Outbox,
    ) -> Result<ConnectionId, ApiError>;
    fn command(
        hub: &SharedHub,
        actor: Self::Actor,
        id: &ClientId,
        command: Self::Command,
    ) -> String;
    fn detach(hub: &SharedHub, actor: Self::Actor, connection: ConnectionId);
}

pub struct OperatorRole;

impl Role for OperatorRole {
    type Command = OperatorCommand;
    type Actor = OperatorId;
    fn authenticate(hub: &SharedHub, token: &str) -> Result<Option<OperatorId>, ApiError> {
        Ok(hub.lock().operator_for_token(token)?)
    }
    fn attach(
        hub: &SharedHub,
        actor: OperatorId,
        since: Option<u64>,
        outbox: Outbox,
    ) -> Result<ConnectionId, ApiError> {
        let mut hub = hub.lock();
        let connection = hub.attach_operator(actor, since, outbox)?;
        // B50: the visitors on site follow the snapshot or replay on every connect.
        hub.send_visitors_on_site(actor)?;
        Ok(connection)
    }
    fn command(
        hub: &SharedHub,
        actor: OperatorId,
        id: &ClientId,
        command: OperatorCommand,
    ) -> String {
        // B50: a chat ended by staff takes the visitor's "in chat" mark away.
        let ended = match &command {
            OperatorCommand::End(end) => Some(end.chat),
            _ => None,
        };
        let mut hub = hub.lock();
        let reply = hub.operator_command(actor, id, command);
        if let Some(chat) = ended
            && let Err(error) = hub.site_visitor_chat_ended(chat)
        {
            tracing::error!(%chat, %error, "failed to update a visitor on site");
        }
        reply
    }
    fn detach(hub: &SharedHub, actor: OperatorId, connection: ConnectionId) {
        hub.lock().detach_operator(actor, connection);
    }
}

pub struct VisitorRole;

impl Role for VisitorRole {
    type Command = VisitorCommand;
    type Actor = (VisitorId, LiveChatId);
    fn authenticate(hub: &SharedHub, token: &str) -> Result<Option<Self::Actor>, ApiError> {
        Ok(hub.lock().visitor_for_token(token)?)
    }
    fn attach(
        hub: &SharedHub,
        actor: Self::Actor,
        since: Option<u64>,
        outbox: Outbox,
    ) -> Result<ConnectionId, ApiError> {
        let mut hub = hub.lock();
        let connection = hub.attach_visitor(actor.0, since, outbox)?;
        hub.site_visitor_connected(actor.0, actor.1);
        Ok(connection)
    }
    fn command(
        hub: &SharedHub,
        actor: Self::Actor,
        id: &ClientId,
        command: VisitorCommand,
    ) -> String {
        // B50: starting or leaving a chat changes the visitor's "in chat" mark.
        let chat_changes = matches!(command, VisitorCommand::Start(_) | VisitorCommand::Leave(_));
        let mut hub = hub.lock();
        let reply = hub.visitor_command(actor.0, actor.1, id, command);
        if chat_changes && let Err(error) = hub.site_visitor_changed(actor.0, false) {
            tracing::error!(visitor = %actor.0, %error, "failed to update a visitor on site");
        }
        reply
    }
    fn detach(hub: &SharedHub, actor: Self::Actor, connection: ConnectionId) {
        let leaving = {
            let mut hub = hub.lock();
            hub.detach_visitor(actor.0, connection);
            hub.site_visitor_disconnected(actor.0)
        };
        if leaving {
            // The timer task sleeps until the next deadline: this visitor's departure is one.
            hub.timers().notify_one();
        }
    }
}

/// A frame read from the client, classified.
enum Incoming<C> {
    Frame(ClientFrame<C>),
    /// A command whose body did not parse: answered as a failed command so the client's
    /// request does not hang.
    BadCommand(ClientId, String),
    Refused(ApiError),
}

fn classify<C: DeserializeOwned>(text: &str) -> Incoming<C> {
    if text.len() > MAX_FRAME_BYTES {
        return Incoming::Refused(ApiError::new(
            ErrorCode::TooLarge,
            format!("Frames can be at most {MAX_FRAME_BYTES} bytes."),
        ));
    }
    match serde_json::from_str::<ClientFrame<C>>(text) {
        Ok(frame) => Incoming::Frame(frame),
        Err(error) => {
            let value: Option<serde_json::Value> = serde_json::from_str(text).ok();
            let id = value.as_ref().and_then(|value| {
                (value.get("type")?.as_str()? == "command")
                    .then(|| value.get("id")?.as_str().map(|id| ClientId(id.to_owned())))
                    .flatten()
            });
            match id {
                Some(id) => Incoming::BadCommand(id, error.to_string()),
                None => Incoming::Refused(ApiError::new(
                    ErrorCode::BadFrame,
                    "That frame is not valid JSON or not a known frame type.",
                )),
            }
        }
    }
}

fn bad_command_reply(id: &ClientId, detail: &str) -> String {
    let frame: ServerFrame<(), ()> = ServerFrame::Reply {
        id: id.clone(),
        outcome: switchboard_protocol::Outcome::Error {
            error: ApiError::new(
                ErrorCode::BadRequest,
                format!("That command is not valid: {detail}"),
            ),
        },
    };
    control_frame(&frame)
}

/// Runs one session to its end.
pub async fn run<R: Role>(
    mut socket: WebSocket,
    hub: SharedHub,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some((actor, since)) = handshake::<R>(&mut socket, &hub, &mut shutdown).await else {
        return;
    };
    let (outbox, mut outgoing) = mpsc::unbounded_channel::<String>();
    // The hub holds the only strong sender: when it drops the connection (sign-out, a test's
    // cut), the channel closes, the writer closes the socket, and replies have nowhere to go.
    let replies = outbox.downgrade();
    let connection = match R::attach(&hub, actor, since, outbox) {
        Ok(connection) => connection,
        Err(error) => {
            let _ = socket.send(Message::Text(error_frame(error).into())).await;
            return;
        }
    };
    let (mut sink, mut incoming) = socket.split();
    let mut writer = tokio::spawn(async move {
        // Frames already queued are written together and flushed once: under load many events
        // wait for the same socket, and a flush per frame costs a system call per frame.
        'frames: while let Some(text) = outgoing.recv().await {
            if sink.feed(Message::Text(text.into())).await.is_err() {
                break;
            }
            for _ in 1..WRITE_BATCH {
                let Ok(text) = outgoing.try_recv() else {
                    break;
                };
                if sink.feed(Message::Text(text.into())).await.is_err() {
                    break 'frames;
                }
            }
            if sink.flush().await.is_err() {
                break;
            }
        }
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: close_code::AWAY,
                reason: "".into(),
            })))
            .await;
    });
    loop {
        let message = tokio::select! {
            message = incoming.next() => message,
            _ = shutdown.changed() => break,
            // The writer ends when the hub dropped this connection or the socket broke.
            _ = &mut writer => {
                R::detach(&hub, actor, connection);
                return;
            }
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                if let Some(outbox) = replies.upgrade() {
                    let _ = outbox.send(error_frame(ApiError::new(
                        ErrorCode::BadFrame,
                        "Only text frames are accepted.",
                    )));
                }
                continue;
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
            Some(Ok(_)) => continue,
        };
        let reply = match classify::<R::Command>(text.as_str()) {
            Incoming::Frame(ClientFrame::Command { id, command }) => {
                let hub = hub.clone();
                // SQLite work under the hub lock is synchronous; keep it off the async workers.
                match tokio::task::spawn_blocking(move || R::command(&hub, actor, &id, command))
                    .await
                {
                    Ok(reply) => reply,
                    Err(error) => {
                        tracing::error!(%error, "command task failed");
                        error_frame(ApiError::new(
                            ErrorCode::Internal,
                            "The command failed on the server.",
                        ))
                    }
                }
            }
            Incoming::Frame(ClientFrame::Ping { nonce }) => {
                control_frame(&ServerFrame::Pong { nonce })
            }
            Incoming::Frame(ClientFrame::Hello { .. }) => error_frame(ApiError::new(
                ErrorCode::BadFrame,
                "This connection already said hello.",
            )),
            Incoming::BadCommand(id, detail) => bad_command_reply(&id, &detail),
            Incoming::Refused(error) => error_frame(error),
        };
        match replies.upgrade() {
            Some(outbox) if outbox.send(reply).is_ok() => {}
            _ => break,
        }
    }
    // Detaching drops the hub's sender, so the writer flushes what is queued and closes.
    R::detach(&hub, actor, connection);
    let _ = writer.await;
}

/// Waits for Hello and authenticates it. Frames before it are answered (pings) or refused; a bad
/// token gets an `unauthorized` error and the socket is closed.
async fn handshake<R: Role>(
    socket: &mut WebSocket,
    hub: &SharedHub,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<(R::Actor, Option<u64>)> {
    let deadline = tokio::time::Instant::now() + HELLO_TIMEOUT;
    loop {
        let message = tokio::select! {
            message = tokio::time::timeout_at(deadline, socket.recv()) => message,
            _ = shutdown.changed() => return None,
        };
        let text = match message {
            Err(_elapsed) => {
                close_with(
                    socket,
                    ApiError::new(ErrorCode::Unauthorized, "No hello within 30 seconds."),
                )
                .await;
                return None;
            }
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(Message::Binary(_)))) => {
                let _ = socket
                    .send(Message::Text(
                        error_frame(ApiError::new(
                            ErrorCode::BadFrame,
                            "Only text frames are accepted.",
                        ))
                        .into(),
                    ))
                    .await;
                continue;
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return None,
            Ok(Some(Ok(_))) => continue,
        };
        let reply = match classify::<R::Command>(text.as_str()) {
            Incoming::Frame(ClientFrame::Hello { token, since }) => {
                let hub = hub.clone();
                let actor = tokio::task::spawn_blocking(move || R::authenticate(&hub, &token))
                    .await
                    .unwrap_or_else(|_| {
                        Err(ApiError::new(
                            ErrorCode::Internal,
                            "Authentication failed on the server.",
                        ))
                    });
                match actor {
                    Ok(Some(actor)) => return Some((actor, since)),
                    Ok(None) => {
                        close_with(
                            socket,
                            ApiError::new(
                                ErrorCode::Unauthorized,
                                "This session is not valid any more. Sign in again.",
                            ),
                        )
                        .await;
                        return None;
                    }
                    Err(error) => {
                        close_with(socket, error).await;
                        return None;
                    }
                }
            }
            Incoming::Frame(ClientFrame::Ping { nonce }) => {
                control_frame(&ServerFrame::Pong { nonce })
            }
            Incoming::Frame(ClientFrame::Command { id, .. }) | Incoming::BadCommand(id, _) => {
                let frame: ServerFrame<(), ()> = ServerFrame::Reply {
                    id,
                    outcome: switchboard_protocol::Outcome::Error {
                        error: ApiError::new(
                            ErrorCode::Unauthorized,
                            "Send hello with your token first.",
                        ),
                    },
                };
                control_frame(&frame)
            }
            Incoming::Refused(error) => error_frame(error),
        };
        if socket.send(Message::Text(reply.into())).await.is_err() {
            return None;
        }
    }
}

async fn close_with(socket: &mut WebSocket, error: ApiError) {
    let code = if error.code == ErrorCode::Unauthorized {
        close_code::POLICY
    } else {
        close_code::ERROR
    };
    let _ = socket.send(Message::Text(error_frame(error).into())).await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: "".into(),
        })))
        .await;
}
