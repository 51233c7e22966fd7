// An in-memory stand-in for the Rust core, used by the tests and by the web demo build
// (`vite --mode fake` or `?fake`). It keeps the demo organisation of the server's `--demo` seed and
// derives groups, counters and ringing the way the core does, then emits the same `CoreEvent`s, so
// the console cannot tell it from the real thing. The `simulate*` methods play the other side
// (visitors, colleagues, the network).

import type { Backend } from './backend';
import type {
  ChatGroup,
  ConnectionState,
  ConsoleChat,
  CoreEvent,
  CoreState,
  Counters,
  KeychainState,
  RingerState,
} from './core';
import type {
  ApiError,
  Author,
  Availability,
  ChatId,
  ChatSummary,
  LiveChatSummary,
  Message,
  OperatorProfile,
  OperatorRef,
  Visibility,
} from './protocol';
import { MAX_MESSAGE_CHARS } from './protocol';

export const DEMO_PASSWORD = 'switchboard';

const ACME: LiveChatSummary = { id: 1, name: 'Acme website', supervisor: false };

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
  keychain?: KeychainState;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function rejection(code: ApiError['code'], message: string): ApiError {
  return { code, message };
}

export class FakeBackend implements Backend {
  private readonly listeners = new Set<(event: CoreEvent) => void>();
  private readonly now: () => number;
  private operator: OperatorProfile | null = null;
  private connection: ConnectionState = { type: 'signedOut' };
  private keychain: KeychainState;
  private availability: Availability = 'online';
  private ringerMuted = false;
  private readonly ringerNoDevice: string | undefined;
  private readonly summaries = new Map<ChatId, ChatSummary>();
  private readonly messages = new Map<ChatId, Message[]>();
  private readonly mutedChats = new Set<ChatId>();
  private readonly unread = new Map<ChatId, number>();
  private nextChatId = 1;
  private nextMessageId = 1;
  private nextClientId = 1;
  /** Every call the console made, in order, so tests can assert on effects. */
  readonly calls: string[] = [];

  constructor(options: FakeBackendOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.keychain = options.keychain ?? { type: 'available' };
    this.ringerNoDevice = options.ringerNoDevice;
    if (options.seedDemoChats ?? true) this.seedDemoChats();
    if (options.signedInAs !== undefined) {
      const account = DEMO_ACCOUNTS.find((candidate) => candidate.profile.email === options.signedInAs);
      if (account === undefined) throw new Error(`no demo account ${options.signedInAs}`);
      this.operator = clone(account.profile);
      this.connection = { type: 'connected' };
    }
  }

  // ---- Backend ----------------------------------------------------------------------------

  async coreState(): Promise<CoreState> {
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

  async sendMessage(chat: ChatId, body: string, visibility: Visibility): Promise<Message> {
    this.calls.push(`sendMessage ${chat} ${visibility}`);
    const me = this.requireOperator();
    const summary = this.requireSummary(chat);
    if (body.trim() === '') throw rejection('badRequest', 'A message needs some text.');
    if ([...body].length > MAX_MESSAGE_CHARS) {
      throw rejection('tooLarge', `Messages are limited to ${MAX_MESSAGE_CHARS} characters.`);
    }
    if (visibility === 'public' && summary.responsible?.id !== me.id) {
      throw rejection('forbidden', 'Accept the chat before replying to the visitor.');
    }
    if (summary.state === 'closed' || summary.state === 'abandoned') {
      throw rejection('conflict', 'This chat has ended.');
    }
    const clientId = `fake-${this.nextClientId++}`;
    const message = this.post(chat, { kind: 'operator', id: me.id, name: me.name }, visibility, body, clientId);
    return clone(message);
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

  async setRingerMuted(muted: boolean): Promise<void> {
    this.calls.push(`setRingerMuted ${muted}`);
    this.ringerMuted = muted;
    this.emitChats();
  }

  async onEvent(listener: (event: CoreEvent) => void): Promise<() => void> {
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
    const counters: Counters = { unread: 0, unassigned: 0, ringing: 0, myChats: 0, awaiting: 0 };
    if (me === null) return { chats: [], counters };
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
      chats.push({ summary: clone(summary), unread, ringing, awaiting, group });
      if (group === 'unassigned') counters.unassigned += 1;
      if (group === 'myChats') counters.myChats += 1;
      if (awaiting) counters.awaiting += 1;
      if (ringing) counters.ringing += 1;
      counters.unread += unread;
    }
    chats.sort((left, right) => right.summary.updatedAt - left.summary.updatedAt);
    return { chats, counters };
  }

  private groupOf(summary: ChatSummary, me: number): ChatGroup {
    if (summary.state === 'closed' || summary.state === 'abandoned') return 'closed';
    if (summary.state === 'pending') return this.mutedChats.has(summary.id) ? 'awaiting' : 'unassigned';
    return summary.responsible?.id === me ? 'myChats' : 'othersActive';
  }

  private ringerState(chats: ConsoleChat[]): RingerState {
    if (!chats.some((chat) => chat.ringing)) return { type: 'silent' };
    if (this.ringerMuted) return { type: 'muted' };
    if (this.ringerNoDevice !== undefined) return { type: 'noDevice', reason: this.ringerNoDevice };
    return { type: 'ringing' };
  }

  private emitChats(): void {
    const { chats, counters } = this.consoleChats();
    this.emit({ type: 'chats', chats, counters });
    this.emit({ type: 'ringer', state: this.ringerState(chats), muted: this.ringerMuted });
  }

  private emit(event: CoreEvent): void {
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
  ): ChatId {
    const id = this.nextChatId++;
    const at = this.now();
    this.summaries.set(id, {
      id,
      liveChat: ACME.id,
      state,
      channel: 'web',
      visitor: { id: 100 + id, name: visitorName, email: null, pageUrl: 'https://acme.example/pricing' },
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
    };
    this.messages.get(chat)?.push(message);
    summary.updatedAt = message.sentAt;
    if (author.kind === 'visitor') this.unread.set(chat, (this.unread.get(chat) ?? 0) + 1);
    this.emit({ type: 'messagePosted', message: clone(message) });
    return message;
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
    this.unread.clear();
    this.unread.set(refund, 1);
  }
}
