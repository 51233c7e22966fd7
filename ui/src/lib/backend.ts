// The console's only door to the Rust core. Everything the UI shows comes from `coreState()` and
// the `onEvent` stream; everything it does goes through one of these calls. Keeping it this small
// lets the same UI run inside Tauri and, in tests and the web demo, against `FakeBackend`.

import type { CoreEvent, CoreState, SearchResults } from './core';
import type { Collaboration } from './core';
import type { AuditEntry, LiveChatId, OperatorId, Team, TicketDetail, TranscriptSent } from './protocol';
import type { AttachmentId } from './protocol';
import type { RatingSettings } from './protocol';
import type { CreateCustomerRequest, Customer } from './protocol';
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
import type { Sound, SoundSettings, SoundStatus } from './core';
export type { OutputDevice, Sound, SoundChoice, SoundSettings, SoundStatus, SoundUnavailable } from './core';

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
  /** This operator started or stopped typing; the visitor sees public replies' typing only. */
  setTyping(chat: ChatId, typing: boolean, visibility: Visibility): Promise<void>;
  /** B34: the customer record of the chat's visitor, or `null`. */
  chatCustomer(chat: ChatId): Promise<Customer | null>;
  /** B34: creates a customer record for the chat's visitor (later chats of theirs show it). */
  createCustomer(request: CreateCustomerRequest): Promise<Customer>;
  setAvailability(availability: Availability): Promise<void>;
  setRingerMuted(muted: boolean): Promise<void>;
  /** D03: volume and, per event, the built-in sound, none, or the operator's own file. */
  soundSettings(): Promise<SoundSettings>;
  /** Refused (`badRequest`, naming the file) when a chosen file cannot be played. */
  setSoundSettings(settings: SoundSettings): Promise<void>;
  /** D03: why sound is unavailable, the output devices, and a note when the chosen one is gone. */
  soundStatus(): Promise<SoundStatus>;
  /** D03: plays `sound` once as the (unsaved) `settings` would; refused like `setSoundSettings`. */
  testSound(settings: SoundSettings, sound: Sound): Promise<void>;
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
  /** B27: hands an active chat to another operator at once. */
  reassignChat(chat: ChatId, operator: OperatorId): Promise<ChatSummary>;
  /** B23: invites a colleague; they get a ringing invitation to accept or decline. */
  inviteOperator(chat: ChatId, operator: OperatorId): Promise<void>;
  /** B22: transfers with a staff-only note; the sender stays responsible until it is accepted. */
  transferChat(chat: ChatId, operator: OperatorId, note: string): Promise<void>;
  /** B22, B23: accepts or declines this operator's open invitation or transfer. */
  answerInvitation(chat: ChatId, accept: boolean): Promise<ChatSummary>;
  /** B15: locks or unlocks public replies for colleagues. */
  lockReplies(chat: ChatId, locked: boolean): Promise<void>;
  /** B24: leaves the chat; the last staff member leaving ends it and opens a ticket. */
  leaveChat(chat: ChatId): Promise<ChatSummary>;
  /** The supervision audit log of a live chat this operator supervises. */
  auditLog(liveChat: LiveChatId): Promise<AuditEntry[]>;
  /** One ticket with its staff transcript (notes included). */
  ticket(id: number): Promise<TicketDetail>;
  /** B33: whether the live chat asks its visitors for ratings (any member may read it). */
  ratingSettings(liveChat: LiveChatId): Promise<RatingSettings>;
  /** B33: switches rating prompts on or off; open widgets follow at once. Supervisors only. */
  setRatingSettings(liveChat: LiveChatId, enabled: boolean): Promise<RatingSettings>;
  /** B25: emails the visitor the public transcript (never notes). */
  emailTranscript(id: number): Promise<TranscriptSent>;
  /** Invitations, transfers, reply locks and B13 unsubscriptions as last known (kept by the core). */
  collaboration(): Promise<Collaboration>;
  /** Hides the answered or timed-out outcome of a sent invitation or transfer. */
  dismissSent(chat: ChatId): Promise<void>;
  /** B22: the teams of the operator's live chats, as transfer targets. */
  teams(): Promise<Team[]>;
  /** B22: transfers to a team; it rings for the team's online members, the first to accept takes it. */
  transferToTeam(chat: ChatId, team: Team, note: string): Promise<void>;
  /**
   * B32: uploads a file into a chat as a reply or a note; progress arrives as `upload` events
   * under the returned message's `clientId`. Refused with `tooLarge` or `badRequest` (a type not
   * allowed); while offline the core keeps it queued and rejects with "not delivered yet".
   */
  uploadAttachment(chat: ChatId, file: File, visibility: Visibility): Promise<Message>;
  /** B32: an attachment's bytes, for image previews and downloads (the token stays in the core). */
  attachmentBytes(id: AttachmentId): Promise<ArrayBuffer>;
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
