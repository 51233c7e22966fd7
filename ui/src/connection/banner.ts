// What the connection banner says for each core connection state; null means "say nothing".

import type { ConnectionState } from '../lib/core';
import { formatPreciseTime, messages } from '../lib/i18n';

export type BannerTone = 'info' | 'warning' | 'error';

export interface Banner {
  tone: BannerTone;
  text: string;
}

export function connectionBanner(state: ConnectionState): Banner | null {
  switch (state.type) {
    case 'signedOut':
    case 'connected':
      return null;
    case 'connecting':
      return { tone: 'info', text: messages.connection.connecting };
    case 'offline':
      return { tone: 'warning', text: messages.connection.offline };
    case 'reconnecting':
      return { tone: 'warning', text: messages.connection.reconnecting(formatPreciseTime(state.at)) };
    case 'upgradeRequired':
      return { tone: 'error', text: messages.connection.upgradeRequired };
  }
}
