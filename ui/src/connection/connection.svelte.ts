// The core's one observable connection state, as the console sees it.

import type { ConnectionState } from '../lib/core';
import type { SyncProgress } from '../lib/backend';
import { connectionBanner } from './banner';

export class ConnectionStore {
  state = $state<ConnectionState>({ type: 'signedOut' });
  /** Set while the core catches up after a reconnect. */
  sync = $state<SyncProgress | null>(null);
  banner = $derived(connectionBanner(this.state, this.sync));
}
