// Facts the customer panel derives from the chat list.

import type { ConsoleChat } from '../lib/core';
import { stripBidiControls } from '../lib/text';

/** The visitor's other chats the console knows, newest first. */
export function earlierChats(all: readonly ConsoleChat[], chat: ConsoleChat): ConsoleChat[] {
  return all
    .filter((other) => other.summary.visitor.id === chat.summary.visitor.id && other.summary.id !== chat.summary.id)
    .sort((left, right) => right.summary.createdAt - left.summary.createdAt);
}

/** Up to two initials for the avatar; "?" when the name has no letters. */
export function initials(name: string): string {
  const words = stripBidiControls(name)
    .split(/\s+/)
    .map((word) => word.match(/\p{L}|\p{N}/u)?.[0] ?? '')
    .filter((letter) => letter !== '');
  if (words.length === 0) return '?';
  const first = words[0] ?? '';
  const last = words.length > 1 ? (words.at(-1) ?? '') : '';
  return (first + last).toLocaleUpperCase();
}
