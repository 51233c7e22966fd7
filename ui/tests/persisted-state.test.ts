// What the console shows from the core's cache alone, after a restart: "(edited)" comes from the
// message's own `editedAt` and "Seen" from the chat's `visitorReadUpTo`, not from events this
// console happened to watch. A restart is a fresh ConsoleState over the same backend, the way a
// restarted app opens over the same core cache.

import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { ConsoleState } from '../src/console.svelte';
import { readUpTo } from '../src/chats/presence.svelte';
import { FakeBackend } from '../src/lib/fake-backend';
import { FIXED_NOW, memoryStorage } from './render-console';

async function startConsole(fake: FakeBackend) {
  const state = new ConsoleState(fake, memoryStorage());
  render(App, { props: { state } });
  await state.start();
  return state;
}

async function openMyChat(chat: number) {
  const user = userEvent.setup();
  await user.click(await screen.findByTestId('group-my-chats'));
  await user.click(await screen.findByTestId(`chat-row-${chat}`));
  await screen.findByTestId('composer-input');
}

describe('state kept across a console restart', () => {
  it('b16 edited_mark_survives_a_restart_from_the_message_itself', async () => {
    const fake = new FakeBackend({ now: () => FIXED_NOW, seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'Where is my parcel?');
    await fake.acceptChat(chat);
    const reply = await fake.sendMessage(chat, 'It ships Monday', 'public');
    await fake.editMessage(reply.id, 'It ships Tuesday');

    // Edited before this console existed: only the message can say so.
    const state = await startConsole(fake);
    await openMyChat(chat);
    const item = () => screen.getByTestId('chat-view').querySelector(`[data-message-id="${reply.id}"]`) as HTMLElement;
    await waitFor(() => expect(item()).toHaveTextContent('It ships Tuesday'));
    expect(state.chats.edited.size, 'no edit event was watched').toBe(0);
    const mark = item().querySelector('[data-testid="message-edited"]');
    expect(mark).toHaveTextContent('(edited)');
    expect(mark).toHaveAttribute('title');
    // The visitor's unedited message has no mark.
    expect(screen.getAllByTestId('message-edited')).toHaveLength(1);
  });

  it('read_state_seen_survives_a_restart_from_the_chat_state', async () => {
    const fake = new FakeBackend({ now: () => FIXED_NOW, seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'Where is my parcel?');
    await fake.acceptChat(chat);
    const reply = await fake.sendMessage(chat, 'It ships Monday', 'public');
    await startConsole(fake);
    fake.simulateVisitorRead(chat, reply.id);
    cleanup();

    const restarted = await startConsole(fake);
    expect(restarted.chats.presence.visitorRead[chat], 'no read event reached this console').toBeUndefined();
    expect(restarted.chats.find(chat)?.visitorReadUpTo).toBe(reply.id);
    await openMyChat(chat);
    const receipt = await screen.findByTestId('read-receipt');
    expect(receipt).toHaveTextContent('Seen');
    expect(screen.getByText('It ships Monday').closest('li')?.nextElementSibling).toBe(receipt);
  });

  it('takes the newer of the live and the cached read position', () => {
    expect(readUpTo(undefined, undefined)).toBeUndefined();
    expect(readUpTo(undefined, 4)).toBe(4);
    expect(readUpTo(7, undefined)).toBe(7);
    expect(readUpTo(7, 4)).toBe(7);
    expect(readUpTo(3, 4)).toBe(4);
  });
});
