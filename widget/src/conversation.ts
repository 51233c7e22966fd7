// The visitor's conversation as the widget draws it, and the pure functions that move it from one
// state to the next. No DOM and no I/O here, so every rule (snapshot replaces, replay is ignored,
// local echoes are matched by command id, join notices are not doubled) is unit-testable.

import type {
  Attachment,
  ChatState,
  ClientId,
  VisitorChat,
  VisitorEvent,
  VisitorMessage,
  VisitorSideAuthor,
} from "./protocol";

/** Whether one of my messages reached the server. */
export type Delivery = "sent" | "pending" | "failed";

/** A message in the list: from the server, or my local echo waiting for its reply. */
export interface MessageEntry {
  kind: "message";
  /** Stable identity for the view: an echo keeps its key when the server's copy replaces it. */
  key: string;
  /** Server id; `null` while the message is only a local echo. */
  id: number | null;
  clientId: ClientId | null;
  from: VisitorSideAuthor;
  body: string;
  sentAt: number;
  delivery: Delivery;
  /** Why the send failed, for a person. */
  failure: string | null;
  /** Staff deleted it (B16): the text is gone and the bubble says so. */
  deleted?: boolean;
  /** Staff changed the text (B16), when: the bubble says "(edited)", also after a reload. */
  editedAt?: number;
  /** Files the message carries (B32). */
  attachments?: Attachment[];
}

/**
 * A notice the server sent as an event rather than a message ("Ann Operator joined"). It is kept
 * locally, placed after the message it followed, so it survives reloads and snapshots.
 */
export interface NoticeEntry {
  kind: "notice";
  key: string;
  text: string;
  /** Id of the last server message before the notice (`null` when there was none). */
  after: number | null;
  /** The chat the notice belongs to, so the chat's question can be placed before it. */
  chat: number | null;
}

export type Entry = MessageEntry | NoticeEntry;

export interface Conversation {
  chat: VisitorChat | null;
  entries: Entry[];
  /** Sequence number of the last event applied; `null` until the first one. */
  lastSeq: number | null;
  /** The responsible operator has read my messages up to this id ("Seen"). */
  readUpTo?: number | null;
}

/** The most entries kept (and persisted); older ones drop off the top. */
export const MAX_ENTRIES = 300;

export function emptyConversation(): Conversation {
  return { chat: null, entries: [], lastSeq: null };
}

export function isOpenChat(chat: VisitorChat | null): boolean {
  return chat !== null && (chat.state === "pending" || chat.state === "active");
}

export function isFinished(state: ChatState): boolean {
  return state === "closed" || state === "abandoned";
}

export function joinedText(name: string): string {
  return `${name} joined`;
}

/** What a deleted message's bubble says instead of its text (B16). */
export const DELETED_TEXT = "Message deleted";

export function leftText(name: string): string {
  return `${name} left`;
}

/**
 * Applies one event from the visitor stream. Events at or below `lastSeq` were already applied
 * (a replay after a reconnect overlapping what we had) and are ignored, except snapshots, which
 * always replace what we know.
 */
export function applyEvent(conversation: Conversation, seq: number, event: VisitorEvent): Conversation {
  if (event.type !== "snapshot" && conversation.lastSeq !== null && seq <= conversation.lastSeq) {
    return conversation;
  }
  const next = applyEventBody(conversation, event);
  // A snapshot does not carry read state: what was seen in the same chat stays seen.
  const readUpTo = next.chat?.id === conversation.chat?.id ? (next.readUpTo ?? conversation.readUpTo ?? null) : null;
  return { ...next, lastSeq: seq, readUpTo };
}

function applyEventBody(conversation: Conversation, event: VisitorEvent): Conversation {
  switch (event.type) {
    case "snapshot":
      return applySnapshot(conversation, event.chat, event.messages);
    case "chatUpdated":
      return applyChat(conversation, event.chat);
    case "messagePosted":
      return applyMessage(conversation, event.message);
    case "operatorJoined":
      return addNotice(conversation, joinedText(event.name));
    case "operatorLeft":
      return addNotice(conversation, leftText(event.name));
    case "messageEdited":
      return replaceMessage(conversation, event.message.id, (entry) => ({
        ...entry,
        body: event.message.body,
        // An older server sends no stamp; the edit happened all the same.
        editedAt: event.message.editedAt ?? entry.sentAt,
      }));
    case "messageDeleted":
      // Its files and "(edited)" go with its text.
      return replaceMessage(conversation, event.message, ({ attachments: _files, editedAt: _edited, ...entry }) => ({
        ...entry,
        body: DELETED_TEXT,
        deleted: true,
      }));
    case "read":
      return { ...conversation, readUpTo: Math.max(conversation.readUpTo ?? 0, event.upTo) };
    // Typing travels in transient frames only; one in the log would be stale by now.
    case "operatorTyping":
      return conversation;
  }
}

/** Staff edited or deleted a message (B16): change the bubble in place; unknown ids are ignored. */
function replaceMessage(
  conversation: Conversation,
  id: number,
  change: (entry: MessageEntry) => MessageEntry,
): Conversation {
  let found = false;
  const entries = conversation.entries.map((entry) => {
    if (entry.kind !== "message" || entry.id !== id) return entry;
    found = true;
    return change(entry);
  });
  return found ? { ...conversation, entries } : conversation;
}

/**
 * Replaces the conversation with the server's snapshot. Kept from before: my echoes the server
 * has not seen yet (they are still to be delivered) and the local notices, except any the server
 * now holds as a system message of the same text.
 */
export function applySnapshot(
  conversation: Conversation,
  chat: VisitorChat | null,
  messages: VisitorMessage[],
): Conversation {
  const known = new Set(messages.map((message) => message.clientId).filter((id) => id !== null));
  const systemBodies = new Set(
    messages.filter((message) => message.from.kind === "system").map((message) => message.body),
  );
  const echoes = conversation.entries.filter(
    (entry): entry is MessageEntry =>
      entry.kind === "message" && entry.id === null && !(entry.clientId !== null && known.has(entry.clientId)),
  );
  const notices = conversation.entries.filter(
    (entry): entry is NoticeEntry => entry.kind === "notice" && !systemBodies.has(entry.text),
  );
  const echoKeys = new Map<string, string>();
  for (const entry of conversation.entries) {
    if (entry.kind === "message" && entry.clientId !== null) echoKeys.set(entry.clientId, entry.key);
  }
  const fromServer = messages.map((message) => {
    const key = message.clientId !== null ? echoKeys.get(message.clientId) : undefined;
    return messageEntry(message, key);
  });
  return {
    chat,
    entries: ordered([...fromServer, ...notices, ...echoes]),
    lastSeq: conversation.lastSeq,
  };
}

export function applyChat(conversation: Conversation, chat: VisitorChat): Conversation {
  return { ...conversation, chat };
}

/**
 * Adds or updates a server message. My echo with the same command id is replaced in place; a
 * system message takes the place of a local notice with the same text posted just before it.
 */
export function applyMessage(conversation: Conversation, message: VisitorMessage): Conversation {
  let entries = conversation.entries;
  const existing = entries.findIndex(
    (entry) =>
      entry.kind === "message" &&
      (entry.id === message.id || (message.clientId !== null && entry.clientId === message.clientId)),
  );
  if (existing >= 0) {
    const previous = entries[existing] as MessageEntry;
    entries = entries.map((entry, index) => (index === existing ? messageEntry(message, previous.key) : entry));
    // Both the reply and the broadcast can carry the same message: keep exactly one copy.
    entries = entries.filter(
      (entry, index) => index === existing || entry.kind !== "message" || entry.id !== message.id,
    );
  } else {
    if (message.from.kind === "system") {
      const before = latestMessageIdBelow(entries, message.id);
      entries = entries.filter(
        (entry) => !(entry.kind === "notice" && entry.text === message.body && (entry.after ?? 0) >= (before ?? 0)),
      );
    }
    entries = [...entries, messageEntry(message)];
  }
  return { ...conversation, entries: ordered(entries) };
}

/** Adds "<name> joined"/"<name> left", unless the server just posted it as a system message. */
export function addNotice(conversation: Conversation, text: string): Conversation {
  const messages = conversation.entries.filter(
    (entry): entry is MessageEntry => entry.kind === "message" && entry.id !== null,
  );
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index] as MessageEntry;
    if (message.from.kind !== "system") break;
    if (message.body === text) return conversation;
  }
  const after = latestMessageIdBelow(conversation.entries, Number.POSITIVE_INFINITY);
  const serial = conversation.entries.filter((entry) => entry.kind === "notice").length;
  const notice: NoticeEntry = {
    kind: "notice",
    key: `n:${after ?? 0}:${serial}:${text}`,
    text,
    after,
    chat: conversation.chat?.id ?? null,
  };
  return { ...conversation, entries: ordered([...conversation.entries, notice]) };
}

/** My message, shown at once and marked pending until the server's reply. */
export function addEcho(conversation: Conversation, clientId: ClientId, body: string, now: number): Conversation {
  const echo: MessageEntry = {
    kind: "message",
    key: `c:${clientId}`,
    id: null,
    clientId,
    from: { kind: "me" },
    body,
    sentAt: now,
    delivery: "pending",
    failure: null,
  };
  return { ...conversation, entries: ordered([...conversation.entries, echo]) };
}

/** The send with this command id failed for good: show it with a retry. */
export function failEcho(conversation: Conversation, clientId: ClientId, failure: string): Conversation {
  return {
    ...conversation,
    entries: conversation.entries.map((entry) =>
      entry.kind === "message" && entry.id === null && entry.clientId === clientId
        ? { ...entry, delivery: "failed", failure }
        : entry,
    ),
  };
}

/**
 * A failed echo goes back to pending under a new command id: the old id's failure is remembered by
 * the server (idempotency), so resending it would only return the same failure.
 */
export function retryEcho(conversation: Conversation, key: string, clientId: ClientId): Conversation {
  return {
    ...conversation,
    entries: conversation.entries.map((entry) =>
      entry.kind === "message" && entry.key === key && entry.delivery === "failed"
        ? { ...entry, clientId, delivery: "pending", failure: null }
        : entry,
    ),
  };
}

/** Echoes still waiting for the server, oldest first: resent (same id) after a reconnect. */
export function pendingEchoes(conversation: Conversation): MessageEntry[] {
  return conversation.entries.filter(
    (entry): entry is MessageEntry => entry.kind === "message" && entry.id === null && entry.delivery === "pending",
  );
}

/**
 * What the list shows: the entries, led by the chat's question when the server does not hold it as
 * one of my messages (so the question stays visible after a reload).
 */
/** The key of my newest message the operator has read: "Seen" goes under it. */
export function seenKey(conversation: Conversation): string | null {
  const readUpTo = conversation.readUpTo ?? null;
  if (readUpTo === null) return null;
  for (let index = conversation.entries.length - 1; index >= 0; index -= 1) {
    const entry = conversation.entries[index];
    if (entry?.kind === "message" && entry.from.kind === "me" && entry.id !== null && entry.id <= readUpTo) {
      return entry.key;
    }
  }
  return null;
}

/** The newest staff message, which the visitor has seen once it is on an open panel. */
export function newestStaffMessage(conversation: Conversation): number | null {
  for (let index = conversation.entries.length - 1; index >= 0; index -= 1) {
    const entry = conversation.entries[index];
    if (entry?.kind === "message" && entry.from.kind === "operator" && entry.id !== null && entry.deleted !== true) {
      return entry.id;
    }
  }
  return null;
}

export function visibleEntries(conversation: Conversation): Entry[] {
  const chat = conversation.chat;
  if (chat === null || chat.subject.trim() === "") return conversation.entries;
  const asked = conversation.entries.some(
    (entry) => entry.kind === "message" && entry.from.kind === "me" && entry.body === chat.subject,
  );
  if (asked) return conversation.entries;
  const question: MessageEntry = {
    kind: "message",
    key: `q:${chat.id}`,
    id: null,
    clientId: null,
    from: { kind: "me" },
    body: chat.subject,
    sentAt: chat.createdAt,
    delivery: "sent",
    failure: null,
  };
  const firstOfChat = conversation.entries.findIndex((entry) =>
    entry.kind === "notice" ? entry.chat === chat.id : entry.id === null || entry.sentAt >= chat.createdAt,
  );
  const at = firstOfChat < 0 ? conversation.entries.length : firstOfChat;
  return [...conversation.entries.slice(0, at), question, ...conversation.entries.slice(at)];
}

function messageEntry(message: VisitorMessage, key?: string): MessageEntry {
  const entry: MessageEntry = {
    kind: "message",
    key: key ?? `m:${message.id}`,
    id: message.id,
    clientId: message.clientId,
    from: message.from,
    body: message.body,
    sentAt: message.sentAt,
    delivery: "sent",
    failure: null,
  };
  // A snapshot holds a deleted message as a stamped placeholder (B16): it keeps its place.
  if (message.deletedAt !== undefined) return { ...entry, body: DELETED_TEXT, deleted: true };
  if (message.editedAt !== undefined) entry.editedAt = message.editedAt;
  if (message.attachments !== undefined && message.attachments.length > 0) entry.attachments = message.attachments;
  return entry;
}

function latestMessageIdBelow(entries: Entry[], limit: number): number | null {
  let latest: number | null = null;
  for (const entry of entries) {
    if (entry.kind === "message" && entry.id !== null && entry.id < limit && (latest === null || entry.id > latest)) {
      latest = entry.id;
    }
  }
  return latest;
}

/**
 * Server messages by id, each notice right after the message it followed, echoes last in the order
 * they were written; then the oldest beyond [`MAX_ENTRIES`] are dropped.
 */
function ordered(entries: Entry[]): Entry[] {
  const rank = (entry: Entry): [number, number] => {
    if (entry.kind === "notice") return [entry.after ?? 0, 1];
    if (entry.id === null) return [Number.POSITIVE_INFINITY, 0];
    return [entry.id, 0];
  };
  const sorted = entries
    .map((entry, index) => ({ entry, index, rank: rank(entry) }))
    .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.index - b.index)
    .map((item) => item.entry);
  return sorted.length > MAX_ENTRIES ? sorted.slice(sorted.length - MAX_ENTRIES) : sorted;
}
