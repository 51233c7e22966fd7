// The console's only door to the Rust core. Everything the UI shows comes from `coreState()` and
// the `onEvent` stream; everything it does goes through one of these calls. Keeping it this small
// lets the same UI run inside Tauri and, in tests and the web demo, against `FakeBackend`.

import type { CoreEvent, CoreState, SearchResults } from './core';
import type {
  MessageId,
  ApiError,
  Article,
  CannedResponse,
  Availability,
  ChatHistory,
  ChatId,
  ChatSummary,
  ErrorCode,
  Message,
  OperatorProfile,
  OperatorRef,
  Ticket,
  TicketUpdate,
  Visibility,
} from './protocol';

export type { OutboxItem, OutboxState, SearchResults, SyncProgress } from './core';
import type { SoundSettings } from './core';
export type { SoundChoice, SoundSettings } from './core';

export type { Article, CannedResponse } from './protocol';


/**
 * What the console receives: the core's events, plus the shell's "open this chat" (a click on a
 * native notification, D05; the shell sends it on `app://open-chat` with `{ chat }`).
 */
export type ConsoleEvent =
  | CoreEvent
  | { type: 'openChat'; chat: ChatId }
  /** The tray's Quit while chats are active (D04): ask, then call `quit` (`app://confirm-quit`). */
  | { type: 'confirmQuit' };

/** The core's snapshot. */
export type ConsoleSnapshot = CoreState;

export interface Backend {
  coreState(): Promise<ConsoleSnapshot>;
  signIn(email: string, password: string): Promise<OperatorProfile>;
  signOut(): Promise<void>;
  chatMessages(chat: ChatId): Promise<Message[]>;
  acceptChat(chat: ChatId): Promise<ChatSummary>;
  sendMessage(chat: ChatId, body: string, visibility: Visibility): Promise<Message>;
  /** B16: change the text of a message this operator sent; refused (`forbidden`) for others'. */
  editMessage(message: MessageId, body: string): Promise<Message>;
  /** B16: delete a message this operator sent; refused (`forbidden`) for others'. */
  deleteMessage(chat: ChatId, message: MessageId): Promise<void>;
  endChat(chat: ChatId): Promise<ChatSummary>;
  muteChat(chat: ChatId): Promise<void>;
  markRead(chat: ChatId): Promise<void>;
  /** B13: receive (`true`) or stop receiving (`false`) this chat's unread escalations (B12). */
  setSubscribed(chat: ChatId, subscribed: boolean): Promise<void>;
  setAvailability(availability: Availability): Promise<void>;
  setRingerMuted(muted: boolean): Promise<void>;
  /** D03: volume and, per event, the built-in sound, none, or the operator's own file. */
  soundSettings(): Promise<SoundSettings>;
  /** Refused (`badRequest`, naming the file) when a chosen file cannot be played. */
  setSoundSettings(settings: SoundSettings): Promise<void>;
  /** B42: with `chat` set, searches chat names and that chat's messages; else chat names only. */
  search(query: string, chat: ChatId | null): Promise<SearchResults>;
  /** B30: the operator's canned responses, personal and of their live chats (cached offline). */
  cannedResponses(): Promise<CannedResponse[]>;
  /** B26: the staff of the operator's live chats, for @mentions in notes. */
  colleagues(): Promise<OperatorRef[]>;
  /** B31: server-side article search; the core keeps the last results for offline use. */
  searchArticles(query: string): Promise<Article[]>;
  /** Sends a failed outbox command again under the same client id. */
  /** D04: ends the app (the operator confirmed quitting). */
  quit(): Promise<void>;
  retryCommand(id: string): Promise<void>;
  /** Drops a failed outbox command. */
  discardCommand(id: string): Promise<void>;
  /** B21: opens a chat of a supervised live chat invisibly; nobody is told, nothing is marked read. */
  monitorChat(chat: ChatId): Promise<ChatHistory>;
  /** B20: joins visibly; the visitor sees "<name> joined". */
  joinChat(chat: ChatId): Promise<ChatSummary>;
  /** Takes the chat over; the previous operator stays as a participant or leaves. */
  takeOverChat(chat: ChatId, previousStays: boolean): Promise<ChatSummary>;
  /** B24, B25: tickets of the operator's live chats, newest first. */
  tickets(): Promise<Ticket[]>;
  /** B25: the end dialog's choices: subject, status, assignee. */
  updateTicket(id: number, update: TicketUpdate): Promise<Ticket>;
  /** Subscribes to core events; resolves to the unsubscribe function. */
  onEvent(listener: (event: ConsoleEvent) => void): Promise<() => void>;
}

const ERROR_CODES: readonly ErrorCode[] = [
  'badRequest',
  'badFrame',
  'unauthorized',
  'forbidden',
  'notFound',
  'conflict',
  'upgradeRequired',
  'tooLarge',
  'internal',
];

export function isApiError(value: unknown): value is ApiError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { code?: unknown; message?: unknown };
  return (
    typeof candidate.code === 'string' &&
    (ERROR_CODES as readonly string[]).includes(candidate.code) &&
    typeof candidate.message === 'string'
  );
}

/**
 * Turns whatever a backend call rejected with into an `ApiError`, so every screen can show
 * `message` without guessing. Tauri rejects with the serialised error object, but a panic in the
 * shell or a bug can surface as a plain string or an `Error`.
 */
export function toApiError(reason: unknown, fallbackMessage: string): ApiError {
  if (isApiError(reason)) return reason;
  if (typeof reason === 'string' && reason.trim() !== '') {
    return { code: 'internal', message: reason };
  }
  return { code: 'internal', message: fallbackMessage };
}
