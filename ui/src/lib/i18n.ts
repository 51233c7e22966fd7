// Every string the console shows lives here, so wording is reviewed in one place and a second
// language is one more catalogue of the same shape.

import type { Availability, Channel, ChatState, Timestamp } from './protocol';

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const preciseTimeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** "Cmd" on Apple keyboards, "Ctrl" elsewhere: the key the send shortcut and hints name. */
export const modifierKeyName =
  typeof navigator !== 'undefined' && /Mac|iPhone|iPad/i.test(navigator.platform ?? '') ? 'Cmd' : 'Ctrl';

export function formatTime(at: Timestamp): string {
  return timeFormat.format(new Date(at));
}

const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

export function formatDate(at: Timestamp): string {
  return dateFormat.format(new Date(at));
}

export function formatPreciseTime(at: Timestamp): string {
  return preciseTimeFormat.format(new Date(at));
}

const availabilityNames: Record<Availability, string> = {
  online: 'Online',
  away: 'Away',
  offline: 'Offline',
};

const channelNames: Record<Channel, string> = {
  web: 'Website',
};

const chatStateNames: Record<ChatState, string> = {
  pending: 'Waiting for an operator',
  active: 'Active',
  closed: 'Ended',
  abandoned: 'Visitor left before anyone joined',
};

/** The emoji palette of the composer, with the names screen readers speak. */
export const EMOJI: readonly { glyph: string; name: string }[] = [
  { glyph: '😀', name: 'grinning face' },
  { glyph: '🙂', name: 'slightly smiling face' },
  { glyph: '😉', name: 'winking face' },
  { glyph: '😊', name: 'smiling face' },
  { glyph: '🤔', name: 'thinking face' },
  { glyph: '😅', name: 'grinning face with sweat' },
  { glyph: '👍', name: 'thumbs up' },
  { glyph: '👋', name: 'waving hand' },
  { glyph: '🙏', name: 'folded hands' },
  { glyph: '👏', name: 'clapping hands' },
  { glyph: '🎉', name: 'party popper' },
  { glyph: '❤️', name: 'red heart' },
  { glyph: '✅', name: 'check mark' },
  { glyph: '📦', name: 'package' },
  { glyph: '🚚', name: 'delivery truck' },
  { glyph: '📧', name: 'email' },
  { glyph: '⏳', name: 'hourglass' },
  { glyph: '💡', name: 'light bulb' },
];

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
    catchingUp: (applied: number, total: number) => `Catching up: ${applied} of ${total} updates…`,
    catchingUpLabel: 'Catching up',
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
    disabled: 'Sound is switched off for this app: visual alerts only.',
    muteRinging: 'Mute ringing',
    muteRingingHint: 'Silences the ring sound for all requests; chats still arrive.',
    failed: 'Could not change the ringer.',
    shortcuts: 'Ctrl+Shift+A accepts the oldest request, Ctrl+Shift+M mutes it',
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
    unsubscribe: 'Unsubscribe',
    subscribe: 'Subscribe',
    subscriptionHint: 'Alerts when visitor messages stay unread',
    actionFailed: 'That did not work.',
    messagesLabel: (visitor: string) => `Conversation with ${visitor}`,
    noMessages: 'No messages yet.',
    showEarlier: (count: number) => `Show earlier messages (${count} hidden)`,
    typing: (visitor: string) => `${visitor} is typing…`,
    seen: 'Seen',
    seenLabel: 'The visitor has seen this reply',
  },
  message: {
    note: 'Note',
    noteHint: 'only staff see this',
    system: 'System',
    sentAt: (at: Timestamp) => formatTime(at),
    edit: 'Edit',
    delete: 'Delete',
    save: 'Save',
    cancel: 'Cancel',
    editLabel: 'Edit your message',
    edited: '(edited)',
    deleted: 'Message deleted',
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
    hintModEnter: `${modifierKeyName}+Enter sends, Enter starts a new line.`,
    ended: 'This chat has ended.',
    tooLong: (max: number) => `Messages are limited to ${max} characters.`,
    failed: 'The message was not sent.',
  },
  channel: {
    name: (channel: Channel) => channelNames[channel],
  },
  customer: {
    title: 'Visitor details',
    name: 'Name',
    email: 'Email',
    page: 'Current page',
    channel: 'Channel',
    unknown: 'Not given',
    earlier: 'Earlier chats',
    noEarlier: 'No earlier chats.',
    location: 'Approximate location',
    language: 'Language',
    topic: 'Topic',
    record: 'Customer record',
    recordLoading: 'Loading the customer record…',
    recordLoadFailed: 'Could not load the customer record.',
    noRecord: 'This visitor has no customer record yet.',
    createRecord: 'Create customer record',
    notes: 'Notes (staff only)',
    save: 'Save record',
    saving: 'Saving…',
    cancel: 'Cancel',
    createFailed: 'Could not create the customer record.',
    createdBy: (name: string) => `Created by ${name}`,
  },
  canned: {
    title: 'Canned responses',
    search: 'Search canned responses',
    shortcut: 'Shift+3 or #',
    open: 'Canned responses (#)',
    loading: 'Loading canned responses…',
    failed: 'Could not load canned responses.',
    none: 'No canned response matches.',
    preview: 'Preview',
    missing: 'Fill in before inserting:',
    valueFor: (name: string) => `Value for ${name}`,
    insert: 'Insert',
    close: 'Close',
    personal: 'personal',
  },
  knowledge: {
    title: 'Knowledge base',
    search: 'Search articles',
    open: 'Articles (Shift+8)',
    searching: 'Searching…',
    failed: 'Article search failed.',
    none: 'No article matches.',
    insertText: 'Insert text',
    insertLink: 'Insert link',
    close: 'Close',
  },
  emoji: {
    title: 'Emoji',
    open: 'Emoji',
  },
  attachments: {
    attach: 'Attach file',
    pickerLabel: 'Choose files to send',
    dropHint: 'Drop files to send them',
    label: 'Attachments',
    open: (name: string) => `Open ${name}`,
    download: (name: string, size: string) => `${name} (${size})`,
    close: 'Close',
    preview: (name: string) => `Image ${name}`,
    uploading: (name: string) => `Sending ${name}`,
    queued: 'Waits for the connection',
    failed: (reason: string) => `Not sent: ${reason}`,
    dismiss: 'Dismiss',
    tooLarge: (limit: string) => `This file is too large: the limit is ${limit}.`,
    notAllowed: 'This kind of file cannot be sent. Images, PDF, text and office documents can.',
    unavailable: 'This file cannot be shown right now.',
    size: (bytes: number) =>
      bytes >= 1024 * 1024
        ? `${(bytes / (1024 * 1024)).toFixed(1)} MB`
        : bytes >= 1024
          ? `${Math.round(bytes / 1024)} KB`
          : `${bytes} B`,
  },
  mentions: {
    label: 'Mention a colleague',
  },
  outbox: {
    pending: 'Sending… (waits for the connection)',
    failed: (reason: string) => `Not sent: ${reason}`,
    retry: 'Retry',
    discard: 'Discard',
    actionFailed: 'That did not work.',
  },
  sounds: {
    title: 'Sounds',
    volume: 'Volume',
    ring: 'Ring',
    message: 'New message in my chats',
    builtIn: 'Built-in',
    off: 'Off',
    file: 'My own file (WAV, OGG, MP3, FLAC)',
    path: 'File path',
    save: 'Save sounds',
    saved: 'Sounds saved.',
    failed: 'Could not save the sounds.',
    invitation: 'Invitation or transfer to me',
    mention: 'Mention of me in a note',
    newVisitor: 'New visitor on the site',
    test: 'Test',
    testName: (event: string) => `Test: ${event}`,
    testFailed: 'Could not play the sound.',
    device: 'Output device',
    systemDefault: 'System default',
    defaultSuffix: ' (default)',
    unavailableDisabled:
      'Sound is switched off for this app (SWITCHBOARD_AUDIO=off): nothing plays, alerts are visual only. Your choices are still saved.',
    unavailableNoDevice: (reason: string) =>
      `No sound device could be opened (${reason}): alerts are visual only. Your choices are still saved.`,
    missingDevice: (id: string) => `${id} (not connected)`,
  },
  settings: {
    sendShortcut: 'Send with',
    sendShortcutName: (shortcut: 'enter' | 'modEnter') =>
      shortcut === 'enter' ? 'Enter' : `${modifierKeyName}+Enter`,
  },
  badges: {
    red: (count: number) => `${count} needing you (unread messages and unassigned chats you supervise)`,
    blue: (count: number) => plural(count, 'new unassigned chat', 'new unassigned chats'),
  },
  search: {
    label: 'Search',
    placeholderChat: 'Search this chat and chat names…',
    placeholderAll: 'Search chat names and messages…',
    results: (count: number) => plural(count, 'result', 'results'),
    none: 'Nothing found.',
    failed: 'Search failed.',
    clear: 'Clear search',
    inChat: 'In this chat',
    chats: 'Chats',
  },
  supervision: {
    label: 'Supervision',
    monitor: 'Monitor',
    join: 'Join',
    takeOver: 'Take over',
    previousStays: 'Keep the current operator in the chat',
    monitoring: 'Monitoring invisibly: the visitor and the operator are not told. Only staff-only notes can be written until you join or take over.',
    joined: 'You joined this chat.',
    failed: 'That did not work. Please try again.',
  },
  tickets: {
    open: 'Tickets',
    back: 'Back to chats',
    title: 'Tickets',
    loading: 'Loading tickets…',
    none: 'No tickets yet.',
    subject: 'Subject',
    status: 'Status',
    assignee: 'Assignee',
    unassigned: 'Unassigned',
    save: 'Save',
    saved: 'Saved',
    failed: 'The tickets could not be loaded or saved.',
    statusName: (status: 'open' | 'pending' | 'solved') =>
      ({ open: 'Open', pending: 'Pending', solved: 'Solved' })[status],
  },
  collaboration: {
    label: 'Colleagues',
    colleague: 'Colleague',
    choose: 'Choose a colleague or team',
    teams: 'Teams',
    team: (name: string) => `Team ${name}`,
    invite: 'Invite',
    transfer: 'Transfer',
    reassign: 'Reassign',
    transferNote: 'Transfer note (staff only)',
    lock: 'Lock replies',
    unlock: 'Unlock replies',
    lockedBy: (name: string) => `Replies locked by ${name}`,
    lockedByYou: 'You locked replies: colleagues can write notes only.',
    leave: 'Leave chat',
    leaveLast: 'You are the last staff member: leaving ends the chat and creates a ticket.',
    confirmLeave: 'Leave and create the ticket',
    cancel: 'Cancel',
    waiting: (name: string) => `Waiting for ${name}…`,
    accepted: (name: string) => `${name} accepted.`,
    declined: (name: string) => `${name} declined. The chat stays with you.`,
    timedOut: (name: string) => `${name} did not answer in time. The chat stays with you.`,
    dismiss: 'Dismiss',
    invitationsLabel: 'Invitations',
    invitedBy: (name: string) => `${name} invites you to join`,
    transferredBy: (name: string) => `${name} transfers this chat to you`,
    note: (note: string) => `Note: ${note}`,
    acceptInvitation: 'Accept',
    declineInvitation: 'Decline',
    failed: 'That did not work. Please try again.',
  },
  endDialog: {
    title: 'End chat',
    subject: 'Ticket subject',
    status: 'Ticket status',
    assignee: 'Assignee',
    emailTranscript: 'Email the transcript to the visitor',
    noEmail: 'The visitor left no email address.',
    confirm: 'End chat',
    cancel: 'Cancel',
    emailed: (to: string) => `Transcript sent to ${to}.`,
    failed: 'The chat could not be ended.',
  },
  audit: {
    open: 'Audit log',
    title: 'Audit log',
    loading: 'Loading the audit log…',
    none: 'Nothing recorded yet.',
    failed: 'The audit log could not be loaded.',
    liveChat: 'Live chat',
    when: 'When',
    who: 'Who',
    what: 'What',
    chat: 'Chat',
    action: (action: 'monitored' | 'joined' | 'tookOver' | 'reassigned' | 'invited' | 'transferred', previous: string | null) =>
      ({
        monitored: 'monitored',
        joined: 'joined',
        tookOver: previous === null ? 'took over' : `took over from ${previous}`,
        reassigned: previous === null ? 'reassigned' : `reassigned from ${previous}`,
        invited: 'invited a colleague',
        transferred: previous === null ? 'accepted a transfer' : `accepted a transfer from ${previous}`,
      })[action],
  },
  ticketDetail: {
    show: 'Show transcript',
    hide: 'Hide transcript',
    email: 'Email transcript',
    emailed: (to: string) => `Sent to ${to}.`,
    note: 'Note',
  },
  quit: {
    title: 'Quit Switchboard?',
    body: (count: number) =>
      `You have ${plural(count, 'active chat', 'active chats')}. Visitors will wait until someone takes over.`,
    confirm: 'Quit',
    cancel: 'Keep running',
  },
  announce: {
    ringing: (visitor: string, subject: string) => `New chat request from ${visitor}: ${subject}`,
    message: (visitor: string) => `New message from ${visitor}`,
    accepted: (visitor: string) => `You accepted the chat with ${visitor}`,
    notSent: (reason: string) => `A message was not sent: ${reason}`,
  },
} as const;

export type Messages = typeof messages;
