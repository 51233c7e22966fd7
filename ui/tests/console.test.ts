import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './render-console';

describe('sign-in', () => {
  it('shows the core error and then the console', async () => {
    await renderConsole();
    const user = userEvent.setup();
    await user.type(screen.getByTestId('sign-in-email'), 'ann@example.com');
    await user.type(screen.getByTestId('sign-in-password'), 'wrong');
    await user.click(screen.getByTestId('sign-in-submit'));
    expect(await screen.findByTestId('sign-in-error')).toHaveTextContent('Wrong email or password.');

    await user.type(screen.getByTestId('sign-in-password'), 'switchboard');
    await user.click(screen.getByTestId('sign-in-submit'));
    expect(await screen.findByTestId('operator-name')).toHaveTextContent('Ann Operator');
    expect(screen.queryByTestId('sign-in-email'), 'the sign-in form is gone').toBeNull();
  });
});

describe('console', () => {
  it('b41 menu_shows_counters_new_marks_and_ringing', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    await waitFor(() => expect(screen.getByTestId('counter-unassigned')).toHaveTextContent('1'));
    const row = screen.getByTestId(`chat-row-${chat}`);
    expect(within(row).getByText('New')).toBeInTheDocument();
    expect(within(row).getByText('Ringing')).toBeInTheDocument();
    expect(screen.getByTestId('ringing-indicator')).toHaveTextContent('Ringing: 1 request');
    expect(screen.getByTestId('live-region')).toHaveTextContent('New chat request from Maria: Order');
    expect(screen.getByTestId('group-unassigned')).toHaveAttribute('aria-current', 'page');
    expect(screen.queryByTestId('group-others-active'), 'operators have no All active group').toBeNull();
  });

  it('b02 mute_moves_the_request_to_awaiting', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    const user = userEvent.setup();
    await user.click(await screen.findByTestId(`chat-row-${chat}`));
    await user.click(await screen.findByTestId('mute-button'));
    await waitFor(() => expect(screen.getByTestId('counter-awaiting')).toHaveTextContent('1'));
    expect(screen.queryByTestId('mute-button')).toBeNull();
    expect(screen.queryByTestId('ringing-indicator')).toBeNull();
    await user.click(screen.getByTestId('group-awaiting'));
    expect(screen.getByTestId(`chat-row-${chat}`)).toBeInTheDocument();
    expect(screen.getByTestId('accept-button'), 'a muted request can still be accepted').toBeInTheDocument();
  });

  it('b10 alt_a_accepts_the_open_pending_chat_and_end_closes_it', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'hi');
    const user = userEvent.setup();
    await user.click(await screen.findByTestId(`chat-row-${chat}`));
    expect(screen.getByTestId('accept-button')).toHaveTextContent('Alt+A');
    await user.keyboard('{Alt>}a{/Alt}');
    await waitFor(() => expect(fake.calls).toContain(`acceptChat ${chat}`));
    await waitFor(() => expect(screen.getByTestId('group-my-chats')).toHaveAttribute('aria-current', 'page'));
    // My Chats counts the chats it lists (the accepted one), not its unread messages.
    expect(screen.getByTestId('counter-my-chats')).toHaveTextContent(/^1$/);
    await user.click(screen.getByTestId('end-button'));
    // B25: the end dialog asks for the ticket first.
    await user.click(await screen.findByTestId('end-confirm'));
    await waitFor(() => expect(screen.getByTestId('composer-ended')).toBeInTheDocument());
    const last = screen.getAllByTestId('message').at(-1);
    expect(last).toHaveAttribute('data-author-kind', 'system');
  });

  it('shows visitor, reply, note and system messages differently, hostile text inert', async () => {
    const { container } = await renderConsole({ signedInAs: 'ann@example.com' });
    const user = userEvent.setup();
    await user.click(screen.getByTestId('group-my-chats'));
    await user.click(screen.getByTestId('chat-row-2'));
    await waitFor(() => expect(screen.getAllByTestId('message').length).toBeGreaterThan(3));
    const kinds = screen.getAllByTestId('message').map((element) => [
      element.getAttribute('data-author-kind'),
      element.getAttribute('data-visibility'),
    ]);
    expect(kinds).toEqual(
      expect.arrayContaining([
        ['visitor', 'public'],
        ['system', 'public'],
        ['operator', 'public'],
        ['operator', 'note'],
      ]),
    );

    await user.click(screen.getByTestId('group-unassigned'));
    const hostileRow = screen.getByTestId('chat-row-4');
    expect(hostileRow).toHaveTextContent('<img src=x onerror=alert(1)>');
    await user.click(hostileRow);
    await waitFor(() => expect(screen.getAllByTestId('message').length).toBe(1));
    expect(container.querySelector('img'), 'visitor markup never becomes elements').toBeNull();
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('a[href^="javascript"]')).toBeNull();
    expect(container.textContent).not.toContain('\u202E');
  });

  it('d02 shows_the_connection_banner_and_keychain_warning', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    expect(screen.queryByTestId('connection-banner')).toBeNull();
    fake.setConnection({ type: 'reconnecting', at: Date.UTC(2026, 10, 22, 9, 31, 0) });
    expect(await screen.findByTestId('connection-banner')).toHaveTextContent('Reconnecting at');
    fake.setConnection({ type: 'upgradeRequired' });
    await waitFor(() => expect(screen.getByTestId('connection-banner')).toHaveTextContent('Update the app'));
    fake.setKeychain({ type: 'unavailable', reason: 'org.freedesktop.secrets was not provided' });
    expect(await screen.findByTestId('keychain-warning')).toHaveTextContent(
      "Your session isn't saved: the system keychain is unavailable",
    );
  });

  it('b07 availability_select_and_mute_ringing_reach_the_core', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    fake.simulateNewChat('Maria', 'Order');
    const user = userEvent.setup();
    await user.selectOptions(screen.getByTestId('availability-select'), 'away');
    await waitFor(() => expect(fake.calls).toContain('setAvailability away'));
    expect(screen.getByTestId<HTMLSelectElement>('availability-select').value).toBe('away');
    expect(screen.queryByTestId('ringing-indicator'), 'away operators are not rung').toBeNull();

    await user.selectOptions(screen.getByTestId('availability-select'), 'online');
    await user.click(screen.getByTestId('mute-ringing-toggle'));
    await waitFor(() => expect(screen.getByTestId('mute-ringing-toggle')).toHaveAttribute('aria-pressed', 'true'));
    expect(screen.getByTestId('ringing-indicator')).toHaveAttribute('data-ringer-state', 'muted');
  });
});
