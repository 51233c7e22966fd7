// The console's only door to the Rust core. Everything the UI shows comes from `coreState()` and
// the `onEvent` stream; everything it does goes through one of these calls. Keeping it this small
// lets the same UI run inside Tauri and, in tests and the web demo, against `FakeBackend`.

import type { CoreEvent, CoreState } from './core';
import type {
  ApiError,
  Availability,
  ChatId,
  ChatSummary,
  ErrorCode,
  Message,
  OperatorProfile,
  Visibility,
} from './protocol';

export interface Backend {
  coreState(): Promise<CoreState>;
  signIn(email: string, password: string): Promise<OperatorProfile>;
  signOut(): Promise<void>;
  chatMessages(chat: ChatId): Promise<Message[]>;
  acceptChat(chat: ChatId): Promise<ChatSummary>;
  sendMessage(chat: ChatId, body: string, visibility: Visibility): Promise<Message>;
  endChat(chat: ChatId): Promise<ChatSummary>;
  muteChat(chat: ChatId): Promise<void>;
  markRead(chat: ChatId): Promise<void>;
  setAvailability(availability: Availability): Promise<void>;
  setRingerMuted(muted: boolean): Promise<void>;
  /** Subscribes to core events; resolves to the unsubscribe function. */
  onEvent(listener: (event: CoreEvent) => void): Promise<() => void>;
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
