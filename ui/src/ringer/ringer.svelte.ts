// The ring as the core plays it, and the operator's global "Mute ringing" switch.

import { toApiError, type Backend } from '../lib/backend';
import type { ConsoleChat, RingerState } from '../lib/core';
import { messages } from '../lib/i18n';

/** The ringing request waiting longest: what the app-wide shortcuts act on. */
export function oldestRinging(chats: readonly ConsoleChat[]): ConsoleChat | null {
  let oldest: ConsoleChat | null = null;
  for (const chat of chats) {
    if (!chat.ringing) continue;
    if (oldest === null || chat.summary.createdAt < oldest.summary.createdAt) oldest = chat;
  }
  return oldest;
}

export class RingerStore {
  state = $state<RingerState>({ type: 'silent' });
  muted = $state(false);
  error = $state<string | null>(null);

  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  async setMuted(muted: boolean): Promise<void> {
    const previous = this.muted;
    this.muted = muted;
    this.error = null;
    try {
      await this.backend.setRingerMuted(muted);
    } catch (reason) {
      this.muted = previous;
      this.error = toApiError(reason, messages.ringer.failed).message;
    }
  }
}
