// The operator's availability (B07); the core confirms it with an `availability` event.

import { toApiError, type Backend } from '../lib/backend';
import { messages } from '../lib/i18n';
import type { Availability } from '../lib/protocol';

export const AVAILABILITIES: readonly Availability[] = ['online', 'away', 'offline'];

export class AvailabilityStore {
  current = $state<Availability>('online');
  error = $state<string | null>(null);

  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  async set(availability: Availability): Promise<void> {
    const previous = this.current;
    this.current = availability;
    this.error = null;
    try {
      await this.backend.setAvailability(availability);
    } catch (reason) {
      this.current = previous;
      this.error = toApiError(reason, messages.availability.failed).message;
    }
  }
}
