// Drafts and reply/note mode per chat, and sending. Before the operator has joined a chat the
// composer can only write notes (B11); the core would refuse a public reply anyway.

import { toApiError, type Backend } from '../lib/backend';
import type { ConsoleChat } from '../lib/core';
import { messages } from '../lib/i18n';
import type { ChatId, Message, OperatorProfile, Visibility } from '../lib/protocol';
import { MAX_MESSAGE_CHARS } from '../lib/protocol';

/** Whether this operator may send public replies in the chat: they are its responsible. */
export function canReply(chat: ConsoleChat, operator: OperatorProfile | null): boolean {
  return chat.summary.state === 'active' && operator !== null && chat.summary.responsible?.id === operator.id;
}

export function hasEnded(chat: ConsoleChat): boolean {
  return chat.summary.state === 'closed' || chat.summary.state === 'abandoned';
}

export class ComposerStore {
  drafts = $state<Record<ChatId, string>>({});
  chosenModes = $state<Record<ChatId, Visibility>>({});
  sending = $state<Record<ChatId, boolean>>({});
  errors = $state<Record<ChatId, string | null>>({});

  private readonly backend: Backend;
  private readonly onSent: (message: Message) => void;

  constructor(backend: Backend, onSent: (message: Message) => void) {
    this.backend = backend;
    this.onSent = onSent;
  }

  draft(chat: ChatId): string {
    return this.drafts[chat] ?? '';
  }

  setDraft(chat: ChatId, body: string): void {
    this.drafts[chat] = body;
    if (this.errors[chat]) this.errors[chat] = null;
  }

  /** The effective mode: notes only until the operator may reply, else their choice (reply first). */
  mode(chat: ConsoleChat, operator: OperatorProfile | null): Visibility {
    if (!canReply(chat, operator)) return 'note';
    return this.chosenModes[chat.summary.id] ?? 'public';
  }

  toggleMode(chat: ConsoleChat, operator: OperatorProfile | null): void {
    if (!canReply(chat, operator)) return;
    this.chosenModes[chat.summary.id] = this.mode(chat, operator) === 'public' ? 'note' : 'public';
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
    try {
      const message = await this.backend.sendMessage(id, body, visibility);
      // Only clear what was sent: the operator may have kept typing meanwhile.
      if (this.draft(id).trim() === body) this.drafts[id] = '';
      this.onSent(message);
      return true;
    } catch (reason) {
      this.errors[id] = toApiError(reason, messages.composer.failed).message;
      return false;
    } finally {
      this.sending[id] = false;
    }
  }
}
