import type { Counters } from './core';

/** Every counter at zero: signed out, or before the core's first numbers arrive. */
export const NO_COUNTERS: Readonly<Counters> = {
  unread: 0,
  unassigned: 0,
  ringing: 0,
  myChats: 0,
  awaiting: 0,
  myChatsUnread: 0,
  othersActive: 0,
  closed: 0,
  red: 0,
  blue: 0,
};
