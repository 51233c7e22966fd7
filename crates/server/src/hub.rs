//! The hub owns the database connection, the routing state and the live connections, behind one
//! lock. Every state change (a command, a connection coming or going) runs under that lock in a
//! single transaction, so decisions are serialised: two simultaneous accepts cannot both win.
//! Events are appended to their stream's log inside the transaction and pushed to the stream's
//! live connections only after it commits.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;
use serde::Serialize;
use switchboard_protocol::{
    AcceptChat, Ack, ApiError, Availability, AvailabilityState, ChatHistory, ChatId, ChatState,
    ClientId, EndChat, ErrorCode, LeaveChat, LiveChatId, MAX_MESSAGE_CHARS, MuteRing,
    OperatorCommand, OperatorEvent, OperatorId, OperatorProfile, OperatorResponse, Outcome,
    RingStopReason, SendMessage, ServerFrame, SetAvailability, SignInResponse, StartChat,
    Timestamp, Visibility, VisitorCommand, VisitorEvent, VisitorId, VisitorResponse, VisitorSend,
    VisitorSessionResponse,
};
use tokio::sync::mpsc;

use crate::credentials;
use crate::routing::{RingChange, Router};
use crate::storage::{self, ChatRow, NewAuthor, StoreError, StoreResult};

/// Where a connection's outgoing text frames go; its writer task drains it into the socket.
pub type Outbox = mpsc::UnboundedSender<String>;

const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;
const MAX_NAME_CHARS: usize = 100;
const MAX_EMAIL_CHARS: usize = 254;
const MAX_URL_CHARS: usize = 2_048;

/// An event stream: one per operator and one per visitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    Operator(OperatorId),
    Visitor(VisitorId),
}

impl Stream {
    /// The stream's name in the event log, e.g. `operator:3`.
    pub fn key(self) -> String {
        match self {
            Stream::Operator(id) => format!("operator:{id}"),
            Stream::Visitor(id) => format!("visitor:{id}"),
        }
    }

    /// The name commands of this actor are logged under for idempotency.
    fn actor(self) -> String {
        self.key()
    }
}

/// Identifies one live connection so it can be detached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionId(u64);

/// The hub behind its lock, shared by every request handler.
#[derive(Clone)]
pub struct SharedHub(Arc<Mutex<Hub>>);

impl SharedHub {
    pub fn new(hub: Hub) -> Self {
        Self(Arc::new(Mutex::new(hub)))
    }

    /// Takes the lock. A panic while holding it leaves the database consistent (transactions roll
    /// back), so later requests carry on rather than failing forever.
    pub fn lock(&self) -> MutexGuard<'_, Hub> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        tracing::error!(error = ?error, "storage failure");
        ApiError::new(
            ErrorCode::Internal,
            "Something went wrong on the server. Please try again.",
        )
    }
}

/// Token lifetimes the hub issues.
#[derive(Clone, Copy, Debug)]
pub struct TokenLifetimes {
    pub operator_days: i64,
    pub visitor_days: i64,
}

pub struct Hub {
    database: Connection,
    router: Router,
    connections: HashMap<Stream, Vec<(ConnectionId, Outbox)>>,
    next_connection: u64,
    lifetimes: TokenLifetimes,
}

/// Events produced while a transaction runs, delivered after it commits.
struct Effects<'a> {
    database: &'a Connection,
    router: &'a mut Router,
    frames: Vec<(Stream, String)>,
    now: Timestamp,
}

impl Effects<'_> {
    fn emit<E: Serialize>(&mut self, stream: Stream, event: &E) -> StoreResult<()> {
        let payload = serde_json::to_string(event)
            .map_err(|error| StoreError::Invalid(format!("event does not serialise: {error}")))?;
        let seq = storage::append_event(self.database, &stream.key(), &payload, self.now)?;
        self.frames.push((stream, event_frame(seq, &payload)));
        Ok(())
    }

    fn notify_operator(&mut self, operator: OperatorId, event: &OperatorEvent) -> StoreResult<()> {
        self.emit(Stream::Operator(operator), event)
    }

    fn notify_members(&mut self, live_chat: LiveChatId, event: &OperatorEvent) -> StoreResult<()> {
        for member in storage::members(self.database, live_chat)? {
            self.notify_operator(member, event)?;
        }
        Ok(())
    }

    fn notify_visitor(&mut self, visitor: VisitorId, event: &VisitorEvent) -> StoreResult<()> {
        self.emit(Stream::Visitor(visitor), event)
    }

    fn ring_changes(&mut self, changes: Vec<RingChange>) -> StoreResult<()> {
        for change in changes {
            match change {
                RingChange::Start { operator, chat } => {
                    self.notify_operator(operator, &OperatorEvent::RingStarted { chat })?
                }
                RingChange::StopUnavailable { operator, chat } => self.notify_operator(
                    operator,
                    &OperatorEvent::RingStopped {
                        chat,
                        reason: RingStopReason::Unavailable,
                    },
                )?,
            }
        }
        Ok(())
    }

    /// A message posted in a chat: staff see it all, the visitor only what is public.
    fn message_posted(
        &mut self,
        chat: &ChatRow,
        message: &switchboard_protocol::Message,
    ) -> StoreResult<()> {
        self.notify_members(
            chat.live_chat,
            &OperatorEvent::MessagePosted {
                message: message.clone(),
            },
        )?;
        if let Some(visible) = storage::visitor_message(message) {
            self.notify_visitor(
                chat.visitor,
                &VisitorEvent::MessagePosted { message: visible },
            )?;
        }
        Ok(())
    }

    fn chat_changed(&mut self, chat: &ChatRow) -> StoreResult<switchboard_protocol::ChatSummary> {
        let summary = storage::chat_summary(self.database, chat.id)?
            .ok_or_else(|| StoreError::Invalid(format!("chat {} vanished", chat.id)))?;
        self.notify_members(
            chat.live_chat,
            &OperatorEvent::ChatUpserted {
                chat: summary.clone(),
            },
        )?;
        let visitor_chat = self.visitor_chat(chat.id)?;
        self.notify_visitor(
            chat.visitor,
            &VisitorEvent::ChatUpdated { chat: visitor_chat },
        )?;
        Ok(summary)
    }

    fn visitor_chat(&self, chat: ChatId) -> StoreResult<switchboard_protocol::VisitorChat> {
        storage::visitor_chat(self.database, chat)?
            .ok_or_else(|| StoreError::Invalid(format!("chat {chat} vanished")))
    }
}

fn event_frame(seq: u64, payload: &str) -> String {
    // Same shape serde gives `ServerFrame::Event`, built from the stored payload so replays
    // and live pushes are byte-for-byte the same event.
    format!(r#"{{"type":"event","seq":{seq},"event":{payload}}}"#)
}

/// A frame that carries no event or reply type (`Welcome`, `Error`, `Pong`).
pub fn control_frame(frame: &ServerFrame<(), ()>) -> String {
    serde_json::to_string(frame).unwrap_or_else(|_| {
        r#"{"type":"error","error":{"code":"internal","message":"Frame failed to serialise."}}"#
            .to_owned()
    })
}

pub fn error_frame(error: ApiError) -> String {
    control_frame(&ServerFrame::Error { error })
}

fn reply_frame(id: &ClientId, outcome: &str) -> String {
    let id = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".to_owned());
    format!(r#"{{"type":"reply","id":{id},"outcome":{outcome}}}"#)
}

fn bad_request(message: &str) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, message)
}

fn check_body(body: &str) -> Result<(), ApiError> {
    if body.trim().is_empty() {
        return Err(bad_request("A message cannot be empty."));
    }
    if body.chars().count() > MAX_MESSAGE_CHARS {
        return Err(bad_request(&format!(
            "A message can be at most {MAX_MESSAGE_CHARS} characters long."
        )));
    }
    Ok(())
}

fn check_length(value: &str, max: usize, what: &str) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(bad_request(&format!(
            "The {what} can be at most {max} characters long."
        )));
    }
    Ok(())
}

fn not_found_chat() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "There is no such chat.")
}

impl Hub {
    /// A hub over an opened, migrated database; loads the routing state from it.
    pub fn new(database: Connection, lifetimes: TokenLifetimes) -> StoreResult<Self> {
        let mut router = Router::default();
        for (operator, availability, live_chats) in storage::all_operators(&database)? {
            router.set_operator(operator, live_chats.into_iter().collect(), availability);
        }
        for (chat, live_chat, muted_by) in storage::pending_chats(&database)? {
            router.add_pending(chat, live_chat, muted_by.into_iter().collect());
        }
        Ok(Self {
            database,
            router,
            connections: HashMap::new(),
            next_connection: 0,
            lifetimes,
        })
    }

    /// Runs `work` in one transaction and delivers its events once it commits. On error nothing
    /// is delivered and the database is unchanged.
    fn transact<T>(
        &mut self,
        work: impl FnOnce(&mut Effects<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let transaction = self.database.transaction().map_err(StoreError::from)?;
        let mut effects = Effects {
            database: &transaction,
            router: &mut self.router,
            frames: Vec::new(),
            now: storage::now(),
        };
        let value = work(&mut effects)?;
        let frames = std::mem::take(&mut effects.frames);
        transaction.commit().map_err(StoreError::from)?;
        self.deliver(frames);
        Ok(value)
    }

    fn deliver(&mut self, frames: Vec<(Stream, String)>) {
        for (stream, text) in frames {
            if let Some(outboxes) = self.connections.get_mut(&stream) {
                // A closed outbox means its connection is going away; it detaches itself.
                outboxes.retain(|(_, outbox)| outbox.send(text.clone()).is_ok());
            }
        }
    }

    fn register(&mut self, stream: Stream, outbox: Outbox) -> ConnectionId {
        self.next_connection += 1;
        let id = ConnectionId(self.next_connection);
        self.connections
            .entry(stream)
            .or_default()
            .push((id, outbox));
        id
    }

    /// Cuts every live WebSocket session (their writers end and close the sockets); the
    /// sessions detach themselves as their readers notice. A fault seam for reconnect tests.
    pub fn drop_connections(&mut self) {
        self.connections.clear();
    }

    fn unregister(&mut self, stream: Stream, connection: ConnectionId) {
        if let Some(outboxes) = self.connections.get_mut(&stream) {
            outboxes.retain(|(id, _)| *id != connection);
            if outboxes.is_empty() {
                self.connections.remove(&stream);
            }
        }
    }

    // ----- accounts and sessions -----

    /// The stored password hash for an email, so the caller can verify it outside the lock.
    pub fn operator_credentials(&self, email: &str) -> StoreResult<Option<(OperatorId, String)>> {
        storage::operator_credentials(&self.database, email)
    }

    /// Issues a token for an operator whose password was verified.
    pub fn issue_operator_token(
        &mut self,
        operator: OperatorId,
    ) -> Result<SignInResponse, ApiError> {
        let token = credentials::new_token().map_err(StoreError::from)?;
        let now = storage::now();
        let expires = Timestamp(now.0 + self.lifetimes.operator_days * MILLIS_PER_DAY);
        storage::insert_operator_token(
            &self.database,
            &credentials::token_hash(&token),
            operator,
            now,
            expires,
        )?;
        let operator = storage::operator_profile(&self.database, operator)?.ok_or_else(|| {
            ApiError::new(ErrorCode::Unauthorized, "This account no longer exists.")
        })?;
        Ok(SignInResponse { token, operator })
    }

    pub fn revoke_operator_token(&mut self, token: &str) -> StoreResult<bool> {
        storage::delete_operator_token(&self.database, &credentials::token_hash(token))
    }

    pub fn operator_for_token(&self, token: &str) -> StoreResult<Option<OperatorId>> {
        storage::operator_for_token(
            &self.database,
            &credentials::token_hash(token),
            storage::now(),
        )
    }

    pub fn visitor_for_token(&self, token: &str) -> StoreResult<Option<(VisitorId, LiveChatId)>> {
        storage::visitor_for_token(
            &self.database,
            &credentials::token_hash(token),
            storage::now(),
        )
    }

    pub fn operator_profile(&self, operator: OperatorId) -> StoreResult<Option<OperatorProfile>> {
        storage::operator_profile(&self.database, operator)
    }

    /// Creates a visitor and their token for the live chat with this embed key.
    pub fn create_visitor_session(
        &mut self,
        embed_key: &str,
    ) -> Result<VisitorSessionResponse, ApiError> {
        let (live_chat, live_chat_name) =
            storage::live_chat_by_embed_key(&self.database, embed_key)?.ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, "No live chat has this embed key.")
            })?;
        let token = credentials::new_token().map_err(StoreError::from)?;
        let now = storage::now();
        let expires = Timestamp(now.0 + self.lifetimes.visitor_days * MILLIS_PER_DAY);
        let transaction = self.database.transaction().map_err(StoreError::from)?;
        let visitor = storage::insert_visitor(&transaction, live_chat, now)?;
        storage::insert_visitor_token(
            &transaction,
            &credentials::token_hash(&token),
            visitor,
            now,
            expires,
        )?;
        transaction.commit().map_err(StoreError::from)?;
        Ok(VisitorSessionResponse {
            token,
            visitor,
            live_chat_name,
        })
    }

    /// Adds an operator (already hashed password) as a member of a live chat.
    pub fn create_operator(
        &mut self,
        email: &str,
        name: &str,
        password_hash: &str,
        live_chat: LiveChatId,
    ) -> StoreResult<OperatorId> {
        let transaction = self.database.transaction()?;
        let operator = storage::insert_operator(&transaction, email, name, password_hash)?;
        storage::add_membership(&transaction, operator, live_chat, false)?;
        transaction.commit()?;
        self.router
            .set_operator(operator, BTreeSet::from([live_chat]), Availability::Online);
        Ok(operator)
    }

    pub fn live_chat_by_embed_key(&self, embed_key: &str) -> StoreResult<Option<LiveChatId>> {
        Ok(storage::live_chat_by_embed_key(&self.database, embed_key)?.map(|(id, _)| id))
    }

    /// A chat's full history for a member operator.
    pub fn chat_history(
        &self,
        operator: OperatorId,
        chat: ChatId,
    ) -> Result<ChatHistory, ApiError> {
        let row = storage::chat_row(&self.database, chat)?.ok_or_else(not_found_chat)?;
        if !storage::is_member(&self.database, operator, row.live_chat)? {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "You are not a member of this chat's live chat.",
            ));
        }
        let summary = storage::chat_summary(&self.database, chat)?.ok_or_else(not_found_chat)?;
        Ok(ChatHistory {
            chat: summary,
            messages: storage::chat_messages(&self.database, chat)?,
        })
    }

    // ----- connections -----

    /// Attaches an operator connection: Welcome, then replay or snapshot, then any rings that
    /// start because the operator is now reachable.
    pub fn attach_operator(
        &mut self,
        operator: OperatorId,
        since: Option<u64>,
        outbox: Outbox,
    ) -> Result<ConnectionId, ApiError> {
        let stream = Stream::Operator(operator);
        self.welcome(stream, since, &outbox, |hub| {
            let chats = storage::snapshot_chats(&hub.database, operator)?;
            let availability = storage::availability(&hub.database, operator)?;
            serde_json::to_string(&OperatorEvent::Snapshot {
                chats,
                ringing: hub.router.ringing_for(operator),
                availability,
            })
            .map_err(|error| StoreError::Invalid(error.to_string()))
        })?;
        let connection = self.register(stream, outbox);
        self.transact(|effects| {
            let changes = effects.router.connected(operator);
            effects.ring_changes(changes)?;
            Ok(())
        })?;
        Ok(connection)
    }

    pub fn detach_operator(&mut self, operator: OperatorId, connection: ConnectionId) {
        self.unregister(Stream::Operator(operator), connection);
        let result = self.transact(|effects| {
            let changes = effects.router.disconnected(operator);
            effects.ring_changes(changes)?;
            Ok(())
        });
        if let Err(error) = result {
            tracing::error!(%operator, %error, "failed to stop rings of a disconnected operator");
        }
    }

    pub fn attach_visitor(
        &mut self,
        visitor: VisitorId,
        since: Option<u64>,
        outbox: Outbox,
    ) -> Result<ConnectionId, ApiError> {
        let stream = Stream::Visitor(visitor);
        self.welcome(stream, since, &outbox, |hub| {
            let chat = storage::current_chat_of_visitor(&hub.database, visitor)?;
            let (chat, messages) = match chat {
                Some(chat) => (
                    storage::visitor_chat(&hub.database, chat)?,
                    storage::visitor_messages(&hub.database, chat)?,
                ),
                None => (None, Vec::new()),
            };
            serde_json::to_string(&VisitorEvent::Snapshot { chat, messages })
                .map_err(|error| StoreError::Invalid(error.to_string()))
        })?;
        Ok(self.register(stream, outbox))
    }

    pub fn detach_visitor(&mut self, visitor: VisitorId, connection: ConnectionId) {
        self.unregister(Stream::Visitor(visitor), connection);
    }

    /// Sends Welcome and then the missed events, or a snapshot (with the head's sequence
    /// number) when the log cannot cover `since`.
    fn welcome(
        &mut self,
        stream: Stream,
        since: Option<u64>,
        outbox: &Outbox,
        snapshot: impl FnOnce(&Hub) -> StoreResult<String>,
    ) -> Result<(), ApiError> {
        let key = stream.key();
        let head = storage::stream_head(&self.database, &key)?;
        let replay = match since {
            Some(since) => storage::events_after(&self.database, &key, since)?,
            None => None,
        };
        let welcome = |resumed| {
            control_frame(&ServerFrame::Welcome {
                protocol: switchboard_protocol::PROTOCOL_VERSION,
                head,
                resumed,
            })
        };
        // A send error means the socket is already gone; the session notices and detaches.
        match replay {
            Some(events) => {
                let _ = outbox.send(welcome(true));
                for (seq, payload) in events {
                    let _ = outbox.send(event_frame(seq, &payload));
                }
            }
            None => {
                let payload = snapshot(self)?;
                let _ = outbox.send(welcome(false));
                let _ = outbox.send(event_frame(head, &payload));
            }
        }
        Ok(())
    }

    // ----- commands -----

    /// Runs a command once per (actor, client id) and returns its reply frame; a resend gets
    /// the stored outcome back without a second effect.
    fn idempotent<R: Serialize>(
        &mut self,
        stream: Stream,
        id: &ClientId,
        run: impl FnOnce(&mut Hub) -> Result<R, ApiError>,
    ) -> String {
        if id.0.is_empty() || id.0.len() > ClientId::MAX_LEN {
            let outcome = Outcome::<R>::Error {
                error: bad_request(&format!(
                    "A command id must have 1 to {} characters.",
                    ClientId::MAX_LEN
                )),
            };
            return reply_frame(id, &serde_json::to_string(&outcome).unwrap_or_default());
        }
        let actor = stream.actor();
        match storage::command_outcome(&self.database, &actor, id) {
            Ok(Some(outcome)) => return reply_frame(id, &outcome),
            Ok(None) => {}
            Err(error) => {
                let outcome = Outcome::<R>::Error {
                    error: error.into(),
                };
                return reply_frame(id, &serde_json::to_string(&outcome).unwrap_or_default());
            }
        }
        let result = run(self);
        let retryable = matches!(&result, Err(error) if error.code == ErrorCode::Internal);
        let outcome = serde_json::to_string(&Outcome::from(result)).unwrap_or_default();
        // An internal failure may succeed on retry, so it is not remembered.
        if !retryable
            && let Err(error) =
                storage::store_command_outcome(&self.database, &actor, id, &outcome, storage::now())
        {
            tracing::error!(%actor, error = ?error, "failed to record a command outcome");
        }
        reply_frame(id, &outcome)
    }

    pub fn operator_command(
        &mut self,
        operator: OperatorId,
        id: &ClientId,
        command: OperatorCommand,
    ) -> String {
        let client_id = id.clone();
        self.idempotent(Stream::Operator(operator), id, move |hub| match command {
            OperatorCommand::Accept(command) => {
                hub.accept(operator, command).map(OperatorResponse::Accept)
            }
            OperatorCommand::Send(command) => hub
                .operator_send(operator, command, client_id)
                .map(OperatorResponse::Send),
            OperatorCommand::End(command) => hub.end(operator, command).map(OperatorResponse::End),
            OperatorCommand::Mute(command) => {
                hub.mute(operator, command).map(OperatorResponse::Mute)
            }
            OperatorCommand::SetAvailability(command) => hub
                .set_availability(operator, command)
                .map(OperatorResponse::SetAvailability),
        })
    }

    pub fn visitor_command(
        &mut self,
        visitor: VisitorId,
        live_chat: LiveChatId,
        id: &ClientId,
        command: VisitorCommand,
    ) -> String {
        let client_id = id.clone();
        self.idempotent(Stream::Visitor(visitor), id, move |hub| match command {
            VisitorCommand::Start(command) => hub
                .start_chat(visitor, live_chat, command, client_id)
                .map(VisitorResponse::Start),
            VisitorCommand::Send(command) => hub
                .visitor_send(visitor, command, client_id)
                .map(VisitorResponse::Send),
            VisitorCommand::Leave(command) => {
                hub.leave(visitor, command).map(VisitorResponse::Leave)
            }
        })
    }

    /// The chat, if it exists and the operator is a member of its live chat.
    fn member_chat(
        database: &Connection,
        operator: OperatorId,
        chat: ChatId,
    ) -> Result<ChatRow, ApiError> {
        let row = storage::chat_row(database, chat)?.ok_or_else(not_found_chat)?;
        if !storage::is_member(database, operator, row.live_chat)? {
            // Not a member: the chat is not visible to them at all.
            return Err(not_found_chat());
        }
        Ok(row)
    }

    fn accept(
        &mut self,
        operator: OperatorId,
        command: AcceptChat,
    ) -> Result<switchboard_protocol::ChatSummary, ApiError> {
        self.transact(|effects| {
            let chat = Self::member_chat(effects.database, operator, command.chat)?;
            match (chat.state, chat.responsible) {
                (ChatState::Pending, _) => {}
                (ChatState::Active, Some(responsible)) if responsible == operator => {
                    return storage::chat_summary(effects.database, chat.id)?
                        .ok_or_else(not_found_chat);
                }
                (ChatState::Active, Some(responsible)) => {
                    let name = storage::operator_name(effects.database, responsible)?;
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        format!("This chat was taken by {name}."),
                    ));
                }
                _ => {
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        "This chat has already ended.",
                    ));
                }
            }
            let acceptor = storage::operator_ref(effects.database, operator)?;
            storage::update_chat(
                effects.database,
                chat.id,
                ChatState::Active,
                Some(operator),
                effects.now,
            )?;
            let joined = storage::insert_message(
                effects.database,
                chat.id,
                NewAuthor::System,
                Visibility::Public,
                &format!("{} joined", acceptor.name),
                None,
                effects.now,
            )?;
            for ringing in effects.router.chat_resolved(chat.id) {
                let reason = if ringing == operator {
                    RingStopReason::AcceptedByYou
                } else {
                    RingStopReason::AcceptedBy {
                        operator: acceptor.clone(),
                    }
                };
                effects.notify_operator(
                    ringing,
                    &OperatorEvent::RingStopped {
                        chat: chat.id,
                        reason,
                    },
                )?;
            }
            effects.notify_visitor(
                chat.visitor,
                &VisitorEvent::OperatorJoined {
                    name: acceptor.name.clone(),
                },
            )?;
            let summary = effects.chat_changed(&chat)?;
            effects.message_posted(&chat, &joined)?;
            Ok(summary)
        })
    }

    fn operator_send(
        &mut self,
        operator: OperatorId,
        command: SendMessage,
        client_id: ClientId,
    ) -> Result<switchboard_protocol::Message, ApiError> {
        check_body(&command.body)?;
        self.transact(|effects| {
            let chat = Self::member_chat(effects.database, operator, command.chat)?;
            if command.visibility == Visibility::Public
                && !(chat.state == ChatState::Active && chat.responsible == Some(operator))
            {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "Accept the chat first: only the operator responsible for it can reply to the visitor. Notes are always allowed.",
                ));
            }
            let message = storage::insert_message(
                effects.database,
                chat.id,
                NewAuthor::Operator(operator),
                command.visibility,
                &command.body,
                Some(&client_id),
                effects.now,
            )?;
            effects.message_posted(&chat, &message)?;
            Ok(message)
        })
    }

    fn end(
        &mut self,
        operator: OperatorId,
        command: EndChat,
    ) -> Result<switchboard_protocol::ChatSummary, ApiError> {
        self.transact(|effects| {
            let chat = Self::member_chat(effects.database, operator, command.chat)?;
            match chat.state {
                ChatState::Closed | ChatState::Abandoned => {
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        "This chat has already ended.",
                    ));
                }
                _ if chat.responsible != Some(operator) => {
                    return Err(ApiError::new(
                        ErrorCode::Forbidden,
                        "Only the operator responsible for this chat can end it.",
                    ));
                }
                _ => {}
            }
            storage::update_chat(
                effects.database,
                chat.id,
                ChatState::Closed,
                chat.responsible,
                effects.now,
            )?;
            Ok(effects.chat_changed(&chat)?)
        })
    }

    fn mute(&mut self, operator: OperatorId, command: MuteRing) -> Result<Ack, ApiError> {
        self.transact(|effects| {
            let chat = Self::member_chat(effects.database, operator, command.chat)?;
            storage::insert_mute(effects.database, chat.id, operator)?;
            if effects.router.muted(operator, chat.id) {
                effects.notify_operator(
                    operator,
                    &OperatorEvent::RingStopped {
                        chat: chat.id,
                        reason: RingStopReason::Muted,
                    },
                )?;
            }
            Ok(Ack {})
        })
    }

    fn set_availability(
        &mut self,
        operator: OperatorId,
        command: SetAvailability,
    ) -> Result<AvailabilityState, ApiError> {
        self.transact(|effects| {
            storage::set_availability(effects.database, operator, command.availability)?;
            effects.notify_operator(
                operator,
                &OperatorEvent::AvailabilityChanged {
                    availability: command.availability,
                },
            )?;
            let changes = effects
                .router
                .availability_changed(operator, command.availability);
            effects.ring_changes(changes)?;
            Ok(AvailabilityState {
                availability: command.availability,
            })
        })
    }

    fn start_chat(
        &mut self,
        visitor: VisitorId,
        live_chat: LiveChatId,
        command: StartChat,
        client_id: ClientId,
    ) -> Result<switchboard_protocol::VisitorChat, ApiError> {
        let name = command.name.trim();
        if name.is_empty() {
            return Err(bad_request("Please tell us your name."));
        }
        check_length(name, MAX_NAME_CHARS, "name")?;
        check_body(&command.question)?;
        let email = command
            .email
            .as_deref()
            .map(str::trim)
            .filter(|email| !email.is_empty());
        check_length(email.unwrap_or_default(), MAX_EMAIL_CHARS, "email address")?;
        let page_url = command.page_url.as_deref().filter(|url| !url.is_empty());
        check_length(page_url.unwrap_or_default(), MAX_URL_CHARS, "page address")?;
        self.transact(|effects| {
            if let Some(open) = storage::open_chat_of_visitor(effects.database, visitor)? {
                return Ok(effects.visitor_chat(open)?);
            }
            storage::update_visitor_contact(effects.database, visitor, name, email)?;
            let chat_id = storage::insert_chat(
                effects.database,
                live_chat,
                visitor,
                command.question.trim(),
                page_url,
                effects.now,
            )?;
            let question = storage::insert_message(
                effects.database,
                chat_id,
                NewAuthor::Visitor,
                Visibility::Public,
                &command.question,
                Some(&client_id),
                effects.now,
            )?;
            let chat = storage::chat_row(effects.database, chat_id)?.ok_or_else(not_found_chat)?;
            effects.chat_changed(&chat)?;
            effects.message_posted(&chat, &question)?;
            let changes = effects.router.chat_started(chat_id, live_chat);
            effects.ring_changes(changes)?;
            Ok(effects.visitor_chat(chat_id)?)
        })
    }

    fn visitor_send(
        &mut self,
        visitor: VisitorId,
        command: VisitorSend,
        client_id: ClientId,
    ) -> Result<switchboard_protocol::VisitorMessage, ApiError> {
        check_body(&command.body)?;
        self.transact(|effects| {
            let chat = Self::open_chat(effects.database, visitor)?;
            let message = storage::insert_message(
                effects.database,
                chat.id,
                NewAuthor::Visitor,
                Visibility::Public,
                &command.body,
                Some(&client_id),
                effects.now,
            )?;
            effects.message_posted(&chat, &message)?;
            storage::visitor_message(&message).ok_or_else(|| {
                StoreError::Invalid("a visitor message is not public".to_owned()).into()
            })
        })
    }

    fn leave(
        &mut self,
        visitor: VisitorId,
        _command: LeaveChat,
    ) -> Result<switchboard_protocol::VisitorChat, ApiError> {
        self.transact(|effects| {
            let chat = Self::open_chat(effects.database, visitor)?;
            let state = if chat.state == ChatState::Pending {
                ChatState::Abandoned
            } else {
                ChatState::Closed
            };
            storage::update_chat(
                effects.database,
                chat.id,
                state,
                chat.responsible,
                effects.now,
            )?;
            for ringing in effects.router.chat_resolved(chat.id) {
                effects.notify_operator(
                    ringing,
                    &OperatorEvent::RingStopped {
                        chat: chat.id,
                        reason: RingStopReason::Abandoned,
                    },
                )?;
            }
            effects.chat_changed(&chat)?;
            Ok(effects.visitor_chat(chat.id)?)
        })
    }

    fn open_chat(database: &Connection, visitor: VisitorId) -> Result<ChatRow, ApiError> {
        let chat = storage::open_chat_of_visitor(database, visitor)?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                "You have no open chat. Start one first.",
            )
        })?;
        storage::chat_row(database, chat)?.ok_or_else(not_found_chat)
    }
}
