// The core's one observable connection state, as the console sees it.

import type { ConnectionState } from '../lib/core';
import { connectionBanner } from './banner';

export class ConnectionStore {
  state = $state<ConnectionState>({ type: 'signedOut' });
  banner = $derived(connectionBanner(this.state));
}
