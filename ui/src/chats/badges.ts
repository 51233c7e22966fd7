// The two header badges of B41. Red is what needs this person: unread visitor messages in chats
// they handle, plus, for supervisors, the chats still waiting in the live chats they supervise
// (someone who is both gets the sum). Blue is the new unassigned requests in their live chats.
// The core computes both (`Counters.red`, `Counters.blue`) and the tray shows the same fields,
// so the header and the tray cannot disagree.

import type { Counters } from '../lib/core';
import type { OperatorProfile } from '../lib/protocol';

export interface Badges {
  red: number;
  blue: number;
}

export function badgeCounts(counters: Counters, operator: OperatorProfile | null): Badges {
  if (operator === null) return { red: 0, blue: 0 };
  return { red: counters.red, blue: counters.blue };
}
