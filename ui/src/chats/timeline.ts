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

export function mergeMessages(timeline: readonly Message[], incoming: readonly Message[]): Message[] {
  return incoming.reduce<Message[]>((merged, message) => mergeMessage(merged, message), [...timeline]);
}
