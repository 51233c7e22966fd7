// The console chrome gives the height to the conversation: one header row with the connection
// state and a Settings disclosure, and the Chats/Tickets/Audit switch in the left menu.
import { screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './render-console';

describe('console header and view switch', () => {
  it('the header shows the connection state and follows it', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const status = await screen.findByTestId('connection-status');
    await waitFor(() => expect(status).toHaveAttribute('data-state', 'connected'));
    expect(status).toHaveAccessibleName('Connection: Connected');
    fake.setConnection({ type: 'offline' });
    await waitFor(() => expect(screen.getByTestId('connection-status')).toHaveAttribute('data-state', 'offline'));
    // The banner still says it in full across the window.
    expect(screen.getByTestId('connection-banner')).toHaveAttribute('data-state', 'offline');
  });

  it('settings fold into a disclosure that Escape closes, giving the focus back', async () => {
    await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const user = userEvent.setup();
    const button = await screen.findByTestId('header-settings-button');
    const panel = screen.getByTestId('header-settings-panel');
    expect(button).toHaveAttribute('aria-expanded', 'false');
    expect(panel).not.toBeVisible();

    await user.click(button);
    expect(button).toHaveAttribute('aria-expanded', 'true');
    expect(panel).toBeVisible();
    screen.getByTestId('send-shortcut-select').focus();
    await user.keyboard('{Escape}');
    expect(button).toHaveAttribute('aria-expanded', 'false');
    expect(button).toHaveFocus();
    expect(panel).not.toBeVisible();
  });

  it('tickets and visitors are entries of the left menu, one view at a time', async () => {
    await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const user = userEvent.setup();
    const menu = await screen.findByRole('navigation');
    const tickets = screen.getByTestId('tickets-toggle');
    expect(menu).toContainElement(tickets);
    expect(screen.getByTestId('chats-toggle')).toHaveAttribute('aria-pressed', 'true');

    await user.click(tickets);
    expect(await screen.findByTestId('tickets-view')).toBeInTheDocument();
    expect(tickets).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('chats-toggle')).toHaveAttribute('aria-pressed', 'false');

    // Visitors covers the pane; choosing Tickets again shows Tickets, not the chat.
    await user.click(screen.getByTestId('visitors-toggle'));
    expect(await screen.findByTestId('visitors-view')).toBeInTheDocument();
    expect(tickets).toHaveAttribute('aria-pressed', 'false');
    await user.click(tickets);
    expect(await screen.findByTestId('tickets-view')).toBeInTheDocument();
    expect(screen.queryByTestId('visitors-view')).toBeNull();

    await user.click(screen.getByTestId('chats-toggle'));
    await waitFor(() => expect(screen.queryByTestId('tickets-view')).toBeNull());
    expect(screen.getByTestId('chats-toggle')).toHaveAttribute('aria-pressed', 'true');
  });
});
