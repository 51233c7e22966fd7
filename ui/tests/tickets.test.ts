import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './render-console';

describe('tickets view (B25)', () => {
  it('b25 an_ended_chat_shows_up_as_a_ticket_and_staff_set_subject_status_and_assignee', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('<img src=x onerror=alert(1)>', 'Where is my order?');
    await fake.acceptChat(chat);
    await fake.endChat(chat);

    const user = userEvent.setup();
    await user.click(await screen.findByTestId('tickets-toggle'));
    const row = await screen.findByTestId('ticket-1');
    // Hostile visitor text is shown as text, never as markup.
    expect(within(row).getByText('<img src=x onerror=alert(1)>')).toBeInTheDocument();
    expect(row.querySelector('img')).toBeNull();
    expect(within(row).getByTestId<HTMLInputElement>('ticket-subject').value).toBe('Where is my order?');

    const subject = within(row).getByTestId('ticket-subject');
    await user.clear(subject);
    await user.type(subject, 'Order 42');
    await user.selectOptions(within(row).getByTestId('ticket-status'), 'solved');
    await user.selectOptions(within(row).getByTestId('ticket-assignee'), '2');
    await user.click(within(row).getByTestId('ticket-save'));
    expect(await within(row).findByTestId('ticket-saved')).toBeInTheDocument();
    expect(fake.calls).toContain('updateTicket 1 solved 2');
    const [stored] = await fake.tickets();
    expect(stored).toMatchObject({ subject: 'Order 42', status: 'solved', assignee: { id: 2, name: 'Bob Operator' } });

    await user.click(screen.getByTestId('tickets-toggle'));
    await waitFor(() => expect(screen.queryByTestId('tickets-view')).toBeNull());
  });

  it('b25 a_ticket_shows_its_staff_transcript_and_emails_the_visitor', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Where is my order?', 'Hello?');
    fake.simulateVisitorEmail(chat, 'maria@example.com');
    await fake.acceptChat(chat);
    await fake.sendMessage(chat, 'staff only: check the warehouse', 'note');
    await fake.endChat(chat);

    const user = userEvent.setup();
    await user.click(await screen.findByTestId('tickets-toggle'));
    const row = await screen.findByTestId('ticket-1');
    await user.click(within(row).getByTestId('ticket-detail-toggle'));
    const transcript = await within(row).findByTestId('ticket-transcript');
    expect(transcript).toHaveTextContent('Hello?');
    expect(within(transcript).getByText(/staff only: check the warehouse/).closest('li')).toHaveAttribute('data-visibility', 'note');
    await user.click(within(row).getByTestId('ticket-email'));
    expect(await within(row).findByTestId('ticket-emailed')).toHaveTextContent('Sent to maria@example.com.');
    expect(fake.calls).toContain('emailTranscript 1');
    await user.click(within(row).getByTestId('ticket-detail-toggle'));
    await waitFor(() => expect(within(row).queryByTestId('ticket-transcript')).toBeNull());
  });

  it('b25 no_tickets_shows_an_empty_state', async () => {
    await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('tickets-toggle'));
    expect(await screen.findByTestId('tickets-empty')).toBeInTheDocument();
  });
});
