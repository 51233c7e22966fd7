// Keeps one chat's messages in order without duplicates. A message can reach the console twice:
// as the reply to our own send and as the core's `messagePosted` event, possibly first as a local
// echo that only shares the `clientId` with the delivered one.

import type { Message } from '../lib/protocol';

export function mergeMessage(timeline: readonly Message[], message: Message): Message[] {
  const sameIndex = timeline.findIndex(
    (existing) =>
      existing.id === message.id ||
      (message.clientId !== null && existing.clientId === message.clientId),
  );
  const next =
    sameIndex === -1
      ? [...timeline, message]
      : timeline.map((existing, index) => (index === sameIndex ? message : existing));
  return next.sort((left, right) => left.sentAt - right.sentAt || left.id - right.id);
}

/** Same result as merging one by one, in one pass and one sort: histories hold thousands. */
export function mergeMessages(timeline: readonly Message[], incoming: readonly Message[]): Message[] {
  const merged = [...timeline];
  const byId = new Map<number, number>();
  const byClientId = new Map<string, number>();
  const remember = (message: Message, index: number) => {
    byId.set(message.id, index);
    if (message.clientId !== null) byClientId.set(message.clientId, index);
  };
  merged.forEach(remember);
  for (const message of incoming) {
    const index =
      byId.get(message.id) ?? (message.clientId === null ? undefined : byClientId.get(message.clientId));
    if (index === undefined) {
      remember(message, merged.length);
      merged.push(message);
    } else {
      merged[index] = message;
      remember(message, index);
    }
  }
  return merged.sort((left, right) => left.sentAt - right.sentAt || left.id - right.id);
}
