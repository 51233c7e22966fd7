import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Message } from '../src/lib/protocol';
import { leavingIsLast, staffInChat } from '../src/transfer/staff';
import { CollaborationStore } from '../src/transfer/collaboration.svelte';
import type { Backend } from '../src/lib/backend';
import type { Collaboration } from '../src/lib/core';
import { renderConsole } from './render-console';

const ANN = { id: 1, name: 'Ann Operator' };
const BOB = { id: 2, name: 'Bob Operator' };

/** Ann has accepted a chat and has it open. */
async function annWithActiveChat(setup?: (fake: Awaited<ReturnType<typeof renderConsole>>['fake'], chat: number) => void) {
  const rendered = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
  const chat = rendered.fake.simulateNewChat('Maria', 'Where is my order?', 'hi');
  setup?.(rendered.fake, chat);
  await rendered.fake.acceptChat(chat);
  const user = userEvent.setup();
  await user.click(await screen.findByTestId('group-my-chats'));
  await user.click(await screen.findByTestId(`chat-row-${chat}`));
  await screen.findByTestId('chat-actions-menu');
  return { ...rendered, chat, user };
}

type User = ReturnType<typeof userEvent.setup>;

/** Opens the chat actions menu and chooses one of its entries. */
async function choose(user: User, entry: string): Promise<void> {
  await user.click(screen.getByTestId('chat-actions-menu'));
  await user.click(await screen.findByTestId(entry));
}

/** Opens the invite, transfer or reassign dialog from the menu; resolves to the dialog. */
async function openDialog(user: User, action: 'invite' | 'transfer' | 'reassign'): Promise<HTMLElement> {
  await choose(user, `menu-${action}`);
  const dialog = await screen.findByTestId('collaboration-dialog');
  expect(dialog).toHaveAttribute('data-mode', action);
  return dialog;
}

function system(id: number, body: string): Message {
  return { id, chat: 1, clientId: null, author: { kind: 'system' }, visibility: 'public', body, sentAt: id } as Message;
}

describe('collaboration (issue 7)', () => {
  it('b22 b23 a_late_load_does_not_put_back_an_older_state_than_the_core_pushed', async () => {
    let answer: (state: Collaboration) => void = () => {};
    const backend = { collaboration: () => new Promise<Collaboration>((resolve) => (answer = resolve)) };
    const store = new CollaborationStore(backend as unknown as Backend);
    const empty: Collaboration = { invitations: [], sent: [], replyLocks: [], unsubscribed: [], colleagues: [], ended: [] };
    const loading = store.load();
    const pushed = { ...empty, colleagues: [{ id: 2, name: 'Bob Operator', availability: 'online' as const, routing: true }] };
    store.replace(pushed);
    answer(empty);
    await loading;
    expect(store.presenceOf(2)?.availability).toBe('online');
  });

  it('b24 staff_in_chat_follows_joined_and_left_lines_and_knows_the_last_one_out', () => {
    const timeline = [system(1, 'Ann Operator joined'), system(2, 'Sue Supervisor joined'), system(3, 'Sue Supervisor left'), system(4, 'The visitor left')];
    expect(staffInChat(timeline)).toEqual(['Ann Operator']);
    expect(leavingIsLast(timeline, 'Ann Operator', 'Ann Operator')).toBe(true);
    expect(leavingIsLast([...timeline, system(5, 'Bob Operator joined')], 'Ann Operator', 'Ann Operator')).toBe(false);
    // A supervisor who took over posted no "joined" line but is in the chat as its responsible.
    expect(leavingIsLast(timeline, 'Ann Operator', 'Sue Supervisor')).toBe(false);
  });

  it('b23 an_invitation_rings_in_the_console_with_accept_and_decline', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'bob@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Where is my order?');
    fake.simulateAcceptedBy(chat, ANN);
    fake.simulateInvitation(chat, ANN, 'invite');
    const invitation = await screen.findByTestId(`invitation-${chat}`);
    expect(invitation).toHaveTextContent('Ann Operator invites you to join');
    expect(invitation).toHaveTextContent('Where is my order?');
    const user = userEvent.setup();
    await user.click(within(invitation).getByTestId('invitation-accept'));
    await waitFor(() => expect(fake.calls).toContain(`answerInvitation ${chat} true`));
    await waitFor(() => expect(screen.queryByTestId(`invitation-${chat}`)).toBeNull());
  });

  it('b22 accepting_a_transfer_opens_the_chat_now_handled_by_me', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'bob@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Billing');
    fake.simulateAcceptedBy(chat, ANN);
    fake.simulateInvitation(chat, ANN, 'transfer', 'Knows billing');
    const invitation = await screen.findByTestId(`invitation-${chat}`);
    await userEvent.setup().click(within(invitation).getByTestId('invitation-accept'));
    const view = await screen.findByTestId('chat-view');
    expect(view).toHaveAttribute('data-chat-id', String(chat));
    await waitFor(() => expect(view).toHaveTextContent('Handled by Bob Operator'));
  });

  it('b22 a_transfer_shows_its_note_and_declining_answers_the_sender', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'bob@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Billing');
    fake.simulateAcceptedBy(chat, ANN);
    fake.simulateInvitation(chat, ANN, 'transfer', 'VIP <b>customer</b>');
    const invitation = await screen.findByTestId(`invitation-${chat}`);
    expect(invitation).toHaveTextContent('Ann Operator transfers this chat to you');
    expect(within(invitation).getByTestId('invitation-note')).toHaveTextContent('Note: VIP <b>customer</b>');
    expect(invitation.querySelector('b')).toBeNull();
    await userEvent.setup().click(within(invitation).getByTestId('invitation-decline'));
    await waitFor(() => expect(fake.calls).toContain(`answerInvitation ${chat} false`));
    await waitFor(() => expect(screen.queryByTestId('invitations')).toBeNull());
  });

  it('b22 b23 invitations_that_ended_while_away_show_why_in_a_thin_line_until_dismissed', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'bob@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Billing');
    fake.simulateAcceptedBy(chat, ANN);
    fake.simulateInvitation(chat, ANN, 'transfer', 'VIP');
    await screen.findByTestId(`invitation-${chat}`);
    const ended = (chat: number, outcome: Collaboration['ended'][number]['outcome']) => ({
      chat,
      kind: 'transfer' as const,
      from: ANN,
      subject: 'Where is <b>my</b> order?',
      team: null,
      outcome,
    });
    fake.simulateEndedWhileAway([
      ended(chat, { type: 'withdrawn', by: ANN }),
      ended(101, { type: 'timedOut' }),
      ended(102, { type: 'chatEnded' }),
      ended(103, { type: 'accepted', by: { id: 3, name: 'Sue <i>Supervisor</i>' } }),
    ]);
    await waitFor(() => expect(screen.queryByTestId('invitations')).toBeNull());
    const list = await screen.findByTestId('ended-invitations');
    expect(within(list).getByTestId(`ended-${chat}`)).toHaveTextContent('From Ann Operator · Where is <b>my</b> order?: Ann Operator withdrew');
    expect(within(list).getByTestId('ended-101')).toHaveTextContent('timed out');
    expect(within(list).getByTestId('ended-102')).toHaveTextContent('chat ended');
    expect(within(list).getByTestId('ended-103')).toHaveTextContent('taken by Sue <i>Supervisor</i>');
    expect(list.querySelector('b, i')).toBeNull();
    await userEvent.setup().click(within(within(list).getByTestId(`ended-${chat}`)).getByTestId('ended-dismiss'));
    await waitFor(() => expect(fake.calls).toContain(`dismissSent ${chat}`));
    await waitFor(() => expect(screen.queryByTestId(`ended-${chat}`)).toBeNull());
    expect(screen.getByTestId('ended-101')).toBeInTheDocument();
  });

  it('b22 a_team_transfer_names_the_sender_and_the_team_it_came_through', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'bob@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Invoice');
    fake.simulateAcceptedBy(chat, ANN);
    fake.simulateInvitation(chat, ANN, 'transfer', 'invoice 42', 'Billing <i>team</i>');
    const invitation = await screen.findByTestId(`invitation-${chat}`);
    expect(invitation).toHaveTextContent('Transfer from Ann Operator via team Billing <i>team</i>');
    expect(invitation.querySelector('i')).toBeNull();
    expect(within(invitation).getByTestId('invitation-note')).toHaveTextContent('Note: invoice 42');
  });

  it('b22 the_sender_sees_waiting_then_the_decline_or_timeout_reason_and_stays_responsible', async () => {
    const { fake, chat, user } = await annWithActiveChat();
    let dialog = await openDialog(user, 'transfer');
    await waitFor(() => expect(within(dialog).getByRole('option', { name: 'Bob Operator' })).toBeInTheDocument());
    await user.selectOptions(within(dialog).getByTestId('colleague-picker'), String(BOB.id));
    await user.type(within(dialog).getByTestId('transfer-note'), 'Knows billing');
    await user.click(within(dialog).getByTestId('transfer-button'));
    expect(fake.calls).toContain(`transferChat ${chat} 2 Knows billing`);
    await waitFor(() => expect(screen.queryByTestId('collaboration-dialog')).toBeNull());
    expect(screen.getByTestId('chat-actions-menu'), 'the focus goes back to the menu button').toHaveFocus();
    expect(await screen.findByTestId('sent-state')).toHaveTextContent('Waiting for Bob Operator…');
    await user.click(screen.getByTestId('chat-actions-menu'));
    expect(await screen.findByTestId('menu-transfer'), 'one transfer at a time').toHaveAttribute('aria-disabled', 'true');
    await user.keyboard('{Escape}');

    fake.simulateInvitationOutcome(chat, 'declined');
    await waitFor(() => expect(screen.getByTestId('sent-state')).toHaveTextContent('Bob Operator declined. The chat stays with you.'));
    await user.click(screen.getByTestId('sent-dismiss'));
    await waitFor(() => expect(screen.queryByTestId('sent-state')).toBeNull());

    dialog = await openDialog(user, 'transfer');
    await user.selectOptions(within(dialog).getByTestId('colleague-picker'), String(BOB.id));
    await user.click(within(dialog).getByTestId('transfer-button'));
    fake.simulateInvitationOutcome(chat, 'timedOut');
    await waitFor(() => expect(screen.getByTestId('sent-state')).toHaveTextContent('Bob Operator did not answer in time.'));
    expect(screen.getByTestId('chat-view')).toHaveTextContent('Handled by Ann Operator');
  });

  it('b22 a_transfer_to_a_team_waits_for_the_team_and_names_who_took_it', async () => {
    const { fake, chat, user } = await annWithActiveChat();
    const invite = await openDialog(user, 'invite');
    await waitFor(() => expect(within(invite).getByRole('option', { name: 'Bob Operator' })).toBeInTheDocument());
    expect(within(invite).queryByRole('option', { name: /Team Billing/ }), 'a team cannot be invited').toBeNull();
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('collaboration-dialog')).toBeNull());
    const dialog = await openDialog(user, 'transfer');
    const picker = within(dialog).getByTestId('colleague-picker');
    await waitFor(() => expect(within(picker).getByRole('option', { name: 'Team Billing' })).toBeInTheDocument());
    await user.selectOptions(picker, 'team:1');
    await user.type(screen.getByTestId('transfer-note'), 'Invoice 42');
    await user.click(screen.getByTestId('transfer-button'));
    expect(fake.calls).toContain(`transferToTeam ${chat} 1 Invoice 42`);
    expect(await screen.findByTestId('sent-state')).toHaveTextContent('Waiting for Billing…');
    fake.simulateInvitationOutcome(chat, 'declined');
    await waitFor(() => expect(screen.getByTestId('sent-state')).toHaveTextContent('Billing declined.'));
  });

  it('b22 b23 the_picker_shows_availability_disables_offline_colleagues_and_counts_team_members_online', async () => {
    const { fake, user } = await annWithActiveChat();
    const invite = await openDialog(user, 'invite');
    let picker = within(invite).getByTestId('colleague-picker');
    await waitFor(() => expect(within(picker).getByRole('option', { name: 'Bob Operator' })).toBeInTheDocument());
    fake.simulateColleague({ id: 2, name: 'Bob Operator', availability: 'offline', routing: true });
    fake.simulateColleague({ id: 3, name: 'Sue Supervisor', availability: 'away', routing: false });
    const bob = await within(picker).findByRole('option', { name: 'Bob Operator (offline)' });
    expect(bob).toBeDisabled();
    expect(within(picker).getByRole('option', { name: 'Sue Supervisor (away)' })).toBeEnabled();
    await user.selectOptions(picker, '3');
    expect(screen.getByTestId('invite-button'), 'an away colleague can be invited').toBeEnabled();
    await user.click(screen.getByTestId('collaboration-cancel'));
    const transfer = await openDialog(user, 'transfer');
    picker = within(transfer).getByTestId('colleague-picker');
    expect(within(picker).getByRole('option', { name: 'Sue Supervisor (away)' }), 'but not handed the chat').toBeDisabled();
    const billing = within(picker).getByRole('option', { name: 'Team Billing (0 online)' });
    expect(billing, 'nobody online in the team can take it').toBeDisabled();

    // Live: Bob comes back online and is offered again; the team counts him.
    fake.simulateColleague({ id: 2, name: 'Bob Operator', availability: 'online', routing: true });
    await waitFor(() => expect(within(picker).getByRole('option', { name: 'Bob Operator' })).toBeEnabled());
    expect(within(picker).getByRole('option', { name: 'Team Billing (1 online)' })).toBeEnabled();
    await user.selectOptions(picker, String(BOB.id));
    expect(screen.getByTestId('transfer-button')).toBeEnabled();
  });

  it('b23 b27 invite_and_reassign_are_keyboard_reachable', async () => {
    const { fake, chat, user } = await annWithActiveChat();
    screen.getByTestId('chat-actions-menu').focus();
    await user.keyboard('{Enter}');
    expect(screen.getByTestId('menu-invite')).toHaveFocus();
    await user.keyboard('{Enter}');
    const picker = within(await screen.findByTestId('collaboration-dialog')).getByTestId('colleague-picker');
    await waitFor(() => expect(picker).toHaveFocus());
    await waitFor(() => expect(within(picker).getByRole('option', { name: 'Bob Operator' })).toBeInTheDocument());
    await user.selectOptions(picker, String(BOB.id));
    await user.tab();
    expect(screen.getByTestId('invite-button')).toHaveFocus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(fake.calls).toContain(`inviteOperator ${chat} 2`));
    expect(await screen.findByTestId('sent-state')).toHaveTextContent('Waiting for Bob Operator…');
    await waitFor(() => expect(screen.getByTestId('chat-actions-menu')).toHaveFocus());

    // Down opens the menu on its first entry; invite, transfer, reassign.
    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}');
    expect(screen.getByTestId('menu-reassign')).toHaveFocus();
    await user.keyboard('{Enter}');
    const reassign = await screen.findByTestId('collaboration-dialog');
    await user.selectOptions(within(reassign).getByTestId('colleague-picker'), String(BOB.id));
    await user.click(screen.getByTestId('reassign-button'));
    await waitFor(() => expect(fake.calls).toContain(`reassignChat ${chat} 2`));
    // Bob is responsible now: the chat leaves Ann's chats.
    await waitFor(() => expect(screen.queryByTestId(`chat-row-${chat}`)).toBeNull());
  });

  it('b15 the_reply_lock_is_toggled_and_visible_to_everyone_in_the_chat', async () => {
    const { fake, chat, user } = await annWithActiveChat();
    await user.click(screen.getByTestId('chat-actions-menu'));
    const lock = await screen.findByTestId('lock-button');
    expect(lock).toHaveAttribute('role', 'menuitemcheckbox');
    expect(lock).toHaveAttribute('aria-checked', 'false');
    await user.click(lock);
    await waitFor(() => expect(fake.calls).toContain(`lockReplies ${chat} true`));
    await waitFor(() => expect(screen.getByTestId('reply-lock-state')).toHaveTextContent('You locked replies'));
    await user.click(screen.getByTestId('chat-actions-menu'));
    expect(await screen.findByTestId('lock-button')).toHaveAttribute('aria-checked', 'true');
    await user.click(screen.getByTestId('lock-button'));
    await waitFor(() => expect(fake.calls).toContain(`lockReplies ${chat} false`));
    await waitFor(() => expect(screen.queryByTestId('reply-lock-state')).toBeNull());

    // A colleague's lock is shown, and only they (or a supervisor) can lift it.
    fake.simulateReplyLock(chat, BOB);
    await waitFor(() => expect(screen.getByTestId('reply-lock-state')).toHaveTextContent('Replies locked by Bob Operator'));
    await user.click(screen.getByTestId('chat-actions-menu'));
    expect(await screen.findByTestId('lock-button')).toHaveAttribute('aria-disabled', 'true');
    await user.click(screen.getByTestId('lock-button'));
    expect(fake.calls.filter((call) => call === `lockReplies ${chat} false`), 'a disabled entry does nothing').toHaveLength(1);
    await user.keyboard('{Escape}');
    // My composer turns to notes and says why.
    expect(screen.getByTestId('composer-mode')).toHaveAttribute('data-mode', 'note');
    expect(screen.getByTestId('composer-hint')).toHaveTextContent('Replies locked by Bob Operator');
    fake.simulateReplyLock(chat, null);
    await waitFor(() => expect(screen.getByTestId('composer-mode')).toHaveAttribute('data-mode', 'public'));
  });

  it('b24 leaving_as_the_last_staff_member_says_a_ticket_will_be_created', async () => {
    const { fake, chat, user } = await annWithActiveChat();
    await choose(user, 'leave-button');
    const confirm = await screen.findByTestId('leave-confirm');
    expect(confirm).toHaveTextContent('leaving ends the chat and creates a ticket');
    expect(within(confirm).getByTestId('leave-cancel')).toHaveFocus();
    await user.click(within(confirm).getByTestId('leave-confirm-button'));
    await waitFor(() => expect(fake.calls).toContain(`leaveChat ${chat}`));
    await waitFor(() => expect(screen.getByTestId('chat-view')).toHaveAttribute('data-state', 'closed'));
    const [ticket] = await fake.tickets();
    expect(ticket).toMatchObject({ chat, subject: 'Where is my order?' });
  });

  it('b25 the_end_dialog_prefills_the_question_and_files_the_ticket_with_the_transcript_email', async () => {
    const { fake, chat, user } = await annWithActiveChat((fake, chat) => fake.simulateVisitorEmail(chat, 'maria@example.com'));
    await user.click(screen.getByTestId('end-button'));
    const dialog = await screen.findByTestId('end-dialog');
    const subject = within(dialog).getByTestId<HTMLInputElement>('end-subject');
    expect(subject.value).toBe('Where is my order?');
    expect(subject).toHaveFocus();
    expect(within(dialog).getByTestId('end-email')).toBeChecked();
    await user.clear(subject);
    await user.type(subject, 'Order 42 lost');
    await user.selectOptions(within(dialog).getByTestId('end-status'), 'pending');
    await waitFor(() => expect(within(dialog).getByRole('option', { name: 'Bob Operator' })).toBeInTheDocument());
    await user.selectOptions(within(dialog).getByTestId('end-assignee'), String(BOB.id));
    await user.click(within(dialog).getByTestId('end-confirm'));
    await waitFor(() => expect(screen.queryByTestId('end-dialog')).toBeNull());
    expect(fake.calls).toContain(`endChat ${chat}`);
    expect(fake.calls).toContain('updateTicket 1 pending 2');
    expect(fake.emailedTickets).toEqual([1]);
    const [ticket] = await fake.tickets();
    expect(ticket).toMatchObject({ subject: 'Order 42 lost', status: 'pending', assignee: BOB });
  });

  it('b25 a_transcript_email_that_fails_after_the_end_says_the_chat_ended_and_offers_to_send_again', async () => {
    const { fake, chat, user } = await annWithActiveChat((fake, chat) => fake.simulateVisitorEmail(chat, 'maria@example.com'));
    fake.mailServer = false;
    await user.click(screen.getByTestId('end-button'));
    const dialog = await screen.findByTestId('end-dialog');
    await user.click(within(dialog).getByTestId('end-confirm'));
    const problem = await within(dialog).findByTestId('end-error');
    expect(problem).toHaveTextContent('The chat has ended and its ticket is saved, but the transcript was not emailed');
    expect(problem).toHaveTextContent('no SMTP server');
    expect(within(dialog).queryByTestId('end-confirm'), 'the chat is over: no second End').toBeNull();
    expect(fake.calls.filter((call) => call === `endChat ${chat}`)).toHaveLength(1);

    fake.mailServer = true;
    await user.click(within(dialog).getByTestId('end-retry'));
    await waitFor(() => expect(screen.queryByTestId('end-dialog')).toBeNull());
    expect(fake.emailedTickets).toEqual([1]);
    expect(fake.calls.filter((call) => call === `endChat ${chat}`), 'retrying only emails').toHaveLength(1);
  });

  it('b25 escape_cancels_the_end_dialog_without_ending', async () => {
    const { fake, chat, user } = await annWithActiveChat();
    await user.click(screen.getByTestId('end-button'));
    const dialog = await screen.findByTestId('end-dialog');
    expect(within(dialog).getByTestId('end-email'), 'no address, no email').toBeDisabled();
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('end-dialog')).toBeNull());
    expect(fake.calls).not.toContain(`endChat ${chat}`);
  });

  it('b13 an_unsubscription_remembered_by_the_core_shows_after_a_restart', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'hi');
    await fake.acceptChat(chat);
    await fake.setSubscribed(chat, false);
    // A new console against the same core (the app restarted): the choice is still shown.
    fake.seedCollaboration(await fake.collaboration());
    const { ConsoleState } = await import('../src/console.svelte');
    const restarted = new ConsoleState(fake);
    await restarted.start();
    expect(restarted.chats.unsubscribed.has(chat)).toBe(true);
    restarted.stop();
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('group-my-chats'));
    await user.click(await screen.findByTestId(`chat-row-${chat}`));
    await user.click(await screen.findByTestId('chat-actions-menu'));
    expect(await screen.findByTestId('subscription-button')).toHaveAttribute('aria-checked', 'false');
  });

  it('audit_log_is_shown_to_supervisors_only', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'sue@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    fake.simulateAcceptedBy(chat, ANN);
    await fake.reassignChat(chat, BOB.id);
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('audit-toggle'));
    const entry = await screen.findByTestId('audit-entry');
    expect(entry).toHaveAttribute('data-action', 'reassigned');
    expect(entry).toHaveTextContent('Sue Supervisor');
    expect(entry).toHaveTextContent('reassigned from Ann Operator');
  });

  it('audit_log_toggle_is_absent_for_operators', async () => {
    await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    await screen.findByTestId('tickets-toggle');
    expect(screen.queryByTestId('audit-toggle')).toBeNull();
  });
});
