// The chat list, the selected group and chat, and the messages of the chats opened so far.

import { toApiError, type Backend } from '../lib/backend';
import { NO_COUNTERS } from '../lib/counters';
import type { ChatGroup, ConsoleChat, Counters } from '../lib/core';
import { messages as text } from '../lib/i18n';
import type { ChatId, LiveChatId, Message, MessageId } from '../lib/protocol';
import { chatsInGroup } from './grouping';
import { PresenceStore, TypingSender } from './presence.svelte';
import { mergeMessage, mergeMessages } from './timeline';

export type TimelineState =
  | { status: 'loading'; messages: Message[] }
  | { status: 'loaded'; messages: Message[] }
  | { status: 'failed'; messages: Message[]; error: string };

export class ChatsStore {
  // Raw: the core replaces the whole list on every change, so deep proxies would only cost time.
  chats = $state.raw<ConsoleChat[]>([]);
  counters = $state<Counters>({ ...NO_COUNTERS });
  selectedGroup = $state<ChatGroup>('unassigned');
  selectedLiveChat = $state<LiveChatId | null>(null);
  selectedChatId = $state<ChatId | null>(null);
  // Raw, replaced per change: histories hold thousands of messages that are never edited in place.
  timelines = $state.raw<Record<ChatId, TimelineState>>({});
  /** Error of the last chat action (accept, end, mute), shown in the chat header. */
  actionError = $state<string | null>(null);
  busy = $state(false);
  /** B13: chats this operator unsubscribed from in this session; members start subscribed. */
  unsubscribed = $state.raw<ReadonlySet<ChatId>>(new Set());
  /** B16: messages whose text changed while the console watched: they show "(edited)". */
  edited = $state.raw<ReadonlySet<MessageId>>(new Set());
  /** B16: deleted messages stay in place as a "message deleted" placeholder. */
  deleted = $state.raw<ReadonlySet<MessageId>>(new Set());
  /** Typing indicators and read state of the visitors. */
  readonly presence = new PresenceStore();
  /** This operator's typing, sent sparingly. */
  readonly typingSender: TypingSender;

  visibleChats = $derived(chatsInGroup(this.chats, this.selectedGroup, this.selectedLiveChat));
  selectedChat = $derived(this.chats.find((chat) => chat.summary.id === this.selectedChatId) ?? null);
  selectedTimeline = $derived(
    this.selectedChatId === null ? null : (this.timelines[this.selectedChatId] ?? null),
  );

  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
    this.typingSender = new TypingSender((chat, typing, visibility) => backend.setTyping(chat, typing, visibility));
  }

  replaceChats(chats: ConsoleChat[], counters: Counters): void {
    this.chats = chats;
    this.counters = counters;
  }

  reset(): void {
    this.chats = [];
    this.counters = { ...NO_COUNTERS };
    this.selectedChatId = null;
    this.selectedGroup = 'unassigned';
    this.selectedLiveChat = null;
    this.timelines = {};
    this.actionError = null;
    this.unsubscribed = new Set();
    this.edited = new Set();
    this.deleted = new Set();
    this.presence.reset();
  }

  find(chat: ChatId): ConsoleChat | null {
    return this.chats.find((candidate) => candidate.summary.id === chat) ?? null;
  }

  selectGroup(group: ChatGroup): void {
    this.selectedGroup = group;
  }

  selectLiveChat(liveChat: LiveChatId | null): void {
    this.selectedLiveChat = liveChat;
  }

  /** Opens a chat: loads its history once and marks it read. */
  /**
   * Calls `listener` whenever a chat is opened, by any path (the list, search, a notification or
   * the tray, an invitation), also when it is the chat already selected: opening means seeing.
   * Returns the function that stops it.
   */
  onOpen(listener: (chat: ChatId) => void): () => void {
    this.openListeners.push(listener);
    return () => {
      this.openListeners = this.openListeners.filter((candidate) => candidate !== listener);
    };
  }

  private openListeners: Array<(chat: ChatId) => void> = [];

  async open(chat: ChatId): Promise<void> {
    for (const listener of this.openListeners) listener(chat);
    this.selectedChatId = chat;
    this.actionError = null;
    const loads: Promise<unknown>[] = [this.markReadIfUnread(chat)];
    if (this.timelines[chat]?.status !== 'loaded') loads.push(this.load(chat));
    await Promise.all(loads);
  }

  async load(chat: ChatId): Promise<void> {
    const known = this.timelines[chat]?.messages ?? [];
    this.setTimeline(chat, { status: 'loading', messages: known });
    try {
      const loaded = await this.backend.chatMessages(chat);
      // Events that arrived while loading are kept: merge, don't overwrite.
      const current = this.timelines[chat]?.messages ?? [];
      this.setTimeline(chat, { status: 'loaded', messages: mergeMessages(current, loaded) });
    } catch (reason) {
      this.setTimeline(chat, {
        status: 'failed',
        messages: this.timelines[chat]?.messages ?? [],
        error: toApiError(reason, text.chat.loadFailed).message,
      });
    }
  }

  /** Adds a posted message to its chat's timeline, if that chat was opened. */
  addMessage(message: Message): void {
    const timeline = this.timelines[message.chat];
    if (timeline === undefined) return;
    this.setTimeline(message.chat, { ...timeline, messages: mergeMessage(timeline.messages, message) });
  }

  /** A message's new text (B16): replaces it and marks it "(edited)". */
  markEdited(message: Message): void {
    this.addMessage(message);
    if (!this.edited.has(message.id)) this.edited = new Set(this.edited).add(message.id);
  }

  /**
   * A deleted message (B16) keeps its place as a "message deleted" placeholder, so the
   * conversation around it still reads right; its text is dropped.
   */
  removeMessage(chat: ChatId, message: MessageId): void {
    if (!this.deleted.has(message)) this.deleted = new Set(this.deleted).add(message);
    const timeline = this.timelines[chat];
    if (timeline === undefined) return;
    this.setTimeline(chat, {
      ...timeline,
      messages: timeline.messages.map((existing) => (existing.id === message ? { ...existing, body: '' } : existing)),
    });
  }

  private setTimeline(chat: ChatId, timeline: TimelineState): void {
    this.timelines = { ...this.timelines, [chat]: timeline };
  }

  async markReadIfUnread(chat: ChatId): Promise<void> {
    if ((this.find(chat)?.unread ?? 0) === 0) return;
    try {
      await this.backend.markRead(chat);
    } catch {
      // Read state is cosmetic; the badge stays and the next open retries.
    }
  }

  async accept(chat: ChatId): Promise<boolean> {
    return this.act(async () => {
      const summary = await this.backend.acceptChat(chat);
      this.upsertSummary(summary);
      // Follow the chat into My Chats so it stays in view after the list regroups.
      this.selectedGroup = 'myChats';
    });
  }

  async end(chat: ChatId): Promise<boolean> {
    return this.act(async () => {
      this.upsertSummary(await this.backend.endChat(chat));
    });
  }

  /** B13: toggles this chat's unread escalations (B12) for this operator. */
  async setSubscribed(chat: ChatId, subscribed: boolean): Promise<boolean> {
    return this.act(async () => {
      await this.backend.setSubscribed(chat, subscribed);
      const next = new Set(this.unsubscribed);
      if (subscribed) next.delete(chat);
      else next.add(chat);
      this.unsubscribed = next;
    });
  }

  async mute(chat: ChatId): Promise<boolean> {
    return this.act(() => this.backend.muteChat(chat));
  }

  private upsertSummary(summary: ConsoleChat['summary']): void {
    // The core's `chats` event follows with the authoritative grouping; until then the header
    // already shows the new state so the button the operator pressed does not linger.
    this.chats = this.chats.map((chat) =>
      chat.summary.id === summary.id && chat.summary.updatedAt <= summary.updatedAt
        ? { ...chat, summary }
        : chat,
    );
  }

  private async act(action: () => Promise<void>): Promise<boolean> {
    this.busy = true;
    this.actionError = null;
    try {
      await action();
      return true;
    } catch (reason) {
      this.actionError = toApiError(reason, text.chat.actionFailed).message;
      return false;
    } finally {
      this.busy = false;
    }
  }
}
