// The chat header's actions menu and its dialogs (issue: room for the conversation): a proper
// menu button for the keyboard, dialogs that keep the focus and give it back, and the invite
// dialog sending exactly the command the operator chose.
import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './render-console';

const BOB = { id: 2, name: 'Bob Operator' };

async function annWithActiveChat() {
  const rendered = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
  const chat = rendered.fake.simulateNewChat('Maria', 'Where is my order?', 'hi');
  await rendered.fake.acceptChat(chat);
  const user = userEvent.setup();
  await user.click(await screen.findByTestId('group-my-chats'));
  await user.click(await screen.findByTestId(`chat-row-${chat}`));
  const button = await screen.findByTestId('chat-actions-menu');
  return { ...rendered, chat, user, button };
}

describe('chat actions menu', () => {
  it('b22 b23 the_menu_button_opens_moves_and_closes_with_the_keyboard', async () => {
    const { user, button } = await annWithActiveChat();
    expect(button).toHaveAttribute('aria-haspopup', 'menu');
    expect(button).toHaveAttribute('aria-expanded', 'false');
    expect(screen.queryByRole('menu')).toBeNull();

    button.focus();
    await user.keyboard('{ArrowDown}');
    const menu = screen.getByRole('menu');
    expect(button).toHaveAttribute('aria-expanded', 'true');
    expect(menu).toHaveAttribute('aria-labelledby', button.id);
    const items = Array.from(menu.querySelectorAll<HTMLElement>('[role="menuitem"], [role="menuitemcheckbox"]'));
    expect(items.map((item) => item.dataset.testid)).toEqual([
      'menu-invite',
      'menu-transfer',
      'menu-reassign',
      'lock-button',
      'subscription-button',
      'leave-button',
    ]);
    expect(items[0]).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(items[1]).toHaveFocus();
    await user.keyboard('{End}');
    expect(items[items.length - 1]).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(items[0], 'Down on the last entry wraps to the first').toHaveFocus();
    await user.keyboard('{ArrowUp}');
    expect(items[items.length - 1], 'Up on the first wraps to the last').toHaveFocus();
    await user.keyboard('{Home}');
    expect(items[0]).toHaveFocus();

    await user.keyboard('{Escape}');
    expect(screen.queryByRole('menu')).toBeNull();
    expect(button).toHaveAttribute('aria-expanded', 'false');
    expect(button, 'Escape gives the focus back to the button').toHaveFocus();

    // Up opens on the last entry; Tab leaves and closes.
    await user.keyboard('{ArrowUp}');
    expect(screen.getByTestId('leave-button')).toHaveFocus();
    await user.tab();
    expect(screen.queryByRole('menu')).toBeNull();
  });

  it('b23 the_invite_dialog_sends_the_chosen_colleague_and_keeps_the_focus_inside', async () => {
    const { fake, chat, user, button } = await annWithActiveChat();
    await user.click(button);
    await user.click(screen.getByRole('menuitem', { name: 'Invite a colleague…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Invite a colleague' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    const picker = within(dialog).getByTestId('colleague-picker');
    await waitFor(() => expect(picker).toHaveFocus());
    await waitFor(() => expect(within(picker).getByRole('option', { name: BOB.name })).toBeInTheDocument());
    expect(within(dialog).queryByTestId('transfer-note'), 'an invitation has no transfer note').toBeNull();
    expect(within(dialog).getByTestId('invite-button'), 'nobody chosen yet').toBeDisabled();

    // Tab cycles inside the dialog: picker, Invite, Cancel, back to the picker.
    await user.selectOptions(picker, String(BOB.id));
    await user.tab();
    expect(within(dialog).getByTestId('invite-button')).toHaveFocus();
    await user.tab();
    expect(within(dialog).getByTestId('collaboration-cancel')).toHaveFocus();
    await user.tab();
    expect(picker, 'Tab after the last control wraps to the first').toHaveFocus();
    await user.tab({ shift: true });
    expect(within(dialog).getByTestId('collaboration-cancel'), 'Shift+Tab wraps back').toHaveFocus();

    const before = fake.calls.length;
    await user.click(within(dialog).getByTestId('invite-button'));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(fake.calls.slice(before)).toEqual([`inviteOperator ${chat} ${BOB.id}`]);
    expect(button, 'the focus returns to the menu button').toHaveFocus();
    expect(await screen.findByTestId('sent-state')).toHaveTextContent('Waiting for Bob Operator…');
  });

  it('b23 escape_closes_the_invite_dialog_without_sending', async () => {
    const { fake, user, button } = await annWithActiveChat();
    await user.click(button);
    await user.click(screen.getByTestId('menu-invite'));
    const dialog = await screen.findByTestId('collaboration-dialog');
    await waitFor(() => expect(within(dialog).getByRole('option', { name: BOB.name })).toBeInTheDocument());
    await user.selectOptions(within(dialog).getByTestId('colleague-picker'), String(BOB.id));
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('collaboration-dialog')).toBeNull());
    expect(button).toHaveFocus();
    expect(fake.calls.some((call) => call.startsWith('inviteOperator'))).toBe(false);
  });
});
