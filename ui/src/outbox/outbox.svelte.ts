// The core's outbox as the console shows it: replies and notes not confirmed by the server yet,
// drawn in their chat as pending (on their way) or failed (refused; retry or discard).

import { toApiError, type Backend, type OutboxItem } from '../lib/backend';
import { messages } from '../lib/i18n';
import type { ChatId, Visibility } from '../lib/protocol';

/** An outbox reply or note, shaped for its chat's timeline. */
export interface OutboxMessage {
  id: string;
  chat: ChatId;
  body: string;
  visibility: Visibility;
  createdAt: number;
  failed: string | null;
}

export function outboxMessages(items: readonly OutboxItem[], chat: ChatId): OutboxMessage[] {
  const shown: OutboxMessage[] = [];
  for (const item of items) {
    if (item.command.type !== 'send' || item.command.chat !== chat) continue;
    shown.push({
      id: item.id,
      chat,
      body: item.command.body,
      visibility: item.command.visibility,
      createdAt: item.createdAt,
      failed: item.state.type === 'failed' ? item.state.error.message : null,
    });
  }
  return shown;
}

export class OutboxStore {
  items = $state<OutboxItem[]>([]);
  /** Error of the last retry or discard, by item id. */
  errors = $state<Record<string, string | null>>({});

  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  forChat(chat: ChatId): OutboxMessage[] {
    return outboxMessages(this.items, chat);
  }

  /** Whether a send of `body` to `chat` is waiting in the outbox (the core queued it). */
  holds(chat: ChatId, body: string): boolean {
    return this.forChat(chat).some((item) => item.body === body && item.failed === null);
  }

  async retry(id: string): Promise<void> {
    await this.act(id, () => this.backend.retryCommand(id));
  }

  async discard(id: string): Promise<void> {
    await this.act(id, () => this.backend.discardCommand(id));
  }

  private async act(id: string, action: () => Promise<void>): Promise<void> {
    this.errors[id] = null;
    try {
      await action();
    } catch (reason) {
      this.errors[id] = toApiError(reason, messages.outbox.actionFailed).message;
    }
  }
}
