// Generated from crates/core by ts-rs. Do not edit: run
// `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-core` after changing the Rust types.

import type { ApiError, Availability, ChatId, ChatRating, ChatSummary, Colleague, Invitation, InvitationKind, InvitationOutcome, OperatorRef, OperatorId, TeamId, Message, MessageId, OperatorCommand, OperatorProfile, SiteVisitor, Timestamp, Visibility } from "./protocol";

export type ConnectionState = { "type": "signedOut" } | { "type": "connecting" } | { "type": "connected" } | { "type": "offline" } | { "type": "reconnecting", at: Timestamp, } | { "type": "upgradeRequired" };

export type KeychainState = { "type": "available" } | { "type": "unavailable", reason: string, };

export type RingerState = { "type": "silent" } | { "type": "ringing" } | { "type": "muted" } | { "type": "noDevice", reason: string, } | { "type": "disabled" };

export type ChatGroup = "unassigned" | "awaiting" | "myChats" | "othersActive" | "closed";

export type ConsoleChat = { summary: ChatSummary, 
/**
 * Visitor messages not yet read by me (counted while I am responsible, B12).
 */
unread: number, 
/**
 * Rings for me right now.
 */
ringing: boolean, 
/**
 * Muted by me while still pending.
 */
awaiting: boolean, group: ChatGroup, 
/**
 * The visitor has seen the staff's messages up to this one ("Seen"); kept in the cache,
 * so it survives an app restart. Absent until the visitor reads something.
 */
visitorReadUpTo?: MessageId, 
/**
 * The visitor's rating of the chat (B33), kept in the cache; absent until they rate it.
 */
rating?: ChatRating, };

export type Counters = { 
/**
 * Unread visitor messages in every chat this operator handles.
 */
unread: number, unassigned: number, ringing: number, myChats: number, awaiting: number, 
/**
 * Unread visitor messages in My Chats: the red badge beside that group.
 */
myChatsUnread: number, 
/**
 * Active chats other operators handle (the supervisor's "All active" group).
 */
othersActive: number, closed: number, 
/**
 * The red badge (B41): unread messages for an operator, chats waiting in the live chats
 * they supervise for a supervisor, the sum for someone who is both.
 */
red: number, 
/**
 * The blue badge (B41): new unassigned requests in my live chats.
 */
blue: number, };

export type SyncProgress = { applied: number, total: number, };

export type OutboxState = { "type": "pending" } | { "type": "failed", error: ApiError, };

export type OutboxItem = { 
/**
 * The command's client id, which retry and discard take.
 */
id: string, command: OperatorCommand, createdAt: Timestamp, state: OutboxState, };

export type SearchResults = { 
/**
 * Chats whose visitor name or subject matched.
 */
chats: Array<ConsoleChat>, 
/**
 * Messages that matched, newest first: the open chat's, or every chat's when none is open.
 */
messages: Array<Message>, };

export type CoreState = { connection: ConnectionState, keychain: KeychainState, operator: OperatorProfile | null, availability: Availability, chats: Array<ConsoleChat>, counters: Counters, 
/**
 * Requests ringing for me, oldest first (the tray's list): exactly the chats listed as
 * ringing, so `counters.ringing` is always its length.
 */
ringingRequests: Array<RingingRequest>, ringer: RingerState, ringerMuted: boolean, 
/**
 * Commands not yet confirmed by the server, oldest first.
 */
outbox: Array<OutboxItem>, 
/**
 * Set while catching up after a reconnect.
 */
sync: SyncProgress | null, 
/**
 * Visitors on the pages of my live chats (B50); absent when signed out.
 */
visitorsOnSite?: Array<SiteVisitor>, };

export type NotificationKind = { "type": "ringing" } | { "type": "message" } | { "type": "invitation" } | { "type": "transfer" } | { "type": "mention" } | { "type": "escalation" };

export type Notification = { 
/**
 * Same event, same key: a replayed event after a reconnect is not notified twice.
 */
key: string, chat: ChatId, kind: NotificationKind, 
/**
 * "Maria – pricing question". Visitor text: shown as plain text only.
 */
title: string, body: string, };

export type RingingRequest = { chat: ChatId, 
/**
 * Since when it rings on this device.
 */
since: Timestamp, };

export type SoundChoice = { "type": "builtIn" } | { "type": "off" } | { "type": "file", path: string, };

export type SoundSettings = { 
/**
 * 0 to 100 percent of the sound's own level.
 */
volume: number, 
/**
 * The loop while requests ring.
 */
ring: SoundChoice, 
/**
 * The short cue for a new visitor message in my chats.
 */
message: SoundChoice, 
/**
 * A colleague invites me into a chat or transfers one to me (B22, B23).
 */
invitation: SoundChoice, 
/**
 * A colleague's note mentions me (B26).
 */
mention: SoundChoice, 
/**
 * A new visitor on the site (B50): off unless the operator wants it.
 */
newVisitor: SoundChoice, 
/**
 * The output device's id (from [`SoundStatus::devices`]); `None`: the system default.
 */
outputDevice: string | null, };

export type Sound = "ring" | "message" | "invitation" | "mention" | "newVisitor";

export type SoundUnavailable = { "type": "disabled" } | { "type": "noDevice", reason: string, };

export type OutputDevice = { 
/**
 * Stable id to store in [`SoundSettings::output_device`], e.g. `alsa:default`.
 */
id: string, 
/**
 * What the sound system calls it.
 */
name: string, isDefault: boolean, };

export type SoundStatus = { 
/**
 * `None` while sound works.
 */
unavailable: SoundUnavailable | null, 
/**
 * The output devices to choose from (none while sound is unavailable).
 */
devices: Array<OutputDevice>, 
/**
 * Set while the chosen device is gone and the default device plays instead.
 */
fallback: string | null, };

export type SentState = { "type": "waiting" } | { "type": "accepted" } | { "type": "declined" } | { "type": "timedOut" } | { "type": "chatEnded" } | { "type": "answeredWhileAway" };

export type SentInvitation = { chat: ChatId, kind: InvitationKind, 
/**
 * Who it went to, by display name: the colleague, or the team (then, once accepted, the
 * colleague who took it).
 */
to: string, 
/**
 * The colleague it went to; `null` for a team.
 */
operator: OperatorId | null, 
/**
 * The team it went to (B22).
 */
team: TeamId | null, state: SentState, };

export type EndedInvitation = { chat: ChatId, kind: InvitationKind, from: OperatorRef, 
/**
 * The visitor's pre-chat question.
 */
subject: string, 
/**
 * The team's name when it was one of a transfer to a team.
 */
team: string | null, outcome: InvitationOutcome, };

export type ReplyLock = { chat: ChatId, lockedBy: OperatorRef, };

export type Collaboration = { 
/**
 * Invitations and transfers waiting for this operator's answer, oldest first.
 */
invitations: Array<Invitation>, 
/**
 * Invitations and transfers this operator sent, with their fate.
 */
sent: Array<SentInvitation>, replyLocks: Array<ReplyLock>, 
/**
 * Chats whose unread escalations this operator stopped (B13).
 */
unsubscribed: Array<ChatId>, 
/**
 * The other staff of this operator's live chats with their availability and routing
 * switch, for the invite and transfer picker (B22, B23). Empty in caches written before.
 */
colleagues: Array<Colleague>, 
/**
 * Invitations and transfers to this operator that ended without their answer (live or
 * while they were away), with why, until dismissed. Empty in caches written before.
 */
ended: Array<EndedInvitation>, };

export type UploadState = { "kind": "sending" } | { "kind": "queued" } | { "kind": "done" } | { "kind": "failed", error: ApiError, };

export type UploadProgress = { 
/**
 * The upload's client id.
 */
id: string, chat: ChatId, name: string, visibility: Visibility, sent: number, total: number, state: UploadState, };

export type CoreEvent = { "type": "connection", state: ConnectionState, } | { "type": "session", operator: OperatorProfile | null, keychain: KeychainState, } | { "type": "chats", chats: Array<ConsoleChat>, counters: Counters, } | { "type": "messagePosted", message: Message, } | { "type": "messageEdited", message: Message, } | { "type": "messageDeleted", chat: ChatId, message: MessageId, } | { "type": "ringer", state: RingerState, muted: boolean, } | { "type": "availability", availability: Availability, } | { "type": "outbox", items: Array<OutboxItem>, } | { "type": "sync", progress: SyncProgress | null, } | { "type": "notify", notification: Notification, } | { "type": "visitorTyping", chat: ChatId, typing: boolean, } | { "type": "visitorRead", chat: ChatId, upTo: MessageId, } | { "type": "userAttention", wanted: boolean, } | { "type": "upload", upload: UploadProgress, } | { "type": "visitorsOnSite", visitors: Array<SiteVisitor>, } | { "type": "collaboration", collaboration: Collaboration, };
