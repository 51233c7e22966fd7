// Generated from crates/protocol by ts-rs. Do not edit: run
// `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-protocol` after changing the Rust types.

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_CHARS = 4000;
export const OPERATOR_WS_PATH = "/api/v1/operator/ws";
export const VISITOR_WS_PATH = "/api/v1/visitor/ws";
export const VISITOR_SESSION_PATH = "/api/v1/visitor/session";

export type ChatId = number;

export type OperatorId = number;

export type VisitorId = number;

export type LiveChatId = number;

export type MessageId = number;

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
supervisor: boolean, };

export type OperatorProfile = { id: OperatorId, name: string, email: string, liveChats: Array<LiveChatSummary>, };

export type VisitorProfile = { id: VisitorId, name: string, email: string | null, 
/**
 * The page the visitor started the chat from.
 */
pageUrl: string | null, };

export type ChatSummary = { id: ChatId, liveChat: LiveChatId, state: ChatState, channel: Channel, visitor: VisitorProfile, 
/**
 * The visitor's pre-chat question.
 */
subject: string, 
/**
 * The operator responsible for the chat, once accepted.
 */
responsible: OperatorRef | null, createdAt: Timestamp, updatedAt: Timestamp, };

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
body: string, sentAt: Timestamp, };

export type RingStopReason = { "kind": "acceptedByYou" } | { "kind": "acceptedBy", operator: OperatorRef, } | { "kind": "muted" } | { "kind": "abandoned" } | { "kind": "ended" } | { "kind": "unavailable" };

export type OperatorEvent = { "type": "snapshot", chats: Array<ChatSummary>, ringing: Array<ChatId>, availability: Availability, } | { "type": "chatUpserted", chat: ChatSummary, } | { "type": "messagePosted", message: Message, } | { "type": "ringStarted", chat: ChatId, } | { "type": "ringStopped", chat: ChatId, reason: RingStopReason, } | { "type": "availabilityChanged", availability: Availability, };

export type VisitorMessage = { id: MessageId, clientId: ClientId | null, from: VisitorSideAuthor, body: string, sentAt: Timestamp, };

export type VisitorSideAuthor = { "kind": "me" } | { "kind": "operator", name: string, } | { "kind": "system" };

export type VisitorChat = { id: ChatId, state: ChatState, subject: string, 
/**
 * Staff currently in the chat, by display name, in join order.
 */
operators: Array<string>, createdAt: Timestamp, };

export type VisitorEvent = { "type": "snapshot", chat: VisitorChat | null, messages: Array<VisitorMessage>, } | { "type": "chatUpdated", chat: VisitorChat, } | { "type": "messagePosted", message: VisitorMessage, } | { "type": "operatorJoined", name: string, } | { "type": "operatorLeft", name: string, };

export type ClientFrame<C> = { "type": "hello", token: string, 
/**
 * Last event sequence number applied; `None` asks for a snapshot.
 */
since: number | null, } | { "type": "command", id: ClientId, command: C, } | { "type": "ping", nonce: number, };

export type ServerFrame<E, R> = { "type": "welcome", protocol: number, head: number, resumed: boolean, } | { "type": "event", seq: number, event: E, } | { "type": "reply", id: ClientId, outcome: Outcome<R>, } | { "type": "error", error: ApiError, } | { "type": "pong", nonce: number, };

export type Outcome<R> = { "status": "ok", response: R, } | { "status": "error", error: ApiError, };

export type Ack = Record<symbol, never>;

export type AcceptChat = { chat: ChatId, };

export type SendMessage = { chat: ChatId, body: string, visibility: Visibility, };

export type EndChat = { chat: ChatId, };

export type MuteRing = { chat: ChatId, };

export type SetAvailability = { availability: Availability, };

export type AvailabilityState = { availability: Availability, };

export type OperatorCommand = { "type": "accept" } & AcceptChat | { "type": "send" } & SendMessage | { "type": "end" } & EndChat | { "type": "mute" } & MuteRing | { "type": "setAvailability" } & SetAvailability;

export type OperatorResponse = { "type": "accept" } & ChatSummary | { "type": "send" } & Message | { "type": "end" } & ChatSummary | { "type": "mute" } & Ack | { "type": "setAvailability" } & AvailabilityState;

export type StartChat = { name: string, email: string | null, question: string, pageUrl: string | null, };

export type VisitorSend = { body: string, };

export type LeaveChat = Record<symbol, never>;

export type VisitorCommand = { "type": "start" } & StartChat | { "type": "send" } & VisitorSend | { "type": "leave" } & LeaveChat;

export type VisitorResponse = { "type": "start" } & VisitorChat | { "type": "send" } & VisitorMessage | { "type": "leave" } & VisitorChat;

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
liveChatName: string, };
