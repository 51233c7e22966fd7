// Typing indicators and read state of the chats, both ways.
//
// Incoming: the visitor's typing arrives as ephemeral core events; an indicator without a refresh
// disappears after TYPING_EXPIRY_MS, and a message from the visitor ends it at once. No draft
// text is shown: the protocol does not carry what a visitor has not sent.
// Outgoing: this operator's typing is sent at most once per TYPING_REFRESH_MS, only for public
// replies (a note being written is nobody's business outside staff), and stops after a pause,
// an emptied draft or a send.

import type { ChatId, MessageId, Visibility } from '../lib/protocol';
import { TYPING_EXPIRY_MS, TYPING_REFRESH_MS } from '../lib/protocol';

/** After this long without a keystroke the operator counts as no longer typing. */
export const TYPING_IDLE_MS = 4_000;

export interface Timers {
  set(callback: () => void, delay: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  set: (callback, delay) => setTimeout(callback, delay),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class PresenceStore {
  /** Chats whose visitor is typing now. */
  typing = $state.raw<ReadonlySet<ChatId>>(new Set());
  /** Per chat, the newest staff message the visitor has seen. */
  visitorRead = $state.raw<Readonly<Record<ChatId, MessageId>>>({});

  private readonly expiries = new Map<ChatId, unknown>();
  private readonly timers: Timers;

  constructor(timers: Timers = realTimers) {
    this.timers = timers;
  }

  visitorTyping(chat: ChatId, typing: boolean): void {
    const pending = this.expiries.get(chat);
    if (pending !== undefined) this.timers.clear(pending);
    this.expiries.delete(chat);
    if (typing) {
      this.expiries.set(
        chat,
        this.timers.set(() => this.visitorTyping(chat, false), TYPING_EXPIRY_MS),
      );
    }
    if (this.typing.has(chat) === typing) return;
    const next = new Set(this.typing);
    if (typing) next.add(chat);
    else next.delete(chat);
    this.typing = next;
  }

  /** A message from the visitor ends their typing. */
  visitorMessage(chat: ChatId): void {
    if (this.typing.has(chat)) this.visitorTyping(chat, false);
  }

  markVisitorRead(chat: ChatId, upTo: MessageId): void {
    if ((this.visitorRead[chat] ?? 0) >= upTo) return;
    this.visitorRead = { ...this.visitorRead, [chat]: upTo };
  }

  reset(): void {
    for (const handle of this.expiries.values()) this.timers.clear(handle);
    this.expiries.clear();
    this.typing = new Set();
    this.visitorRead = {};
  }
}

export type SendTyping = (chat: ChatId, typing: boolean, visibility: Visibility) => Promise<void>;

/** Tells the visitor (through the core) that this operator is typing a reply, sparingly. */
export class TypingSender {
  private readonly lastSent = new Map<ChatId, number>();
  private readonly idle = new Map<ChatId, unknown>();
  private readonly send: SendTyping;
  private readonly now: () => number;
  private readonly timers: Timers;

  constructor(send: SendTyping, now: () => number = Date.now, timers: Timers = realTimers) {
    this.send = send;
    this.now = now;
    this.timers = timers;
  }

  /** The draft of `chat` changed. */
  typed(chat: ChatId, visibility: Visibility, draft: string): void {
    if (draft.trim() === '' || visibility === 'note') {
      this.stop(chat);
      return;
    }
    const last = this.lastSent.get(chat);
    const now = this.now();
    if (last === undefined || now - last >= TYPING_REFRESH_MS) {
      this.lastSent.set(chat, now);
      this.fire(chat, true);
    }
    const pending = this.idle.get(chat);
    if (pending !== undefined) this.timers.clear(pending);
    this.idle.set(
      chat,
      this.timers.set(() => this.stop(chat), TYPING_IDLE_MS),
    );
  }

  /** Typing in `chat` ended (sent, emptied, paused or left). */
  stop(chat: ChatId): void {
    const pending = this.idle.get(chat);
    if (pending !== undefined) this.timers.clear(pending);
    this.idle.delete(chat);
    if (!this.lastSent.delete(chat)) return;
    this.fire(chat, false);
  }

  private fire(chat: ChatId, typing: boolean): void {
    // Cosmetic: offline or refused, the indicator simply does not show.
    this.send(chat, typing, 'public').catch(() => undefined);
  }
}

/** The newest public staff message at or before the visitor's read mark: where "Seen" goes. */
/**
 * How far the visitor has read: the newer of what this console saw arrive (`live`) and what the
 * core's cache kept across restarts (`cached`, the chat's `visitorReadUpTo`).
 */
export function readUpTo(live: MessageId | undefined, cached: MessageId | undefined): MessageId | undefined {
  if (live === undefined) return cached;
  if (cached === undefined) return live;
  return Math.max(live, cached);
}

export function seenMessage(
  timeline: readonly { id: MessageId; author: { kind: string }; visibility: Visibility }[],
  readUpTo: MessageId | undefined,
): MessageId | null {
  if (readUpTo === undefined) return null;
  for (let index = timeline.length - 1; index >= 0; index -= 1) {
    const message = timeline[index];
    if (message === undefined) continue;
    if (message.id <= readUpTo && message.author.kind === 'operator' && message.visibility === 'public') {
      return message.id;
    }
  }
  return null;
}
