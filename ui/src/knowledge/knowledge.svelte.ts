// Knowledge base search (B31): the server searches, the newest query's answer wins, and the
// console keeps the last results to show at once when the picker opens again.

import { toApiError, type Article, type Backend } from '../lib/backend';
import { messages } from '../lib/i18n';

export class KnowledgeStore {
  query = $state('');
  results = $state<Article[]>([]);
  searching = $state(false);
  error = $state<string | null>(null);

  private readonly backend: Backend;
  private sequence = 0;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  async search(query: string): Promise<void> {
    this.query = query;
    const ticket = ++this.sequence;
    this.searching = true;
    try {
      const results = await this.backend.searchArticles(query);
      if (ticket !== this.sequence) return;
      this.results = results;
      this.error = null;
    } catch (reason) {
      if (ticket !== this.sequence) return;
      // Keep the last results visible: they are still useful offline.
      this.error = toApiError(reason, messages.knowledge.failed).message;
    } finally {
      if (ticket === this.sequence) this.searching = false;
    }
  }
}
