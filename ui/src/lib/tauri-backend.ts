// The backend inside the desktop app: each call is one Tauri command of `src-tauri`, and core
// events arrive on the `core://event` channel. Argument names match the Rust command parameters.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { Article, Backend, CannedResponse, ConsoleEvent, ConsoleSnapshot, SearchResults, SoundSettings } from './backend';
import type {
  MessageId,
  Availability,
  ChatHistory,
  ChatId,
  ChatSummary,
  Message,
  OperatorProfile,
  OperatorRef,
  Ticket,
  TicketUpdate,
  Visibility,
} from './protocol';

export const CORE_EVENT = 'core://event';
/** A native notification was clicked: open that chat. */
export const OPEN_CHAT_EVENT = 'app://open-chat';
/** The tray's Quit while chats are active: ask the operator first (D04). */
export const CONFIRM_QUIT_EVENT = 'app://confirm-quit';

export class TauriBackend implements Backend {
  coreState(): Promise<ConsoleSnapshot> {
    return invoke<ConsoleSnapshot>('core_state');
  }

  signIn(email: string, password: string): Promise<OperatorProfile> {
    return invoke<OperatorProfile>('sign_in', { email, password });
  }

  signOut(): Promise<void> {
    return invoke<void>('sign_out');
  }

  chatMessages(chat: ChatId): Promise<Message[]> {
    return invoke<Message[]>('chat_messages', { chat });
  }

  acceptChat(chat: ChatId): Promise<ChatSummary> {
    return invoke<ChatSummary>('accept_chat', { chat });
  }

  monitorChat(chat: ChatId): Promise<ChatHistory> {
    return invoke<ChatHistory>('monitor_chat', { chat });
  }

  joinChat(chat: ChatId): Promise<ChatSummary> {
    return invoke<ChatSummary>('join_chat', { chat });
  }

  takeOverChat(chat: ChatId, previousStays: boolean): Promise<ChatSummary> {
    return invoke<ChatSummary>('take_over_chat', { chat, previousStays });
  }

  tickets(): Promise<Ticket[]> {
    return invoke<Ticket[]>('tickets');
  }

  updateTicket(id: number, update: TicketUpdate): Promise<Ticket> {
    return invoke<Ticket>('update_ticket', { id, update });
  }

  sendMessage(chat: ChatId, body: string, visibility: Visibility): Promise<Message> {
    return invoke<Message>('send_message', { chat, body, visibility });
  }

  editMessage(message: MessageId, body: string): Promise<Message> {
    return invoke<Message>('edit_message', { message, body });
  }

  deleteMessage(chat: ChatId, message: MessageId): Promise<void> {
    return invoke<void>('delete_message', { chat, message });
  }

  endChat(chat: ChatId): Promise<ChatSummary> {
    return invoke<ChatSummary>('end_chat', { chat });
  }

  muteChat(chat: ChatId): Promise<void> {
    return invoke<void>('mute_chat', { chat });
  }

  markRead(chat: ChatId): Promise<void> {
    return invoke<void>('mark_read', { chat });
  }

  setSubscribed(chat: ChatId, subscribed: boolean): Promise<void> {
    return invoke<void>('set_subscribed', { chat, subscribed });
  }

  setAvailability(availability: Availability): Promise<void> {
    return invoke<void>('set_availability', { availability });
  }

  setRingerMuted(muted: boolean): Promise<void> {
    return invoke<void>('set_ringer_muted', { muted });
  }

  soundSettings(): Promise<SoundSettings> {
    return invoke<SoundSettings>('sound_settings');
  }

  setSoundSettings(settings: SoundSettings): Promise<void> {
    return invoke<void>('set_sound_settings', { settings });
  }

  search(query: string, chat: ChatId | null): Promise<SearchResults> {
    return invoke<SearchResults>('search', { query, chat });
  }

  cannedResponses(): Promise<CannedResponse[]> {
    return invoke<CannedResponse[]>('canned_responses');
  }

  colleagues(): Promise<OperatorRef[]> {
    return invoke<OperatorRef[]>('colleagues');
  }

  searchArticles(query: string): Promise<Article[]> {
    return invoke<Article[]>('search_articles', { query });
  }

  quit(): Promise<void> {
    return invoke<void>('quit');
  }

  retryCommand(id: string): Promise<void> {
    return invoke<void>('retry_outbox', { id });
  }

  discardCommand(id: string): Promise<void> {
    return invoke<void>('discard_outbox', { id });
  }

  async onEvent(listener: (event: ConsoleEvent) => void): Promise<() => void> {
    const core = await listen<ConsoleEvent>(CORE_EVENT, (event) => listener(event.payload));
    const openChat = await listen<{ chat: ChatId }>(OPEN_CHAT_EVENT, (event) =>
      listener({ type: 'openChat', chat: event.payload.chat }),
    );
    const confirmQuit = await listen(CONFIRM_QUIT_EVENT, () => listener({ type: 'confirmQuit' }));
    return () => {
      core();
      openChat();
      confirmQuit();
    };
  }
}
