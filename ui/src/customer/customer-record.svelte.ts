// B34: the customer record of the open chat's visitor: loaded when the panel shows a chat,
// created from the panel's form. A returning visitor's new chat finds the record they got before.

import { toApiError, type Backend } from '../lib/backend';
import { messages } from '../lib/i18n';
import type { ChatId, Customer } from '../lib/protocol';

export type RecordState =
  | { status: 'loading' }
  | { status: 'loaded'; customer: Customer | null }
  | { status: 'failed'; error: string };

export interface CustomerForm {
  name: string;
  email: string;
  notes: string;
}

export class CustomerRecordStore {
  state = $state<RecordState>({ status: 'loading' });
  saving = $state(false);
  saveError = $state<string | null>(null);

  private readonly backend: Backend;
  /** The chat the last load was for, so a late answer for another chat is dropped. */
  private chat: ChatId | null = null;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  async load(chat: ChatId): Promise<void> {
    this.chat = chat;
    this.state = { status: 'loading' };
    this.saveError = null;
    try {
      const customer = await this.backend.chatCustomer(chat);
      if (this.chat === chat) this.state = { status: 'loaded', customer };
    } catch (reason) {
      if (this.chat === chat) {
        this.state = { status: 'failed', error: toApiError(reason, messages.customer.recordLoadFailed).message };
      }
    }
  }

  /** Creates the record; returns whether it was stored. */
  async create(chat: ChatId, form: CustomerForm): Promise<boolean> {
    if (this.saving) return false;
    this.saving = true;
    this.saveError = null;
    try {
      const email = form.email.trim();
      const customer = await this.backend.createCustomer({
        chat,
        name: form.name,
        email: email === '' ? null : email,
        notes: form.notes,
      });
      if (this.chat === chat) this.state = { status: 'loaded', customer };
      return true;
    } catch (reason) {
      this.saveError = toApiError(reason, messages.customer.createFailed).message;
      return false;
    } finally {
      this.saving = false;
    }
  }
}
