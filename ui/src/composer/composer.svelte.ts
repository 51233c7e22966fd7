// Drafts and reply/note mode per chat, and sending. Before the operator has joined a chat the
// composer can only write notes (B11); the core would refuse a public reply anyway.

import { toApiError, type Backend, type OutboxItem } from '../lib/backend';
import type { ConsoleChat } from '../lib/core';
import { messages } from '../lib/i18n';
import type { ChatId, Message, OperatorProfile, Visibility } from '../lib/protocol';
import { MAX_MESSAGE_CHARS } from '../lib/protocol';

/** Whether this operator may send public replies in the chat: they are its responsible. */
/** `joined`: this operator joined the chat visibly besides its responsible operator (B20, B23). */
export function canReply(chat: ConsoleChat, operator: OperatorProfile | null, joined = false): boolean {
  return chat.summary.state === 'active' && operator !== null && (chat.summary.responsible?.id === operator.id || joined);
}

export function hasEnded(chat: ConsoleChat): boolean {
  return chat.summary.state === 'closed' || chat.summary.state === 'abandoned';
}

export class ComposerStore {
  drafts = $state<Record<ChatId, string>>({});
  chosenModes = $state<Record<ChatId, Visibility>>({});
  sending = $state<Record<ChatId, boolean>>({});
  errors = $state<Record<ChatId, string | null>>({});
  /** The body of the send awaiting the core's answer, per chat. */
  private inFlight: Record<ChatId, string> = {};

  private readonly backend: Backend;
  private readonly onSent: (message: Message) => void;
  private readonly isQueued: (chat: ChatId, body: string) => boolean;

  /** `isQueued` tells whether the core kept a send in its outbox (offline) rather than losing it. */
  constructor(
    backend: Backend,
    onSent: (message: Message) => void,
    isQueued: (chat: ChatId, body: string) => boolean = () => false,
  ) {
    this.backend = backend;
    this.onSent = onSent;
    this.isQueued = isQueued;
  }

  draft(chat: ChatId): string {
    return this.drafts[chat] ?? '';
  }

  setDraft(chat: ChatId, body: string): void {
    this.drafts[chat] = body;
    if (this.errors[chat]) this.errors[chat] = null;
  }

  /** The effective mode: notes only until the operator may reply, else their choice (reply first). */
  /** B20, B23: whether this operator joined a chat visibly; the console wires it up. */
  joined: (chat: ChatId) => boolean = () => false;
  /** B15: the colleague holding a chat's reply lock, by name; `null` when I may reply. */
  lockedBy: (chat: ChatId) => string | null = () => null;

  /** Whether this operator may write public replies to the chat right now. */
  repliesAllowed(chat: ConsoleChat, operator: OperatorProfile | null): boolean {
    const id = chat.summary.id;
    return canReply(chat, operator, this.joined(id)) && this.lockedBy(id) === null;
  }

  mode(chat: ConsoleChat, operator: OperatorProfile | null): Visibility {
    if (!this.repliesAllowed(chat, operator)) return 'note';
    return this.chosenModes[chat.summary.id] ?? 'public';
  }

  toggleMode(chat: ConsoleChat, operator: OperatorProfile | null): void {
    if (!this.repliesAllowed(chat, operator)) return;
    this.chosenModes[chat.summary.id] = this.mode(chat, operator) === 'public' ? 'note' : 'public';
  }

  /**
   * The core reports an offline send only after its command timeout (15 s), but it shows the
   * reply in its outbox at once: when a send in flight appears there, the composer is done with
   * it now, and the late "not delivered yet" answer changes nothing.
   */
  noteQueued(items: readonly OutboxItem[]): void {
    for (const item of items) {
      if (item.command.type !== 'send' || item.state.type !== 'pending') continue;
      const chat = item.command.chat;
      const body = this.inFlight[chat];
      if (body === undefined || body !== item.command.body) continue;
      if (this.draft(chat).trim() === body) this.drafts[chat] = '';
      this.sending[chat] = false;
      delete this.inFlight[chat];
    }
  }

  tooLong(chat: ChatId): boolean {
    return [...this.draft(chat)].length > MAX_MESSAGE_CHARS;
  }

  /** Sends the draft; returns whether it was handed to the core. */
  async send(chat: ConsoleChat, operator: OperatorProfile | null): Promise<boolean> {
    const id = chat.summary.id;
    const body = this.draft(id).trim();
    if (body === '' || this.sending[id] || hasEnded(chat)) return false;
    if (this.tooLong(id)) {
      this.errors[id] = messages.composer.tooLong(MAX_MESSAGE_CHARS);
      return false;
    }
    const visibility = this.mode(chat, operator);
    this.sending[id] = true;
    this.errors[id] = null;
    this.inFlight[id] = body;
    try {
      const message = await this.backend.sendMessage(id, body, visibility);
      // Only clear what was sent: the operator may have kept typing meanwhile.
      if (this.draft(id).trim() === body) this.drafts[id] = '';
      this.onSent(message);
      return true;
    } catch (reason) {
      // Offline, the core keeps the reply in its outbox and reports it as not delivered yet: it
      // shows in the chat as pending, so the draft is done with.
      if (this.isQueued(id, body)) {
        if (this.draft(id).trim() === body) this.drafts[id] = '';
        return true;
      }
      this.errors[id] = toApiError(reason, messages.composer.failed).message;
      return false;
    } finally {
      if (this.inFlight[id] === body) delete this.inFlight[id];
      this.sending[id] = false;
    }
  }
}
