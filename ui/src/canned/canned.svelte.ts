// Canned responses (B30) for the picker: loaded from the core (which caches them for offline use)
// the first time the picker opens, refreshed on later opens, filtered as the operator types.

import { toApiError, type Backend, type CannedResponse } from '../lib/backend';
import { messages } from '../lib/i18n';
import type { LiveChatId } from '../lib/protocol';

export function matchingCanned(
  all: readonly CannedResponse[],
  query: string,
  liveChat: LiveChatId,
): CannedResponse[] {
  const needle = query.trim().toLocaleLowerCase();
  return all
    .filter((canned) => canned.liveChat === null || canned.liveChat === liveChat)
    .filter(
      (canned) =>
        needle === '' ||
        canned.title.toLocaleLowerCase().includes(needle) ||
        canned.body.toLocaleLowerCase().includes(needle),
    )
    .sort((left, right) => {
      // Titles starting with the query first: "gr" should put "Greeting" on top.
      const leftStarts = left.title.toLocaleLowerCase().startsWith(needle);
      const rightStarts = right.title.toLocaleLowerCase().startsWith(needle);
      if (leftStarts !== rightStarts) return leftStarts ? -1 : 1;
      return left.title.localeCompare(right.title);
    });
}

export class CannedStore {
  items = $state<CannedResponse[]>([]);
  status = $state<'idle' | 'loading' | 'loaded' | 'failed'>('idle');
  error = $state<string | null>(null);

  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  async load(): Promise<void> {
    if (this.status === 'loading') return;
    // Keep showing what we have while refreshing.
    if (this.status !== 'loaded') this.status = 'loading';
    try {
      this.items = await this.backend.cannedResponses();
      this.status = 'loaded';
      this.error = null;
    } catch (reason) {
      this.error = toApiError(reason, messages.canned.failed).message;
      if (this.items.length === 0) this.status = 'failed';
      else this.status = 'loaded';
    }
  }
}
