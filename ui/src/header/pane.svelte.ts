// Which view the main pane shows. It lives in the app shell because the switch (left menu) and
// the pane it switches are siblings.

/** The open chat, the Tickets view or (supervisors) the audit log. */
export type PaneView = 'chat' | 'tickets' | 'audit';

export class PaneSelection {
  view = $state<PaneView>('chat');
}
