import { screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './render-console';

const ANN = { id: 1, name: 'Ann Operator' };

/** Opens a colleague's active chat from the supervisors' "All active" group (B40). */
async function openChat(id: number) {
  const user = userEvent.setup();
  await user.click(await screen.findByTestId('group-others-active'));
  await user.click(await screen.findByTestId(`chat-row-${id}`));
  await screen.findByTestId('composer-input');
  return user;
}

describe('supervision (issue 7)', () => {
  it('b21 monitor_shows_a_staff_only_banner_without_telling_anyone_then_b20_join_allows_replies', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'sue@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    fake.simulateAcceptedBy(chat, ANN);
    const user = await openChat(chat);

    const before = fake.calls.length;
    await user.click(await screen.findByTestId('monitor-button'));
    expect(await screen.findByTestId('monitoring-banner')).toHaveTextContent('Monitoring invisibly');
    expect(fake.calls.slice(before)).toEqual([`monitorChat ${chat}`]);
    // Monitoring posts nothing into the chat and marks nothing read.
    expect(screen.queryByText('Sue Supervisor joined')).toBeNull();
    expect(fake.calls).not.toContain(`markRead ${chat}`);

    await user.click(screen.getByTestId('join-button'));
    expect(await screen.findByTestId('joined-banner')).toBeInTheDocument();
    expect(screen.queryByTestId('monitoring-banner')).toBeNull();
    await waitFor(() => expect(screen.getByText('Sue Supervisor joined')).toBeInTheDocument());
    await expect(fake.sendMessage(chat, 'Hello from Sue', 'public')).resolves.toMatchObject({ body: 'Hello from Sue' });
    // Joined visibly, Sue replies from the composer like the responsible operator (B20).
    await waitFor(() => expect(screen.getByTestId('composer-mode')).toHaveAttribute('data-mode', 'public'));
  });

  it('b21 the_monitoring_line_names_the_operator_and_stop_ends_monitoring_here', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'sue@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    fake.simulateAcceptedBy(chat, ANN);
    const user = await openChat(chat);
    await user.click(await screen.findByTestId('monitor-button'));
    const line = await screen.findByTestId('monitoring-banner');
    expect(line).toHaveTextContent('Monitoring invisibly — the visitor and Ann do not see you');
    // Join, Take over and Stop sit in the same bar as the line.
    const bar = screen.getByTestId('supervision-bar');
    for (const id of ['join-button', 'take-over-button', 'stop-monitoring-button']) expect(bar).toContainElement(screen.getByTestId(id));

    const calls = fake.calls.length;
    await user.click(screen.getByTestId('stop-monitoring-button'));
    expect(screen.queryByTestId('monitoring-banner')).toBeNull();
    expect(await screen.findByTestId('monitor-button')).toBeInTheDocument();
    // Monitoring told nobody, so stopping it has nobody to tell either.
    expect(fake.calls.slice(calls)).toEqual([]);
  });

  it('take_over_makes_the_supervisor_responsible_and_hides_the_bar', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'sue@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    fake.simulateAcceptedBy(chat, ANN);
    const user = await openChat(chat);
    await user.click(await screen.findByTestId('previous-stays'));
    await user.click(screen.getByTestId('take-over-button'));
    expect(fake.calls).toContain(`takeOverChat ${chat} false`);
    await waitFor(() => expect(screen.queryByTestId('supervision-bar')).toBeNull());
    await waitFor(() => expect(screen.getByText('Sue Supervisor took over the chat from Ann Operator')).toBeInTheDocument());
  });

  it('b21 operators_who_do_not_supervise_see_no_supervision_controls', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'bob@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    fake.simulateAcceptedBy(chat, ANN);
    expect(screen.queryByTestId('group-others-active')).toBeNull();
    expect(screen.queryByTestId('supervision-bar')).toBeNull();
    await expect(fake.monitorChat(chat)).rejects.toMatchObject({ code: 'forbidden' });
  });
});
