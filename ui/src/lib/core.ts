// Generated from crates/core by ts-rs. Do not edit: run
// `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-core` after changing the Rust types.

import type { Availability, ChatSummary, Message, OperatorProfile, Timestamp } from "./protocol";

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

export type CoreState = { connection: ConnectionState, keychain: KeychainState, operator: OperatorProfile | null, availability: Availability, chats: Array<ConsoleChat>, counters: Counters, ringer: RingerState, ringerMuted: boolean, };

export type CoreEvent = { "type": "connection", state: ConnectionState, } | { "type": "session", operator: OperatorProfile | null, keychain: KeychainState, } | { "type": "chats", chats: Array<ConsoleChat>, counters: Counters, } | { "type": "messagePosted", message: Message, } | { "type": "ringer", state: RingerState, muted: boolean, } | { "type": "availability", availability: Availability, };
