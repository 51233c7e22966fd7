import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { badgeCounts } from '../src/chats/badges';
import { NO_COUNTERS } from '../src/lib/counters';
import { groupCounts } from '../src/chats/grouping';
import type { ConsoleChat } from '../src/lib/core';
import { highlightSegments, segmentText } from '../src/lib/text';
import { virtualWindow } from '../src/lib/virtual-window';
import { isSendKey, SettingsStore, type SendKey } from '../src/settings/settings.svelte';
import { memoryStorage, renderConsole } from './render-console';

function key(overrides: Partial<SendKey>): SendKey {
  return { key: 'Enter', shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, isComposing: false, ...overrides };
}

async function openChat(id: number) {
  const user = userEvent.setup();
  await user.click(await screen.findByTestId(`chat-row-${id}`));
  await screen.findByTestId('composer-input');
  return user;
}

describe('send shortcut setting (B17)', () => {
  it('b17 send_key_decision_for_both_settings', () => {
    expect(isSendKey(key({}), 'enter')).toBe(true);
    expect(isSendKey(key({ shiftKey: true }), 'enter')).toBe(false);
    expect(isSendKey(key({ isComposing: true }), 'enter')).toBe(false);
    expect(isSendKey(key({ ctrlKey: true }), 'enter')).toBe(false);
    expect(isSendKey(key({ key: 'a' }), 'enter')).toBe(false);

    expect(isSendKey(key({}), 'modEnter')).toBe(false);
    expect(isSendKey(key({ ctrlKey: true }), 'modEnter')).toBe(true);
    expect(isSendKey(key({ metaKey: true }), 'modEnter')).toBe(true);
    expect(isSendKey(key({ metaKey: true, shiftKey: true }), 'modEnter')).toBe(false);
    expect(isSendKey(key({ ctrlKey: true, isComposing: true }), 'modEnter')).toBe(false);
  });

  it('b17 setting_persists_and_ignores_garbage', () => {
    const storage = memoryStorage();
    const first = new SettingsStore(storage);
    expect(first.sendShortcut).toBe('enter');
    first.setSendShortcut('modEnter');
    expect(new SettingsStore(storage).sendShortcut).toBe('modEnter');

    storage.setItem('switchboard.settings.v1', '{not json');
    expect(new SettingsStore(storage).sendShortcut).toBe('enter');
    storage.setItem('switchboard.settings.v1', '{"sendShortcut":"<script>"}');
    expect(new SettingsStore(storage).sendShortcut).toBe('enter');
    expect(new SettingsStore(null).sendShortcut).toBe('enter');
  });

  it('b17 ctrl_enter_setting_makes_enter_a_newline_and_ctrl_enter_send', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    const user = await openChat(chat);
    await user.click(screen.getByTestId('accept-button'));
    await waitFor(() => expect(screen.getByTestId('composer-mode')).toHaveTextContent('Reply'));

    await user.selectOptions(screen.getByTestId('send-shortcut-select'), 'modEnter');
    expect(screen.getByTestId('composer-hint')).toHaveTextContent('+Enter sends, Enter starts a new line.');
    const input = screen.getByTestId<HTMLTextAreaElement>('composer-input');
    await user.type(input, 'line one{Enter}line two');
    expect(input.value).toBe('line one\nline two');
    expect(fake.calls.filter((call) => call.startsWith('sendMessage'))).toEqual([]);

    await user.keyboard('{Control>}{Enter}{/Control}');
    await waitFor(() => expect(fake.calls).toContain(`sendMessage ${chat} public`));
    await waitFor(() => expect(input.value).toBe(''));
    const sent = screen.getAllByTestId('message').at(-1);
    expect(sent?.querySelector('.message-body')?.textContent).toBe('line one\nline two');
  });

  it('b17 autolinks_only_http_and_www_and_keeps_hostile_text_inert', () => {
    const hostile = [
      '<img src=x onerror=alert(1)>',
      'JaVaScRiPt:alert(1)',
      'javascript://www.example.com/%0Aalert(1)',
      'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
      'vbscript:msgbox(1)',
    ];
    for (const body of hostile) {
      const links = segmentText(body).filter((segment) => segment.kind === 'link');
      for (const link of links) expect(link.kind === 'link' && /^https?:\/\//.test(link.href)).toBe(true);
      expect(segmentText(body).map((segment) => segment.text).join('')).toBe(body);
    }
    // A quote cannot break out of the href, and markup after a URL stays text.
    const breakout = segmentText('https://evil.example/"onmouseover="alert(1)<img src=x>');
    expect(breakout[0]).toEqual({ kind: 'link', text: 'https://evil.example/', href: 'https://evil.example/' });
    expect(breakout.slice(1).map((segment) => segment.kind)).toEqual(['text']);

    // An RTL override inside a URL is removed before linking, so the shown text is the real one.
    const rtl = segmentText('see https://example.com/\u202Egnp.exe now');
    const link = rtl.find((segment) => segment.kind === 'link');
    expect(link?.text).toBe('https://example.com/gnp.exe');
    expect(rtl.map((segment) => segment.text).join('')).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);

    // Arabic text around a link keeps its characters; only the URL becomes a link.
    const arabic = segmentText('مرحبا www.example.com شكرا');
    expect(arabic.map((segment) => segment.kind)).toEqual(['text', 'link', 'text']);
    expect(arabic[1]).toMatchObject({ href: 'https://www.example.com/' });
  });
});

function consoleChat(id: number, liveChat: number, state: ConsoleChat['summary']['state'], group: ConsoleChat['group'], unread = 0): ConsoleChat {
  return {
    summary: {
      id,
      liveChat,
      state,
      channel: 'web',
      visitor: { id, name: `V${id}`, email: null, pageUrl: null },
      subject: 's',
      responsible: null,
      createdAt: 0,
      updatedAt: 0,
    },
    unread,
    ringing: false,
    awaiting: group === 'awaiting',
    group,
  };
}

describe('counters (B41)', () => {
  const chats = [
    consoleChat(1, 1, 'pending', 'unassigned'),
    consoleChat(2, 2, 'pending', 'unassigned'),
    consoleChat(3, 2, 'pending', 'awaiting'),
    consoleChat(4, 1, 'active', 'myChats', 3),
  ];
  const counters = { ...NO_COUNTERS, unread: 3, unassigned: 2, ringing: 2, myChats: 1, awaiting: 1 };
  const profile = (supervised: number[]) => ({
    id: 1,
    name: 'Ann',
    email: 'ann@example.com',
    liveChats: [1, 2].map((id) => ({ id, name: `L${id}`, supervisor: supervised.includes(id), staffEmoji: true })),
  });

  it('b41 red_is_unread_for_operators_unassigned_for_supervisors_and_the_sum_for_both', async () => {
    // The header shows the core's `red`/`blue` (the tray's numbers) as they are.
    expect(badgeCounts({ ...counters, red: 5, blue: 2 }, profile([2]))).toEqual({ red: 5, blue: 2 });
    expect(badgeCounts({ ...counters, red: 5, blue: 2 }, null)).toEqual({ red: 0, blue: 0 });
    // The fake backend computes them like the core's `console_view`.
    const { fake, state } = await renderConsole({ seedDemoChats: false, signedInAs: 'sue@example.com' });
    const waiting = fake.simulateNewChat('Maria', 'Order');
    fake.simulateNewChat('Paul', 'Shipping');
    await fake.muteChat(waiting);
    await waitFor(() => expect(state.chats.counters).toMatchObject({ unassigned: 1, awaiting: 1, red: 2, blue: 1 }));
  });

  it('b40 each_group_counts_its_chats_and_one_live_chat_narrows_the_counts', () => {
    // All live chats: the core's counters as they are.
    expect(groupCounts(chats, { ...counters, myChatsUnread: 3 }, null)).toMatchObject({ unassigned: 2, myChats: 1, myChatsUnread: 3 });
    expect(groupCounts(chats, counters, 1)).toEqual({ unassigned: 1, myChats: 1, awaiting: 0, othersActive: 0, closed: 0, myChatsUnread: 3 });
    expect(groupCounts(chats, counters, 2)).toEqual({ unassigned: 1, myChats: 0, awaiting: 1, othersActive: 0, closed: 0, myChatsUnread: 0 });
  });

  it('b41 my_chats_shows_its_chat_count_with_unread_as_a_separate_red_badge', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const first = fake.simulateNewChat('Maria', 'Order');
    const second = fake.simulateNewChat('Paul', 'Shipping');
    await fake.acceptChat(first);
    await fake.acceptChat(second);
    await waitFor(() => expect(screen.getByTestId('counter-my-chats')).toHaveAttribute('data-count', '2'));
    expect(screen.queryByTestId('unread-my-chats'), 'no red badge without unread').toBeNull();
    fake.simulateVisitorMessage(first, 'Hello?');
    fake.simulateVisitorMessage(second, 'Anyone?');
    fake.simulateVisitorMessage(second, 'Hello??');
    await waitFor(() => expect(screen.getByTestId('unread-my-chats')).toHaveAttribute('data-count', '3'));
    expect(screen.getByTestId('counter-my-chats')).toHaveTextContent(/^2$/);
    expect(screen.getByTestId('group-my-chats')).toHaveAccessibleName(/^My Chats\s*, 2 chats, 3 unread messages$/);
    // The header's red badge is the same unread number (the tray reads the same field).
    expect(screen.getByTestId('badge-red')).toHaveAttribute('data-count', '3');
  });

  it('b41 header_badges_follow_core_events', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'sue@example.com' });
    expect(screen.getByTestId('badge-red')).toHaveAttribute('data-count', '0');
    fake.simulateNewChat('Maria', 'Order');
    await waitFor(() => expect(screen.getByTestId('badge-red')).toHaveAttribute('data-count', '1'));
    expect(screen.getByTestId('badge-blue')).toHaveAttribute('data-count', '1');
    expect(screen.getByTestId('counter-unassigned')).toHaveTextContent('1');
  });
});

describe('long lists', () => {
  it('computes a window around the scroll position', () => {
    expect(virtualWindow(10_000, 80, 0, 800, 5)).toEqual({ start: 0, end: 15, before: 0, after: (10_000 - 15) * 80 });
    const middle = virtualWindow(10_000, 80, 80 * 5000, 800, 5);
    expect(middle.start).toBe(4995);
    expect(middle.end).toBe(5015);
    expect(middle.before + (middle.end - middle.start) * 80 + middle.after).toBe(10_000 * 80);
    expect(virtualWindow(3, 80, 0, 800)).toMatchObject({ start: 0, end: 3, after: 0 });
    expect(virtualWindow(0, 80, 500, 800)).toMatchObject({ start: 0, end: 0 });
  });

  it('b40 ten_thousand_chats_render_only_a_window_and_arrow_keys_walk_the_list', async () => {
    await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com', loadChats: 10_000 });
    const list = screen.getByTestId('chat-list');
    expect(list).toHaveAttribute('data-total', '5000');
    const rendered = within(list).getAllByRole('listitem');
    expect(rendered.length).toBeGreaterThan(5);
    expect(rendered.length).toBeLessThan(100);
    expect(rendered[0]).toHaveAttribute('aria-setsize', '5000');

    const firstRow = within(rendered[0] as HTMLElement).getByRole('button');
    firstRow.focus();
    await fireEvent.keyDown(firstRow, { key: 'ArrowDown' });
    await waitFor(() => expect(document.activeElement?.closest('li')).toHaveAttribute('data-index', '1'));
    await fireEvent.keyDown(document.activeElement as HTMLElement, { key: 'End' });
    await waitFor(() => expect(document.activeElement?.closest('li')).toHaveAttribute('data-index', '4999'));
  });

  it('opens a chat with 5,000 messages rendering the newest page and reveals earlier ones', async () => {
    const { state } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com', loadChats: 2, loadMessages: 5000 });
    state.chats.selectGroup('myChats');
    await state.chats.open(1);
    const list = await screen.findByTestId('message-list');
    expect(list).toHaveAttribute('data-total', '5000');
    expect(screen.getAllByTestId('message')).toHaveLength(150);
    expect(screen.getAllByTestId('message').at(-1)).toHaveTextContent('Message 5000 about order 1');
    await userEvent.setup().click(screen.getByTestId('show-earlier'));
    expect(screen.getAllByTestId('message')).toHaveLength(300);
  });
});

describe('search (B42)', () => {
  it('highlights matches case-insensitively as text', () => {
    expect(highlightSegments('Maria MARIA', 'maria')).toEqual([
      { text: 'Maria', match: true },
      { text: ' ', match: false },
      { text: 'MARIA', match: true },
    ]);
    expect(highlightSegments('a.b', '.')).toEqual([
      { text: 'a', match: false },
      { text: '.', match: true },
      { text: 'b', match: false },
    ]);
    expect(highlightSegments('<b>x</b>', '')).toEqual([{ text: '<b>x</b>', match: false }]);
  });

  it('b42 search_finds_chat_names_and_with_a_chat_open_its_messages_highlighted', async () => {
    const { fake } = await renderConsole({ signedInAs: 'ann@example.com' });
    const user = userEvent.setup();
    await user.type(screen.getByTestId('search-input'), 'tom');
    const results = await screen.findByTestId('search-results');
    await waitFor(() => expect(within(results).getByTestId('search-chat-2')).toBeInTheDocument());
    const marks = within(results).getAllByText('Tom');
    expect(marks.length).toBeGreaterThan(0);
    for (const mark of marks) expect(mark.tagName).toBe('MARK');
    expect(fake.calls).toContain('search all tom');

    await user.click(within(results).getByTestId('search-chat-2'));
    await screen.findByTestId('chat-view');
    expect(screen.getByTestId('group-my-chats')).toHaveAttribute('aria-current', 'page');
    await user.clear(screen.getByTestId('search-input'));
    await user.type(screen.getByTestId('search-input'), 'invoice');
    await waitFor(() => expect(fake.calls).toContain('search 2 invoice'));
    const inChat = await screen.findAllByText((_, element) => element?.tagName === 'MARK' && /invoice/i.test(element.textContent ?? ''));
    expect(inChat.length).toBeGreaterThan(0);

    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('search-results')).toBeNull();
  });

  it('b42 hostile_names_in_results_stay_text', async () => {
    await renderConsole({ signedInAs: 'ann@example.com' });
    const user = userEvent.setup();
    await user.type(screen.getByTestId('search-input'), 'img');
    const results = await screen.findByTestId('search-results');
    await waitFor(() => expect(results.textContent).toContain('<img src=x onerror=alert(1)>'));
    expect(results.querySelector('img')).toBeNull();
  });
});

describe('outbox and catch-up (D01, D02)', () => {
  it('d02 banner_shows_catch_up_progress_after_a_reconnect', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    expect(screen.queryByTestId('connection-banner')).toBeNull();
    fake.setSync({ applied: 40, total: 200 });
    const banner = await screen.findByTestId('connection-banner');
    expect(banner).toHaveTextContent('Catching up: 40 of 200 updates…');
    const progress = screen.getByTestId('sync-progress');
    expect(progress).toHaveAttribute('value', '40');
    expect(progress).toHaveAttribute('max', '200');
    fake.setSync(null);
    await waitFor(() => expect(screen.queryByTestId('connection-banner')).toBeNull());
  });

  it('d01 offline_reply_shows_pending_then_is_delivered_on_reconnect', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    const user = await openChat(chat);
    await user.click(screen.getByTestId('accept-button'));
    await waitFor(() => expect(screen.getByTestId('composer-mode')).toHaveTextContent('Reply'));

    fake.setConnection({ type: 'offline' });
    const input = screen.getByTestId<HTMLTextAreaElement>('composer-input');
    await user.type(input, 'Back in a minute{Enter}');
    const pending = await screen.findByTestId('outbox-message');
    expect(pending).toHaveAttribute('data-state', 'pending');
    expect(pending).toHaveTextContent('Back in a minute');
    expect(input.value, 'a queued reply is not a failed one: the draft clears').toBe('');
    expect(screen.queryByTestId('composer-error')).toBeNull();

    fake.setConnection({ type: 'connected' });
    await waitFor(() => expect(screen.queryByTestId('outbox-message')).toBeNull());
    expect(screen.getAllByTestId('message').at(-1)).toHaveTextContent('Back in a minute');
  });

  it('d01 failed_outbox_reply_offers_retry_and_discard', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    const user = await openChat(chat);
    fake.setConnection({ type: 'offline' });
    await user.type(screen.getByTestId('composer-input'), 'first{Enter}');
    await screen.findByTestId('outbox-message');
    fake.simulateOutboxFailure('This chat has ended.');
    expect(await screen.findByTestId('outbox-failed')).toHaveTextContent('Not sent: This chat has ended.');
    expect(screen.getByTestId('live-region')).toHaveTextContent('A message was not sent: This chat has ended.');

    await user.click(screen.getByTestId('outbox-retry'));
    await waitFor(() => expect(screen.getByTestId('outbox-message')).toHaveAttribute('data-state', 'pending'));
    expect(fake.calls.some((call) => call.startsWith('retryCommand'))).toBe(true);

    fake.simulateOutboxFailure('This chat has ended.');
    await user.click(await screen.findByTestId('outbox-discard'));
    await waitFor(() => expect(screen.queryByTestId('outbox-message')).toBeNull());
    expect(fake.calls.some((call) => call.startsWith('discardCommand'))).toBe(true);
  });
});

describe('customer panel (B34) and channel (B43)', () => {
  it('b34 panel_shows_the_visitor_and_their_earlier_chats_b43_channel_icon', async () => {
    const { state } = await renderConsole({ signedInAs: 'ann@example.com' });
    state.chats.selectGroup('myChats');
    await state.chats.open(2);
    const panel = await screen.findByTestId('customer-panel');
    expect(within(panel).getByTestId('customer-name')).toHaveTextContent('Tom Baker');
    expect(within(panel).getByTestId('customer-email')).toHaveTextContent('Not given');
    const page = within(panel).getByTestId('customer-page');
    expect(page.querySelector('a')).toHaveAttribute('href', 'https://acme.example/pricing');
    expect(within(panel).getByRole('img', { name: 'Website' })).toHaveAttribute('data-channel', 'web');
    expect(within(screen.getByTestId('chat-row-2')).getByTestId('channel-icon')).toHaveAttribute('data-channel', 'web');

    const user = userEvent.setup();
    await user.click(within(panel).getByText('Visitor details'));
    const earlier = within(panel).getByTestId('customer-earlier-6');
    expect(earlier).toHaveTextContent('Invoice address change');
    await user.click(earlier);
    await waitFor(() => expect(screen.getByTestId('chat-view')).toHaveAttribute('data-chat-id', '6'));
    expect(screen.getByTestId('group-closed')).toHaveAttribute('aria-current', 'page');
  });

  it('b34 hostile_visitor_fields_stay_text', async () => {
    const { fake, state } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('<img src=x onerror=alert(1)>', 'javascript:alert(1)');
    await state.chats.open(chat);
    const panel = await screen.findByTestId('customer-panel');
    expect(panel.querySelector('img')).toBeNull();
    expect(within(panel).getByTestId('customer-name')).toHaveTextContent('<img src=x onerror=alert(1)>');
    expect(panel.querySelector('.avatar')).toHaveTextContent('I');
  });
});

describe('offline send before the core answers (D01)', () => {
  it('d01 the_composer_is_free_as_soon_as_the_reply_is_in_the_outbox', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    const user = await openChat(chat);
    fake.setConnection({ type: 'offline' });
    let answer: () => void = () => {};
    fake.queuedAnswer = new Promise((resolve) => (answer = resolve));

    const input = screen.getByTestId<HTMLTextAreaElement>('composer-input');
    await user.type(input, 'Queued note{Enter}');
    expect(await screen.findByTestId('outbox-message')).toHaveAttribute('data-state', 'pending');
    await waitFor(() => expect(input.value, 'cleared before the core answers').toBe(''));
    expect(screen.getByTestId('send-button')).toHaveTextContent('Send');

    answer();
    await fake.queuedAnswer;
    // Let the rejected send settle in the composer.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await user.type(input, 'next');
    expect(input.value).toBe('next');
    expect(screen.queryByTestId('composer-error'), 'the late "not delivered yet" is no error').toBeNull();
  });
});
