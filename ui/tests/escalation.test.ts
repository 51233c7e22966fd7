import { screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './render-console';

describe('unread escalation subscription', () => {
  it('b13 the_chat_view_toggles_unsubscribe_and_subscribe', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'hi');
    const user = userEvent.setup();
    await user.click(await screen.findByTestId(`chat-row-${chat}`));
    expect(screen.queryByTestId('chat-actions-menu'), 'a pending chat has no toggle').toBeNull();
    await user.click(screen.getByTestId('accept-button'));
    // The toggle is a checkbox entry of the chat actions menu: checked while subscribed.
    await user.click(await screen.findByTestId('chat-actions-menu'));
    const toggle = await screen.findByTestId('subscription-button');
    expect(toggle).toHaveAttribute('aria-checked', 'true');
    await user.click(toggle);
    await waitFor(() => expect(fake.calls).toContain(`setSubscribed ${chat} false`));
    await user.click(screen.getByTestId('chat-actions-menu'));
    await waitFor(() => expect(screen.getByTestId('subscription-button')).toHaveAttribute('aria-checked', 'false'));
    await user.click(screen.getByTestId('subscription-button'));
    await waitFor(() => expect(fake.calls).toContain(`setSubscribed ${chat} true`));
    await user.click(screen.getByTestId('chat-actions-menu'));
    await waitFor(() => expect(screen.getByTestId('subscription-button')).toHaveAttribute('aria-checked', 'true'));
  });
});
