// Which groups the left menu offers, which counter each shows, and which chats a group lists.
// The core decides each chat's group; the console only filters and orders.

import type { ChatGroup, ConsoleChat, Counters } from '../lib/core';
import { messages } from '../lib/i18n';
import type { LiveChatId } from '../lib/protocol';

export interface GroupEntry {
  group: ChatGroup;
  label: string;
  /** Stable id for tests, e.g. `group-my-chats`. */
  testId: string;
  counter: { value: number; tone: 'red' | 'blue' | 'grey'; testId: string; label: string } | null;
}

const TEST_IDS: Record<ChatGroup, string> = {
  unassigned: 'unassigned',
  myChats: 'my-chats',
  awaiting: 'awaiting',
  othersActive: 'others-active',
  closed: 'closed',
};

export function groupTestId(group: ChatGroup): string {
  return TEST_IDS[group];
}

/** The menu's groups in order; "All active" only for supervisors (B40). */
export function menuGroups(counters: Counters, isSupervisor: boolean): GroupEntry[] {
  const entry = (group: ChatGroup, label: string, counter: GroupEntry['counter']): GroupEntry => ({
    group,
    label,
    testId: `group-${TEST_IDS[group]}`,
    counter,
  });
  const groups: GroupEntry[] = [
    entry('unassigned', messages.menu.unassigned, {
      value: counters.unassigned,
      tone: 'blue',
      testId: 'counter-unassigned',
      label: messages.menu.unassignedCount(counters.unassigned),
    }),
    entry('myChats', messages.menu.myChats, {
      value: counters.unread,
      tone: 'red',
      testId: 'counter-my-chats',
      label: messages.menu.unreadCount(counters.unread),
    }),
    entry('awaiting', messages.menu.awaiting, {
      value: counters.awaiting,
      tone: 'grey',
      testId: 'counter-awaiting',
      label: messages.menu.awaitingCount(counters.awaiting),
    }),
  ];
  if (isSupervisor) groups.push(entry('othersActive', messages.menu.othersActive, null));
  groups.push(entry('closed', messages.menu.closed, null));
  return groups;
}

/**
 * The chats one group lists: ringing first (they need an answer now), then the most recently
 * updated; closed chats newest first.
 */
export function chatsInGroup(
  chats: readonly ConsoleChat[],
  group: ChatGroup,
  liveChat: LiveChatId | null,
): ConsoleChat[] {
  return chats
    .filter((chat) => chat.group === group && (liveChat === null || chat.summary.liveChat === liveChat))
    .sort((left, right) => {
      if (left.ringing !== right.ringing) return left.ringing ? -1 : 1;
      return right.summary.updatedAt - left.summary.updatedAt;
    });
}

/** Chats that started ringing between two core updates, for the live-region announcement. */
export function newlyRinging(before: readonly ConsoleChat[], after: readonly ConsoleChat[]): ConsoleChat[] {
  const wasRinging = new Set(before.filter((chat) => chat.ringing).map((chat) => chat.summary.id));
  return after.filter((chat) => chat.ringing && !wasRinging.has(chat.summary.id));
}
