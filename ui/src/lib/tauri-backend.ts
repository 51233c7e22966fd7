// The backend inside the desktop app: each call is one Tauri command of `src-tauri`, and core
// events arrive on the `core://event` channel. Argument names match the Rust command parameters.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { Article, Backend, CannedResponse, ConsoleEvent, ConsoleSnapshot, SearchResults, SoundSettings } from './backend';
import type { Sound, SoundStatus } from './backend';
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

import type { Collaboration } from './core';
import type { AuditEntry, LiveChatId, OperatorId, Team, TicketDetail, TranscriptSent } from './protocol';
import type { AttachmentId } from './protocol';
import type { RatingSettings } from './protocol';
import type { CreateCustomerRequest, Customer } from './protocol';

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

  reassignChat(chat: ChatId, operator: OperatorId): Promise<ChatSummary> {
    return invoke<ChatSummary>('reassign_chat', { chat, operator });
  }

  inviteOperator(chat: ChatId, operator: OperatorId): Promise<void> {
    return invoke<void>('invite_operator', { chat, operator });
  }

  transferChat(chat: ChatId, operator: OperatorId, note: string): Promise<void> {
    return invoke<void>('transfer_chat', { chat, operator, note });
  }

  answerInvitation(chat: ChatId, accept: boolean): Promise<ChatSummary> {
    return invoke<ChatSummary>('answer_invitation', { chat, accept });
  }

  lockReplies(chat: ChatId, locked: boolean): Promise<void> {
    return invoke<void>('lock_replies', { chat, locked });
  }

  leaveChat(chat: ChatId): Promise<ChatSummary> {
    return invoke<ChatSummary>('leave_chat', { chat });
  }

  auditLog(liveChat: LiveChatId): Promise<AuditEntry[]> {
    return invoke<AuditEntry[]>('audit_log', { liveChat });
  }

  ticket(id: number): Promise<TicketDetail> {
    return invoke<TicketDetail>('ticket', { id });
  }

  ratingSettings(liveChat: LiveChatId): Promise<RatingSettings> {
    return invoke<RatingSettings>('rating_settings', { liveChat });
  }

  setRatingSettings(liveChat: LiveChatId, enabled: boolean): Promise<RatingSettings> {
    return invoke<RatingSettings>('set_rating_settings', { liveChat, enabled });
  }

  emailTranscript(id: number): Promise<TranscriptSent> {
    return invoke<TranscriptSent>('email_transcript', { id });
  }

  collaboration(): Promise<Collaboration> {
    return invoke<Collaboration>('collaboration');
  }

  dismissSent(chat: ChatId): Promise<void> {
    return invoke<void>('dismiss_sent', { chat });
  }

  teams(): Promise<Team[]> {
    return invoke<Team[]>('teams');
  }

  transferToTeam(chat: ChatId, team: Team, note: string): Promise<void> {
    return invoke<void>('transfer_to_team', { chat, team, note });
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

  setTyping(chat: ChatId, typing: boolean, visibility: Visibility): Promise<void> {
    return invoke<void>('set_typing', { chat, typing, visibility });
  }

  chatCustomer(chat: ChatId): Promise<Customer | null> {
    return invoke<Customer | null>('chat_customer', { chat });
  }

  createCustomer(request: CreateCustomerRequest): Promise<Customer> {
    return invoke<Customer>('create_customer', { request });
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

  soundStatus(): Promise<SoundStatus> {
    return invoke<SoundStatus>('sound_status');
  }

  testSound(settings: SoundSettings, sound: Sound): Promise<void> {
    return invoke<void>('test_sound', { settings, sound });
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

  async uploadAttachment(chat: ChatId, file: File, visibility: Visibility): Promise<Message> {
    // The bytes travel as the raw IPC body, not as a JSON array of numbers.
    const bytes = await file.arrayBuffer();
    return invoke<Message>('upload_attachment', bytes, {
      headers: {
        'x-chat': String(chat),
        'x-name': encodeURIComponent(file.name),
        'x-content-type': file.type,
        'x-visibility': visibility,
      },
    });
  }

  attachmentBytes(id: AttachmentId): Promise<ArrayBuffer> {
    return invoke<ArrayBuffer>('attachment_bytes', { id });
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
