// The ring as the core plays it, and the operator's global "Mute ringing" switch.

import { toApiError, type Backend } from '../lib/backend';
import type { RingerState } from '../lib/core';
import { messages } from '../lib/i18n';

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
