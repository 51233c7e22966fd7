// The console's whole state: one store per domain, fed by the core's snapshot and event stream.
// Components read the stores and call their actions; only this file interprets `CoreEvent`s.

import { Announcer } from './announcer/announcer.svelte';
import { AttachmentFiles, UploadsStore } from './attachments/attachments.svelte';
import { AvailabilityStore } from './availability/availability.svelte';
import { newlyRinging } from './chats/grouping';
import { CannedStore } from './canned/canned.svelte';
import { CollaborationStore } from './transfer/collaboration.svelte';
import { staffInChat } from './transfer/staff';
import { ChatsStore } from './chats/chats.svelte';
import { ComposerStore } from './composer/composer.svelte';
import { ConnectionStore } from './connection/connection.svelte';
import { toApiError, type Backend, type ConsoleEvent, type ConsoleSnapshot } from './lib/backend';
import type { CoreState } from './lib/core';
import { messages } from './lib/i18n';
import { displayText } from './lib/text';
import type { Message } from './lib/protocol';
import { KnowledgeStore } from './knowledge/knowledge.svelte';
import { MentionsStore } from './mentions/mentions.svelte';
import { OutboxStore } from './outbox/outbox.svelte';
import { RingerStore } from './ringer/ringer.svelte';
import { SearchStore } from './search/search.svelte';
import { SessionStore } from './session/session.svelte';
import { SettingsStore, type SettingsStorage } from './settings/settings.svelte';
import { VisitorsStore } from './visitors/visitors.svelte';

export class ConsoleState {
  readonly backend: Backend;
  readonly session: SessionStore;
  readonly connection = new ConnectionStore();
  readonly chats: ChatsStore;
  readonly composer: ComposerStore;
  readonly ringer: RingerStore;
  readonly availability: AvailabilityStore;
  readonly announcer = new Announcer();
  readonly settings: SettingsStore;
  readonly search: SearchStore;
  readonly outbox: OutboxStore;
  readonly canned: CannedStore;
  readonly knowledge: KnowledgeStore;
  readonly mentions: MentionsStore;
  readonly collaboration: CollaborationStore;
  /** B32: uploads in flight and the files messages carry. */
  readonly uploads: UploadsStore;
  readonly attachmentFiles: AttachmentFiles;
  /** B50: visitors on site. */
  readonly visitors = new VisitorsStore();
  started = $state(false);
  /** The tray asked to quit while chats are active (D04): the console asks the operator. */
  quitAsked = $state(false);
  startError = $state<string | null>(null);

  private unsubscribe: (() => void) | null = null;

  constructor(backend: Backend, settingsStorage?: SettingsStorage | null) {
    this.backend = backend;
    this.settings = new SettingsStore(settingsStorage);
    this.session = new SessionStore(backend);
    this.chats = new ChatsStore(backend);
    this.outbox = new OutboxStore(backend);
    this.composer = new ComposerStore(
      backend,
      (message) => this.chats.addMessage(message),
      (chat, body) => this.outbox.holds(chat, body),
    );
    this.ringer = new RingerStore(backend);
    this.availability = new AvailabilityStore(backend);
    this.search = new SearchStore(backend);
    this.canned = new CannedStore(backend);
    this.knowledge = new KnowledgeStore(backend);
    this.mentions = new MentionsStore(backend);
    this.collaboration = new CollaborationStore(backend);
    // B20, B23: a colleague who joined visibly replies too; the chat's "<name> joined" lines say
    // who is in it.
    this.composer.joined = (chat) => {
      const me = this.session.operator;
      return me !== null && staffInChat(this.chats.timelines[chat]?.messages ?? []).includes(me.name);
    };
    // B15: while a colleague holds the reply lock, my composer writes notes.
    this.composer.lockedBy = (chat) => {
      const lock = this.collaboration.lockFor(chat);
      return lock === null || lock.lockedBy.id === this.session.operator?.id ? null : lock.lockedBy.name;
    };
    this.uploads = new UploadsStore(backend);
    this.attachmentFiles = new AttachmentFiles(backend);
  }

  /**
   * Subscribes first and reads the snapshot second, holding events back meanwhile: an event
   * emitted while `coreState` is in flight is then applied after the snapshot rather than being
   * overwritten by it. Replaying events the snapshot already contains is harmless.
   */
  async start(): Promise<void> {
    const early: ConsoleEvent[] = [];
    let buffering = true;
    this.unsubscribe = await this.backend.onEvent((event) => {
      if (buffering) early.push(event);
      else this.apply(event);
    });
    try {
      this.applyState(await this.backend.coreState());
      await this.collaboration.load();
      this.chats.unsubscribed = this.collaboration.unsubscribed();
      this.startError = null;
    } catch (reason) {
      this.startError = toApiError(reason, messages.startFailed).message;
    } finally {
      buffering = false;
      for (const event of early) this.apply(event);
      this.started = true;
    }
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  applyState(state: ConsoleSnapshot): void {
    this.connection.state = state.connection;
    this.connection.sync = state.sync ?? null;
    this.outbox.items = state.outbox ?? [];
    this.session.keychain = state.keychain;
    this.session.operator = state.operator;
    this.availability.current = state.availability;
    this.chats.replaceChats(state.chats, state.counters);
    this.ringer.state = state.ringer;
    this.ringer.muted = state.ringerMuted;
    this.visitors.replace(state.visitorsOnSite ?? []);
  }

  apply(event: ConsoleEvent): void {
    switch (event.type) {
      case 'connection':
        this.connection.state = event.state;
        break;
      case 'session':
        this.session.keychain = event.keychain;
        if (event.operator === null && this.session.operator !== null) {
          this.chats.reset();
          this.collaboration.reset();
          this.search.clear();
          this.visitors.reset();
        }
        if (event.operator !== null && this.session.operator === null) void this.collaboration.load();
        this.session.operator = event.operator;
        break;
      case 'chats':
        this.applyChats(event.chats, event.counters);
        break;
      case 'messagePosted':
        this.applyMessage(event.message);
        break;
      case 'messageEdited':
        this.chats.markEdited(event.message);
        break;
      case 'visitorTyping':
        this.chats.presence.visitorTyping(event.chat, event.typing);
        break;
      case 'visitorRead':
        this.chats.presence.markVisitorRead(event.chat, event.upTo);
        break;
      case 'messageDeleted':
        this.chats.removeMessage(event.chat, event.message);
        break;
      case 'ringer':
        this.ringer.state = event.state;
        this.ringer.muted = event.muted;
        break;
      case 'availability':
        this.availability.current = event.availability;
        break;
      case 'outbox': {
        const failedBefore = new Set(
          this.outbox.items.filter((item) => item.state.type === 'failed').map((item) => item.id),
        );
        this.outbox.items = event.items;
        this.composer.noteQueued(event.items);
        for (const item of event.items) {
          if (item.state.type === 'failed' && !failedBefore.has(item.id)) {
            this.announcer.announce(messages.announce.notSent(item.state.error.message));
          }
        }
        break;
      }
      case 'sync':
        this.connection.sync = event.progress;
        break;
      case 'openChat':
        void this.chats.open(event.chat);
        break;
      case 'confirmQuit':
        this.quitAsked = true;
        break;
      case 'upload':
        this.uploads.apply(event.upload);
        break;
      case 'visitorsOnSite':
        this.visitors.replace(event.visitors);
        break;
      case 'collaboration':
        this.collaboration.replace(event.collaboration);
        this.chats.unsubscribed = this.collaboration.unsubscribed();
        break;
      // Native notifications and the taskbar flash are the shell's; the console shows the same
      // facts through the chat list and the ringing indicator.
      case 'notify':
      case 'userAttention':
        break;
    }
  }

  private applyChats(chats: CoreState['chats'], counters: CoreState['counters']): void {
    const started = newlyRinging(this.chats.chats, chats);
    this.chats.replaceChats(chats, counters);
    for (const chat of started) {
      this.announcer.announce(
        messages.announce.ringing(displayText(chat.summary.visitor.name), displayText(chat.summary.subject)),
      );
    }
    // The open chat is being read: keep its badge at zero while it stays open and visible.
    const open = this.chats.selectedChatId;
    if (open !== null && typeof document !== 'undefined' && document.visibilityState === 'visible') {
      void this.chats.markReadIfUnread(open);
    }
  }

  private applyMessage(message: Message): void {
    this.chats.addMessage(message);
    if (message.author.kind === 'visitor') this.chats.presence.visitorMessage(message.chat);
    if (message.author.kind !== 'visitor') return;
    const chat = this.chats.find(message.chat);
    // Only chats this operator works on or is looking at are worth interrupting for.
    if (chat !== null && (chat.group === 'myChats' || chat.summary.id === this.chats.selectedChatId)) {
      this.announcer.announce(messages.announce.message(displayText(message.author.name)));
    }
  }
}
