// Collaboration (issue 7): invitations and transfers waiting for this operator (B22, B23), what
// this operator sent and what became of it, reply locks (B15) and unsubscriptions (B13). The core
// keeps the state (so it survives a restart) and sends it whole on every change; this store only
// mirrors it and runs the actions.

import { toApiError, type Backend } from '../lib/backend';
import type { Collaboration, ReplyLock, SentInvitation } from '../lib/core';
import { messages } from '../lib/i18n';
import type { ChatId, ChatSummary, Colleague, Invitation, OperatorId, OperatorRef, Team } from '../lib/protocol';

const EMPTY: Collaboration = { invitations: [], sent: [], replyLocks: [], unsubscribed: [], colleagues: [], ended: [] };

export class CollaborationStore {
  state = $state.raw<Collaboration>(EMPTY);
  /** Colleagues to pick from (the other staff of this operator's live chats). */
  colleagues = $state.raw<OperatorRef[]>([]);
  /** Teams to transfer to (B22). */
  teams = $state.raw<Team[]>([]);
  busy = $state(false);
  error = $state<string | null>(null);

  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /**
   * Counts states pushed by the core, so a `load()` answered after a newer push (sign-in asks
   * while the snapshot's events already arrive) does not put the older state back.
   */
  private pushes = 0;

  replace(collaboration: Collaboration): void {
    this.pushes += 1;
    this.state = collaboration;
  }

  reset(): void {
    this.pushes += 1;
    this.state = EMPTY;
    this.colleagues = [];
    this.teams = [];
    this.error = null;
  }

  /** Reads what the core remembered; a failure leaves the empty state (nothing is pending). */
  async load(): Promise<void> {
    const pushes = this.pushes;
    let loaded: Collaboration;
    try {
      loaded = await this.backend.collaboration();
    } catch {
      loaded = EMPTY;
    }
    if (this.pushes === pushes) this.state = loaded;
  }

  async loadColleagues(): Promise<void> {
    try {
      const [colleagues, teams] = await Promise.all([this.backend.colleagues(), this.backend.teams()]);
      this.colleagues = colleagues;
      this.teams = teams;
    } catch (failure) {
      this.error = toApiError(failure, messages.collaboration.failed).message;
    }
  }

  get invitations(): Invitation[] {
    return this.state.invitations;
  }

  /**
   * A colleague's availability and routing switch, as the server last told (B22, B23); `null`
   * when not known yet (then the picker does not hold them back).
   */
  presenceOf(operator: OperatorId): Colleague | null {
    return this.state.colleagues.find((colleague) => colleague.id === operator) ?? null;
  }

  /** How many of a team's members (other than me) are online; `null` when nobody's is known. */
  onlineIn(team: Team): number | null {
    if (this.state.colleagues.length === 0) return null;
    return team.members.filter((member) => this.presenceOf(member)?.availability === 'online').length;
  }

  sentFor(chat: ChatId): SentInvitation | null {
    return this.state.sent.find((sent) => sent.chat === chat) ?? null;
  }

  lockFor(chat: ChatId): ReplyLock | null {
    return this.state.replyLocks.find((lock) => lock.chat === chat) ?? null;
  }

  unsubscribed(): ReadonlySet<ChatId> {
    return new Set(this.state.unsubscribed);
  }

  /** Runs one action; says whether it worked, leaving the server's reason in `error` if not. */
  private async run<T>(action: () => Promise<T>): Promise<T | null> {
    this.busy = true;
    this.error = null;
    try {
      return await action();
    } catch (failure) {
      this.error = toApiError(failure, messages.collaboration.failed).message;
      return null;
    } finally {
      this.busy = false;
    }
  }

  invite(chat: ChatId, operator: OperatorId): Promise<true | null> {
    return this.run(async () => {
      await this.backend.inviteOperator(chat, operator);
      return true as const;
    });
  }

  transfer(chat: ChatId, operator: OperatorId, note: string): Promise<true | null> {
    return this.run(async () => {
      await this.backend.transferChat(chat, operator, note);
      return true as const;
    });
  }

  transferToTeam(chat: ChatId, team: Team, note: string): Promise<true | null> {
    return this.run(async () => {
      await this.backend.transferToTeam(chat, team, note);
      return true as const;
    });
  }

  reassign(chat: ChatId, operator: OperatorId): Promise<ChatSummary | null> {
    return this.run(() => this.backend.reassignChat(chat, operator));
  }

  answer(chat: ChatId, accept: boolean): Promise<ChatSummary | null> {
    return this.run(() => this.backend.answerInvitation(chat, accept));
  }

  setLocked(chat: ChatId, locked: boolean): Promise<true | null> {
    return this.run(async () => {
      await this.backend.lockReplies(chat, locked);
      return true as const;
    });
  }

  leave(chat: ChatId): Promise<ChatSummary | null> {
    return this.run(() => this.backend.leaveChat(chat));
  }

  dismiss(chat: ChatId): Promise<true | null> {
    return this.run(async () => {
      await this.backend.dismissSent(chat);
      return true as const;
    });
  }
}
