// The two header badges of B41. Red is what needs this person: unread visitor messages in chats
// they handle, plus, for supervisors, the chats still waiting in the live chats they supervise
// (someone who is both gets the sum). Blue is the new unassigned requests in their live chats.
// Both are derived only from the core's chat list and counters, the same numbers the tray shows.

import type { ConsoleChat, Counters } from '../lib/core';
import type { OperatorProfile } from '../lib/protocol';

export interface Badges {
  red: number;
  blue: number;
}

export function badgeCounts(
  chats: readonly ConsoleChat[],
  counters: Counters,
  operator: OperatorProfile | null,
): Badges {
  if (operator === null) return { red: 0, blue: 0 };
  const supervised = new Set(operator.liveChats.filter((live) => live.supervisor).map((live) => live.id));
  const waitingSupervised = chats.filter(
    (chat) => chat.summary.state === 'pending' && supervised.has(chat.summary.liveChat),
  ).length;
  return { red: counters.unread + waitingSupervised, blue: counters.unassigned };
}
