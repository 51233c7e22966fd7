// The B42 search bar: the query, and the results of the latest search over the local cache.
// Searches run as the operator types; an older answer arriving after a newer one is dropped.

import { toApiError, type Backend, type SearchResults } from '../lib/backend';
import { messages } from '../lib/i18n';
import type { ChatId } from '../lib/protocol';

export class SearchStore {
  query = $state('');
  results = $state<SearchResults | null>(null);
  error = $state<string | null>(null);
  /** The chat searched inside, or null for chat names only. */
  scope = $state<ChatId | null>(null);

  private readonly backend: Backend;
  private sequence = 0;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  async run(query: string, chat: ChatId | null): Promise<void> {
    this.query = query;
    this.scope = chat;
    const ticket = ++this.sequence;
    if (query.trim() === '') {
      this.results = null;
      this.error = null;
      return;
    }
    try {
      const results = await this.backend.search(query, chat);
      if (ticket !== this.sequence) return;
      this.results = results;
      this.error = null;
    } catch (reason) {
      if (ticket !== this.sequence) return;
      this.results = null;
      this.error = toApiError(reason, messages.search.failed).message;
    }
  }

  clear(): void {
    this.sequence += 1;
    this.query = '';
    this.results = null;
    this.error = null;
  }
}
