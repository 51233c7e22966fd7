// An in-memory stand-in for the Rust core, used by the tests and by the web demo build
// (`vite --mode fake` or `?fake`). It keeps the demo organisation of the server's `--demo` seed and
// derives groups, counters and ringing the way the core does, then emits the same `CoreEvent`s, so
// the console cannot tell it from the real thing. The `simulate*` methods play the other side
// (visitors, colleagues, the network).

import type {
  Article,
  Backend,
  CannedResponse,
  ConsoleEvent,
  ConsoleSnapshot,
  OutboxItem,
  SearchResults,
  SoundSettings,
  SyncProgress,
} from './backend';
import type { Collaboration } from './core';
import type { OutputDevice, Sound, SoundStatus } from './core';
import type { AuditEntry, InvitationKind, LiveChatId, OperatorId, Team, TicketDetail, TranscriptSent } from './protocol';
import type {
  ChatGroup,
  ConnectionState,
  ConsoleChat,
  Counters,
  KeychainState,
  RingerState,
} from './core';
import type {
  MessageId,
  ApiError,
  Author,
  Availability,
  ChatHistory,
  ChatId,
  ChatSummary,
  LiveChatSummary,
  Message,
  OperatorProfile,
  OperatorRef,
  Ticket,
  TicketUpdate,
  Visibility,
} from './protocol';
import { MAX_MESSAGE_CHARS } from './protocol';
import { NO_COUNTERS } from './counters';
import { DEFAULT_ATTACHMENT_MAX_BYTES, type Attachment, type AttachmentId } from './protocol';
import type { UploadState } from './core';
import type { CreateCustomerRequest, Customer, VisitorId } from './protocol';
import type { SiteVisitor } from './protocol';
import type { Colleague } from './protocol';

export const DEMO_PASSWORD = 'switchboard';

const ACME: LiveChatSummary = { id: 1, name: 'Acme website', supervisor: false, staffEmoji: true };

interface Account {
  profile: OperatorProfile;
  password: string;
}

export const DEMO_ACCOUNTS: readonly Account[] = [
  {
    profile: { id: 1, name: 'Ann Operator', email: 'ann@example.com', liveChats: [ACME] },
    password: DEMO_PASSWORD,
  },
  {
    profile: { id: 2, name: 'Bob Operator', email: 'bob@example.com', liveChats: [ACME] },
    password: DEMO_PASSWORD,
  },
  {
    profile: {
      id: 3,
      name: 'Sue Supervisor',
      email: 'sue@example.com',
      liveChats: [{ ...ACME, supervisor: true }],
    },
    password: DEMO_PASSWORD,
  },
];

export interface FakeBackendOptions {
  /** Start signed in as this email (the demo build signs in straight away when asked). */
  signedInAs?: string;
  /** Seed the demo chats; tests that build their own scenario turn this off. */
  seedDemoChats?: boolean;
  /** The clock; tests pass a fixed one. */
  now?: () => number;
  ringerNoDevice?: string;
  /** Sound switched off for the app (`SWITCHBOARD_AUDIO=off`), as opposed to no device. */
  soundDisabled?: boolean;
  /** The output devices the sound settings list (D03). */
  outputDevices?: OutputDevice[];
  keychain?: KeychainState;
  /** Extra generated chats (half waiting, half with Ann), for virtualisation tests and the bench. */
  loadChats?: number;
  /** Messages generated into the first generated chat, for the bench's chat switch. */
  loadMessages?: number;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function rejection(code: ApiError['code'], message: string): ApiError {
  return { code, message };
}

export class FakeBackend implements Backend {
  private readonly listeners = new Set<(event: ConsoleEvent) => void>();
  /** Commands not confirmed yet, like the core's outbox: sends made while not connected. */
  private outbox: OutboxItem[] = [];
  private sync: SyncProgress | null = null;
  /** What an offline send waits for before it reports "not delivered yet". */
  queuedAnswer: Promise<void> = Promise.resolve();
  private readonly articles: Article[] = [
    { id: 1, liveChat: ACME.id, title: 'Shipping times', url: 'https://help.acme.example/shipping', body: 'Orders ship within 2 working days; delivery takes 3 to 5 days.' },
    { id: 2, liveChat: ACME.id, title: 'Refunds', url: 'https://help.acme.example/refunds', body: 'Refunds reach your account within 5 working days.' },
    { id: 3, liveChat: ACME.id, title: 'Resetting your password', url: 'https://help.acme.example/password', body: 'Use "Forgot password" on the sign-in page; the link is valid for an hour.' },
  ];
  private canned: CannedResponse[] = [
    { id: 1, title: 'Greeting', body: 'Hi {{ visitor.name }}, this is {{ operator.name }}. How can I help?', liveChat: ACME.id },
    { id: 2, title: 'Order status', body: 'I have checked your order, {{ visitor.name }}: it ships today.', liveChat: ACME.id },
    { id: 3, title: 'Follow up by email', body: 'I will email the details to {{ visitor.email }}.', liveChat: ACME.id },
    { id: 4, title: 'Goodbye', body: 'Thanks for chatting with {{ liveChat.name }}. Have a good day!', liveChat: null },
  ];
  private readonly now: () => number;
  private operator: OperatorProfile | null = null;
  private connection: ConnectionState = { type: 'signedOut' };
  private keychain: KeychainState;
  private availability: Availability = 'online';
  private ringerMuted = false;
  private readonly ringerNoDevice: string | undefined;
  private readonly soundDisabled: boolean;
  private readonly outputDevices: OutputDevice[];
  private readonly summaries = new Map<ChatId, ChatSummary>();
  private readonly messages = new Map<ChatId, Message[]>();
  private readonly mutedChats = new Set<ChatId>();
  private readonly unread = new Map<ChatId, number>();
  /** How far each chat's visitor has read, as the core's cache keeps it. */
  private readonly visitorReads = new Map<ChatId, MessageId>();
  /** B33: each chat's rating, as the core caches it from `ChatRated`. */
  private readonly ratings = new Map<ChatId, import('./protocol').ChatRating>();
  /** Staff who joined a chat besides its responsible operator (B20). */
  private readonly participants = new Map<ChatId, Set<number>>();
  private readonly ticketList: Ticket[] = [];
  private nextChatId = 1;
  private nextMessageId = 1;
  private nextClientId = 1;
  /** Every call the console made, in order, so tests can assert on effects. */
  readonly calls: string[] = [];

  constructor(options: FakeBackendOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.keychain = options.keychain ?? { type: 'available' };
    this.ringerNoDevice = options.ringerNoDevice;
    this.soundDisabled = options.soundDisabled ?? false;
    this.outputDevices = options.outputDevices ?? [{ id: 'alsa:default', name: 'Default Audio Device', isDefault: true }];
    if (options.seedDemoChats ?? true) this.seedDemoChats();
    if ((options.loadChats ?? 0) > 0) this.seedLoad(options.loadChats ?? 0, options.loadMessages ?? 0);
    if (options.signedInAs !== undefined) {
      const account = DEMO_ACCOUNTS.find((candidate) => candidate.profile.email === options.signedInAs);
      if (account === undefined) throw new Error(`no demo account ${options.signedInAs}`);
      this.operator = clone(account.profile);
      this.connection = { type: 'connected' };
    }
  }

  // ---- Backend ----------------------------------------------------------------------------

  async coreState(): Promise<ConsoleSnapshot> {
    this.calls.push('coreState');
    const { chats, counters } = this.consoleChats();
    return clone({
      connection: this.connection,
      keychain: this.keychain,
      operator: this.operator,
      availability: this.availability,
      chats,
      counters,
      ringer: this.ringerState(chats),
      ringerMuted: this.ringerMuted,
      // Like the core: exactly the chats listed as ringing, oldest first.
      ringingRequests: chats
        .filter((chat) => chat.ringing)
        .map((chat) => ({ chat: chat.summary.id, since: chat.summary.createdAt }))
        .sort((left, right) => left.since - right.since || left.chat - right.chat),
      outbox: this.outbox,
      sync: this.sync,
    });
  }

  async signIn(email: string, password: string): Promise<OperatorProfile> {
    this.calls.push(`signIn ${email}`);
    const account = DEMO_ACCOUNTS.find(
      (candidate) => candidate.profile.email === email.trim().toLowerCase(),
    );
    if (account === undefined || account.password !== password) {
      throw rejection('unauthorized', 'Wrong email or password.');
    }
    this.operator = clone(account.profile);
    this.mutedChats.clear();
    this.emit({ type: 'session', operator: clone(this.operator), keychain: clone(this.keychain) });
    this.setConnection({ type: 'connected' });
    this.emitChats();
    return clone(this.operator);
  }

  async signOut(): Promise<void> {
    this.calls.push('signOut');
    this.operator = null;
    this.emit({ type: 'session', operator: null, keychain: clone(this.keychain) });
    this.setConnection({ type: 'signedOut' });
    this.emitChats();
  }

  async chatMessages(chat: ChatId): Promise<Message[]> {
    this.calls.push(`chatMessages ${chat}`);
    this.requireSummary(chat);
    return clone(this.messages.get(chat) ?? []);
  }

  async acceptChat(chat: ChatId): Promise<ChatSummary> {
    this.calls.push(`acceptChat ${chat}`);
    const me = this.requireOperator();
    const summary = this.requireSummary(chat);
    if (summary.state !== 'pending') {
      const taker = summary.responsible?.name;
      throw rejection(
        'conflict',
        taker === undefined ? 'This chat is no longer waiting.' : `This chat was taken by ${taker}.`,
      );
    }
    summary.state = 'active';
    summary.responsible = { id: me.id, name: me.name };
    summary.updatedAt = this.now();
    this.mutedChats.delete(chat);
    this.post(chat, { kind: 'system' }, 'public', `${me.name} joined the chat.`, null);
    this.emitChats();
    return clone(summary);
  }

  /** B21: no event, no unread change; only supervisors of the chat's live chat may. */
  async monitorChat(chat: ChatId): Promise<ChatHistory> {
    this.calls.push(`monitorChat ${chat}`);
    const summary = this.requireSupervised(chat);
    if (summary.state !== 'pending' && summary.state !== 'active') {
      throw rejection('conflict', 'This chat has ended; there is nothing live to monitor.');
    }
    return { chat: clone(summary), messages: clone(this.messages.get(chat) ?? []) };
  }

  async joinChat(chat: ChatId): Promise<ChatSummary> {
    this.calls.push(`joinChat ${chat}`);
    const me = this.requireOperator();
    const summary = this.requireSupervised(chat);
    if (summary.state !== 'active') throw rejection('conflict', 'Only an active chat can be joined.');
    const joined = this.participants.get(chat) ?? new Set<number>();
    if (summary.responsible?.id !== me.id && !joined.has(me.id)) {
      joined.add(me.id);
      this.participants.set(chat, joined);
      this.post(chat, { kind: 'system' }, 'public', `${me.name} joined`, null);
      this.emitChats();
    }
    return clone(summary);
  }

  async takeOverChat(chat: ChatId, previousStays: boolean): Promise<ChatSummary> {
    this.calls.push(`takeOverChat ${chat} ${previousStays}`);
    const me = this.requireOperator();
    const summary = this.requireSupervised(chat);
    const previous = summary.responsible;
    if (summary.state !== 'active' || previous === null) {
      throw rejection('conflict', 'Only an active chat can be taken over.');
    }
    if (previous.id !== me.id) {
      const joined = this.participants.get(chat) ?? new Set<number>();
      joined.delete(me.id);
      if (previousStays) joined.add(previous.id);
      this.participants.set(chat, joined);
      summary.responsible = { id: me.id, name: me.name };
      summary.updatedAt = this.now();
      this.post(chat, { kind: 'system' }, 'public', `${me.name} took over the chat from ${previous.name}`, null);
      this.emitChats();
    }
    return clone(summary);
  }

  async tickets(): Promise<Ticket[]> {
    this.calls.push('tickets');
    this.requireOperator();
    return clone([...this.ticketList].reverse());
  }

  async updateTicket(id: number, update: TicketUpdate): Promise<Ticket> {
    this.calls.push(`updateTicket ${id} ${update.status} ${update.assignee ?? 'none'}`);
    this.requireOperator();
    const ticket = this.ticketList.find((candidate) => candidate.id === id);
    if (ticket === undefined) throw rejection('notFound', 'There is no such ticket.');
    const subject = update.subject.trim();
    if (subject === '') throw rejection('badRequest', 'A ticket subject has 1 to 200 characters.');
    const assignee = update.assignee === null ? null : DEMO_ACCOUNTS.find((account) => account.profile.id === update.assignee);
    if (assignee === undefined) throw rejection('badRequest', 'A ticket can only be assigned to staff of its live chat.');
    ticket.subject = subject;
    ticket.status = update.status;
    ticket.assignee = assignee === null ? null : { id: assignee.profile.id, name: assignee.profile.name };
    ticket.updatedAt = this.now();
    return clone(ticket);
  }

  // ----- collaboration (issue 7): invite, transfer, reassign, reply lock, leave -----

  private collab: Collaboration = { invitations: [], sent: [], replyLocks: [], unsubscribed: [], colleagues: [], ended: [] };
  private readonly audit: AuditEntry[] = [];
  private readonly emailed: number[] = [];

  private emitCollaboration(): void {
    this.emit({ type: 'collaboration', collaboration: clone(this.collab) });
  }

  private colleagueRef(operator: OperatorId): OperatorRef {
    const account = DEMO_ACCOUNTS.find((candidate) => candidate.profile.id === operator);
    if (account === undefined) throw rejection('notFound', 'That operator does not work in this chat\'s live chat.');
    return { id: account.profile.id, name: account.profile.name };
  }

  private requireActive(chat: ChatId): ChatSummary {
    const summary = this.requireSummary(chat);
    if (summary.state !== 'active') throw rejection('conflict', 'Only an active chat can be joined or taken over; accept a waiting one instead.');
    return summary;
  }

  private recordAudit(chat: ChatSummary, action: AuditEntry['action'], previous: OperatorRef | null): void {
    const me = this.requireOperator();
    this.audit.push({ chat: chat.id, action, actor: { id: me.id, name: me.name }, previous, at: this.now() });
  }

  async reassignChat(chat: ChatId, operator: OperatorId): Promise<ChatSummary> {
    this.calls.push(`reassignChat ${chat} ${operator}`);
    const me = this.requireOperator();
    const summary = this.requireActive(chat);
    if (summary.responsible?.id !== me.id && !me.liveChats.some((live) => live.id === summary.liveChat && live.supervisor)) {
      throw rejection('forbidden', 'Only the operator responsible for this chat or a supervisor can reassign it.');
    }
    const target = this.colleagueRef(operator);
    const previous = summary.responsible;
    if (previous?.id === target.id) return clone(summary);
    this.recordAudit(summary, 'reassigned', previous);
    summary.responsible = target;
    summary.updatedAt = this.now();
    if (previous !== null) this.post(chat, { kind: 'system' }, 'public', `${previous.name} left`, null);
    this.post(chat, { kind: 'system' }, 'public', `${target.name} joined`, null);
    this.emitChats();
    return clone(summary);
  }

  async inviteOperator(chat: ChatId, operator: OperatorId): Promise<void> {
    this.calls.push(`inviteOperator ${chat} ${operator}`);
    const summary = this.requireActive(chat);
    const target = this.colleagueRef(operator);
    this.recordAudit(summary, 'invited', null);
    this.collab.sent = this.collab.sent.filter((sent) => sent.chat !== chat);
    this.collab.sent.push({ chat, kind: 'invite', to: target.name, operator: target.id, team: null, state: { type: 'waiting' } });
    this.emitCollaboration();
  }

  async transferChat(chat: ChatId, operator: OperatorId, note: string): Promise<void> {
    this.calls.push(`transferChat ${chat} ${operator} ${note}`);
    this.requireActive(chat);
    const target = this.colleagueRef(operator);
    this.collab.sent = this.collab.sent.filter((sent) => sent.chat !== chat);
    this.collab.sent.push({ chat, kind: 'transfer', to: target.name, operator: target.id, team: null, state: { type: 'waiting' } });
    this.emitCollaboration();
  }

  async answerInvitation(chat: ChatId, accept: boolean): Promise<ChatSummary> {
    this.calls.push(`answerInvitation ${chat} ${accept}`);
    const me = this.requireOperator();
    const summary = this.requireSummary(chat);
    const invitation = this.collab.invitations.find((open) => open.chat === chat);
    if (invitation === undefined) throw rejection('notFound', 'There is no open invitation to this chat for you.');
    this.collab.invitations = this.collab.invitations.filter((open) => open.chat !== chat);
    this.emitCollaboration();
    if (accept) {
      if (invitation.kind === 'transfer') {
        const previous = summary.responsible;
        summary.responsible = { id: me.id, name: me.name };
        if (previous !== null) this.post(chat, { kind: 'system' }, 'public', `${previous.name} left`, null);
      } else {
        const joined = this.participants.get(chat) ?? new Set<number>();
        joined.add(me.id);
        this.participants.set(chat, joined);
      }
      summary.updatedAt = this.now();
      this.post(chat, { kind: 'system' }, 'public', `${me.name} joined`, null);
      this.emitChats();
    }
    return clone(summary);
  }

  async lockReplies(chat: ChatId, locked: boolean): Promise<void> {
    this.calls.push(`lockReplies ${chat} ${locked}`);
    const me = this.requireOperator();
    this.requireActive(chat);
    this.collab.replyLocks = this.collab.replyLocks.filter((lock) => lock.chat !== chat);
    if (locked) this.collab.replyLocks.push({ chat, lockedBy: { id: me.id, name: me.name } });
    this.emitCollaboration();
  }

  async leaveChat(chat: ChatId): Promise<ChatSummary> {
    this.calls.push(`leaveChat ${chat}`);
    const me = this.requireOperator();
    const summary = this.requireActive(chat);
    const joined = this.participants.get(chat) ?? new Set<number>();
    joined.delete(me.id);
    if (summary.responsible?.id === me.id) {
      const successor = [...joined][0];
      if (successor === undefined) {
        summary.state = 'closed';
        this.openTicket(summary);
      } else {
        joined.delete(successor);
        summary.responsible = this.colleagueRef(successor);
      }
    }
    summary.updatedAt = this.now();
    this.post(chat, { kind: 'system' }, 'public', `${me.name} left`, null);
    this.emitChats();
    return clone(summary);
  }

  async auditLog(liveChat: LiveChatId): Promise<AuditEntry[]> {
    this.calls.push(`auditLog ${liveChat}`);
    const me = this.requireOperator();
    if (!me.liveChats.some((live) => live.id === liveChat && live.supervisor)) {
      throw rejection('forbidden', 'Only a supervisor of this live chat can read its audit log.');
    }
    return clone(this.audit.filter((entry) => this.summaries.get(entry.chat)?.liveChat === liveChat));
  }

  async ticket(id: number): Promise<TicketDetail> {
    this.calls.push(`ticket ${id}`);
    this.requireOperator();
    const ticket = this.ticketList.find((candidate) => candidate.id === id);
    if (ticket === undefined) throw rejection('notFound', 'There is no such ticket.');
    const rating = this.ratings.get(ticket.chat);
    return clone({
      ticket,
      messages: this.messages.get(ticket.chat) ?? [],
      ...(rating === undefined ? {} : { rating }),
    });
  }

  /** B33: each live chat's rating switch, on unless a supervisor switched it off. */
  private readonly ratingSwitches = new Map<LiveChatId, boolean>();

  async ratingSettings(liveChat: LiveChatId): Promise<import('./protocol').RatingSettings> {
    this.calls.push(`ratingSettings ${liveChat}`);
    const me = this.requireOperator();
    if (!me.liveChats.some((live) => live.id === liveChat)) {
      throw rejection('forbidden', 'You are not a member of this live chat.');
    }
    return { enabled: this.ratingSwitches.get(liveChat) ?? true };
  }

  async setRatingSettings(liveChat: LiveChatId, enabled: boolean): Promise<import('./protocol').RatingSettings> {
    this.calls.push(`setRatingSettings ${liveChat} ${enabled}`);
    const me = this.requireOperator();
    if (!me.liveChats.some((live) => live.id === liveChat && live.supervisor)) {
      throw rejection('forbidden', 'Only a supervisor of this live chat can change its rating settings.');
    }
    this.ratingSwitches.set(liveChat, enabled);
    return { enabled };
  }

  async emailTranscript(id: number): Promise<TranscriptSent> {
    this.calls.push(`emailTranscript ${id}`);
    this.requireOperator();
    const ticket = this.ticketList.find((candidate) => candidate.id === id);
    if (ticket === undefined) throw rejection('notFound', 'There is no such ticket.');
    if (ticket.visitor.email === null) throw rejection('badRequest', 'The visitor left no email address to send the transcript to.');
    if (!this.mailServer) throw rejection('conflict', 'This server has no SMTP server configured for email.');
    this.emailed.push(id);
    return { to: ticket.visitor.email };
  }

  async collaboration(): Promise<Collaboration> {
    this.calls.push('collaboration');
    return clone(this.collab);
  }

  async dismissSent(chat: ChatId): Promise<void> {
    this.calls.push(`dismissSent ${chat}`);
    this.collab.sent = this.collab.sent.filter((sent) => sent.chat !== chat || sent.state.type === 'waiting');
    this.collab.ended = this.collab.ended.filter((ended) => ended.chat !== chat);
    this.emitCollaboration();
  }

  /** The demo organisation's one team (B22). */
  readonly demoTeams: Team[] = [{ id: 1, liveChat: ACME.id, name: 'Billing', members: [2, 3] }];

  async teams(): Promise<Team[]> {
    this.calls.push('teams');
    this.requireOperator();
    return clone(this.demoTeams);
  }

  async transferToTeam(chat: ChatId, team: Team, note: string): Promise<void> {
    this.calls.push(`transferToTeam ${chat} ${team.id} ${note}`);
    this.requireActive(chat);
    this.collab.sent = this.collab.sent.filter((sent) => sent.chat !== chat);
    this.collab.sent.push({ chat, kind: 'transfer', to: team.name, operator: null, team: team.id, state: { type: 'waiting' } });
    this.emitCollaboration();
  }

  /** A colleague's availability or routing switch changes (the server's ColleagueChanged). */
  simulateColleague(colleague: Colleague): void {
    this.collab.colleagues = [...this.collab.colleagues.filter((known) => known.id !== colleague.id), colleague];
    this.emitCollaboration();
  }

  /** A colleague invites (B23) or transfers (B22) a chat to this operator. */
  simulateInvitation(
    chat: ChatId,
    from: OperatorRef,
    kind: InvitationKind,
    note: string | null = null,
    team?: string,
  ): void {
    const summary = this.requireSummary(chat);
    this.collab.invitations = this.collab.invitations.filter((open) => open.chat !== chat);
    this.collab.invitations.push({ chat, kind, from, note, subject: summary.subject, ...(team === undefined ? {} : { team }) });
    this.emitCollaboration();
  }

  /** The colleague this operator invited or transferred to answers, or lets it time out. */
  simulateInvitationOutcome(chat: ChatId, state: 'accepted' | 'declined' | 'timedOut'): void {
    for (const sent of this.collab.sent) {
      if (sent.chat === chat) sent.state = { type: state };
    }
    this.emitCollaboration();
  }

  /**
   * B22, B23: an open invitation to this operator ended while connected (the server's
   * `InvitationExpired` with its outcome): the core moves it to `ended` with why.
   */
  simulateInvitationEnded(chat: ChatId, outcome: Collaboration['ended'][number]['outcome']): void {
    const invitation = this.collab.invitations.find((open) => open.chat === chat);
    if (invitation === undefined) throw new Error(`no open invitation to chat ${chat}`);
    this.collab.invitations = this.collab.invitations.filter((open) => open.chat !== chat);
    this.collab.ended = [
      ...this.collab.ended.filter((ended) => ended.chat !== chat),
      { chat, kind: invitation.kind, from: invitation.from, subject: invitation.subject, team: invitation.team ?? null, outcome },
    ];
    this.emitCollaboration();
  }

  /** B22, B23: the core learnt after a snapshot why invitations to this operator ended. */
  simulateEndedWhileAway(ended: Collaboration['ended']): void {
    this.collab.invitations = this.collab.invitations.filter((open) => ended.every((gone) => gone.chat !== open.chat));
    this.collab.ended = [...this.collab.ended, ...ended];
    this.emitCollaboration();
  }

  /** A colleague locks (or unlocks, with `null`) replies to a chat (B15). */
  simulateReplyLock(chat: ChatId, lockedBy: OperatorRef | null): void {
    this.collab.replyLocks = this.collab.replyLocks.filter((lock) => lock.chat !== chat);
    if (lockedBy !== null) this.collab.replyLocks.push({ chat, lockedBy });
    this.emitCollaboration();
  }

  /** The visitor gave an email address in the pre-chat form (for transcript emails, B25). */
  simulateVisitorEmail(chat: ChatId, email: string): void {
    this.requireSummary(chat).visitor.email = email;
    this.emitChats();
  }

  /** The chats whose transcript was emailed, by ticket id. */
  /** Whether the (simulated) server has an SMTP server to email transcripts through. */
  mailServer = true;

  get emailedTickets(): readonly number[] {
    return this.emailed;
  }

  /** What the core remembered from an earlier run (B13 unsubscriptions survive a restart). */
  seedCollaboration(collaboration: Collaboration): void {
    this.collab = clone(collaboration);
  }

  /** B25: a chat that ends gets a ticket, like on the server. */
  private openTicket(summary: ChatSummary): void {
    if (this.ticketList.some((ticket) => ticket.chat === summary.id)) return;
    this.ticketList.push({
      id: this.ticketList.length + 1,
      chat: summary.id,
      liveChat: summary.liveChat,
      subject: summary.subject,
      status: 'open',
      assignee: summary.responsible === null ? null : { ...summary.responsible },
      visitor: clone(summary.visitor),
      createdAt: this.now(),
      updatedAt: this.now(),
    });
  }

  private requireSupervised(chat: ChatId): ChatSummary {
    const me = this.requireOperator();
    const summary = this.requireSummary(chat);
    if (!me.liveChats.some((live) => live.id === summary.liveChat && live.supervisor)) {
      throw rejection('forbidden', "Only a supervisor of this chat's live chat can monitor, join or take it over.");
    }
    return summary;
  }

  /** The operator's own message, as the server checks it before an edit or deletion (B16). */
  private requireOwnMessage(id: MessageId): Message {
    const me = this.requireOperator();
    for (const timeline of this.messages.values()) {
      const message = timeline.find((candidate) => candidate.id === id);
      if (message === undefined) continue;
      if (message.author.kind !== 'operator' || message.author.id !== me.id) {
        throw rejection('forbidden', 'Only the author of a message can edit or delete it.');
      }
      return message;
    }
    throw rejection('notFound', 'There is no such message.');
  }

  async editMessage(id: MessageId, body: string): Promise<Message> {
    this.calls.push(`editMessage ${id}`);
    const message = this.requireOwnMessage(id);
    if (body.trim() === '') throw rejection('badRequest', 'A message cannot be empty.');
    message.body = body;
    message.editedAt = this.now();
    this.emit({ type: 'messageEdited', message: clone(message) });
    return clone(message);
  }

  async deleteMessage(chat: ChatId, id: MessageId): Promise<void> {
    this.calls.push(`deleteMessage ${chat} ${id}`);
    this.requireOwnMessage(id);
    const timeline = this.messages.get(chat) ?? [];
    this.messages.set(
      chat,
      timeline.filter((message) => message.id !== id),
    );
    this.emit({ type: 'messageDeleted', chat, message: id });
  }

  async sendMessage(chat: ChatId, body: string, visibility: Visibility): Promise<Message> {
    this.calls.push(`sendMessage ${chat} ${visibility}`);
    const me = this.requireOperator();
    const summary = this.requireSummary(chat);
    if (body.trim() === '') throw rejection('badRequest', 'A message needs some text.');
    if ([...body].length > MAX_MESSAGE_CHARS) {
      throw rejection('tooLarge', `Messages are limited to ${MAX_MESSAGE_CHARS} characters.`);
    }
    if (visibility === 'public' && summary.responsible?.id !== me.id && !this.participants.get(chat)?.has(me.id)) {
      throw rejection('forbidden', 'Accept the chat before replying to the visitor.');
    }
    if (summary.state === 'closed' || summary.state === 'abandoned') {
      throw rejection('conflict', 'This chat has ended.');
    }
    const clientId = `fake-${this.nextClientId++}`;
    if (this.connection.type !== 'connected') {
      // Like the core: the reply waits in the outbox and the call reports it as not delivered yet.
      this.outbox.push({
        id: clientId,
        command: { type: 'send', chat, body, visibility },
        createdAt: this.now(),
        state: { type: 'pending' },
      });
      this.emitOutbox();
      // The core answers only after its command timeout; tests can hold the answer back.
      await this.queuedAnswer;
      throw rejection('internal', 'not delivered yet: it will be sent when the connection is back');
    }
    const message = this.post(chat, { kind: 'operator', id: me.id, name: me.name }, visibility, body, clientId);
    return clone(message);
  }

  async cannedResponses(): Promise<CannedResponse[]> {
    this.calls.push('cannedResponses');
    const me = this.requireOperator();
    const liveChats = new Set(me.liveChats.map((live) => live.id));
    return clone(this.canned.filter((canned) => canned.liveChat === null || liveChats.has(canned.liveChat)));
  }

  /** Replaces the canned responses the fake serves (tests). */
  setCannedResponses(canned: CannedResponse[]): void {
    this.canned = clone(canned);
  }

  async colleagues(): Promise<OperatorRef[]> {
    this.calls.push('colleagues');
    const me = this.requireOperator();
    const mine = new Set(me.liveChats.map((live) => live.id));
    return DEMO_ACCOUNTS.filter(
      (account) => account.profile.id !== me.id && account.profile.liveChats.some((live) => mine.has(live.id)),
    ).map((account) => ({ id: account.profile.id, name: account.profile.name }));
  }

  async searchArticles(query: string): Promise<Article[]> {
    this.calls.push(`searchArticles ${query}`);
    this.requireOperator();
    const needle = query.trim().toLocaleLowerCase();
    return clone(
      this.articles.filter(
        (article) =>
          needle === '' ||
          article.title.toLocaleLowerCase().includes(needle) ||
          article.body.toLocaleLowerCase().includes(needle),
      ),
    );
  }

  async quit(): Promise<void> {
    this.calls.push('quit');
  }

  async retryCommand(id: string): Promise<void> {
    this.calls.push(`retryCommand ${id}`);
    const item = this.outbox.find((candidate) => candidate.id === id);
    if (item === undefined) throw rejection('notFound', 'Nothing to retry.');
    item.state = { type: 'pending' };
    this.emitOutbox();
    if (this.connection.type === 'connected') this.deliverOutbox();
  }

  async discardCommand(id: string): Promise<void> {
    this.calls.push(`discardCommand ${id}`);
    const item = this.outbox.find((candidate) => candidate.id === id);
    if (item === undefined) throw rejection('notFound', 'Nothing to discard.');
    if (item.state.type === 'pending') throw rejection('conflict', 'This message may already be on its way.');
    this.outbox = this.outbox.filter((candidate) => candidate !== item);
    this.emitOutbox();
  }

  async endChat(chat: ChatId): Promise<ChatSummary> {
    this.calls.push(`endChat ${chat}`);
    const me = this.requireOperator();
    const summary = this.requireSummary(chat);
    if (summary.state === 'closed' || summary.state === 'abandoned') {
      throw rejection('conflict', 'This chat has already ended.');
    }
    summary.state = 'closed';
    summary.updatedAt = this.now();
    this.post(chat, { kind: 'system' }, 'public', `${me.name} ended the chat.`, null);
    this.openTicket(summary);
    this.emitChats();
    return clone(summary);
  }

  async muteChat(chat: ChatId): Promise<void> {
    this.calls.push(`muteChat ${chat}`);
    this.requireOperator();
    this.requireSummary(chat);
    this.mutedChats.add(chat);
    this.emitChats();
  }

  async setSubscribed(chat: ChatId, subscribed: boolean): Promise<void> {
    this.calls.push(`setSubscribed ${chat} ${subscribed}`);
    this.requireOperator();
    this.requireSummary(chat);
    this.collab.unsubscribed = this.collab.unsubscribed.filter((id) => id !== chat);
    if (!subscribed) this.collab.unsubscribed.push(chat);
    this.emitCollaboration();
  }

  async setTyping(chat: ChatId, typing: boolean, visibility: Visibility): Promise<void> {
    this.calls.push(`setTyping ${chat} ${typing} ${visibility}`);
    this.requireOperator();
    this.requireSummary(chat);
  }

  /** B34: customer records by the visitor they were created from. */
  private readonly customers = new Map<VisitorId, Customer>();

  async chatCustomer(chat: ChatId): Promise<Customer | null> {
    this.calls.push(`chatCustomer ${chat}`);
    this.requireOperator();
    return clone(this.customers.get(this.requireSummary(chat).visitor.id) ?? null);
  }

  async createCustomer(request: CreateCustomerRequest): Promise<Customer> {
    this.calls.push(`createCustomer ${request.chat}`);
    const operator = this.requireOperator();
    const summary = this.requireSummary(request.chat);
    const name = request.name.trim();
    if (name === '') throw rejection('badRequest', 'A customer needs a name.');
    if (this.customers.has(summary.visitor.id)) {
      throw rejection('conflict', 'This visitor already has a customer record.');
    }
    const email = request.email?.trim() ?? '';
    const customer: Customer = {
      id: this.customers.size + 1,
      liveChat: summary.liveChat,
      name,
      email: email === '' ? null : email,
      notes: request.notes.trim(),
      createdBy: { id: operator.id, name: operator.name },
      createdAt: this.now(),
    };
    this.customers.set(summary.visitor.id, customer);
    return clone(customer);
  }

  async markRead(chat: ChatId): Promise<void> {
    this.calls.push(`markRead ${chat}`);
    this.requireSummary(chat);
    if ((this.unread.get(chat) ?? 0) === 0) return;
    this.unread.set(chat, 0);
    this.emitChats();
  }

  async setAvailability(availability: Availability): Promise<void> {
    this.calls.push(`setAvailability ${availability}`);
    this.requireOperator();
    this.availability = availability;
    this.emit({ type: 'availability', availability });
    this.emitChats();
  }

  private sounds: SoundSettings = {
    volume: 80,
    ring: { type: 'builtIn' },
    message: { type: 'builtIn' },
    invitation: { type: 'builtIn' },
    mention: { type: 'builtIn' },
    newVisitor: { type: 'off' },
    outputDevice: null,
  };

  async soundSettings(): Promise<SoundSettings> {
    return structuredClone(this.sounds);
  }

  /** Like the core: a file that is not a WAV/OGG/MP3/FLAC is refused and nothing changes. */
  async setSoundSettings(settings: SoundSettings): Promise<void> {
    this.calls.push(`setSoundSettings ${JSON.stringify(settings)}`);
    this.checkSounds(settings);
    this.sounds = structuredClone(settings);
  }

  /** Like the core: every choice must play and the volume be a percentage. */
  private checkSounds(settings: SoundSettings): void {
    const choices = [settings.ring, settings.message, settings.invitation, settings.mention, settings.newVisitor];
    for (const choice of choices) {
      if (choice.type === 'file' && !/\.(wav|ogg|mp3|flac)$/i.test(choice.path)) {
        throw rejection('badRequest', `${choice.path} cannot be played: unrecognized format`);
      }
    }
    if (settings.volume > 100) throw rejection('badRequest', 'The volume must be between 0 and 100.');
  }

  async soundStatus(): Promise<SoundStatus> {
    if (this.soundDisabled) return { unavailable: { type: 'disabled' }, devices: [], fallback: null };
    if (this.ringerNoDevice !== undefined) {
      return { unavailable: { type: 'noDevice', reason: this.ringerNoDevice }, devices: [], fallback: null };
    }
    const chosen = this.sounds.outputDevice;
    const gone = chosen !== null && !this.outputDevices.some((device) => device.id === chosen);
    return {
      unavailable: null,
      devices: structuredClone(this.outputDevices),
      fallback: gone ? `The chosen output device (${chosen}) is not connected: playing through the default device.` : null,
    };
  }

  async testSound(settings: SoundSettings, sound: Sound): Promise<void> {
    this.checkSounds(settings);
    this.calls.push(`testSound ${sound}`);
  }

  async setRingerMuted(muted: boolean): Promise<void> {
    this.calls.push(`setRingerMuted ${muted}`);
    this.ringerMuted = muted;
    this.emitChats();
  }

  async search(query: string, chat: ChatId | null): Promise<SearchResults> {
    this.calls.push(`search ${chat ?? 'all'} ${query}`);
    const me = this.requireOperator();
    const needle = query.trim().toLocaleLowerCase();
    if (needle === '') return { chats: [], messages: [] };
    const accessible = new Set(me.liveChats.map((live) => live.id));
    const visible = new Set(this.consoleChats().chats.map((console) => console.summary.id));
    // Like the core: chats are the console's view of them, newest first.
    const chats = this.consoleChats()
      .chats.filter((console) => accessible.has(console.summary.liveChat))
      .filter(
        (console) =>
          console.summary.visitor.name.toLocaleLowerCase().includes(needle) ||
          console.summary.subject.toLocaleLowerCase().includes(needle),
      );
    // Like the core: the open chat's messages, or with none open every visible chat's, newest first.
    const searched = chat === null ? [...visible] : visible.has(chat) ? [chat] : [];
    const messages = searched
      .flatMap((id) => this.messages.get(id) ?? [])
      .filter((message) => message.body.toLocaleLowerCase().includes(needle))
      .sort((a, b) => b.id - a.id)
      .slice(0, 50);
    return clone({ chats, messages });
  }

  async onEvent(listener: (event: ConsoleEvent) => void): Promise<() => void> {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // ---- The other side of the conversation ------------------------------------------------

  /** A visitor starts a chat; it rings for every online operator. */
  simulateNewChat(visitorName: string, subject: string, firstMessage?: string): ChatId {
    const id = this.addChat(visitorName, subject, 'pending', null);
    if (firstMessage !== undefined) this.post(id, { kind: 'visitor', name: visitorName }, 'public', firstMessage, null);
    this.emitChats();
    return id;
  }

  simulateVisitorMessage(chat: ChatId, body: string): Message {
    const summary = this.requireSummary(chat);
    const message = this.post(chat, { kind: 'visitor', name: summary.visitor.name }, 'public', body, null);
    this.emitChats();
    return clone(message);
  }

  /** A colleague accepts a chat first; the ring stops here too. */
  /** The visitor started or stopped typing (an ephemeral core event). */
  simulateVisitorTyping(chat: ChatId, typing: boolean): void {
    this.emit({ type: 'visitorTyping', chat, typing });
  }

  /** B50: the visitors on site changed (the core sends the whole list). */
  simulateVisitorsOnSite(visitors: SiteVisitor[]): void {
    this.emit({ type: 'visitorsOnSite', visitors: clone(visitors) });
  }

  /** The visitor has seen the staff's messages up to `upTo`. */
  simulateVisitorRead(chat: ChatId, upTo: MessageId): void {
    // Kept like the core's cache keeps it, so a restarted console still shows "Seen".
    if ((this.visitorReads.get(chat) ?? 0) < upTo) this.visitorReads.set(chat, upTo);
    this.emit({ type: 'visitorRead', chat, upTo });
  }

  /** B33: the visitor rates the chat; the server adds a staff-only system note and `ChatRated`. */
  simulateRating(chat: ChatId, score: 'good' | 'bad', comment: string | null): void {
    this.requireSummary(chat);
    const replaced = this.ratings.has(chat);
    this.ratings.set(chat, { chat, score, comment, ratedAt: this.now() });
    const verdict = score === 'good' ? '👍 good' : '👎 bad';
    const lead = replaced ? 'Visitor changed the rating to' : 'Visitor rated:';
    const body = comment === null ? `${lead} ${verdict}` : `${lead} ${verdict} — ${comment}`;
    this.post(chat, { kind: 'system' }, 'note', body, null);
    this.emitChats();
  }

  simulateAcceptedBy(chat: ChatId, operator: OperatorRef): void {
    const summary = this.requireSummary(chat);
    summary.state = 'active';
    summary.responsible = clone(operator);
    summary.updatedAt = this.now();
    this.post(chat, { kind: 'system' }, 'public', `${operator.name} joined the chat.`, null);
    this.emitChats();
  }

  simulateVisitorLeft(chat: ChatId): void {
    const summary = this.requireSummary(chat);
    summary.state = summary.state === 'pending' ? 'abandoned' : 'closed';
    summary.updatedAt = this.now();
    this.post(chat, { kind: 'system' }, 'public', `${summary.visitor.name} left the chat.`, null);
    this.emitChats();
  }

  setConnection(state: ConnectionState): void {
    this.connection = clone(state);
    this.emit({ type: 'connection', state: clone(state) });
    if (state.type === 'connected') this.deliverOutbox();
  }

  /** The server refuses the oldest pending command for good (e.g. the chat ended meanwhile). */
  simulateOutboxFailure(message: string): void {
    const item = this.outbox.find((candidate) => candidate.state.type === 'pending');
    if (item === undefined) throw new Error('no pending outbox command');
    item.state = { type: 'failed', error: { code: 'conflict', message } };
    this.emitOutbox();
  }

  /** Catch-up progress after a reconnect; null when caught up. */
  setSync(progress: SyncProgress | null): void {
    this.sync = clone(progress);
    this.emit({ type: 'sync', progress: clone(progress) });
  }

  /** Sends every pending outbox command, oldest first, as the core does on a welcome. */
  private deliverOutbox(): void {
    const me = this.operator;
    if (me === null) return;
    const pending = this.outbox.filter((item) => item.state.type === 'pending');
    if (pending.length === 0) return;
    for (const item of pending) {
      if (item.command.type !== 'send') continue;
      this.post(item.command.chat, { kind: 'operator', id: me.id, name: me.name }, item.command.visibility, item.command.body, item.id);
    }
    this.outbox = this.outbox.filter((item) => !pending.includes(item));
    this.emitOutbox();
    this.emitChats();
  }

  /** Uploaded files by attachment id (B32). */
  private readonly files = new Map<AttachmentId, ArrayBuffer>();
  private nextAttachmentId = 1;
  /** The fake server's upload limit (B32); tests lower it. */
  attachmentLimit = DEFAULT_ATTACHMENT_MAX_BYTES;

  async uploadAttachment(chat: ChatId, file: File, visibility: Visibility): Promise<Message> {
    this.calls.push(`uploadAttachment ${chat} ${visibility} ${file.name}`);
    const me = this.requireOperator();
    const summary = this.requireSummary(chat);
    const id = `fake-${this.nextClientId++}`;
    const report = (sent: number, state: UploadState) =>
      this.emit({ type: 'upload', upload: { id, chat, name: file.name, visibility, sent, total: file.size, state } });
    const refuse = (error: ApiError): never => {
      report(0, { kind: 'failed', error });
      throw error;
    };
    if (visibility === 'public' && summary.responsible?.id !== me.id && !this.participants.get(chat)?.has(me.id)) {
      refuse(rejection('forbidden', 'Accept the chat first: only the operator responsible for it can send the visitor files.'));
    }
    if (file.size > this.attachmentLimit) {
      refuse(rejection('tooLarge', `This file is too large: the limit is ${Math.round(this.attachmentLimit / 1024)} KB.`));
    }
    // Like the server, though it sniffs bytes: markup is refused whatever it claims to be.
    const allowed = /^(image\/(png|jpeg|gif|webp)|application\/pdf|text\/(plain|csv))$/.test(file.type);
    if (!allowed) {
      refuse(rejection('badRequest', 'This kind of file cannot be sent. Images, PDF, text and office documents can.'));
    }
    report(0, { kind: 'sending' });
    const bytes = await file.arrayBuffer();
    report(Math.floor(file.size / 2), { kind: 'sending' });
    report(file.size, { kind: 'sending' });
    const attachment: Attachment = {
      id: `${this.nextAttachmentId++}`.padStart(8, '0'),
      name: file.name,
      size: file.size,
      contentType: file.type,
    };
    this.files.set(attachment.id, bytes);
    const message = this.post(chat, { kind: 'operator', id: me.id, name: me.name }, visibility, '', id, [attachment]);
    report(file.size, { kind: 'done' });
    return clone(message);
  }

  async attachmentBytes(id: AttachmentId): Promise<ArrayBuffer> {
    const bytes = this.files.get(id);
    if (bytes === undefined) throw rejection('notFound', 'There is no such file.');
    return bytes.slice(0);
  }

  /** A visitor sends a file (B32). */
  simulateVisitorAttachment(chat: ChatId, name: string, contentType: string, bytes: Uint8Array): Message {
    const summary = this.requireSummary(chat);
    const attachment: Attachment = {
      id: `${this.nextAttachmentId++}`.padStart(8, '0'),
      name,
      size: bytes.byteLength,
      contentType,
    };
    this.files.set(attachment.id, bytes.slice().buffer);
    const message = this.post(chat, { kind: 'visitor', name: summary.visitor.name }, 'public', '', null, [attachment]);
    this.emitChats();
    return clone(message);
  }

  /** The demo live chat's staff emoji switch (B32), as a supervisor sets it on the server. */
  setStaffEmoji(enabled: boolean): void {
    if (this.operator === null) return;
    this.operator = {
      ...this.operator,
      liveChats: this.operator.liveChats.map((live) => ({ ...live, staffEmoji: enabled })),
    };
    this.emit({ type: 'session', operator: clone(this.operator), keychain: clone(this.keychain) });
  }

  private emitOutbox(): void {
    this.emit({ type: 'outbox', items: clone(this.outbox) });
  }

  setKeychain(state: KeychainState): void {
    this.keychain = clone(state);
    this.emit({ type: 'session', operator: clone(this.operator), keychain: clone(state) });
  }

  listenerCount(): number {
    return this.listeners.size;
  }

  // ---- Core-like derivations -------------------------------------------------------------

  private consoleChats(): { chats: ConsoleChat[]; counters: Counters } {
    const me = this.operator;
    const counters: Counters = { ...NO_COUNTERS };
    if (me === null) return { chats: [], counters };
    let waitingSupervised = 0;
    const supervised = new Set(me.liveChats.filter((live) => live.supervisor).map((live) => live.id));
    const accessible = new Set(me.liveChats.map((live) => live.id));
    const chats: ConsoleChat[] = [];
    for (const summary of this.summaries.values()) {
      if (!accessible.has(summary.liveChat)) continue;
      const group = this.groupOf(summary, me.id);
      // Operators only see colleagues' active chats when they supervise the live chat.
      if (group === 'othersActive' && !supervised.has(summary.liveChat)) continue;
      const awaiting = group === 'awaiting';
      const ringing = summary.state === 'pending' && !awaiting && this.availability === 'online';
      const unread = group === 'myChats' ? (this.unread.get(summary.id) ?? 0) : 0;
      const visitorReadUpTo = this.visitorReads.get(summary.id);
      const rating = this.ratings.get(summary.id);
      chats.push({
        summary: clone(summary),
        unread,
        ringing,
        awaiting,
        group,
        ...(visitorReadUpTo === undefined ? {} : { visitorReadUpTo }),
        ...(rating === undefined ? {} : { rating: clone(rating) }),
      });
      if (group === 'unassigned') counters.unassigned += 1;
      if (group === 'myChats') counters.myChats += 1;
      if (group === 'othersActive') counters.othersActive += 1;
      if (group === 'closed') counters.closed += 1;
      if (awaiting) counters.awaiting += 1;
      if (ringing) counters.ringing += 1;
      counters.unread += unread;
      counters.myChatsUnread += unread;
      // Like the core's `console_view`: red adds the chats waiting in supervised live chats.
      if (summary.state === 'pending' && supervised.has(summary.liveChat)) waitingSupervised += 1;
    }
    counters.red = counters.unread + waitingSupervised;
    counters.blue = counters.unassigned;
    chats.sort((left, right) => right.summary.updatedAt - left.summary.updatedAt);
    return { chats, counters };
  }

  private groupOf(summary: ChatSummary, me: number): ChatGroup {
    if (summary.state === 'closed' || summary.state === 'abandoned') return 'closed';
    if (summary.state === 'pending') return this.mutedChats.has(summary.id) ? 'awaiting' : 'unassigned';
    return summary.responsible?.id === me ? 'myChats' : 'othersActive';
  }

  private ringerState(chats: ConsoleChat[]): RingerState {
    // Like the core: a missing or switched-off sound is reported whether or not anything rings.
    if (this.soundDisabled) return { type: 'disabled' };
    if (this.ringerNoDevice !== undefined) return { type: 'noDevice', reason: this.ringerNoDevice };
    if (!chats.some((chat) => chat.ringing)) return { type: 'silent' };
    if (this.ringerMuted) return { type: 'muted' };
    return { type: 'ringing' };
  }

  private emitChats(): void {
    const { chats, counters } = this.consoleChats();
    this.emit({ type: 'chats', chats, counters });
    this.emit({ type: 'ringer', state: this.ringerState(chats), muted: this.ringerMuted });
  }

  private emit(event: ConsoleEvent): void {
    for (const listener of [...this.listeners]) listener(clone(event));
  }

  private requireOperator(): OperatorProfile {
    if (this.operator === null) throw rejection('unauthorized', 'Sign in first.');
    return this.operator;
  }

  private requireSummary(chat: ChatId): ChatSummary {
    const summary = this.summaries.get(chat);
    if (summary === undefined) throw rejection('notFound', 'This chat does not exist.');
    return summary;
  }

  private addChat(
    visitorName: string,
    subject: string,
    state: ChatSummary['state'],
    responsible: OperatorRef | null,
    visitorId?: number,
  ): ChatId {
    const id = this.nextChatId++;
    const at = this.now();
    this.summaries.set(id, {
      id,
      liveChat: ACME.id,
      state,
      channel: 'web',
      visitor: { id: visitorId ?? 100 + id, name: visitorName, email: null, pageUrl: 'https://acme.example/pricing' },
      subject,
      responsible,
      createdAt: at,
      updatedAt: at,
    });
    this.messages.set(id, []);
    return id;
  }

  private post(
    chat: ChatId,
    author: Author,
    visibility: Visibility,
    body: string,
    clientId: string | null,
    attachments: Attachment[] = [],
  ): Message {
    const summary = this.requireSummary(chat);
    const message: Message = {
      id: this.nextMessageId++,
      chat,
      clientId,
      author,
      visibility,
      body,
      sentAt: this.now(),
      attachments,
    };
    this.messages.get(chat)?.push(message);
    summary.updatedAt = message.sentAt;
    if (author.kind === 'visitor') this.unread.set(chat, (this.unread.get(chat) ?? 0) + 1);
    this.emit({ type: 'messagePosted', message: clone(message) });
    return message;
  }

  /**
   * Many chats at once without emitting an event per message (nothing listens yet). The first
   * generated chat is Ann's and holds `messages` messages.
   */
  private seedLoad(chats: number, messages: number): void {
    const ann: OperatorRef = { id: 1, name: 'Ann Operator' };
    const start = this.now() - chats * 1000;
    for (let index = 0; index < chats; index += 1) {
      const mine = index % 2 === 0;
      const id = this.addChat(`Load visitor ${index + 1}`, `Load question ${index + 1}`, mine ? 'active' : 'pending', mine ? ann : null);
      const summary = this.requireSummary(id);
      // The first generated chat is the newest, so it tops its list.
      summary.updatedAt = start + (chats - index) * 1000;
      const count = index === 0 ? messages : 1;
      const timeline = this.messages.get(id) ?? [];
      for (let number = 0; number < count; number += 1) {
        const fromVisitor = number % 3 !== 2;
        timeline.push({
          id: this.nextMessageId++,
          chat: id,
          clientId: null,
          author: fromVisitor ? { kind: 'visitor', name: summary.visitor.name } : { kind: 'operator', id: ann.id, name: ann.name },
          visibility: 'public',
          body: `Message ${number + 1} about order ${index + 1}: see https://acme.example/orders/${index + 1}`,
          sentAt: summary.updatedAt - (count - number) * 10,
          attachments: [],
        });
      }
    }
  }

  private seedDemoChats(): void {
    const ann: OperatorRef = { id: 1, name: 'Ann Operator' };
    const bob: OperatorRef = { id: 2, name: 'Bob Operator' };

    const order = this.addChat('Maria Garcia', 'Where is my order #1234?', 'pending', null);
    this.post(order, { kind: 'visitor', name: 'Maria Garcia' }, 'public', 'Hi! My order #1234 has not arrived yet. Tracking: https://track.example.com/1234', null);

    const refund = this.addChat('Tom Baker', 'Refund for a double charge', 'active', ann);
    this.post(refund, { kind: 'visitor', name: 'Tom Baker' }, 'public', 'I was charged twice for the same invoice.', null);
    this.post(refund, { kind: 'system' }, 'public', 'Ann Operator joined the chat.', null);
    this.post(refund, { kind: 'operator', id: ann.id, name: ann.name }, 'public', 'Sorry about that! Let me check the payments.', null);
    this.post(refund, { kind: 'operator', id: ann.id, name: ann.name }, 'note', 'Both charges visible in the billing tool; refund the second one.', null);
    this.post(refund, { kind: 'visitor', name: 'Tom Baker' }, 'public', 'Thanks, see www.example.com/invoice/77 for the invoice.', null);

    const shipping = this.addChat('Lee Chen', 'Shipping to Canada?', 'active', bob);
    this.post(shipping, { kind: 'visitor', name: 'Lee Chen' }, 'public', 'Do you ship to Canada?', null);

    // Hostile text on purpose: the demo shows it stays inert.
    const hostile = this.addChat('<img src=x onerror=alert(1)>', 'javascript:alert(1)', 'pending', null);
    this.post(hostile, { kind: 'visitor', name: '<img src=x onerror=alert(1)>' }, 'public', 'click javascript:alert(1) or <script>alert(2)</script> \u202Egnp.exe', null);

    const closed = this.addChat('Priya Shah', 'Password reset', 'closed', ann);
    this.post(closed, { kind: 'visitor', name: 'Priya Shah' }, 'public', 'I cannot reset my password.', null);
    this.post(closed, { kind: 'system' }, 'public', 'Ann Operator ended the chat.', null);
    // Tom came back: his earlier chat shows in the customer panel.
    const earlier = this.addChat('Tom Baker', 'Invoice address change', 'closed', ann, this.requireSummary(refund).visitor.id);
    this.post(earlier, { kind: 'visitor', name: 'Tom Baker' }, 'public', 'Please change my invoice address.', null);
    this.requireSummary(earlier).createdAt = this.now() - 86_400_000 * 30;
    this.unread.clear();
    this.unread.set(refund, 1);
  }
}
