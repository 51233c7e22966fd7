// Who of the staff is in a chat, read from its public system lines ("<name> joined", "<name>
// left"), which the server posts for every staff arrival and departure. The console needs it for
// B24 (is the leaver the last staff member?) and to offer collaboration actions to colleagues who
// joined; a monitoring supervisor never posts such a line, so never counts.

import type { Message } from '../lib/protocol';

const JOINED = / joined$/;
const LEFT = / left$/;

/** Display names of the staff currently in the chat, in the order they (last) joined. */
export function staffInChat(timeline: readonly Message[]): string[] {
  const present: string[] = [];
  for (const message of timeline) {
    if (message.author.kind !== 'system' || message.visibility !== 'public') continue;
    if (JOINED.test(message.body)) {
      const name = message.body.replace(JOINED, '');
      if (!present.includes(name)) present.push(name);
    } else if (LEFT.test(message.body)) {
      const name = message.body.replace(LEFT, '');
      const index = present.indexOf(name);
      if (index >= 0) present.splice(index, 1);
    }
  }
  return present;
}

/**
 * B24: whether `me` leaving leaves no staff behind, so the chat ends and a ticket opens. The
 * responsible operator counts even without a "joined" line (a take-over posts none).
 */
export function leavingIsLast(timeline: readonly Message[], me: string, responsible: string | null): boolean {
  const staff = staffInChat(timeline);
  if (responsible !== null) staff.push(responsible);
  return staff.every((name) => name === me);
}
