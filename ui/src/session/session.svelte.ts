// Who is signed in, whether the keychain keeps the session, and the sign-in form's progress.

import { toApiError, type Backend } from '../lib/backend';
import type { KeychainState } from '../lib/core';
import { messages } from '../lib/i18n';
import type { OperatorProfile } from '../lib/protocol';

export class SessionStore {
  operator = $state<OperatorProfile | null>(null);
  keychain = $state<KeychainState>({ type: 'available' });
  signingIn = $state(false);
  error = $state<string | null>(null);
  isSupervisor = $derived(this.operator?.liveChats.some((live) => live.supervisor) ?? false);

  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  async signIn(email: string, password: string): Promise<void> {
    if (email.trim() === '' || password === '') {
      this.error = messages.signIn.missingFields;
      return;
    }
    this.signingIn = true;
    this.error = null;
    try {
      // The session event from the core also carries the profile; taking the reply too means the
      // screen changes even if that event is late.
      this.operator = await this.backend.signIn(email.trim(), password);
    } catch (reason) {
      this.error = toApiError(reason, messages.signIn.failed).message;
    } finally {
      this.signingIn = false;
    }
  }

  async signOut(): Promise<void> {
    try {
      await this.backend.signOut();
    } finally {
      this.operator = null;
    }
  }

  supervises(liveChat: number): boolean {
    return this.operator?.liveChats.some((live) => live.id === liveChat && live.supervisor) ?? false;
  }
}
