// Generated from crates/core by ts-rs. Do not edit: run
// `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-core` after changing the Rust types.

import type { ApiError, Availability, ChatId, ChatSummary, Message, MessageId, OperatorCommand, OperatorProfile, Timestamp } from "./protocol";

export type ConnectionState = { "type": "signedOut" } | { "type": "connecting" } | { "type": "connected" } | { "type": "offline" } | { "type": "reconnecting", at: Timestamp, } | { "type": "upgradeRequired" };

export type KeychainState = { "type": "available" } | { "type": "unavailable", reason: string, };

export type RingerState = { "type": "silent" } | { "type": "ringing" } | { "type": "muted" } | { "type": "noDevice", reason: string, };

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
awaiting: boolean, group: ChatGroup, };

export type Counters = { unread: number, unassigned: number, ringing: number, myChats: number, awaiting: number, };

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
 * Messages of the open chat that matched (empty when no chat is open).
 */
messages: Array<Message>, };

export type CoreState = { connection: ConnectionState, keychain: KeychainState, operator: OperatorProfile | null, availability: Availability, chats: Array<ConsoleChat>, counters: Counters, ringer: RingerState, ringerMuted: boolean, 
/**
 * Commands not yet confirmed by the server, oldest first.
 */
outbox: Array<OutboxItem>, 
/**
 * Set while catching up after a reconnect.
 */
sync: SyncProgress | null, };

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
message: SoundChoice, };

export type CoreEvent = { "type": "connection", state: ConnectionState, } | { "type": "session", operator: OperatorProfile | null, keychain: KeychainState, } | { "type": "chats", chats: Array<ConsoleChat>, counters: Counters, } | { "type": "messagePosted", message: Message, } | { "type": "messageEdited", message: Message, } | { "type": "messageDeleted", chat: ChatId, message: MessageId, } | { "type": "ringer", state: RingerState, muted: boolean, } | { "type": "availability", availability: Availability, } | { "type": "outbox", items: Array<OutboxItem>, } | { "type": "sync", progress: SyncProgress | null, } | { "type": "notify", notification: Notification, } | { "type": "userAttention", wanted: boolean, };
