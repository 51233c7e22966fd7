// Opening a chat shows it: from the chat list, a search result or a notification, whether the
// Tickets view, the audit log or Visitors on site covered the pane.
import { screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './render-console';

describe('the main pane follows an opened chat', () => {
  it('clicking_a_chat_in_the_list_while_tickets_show_switches_to_the_chat', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Where is my order?', 'hi');
    await fake.acceptChat(chat);
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('group-my-chats'));
    await user.click(await screen.findByTestId(`chat-row-${chat}`));
    await screen.findByTestId('chat-actions-menu');

    // The chat that is already open, clicked again from Tickets.
    await user.click(screen.getByTestId('tickets-toggle'));
    expect(await screen.findByTestId('tickets-view')).toBeInTheDocument();
    await user.click(screen.getByTestId(`chat-row-${chat}`));
    await waitFor(() => expect(screen.queryByTestId('tickets-view')).toBeNull());
    expect(screen.getByTestId('chats-toggle')).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('chat-actions-menu')).toBeInTheDocument();

    // Another chat, from Visitors on site.
    const other = fake.simulateNewChat('Wile E.', 'Anvil', 'hello');
    await fake.acceptChat(other);
    await user.click(screen.getByTestId('visitors-toggle'));
    expect(await screen.findByTestId('visitors-view')).toBeInTheDocument();
    await user.click(await screen.findByTestId(`chat-row-${other}`));
    await waitFor(() => expect(screen.queryByTestId('visitors-view')).toBeNull());
    expect(screen.getByTestId(`chat-row-${other}`)).toHaveAttribute('aria-current', 'true');
  });

  it('a_notification_opening_a_chat_shows_it_over_the_audit_log', async () => {
    const { fake, state } = await renderConsole({ seedDemoChats: false, signedInAs: 'sue@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Where is my order?', 'hi');
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('audit-toggle'));
    expect(screen.getByTestId('audit-toggle')).toHaveAttribute('aria-pressed', 'true');
    // What the shell sends when a native notification or the tray opens a chat.
    state.apply({ type: 'openChat', chat });
    await waitFor(() => expect(screen.getByTestId('chats-toggle')).toHaveAttribute('aria-pressed', 'true'));
    expect(screen.getByTestId('audit-toggle')).toHaveAttribute('aria-pressed', 'false');
    await waitFor(() => expect(screen.getByTestId(`chat-row-${chat}`)).toHaveAttribute('aria-current', 'true'));
  });
});
