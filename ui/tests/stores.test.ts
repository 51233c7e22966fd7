import { describe, expect, it } from 'vitest';
import { chatsInGroup, menuGroups, newlyRinging } from '../src/chats/grouping';
import { mergeMessage } from '../src/chats/timeline';
import { connectionBanner } from '../src/connection/banner';
import { ConsoleState } from '../src/console.svelte';
import type { ConsoleChat, CoreEvent } from '../src/lib/core';
import { FakeBackend } from '../src/lib/fake-backend';
import { formatPreciseTime } from '../src/lib/i18n';
import type { Message } from '../src/lib/protocol';

const NOW = Date.UTC(2026, 10, 22, 9, 30, 0);

async function started(options: ConstructorParameters<typeof FakeBackend>[0] = {}) {
  const fake = new FakeBackend({ now: () => NOW, seedDemoChats: false, ...options });
  const state = new ConsoleState(fake);
  await state.start();
  return { fake, state };
}

function ids(chats: readonly ConsoleChat[]): number[] {
  return chats.map((chat) => chat.summary.id);
}

describe('grouping and counters from core events', () => {
  it('b40 groups_follow_the_core_as_chats_are_accepted_muted_and_ended', async () => {
    const { fake, state } = await started({ signedInAs: 'ann@example.com' });
    const first = fake.simulateNewChat('Maria', 'Order', 'Hello');
    const second = fake.simulateNewChat('Tom', 'Refund');
    expect(ids(chatsInGroup(state.chats.chats, 'unassigned', null)).sort()).toEqual([first, second]);
    expect(state.chats.counters).toMatchObject({ unassigned: 2, ringing: 2, myChats: 0, awaiting: 0 });

    await state.chats.mute(second);
    expect(ids(chatsInGroup(state.chats.chats, 'awaiting', null))).toEqual([second]);
    expect(state.chats.counters).toMatchObject({ unassigned: 1, ringing: 1, awaiting: 1 });

    await state.chats.accept(first);
    expect(ids(chatsInGroup(state.chats.chats, 'myChats', null))).toEqual([first]);
    expect(state.chats.counters).toMatchObject({ unassigned: 0, ringing: 0, myChats: 1 });
    expect(state.chats.selectedGroup).toBe('myChats');

    await state.chats.end(first);
    expect(ids(chatsInGroup(state.chats.chats, 'closed', null))).toEqual([first]);
    expect(state.chats.counters.myChats).toBe(0);
  });

  it('b41 unread_counter_counts_visitor_messages_in_my_chats_until_opened', async () => {
    const { fake, state } = await started({ signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    await state.chats.accept(chat);
    fake.simulateVisitorMessage(chat, 'one');
    fake.simulateVisitorMessage(chat, 'two');
    expect(state.chats.counters.unread).toBe(2);
    expect(state.chats.find(chat)?.unread).toBe(2);

    await state.chats.open(chat);
    expect(state.chats.counters.unread, 'opening a chat marks it read').toBe(0);
    expect(state.chats.selectedTimeline?.messages.map((message) => message.body)).toContain('two');
  });

  it('b40 supervisors_get_all_active_and_operators_do_not', () => {
    const counts = { unassigned: 2, myChats: 1, awaiting: 4, othersActive: 5, closed: 6, myChatsUnread: 3 };
    const operatorGroups = menuGroups(counts, false).map((entry) => entry.group);
    expect(operatorGroups).toEqual(['unassigned', 'myChats', 'awaiting', 'closed']);
    const supervisorGroups = menuGroups(counts, true);
    expect(supervisorGroups.map((entry) => entry.group)).toContain('othersActive');
    const myChats = supervisorGroups.find((entry) => entry.group === 'myChats');
    expect(myChats?.count, 'My Chats counts its chats').toMatchObject({ value: 1, testId: 'counter-my-chats' });
    expect(myChats?.unread, 'its unread messages are a separate red badge').toMatchObject({ value: 3, testId: 'unread-my-chats' });
    const unassigned = supervisorGroups.find((entry) => entry.group === 'unassigned');
    expect(unassigned?.count).toMatchObject({ value: 2, tone: 'blue', testId: 'counter-unassigned' });
    expect(unassigned?.unread).toBeNull();
    expect(supervisorGroups.find((entry) => entry.group === 'othersActive')?.count.value).toBe(5);
    expect(supervisorGroups.find((entry) => entry.group === 'closed')?.count.value).toBe(6);
  });

  it('b40 sue_sees_colleagues_active_chats_under_all_active', async () => {
    const { fake, state } = await started({ signedInAs: 'sue@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    fake.simulateAcceptedBy(chat, { id: 1, name: 'Ann Operator' });
    expect(state.session.isSupervisor).toBe(true);
    expect(ids(chatsInGroup(state.chats.chats, 'othersActive', null))).toEqual([chat]);
  });

  it('lists ringing chats first, then the most recent', () => {
    const chat = (id: number, ringing: boolean, updatedAt: number): ConsoleChat => ({
      summary: {
        id,
        liveChat: 1,
        state: 'pending',
        channel: 'web',
        visitor: { id, name: `v${id}`, email: null, pageUrl: null },
        subject: '',
        responsible: null,
        createdAt: 0,
        updatedAt,
      },
      unread: 0,
      ringing,
      awaiting: false,
      group: 'unassigned',
    });
    const list = [chat(1, false, 30), chat(2, true, 10), chat(3, false, 20), chat(4, true, 40)];
    expect(ids(chatsInGroup(list, 'unassigned', null))).toEqual([4, 2, 1, 3]);
    expect(ids(chatsInGroup(list, 'unassigned', 2)), 'live chat filter').toEqual([]);
    expect(ids(newlyRinging([list[1]!], list))).toEqual([4]);
  });
});

describe('event handling', () => {
  it('b01 ringing_stops_in_the_console_when_a_colleague_accepts', async () => {
    const { fake, state } = await started({ signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    expect(state.ringer.state.type).toBe('ringing');
    expect(state.announcer.text).toContain('New chat request from Maria');
    fake.simulateAcceptedBy(chat, { id: 2, name: 'Bob Operator' });
    expect(state.ringer.state.type).toBe('silent');
    expect(state.chats.counters.ringing).toBe(0);
    await expect(state.chats.accept(chat)).resolves.toBe(false);
    expect(state.chats.actionError).toBe('This chat was taken by Bob Operator.');
  });

  it('applies events that arrive while the snapshot is loading after the snapshot', async () => {
    const fake = new FakeBackend({ now: () => NOW, seedDemoChats: false, signedInAs: 'ann@example.com' });
    const originalCoreState = fake.coreState.bind(fake);
    let chat = 0;
    // The core answers with a snapshot taken before a chat arrives, and the event comes first.
    fake.coreState = async () => {
      const snapshot = await originalCoreState();
      chat = fake.simulateNewChat('Late', 'Race');
      return snapshot;
    };
    const state = new ConsoleState(fake);
    await state.start();
    expect(state.chats.find(chat), 'the chat from the in-flight event survives the snapshot').not.toBeNull();
  });

  it('clears chats on sign-out and tracks the keychain and ringer events', async () => {
    const { fake, state } = await started({ signedInAs: 'ann@example.com' });
    fake.simulateNewChat('Maria', 'Order');
    fake.setKeychain({ type: 'unavailable', reason: 'no secret service' });
    expect(state.session.keychain).toEqual({ type: 'unavailable', reason: 'no secret service' });
    await state.ringer.setMuted(true);
    expect(state.ringer.state.type).toBe('muted');
    await state.session.signOut();
    expect(state.session.operator).toBeNull();
    expect(state.chats.chats).toEqual([]);
  });

  it('reports a wrong password with the core message', async () => {
    const { state } = await started();
    await state.session.signIn('ann@example.com', 'nope');
    expect(state.session.operator).toBeNull();
    expect(state.session.error).toBe('Wrong email or password.');
    await state.session.signIn('ann@example.com', 'switchboard');
    expect(state.session.operator?.name).toBe('Ann Operator');
    expect(state.session.error).toBeNull();
  });

  it('stops listening when stopped', async () => {
    const { fake, state } = await started();
    expect(fake.listenerCount()).toBe(1);
    state.stop();
    expect(fake.listenerCount()).toBe(0);
  });

  it('keeps availability from core events', async () => {
    const { state } = await started({ signedInAs: 'ann@example.com' });
    await state.availability.set('away');
    expect(state.availability.current).toBe('away');
    const event: CoreEvent = { type: 'availability', availability: 'offline' };
    state.apply(event);
    expect(state.availability.current).toBe('offline');
  });
});

describe('connection banner', () => {
  it('d02 says_nothing_when_connected_and_explains_every_other_state', () => {
    expect(connectionBanner({ type: 'connected' })).toBeNull();
    expect(connectionBanner({ type: 'signedOut' })).toBeNull();
    expect(connectionBanner({ type: 'connecting' })?.text).toBe('Connecting to the server…');
    expect(connectionBanner({ type: 'offline' })?.text).toMatch(/^You're offline\./);
    const at = Date.UTC(2026, 10, 22, 9, 31, 5);
    expect(connectionBanner({ type: 'reconnecting', at })).toEqual({
      tone: 'warning',
      text: `Connection lost. Reconnecting at ${formatPreciseTime(at)}…`,
      progress: null,
    });
    expect(connectionBanner({ type: 'upgradeRequired' })).toEqual({
      tone: 'error',
      text: 'This version of Switchboard is too old for the server. Update the app.',
      progress: null,
    });
  });

  it('follows connection events', async () => {
    const { fake, state } = await started({ signedInAs: 'ann@example.com' });
    expect(state.connection.banner).toBeNull();
    fake.setConnection({ type: 'offline' });
    expect(state.connection.banner?.tone).toBe('warning');
    fake.setConnection({ type: 'upgradeRequired' });
    expect(state.connection.banner?.text).toContain('Update the app');
  });
});

describe('timeline', () => {
  const message = (id: number, clientId: string | null, sentAt: number, body = 'x'): Message => ({
    id,
    chat: 1,
    clientId,
    author: { kind: 'system' },
    visibility: 'public',
    body,
    sentAt,
    attachments: [],
  });

  it('replaces a local echo by the delivered message with the same client id', () => {
    const echoed = mergeMessage([message(1, null, 1)], message(-1, 'c1', 5, 'echo'));
    const delivered = mergeMessage(echoed, message(7, 'c1', 6, 'final'));
    expect(delivered.map((entry) => entry.body)).toEqual(['x', 'final']);
  });

  it('ignores a duplicate and keeps time order', () => {
    const timeline = mergeMessage(mergeMessage([message(2, null, 20)], message(1, null, 10)), message(2, null, 20));
    expect(timeline.map((entry) => entry.id)).toEqual([1, 2]);
  });
});
