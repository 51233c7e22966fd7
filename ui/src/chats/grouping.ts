// Which groups the left menu offers, which counter each shows, and which chats a group lists.
// The core decides each chat's group; the console only filters and orders.

import type { ChatGroup, ConsoleChat, Counters } from '../lib/core';
import { messages } from '../lib/i18n';
import type { LiveChatId } from '../lib/protocol';

export interface GroupBadge {
  value: number;
  testId: string;
  label: string;
}

export interface GroupEntry {
  group: ChatGroup;
  label: string;
  /** Stable id for tests, e.g. `group-my-chats`. */
  testId: string;
  /** How many chats the group lists (B40), e.g. `counter-my-chats`. */
  count: GroupBadge & { tone: 'blue' | 'grey' };
  /** The red unread badge beside the count (B41), only where unread messages can be. */
  unread: GroupBadge | null;
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

/** What the menu counts per group: the core's counters, or the same counts for one live chat. */
export interface GroupCounts {
  unassigned: number;
  myChats: number;
  awaiting: number;
  othersActive: number;
  closed: number;
  myChatsUnread: number;
}

/**
 * The group counts to show: the core's counters for all live chats; with one live chat picked,
 * the same counts over the core's chat list restricted to it.
 */
export function groupCounts(
  chats: readonly ConsoleChat[],
  counters: Counters,
  liveChat: LiveChatId | null,
): GroupCounts {
  if (liveChat === null) return counters;
  const counts: GroupCounts = { unassigned: 0, myChats: 0, awaiting: 0, othersActive: 0, closed: 0, myChatsUnread: 0 };
  for (const chat of chats) {
    if (chat.summary.liveChat !== liveChat) continue;
    counts[chat.group] += 1;
    if (chat.group === 'myChats') counts.myChatsUnread += chat.unread;
  }
  return counts;
}

/**
 * The menu's groups in order; "All active" only for supervisors (B40). Each shows how many
 * chats it lists; My Chats adds its unread messages as a separate red badge (B41).
 */
export function menuGroups(counts: GroupCounts, isSupervisor: boolean): GroupEntry[] {
  const entry = (group: ChatGroup, label: string, tone: 'blue' | 'grey', unread: GroupBadge | null = null): GroupEntry => ({
    group,
    label,
    testId: `group-${TEST_IDS[group]}`,
    count: {
      value: counts[group],
      tone,
      testId: `counter-${TEST_IDS[group]}`,
      label: messages.menu.chatCount(counts[group]),
    },
    unread,
  });
  const groups: GroupEntry[] = [
    entry('unassigned', messages.menu.unassigned, 'blue'),
    entry('myChats', messages.menu.myChats, 'grey', {
      value: counts.myChatsUnread,
      testId: 'unread-my-chats',
      label: messages.menu.unreadCount(counts.myChatsUnread),
    }),
    entry('awaiting', messages.menu.awaiting, 'grey'),
  ];
  if (isSupervisor) groups.push(entry('othersActive', messages.menu.othersActive, 'grey'));
  groups.push(entry('closed', messages.menu.closed, 'grey'));
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
