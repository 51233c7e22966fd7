// B22, B23: an invitation or transfer to me that ends while I am connected says why at once, in
// the same thin line as one that ended while I was away, and stops asking for an answer.
import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './render-console';

const ANN = { id: 1, name: 'Ann Operator' };
const SUE = { id: 3, name: 'Sue <i>Supervisor</i>' };

describe('invitations that end while connected (B22, B23)', () => {
  it('b22 b23 a_withdrawn_taken_or_timed_out_invitation_leaves_a_line_saying_why_until_dismissed', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'bob@example.com' });
    const withdrawn = fake.simulateNewChat('Maria', 'Billing');
    const taken = fake.simulateNewChat('Wile E.', 'Anvil <b>now</b>');
    const timedOut = fake.simulateNewChat('Road Runner', 'Beep');
    for (const chat of [withdrawn, taken, timedOut]) fake.simulateAcceptedBy(chat, ANN);
    fake.simulateInvitation(withdrawn, ANN, 'invite');
    fake.simulateInvitation(taken, ANN, 'transfer', null, 'Billing');
    fake.simulateInvitation(timedOut, ANN, 'transfer', 'VIP');
    await screen.findByTestId(`invitation-${timedOut}`);
    expect(screen.queryByTestId('ended-invitations')).toBeNull();

    fake.simulateInvitationEnded(withdrawn, { type: 'withdrawn', by: ANN });
    // The request for an answer goes at once; the reason takes its place.
    await waitFor(() => expect(screen.queryByTestId(`invitation-${withdrawn}`)).toBeNull());
    const list = await screen.findByTestId('ended-invitations');
    expect(within(list).getByTestId(`ended-${withdrawn}`)).toHaveTextContent('From Ann Operator · Billing: Ann Operator withdrew');

    fake.simulateInvitationEnded(taken, { type: 'accepted', by: SUE });
    fake.simulateInvitationEnded(timedOut, { type: 'timedOut' });
    await waitFor(() => expect(screen.queryByTestId('invitations')).toBeNull());
    expect(within(list).getByTestId(`ended-${taken}`)).toHaveTextContent('Anvil <b>now</b>: taken by Sue <i>Supervisor</i>');
    expect(within(list).getByTestId(`ended-${timedOut}`)).toHaveTextContent('timed out');
    expect(list.querySelector('b, i')).toBeNull();
    expect(list.querySelector('[role="alert"]')).toBeNull();

    await userEvent.setup().click(within(within(list).getByTestId(`ended-${taken}`)).getByTestId('ended-dismiss'));
    await waitFor(() => expect(fake.calls).toContain(`dismissSent ${taken}`));
    await waitFor(() => expect(screen.queryByTestId(`ended-${taken}`)).toBeNull());
    expect(screen.getByTestId(`ended-${withdrawn}`)).toBeInTheDocument();
    expect(screen.getByTestId(`ended-${timedOut}`)).toBeInTheDocument();
  });
});
