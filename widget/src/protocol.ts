// Generated from crates/protocol by ts-rs. Do not edit: run
// `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-protocol` after changing the Rust types.

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_CHARS = 4000;
export const TYPING_REFRESH_MS = 2000;
export const TYPING_EXPIRY_MS = 6000;
export const OPERATOR_WS_PATH = "/api/v1/operator/ws";
export const VISITOR_WS_PATH = "/api/v1/visitor/ws";
export const VISITOR_SESSION_PATH = "/api/v1/visitor/session";
export const UPLOAD_ATTACHMENT_PATH = "/api/v1/chats/{id}/attachments";
export const VISITOR_UPLOAD_ATTACHMENT_PATH = "/api/v1/visitor/attachments";
export const ATTACHMENT_PATH = "/api/v1/attachments/{id}";
export const ATTACHMENT_NAME_HEADER = "x-attachment-name";
export const CLIENT_ID_HEADER = "x-client-id";
export const DEFAULT_ATTACHMENT_MAX_BYTES = 10485760;
export const MAX_RATING_COMMENT_CHARS = 500;

export type ChatId = number;

export type OperatorId = number;

export type VisitorId = number;

export type LiveChatId = number;

export type MessageId = number;

export type TeamId = number;

export type Team = { id: TeamId, liveChat: LiveChatId, name: string, 
/**
 * Member operators of the live chat, by id, ascending.
 */
members: Array<OperatorId>, };

export type AttachmentId = string;

export type Attachment = { id: AttachmentId, 
/**
 * The file name the uploader gave, cleaned of path parts; hostile text like any message.
 */
name: string, 
/**
 * Size in bytes.
 */
size: number, 
/**
 * The MIME type the server sniffed and allowed, e.g. `image/png`.
 */
contentType: string, };

export type Timestamp = number;

export type ClientId = string;

export type ErrorCode = "badRequest" | "badFrame" | "unauthorized" | "forbidden" | "notFound" | "conflict" | "upgradeRequired" | "tooLarge" | "internal";

export type ApiError = { code: ErrorCode, 
/**
 * A sentence for a person, e.g. "This chat was taken by Ann Operator."
 */
message: string, };

export type ChatState = "pending" | "active" | "closed" | "abandoned";

export type Channel = "web";

export type Availability = "online" | "away" | "offline";

export type OperatorRef = { id: OperatorId, name: string, };

export type LiveChatSummary = { id: LiveChatId, name: string, 
/**
 * Whether the signed-in person supervises this live chat.
 */
supervisor: boolean, 
/**
 * Whether staff may use the emoji picker in this live chat's chats (B32).
 */
staffEmoji: boolean, };

export type OperatorProfile = { id: OperatorId, name: string, email: string, liveChats: Array<LiveChatSummary>, };

export type VisitorProfile = { id: VisitorId, name: string, email: string | null, 
/**
 * The page the visitor started the chat from.
 */
pageUrl: string | null, 
/**
 * Approximate location for people, e.g. "Berlin, Germany": from a trusted proxy's country
 * header when configured, else derived from the browser's time zone (no GeoIP).
 */
location?: string, 
/**
 * ISO 3166-1 alpha-2 country code, e.g. "DE", as routing rules see it (B04).
 */
country?: string, 
/**
 * The browser's language tag, e.g. "de-DE".
 */
language?: string, 
/**
 * The browser's IANA time zone, e.g. "Europe/Berlin".
 */
timeZone?: string, 
/**
 * The topic or department chosen in the pre-chat form, one of the live chat's options.
 */
topic?: string, };

export type ChatSummary = { id: ChatId, liveChat: LiveChatId, state: ChatState, channel: Channel, visitor: VisitorProfile, 
/**
 * The visitor's pre-chat question.
 */
subject: string, 
/**
 * The operator responsible for the chat, once accepted.
 */
responsible: OperatorRef | null, createdAt: Timestamp, updatedAt: Timestamp, 
/**
 * The visitor's rating of the chat (B33), so a fresh sign-in or a new device shows it
 * without having seen `ChatRated`; absent until rated and from older servers. Staff only:
 * visitors never get a `ChatSummary`.
 */
rating?: ChatRating, };

export type Author = { "kind": "visitor", name: string, } | { "kind": "operator", id: OperatorId, name: string, } | { "kind": "system" };

export type Visibility = "public" | "note";

export type Message = { id: MessageId, chat: ChatId, 
/**
 * The sender's command id, so a sender can match its local echo.
 */
clientId: ClientId | null, author: Author, visibility: Visibility, 
/**
 * Plain text. Clients render it as text, never as markup.
 */
body: string, sentAt: Timestamp, 
/**
 * Files posted with the message (B32); absent in messages from older servers.
 */
attachments: Array<Attachment>, 
/**
 * When the author last changed the text (B16), so "(edited)" survives reloads; absent when
 * never edited and in messages from older servers.
 */
editedAt?: Timestamp, };

export type RingStopReason = { "kind": "acceptedByYou" } | { "kind": "acceptedBy", operator: OperatorRef, } | { "kind": "muted" } | { "kind": "abandoned" } | { "kind": "ended" } | { "kind": "unavailable" } | { "kind": "declined" } | { "kind": "timedOut" };

export type RoutingMode = "ringAll" | "offer";

export type Offer = { chat: ChatId, 
/**
 * When the offer runs out and moves on to the next operator.
 */
deadline: Timestamp, 
/**
 * The visitor's pre-chat question.
 */
subject: string, 
/**
 * The live chat (group) the visitor wrote to.
 */
group: string, 
/**
 * Approximate location of the visitor, when known.
 */
location: string | null, createdAt: Timestamp, };

export type InvitationKind = "invite" | "transfer";

export type Invitation = { chat: ChatId, kind: InvitationKind, from: OperatorRef, 
/**
 * The transfer note: staff only, never shown to the visitor.
 */
note: string | null, 
/**
 * The visitor's pre-chat question.
 */
subject: string, 
/**
 * The team's name when this is one of a transfer to a team (B22): "via team Billing".
 */
team?: string, };

export type OutgoingInvitation = { chat: ChatId, kind: InvitationKind, 
/**
 * The colleague it waits on; a team transfer lists one entry per member it rings for.
 */
to: OperatorRef, 
/**
 * Set when this is one of a transfer to a team.
 */
team: TeamId | null, };

export type InvitationOutcome = { "type": "accepted", by: OperatorRef, } | { "type": "declined" } | { "type": "timedOut" } | { "type": "withdrawn", by: OperatorRef, } | { "type": "chatEnded" };

export type DecidedInvitation = { chat: ChatId, kind: InvitationKind, from: OperatorRef, 
/**
 * The invited colleague (one entry per member for a team transfer).
 */
to: OperatorRef, 
/**
 * Set when this is one of a transfer to a team.
 */
team: TeamId | null, outcome: InvitationOutcome, decidedAt: Timestamp, };

export type Colleague = { id: OperatorId, name: string, availability: Availability, 
/**
 * Their routing switch (B07): off means they get no new chats, though they may still
 * accept a transfer.
 */
routing: boolean, };

export type OperatorEvent = { "type": "snapshot", chats: Array<ChatSummary>, ringing: Array<ChatId>, availability: Availability, } | { "type": "chatUpserted", chat: ChatSummary, } | { "type": "messagePosted", message: Message, } | { "type": "ringStarted", chat: ChatId, } | { "type": "ringStopped", chat: ChatId, reason: RingStopReason, } | { "type": "availabilityChanged", availability: Availability, } | { "type": "offered", offer: Offer, } | { "type": "routingChanged", routing: boolean, } | { "type": "invited", invitation: Invitation, } | { "type": "invitationAnswered", chat: ChatId, kind: InvitationKind, operator: OperatorRef, accepted: boolean, } | { "type": "replyLockChanged", chat: ChatId, lockedBy: OperatorRef | null, } | { "type": "invitationExpired", chat: ChatId, kind: InvitationKind, operator: OperatorRef, 
/**
 * Why it ended, as the server stored it, so a console can say so at once ("Ann
 * withdrew", "taken by Bob", "timed out"). Absent from servers that keep no outcomes.
 */
outcome?: InvitationOutcome, } | { "type": "messageEdited", message: Message, } | { "type": "messageDeleted", chat: ChatId, message: MessageId, } | { "type": "unreadEscalation", chat: ChatId, messages: Array<Message>, } | { "type": "teamsChanged", teams: Array<Team>, } | { "type": "staffEmojiChanged", liveChat: LiveChatId, enabled: boolean, } | { "type": "visitorTyping", chat: ChatId, typing: boolean, } | { "type": "visitorRead", chat: ChatId, upTo: MessageId, } | { "type": "visitorsOnSite", visitors: Array<SiteVisitor>, } | { "type": "visitorArrived", visitor: SiteVisitor, } | { "type": "visitorUpdated", visitor: SiteVisitor, } | { "type": "visitorLeft", liveChat: LiveChatId, visitor: VisitorId, } | { "type": "openInvitations", received: Array<Invitation>, sent: Array<OutgoingInvitation>, 
/**
 * Invitations and transfers to or from this operator decided in the last
 * [`DECIDED_INVITATIONS_KEPT_MS`] and not dismissed ([`DismissInvitationOutcomes`]),
 * oldest first. Absent from servers that keep no outcomes.
 */
decided?: Array<DecidedInvitation>, } | { "type": "colleaguesChanged", colleagues: Array<Colleague>, } | { "type": "colleagueChanged", colleague: Colleague, } | { "type": "chatRated", rating: ChatRating, };

export type VisitorMessage = { id: MessageId, clientId: ClientId | null, from: VisitorSideAuthor, body: string, sentAt: Timestamp, 
/**
 * Files posted with the message (B32); a note's never get here, as notes never do.
 */
attachments: Array<Attachment>, 
/**
 * When staff last changed the text (B16), so "(edited)" survives reloads; absent when never
 * edited and in messages from older servers.
 */
editedAt?: Timestamp, 
/**
 * When staff deleted the message (B16): body and files are gone, the widget shows a
 * placeholder in its place, also after a snapshot. Absent for live messages.
 */
deletedAt?: Timestamp, };

export type VisitorSideAuthor = { "kind": "me" } | { "kind": "operator", name: string, } | { "kind": "system" };

export type VisitorChat = { id: ChatId, state: ChatState, subject: string, 
/**
 * Staff currently in the chat, by display name, in join order.
 */
operators: Array<string>, createdAt: Timestamp, 
/**
 * Whether the widget offers its emoji picker (B32): the live chat's visitor emoji switch.
 * A change reaches open chats as `ChatUpdated`; on for messages from older servers.
 */
emojiEnabled: boolean, 
/**
 * Whether the widget asks for a rating (B33): the live chat's rating switch. A change
 * reaches open chats as `ChatUpdated`; absent (on) from older servers.
 */
ratingEnabled: boolean, };

export type VisitorEvent = { "type": "snapshot", chat: VisitorChat | null, messages: Array<VisitorMessage>, } | { "type": "chatUpdated", chat: VisitorChat, } | { "type": "messagePosted", message: VisitorMessage, } | { "type": "operatorJoined", name: string, } | { "type": "operatorLeft", name: string, } | { "type": "messageEdited", message: VisitorMessage, } | { "type": "messageDeleted", message: MessageId, } | { "type": "operatorTyping", name: string, typing: boolean, } | { "type": "read", upTo: MessageId, };

export type ClientFrame<C> = { "type": "hello", token: string, 
/**
 * Last event sequence number applied; `None` asks for a snapshot.
 */
since: number | null, } | { "type": "command", id: ClientId, command: C, } | { "type": "ping", nonce: number, };

export type ServerFrame<E, R> = { "type": "welcome", protocol: number, head: number, resumed: boolean, 
/**
 * When resumed: how many events the replay holds, for catch-up progress ("syncing N of
 * M"). Operator `seq`s skip numbers, so `head - since` would overstate it. Absent from
 * older servers and on snapshots.
 */
missed?: number, } | { "type": "event", seq: number, prev?: number, event: E, } | { "type": "reply", id: ClientId, outcome: Outcome<R>, } | { "type": "error", error: ApiError, } | { "type": "pong", nonce: number, } | { "type": "transient", event: E, };

export type Outcome<R> = { "status": "ok", response: R, } | { "status": "error", error: ApiError, };

export type Ack = Record<symbol, never>;

export type AcceptChat = { chat: ChatId, };

export type SendMessage = { chat: ChatId, body: string, visibility: Visibility, };

export type EndChat = { chat: ChatId, };

export type MuteRing = { chat: ChatId, };

export type SetAvailability = { availability: Availability, };

export type AvailabilityState = { availability: Availability, };

export type DeclineOffer = { chat: ChatId, };

export type SetRouting = { operator: OperatorId | null, routing: boolean, };

export type RoutingState = { operator: OperatorId, routing: boolean, };

export type SetOperatorAvailability = { operator: OperatorId, availability: Availability, };

export type ReleaseChat = { chat: ChatId, };

export type MonitorChat = { chat: ChatId, };

export type JoinChat = { chat: ChatId, };

export type TakeOverChat = { chat: ChatId, previousStays: boolean, };

export type ReassignChat = { chat: ChatId, operator: OperatorId, };

export type InviteOperator = { chat: ChatId, operator: OperatorId, };

export type TransferChat = { chat: ChatId, operator: OperatorId, note: string, };

export type TransferToTeam = { chat: ChatId, team: TeamId, note: string, };

export type AnswerInvitation = { chat: ChatId, accept: boolean, };

export type DismissInvitationOutcomes = { chat: ChatId, };

export type LockReplies = { chat: ChatId, locked: boolean, };

export type StaffLeaveChat = { chat: ChatId, };

export type EditMessage = { message: MessageId, body: string, };

export type DeleteMessage = { message: MessageId, };

export type MarkRead = { chat: ChatId, upTo: MessageId, };

export type SubscribeChat = { chat: ChatId, };

export type UnsubscribeChat = { chat: ChatId, };

export type SetTyping = { chat: ChatId, typing: boolean, visibility: Visibility, };

export type OperatorCommand = { "type": "accept" } & AcceptChat | { "type": "send" } & SendMessage | { "type": "end" } & EndChat | { "type": "mute" } & MuteRing | { "type": "setAvailability" } & SetAvailability | { "type": "decline" } & DeclineOffer | { "type": "setRouting" } & SetRouting | { "type": "setOperatorAvailability" } & SetOperatorAvailability | { "type": "release" } & ReleaseChat | { "type": "monitor" } & MonitorChat | { "type": "join" } & JoinChat | { "type": "takeOver" } & TakeOverChat | { "type": "reassign" } & ReassignChat | { "type": "invite" } & InviteOperator | { "type": "transfer" } & TransferChat | { "type": "transferToTeam" } & TransferToTeam | { "type": "answerInvitation" } & AnswerInvitation | { "type": "dismissInvitationOutcomes" } & DismissInvitationOutcomes | { "type": "lockReplies" } & LockReplies | { "type": "staffLeave" } & StaffLeaveChat | { "type": "editMessage" } & EditMessage | { "type": "deleteMessage" } & DeleteMessage | { "type": "markRead" } & MarkRead | { "type": "subscribe" } & SubscribeChat | { "type": "unsubscribe" } & UnsubscribeChat | { "type": "typing" } & SetTyping;

export type OperatorResponse = { "type": "accept" } & ChatSummary | { "type": "send" } & Message | { "type": "end" } & ChatSummary | { "type": "mute" } & Ack | { "type": "setAvailability" } & AvailabilityState | { "type": "decline" } & Ack | { "type": "setRouting" } & RoutingState | { "type": "setOperatorAvailability" } & AvailabilityState | { "type": "release" } & ChatSummary | { "type": "monitor" } & ChatHistory | { "type": "join" } & ChatSummary | { "type": "takeOver" } & ChatSummary | { "type": "reassign" } & ChatSummary | { "type": "invite" } & Ack | { "type": "transfer" } & Ack | { "type": "transferToTeam" } & Ack | { "type": "answerInvitation" } & ChatSummary | { "type": "dismissInvitationOutcomes" } & Ack | { "type": "lockReplies" } & Ack | { "type": "staffLeave" } & ChatSummary | { "type": "editMessage" } & Message | { "type": "deleteMessage" } & Ack | { "type": "markRead" } & Ack | { "type": "subscribe" } & Ack | { "type": "unsubscribe" } & Ack | { "type": "typing" } & Ack;

export type StartChat = { name: string, email: string | null, question: string, pageUrl: string | null, 
/**
 * One of the live chat's pre-chat topics ([`VisitorSessionResponse::topics`]), if any.
 */
topic?: string, 
/**
 * The browser's language (`navigator.language`).
 */
language?: string, 
/**
 * The browser's IANA time zone; the server derives an approximate location from it.
 */
timeZone?: string, };

export type VisitorSend = { body: string, };

export type LeaveChat = Record<symbol, never>;

export type VisitorTyping = { typing: boolean, };

export type VisitorMarkRead = { upTo: MessageId, };

export type VisitorPageView = { url: string, title?: string, referrer?: string, 
/**
 * The browser's IANA time zone, for the approximate location.
 */
timeZone?: string, };

export type RatingScore = "good" | "bad";

export type ChatRating = { chat: ChatId, score: RatingScore, 
/**
 * The visitor's optional comment: hostile text like any message, at most
 * [`MAX_RATING_COMMENT_CHARS`] characters.
 */
comment: string | null, ratedAt: Timestamp, };

export type RateChat = { chat: ChatId, score: RatingScore, comment?: string, };

export type RatingSettings = { enabled: boolean, };

export type SiteVisitor = { visitor: VisitorId, liveChat: LiveChatId, 
/**
 * The name given in the pre-chat form of their latest chat, if they ever started one.
 */
name: string | null, pageUrl: string | null, pageTitle: string | null, 
/**
 * `document.referrer` of the page they are on, when the browser gave one.
 */
referrer: string | null, 
/**
 * Approximate location, e.g. "Berlin, Germany" (same source as [`VisitorProfile`]).
 */
location: string | null, 
/**
 * When this visit began.
 */
firstSeen: Timestamp, 
/**
 * Page views in this visit (reloads count).
 */
pagesViewed: number, 
/**
 * The visitor has an open chat.
 */
inChat: boolean, };

export type VisitorCommand = { "type": "start" } & StartChat | { "type": "send" } & VisitorSend | { "type": "leave" } & LeaveChat | { "type": "typing" } & VisitorTyping | { "type": "markRead" } & VisitorMarkRead | { "type": "pageView" } & VisitorPageView | { "type": "rate" } & RateChat;

export type VisitorResponse = { "type": "start" } & VisitorChat | { "type": "send" } & VisitorMessage | { "type": "leave" } & VisitorChat | { "type": "typing" } & Ack | { "type": "markRead" } & Ack | { "type": "pageView" } & Ack | { "type": "rate" } & ChatRating;

export type Health = { status: string, protocol: number, version: string, };

export type SignInRequest = { email: string, password: string, };

export type SignInResponse = { 
/**
 * Bearer token for REST and the operator WebSocket. The server keeps only its hash.
 */
token: string, operator: OperatorProfile, };

export type ChatHistory = { chat: ChatSummary, messages: Array<Message>, };

export type VisitorSessionRequest = { embedKey: string, };

export type VisitorSessionResponse = { token: string, visitor: VisitorId, 
/**
 * Display name of the live chat, for the widget header.
 */
liveChatName: string, 
/**
 * The pre-chat form's topic (department) choices; empty hides the select.
 */
topics: Array<string>, 
/**
 * Whether the widget asks for a rating when the chat ends and offers "Rate this chat"
 * during it (B33); on unless the live chat switched it off.
 */
ratingEnabled: boolean, };

export type CapacityOverride = { operator: OperatorId, 
/**
 * Most concurrent active chats; `null` is unlimited.
 */
capacity: number | null, };

export type RuleField = "pageUrl" | "country" | "language" | "topic" | "channel";

export type RuleMatch = "equals" | "contains" | "prefix" | "regex";

export type RuleCondition = { field: RuleField, match: RuleMatch, value: string, };

export type RuleFallback = "wait" | "widenToAll";

export type RoutingRule = { name: string, conditions: Array<RuleCondition>, 
/**
 * The operators the chat is routed to; they must be members of the live chat.
 */
operators: Array<OperatorId>, 
/**
 * Teams of the live chat the chat is routed to, besides `operators`; their members at
 * routing time count.
 */
teams: Array<TeamId>, fallback: RuleFallback, };

export type RoutingSettings = { mode: RoutingMode, 
/**
 * Countdown of an offer, 5 to 600 seconds.
 */
offerTimeoutSeconds: number, 
/**
 * Default most concurrent active chats per operator; `null` is unlimited.
 */
capacity: number | null, capacityOverrides: Array<CapacityOverride>, rules: Array<RoutingRule>, 
/**
 * The topics (departments) the widget's pre-chat form offers; rules match them with the
 * `topic` field. At most 50, each 1 to 100 characters, no duplicates.
 */
topics: Array<string>, };

export type TeamRequest = { name: string, 
/**
 * Operators of the team's live chat.
 */
members: Array<OperatorId>, };

export type RoutingAction = "queued" | "offered" | "declined" | "timedOut" | "muted" | "accepted" | "released" | "abandoned";

export type RoutingHistoryEntry = { action: RoutingAction, operator: OperatorRef | null, at: Timestamp, };

export type CannedResponse = { id: number, title: string, body: string, 
/**
 * The live chat whose staff share it; `null` for a personal one of the operator asking.
 */
liveChat: LiveChatId | null, };

export type Article = { id: number, liveChat: LiveChatId, title: string, 
/**
 * Where the article is published, for visitors to open.
 */
url: string, body: string, };

export type ArticleSearch = { query: string, };

export type AuditAction = "monitored" | "joined" | "tookOver" | "reassigned" | "invited" | "transferred" | "rated";

export type AuditEntry = { chat: ChatId, action: AuditAction, actor: OperatorRef, 
/**
 * For a take-over, the operator who was responsible before.
 */
previous: OperatorRef | null, at: Timestamp, };

export type TicketStatus = "open" | "pending" | "solved";

export type Ticket = { id: number, chat: ChatId, liveChat: LiveChatId, 
/**
 * The visitor's pre-chat question unless staff changed it.
 */
subject: string, status: TicketStatus, assignee: OperatorRef | null, visitor: VisitorProfile, createdAt: Timestamp, updatedAt: Timestamp, };

export type TicketDetail = { ticket: Ticket, messages: Array<Message>, 
/**
 * The visitor's rating of the chat (B33); absent until rated and from older servers.
 */
rating?: ChatRating, };

export type TicketUpdate = { subject: string, status: TicketStatus, assignee: OperatorId | null, };

export type TranscriptSent = { to: string, };

export type EmojiSettings = { staff: boolean, visitors: boolean, };

export type Customer = { id: number, liveChat: LiveChatId, name: string, email: string | null, 
/**
 * Staff-only notes; never shown to the visitor.
 */
notes: string, createdBy: OperatorRef | null, createdAt: Timestamp, };

export type CreateCustomerRequest = { chat: ChatId, name: string, email: string | null, notes: string, };
