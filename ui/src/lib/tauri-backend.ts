// The backend inside the desktop app: each call is one Tauri command of `src-tauri`, and core
// events arrive on the `core://event` channel. Argument names match the Rust command parameters.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { Backend } from './backend';
import type { CoreEvent, CoreState } from './core';
import type {
  Availability,
  ChatId,
  ChatSummary,
  Message,
  OperatorProfile,
  Visibility,
} from './protocol';

export const CORE_EVENT = 'core://event';

export class TauriBackend implements Backend {
  coreState(): Promise<CoreState> {
    return invoke<CoreState>('core_state');
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

  sendMessage(chat: ChatId, body: string, visibility: Visibility): Promise<Message> {
    return invoke<Message>('send_message', { chat, body, visibility });
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

  setAvailability(availability: Availability): Promise<void> {
    return invoke<void>('set_availability', { availability });
  }

  setRingerMuted(muted: boolean): Promise<void> {
    return invoke<void>('set_ringer_muted', { muted });
  }

  onEvent(listener: (event: CoreEvent) => void): Promise<() => void> {
    return listen<CoreEvent>(CORE_EVENT, (event) => listener(event.payload));
  }
}
