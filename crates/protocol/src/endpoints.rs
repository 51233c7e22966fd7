//! REST endpoints, each a request type paired with its response type and its route.
//!
//! Errors are an [`ApiError`](crate::ApiError) body with a matching HTTP status.
//! Authenticated endpoints take `Authorization: Bearer <token>`: an operator token from
//! [`SignIn`], or a visitor token from [`CreateVisitorSession`].

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{
    ChatSummary, Message, OperatorId, OperatorProfile, OperatorRef, RoutingMode, TeamId, Timestamp,
    VisitorId,
};

/// HTTP method of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// A REST endpoint: its method, its route (axum syntax, `{name}` for path parameters), and the
/// request and response bodies.
pub trait Endpoint {
    const METHOD: Method;
    const PATH: &'static str;
    type Request: Serialize;
    type Response;
}

/// Declares a unit struct for an endpoint and implements [`Endpoint`] for it.
macro_rules! endpoint {
    ($(#[$meta:meta])* $name:ident: $method:ident $path:literal, $request:ty => $response:ty) => {
        $(#[$meta])*
        pub struct $name;
        impl Endpoint for $name {
            const METHOD: Method = Method::$method;
            const PATH: &'static str = $path;
            type Request = $request;
            type Response = $response;
        }
    };
}

/// WebSocket route for operator clients (desktop core).
pub const OPERATOR_WS_PATH: &str = "/api/v1/operator/ws";
/// WebSocket route for visitor clients (widget).
pub const VISITOR_WS_PATH: &str = "/api/v1/visitor/ws";
/// The widget bundle, served by the server for websites to embed.
pub const WIDGET_SCRIPT_PATH: &str = "/widget.js";
/// The demo web page with the widget embedded.
pub const DEMO_PAGE_PATH: &str = "/demo";

/// Server liveness and the protocol it speaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: String,
    pub protocol: u32,
    pub version: String,
}

endpoint!(
    /// `GET /api/v1/health`.
    GetHealth: Get "/api/v1/health", () => Health
);

/// Operator sign-in with email and password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for SignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A new operator session.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SignInResponse {
    /// Bearer token for REST and the operator WebSocket. The server keeps only its hash.
    pub token: String,
    pub operator: OperatorProfile,
}

impl std::fmt::Debug for SignInResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInResponse")
            .field("token", &"<redacted>")
            .field("operator", &self.operator)
            .finish()
    }
}

endpoint!(
    /// `POST /api/v1/auth/sign-in`.
    SignIn: Post "/api/v1/auth/sign-in", SignInRequest => SignInResponse
);

endpoint!(
    /// `POST /api/v1/auth/sign-out`: revokes the bearer token.
    SignOut: Post "/api/v1/auth/sign-out", () => crate::Ack
);

endpoint!(
    /// `GET /api/v1/me`: the signed-in operator.
    GetMe: Get "/api/v1/me", () => OperatorProfile
);

/// A chat with its full history, as staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChatHistory {
    pub chat: ChatSummary,
    pub messages: Vec<Message>,
}

endpoint!(
    /// `GET /api/v1/chats/{id}/messages` (operator token).
    GetChatHistory: Get "/api/v1/chats/{id}/messages", () => ChatHistory
);

/// Opens or resumes a visitor session for the live chat with this embed key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitorSessionRequest {
    pub embed_key: String,
}

/// A visitor session. The widget keeps the token (in the page's local storage) to survive reloads.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitorSessionResponse {
    pub token: String,
    pub visitor: VisitorId,
    /// Display name of the live chat, for the widget header.
    pub live_chat_name: String,
    /// The pre-chat form's topic (department) choices; empty hides the select.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Whether the widget asks for a rating when the chat ends and offers "Rate this chat"
    /// during it (B33); on unless the live chat switched it off.
    #[serde(default = "rating_enabled_default")]
    pub rating_enabled: bool,
}

impl std::fmt::Debug for VisitorSessionResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisitorSessionResponse")
            .field("token", &"<redacted>")
            .field("visitor", &self.visitor)
            .field("live_chat_name", &self.live_chat_name)
            .finish()
    }
}

/// Serde default of [`VisitorSessionResponse::rating_enabled`] for older servers.
fn rating_enabled_default() -> bool {
    true
}

endpoint!(
    /// `POST /api/v1/visitor/session`.
    CreateVisitorSession: Post "/api/v1/visitor/session", VisitorSessionRequest => VisitorSessionResponse
);

/// Default countdown of an offer (B05).
pub const DEFAULT_OFFER_TIMEOUT_SECONDS: u32 = 30;

/// A per-operator capacity that overrides the live chat's default (B06).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CapacityOverride {
    pub operator: OperatorId,
    /// Most concurrent active chats; `null` is unlimited.
    pub capacity: Option<u32>,
}

/// What a routing rule condition looks at (B04).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum RuleField {
    PageUrl,
    Country,
    Language,
    /// The pre-chat topic or department.
    Topic,
    Channel,
}

/// How a condition compares (case-insensitive except for regular expressions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum RuleMatch {
    Equals,
    Contains,
    Prefix,
    Regex,
}

/// One condition of a rule; a rule matches when all its conditions do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RuleCondition {
    pub field: RuleField,
    #[serde(rename = "match")]
    pub matching: RuleMatch,
    pub value: String,
}

/// What happens when none of a rule's operators is available.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum RuleFallback {
    /// The chat waits for one of the rule's operators.
    Wait,
    /// The chat rings (or is offered) for every eligible operator of the live chat.
    WidenToAll,
}

/// An ordered routing rule (B04): the first rule whose conditions all match decides who rings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoutingRule {
    pub name: String,
    pub conditions: Vec<RuleCondition>,
    /// The operators the chat is routed to; they must be members of the live chat.
    pub operators: Vec<OperatorId>,
    /// Teams of the live chat the chat is routed to, besides `operators`; their members at
    /// routing time count.
    #[serde(default)]
    pub teams: Vec<TeamId>,
    pub fallback: RuleFallback,
}

/// A live chat's routing settings: mode, offer countdown, capacity and rules. Rules are data,
/// validated on save.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoutingSettings {
    pub mode: RoutingMode,
    /// Countdown of an offer, 5 to 600 seconds.
    pub offer_timeout_seconds: u32,
    /// Default most concurrent active chats per operator; `null` is unlimited.
    pub capacity: Option<u32>,
    pub capacity_overrides: Vec<CapacityOverride>,
    pub rules: Vec<RoutingRule>,
    /// The topics (departments) the widget's pre-chat form offers; rules match them with the
    /// `topic` field. At most 50, each 1 to 100 characters, no duplicates.
    #[serde(default)]
    pub topics: Vec<String>,
}

endpoint!(
    /// `GET /api/v1/live-chats/{id}/routing` (supervisor of that live chat).
    GetRoutingSettings: Get "/api/v1/live-chats/{id}/routing", () => RoutingSettings
);

endpoint!(
    /// `POST /api/v1/live-chats/{id}/routing` (supervisor): replaces the settings; a `badRequest`
    /// names the first invalid field.
    SaveRoutingSettings: Post "/api/v1/live-chats/{id}/routing", RoutingSettings => RoutingSettings
);

/// A team to create, or a team's new name and members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TeamRequest {
    pub name: String,
    /// Operators of the team's live chat.
    pub members: Vec<OperatorId>,
}

endpoint!(
    /// `GET /api/v1/teams`: the teams of the operator's live chats, by live chat and name.
    GetTeams: Get "/api/v1/teams", () => Vec<crate::Team>
);

endpoint!(
    /// `POST /api/v1/live-chats/{id}/teams` (supervisor of that live chat): creates a team; a
    /// `badRequest` names the problem, a `conflict` a name already taken.
    CreateTeam: Post "/api/v1/live-chats/{id}/teams", TeamRequest => crate::Team
);

endpoint!(
    /// `POST /api/v1/teams/{id}` (supervisor of its live chat): renames it and replaces members.
    UpdateTeam: Post "/api/v1/teams/{id}", TeamRequest => crate::Team
);

endpoint!(
    /// `POST /api/v1/teams/{id}/delete` (supervisor of its live chat); rules naming the team
    /// must be changed first (`conflict`).
    DeleteTeam: Post "/api/v1/teams/{id}/delete", () => crate::Ack
);

/// A step in a chat's routing history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum RoutingAction {
    /// The chat entered the queue (new, or released back).
    Queued,
    Offered,
    Declined,
    /// The operator ignored the offer until it ran out.
    TimedOut,
    Muted,
    Accepted,
    /// The responsible operator closed the chat's tab (B14).
    Released,
    Abandoned,
}

/// One entry of a chat's routing audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoutingHistoryEntry {
    pub action: RoutingAction,
    pub operator: Option<OperatorRef>,
    pub at: Timestamp,
}

endpoint!(
    /// `GET /api/v1/chats/{id}/routing` (supervisor of the chat's live chat): oldest first.
    GetRoutingHistory: Get "/api/v1/chats/{id}/routing", () => Vec<RoutingHistoryEntry>
);

/// A canned response (B30): reply text an operator inserts from the composer's picker. The body
/// may use `{{ visitor.name }}`-style variables the console fills from the chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CannedResponse {
    #[ts(type = "number")]
    pub id: i64,
    pub title: String,
    pub body: String,
    /// The live chat whose staff share it; `null` for a personal one of the operator asking.
    pub live_chat: Option<crate::LiveChatId>,
}

endpoint!(
    /// `GET /api/v1/canned-responses`: the operator's personal canned responses and those of the
    /// live chats they belong to, by title.
    GetCannedResponses: Get "/api/v1/canned-responses", () => Vec<CannedResponse>
);

/// A knowledge base article (B31) of a live chat; the composer inserts its text or its link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Article {
    #[ts(type = "number")]
    pub id: i64,
    pub live_chat: crate::LiveChatId,
    pub title: String,
    /// Where the article is published, for visitors to open.
    pub url: String,
    pub body: String,
}

/// What to search the knowledge base for; an empty query lists the newest articles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ArticleSearch {
    pub query: String,
}

endpoint!(
    /// `POST /api/v1/articles/search`: articles of the operator's live chats whose title or text
    /// contains the query, titles first, at most [`MAX_ARTICLE_RESULTS`].
    SearchArticles: Post "/api/v1/articles/search", ArticleSearch => Vec<Article>
);

/// Most articles one search returns.
pub const MAX_ARTICLE_RESULTS: usize = 20;

endpoint!(
    /// `GET /api/v1/colleagues`: the other staff of the operator's live chats, by name, for
    /// @mentions in notes (B26).
    GetColleagues: Get "/api/v1/colleagues", () => Vec<OperatorRef>
);

/// What a staff member did to a chat that is not theirs, for the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum AuditAction {
    /// Opened the chat invisibly (B21).
    Monitored,
    /// Joined it visibly (B20).
    Joined,
    /// Took over responsibility for it.
    TookOver,
    /// Handed it to another operator (B27); `previous` is who had it.
    Reassigned,
    /// Invited another operator into it (B23).
    Invited,
    /// Became responsible through an accepted transfer (B22); `previous` is the sender.
    Transferred,
    /// The chat's visitor rated it (B33); `actor` is the operator responsible for it then.
    Rated,
}

/// One entry of a live chat's audit log: who did what to which chat, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub chat: crate::ChatId,
    pub action: AuditAction,
    pub actor: OperatorRef,
    /// For a take-over, the operator who was responsible before.
    pub previous: Option<OperatorRef>,
    pub at: Timestamp,
}

endpoint!(
    /// `GET /api/v1/live-chats/{id}/audit` (supervisor of the live chat, the only administrative
    /// role there is): the supervision audit log, oldest first.
    GetAuditLog: Get "/api/v1/live-chats/{id}/audit", () => Vec<AuditEntry>
);

/// Where a ticket stands (B24, B25).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum TicketStatus {
    Open,
    Pending,
    Solved,
}

/// A ticket: what is left to do after a chat ended (B25) or its last staff member left (B24).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    #[ts(type = "number")]
    pub id: i64,
    pub chat: crate::ChatId,
    pub live_chat: crate::LiveChatId,
    /// The visitor's pre-chat question unless staff changed it.
    pub subject: String,
    pub status: TicketStatus,
    pub assignee: Option<OperatorRef>,
    pub visitor: crate::VisitorProfile,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A ticket with its chat's transcript as staff see it (notes included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TicketDetail {
    pub ticket: Ticket,
    pub messages: Vec<Message>,
    /// The visitor's rating of the chat (B33); absent until rated and from older servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub rating: Option<crate::ChatRating>,
}

/// The end dialog's choices (B25): subject, status and assignee (`null`: unassigned).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TicketUpdate {
    pub subject: String,
    pub status: TicketStatus,
    pub assignee: Option<OperatorId>,
}

/// Where a transcript email went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptSent {
    pub to: String,
}

endpoint!(
    /// `GET /api/v1/tickets`: tickets of the operator's live chats, newest first.
    GetTickets: Get "/api/v1/tickets", () => Vec<Ticket>
);

endpoint!(
    /// `GET /api/v1/tickets/{id}`: one ticket with its transcript, for members of its live chat.
    GetTicket: Get "/api/v1/tickets/{id}", () => TicketDetail
);

endpoint!(
    /// `POST /api/v1/tickets/{id}`: sets subject, status and assignee.
    UpdateTicket: Post "/api/v1/tickets/{id}", TicketUpdate => Ticket
);

endpoint!(
    /// `POST /api/v1/tickets/{id}/email`: emails the public transcript (never notes) to the visitor
    /// through the configured SMTP server.
    EmailTranscript: Post "/api/v1/tickets/{id}/email", () => TranscriptSent
);

/// `POST` (operator token): uploads one file into chat `{id}` and posts it as a message whose
/// reply is a [`Message`](crate::Message). The body is the file's raw bytes; the headers carry
/// `Content-Type`, [`ATTACHMENT_NAME_HEADER`] and [`CLIENT_ID_HEADER`]; the query
/// `?visibility=note` makes it a note (default public, with the same rules as a reply). Errors:
/// `tooLarge` (413) over the server's limit, `badRequest` (400) for a file type not allowed.
pub const UPLOAD_ATTACHMENT_PATH: &str = "/api/v1/chats/{id}/attachments";
/// `POST` (visitor token): the same for the visitor's open chat; the reply is a
/// [`VisitorMessage`](crate::VisitorMessage).
pub const VISITOR_UPLOAD_ATTACHMENT_PATH: &str = "/api/v1/visitor/attachments";
/// `GET` (operator or visitor token): the bytes of attachment `{id}`, for a member of the chat's
/// live chat or the chat's visitor (public messages only). Served with `nosniff`, a sandboxing
/// CSP, and as a download unless it is a raster image.
pub const ATTACHMENT_PATH: &str = "/api/v1/attachments/{id}";
/// The file name of an upload, percent-encoded UTF-8 (headers are ASCII).
pub const ATTACHMENT_NAME_HEADER: &str = "x-attachment-name";
/// The client-generated command id of an upload: a resend with the same id posts nothing new
/// and gets the first message back.
pub const CLIENT_ID_HEADER: &str = "x-client-id";
/// The server's upload limit unless configured otherwise (`attachment_max_bytes`).
pub const DEFAULT_ATTACHMENT_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// A live chat's emoji switches (B32): staff's picker in the console, the visitor's in the
/// widget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EmojiSettings {
    pub staff: bool,
    pub visitors: bool,
}

endpoint!(
    /// `GET /api/v1/live-chats/{id}/emoji` (member of the live chat).
    GetEmojiSettings: Get "/api/v1/live-chats/{id}/emoji", () => EmojiSettings
);

endpoint!(
    /// `POST /api/v1/live-chats/{id}/emoji` (supervisor): replaces both switches. Members get
    /// `OperatorEvent::StaffEmojiChanged` when the staff switch changes, and their profile's
    /// `staffEmoji` says the same on their next sign-in or start.
    SaveEmojiSettings: Post "/api/v1/live-chats/{id}/emoji", EmojiSettings => EmojiSettings
);

/// A live chat's rating switch (B33): whether visitors are asked to rate their chats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RatingSettings {
    pub enabled: bool,
}

endpoint!(
    /// `GET /api/v1/live-chats/{id}/rating` (member of the live chat).
    GetRatingSettings: Get "/api/v1/live-chats/{id}/rating", () => RatingSettings
);

endpoint!(
    /// `POST /api/v1/live-chats/{id}/rating` (supervisor): switches rating prompts on or off for
    /// visitor sessions opened from then on.
    SaveRatingSettings: Post "/api/v1/live-chats/{id}/rating", RatingSettings => RatingSettings
);

/// A customer record (B34): a visitor staff chose to remember. Their later chats show it, since a
/// returning visitor keeps their visitor id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    #[ts(type = "number")]
    pub id: i64,
    pub live_chat: crate::LiveChatId,
    pub name: String,
    pub email: Option<String>,
    /// Staff-only notes; never shown to the visitor.
    pub notes: String,
    pub created_by: Option<OperatorRef>,
    pub created_at: Timestamp,
}

/// Create a customer record for the visitor of `chat` and link the visitor to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomerRequest {
    pub chat: crate::ChatId,
    pub name: String,
    pub email: Option<String>,
    pub notes: String,
}

/// Longest customer name, in characters.
pub const MAX_CUSTOMER_NAME_CHARS: usize = 100;
/// Longest customer notes, in characters.
pub const MAX_CUSTOMER_NOTES_CHARS: usize = 2_000;

endpoint!(
    /// `GET /api/v1/chats/{id}/customer` (member of the chat's live chat): the customer record
    /// the chat's visitor is linked to, or `null`.
    GetChatCustomer: Get "/api/v1/chats/{id}/customer", () => Option<Customer>
);

endpoint!(
    /// `POST /api/v1/customers` (member of the chat's live chat): creates the record and links
    /// the chat's visitor; `conflict` when the visitor already has one, `badRequest` for an empty
    /// or too long name, notes or email.
    CreateCustomer: Post "/api/v1/customers", CreateCustomerRequest => Customer
);
