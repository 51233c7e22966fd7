// What the connection banner says for each core connection state; null means "say nothing".

import type { ConnectionState } from '../lib/core';
import type { SyncProgress } from '../lib/backend';
import { formatPreciseTime, messages } from '../lib/i18n';

export type BannerTone = 'info' | 'warning' | 'error';

export interface Banner {
  tone: BannerTone;
  text: string;
  /** Catch-up progress to draw as a bar. */
  progress: SyncProgress | null;
}

export function connectionBanner(state: ConnectionState, sync: SyncProgress | null = null): Banner | null {
  const banner = (tone: BannerTone, text: string): Banner => ({ tone, text, progress: null });
  switch (state.type) {
    case 'signedOut':
      return null;
    case 'connected':
      if (sync === null) return null;
      return { tone: 'info', text: messages.connection.catchingUp(sync.applied, sync.total), progress: sync };
    case 'connecting':
      return banner('info', messages.connection.connecting);
    case 'offline':
      return banner('warning', messages.connection.offline);
    case 'reconnecting':
      return banner('warning', messages.connection.reconnecting(formatPreciseTime(state.at)));
    case 'upgradeRequired':
      return banner('error', messages.connection.upgradeRequired);
  }
}
