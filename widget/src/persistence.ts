// What the widget keeps in the page's localStorage so a reload continues the same conversation:
// the visitor token, the conversation with its last applied event seq, and a few form values.
// One record per server origin and embed key, so two widgets on one site never mix.

import { type Conversation, MAX_ENTRIES, emptyConversation } from "./conversation";

/** The subset of `Storage` the widget uses; tests pass an in-memory one. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface StoredSession {
  token: string;
  visitor: number;
  liveChatName: string;
  /** The live chat's pre-chat topics; absent in records stored before topics existed. */
  topics?: string[];
  /** B33: the live chat asks for ratings; absent in records stored before ratings existed. */
  ratingEnabled?: boolean;
  conversation: Conversation;
}

export interface StoredRecord {
  session: StoredSession | null;
  /** Whether the panel was open, so a reload mid-chat keeps it open. */
  open: boolean;
  /** Last pre-chat form values, to prefill "Start a new chat". */
  name: string;
  email: string;
}

const RECORD_VERSION = 1;

export function storageKey(origin: string, embedKey: string): string {
  return `switchboard-widget:v${RECORD_VERSION}:${origin}|${embedKey}`;
}

export function emptyRecord(): StoredRecord {
  return { session: null, open: false, name: "", email: "" };
}

/** An in-memory stand-in when the page forbids localStorage (privacy modes, sandboxed frames). */
export function memoryStorage(): KeyValueStorage {
  const values = new Map<string, string>();
  return {
    getItem: (key) => values.get(key) ?? null,
    setItem: (key, value) => void values.set(key, value),
    removeItem: (key) => void values.delete(key),
  };
}

/** The page's localStorage, or memory when reading it throws. */
export function pageStorage(): KeyValueStorage {
  try {
    const storage = window.localStorage;
    const probe = "switchboard-widget:probe";
    storage.setItem(probe, "1");
    storage.removeItem(probe);
    return storage;
  } catch {
    return memoryStorage();
  }
}

export class RecordStore {
  constructor(
    private readonly storage: KeyValueStorage,
    private readonly key: string,
  ) {}

  /** The stored record; anything unreadable (another version, hand-edited) counts as empty. */
  load(): StoredRecord {
    let raw: string | null;
    try {
      raw = this.storage.getItem(this.key);
    } catch {
      return emptyRecord();
    }
    if (raw === null) return emptyRecord();
    try {
      return parseRecord(JSON.parse(raw) as unknown);
    } catch {
      return emptyRecord();
    }
  }

  save(record: StoredRecord): void {
    const stored = record.session
      ? {
          ...record,
          session: {
            ...record.session,
            conversation: {
              ...record.session.conversation,
              entries: record.session.conversation.entries.slice(-MAX_ENTRIES),
            },
          },
        }
      : record;
    try {
      this.storage.setItem(this.key, JSON.stringify({ version: RECORD_VERSION, ...stored }));
    } catch {
      // Quota exceeded or storage revoked: the chat still works, it just won't survive a reload.
    }
  }

  clear(): void {
    try {
      this.storage.removeItem(this.key);
    } catch {
      // Nothing to do: see `save`.
    }
  }
}

function parseRecord(value: unknown): StoredRecord {
  if (!isObject(value) || value["version"] !== RECORD_VERSION) return emptyRecord();
  const record = emptyRecord();
  record.open = value["open"] === true;
  record.name = typeof value["name"] === "string" ? value["name"] : "";
  record.email = typeof value["email"] === "string" ? value["email"] : "";
  const session = value["session"];
  if (
    isObject(session) &&
    typeof session["token"] === "string" &&
    typeof session["visitor"] === "number" &&
    typeof session["liveChatName"] === "string"
  ) {
    record.session = {
      token: session["token"],
      visitor: session["visitor"],
      liveChatName: session["liveChatName"],
      topics: parseTopics(session["topics"]),
      conversation: parseConversation(session["conversation"]),
    };
  }
  return record;
}

/** Stored topics are trusted only as a list of strings. */
function parseTopics(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((topic): topic is string => typeof topic === "string") : [];
}

/**
 * A stored conversation is trusted only in shape; if it looks wrong we start from nothing and ask
 * the server for a snapshot (`lastSeq` null), which is always correct.
 */
function parseConversation(value: unknown): Conversation {
  if (
    !isObject(value) ||
    !Array.isArray(value["entries"]) ||
    !(value["lastSeq"] === null || typeof value["lastSeq"] === "number") ||
    !(value["chat"] === null || isObject(value["chat"]))
  ) {
    return emptyConversation();
  }
  const entriesValid = value["entries"].every(
    (entry: unknown) =>
      isObject(entry) &&
      typeof entry["key"] === "string" &&
      ((entry["kind"] === "message" && typeof entry["body"] === "string" && isObject(entry["from"])) ||
        (entry["kind"] === "notice" && typeof entry["text"] === "string")),
  );
  if (!entriesValid) return emptyConversation();
  return value as unknown as Conversation;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
