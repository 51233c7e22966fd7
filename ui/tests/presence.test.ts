// Typing indicators, read state ("Seen"), "(edited)" and the "message deleted" placeholder.

import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { PresenceStore, TYPING_IDLE_MS, TypingSender, seenMessage, type Timers } from '../src/chats/presence.svelte';
import { TYPING_EXPIRY_MS, TYPING_REFRESH_MS, type Message } from '../src/lib/protocol';
import { renderConsole } from './render-console';

/** Timers that run only when the test moves the clock. */
class ManualTimers implements Timers {
  now = 0;
  private pending: { at: number; callback: () => void; id: number }[] = [];
  private next = 1;
  set = (callback: () => void, delay: number): unknown => {
    const id = this.next++;
    this.pending.push({ at: this.now + delay, callback, id });
    return id;
  };
  clear = (handle: unknown): void => {
    this.pending = this.pending.filter((timer) => timer.id !== handle);
  };
  advance(ms: number): void {
    this.now += ms;
    const due = this.pending.filter((timer) => timer.at <= this.now);
    this.pending = this.pending.filter((timer) => timer.at > this.now);
    for (const timer of due) timer.callback();
  }
}

function message(id: number, kind: 'visitor' | 'operator', visibility: 'public' | 'note' = 'public') {
  return { id, author: { kind }, visibility };
}

describe('presence store', () => {
  it('shows visitor typing until it expires, stops, or their message arrives', () => {
    const timers = new ManualTimers();
    const presence = new PresenceStore(timers);
    presence.visitorTyping(7, true);
    expect(presence.typing.has(7)).toBe(true);
    timers.advance(TYPING_EXPIRY_MS - 1);
    presence.visitorTyping(7, true);
    timers.advance(TYPING_EXPIRY_MS - 1);
    expect(presence.typing.has(7), 'a refresh keeps it').toBe(true);
    timers.advance(1);
    expect(presence.typing.has(7), 'without a refresh it expires').toBe(false);

    presence.visitorTyping(7, true);
    presence.visitorMessage(7);
    expect(presence.typing.has(7)).toBe(false);
    presence.visitorTyping(7, true);
    presence.visitorTyping(7, false);
    expect(presence.typing.size).toBe(0);
  });

  it('keeps the furthest read mark per chat', () => {
    const presence = new PresenceStore(new ManualTimers());
    presence.markVisitorRead(7, 10);
    presence.markVisitorRead(7, 4);
    expect(presence.visitorRead[7]).toBe(10);
  });

  it('puts Seen under the newest public staff reply the visitor has read', () => {
    const timeline = [message(1, 'visitor'), message(2, 'operator'), message(3, 'operator', 'note'), message(4, 'operator')];
    expect(seenMessage(timeline, undefined)).toBeNull();
    expect(seenMessage(timeline, 3)).toBe(2);
    expect(seenMessage(timeline, 4)).toBe(4);
    expect(seenMessage(timeline, 1)).toBeNull();
  });
});

describe('typing sender', () => {
  it('sends public typing at most once per refresh period and stops after a pause', async () => {
    const timers = new ManualTimers();
    const sent: string[] = [];
    const sender = new TypingSender(
      async (chat, typing, visibility) => {
        sent.push(`${chat} ${typing} ${visibility}`);
      },
      () => timers.now,
      timers,
    );
    sender.typed(7, 'public', 'H');
    sender.typed(7, 'public', 'He');
    expect(sent).toEqual(['7 true public']);
    timers.advance(TYPING_REFRESH_MS);
    sender.typed(7, 'public', 'Hel');
    expect(sent).toEqual(['7 true public', '7 true public']);
    timers.advance(TYPING_IDLE_MS);
    expect(sent.at(-1)).toBe('7 false public');
    sender.stop(7);
    expect(sent).toHaveLength(3);
  });

  it('never announces a note being written, and stops a reply turned into a note', () => {
    const timers = new ManualTimers();
    const sent: string[] = [];
    const sender = new TypingSender(
      async (chat, typing) => {
        sent.push(`${chat} ${typing}`);
      },
      () => timers.now,
      timers,
    );
    sender.typed(7, 'note', 'psst');
    expect(sent).toEqual([]);
    sender.typed(7, 'public', 'Hi');
    sender.typed(7, 'note', 'Hi');
    expect(sent).toEqual(['7 true', '7 false']);
  });
});

describe('chat view presence', () => {
  async function openChat() {
    const rendered = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const { fake } = rendered;
    const chat = fake.simulateNewChat('Vera', 'Order', 'Where is my parcel?');
    await fake.acceptChat(chat);
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('group-my-chats'));
    await user.click(await screen.findByTestId(`chat-row-${chat}`));
    await screen.findByText('Where is my parcel?');
    return { ...rendered, chat, user };
  }

  it('shows "Vera is typing…" and clears it when her message arrives', async () => {
    const { fake, chat } = await openChat();
    const indicator = screen.getByTestId('visitor-typing');
    expect(indicator).toHaveTextContent('');
    fake.simulateVisitorTyping(chat, true);
    await waitFor(() => expect(indicator).toHaveTextContent('Vera is typing…'));
    fake.simulateVisitorMessage(chat, 'Any news?');
    await waitFor(() => expect(indicator).toHaveTextContent(''));
  });

  it('sends typing for a reply but not for a note', async () => {
    const { fake, chat, user } = await openChat();
    const input = screen.getByTestId('composer-input');
    await user.type(input, 'On it');
    expect(fake.calls.filter((call) => call.startsWith(`setTyping ${chat} true`))).toEqual([`setTyping ${chat} true public`]);
    await user.keyboard('{Enter}');
    await waitFor(() => expect(fake.calls).toContain(`setTyping ${chat} false public`));
  });

  it('marks the reply the visitor has seen', async () => {
    const { fake, chat } = await openChat();
    const reply = await fake.sendMessage(chat, 'It ships Monday', 'public');
    await screen.findByText('It ships Monday');
    expect(screen.queryByTestId('read-receipt')).toBeNull();
    fake.simulateVisitorRead(chat, reply.id);
    const receipt = await screen.findByTestId('read-receipt');
    expect(receipt).toHaveTextContent('Seen');
    // It follows the reply it belongs to.
    const replyItem = screen.getByText('It ships Monday').closest('li');
    expect(replyItem?.nextElementSibling).toBe(receipt);
  });

  it('b16 marks an edited message and keeps a deleted one as a placeholder', async () => {
    const { fake, chat, user, state } = await openChat();
    const sent: Message = await fake.sendMessage(chat, 'It ships Monday', 'public');
    await screen.findByText('It ships Monday');
    const item = () => screen.getByTestId('chat-view').querySelector(`[data-message-id="${sent.id}"]`) as HTMLElement;
    await user.click(within(item()).getByTestId('edit-message'));
    const input = screen.getByTestId<HTMLTextAreaElement>('edit-message-input');
    await user.clear(input);
    await user.type(input, 'It ships Tuesday');
    await user.click(screen.getByTestId('save-message'));
    await waitFor(() => expect(within(item()).getByTestId('message-edited')).toHaveTextContent('(edited)'));

    await user.click(within(item()).getByTestId('delete-message'));
    await waitFor(() => expect(within(item()).getByTestId('message-deleted')).toHaveTextContent('Message deleted'));
    expect(item().dataset['deleted']).toBe('true');
    expect(within(item()).queryByText('It ships Tuesday')).toBeNull();
    expect(within(item()).queryByTestId('edit-message')).toBeNull();
    expect(state.chats.deleted.has(sent.id)).toBe(true);
  });
});
