// Which view the main pane shows. It lives in the app shell because the switch (left menu) and
// the pane it switches are siblings.

import type { ChatId } from '../lib/protocol';

/** The open chat, the Tickets view or (supervisors) the audit log. */
export type PaneView = 'chat' | 'tickets' | 'audit';

/** Whatever tells when a chat is opened (the chats store). */
export interface ChatOpenings {
  onOpen(listener: (chat: ChatId) => void): () => void;
}

export class PaneSelection {
  view = $state<PaneView>('chat');

  /**
   * Opening a chat means seeing it: whatever covered the pane (Tickets, the audit log, or what
   * `uncover` closes) gives way to the chat view. Returns the function that stops following.
   */
  showChatOnOpen(chats: ChatOpenings, uncover: () => void = () => {}): () => void {
    return chats.onOpen(() => {
      this.view = 'chat';
      uncover();
    });
  }
}
