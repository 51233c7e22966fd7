//! The hub owns the database connection, the routing state and the live connections, behind one
//! lock. Every state change (a command, a connection coming or going) runs under that lock in a
//! single transaction, so decisions are serialised: two simultaneous accepts cannot both win.
//! Events are appended to their stream's log inside the transaction and pushed to the stream's
//! live connections only after it commits.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use rusqlite::Connection;
use serde::Serialize;
use switchboard_protocol::{
    AcceptChat, Ack, ApiError, Availability, AvailabilityState, ChatHistory, ChatId, ChatState,
    ClientId, DeclineOffer, EndChat, ErrorCode, LeaveChat, LiveChatId, MAX_MESSAGE_CHARS, MuteRing,
    Offer, OperatorCommand, OperatorEvent, OperatorId, OperatorProfile, OperatorResponse, Outcome,
    ReleaseChat, RingStopReason, RoutingAction, RoutingHistoryEntry, RoutingSettings, RoutingState,
    SendMessage, ServerFrame, SetOperatorAvailability, SetRouting, SignInResponse, StartChat,
    Timestamp, Visibility, VisitorCommand, VisitorEvent, VisitorId, VisitorResponse, VisitorSend,
    VisitorSessionResponse,
};
use tokio::sync::mpsc;

use crate::credentials;
use crate::routing::{
    self, Decision, Graces, OperatorFacts, PendingChat, Policy, Router, StopCause,
};
use crate::settings;
use crate::storage::{self, Audience, ChatRow, NewAuthor, StoreError, StoreResult};

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
pub struct SharedHub(Arc<Mutex<Hub>>, Arc<Notify>);

impl SharedHub {
    pub fn new(hub: Hub) -> Self {
        let timers = hub.timers.clone();
        Self(Arc::new(Mutex::new(hub)), timers)
    }

    /// Signalled whenever a change may have moved the next routing timer.
    pub fn timers(&self) -> Arc<Notify> {
        self.1.clone()
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
    /// The last event id of each operator's stream, so every frame can name its predecessor
    /// (`prev`) and the client can tell a gap; filled from the log on first use.
    stream_heads: HashMap<OperatorId, u64>,
    next_connection: u64,
    lifetimes: TokenLifetimes,
    timers: Arc<Notify>,
    /// B12: how long a visitor message may stay unread by the responsible operator.
    unread_escalation_ms: i64,
    /// Typing indicators and read progress (`presence.rs`): in memory, never logged.
    pub(crate) presence: crate::presence::Presence,
    /// Visitors on site (`visitors.rs`, B50): in memory, never logged.
    pub(crate) site_visitors: crate::visitors::SiteVisitors,
    /// B22, B23: how long an invitation or transfer waits for its answer.
    invitation_timeout_ms: i64,
    /// B04: the trusted reverse proxy's country header (e.g. `CF-IPCountry`), if configured.
    country_header: Option<String>,
}

/// Events produced while a transaction runs, delivered after it commits.
pub(crate) struct Effects<'a> {
    pub(crate) database: &'a Connection,
    pub(crate) router: &'a mut Router,
    frames: Vec<(Stream, String)>,
    /// Operator events stored in the shared log, fanned out to their recipients after commit.
    logged: Vec<Logged>,
    /// Members of live chats read in this transaction: a new chat needs them three times (chat,
    /// question, ring), and memberships do not change inside a transaction.
    members: HashMap<LiveChatId, Vec<OperatorId>>,
    pub(crate) now: Timestamp,
}

/// An operator event stored once for all its recipients.
struct Logged {
    id: u64,
    recipients: Vec<OperatorId>,
    payload: String,
}

/// Consecutive ring starts or stops of one chat with the same event, gathered so the event is
/// stored once for all their operators.
type RingRun = Option<(ChatId, OperatorEvent, Vec<OperatorId>)>;

impl Effects<'_> {
    fn emit<E: Serialize>(&mut self, stream: Stream, event: &E) -> StoreResult<()> {
        let payload = serde_json::to_string(event)
            .map_err(|error| StoreError::Invalid(format!("event does not serialise: {error}")))?;
        let seq = storage::append_event(self.database, &stream.key(), &payload, self.now)?;
        self.frames.push((stream, event_frame(seq, &payload)));
        Ok(())
    }

    /// Stores an operator event once (serialised once) for all `recipients` of `audience`.
    fn emit_operators(
        &mut self,
        audience: Audience,
        recipients: Vec<OperatorId>,
        narrowed: bool,
        event: &OperatorEvent,
    ) -> StoreResult<()> {
        if recipients.is_empty() {
            return Ok(());
        }
        let payload = serde_json::to_string(event)
            .map_err(|error| StoreError::Invalid(format!("event does not serialise: {error}")))?;
        let id = storage::append_operator_event(
            self.database,
            audience,
            narrowed.then_some(recipients.as_slice()),
            &payload,
            self.now,
        )?;
        self.logged.push(Logged {
            id,
            recipients,
            payload,
        });
        Ok(())
    }

    pub(crate) fn notify_operator(
        &mut self,
        operator: OperatorId,
        event: &OperatorEvent,
    ) -> StoreResult<()> {
        self.emit_operators(Audience::Operator(operator), vec![operator], false, event)?;
        // Every availability or routing change is told to its operator through here, so this
        // one place keeps colleagues' pickers current too (B22, B23).
        if matches!(
            event,
            OperatorEvent::AvailabilityChanged { .. } | OperatorEvent::RoutingChanged { .. }
        ) {
            crate::colleagues::announce(self, operator)?;
        }
        Ok(())
    }

    pub(crate) fn notify_members(
        &mut self,
        live_chat: LiveChatId,
        event: &OperatorEvent,
    ) -> StoreResult<()> {
        let members = self.members(live_chat)?;
        self.emit_operators(Audience::LiveChat(live_chat), members, false, event)
    }

    fn members(&mut self, live_chat: LiveChatId) -> StoreResult<Vec<OperatorId>> {
        if let Some(members) = self.members.get(&live_chat) {
            return Ok(members.clone());
        }
        let members = storage::members(self.database, live_chat)?;
        self.members.insert(live_chat, members.clone());
        Ok(members)
    }

    /// The same event for some members of the chat's live chat: one row for all of them.
    fn notify_some(
        &mut self,
        chat: ChatId,
        mut recipients: Vec<OperatorId>,
        event: &OperatorEvent,
    ) -> StoreResult<()> {
        if let [operator] = recipients.as_slice() {
            return self.notify_operator(*operator, event);
        }
        let live_chat = storage::chat_row(self.database, chat)?.map(|row| row.live_chat);
        let members: BTreeSet<OperatorId> = match live_chat {
            Some(live_chat) => self.members(live_chat)?.into_iter().collect(),
            None => BTreeSet::new(),
        };
        match live_chat {
            // Only members read their live chat's events on resume.
            Some(live_chat) if recipients.iter().all(|operator| members.contains(operator)) => {
                recipients.sort_unstable();
                recipients.dedup();
                let narrowed = recipients.len() < members.len();
                self.emit_operators(Audience::LiveChat(live_chat), recipients, narrowed, event)
            }
            _ => {
                for operator in recipients {
                    self.notify_operator(operator, event)?;
                }
                Ok(())
            }
        }
    }

    /// Adds a ring start or stop to the current run, storing the run first when it differs.
    fn join_run(
        &mut self,
        run: &mut RingRun,
        chat: ChatId,
        operator: OperatorId,
        event: OperatorEvent,
    ) -> StoreResult<()> {
        match run {
            Some((current_chat, current, operators))
                if *current_chat == chat && *current == event =>
            {
                operators.push(operator);
                Ok(())
            }
            _ => self.flush_run(run.replace((chat, event, vec![operator]))),
        }
    }

    fn flush_run(&mut self, run: RingRun) -> StoreResult<()> {
        match run {
            Some((chat, event, operators)) => self.notify_some(chat, operators, &event),
            None => Ok(()),
        }
    }

    pub(crate) fn notify_visitor(
        &mut self,
        visitor: VisitorId,
        event: &VisitorEvent,
    ) -> StoreResult<()> {
        self.emit(Stream::Visitor(visitor), event)
    }

    /// Sends each open widget of the live chat (pending and active chats) its chat again, after
    /// a per-live-chat switch the widget follows (visitor emoji, ratings) changed. It travels in
    /// the chat itself (logged `ChatUpdated`), so a resume or a snapshot says the same.
    pub(crate) fn resend_open_chats(&mut self, live_chat: LiveChatId) -> StoreResult<()> {
        for (chat, visitor) in storage::open_chats(self.database, live_chat)? {
            if let Some(chat) = storage::visitor_chat(self.database, chat)? {
                self.notify_visitor(visitor, &VisitorEvent::ChatUpdated { chat })?;
            }
        }
        Ok(())
    }

    fn history(
        &mut self,
        chat: ChatId,
        operator: Option<OperatorId>,
        action: RoutingAction,
    ) -> StoreResult<()> {
        storage::insert_routing_history(self.database, chat, operator, action, self.now)
    }

    /// Stores and announces the router's decisions.
    pub(crate) fn apply(&mut self, decisions: Vec<Decision>) -> StoreResult<()> {
        // Ring-all starts and stops a chat for many operators at once: a run of the same event
        // is stored once for all of them (issue 3). Any other decision ends the run first, so
        // every operator still sees their events in decision order.
        let mut run: RingRun = None;
        for decision in decisions {
            if !matches!(decision, Decision::Ring { .. } | Decision::Stop { .. }) {
                self.flush_run(run.take())?;
            }
            match decision {
                Decision::Ring { operator, chat } => self.join_run(
                    &mut run,
                    chat,
                    operator,
                    OperatorEvent::RingStarted { chat },
                )?,
                Decision::Offer {
                    operator,
                    chat,
                    deadline,
                } => {
                    storage::set_offer(self.database, chat, Some((operator, deadline)))?;
                    routing::context::set_last_offered(self.database, operator, self.now)?;
                    self.history(chat, Some(operator), RoutingAction::Offered)?;
                    let offer = self.offer(chat, deadline)?;
                    self.notify_operator(operator, &OperatorEvent::Offered { offer })?;
                    self.notify_operator(operator, &OperatorEvent::RingStarted { chat })?;
                }
                Decision::Stop {
                    operator,
                    chat,
                    cause,
                } => {
                    storage::clear_offer_of(self.database, chat, operator)?;
                    let reason = match cause {
                        StopCause::Unavailable => RingStopReason::Unavailable,
                        StopCause::Muted => RingStopReason::Muted,
                        StopCause::Declined => {
                            self.history(chat, Some(operator), RoutingAction::Declined)?;
                            RingStopReason::Declined
                        }
                        StopCause::TimedOut => {
                            self.history(chat, Some(operator), RoutingAction::TimedOut)?;
                            RingStopReason::TimedOut
                        }
                        StopCause::Accepted(by) if by == operator => RingStopReason::AcceptedByYou,
                        StopCause::Accepted(by) => RingStopReason::AcceptedBy {
                            operator: storage::operator_ref(self.database, by)?,
                        },
                        StopCause::Abandoned => RingStopReason::Abandoned,
                    };
                    self.join_run(
                        &mut run,
                        chat,
                        operator,
                        OperatorEvent::RingStopped { chat, reason },
                    )?;
                }
                Decision::RoutingOff { operator } => {
                    storage::set_routing_switch(self.database, operator, false)?;
                    self.notify_operator(
                        operator,
                        &OperatorEvent::RoutingChanged { routing: false },
                    )?;
                }
                Decision::WentOffline { operator } => {
                    let before = storage::availability(self.database, operator)?;
                    storage::set_availability_before_grace(self.database, operator, Some(before))?;
                    storage::set_availability(self.database, operator, Availability::Offline)?;
                    storage::set_offline_at(self.database, operator, None)?;
                    self.notify_operator(
                        operator,
                        &OperatorEvent::AvailabilityChanged {
                            availability: Availability::Offline,
                        },
                    )?;
                }
                Decision::Abandon { chat } => {
                    let Some(row) = storage::chat_row(self.database, chat)? else {
                        continue;
                    };
                    storage::update_chat(
                        self.database,
                        chat,
                        ChatState::Abandoned,
                        None,
                        self.now,
                    )?;
                    storage::set_abandon_at(self.database, chat, None)?;
                    storage::set_offer(self.database, chat, None)?;
                    self.history(chat, None, RoutingAction::Abandoned)?;
                    self.chat_changed(&row)?;
                }
            }
        }
        self.flush_run(run)
    }

    /// What the screen-pop of an offer shows (B05).
    fn offer(&self, chat: ChatId, deadline: Timestamp) -> StoreResult<Offer> {
        let summary = storage::chat_summary(self.database, chat)?
            .ok_or_else(|| StoreError::Invalid(format!("chat {chat} vanished")))?;
        Ok(Offer {
            chat,
            deadline,
            subject: summary.subject,
            group: storage::live_chat_name(self.database, summary.live_chat)?,
            // From a trusted proxy header or the browser's time zone (routing/location.rs).
            location: summary.visitor.location,
            created_at: summary.created_at,
        })
    }

    /// A message posted in a chat: staff see it all, the visitor only what is public.
    pub(crate) fn message_posted(
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

    pub(crate) fn chat_changed(
        &mut self,
        chat: &ChatRow,
    ) -> StoreResult<switchboard_protocol::ChatSummary> {
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

/// An operator event frame: `prev` is the previous event of the recipient's stream, so a client
/// whose cursor is behind it knows it missed something.
fn operator_event_frame(seq: u64, prev: u64, payload: &str) -> String {
    // Built once per recipient under the hub lock: sized up front so it never reallocates.
    use std::fmt::Write;
    let mut frame = String::with_capacity(payload.len() + 64);
    // Writing to a String cannot fail.
    let _ = write!(
        frame,
        r#"{{"type":"event","seq":{seq},"prev":{prev},"event":"#
    );
    frame.push_str(payload);
    frame.push('}');
    frame
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

pub(crate) fn check_body(body: &str) -> Result<(), ApiError> {
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
    /// A hub over an opened, migrated database; loads the routing state from it and resumes
    /// its timers (B08): stored offer deadlines, grace periods and abandonments carry on, and
    /// the ones that passed while the server was down fire now.
    pub fn new(
        database: Connection,
        lifetimes: TokenLifetimes,
        graces: Graces,
    ) -> Result<Self, ApiError> {
        let mut router = Router::new(graces);
        let mut policies = HashMap::new();
        for (live_chat, _) in storage::live_chats(&database)? {
            let policy = settings::load_policy(&database, live_chat)?;
            policies.insert(live_chat, policy.clone());
            router.set_policy(live_chat, policy);
        }
        let now = storage::now();
        // B05: "least recently offered" carries on across the restart.
        let last_offered = routing::context::last_offered(&database)?;
        for operator in storage::routing_operators(&database)? {
            // Nobody is connected yet: every available operator starts a grace period, unless
            // one was already running before the restart.
            let offline_at = match operator.availability {
                Availability::Offline => None,
                _ => Some(
                    operator
                        .offline_at
                        .unwrap_or(Timestamp(now.0 + graces.operator_ms)),
                ),
            };
            if offline_at != operator.offline_at {
                storage::set_offline_at(&database, operator.id, offline_at)?;
            }
            router.set_operator(
                operator.id,
                OperatorFacts {
                    live_chats: operator.live_chats.into_iter().collect(),
                    availability: operator.availability,
                    routing: operator.routing,
                    connections: 0,
                    active_chats: operator.active_chats,
                    last_offered: last_offered.get(&operator.id).copied(),
                    offline_at,
                },
            );
        }
        for chat in storage::routing_chats(&database)? {
            let abandon_at = Some(
                chat.abandon_at
                    .unwrap_or(Timestamp(now.0 + graces.visitor_ms)),
            );
            if abandon_at != chat.abandon_at {
                storage::set_abandon_at(&database, chat.id, abandon_at)?;
            }
            let facts = routing::context::chat_facts(&database, chat.id)?;
            let target = policies
                .get(&chat.live_chat)
                .and_then(|policy: &Policy| routing::route(&policy.rules, &facts));
            router.add_pending(
                chat.id,
                PendingChat {
                    live_chat: chat.live_chat,
                    muted_by: chat.muted_by.into_iter().collect(),
                    target,
                    offer: chat.offer,
                    abandon_at,
                },
            );
        }
        router.adopt_current_rings();
        let mut hub = Self {
            database,
            router,
            connections: HashMap::new(),
            stream_heads: HashMap::new(),
            next_connection: 0,
            lifetimes,
            timers: Arc::new(Notify::new()),
            unread_escalation_ms: crate::escalation::DEFAULT_ESCALATION_MS,
            presence: crate::presence::Presence::default(),
            site_visitors: crate::visitors::SiteVisitors::default(),
            invitation_timeout_ms: crate::supervision::DEFAULT_INVITATION_TIMEOUT_MS,
            country_header: None,
        };
        hub.transact(|effects| {
            let mut decisions = effects.router.expire(effects.now);
            decisions.extend(effects.router.reconcile_all(effects.now));
            effects.apply(decisions)?;
            Ok(())
        })?;
        Ok(hub)
    }

    /// Stops commits from checkpointing the WAL; the server checkpoints on its own connection.
    pub fn defer_checkpoints(&self) -> StoreResult<()> {
        storage::defer_checkpoints(&self.database)
    }

    /// When the next routing timer is due.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let escalation =
            crate::escalation::next_deadline(&self.database, self.unread_escalation_ms);
        let first = match (self.router.next_deadline(), escalation) {
            (Some(routing), Some(escalation)) => Some(routing.min(escalation)),
            (routing, escalation) => routing.or(escalation),
        };
        let invitation = crate::supervision::next_invitation_deadline(
            &self.database,
            self.invitation_timeout_ms,
        );
        let first = match (first, invitation) {
            (Some(first), Some(invitation)) => Some(first.min(invitation)),
            (first, invitation) => first.or(invitation),
        };
        // B50: a visitor on site leaves when their grace period ends.
        match (first, self.site_visitors.next_deadline()) {
            (Some(first), Some(leave)) => Some(first.min(leave)),
            (first, leave) => first.or(leave),
        }
    }

    /// Trusts this request header (e.g. `CF-IPCountry`) for the visitor's country (B04); only
    /// set it behind a proxy that overwrites the header, or visitors could choose their country.
    pub fn set_country_header(&mut self, header: Option<String>) {
        self.country_header = header;
    }

    pub fn country_header(&self) -> Option<&str> {
        self.country_header.as_deref()
    }

    /// Sets how long an invitation or transfer waits for its answer (B22, B23).
    pub fn set_invitation_timeout_ms(&mut self, milliseconds: i64) {
        self.invitation_timeout_ms = milliseconds.max(0);
        self.timers.notify_one();
    }

    /// Sets how long a visitor message may stay unread before it escalates (B12).
    pub fn set_unread_escalation_ms(&mut self, milliseconds: i64) {
        self.unread_escalation_ms = milliseconds.max(0);
        self.timers.notify_one();
    }

    /// Fires the routing timers that are due.
    pub fn expire_timers(&mut self) -> Result<(), ApiError> {
        self.expire_site_visitors(storage::now());
        let escalation_ms = self.unread_escalation_ms;
        let invitation_timeout_ms = self.invitation_timeout_ms;
        self.transact(|effects| {
            let decisions = effects.router.expire(effects.now);
            effects.apply(decisions)?;
            crate::escalation::expire(effects, escalation_ms)?;
            crate::supervision::expire_invitations(effects, invitation_timeout_ms)?;
            Ok(())
        })
    }

    /// Runs `work` in one transaction and delivers its events once it commits. On error nothing
    /// is delivered and the database is unchanged.
    pub(crate) fn transact<T>(
        &mut self,
        work: impl FnOnce(&mut Effects<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let transaction = self.database.transaction().map_err(StoreError::from)?;
        let mut effects = Effects {
            database: &transaction,
            router: &mut self.router,
            frames: Vec::new(),
            logged: Vec::new(),
            members: HashMap::new(),
            now: storage::now(),
        };
        let value = work(&mut effects)?;
        let frames = std::mem::take(&mut effects.frames);
        let logged = std::mem::take(&mut effects.logged);
        transaction.commit().map_err(StoreError::from)?;
        self.deliver(frames);
        self.deliver_logged(logged);
        self.timers.notify_one();
        Ok(value)
    }

    pub(crate) fn deliver(&mut self, frames: Vec<(Stream, String)>) {
        for (stream, text) in frames {
            if let Some(outboxes) = self.connections.get_mut(&stream) {
                // A closed outbox means its connection is going away; it detaches itself.
                outboxes.retain(|(_, outbox)| outbox.send(text.clone()).is_ok());
            }
        }
    }

    /// Pushes committed operator events to their recipients' connections, each frame naming the
    /// recipient's previous event. One recipient's frames are queued back to back, so its writer
    /// wakes once and sends them in one write.
    fn deliver_logged(&mut self, logged: Vec<Logged>) {
        let mut deliveries: Vec<(OperatorId, usize)> = logged
            .iter()
            .enumerate()
            .flat_map(|(index, event)| {
                event
                    .recipients
                    .iter()
                    .map(move |operator| (*operator, index))
            })
            .collect();
        // Stable: each recipient's events stay in log order.
        deliveries.sort_by_key(|(operator, _)| *operator);
        for (operator, index) in deliveries {
            let event = &logged[index];
            let prev = match self.stream_heads.get(&operator) {
                Some(head) => *head,
                None => storage::operator_stream_head(&self.database, operator, Some(event.id))
                    .unwrap_or_else(|error| {
                        tracing::error!(%operator, error = ?error, "cannot read a stream head");
                        // Claiming this event as its own predecessor makes the client see a gap
                        // and take a snapshot: safe when the real one is unknown.
                        event.id
                    }),
            };
            self.stream_heads.insert(operator, event.id);
            if let Some(outboxes) = self.connections.get_mut(&Stream::Operator(operator)) {
                let text = operator_event_frame(event.id, prev, &event.payload);
                if let [(_, outbox)] = outboxes.as_slice() {
                    // The usual single connection: no copy of the frame.
                    if outbox.send(text).is_err() {
                        outboxes.clear();
                    }
                } else {
                    // A closed outbox means its connection is going away; it detaches itself.
                    outboxes.retain(|(_, outbox)| outbox.send(text.clone()).is_ok());
                }
            }
        }
    }

    /// The last event id of the operator's stream.
    fn operator_stream_head(&mut self, operator: OperatorId) -> StoreResult<u64> {
        if let Some(head) = self.stream_heads.get(&operator) {
            return Ok(*head);
        }
        let head = storage::operator_stream_head(&self.database, operator, None)?;
        self.stream_heads.insert(operator, head);
        Ok(head)
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
    /// `proxy_country` is what the trusted proxy header said (B04), already checked.
    pub fn create_visitor_session(
        &mut self,
        embed_key: &str,
        proxy_country: Option<&str>,
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
        routing::context::set_proxy_country(&transaction, visitor, proxy_country)?;
        transaction.commit().map_err(StoreError::from)?;
        Ok(VisitorSessionResponse {
            token,
            visitor,
            live_chat_name,
            topics: self
                .router
                .policy(live_chat)
                .map(|policy| policy.topics.clone())
                .unwrap_or_default(),
            rating_enabled: crate::rating::rating_enabled(&self.database, live_chat)?,
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
        let now = storage::now();
        let offline_at = Timestamp(now.0 + self.router.graces().operator_ms);
        let transaction = self.database.transaction()?;
        let operator = storage::insert_operator(&transaction, email, name, password_hash)?;
        storage::add_membership(&transaction, operator, live_chat, false)?;
        // Not connected yet: available for the grace period, like everyone after a restart.
        storage::set_offline_at(&transaction, operator, Some(offline_at))?;
        transaction.commit()?;
        self.router.set_operator(
            operator,
            OperatorFacts {
                live_chats: BTreeSet::from([live_chat]),
                offline_at: Some(offline_at),
                ..OperatorFacts::default()
            },
        );
        let result = self.transact(|effects| {
            let decisions = effects.router.operator_changed(operator, effects.now);
            effects.apply(decisions)?;
            Ok(())
        });
        if let Err(error) = result {
            tracing::error!(%operator, %error, "failed to route waiting chats to a new operator");
        }
        Ok(operator)
    }

    /// The database, for reads outside a transaction (the audit log).
    pub(crate) fn database(&self) -> &Connection {
        &self.database
    }

    pub fn live_chat_by_embed_key(&self, embed_key: &str) -> StoreResult<Option<LiveChatId>> {
        Ok(storage::live_chat_by_embed_key(&self.database, embed_key)?.map(|(id, _)| id))
    }

    /// A chat's full history for a member operator.
    /// The operator's canned responses (B30): personal and of their live chats.
    pub fn canned_responses(
        &self,
        operator: OperatorId,
    ) -> Result<Vec<switchboard_protocol::CannedResponse>, ApiError> {
        Ok(crate::canned::canned_responses(&self.database, operator)?)
    }

    /// The other staff of the operator's live chats, for @mentions (B26).
    pub fn colleagues(
        &self,
        operator: OperatorId,
    ) -> Result<Vec<switchboard_protocol::OperatorRef>, ApiError> {
        Ok(crate::colleagues::colleagues(&self.database, operator)?)
    }

    /// Knowledge base articles of the operator's live chats matching `query` (B31).
    pub fn search_articles(
        &self,
        operator: OperatorId,
        query: &str,
    ) -> Result<Vec<switchboard_protocol::Article>, ApiError> {
        Ok(crate::articles::search_articles(
            &self.database,
            operator,
            query,
        )?)
    }

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

    fn check_supervisor(
        &self,
        operator: OperatorId,
        live_chat: LiveChatId,
    ) -> Result<(), ApiError> {
        if storage::is_supervisor(&self.database, operator, live_chat)? {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only a supervisor of this live chat can see or change its routing.",
            ))
        }
    }

    /// A live chat's routing settings, for its supervisors.
    pub fn routing_settings(
        &self,
        operator: OperatorId,
        live_chat: LiveChatId,
    ) -> Result<RoutingSettings, ApiError> {
        self.check_supervisor(operator, live_chat)?;
        Ok(settings::load(&self.database, live_chat)?)
    }

    /// Validates and stores a live chat's routing settings; its pending chats are routed
    /// afresh under them.
    pub fn save_routing_settings(
        &mut self,
        operator: OperatorId,
        live_chat: LiveChatId,
        new_settings: RoutingSettings,
    ) -> Result<RoutingSettings, ApiError> {
        self.check_supervisor(operator, live_chat)?;
        let members: BTreeSet<OperatorId> = storage::members(&self.database, live_chat)?
            .into_iter()
            .collect();
        let teams = crate::teams::membership(&self.database, live_chat)?;
        settings::validate(&new_settings, &members, &teams)?;
        self.transact(|effects| {
            let json = serde_json::to_string(&new_settings)
                .map_err(|error| StoreError::Invalid(error.to_string()))?;
            storage::save_routing_settings(effects.database, live_chat, &json)?;
            settings::reroute(effects, live_chat)?;
            Ok(new_settings)
        })
    }

    /// A chat's routing history, for supervisors of its live chat.
    pub fn routing_history(
        &self,
        operator: OperatorId,
        chat: ChatId,
    ) -> Result<Vec<RoutingHistoryEntry>, ApiError> {
        let row = storage::chat_row(&self.database, chat)?.ok_or_else(not_found_chat)?;
        if !storage::is_member(&self.database, operator, row.live_chat)? {
            return Err(not_found_chat());
        }
        self.check_supervisor(operator, row.live_chat)?;
        Ok(storage::routing_history(&self.database, chat)?)
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
        let snapshot_sent = self.welcome(stream, since, &outbox, |hub| {
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
            // Back within the grace period: stays available (B07).
            effects.router.connected(operator);
            storage::set_offline_at(effects.database, operator, None)?;
            // Back after it: the availability the grace period took away returns.
            if let Some(availability) =
                storage::take_availability_before_grace(effects.database, operator)?
            {
                storage::set_availability(effects.database, operator, availability)?;
                effects.notify_operator(
                    operator,
                    &OperatorEvent::AvailabilityChanged { availability },
                )?;
                let decisions =
                    effects
                        .router
                        .availability_changed(operator, availability, effects.now);
                effects.apply(decisions)?;
            }
            // A snapshot carries no teams (B04, B22): they follow it.
            if snapshot_sent {
                let teams = crate::teams::teams_of_operator(effects.database, operator)?;
                effects.notify_operator(operator, &OperatorEvent::TeamsChanged { teams })?;
            }
            // Nor open invitations and transfers (B22, B23), nor colleagues' availability:
            // they follow it too.
            if snapshot_sent {
                let open =
                    crate::supervision::open_invitations(effects.database, operator, effects.now)?;
                effects.notify_operator(operator, &open)?;
                let colleagues = crate::colleagues::colleagues_changed(effects.database, operator)?;
                effects.notify_operator(operator, &colleagues)?;
            }
            // A snapshot lists rings but not offers: repeat the offer this operator holds.
            if snapshot_sent {
                for (chat, deadline) in effects.router.offers_of(operator) {
                    let offer = effects.offer(chat, deadline)?;
                    effects.notify_operator(operator, &OperatorEvent::Offered { offer })?;
                }
            }
            Ok(())
        })?;
        Ok(connection)
    }

    pub fn detach_operator(&mut self, operator: OperatorId, connection: ConnectionId) {
        self.unregister(Stream::Operator(operator), connection);
        let result = self.transact(|effects| {
            // The last connection gone starts the grace period; rings and active chats stay.
            if let Some(end) = effects.router.disconnected(operator, effects.now) {
                storage::set_offline_at(effects.database, operator, Some(end))?;
            }
            Ok(())
        });
        if let Err(error) = result {
            tracing::error!(%operator, %error, "failed to start the grace period of an operator");
        }
    }

    pub fn attach_visitor(
        &mut self,
        visitor: VisitorId,
        since: Option<u64>,
        outbox: Outbox,
    ) -> Result<ConnectionId, ApiError> {
        let stream = Stream::Visitor(visitor);
        let _snapshot_sent = self.welcome(stream, since, &outbox, |hub| {
            let chat = storage::current_chat_of_visitor(&hub.database, visitor)?;
            let (chat, messages) = match chat {
                Some(chat) => (
                    storage::visitor_chat(&hub.database, chat)?,
                    storage::visitor_history(&hub.database, chat)?,
                ),
                None => (None, Vec::new()),
            };
            serde_json::to_string(&VisitorEvent::Snapshot { chat, messages })
                .map_err(|error| StoreError::Invalid(error.to_string()))
        })?;
        let connection = self.register(stream, outbox);
        self.transact(|effects| {
            crate::retention::touch(effects.database, visitor, effects.now)?;
            crate::tickets::mark_visitor_back(effects.database, visitor)?;
            if let Some(chat) = storage::open_chat_of_visitor(effects.database, visitor)?
                && effects.router.visitor_back(chat)
            {
                storage::set_abandon_at(effects.database, chat, None)?;
            }
            Ok(())
        })?;
        Ok(connection)
    }

    pub(crate) fn visitor_connected(&self, visitor: VisitorId) -> bool {
        self.connections.contains_key(&Stream::Visitor(visitor))
    }

    pub fn detach_visitor(&mut self, visitor: VisitorId, connection: ConnectionId) {
        self.unregister(Stream::Visitor(visitor), connection);
        if self.visitor_connected(visitor) {
            return;
        }
        // The visitor's last connection closed: a pending chat is abandoned unless they come
        // back within the grace period (a reload or a network blip).
        let result = self.transact(|effects| {
            crate::retention::touch(effects.database, visitor, effects.now)?;
            crate::tickets::mark_visitor_away(effects.database, visitor, effects.now)?;
            if let Some(chat) = storage::open_chat_of_visitor(effects.database, visitor)?
                && let Some(end) = effects.router.visitor_away(chat, effects.now)
            {
                storage::set_abandon_at(effects.database, chat, Some(end))?;
            }
            Ok(())
        });
        if let Err(error) = result {
            tracing::error!(%visitor, %error, "failed to start the grace period of a visitor");
        }
    }

    /// Sends Welcome and then the missed events, or a snapshot (with the head's sequence
    /// number) when the log cannot cover `since`.
    fn welcome(
        &mut self,
        stream: Stream,
        since: Option<u64>,
        outbox: &Outbox,
        snapshot: impl FnOnce(&Hub) -> StoreResult<String>,
    ) -> Result<bool, ApiError> {
        let (head, replay) = match stream {
            Stream::Operator(operator) => {
                let head = self.operator_stream_head(operator)?;
                let replay = match since {
                    Some(since) => {
                        storage::operator_events_after(&self.database, operator, since, head)?.map(
                            |events| {
                                // Each replayed frame names its predecessor, the first one the
                                // client's own cursor.
                                let mut prev = since;
                                events
                                    .into_iter()
                                    .map(|(seq, payload)| {
                                        let frame = operator_event_frame(seq, prev, &payload);
                                        prev = seq;
                                        frame
                                    })
                                    .collect::<Vec<_>>()
                            },
                        )
                    }
                    None => None,
                };
                (head, replay)
            }
            Stream::Visitor(_) => {
                let key = stream.key();
                let head = storage::stream_head(&self.database, &key)?;
                let replay = match since {
                    Some(since) => {
                        storage::events_after(&self.database, &key, since)?.map(|events| {
                            events
                                .into_iter()
                                .map(|(seq, payload)| event_frame(seq, &payload))
                                .collect::<Vec<_>>()
                        })
                    }
                    None => None,
                };
                (head, replay)
            }
        };
        let missed = replay.as_ref().map(|frames| frames.len() as u64);
        let welcome = |resumed| {
            control_frame(&ServerFrame::Welcome {
                protocol: switchboard_protocol::PROTOCOL_VERSION,
                head,
                resumed,
                missed: if resumed { missed } else { None },
            })
        };
        // A send error means the socket is already gone; the session notices and detaches.
        match replay {
            Some(frames) => {
                let _ = outbox.send(welcome(true));
                for frame in frames {
                    let _ = outbox.send(frame);
                }
            }
            None => {
                let payload = snapshot(self)?;
                let _ = outbox.send(welcome(false));
                let _ = outbox.send(event_frame(head, &payload));
                return Ok(true);
            }
        }
        Ok(false)
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
        if let OperatorCommand::Typing(command) = command {
            // Ephemeral: not in the idempotency log (a resend only refreshes the indicator).
            let outcome = Outcome::from(
                self.operator_typing(operator, command)
                    .map(OperatorResponse::Typing),
            );
            return reply_frame(id, &serde_json::to_string(&outcome).unwrap_or_default());
        }
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
                .change_availability(operator, command.availability)
                .map(OperatorResponse::SetAvailability),
            OperatorCommand::Decline(command) => hub
                .decline(operator, command)
                .map(OperatorResponse::Decline),
            OperatorCommand::SetRouting(command) => hub
                .set_routing(operator, command)
                .map(OperatorResponse::SetRouting),
            OperatorCommand::SetOperatorAvailability(command) => hub
                .set_operator_availability(operator, command)
                .map(OperatorResponse::SetOperatorAvailability),
            OperatorCommand::Release(command) => hub
                .release(operator, command)
                .map(OperatorResponse::Release),
            OperatorCommand::Monitor(command) => hub
                .monitor(operator, command)
                .map(OperatorResponse::Monitor),
            OperatorCommand::Join(command) => {
                hub.join(operator, command).map(OperatorResponse::Join)
            }
            OperatorCommand::TakeOver(command) => hub
                .take_over(operator, command)
                .map(OperatorResponse::TakeOver),
            OperatorCommand::Reassign(command) => hub
                .reassign(operator, command)
                .map(OperatorResponse::Reassign),
            OperatorCommand::Invite(command) => {
                hub.invite(operator, command).map(OperatorResponse::Invite)
            }
            OperatorCommand::Transfer(command) => hub
                .transfer(operator, command)
                .map(OperatorResponse::Transfer),
            OperatorCommand::TransferToTeam(command) => hub
                .transfer_to_team(operator, command)
                .map(OperatorResponse::TransferToTeam),
            OperatorCommand::AnswerInvitation(command) => hub
                .answer_invitation(operator, command)
                .map(OperatorResponse::AnswerInvitation),
            OperatorCommand::DismissInvitationOutcomes(command) => hub
                .dismiss_invitation_outcomes(operator, command)
                .map(OperatorResponse::DismissInvitationOutcomes),
            OperatorCommand::LockReplies(command) => hub
                .lock_replies(operator, command)
                .map(OperatorResponse::LockReplies),
            OperatorCommand::StaffLeave(command) => hub
                .staff_leave(operator, command)
                .map(OperatorResponse::StaffLeave),
            OperatorCommand::MarkRead(command) => hub
                .mark_read(operator, command)
                .map(OperatorResponse::MarkRead),
            OperatorCommand::Subscribe(command) => hub
                .subscribe(operator, command)
                .map(OperatorResponse::Subscribe),
            OperatorCommand::Unsubscribe(command) => hub
                .unsubscribe(operator, command)
                .map(OperatorResponse::Unsubscribe),
            OperatorCommand::EditMessage(command) => hub
                .edit_message(operator, command)
                .map(OperatorResponse::EditMessage),
            OperatorCommand::DeleteMessage(command) => hub
                .delete_message(operator, command)
                .map(OperatorResponse::DeleteMessage),
            OperatorCommand::Typing(command) => hub
                .operator_typing(operator, command)
                .map(OperatorResponse::Typing),
        })
    }

    pub fn visitor_command(
        &mut self,
        visitor: VisitorId,
        live_chat: LiveChatId,
        id: &ClientId,
        command: VisitorCommand,
    ) -> String {
        if let VisitorCommand::PageView(command) = command {
            // Presence (B50, `visitors.rs`): ephemeral like typing.
            let outcome = Outcome::from(
                self.page_view(visitor, live_chat, command)
                    .map(VisitorResponse::PageView),
            );
            return reply_frame(id, &serde_json::to_string(&outcome).unwrap_or_default());
        }
        if let VisitorCommand::Typing(command) = command {
            // Ephemeral, like an operator's typing.
            let outcome = Outcome::from(
                self.visitor_typing(visitor, command)
                    .map(VisitorResponse::Typing),
            );
            return reply_frame(id, &serde_json::to_string(&outcome).unwrap_or_default());
        }
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
            VisitorCommand::Typing(command) => hub
                .visitor_typing(visitor, command)
                .map(VisitorResponse::Typing),
            VisitorCommand::MarkRead(command) => hub
                .visitor_mark_read(visitor, command)
                .map(VisitorResponse::MarkRead),
            VisitorCommand::PageView(command) => hub
                .page_view(visitor, live_chat, command)
                .map(VisitorResponse::PageView),
            VisitorCommand::Rate(command) => {
                hub.rate_chat(visitor, command).map(VisitorResponse::Rate)
            }
        })
    }

    /// The chat, if it exists and the operator is a member of its live chat.
    pub(crate) fn member_chat(
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
            storage::set_offer(effects.database, chat.id, None)?;
            storage::set_abandon_at(effects.database, chat.id, None)?;
            crate::escalation::read_on_accept(effects.database, chat.id)?;
            effects.history(chat.id, Some(operator), RoutingAction::Accepted)?;
            let decisions = effects.router.accepted(chat.id, operator, effects.now);
            effects.apply(decisions)?;
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
                && !(chat.state == ChatState::Active
                    && (chat.responsible == Some(operator)
                        || crate::supervision::is_participant(
                            effects.database,
                            chat.id,
                            operator,
                        )?))
            {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "Accept the chat first: only the operator responsible for it can reply to the visitor. Notes are always allowed.",
                ));
            }
            if command.visibility == Visibility::Public {
                crate::supervision::check_reply_lock(effects.database, chat.id, operator)?;
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
                // B25: a supervisor of the live chat may end an active chat too (the end
                // dialog is theirs as well).
                _ if chat.responsible != Some(operator)
                    && !(chat.state == ChatState::Active
                        && storage::is_supervisor(effects.database, operator, chat.live_chat)?) =>
                {
                    return Err(ApiError::new(
                        ErrorCode::Forbidden,
                        "Only the operator responsible for this chat or a supervisor can end it.",
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
            crate::tickets::create_for_chat(effects.database, chat.id, effects.now)?;
            let summary = effects.chat_changed(&chat)?;
            // The capacity freed is the responsible operator's, whoever ended it.
            if let Some(responsible) = chat.responsible {
                let decisions = effects
                    .router
                    .active_chat_finished(responsible, effects.now);
                effects.apply(decisions)?;
            }
            Ok(summary)
        })
    }

    fn mute(&mut self, operator: OperatorId, command: MuteRing) -> Result<Ack, ApiError> {
        self.transact(|effects| {
            let chat = Self::member_chat(effects.database, operator, command.chat)?;
            storage::insert_mute(effects.database, chat.id, operator)?;
            if chat.state == ChatState::Pending {
                effects.history(chat.id, Some(operator), RoutingAction::Muted)?;
            }
            let decisions = effects.router.muted(operator, chat.id, effects.now);
            effects.apply(decisions)?;
            Ok(Ack {})
        })
    }

    /// Sets `target`'s availability, on their own behalf or a supervisor's (B07).
    fn change_availability(
        &mut self,
        target: OperatorId,
        availability: Availability,
    ) -> Result<AvailabilityState, ApiError> {
        self.transact(|effects| {
            storage::set_availability(effects.database, target, availability)?;
            // An explicit choice replaces what a reconnect would have restored.
            storage::set_availability_before_grace(effects.database, target, None)?;
            effects
                .notify_operator(target, &OperatorEvent::AvailabilityChanged { availability })?;
            let decisions = effects
                .router
                .availability_changed(target, availability, effects.now);
            effects.apply(decisions)?;
            Ok(AvailabilityState { availability })
        })
    }

    /// Checks that `supervisor` supervises a live chat `operator` works in.
    fn check_supervises(
        &self,
        supervisor: OperatorId,
        operator: OperatorId,
    ) -> Result<(), ApiError> {
        if supervisor == operator || storage::supervises(&self.database, supervisor, operator)? {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only a supervisor of one of this operator's live chats can change that.",
            ))
        }
    }

    fn set_operator_availability(
        &mut self,
        supervisor: OperatorId,
        command: SetOperatorAvailability,
    ) -> Result<AvailabilityState, ApiError> {
        self.check_supervises(supervisor, command.operator)?;
        self.change_availability(command.operator, command.availability)
    }

    fn set_routing(
        &mut self,
        operator: OperatorId,
        command: SetRouting,
    ) -> Result<RoutingState, ApiError> {
        let target = command.operator.unwrap_or(operator);
        self.check_supervises(operator, target)?;
        self.transact(|effects| {
            storage::set_routing_switch(effects.database, target, command.routing)?;
            effects.notify_operator(
                target,
                &OperatorEvent::RoutingChanged {
                    routing: command.routing,
                },
            )?;
            let decisions = effects
                .router
                .routing_changed(target, command.routing, effects.now);
            effects.apply(decisions)?;
            Ok(RoutingState {
                operator: target,
                routing: command.routing,
            })
        })
    }

    fn decline(&mut self, operator: OperatorId, command: DeclineOffer) -> Result<Ack, ApiError> {
        self.transact(|effects| {
            let chat = Self::member_chat(effects.database, operator, command.chat)?;
            let decisions = effects.router.declined(operator, chat.id, effects.now);
            if decisions.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "This chat is not offered to you any more.",
                ));
            }
            effects.apply(decisions)?;
            Ok(Ack {})
        })
    }

    /// B14: the responsible operator closes the chat's tab without ending it. The visitor is
    /// told they left and the chat goes back to the queue. It does not ring for the operator
    /// who let it go: it waits in their Awaiting list instead.
    fn release(
        &mut self,
        operator: OperatorId,
        command: ReleaseChat,
    ) -> Result<switchboard_protocol::ChatSummary, ApiError> {
        let chat_row = {
            let chat = Self::member_chat(&self.database, operator, command.chat)?;
            if chat.state != ChatState::Active || chat.responsible != Some(operator) {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "Only the operator responsible for an active chat can hand it back.",
                ));
            }
            chat
        };
        let visitor_connected = self.visitor_connected(chat_row.visitor);
        self.transact(|effects| {
            let chat = chat_row;
            let leaver = storage::operator_ref(effects.database, operator)?;
            storage::update_chat(
                effects.database,
                chat.id,
                ChatState::Pending,
                None,
                effects.now,
            )?;
            storage::clear_mutes(effects.database, chat.id)?;
            storage::insert_mute(effects.database, chat.id, operator)?;
            let left = storage::insert_message(
                effects.database,
                chat.id,
                NewAuthor::System,
                Visibility::Public,
                &format!("{} left", leaver.name),
                None,
                effects.now,
            )?;
            effects.history(chat.id, Some(operator), RoutingAction::Released)?;
            effects.history(chat.id, None, RoutingAction::Queued)?;
            effects.notify_visitor(
                chat.visitor,
                &VisitorEvent::OperatorLeft { name: leaver.name },
            )?;
            let summary = effects.chat_changed(&chat)?;
            effects.message_posted(&chat, &left)?;
            let facts = routing::context::chat_facts(effects.database, chat.id)?;
            let target = effects
                .router
                .policy(chat.live_chat)
                .and_then(|policy| routing::route(&policy.rules, &facts));
            let mut pending = PendingChat::new(chat.live_chat);
            pending.muted_by.insert(operator);
            pending.target = target;
            let mut decisions = effects.router.active_chat_finished(operator, effects.now);
            decisions.extend(effects.router.chat_queued(chat.id, pending, effects.now));
            effects.apply(decisions)?;
            if !visitor_connected
                && let Some(end) = effects.router.visitor_away(chat.id, effects.now)
            {
                storage::set_abandon_at(effects.database, chat.id, Some(end))?;
            }
            Ok(summary)
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
        let topics = self
            .router
            .policy(live_chat)
            .map(|policy| policy.topics.clone())
            .unwrap_or_default();
        let proxy_country = routing::context::proxy_country(&self.database, visitor)?;
        let context = routing::context::from_start(&command, &topics, proxy_country.as_deref())?;
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
            routing::context::store(effects.database, chat_id, &context)?;
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
            effects.history(chat_id, None, RoutingAction::Queued)?;
            let mut pending = PendingChat::new(live_chat);
            let facts = context.facts(page_url);
            pending.target = effects
                .router
                .policy(live_chat)
                .and_then(|policy| routing::route(&policy.rules, &facts));
            let decisions = effects.router.chat_queued(chat_id, pending, effects.now);
            effects.apply(decisions)?;
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
            if state == ChatState::Closed {
                crate::tickets::create_for_chat(effects.database, chat.id, effects.now)?;
            }
            let decisions = match (chat.state, chat.responsible) {
                (ChatState::Pending, _) => {
                    storage::set_offer(effects.database, chat.id, None)?;
                    storage::set_abandon_at(effects.database, chat.id, None)?;
                    effects.history(chat.id, None, RoutingAction::Abandoned)?;
                    effects.router.abandoned(chat.id)
                }
                (_, Some(responsible)) => effects
                    .router
                    .active_chat_finished(responsible, effects.now),
                _ => Vec::new(),
            };
            effects.apply(decisions)?;
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
