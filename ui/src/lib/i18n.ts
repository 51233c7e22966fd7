// Every string the console shows lives here, so wording is reviewed in one place and a second
// language is one more catalogue of the same shape.

import type { Availability, ChatState, Timestamp } from './protocol';

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const preciseTimeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export function formatTime(at: Timestamp): string {
  return timeFormat.format(new Date(at));
}

export function formatPreciseTime(at: Timestamp): string {
  return preciseTimeFormat.format(new Date(at));
}

const availabilityNames: Record<Availability, string> = {
  online: 'Online',
  away: 'Away',
  offline: 'Offline',
};

const chatStateNames: Record<ChatState, string> = {
  pending: 'Waiting for an operator',
  active: 'Active',
  closed: 'Ended',
  abandoned: 'Visitor left before anyone joined',
};

export const messages = {
  appName: 'Switchboard',
  loading: 'Loading…',
  startFailed: 'The console could not reach the app core.',
  signIn: {
    title: 'Sign in to Switchboard',
    email: 'Email',
    password: 'Password',
    submit: 'Sign in',
    submitting: 'Signing in…',
    failed: 'Sign-in failed. Please try again.',
    missingFields: 'Enter your email and password.',
  },
  session: {
    signOut: 'Sign out',
    signedInAs: (name: string) => `Signed in as ${name}`,
    keychainUnavailable: "Your session isn't saved: the system keychain is unavailable",
    keychainReason: (reason: string) => `Details: ${reason}`,
  },
  connection: {
    connecting: 'Connecting to the server…',
    offline: "You're offline. Chats stay readable; replies are sent when the connection is back.",
    reconnecting: (at: string) => `Connection lost. Reconnecting at ${at}…`,
    upgradeRequired: 'This version of Switchboard is too old for the server. Update the app.',
  },
  availability: {
    label: 'Availability',
    name: (availability: Availability) => availabilityNames[availability],
    failed: 'Could not change your availability.',
  },
  ringer: {
    ringing: (count: number) => `Ringing: ${plural(count, 'request', 'requests')}`,
    ringingMuted: (count: number) => `${plural(count, 'request', 'requests')} waiting (sound muted)`,
    noDevice: 'No sound device: visual alerts only.',
    muteRinging: 'Mute ringing',
    muteRingingHint: 'Silences the ring sound for all requests; chats still arrive.',
    failed: 'Could not change the ringer.',
  },
  menu: {
    label: 'Chats',
    liveChats: 'Live chats',
    allLiveChats: 'All live chats',
    supervisorBadge: 'supervisor',
    groups: 'Groups',
    unassigned: 'Unassigned',
    myChats: 'My Chats',
    awaiting: 'Awaiting',
    othersActive: 'All active',
    closed: 'Closed',
    unreadCount: (count: number) => plural(count, 'unread message', 'unread messages'),
    unassignedCount: (count: number) => plural(count, 'unassigned chat', 'unassigned chats'),
    awaitingCount: (count: number) => plural(count, 'muted request', 'muted requests'),
  },
  list: {
    empty: 'No chats here.',
    newMark: 'New',
    ringingMark: 'Ringing',
    unread: (count: number) => plural(count, 'unread message', 'unread messages'),
  },
  chat: {
    none: 'Select a chat from the list.',
    loadingMessages: 'Loading messages…',
    loadFailed: 'Could not load the messages of this chat.',
    state: (state: ChatState) => chatStateNames[state],
    responsible: (name: string) => `Handled by ${name}`,
    page: 'Page',
    accept: 'Accept',
    acceptShortcut: 'Alt+A',
    mute: 'Mute this request',
    end: 'End chat',
    actionFailed: 'That did not work.',
    messagesLabel: (visitor: string) => `Conversation with ${visitor}`,
    noMessages: 'No messages yet.',
  },
  message: {
    note: 'Note',
    noteHint: 'only staff see this',
    system: 'System',
    sentAt: (at: Timestamp) => formatTime(at),
  },
  composer: {
    reply: 'Reply',
    note: 'Note',
    label: 'Message',
    replyPlaceholder: 'Write a reply to the visitor…',
    notePlaceholder: 'Write a note for staff…',
    notesOnly: 'You have not joined this chat: you can add notes, which the visitor never sees. Accept the chat to reply.',
    noteMode: 'Writing a note: only staff see this.',
    switchMode: 'Switch between reply and note',
    send: 'Send',
    sending: 'Sending…',
    hint: 'Enter sends, Shift+Enter starts a new line.',
    ended: 'This chat has ended.',
    tooLong: (max: number) => `Messages are limited to ${max} characters.`,
    failed: 'The message was not sent.',
  },
  announce: {
    ringing: (visitor: string, subject: string) => `New chat request from ${visitor}: ${subject}`,
    message: (visitor: string) => `New message from ${visitor}`,
    accepted: (visitor: string) => `You accepted the chat with ${visitor}`,
  },
} as const;

export type Messages = typeof messages;
