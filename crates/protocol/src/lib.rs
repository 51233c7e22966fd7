//! The Switchboard wire protocol, version 1: the contract between the server, the operator core,
//! the console and the visitor widget.
//!
//! Everything that crosses a process boundary is declared here, once. The console (`ui/`) and
//! the widget (`widget/`) get TypeScript declarations generated from these types (see
//! [`typescript`]); a test fails when the committed files drift from the Rust types.
//!
//! Shape of a WebSocket session (operator or visitor):
//! 1. `GET <ws path>?v=1`: the server answers 426 before the upgrade when `v` is missing or not
//!    [`PROTOCOL_VERSION`].
//! 2. The client's first frame is [`ClientFrame::Hello`] with its token and, when resuming, the
//!    last event sequence number it applied (`since`).
//! 3. The server answers [`ServerFrame::Welcome`] and then either replays every event after
//!    `since` or sends a snapshot event, then live [`ServerFrame::Event`]s with increasing `seq`.
//! 4. Commands carry a client-generated [`ClientId`]; the server treats it as an idempotency key
//!    and answers each with a [`ServerFrame::Reply`] holding the same id.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub mod endpoints;
pub mod typescript;

pub use endpoints::*;

/// The protocol version this build speaks. Bumped on any incompatible wire change.
pub const PROTOCOL_VERSION: u32 = 1;
/// Query parameter carrying the protocol version on WebSocket upgrade requests.
pub const VERSION_QUERY_PARAM: &str = "v";
/// Largest text frame the server accepts; larger frames are refused with [`ErrorCode::TooLarge`].
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Longest message body, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4_000;
/// A typing client repeats `typing: true` at most this often while the person keeps typing.
pub const TYPING_REFRESH_MS: i64 = 2_000;
/// A typing indicator without a refresh disappears after this long.
pub const TYPING_EXPIRY_MS: i64 = 6_000;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
        #[serde(transparent)]
        pub struct $name(#[ts(type = "number")] pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A chat (session) on the server.
    ChatId
);
id_type!(
    /// A staff member (operator, supervisor or admin).
    OperatorId
);
id_type!(
    /// A website visitor.
    VisitorId
);
id_type!(
    /// A live chat: one support channel with its own members, settings and embed key.
    LiveChatId
);
id_type!(
    /// A message in a chat, server-assigned and increasing within the server.
    MessageId
);
id_type!(
    /// A team: a named group of operators of one live chat that rules and transfers can
    /// address (B04, B22).
    TeamId
);

/// A stored file (B32): random and unguessable, though knowing it grants nothing without a
/// token that may read the message carrying it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(transparent)]
pub struct AttachmentId(pub String);

impl std::fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A file carried by a message (B32). Download it from [`ATTACHMENT_PATH`] with a bearer token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub id: AttachmentId,
    /// The file name the uploader gave, cleaned of path parts; hostile text like any message.
    pub name: String,
    /// Size in bytes.
    #[ts(type = "number")]
    pub size: u64,
    /// The MIME type the server sniffed and allowed, e.g. `image/png`.
    pub content_type: String,
}

/// Milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(transparent)]
pub struct Timestamp(#[ts(type = "number")] pub i64);

/// A client-generated command id (a UUID in practice). The server uses it as the idempotency key:
/// a command resent with the same id gets the first outcome again and has no second effect.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(transparent)]
pub struct ClientId(pub String);

impl ClientId {
    /// Longest accepted client id; longer ones are a [`ErrorCode::BadRequest`].
    pub const MAX_LEN: usize = 64;
}

/// Error codes shared with TypeScript. A code exists only where a client branches on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    /// The request or frame was well-formed JSON but not a valid request.
    BadRequest,
    /// The frame was not valid JSON or not a known frame type.
    BadFrame,
    /// Missing, wrong, revoked or expired credentials. Sign in again.
    Unauthorized,
    /// Signed in, but not allowed to do this.
    Forbidden,
    /// The thing named does not exist (or is not visible to the caller).
    NotFound,
    /// The state changed under the caller, e.g. the chat was taken by someone else.
    Conflict,
    /// The client speaks a protocol version the server does not (HTTP 426).
    UpgradeRequired,
    /// A frame or message over the size limits.
    TooLarge,
    /// Something failed on the server; the request may be retried.
    Internal,
}

/// The error body of every REST error response and every failed command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    pub code: ErrorCode,
    /// A sentence for a person, e.g. "This chat was taken by Ann Operator."
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Lifecycle of a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ChatState {
    /// Waiting for an operator: ringing or offered.
    Pending,
    /// Has a responsible operator.
    Active,
    /// Ended by an operator or the visitor.
    Closed,
    /// The visitor left while the chat was pending.
    Abandoned,
}

/// Where the visitor wrote from (B43).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Channel {
    Web,
}

/// An operator's availability (B07).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Availability {
    Online,
    Away,
    Offline,
}

/// A staff member as others see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OperatorRef {
    pub id: OperatorId,
    pub name: String,
}

/// A colleague as the invite and transfer picker shows them (B22, B23): only an online one can
/// take a transfer, so the picker shows who is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Colleague {
    pub id: OperatorId,
    pub name: String,
    pub availability: Availability,
    /// Their routing switch (B07): off means they get no new chats, though they may still
    /// accept a transfer.
    pub routing: bool,
}

/// A live chat the signed-in person can access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LiveChatSummary {
    pub id: LiveChatId,
    pub name: String,
    /// Whether the signed-in person supervises this live chat.
    pub supervisor: bool,
    /// Whether staff may use the emoji picker in this live chat's chats (B32).
    #[serde(default = "enabled")]
    pub staff_emoji: bool,
}

/// Serde default of settings that are on unless switched off.
fn enabled() -> bool {
    true
}

/// The signed-in staff member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OperatorProfile {
    pub id: OperatorId,
    pub name: String,
    pub email: String,
    pub live_chats: Vec<LiveChatSummary>,
}

/// What staff know of a visitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitorProfile {
    pub id: VisitorId,
    pub name: String,
    pub email: Option<String>,
    /// The page the visitor started the chat from.
    pub page_url: Option<String>,
    /// Approximate location for people, e.g. "Berlin, Germany": from a trusted proxy's country
    /// header when configured, else derived from the browser's time zone (no GeoIP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub location: Option<String>,
    /// ISO 3166-1 alpha-2 country code, e.g. "DE", as routing rules see it (B04).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub country: Option<String>,
    /// The browser's language tag, e.g. "de-DE".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub language: Option<String>,
    /// The browser's IANA time zone, e.g. "Europe/Berlin".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub time_zone: Option<String>,
    /// The topic or department chosen in the pre-chat form, one of the live chat's options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub topic: Option<String>,
}

/// A team of one live chat (B04, B22): rules can route to it, chats can be transferred to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    pub id: TeamId,
    pub live_chat: LiveChatId,
    pub name: String,
    /// Member operators of the live chat, by id, ascending.
    pub members: Vec<OperatorId>,
}

/// A chat as staff see it in lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChatSummary {
    pub id: ChatId,
    pub live_chat: LiveChatId,
    pub state: ChatState,
    pub channel: Channel,
    pub visitor: VisitorProfile,
    /// The visitor's pre-chat question.
    pub subject: String,
    /// The operator responsible for the chat, once accepted.
    pub responsible: Option<OperatorRef>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The visitor's rating of the chat (B33), so a fresh sign-in or a new device shows it
    /// without having seen `ChatRated`; absent until rated and from older servers. Staff only:
    /// visitors never get a `ChatSummary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub rating: Option<ChatRating>,
}

/// Who wrote a message, as staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Author {
    Visitor { name: String },
    Operator { id: OperatorId, name: String },
    System,
}

/// Who may read a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Visibility {
    /// Reaches the visitor.
    Public,
    /// Staff only (a note). Never sent to a visitor by any path.
    Note,
}

/// A message as staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: MessageId,
    pub chat: ChatId,
    /// The sender's command id, so a sender can match its local echo.
    pub client_id: Option<ClientId>,
    pub author: Author,
    pub visibility: Visibility,
    /// Plain text. Clients render it as text, never as markup.
    pub body: String,
    pub sent_at: Timestamp,
    /// Files posted with the message (B32); absent in messages from older servers.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// When the author last changed the text (B16), so "(edited)" survives reloads; absent when
    /// never edited and in messages from older servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub edited_at: Option<Timestamp>,
}

/// Why a ring stopped for this operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RingStopReason {
    /// This operator accepted it.
    AcceptedByYou,
    /// Another operator accepted it.
    AcceptedBy { operator: OperatorRef },
    /// This operator muted it; it waits in their Awaiting list.
    Muted,
    /// The visitor left while it was pending.
    Abandoned,
    /// The chat was ended.
    Ended,
    /// This operator is no longer eligible (away, offline, full).
    Unavailable,
    /// This operator declined the offer (B05); their routing is now off.
    Declined,
    /// The offer to this operator ran out (B05); their routing is now off.
    TimedOut,
}

/// How a live chat hands new chats to operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum RoutingMode {
    /// Every eligible operator rings until one accepts (B01).
    RingAll,
    /// One eligible operator at a time, with a countdown (B05).
    Offer,
}

/// A chat offered to one operator (B05): what the screen-pop shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub chat: ChatId,
    /// When the offer runs out and moves on to the next operator.
    pub deadline: Timestamp,
    /// The visitor's pre-chat question.
    pub subject: String,
    /// The live chat (group) the visitor wrote to.
    pub group: String,
    /// Approximate location of the visitor, when known.
    pub location: Option<String>,
    pub created_at: Timestamp,
}

/// Why a colleague asks an operator into a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum InvitationKind {
    /// Join as a participant, visibly (B23).
    Invite,
    /// Become responsible instead of the sender (B22).
    Transfer,
}

/// An open invitation or transfer for one operator (B22, B23).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub chat: ChatId,
    pub kind: InvitationKind,
    pub from: OperatorRef,
    /// The transfer note: staff only, never shown to the visitor.
    pub note: Option<String>,
    /// The visitor's pre-chat question.
    pub subject: String,
    /// The team's name when this is one of a transfer to a team (B22): "via team Billing".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub team: Option<String>,
}

/// An open invitation or transfer this operator sent (B22, B23), as listed after a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingInvitation {
    pub chat: ChatId,
    pub kind: InvitationKind,
    /// The colleague it waits on; a team transfer lists one entry per member it rings for.
    pub to: OperatorRef,
    /// Set when this is one of a transfer to a team.
    pub team: Option<TeamId>,
}

/// How an invitation or transfer ended (B22, B23), as the server stored it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum InvitationOutcome {
    /// `by` accepted: the invited colleague, or for the other members of a team transfer, the
    /// one who took it first ("taken by Bob").
    Accepted {
        by: OperatorRef,
    },
    Declined,
    /// Nobody answered within the server's invitation timeout.
    TimedOut,
    /// `by`, the sender, left the chat or handed it on before an answer came.
    Withdrawn {
        by: OperatorRef,
    },
    /// The chat ended before an answer came.
    ChatEnded,
}

/// An invitation or transfer to or from this operator that was decided recently (B22, B23):
/// listed after a snapshot, until the operator dismisses it, so what happened while they were
/// away still says why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DecidedInvitation {
    pub chat: ChatId,
    pub kind: InvitationKind,
    pub from: OperatorRef,
    /// The invited colleague (one entry per member for a team transfer).
    pub to: OperatorRef,
    /// Set when this is one of a transfer to a team.
    pub team: Option<TeamId>,
    pub outcome: InvitationOutcome,
    pub decided_at: Timestamp,
}

/// Longest page URL, title or referrer the server keeps of a visitor's page view (B50), in
/// characters; longer ones are cut.
pub const MAX_PAGE_TEXT_CHARS: usize = 1_000;

/// A visitor currently on a page of a live chat's site (B50), as staff see them. Every string
/// came from the visitor's browser: show it as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SiteVisitor {
    pub visitor: VisitorId,
    pub live_chat: LiveChatId,
    /// The name given in the pre-chat form of their latest chat, if they ever started one.
    pub name: Option<String>,
    pub page_url: Option<String>,
    pub page_title: Option<String>,
    /// `document.referrer` of the page they are on, when the browser gave one.
    pub referrer: Option<String>,
    /// Approximate location, e.g. "Berlin, Germany" (same source as [`VisitorProfile`]).
    pub location: Option<String>,
    /// When this visit began.
    pub first_seen: Timestamp,
    /// Page views in this visit (reloads count).
    pub pages_viewed: u32,
    /// The visitor has an open chat.
    pub in_chat: bool,
}

/// Events on an operator's stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum OperatorEvent {
    /// The full state the operator needs, sent when a resume from `since` is not possible.
    /// A client replaces what it knows with this.
    #[serde(rename_all = "camelCase")]
    Snapshot {
        chats: Vec<ChatSummary>,
        ringing: Vec<ChatId>,
        availability: Availability,
    },
    /// A chat was created or changed (state, responsible operator, ...).
    ChatUpserted { chat: ChatSummary },
    /// A message was posted in a chat this operator can see.
    MessagePosted { message: Message },
    /// A pending chat started ringing for this operator.
    RingStarted { chat: ChatId },
    /// A chat stopped ringing for this operator.
    RingStopped {
        chat: ChatId,
        reason: RingStopReason,
    },
    /// This operator's availability changed (from this or another device).
    AvailabilityChanged { availability: Availability },
    /// A chat is offered to this operator alone (B05). A `RingStarted` for the same chat
    /// follows; the `RingStopped` that ends the ring ends the offer.
    Offered { offer: Offer },
    /// This operator's routing switch changed (B07): off means no rings and no offers.
    RoutingChanged { routing: bool },
    /// A colleague invites this operator into a chat (B23) or transfers it to them (B22).
    /// Answer with [`AnswerInvitation`].
    Invited { invitation: Invitation },
    /// The operator this one invited or transferred to answered (B22, B23).
    InvitationAnswered {
        chat: ChatId,
        kind: InvitationKind,
        operator: OperatorRef,
        accepted: bool,
    },
    /// Replies to a chat were locked by a staff member, or unlocked (`lockedBy: null`) (B15).
    #[serde(rename_all = "camelCase")]
    ReplyLockChanged {
        chat: ChatId,
        locked_by: Option<OperatorRef>,
    },
    /// An invitation or transfer ran out unanswered (B22, B23): sent to its sender, who gets
    /// the chat back with the reason, and to `operator`, the invited one, whose invitation is
    /// withdrawn. Also sent to the invited one when the invitation is withdrawn otherwise (the
    /// sender left or handed the chat on, a colleague took the team transfer, the chat ended).
    InvitationExpired {
        chat: ChatId,
        kind: InvitationKind,
        operator: OperatorRef,
        /// Why it ended, as the server stored it, so a console can say so at once ("Ann
        /// withdrew", "taken by Bob", "timed out"). Absent from servers that keep no outcomes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        outcome: Option<InvitationOutcome>,
    },
    /// The author changed the text of a message (B16). Replaces the message with the same id.
    MessageEdited { message: Message },
    /// The author deleted a message (B16). Clients show "message deleted" in its place.
    MessageDeleted { chat: ChatId, message: MessageId },
    /// Visitor messages stayed unread by the responsible operator longer than the configured
    /// escalation time (B12); sent once per batch to every subscribed member (B13).
    UnreadEscalation {
        chat: ChatId,
        messages: Vec<Message>,
    },
    /// Every team of this operator's live chats, sent after a snapshot and whenever a team of
    /// one of them changes. Replaces what the client knows of teams.
    TeamsChanged { teams: Vec<Team> },
    /// A supervisor switched the staff's emoji picker of one of this operator's live chats on or
    /// off (B32): the client updates that live chat's `staffEmoji` in the profile it holds.
    #[serde(rename_all = "camelCase")]
    StaffEmojiChanged {
        live_chat: LiveChatId,
        enabled: bool,
    },
    /// The chat's visitor started (`typing: true`) or stopped typing. Only ever sent in a
    /// [`ServerFrame::Transient`] frame: clients hide it after [`TYPING_EXPIRY_MS`] without a
    /// refresh. It carries no draft text: what a visitor has not sent is theirs.
    VisitorTyping { chat: ChatId, typing: bool },
    /// The chat's visitor has seen the staff's public messages up to `upTo` (read state).
    #[serde(rename_all = "camelCase")]
    VisitorRead { chat: ChatId, up_to: MessageId },
    /// Everyone on the pages of this operator's live chats now (B50), sent on every connect
    /// (after the snapshot or the replay). Replaces what the client knows of visitors on site.
    /// Presence, not history: only ever sent in a [`ServerFrame::Transient`] frame, like the
    /// three events after it.
    VisitorsOnSite { visitors: Vec<SiteVisitor> },
    /// A visitor opened a page with the widget (B50). A reload or a second tab is not an arrival.
    VisitorArrived { visitor: SiteVisitor },
    /// A visitor on site moved to another page, or started or ended a chat (B50). Replaces the
    /// visitor with the same id.
    VisitorUpdated { visitor: SiteVisitor },
    /// A visitor's last page with the widget closed and they did not come back within the grace
    /// period (B50).
    #[serde(rename_all = "camelCase")]
    VisitorLeft {
        live_chat: LiveChatId,
        visitor: VisitorId,
    },
    /// Every open invitation and transfer to (`received`) and from (`sent`) this operator (B22,
    /// B23), sent right after a snapshot: a snapshot replaces the log that held the `Invited`
    /// events, so a reconnect after a long gap loses none. Replaces what the client knows of
    /// open invitations; a sent one missing here was answered or ran out meanwhile.
    OpenInvitations {
        received: Vec<Invitation>,
        sent: Vec<OutgoingInvitation>,
        /// Invitations and transfers to or from this operator decided in the last
        /// [`DECIDED_INVITATIONS_KEPT_MS`] and not dismissed ([`DismissInvitationOutcomes`]),
        /// oldest first. Absent from servers that keep no outcomes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        decided: Option<Vec<DecidedInvitation>>,
    },
    /// Every other staff member of this operator's live chats with their availability, by
    /// name, sent right after a snapshot. Replaces what the client knows of colleagues.
    ColleaguesChanged { colleagues: Vec<Colleague> },
    /// A colleague's availability or routing switch changed; sent to the staff of every live
    /// chat they share. Replaces the colleague with the same id.
    ColleagueChanged { colleague: Colleague },
    /// The chat's visitor rated it (B33), or replaced their rating: sent to the chat's staff
    /// (responsible operator, participants and the live chat's supervisors). Replaces the
    /// rating the client knows for that chat. The comment is the visitor's text: show it as text.
    ChatRated { rating: ChatRating },
}

/// A message as the visitor sees it: the type has no way to carry a note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitorMessage {
    pub id: MessageId,
    pub client_id: Option<ClientId>,
    pub from: VisitorSideAuthor,
    pub body: String,
    pub sent_at: Timestamp,
    /// Files posted with the message (B32); a note's never get here, as notes never do.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// When staff last changed the text (B16), so "(edited)" survives reloads; absent when never
    /// edited and in messages from older servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub edited_at: Option<Timestamp>,
    /// When staff deleted the message (B16): body and files are gone, the widget shows a
    /// placeholder in its place, also after a snapshot. Absent for live messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub deleted_at: Option<Timestamp>,
}

/// Who wrote a message, as the visitor sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum VisitorSideAuthor {
    /// The visitor themself.
    Me,
    /// Staff, by display name.
    Operator {
        name: String,
    },
    System,
}

/// The visitor's chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitorChat {
    pub id: ChatId,
    pub state: ChatState,
    pub subject: String,
    /// Staff currently in the chat, by display name, in join order.
    pub operators: Vec<String>,
    pub created_at: Timestamp,
    /// Whether the widget offers its emoji picker (B32): the live chat's visitor emoji switch.
    /// A change reaches open chats as `ChatUpdated`; on for messages from older servers.
    #[serde(default = "emoji_enabled_default")]
    pub emoji_enabled: bool,
    /// Whether the widget asks for a rating (B33): the live chat's rating switch. A change
    /// reaches open chats as `ChatUpdated`; absent (on) from older servers.
    #[serde(default = "emoji_enabled_default")]
    pub rating_enabled: bool,
}

/// Serde default of [`VisitorChat::emoji_enabled`] for older servers.
fn emoji_enabled_default() -> bool {
    true
}

/// Events on a visitor's stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum VisitorEvent {
    /// Everything the visitor needs to draw the widget, sent when a resume is not possible.
    Snapshot {
        chat: Option<VisitorChat>,
        messages: Vec<VisitorMessage>,
    },
    /// The chat changed state.
    ChatUpdated {
        chat: VisitorChat,
    },
    MessagePosted {
        message: VisitorMessage,
    },
    /// "<name> joined".
    OperatorJoined {
        name: String,
    },
    /// "<name> left".
    OperatorLeft {
        name: String,
    },
    /// Staff changed the text of a public message (B16). Replaces the message with the same id.
    MessageEdited {
        message: VisitorMessage,
    },
    /// Staff deleted a public message (B16): show "message deleted" in its place.
    MessageDeleted {
        message: MessageId,
    },
    /// A staff member in the chat started or stopped typing a public reply (never a note, never
    /// a monitoring supervisor). Only ever sent in a [`ServerFrame::Transient`] frame.
    OperatorTyping {
        name: String,
        typing: bool,
    },
    /// The responsible operator has read the visitor's messages up to `upTo` ("Seen").
    #[serde(rename_all = "camelCase")]
    Read {
        up_to: MessageId,
    },
}

/// Frames a client sends on a WebSocket. `C` is [`OperatorCommand`] or [`VisitorCommand`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ClientFrame<C> {
    /// First frame of every connection.
    Hello {
        token: String,
        /// Last event sequence number applied; `None` asks for a snapshot.
        #[ts(type = "number | null")]
        since: Option<u64>,
    },
    Command {
        id: ClientId,
        command: C,
    },
    Ping {
        #[ts(type = "number")]
        nonce: u64,
    },
}

/// Frames the server sends on a WebSocket. `E` is the event type, `R` the response type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ServerFrame<E, R> {
    /// Answer to `Hello`: the session is authenticated. `head` is the stream's latest sequence
    /// number; `resumed` says whether the events after `since` follow (else a snapshot does).
    Welcome {
        protocol: u32,
        #[ts(type = "number")]
        head: u64,
        resumed: bool,
        /// When resumed: how many events the replay holds, for catch-up progress ("syncing N of
        /// M"). Operator `seq`s skip numbers, so `head - since` would overstate it. Absent from
        /// older servers and on snapshots.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        missed: Option<u64>,
    },
    /// `seq` increases along a stream but may skip numbers: on operator streams it is the id in
    /// a log shared by many operators. `prev` is the previous event of this stream (absent on a
    /// snapshot and on visitor streams, whose `seq` is dense): a client whose last applied `seq`
    /// is below it missed an event.
    Event {
        #[ts(type = "number")]
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        prev: Option<u64>,
        event: E,
    },
    /// The outcome of the command with this id.
    Reply { id: ClientId, outcome: Outcome<R> },
    /// A connection-level error (malformed frame, bad token). Fatal ones close the socket.
    Error { error: ApiError },
    Pong {
        #[ts(type = "number")]
        nonce: u64,
    },
    /// An ephemeral event (typing indicators): not in the stream's log, no sequence number,
    /// never replayed on resume, so resuming from `since` stays exact. Missing one loses nothing
    /// that lasts.
    Transient { event: E },
}

/// The result of a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Outcome<R> {
    Ok { response: R },
    Error { error: ApiError },
}

impl<R> Outcome<R> {
    pub fn into_result(self) -> Result<R, ApiError> {
        match self {
            Outcome::Ok { response } => Ok(response),
            Outcome::Error { error } => Err(error),
        }
    }
}

impl<R> From<Result<R, ApiError>> for Outcome<R> {
    fn from(result: Result<R, ApiError>) -> Self {
        match result {
            Ok(response) => Outcome::Ok { response },
            Err(error) => Outcome::Error { error },
        }
    }
}

/// Acknowledgement of a command that returns nothing else.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Ack {}

/// A command paired with its response type, so a client's `request(cmd)` is typed end to end.
pub trait Command: Serialize + Into<Self::Envelope> {
    /// The enum this command travels in ([`OperatorCommand`] or [`VisitorCommand`]).
    type Envelope;
    /// What a successful reply carries.
    type Response;
    /// The enum the response travels in.
    type ResponseEnvelope;
    /// Takes this command's response out of its envelope; `None` when the server answered with
    /// another variant (a protocol violation).
    fn response(envelope: Self::ResponseEnvelope) -> Option<Self::Response>;
}

macro_rules! commands {
    (
        $envelope:ident, $response_envelope:ident;
        $( $(#[$meta:meta])* $variant:ident($command:ident) -> $response:ty; )*
    ) => {
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
        #[serde(tag = "type", rename_all = "camelCase")]
        pub enum $envelope {
            $( $(#[$meta])* $variant($command), )*
        }

        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
        #[serde(tag = "type", rename_all = "camelCase")]
        pub enum $response_envelope {
            $( $variant($response), )*
        }

        $(
            impl From<$command> for $envelope {
                fn from(command: $command) -> Self {
                    $envelope::$variant(command)
                }
            }

            impl Command for $command {
                type Envelope = $envelope;
                type Response = $response;
                type ResponseEnvelope = $response_envelope;
                fn response(envelope: $response_envelope) -> Option<$response> {
                    match envelope {
                        $response_envelope::$variant(response) => Some(response),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )*
    };
}

/// Accept a ringing or awaiting chat: become responsible and join it (B10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AcceptChat {
    pub chat: ChatId,
}

/// Post a public reply or a note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    pub chat: ChatId,
    pub body: String,
    pub visibility: Visibility,
}

/// End a chat (B25).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EndChat {
    pub chat: ChatId,
}

/// Silence one ringing request for this operator only (B02).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MuteRing {
    pub chat: ChatId,
}

/// Change this operator's availability (B07).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SetAvailability {
    pub availability: Availability,
}

/// The operator's new availability.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilityState {
    pub availability: Availability,
}

/// Decline an offer (B05): turns routing off for this operator and offers the chat to the next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeclineOffer {
    pub chat: ChatId,
}

/// Flip the routing switch (B07) of this operator (`operator: null`) or, for a supervisor of one
/// of their live chats, of another operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SetRouting {
    pub operator: Option<OperatorId>,
    pub routing: bool,
}

/// An operator's routing switch after a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoutingState {
    pub operator: OperatorId,
    pub routing: bool,
}

/// A supervisor sets another operator's availability (B07).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SetOperatorAvailability {
    pub operator: OperatorId,
    pub availability: Availability,
}

/// Close a chat's tab without ending it (B14): the visitor is told the operator left and the
/// chat goes back to the queue, ringing again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseChat {
    pub chat: ChatId,
}

/// Watch a chat invisibly (B21), for a supervisor of its live chat: the reply is the chat's
/// history; its live messages arrive as usual. Nobody is told, least of all the visitor, and the
/// composer stays limited to notes until the supervisor joins or takes over. Audited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MonitorChat {
    pub chat: ChatId,
}

/// Join an active chat visibly (B20), for a supervisor of its live chat: everyone, the visitor
/// included, sees "<name> joined" and the joiner may reply. Audited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct JoinChat {
    pub chat: ChatId,
}

/// Take over an active chat, for a supervisor of its live chat: they become responsible; the
/// previous operator stays as a participant (`previousStays`) or leaves. The visitor is told.
/// Audited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TakeOverChat {
    pub chat: ChatId,
    pub previous_stays: bool,
}

/// Hand an active chat to another member operator (B27), for its responsible operator or a
/// supervisor: the target becomes responsible at once and the previous operator leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReassignChat {
    pub chat: ChatId,
    pub operator: OperatorId,
}

/// Invite a member operator to join an active chat (B23).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InviteOperator {
    pub chat: ChatId,
    pub operator: OperatorId,
}

/// Transfer an active chat to an online member operator (B22) with a staff-only note. The
/// sender stays responsible until the target accepts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TransferChat {
    pub chat: ChatId,
    pub operator: OperatorId,
    pub note: String,
}

/// Transfer an active chat to a team (B22) with a staff-only note: it rings for the team's
/// online members; the first to accept becomes responsible, and the sender stays until then.
/// When every member declines or nobody answers in time, it comes back to the sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TransferToTeam {
    pub chat: ChatId,
    pub team: TeamId,
    pub note: String,
}

/// Accept or decline this operator's open invitation or transfer of a chat (B22, B23).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AnswerInvitation {
    pub chat: ChatId,
    pub accept: bool,
}

/// How long the server lists a decided invitation or transfer after a snapshot (24 h).
pub const DECIDED_INVITATIONS_KEPT_MS: i64 = 24 * 60 * 60 * 1_000;

/// The operator has seen how the invitations and transfers of a chat to and from them ended
/// (B22, B23): they are no longer listed after a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DismissInvitationOutcomes {
    pub chat: ChatId,
}

/// A staff member leaves a chat they are in (B24). The visitor sees "<name> left". When the
/// responsible operator leaves, the first colleague who joined takes over; when nobody is left,
/// the chat ends and a ticket is opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StaffLeaveChat {
    pub chat: ChatId,
}

/// Lock (or unlock) public replies to a chat so colleagues see someone is on it (B15).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LockReplies {
    pub chat: ChatId,
    pub locked: bool,
}

/// Change the text of a message this operator wrote (B16). Only the author may.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EditMessage {
    pub message: MessageId,
    pub body: String,
}

/// Delete a message this operator wrote (B16). Only the author may.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeleteMessage {
    pub message: MessageId,
}

/// The responsible operator has read the chat's visitor messages up to `upTo` (B12): they no
/// longer escalate. From anyone else the command is accepted and changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MarkRead {
    pub chat: ChatId,
    pub up_to: MessageId,
}

/// Receive unread escalations of a chat again (B13); members are subscribed by default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SubscribeChat {
    pub chat: ChatId,
}

/// Stop receiving unread escalations of a chat (B13).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UnsubscribeChat {
    pub chat: ChatId,
}

/// This operator started or stopped typing in a chat's composer (ephemeral, not logged and not
/// idempotency-checked: a resend only refreshes the indicator). The visitor is told only about
/// public replies from staff who are in the chat; notes and monitoring stay invisible to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SetTyping {
    pub chat: ChatId,
    pub typing: bool,
    pub visibility: Visibility,
}

commands! {
    OperatorCommand, OperatorResponse;
    Accept(AcceptChat) -> ChatSummary;
    Send(SendMessage) -> Message;
    End(EndChat) -> ChatSummary;
    Mute(MuteRing) -> Ack;
    SetAvailability(SetAvailability) -> AvailabilityState;
    Decline(DeclineOffer) -> Ack;
    SetRouting(SetRouting) -> RoutingState;
    SetOperatorAvailability(SetOperatorAvailability) -> AvailabilityState;
    Release(ReleaseChat) -> ChatSummary;
    Monitor(MonitorChat) -> ChatHistory;
    Join(JoinChat) -> ChatSummary;
    TakeOver(TakeOverChat) -> ChatSummary;
    Reassign(ReassignChat) -> ChatSummary;
    Invite(InviteOperator) -> Ack;
    Transfer(TransferChat) -> Ack;
    TransferToTeam(TransferToTeam) -> Ack;
    AnswerInvitation(AnswerInvitation) -> ChatSummary;
    DismissInvitationOutcomes(DismissInvitationOutcomes) -> Ack;
    LockReplies(LockReplies) -> Ack;
    StaffLeave(StaffLeaveChat) -> ChatSummary;
    EditMessage(EditMessage) -> Message;
    DeleteMessage(DeleteMessage) -> Ack;
    MarkRead(MarkRead) -> Ack;
    Subscribe(SubscribeChat) -> Ack;
    Unsubscribe(UnsubscribeChat) -> Ack;
    Typing(SetTyping) -> Ack;
}

/// Start a chat from the widget's pre-chat form (B51). A visitor has at most one open chat:
/// starting again returns the open one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StartChat {
    pub name: String,
    pub email: Option<String>,
    pub question: String,
    pub page_url: Option<String>,
    /// One of the live chat's pre-chat topics ([`VisitorSessionResponse::topics`]), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub topic: Option<String>,
    /// The browser's language (`navigator.language`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub language: Option<String>,
    /// The browser's IANA time zone; the server derives an approximate location from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub time_zone: Option<String>,
}

/// Post a message as the visitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitorSend {
    pub body: String,
}

/// The visitor ends their chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LeaveChat {}

/// The visitor started or stopped typing (ephemeral, like [`SetTyping`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitorTyping {
    pub typing: bool,
}

/// The visitor has seen the staff's messages up to `upTo` (the widget was open and showed them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitorMarkRead {
    pub up_to: MessageId,
}

/// The visitor's browser shows a page with the widget (B50): sent after every connect and on
/// every in-page navigation. Ephemeral like [`VisitorTyping`] (not logged, no idempotency).
/// Texts are cut to [`MAX_PAGE_TEXT_CHARS`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitorPageView {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub referrer: Option<String>,
    /// The browser's IANA time zone, for the approximate location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub time_zone: Option<String>,
}

commands! {
    VisitorCommand, VisitorResponse;
    Start(StartChat) -> VisitorChat;
    Send(VisitorSend) -> VisitorMessage;
    Leave(LeaveChat) -> VisitorChat;
    Typing(VisitorTyping) -> Ack;
    MarkRead(VisitorMarkRead) -> Ack;
    PageView(VisitorPageView) -> Ack;
    Rate(RateChat) -> ChatRating;
}

/// Longest comment of a chat rating (B33), in characters; longer ones are refused.
pub const MAX_RATING_COMMENT_CHARS: usize = 500;
/// How long after its first rating a visitor may still change it (B33): a later rating within
/// this window replaces the earlier one, after it the rating stands.
pub const RATING_CHANGE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// The visitor's verdict on a chat (B33): thumbs up or thumbs down, the two-way scale
/// LiveChat and Zendesk use, quick enough that visitors answer it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum RatingScore {
    /// 👍 good.
    Good,
    /// 👎 bad.
    Bad,
}

/// A chat's rating by its visitor (B33).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChatRating {
    pub chat: ChatId,
    pub score: RatingScore,
    /// The visitor's optional comment: hostile text like any message, at most
    /// [`MAX_RATING_COMMENT_CHARS`] characters.
    pub comment: Option<String>,
    pub rated_at: Timestamp,
}

/// The visitor rates their chat (B33), during it or after it ended. Only the visitor's own chat;
/// a second rating within [`RATING_CHANGE_WINDOW_MS`] replaces the first. Refused with
/// `forbidden` when the live chat switched ratings off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RateChat {
    pub chat: ChatId,
    pub score: RatingScore,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub comment: Option<String>,
}

/// Frames an operator client sends.
pub type OperatorClientFrame = ClientFrame<OperatorCommand>;
/// Frames the server sends an operator client.
pub type OperatorServerFrame = ServerFrame<OperatorEvent, OperatorResponse>;
/// Frames a visitor client sends.
pub type VisitorClientFrame = ClientFrame<VisitorCommand>;
/// Frames the server sends a visitor client.
pub type VisitorServerFrame = ServerFrame<VisitorEvent, VisitorResponse>;

#[cfg(test)]
mod tests;
