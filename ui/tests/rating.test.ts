import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import ChannelIcon from '../src/chats/ChannelIcon.svelte';
import { renderConsole } from './render-console';

const HOSTILE = '<img src=x onerror="alert(1)"> <b>great</b>';

describe('chat rating (B33)', () => {
  it('b33 rated_system_event_and_header_show_a_hostile_comment_as_text', async () => {
    const { fake, state, container } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'Where is my parcel?');
    await fake.acceptChat(chat);
    fake.simulateVisitorLeft(chat);
    fake.simulateRating(chat, 'good', HOSTILE);

    state.chats.selectGroup('closed');
    await state.chats.open(chat);
    // The server's staff-only system note, shown as a system event in the conversation.
    const event = await screen.findByText(`Visitor rated: 👍 good — ${HOSTILE}`);
    const item = event.closest('li');
    expect(item).toHaveAttribute('data-author-kind', 'system');
    expect(item).toHaveAttribute('data-visibility', 'note');

    // The closed chat's header shows the rating, the comment as text.
    const badge = await screen.findByTestId('chat-rating');
    expect(badge).toHaveAttribute('data-score', 'good');
    expect(within(badge).getByRole('img', { name: 'Visitor rated the chat good' })).toHaveTextContent('👍 good');
    expect(within(badge).getByTestId('chat-rating-comment').textContent).toBe(HOSTILE);
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('b')).toBeNull();

    // A changed rating replaces the badge and adds its own event.
    fake.simulateRating(chat, 'bad', null);
    await screen.findByText('Visitor changed the rating to 👎 bad');
    await waitFor(() => expect(screen.getByTestId('chat-rating')).toHaveAttribute('data-score', 'bad'));
    expect(screen.queryByTestId('chat-rating-comment')).toBeNull();
  });

  it('b33 an_unrated_chat_shows_no_rating', async () => {
    const { fake, state } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'Hello');
    await fake.acceptChat(chat);
    fake.simulateVisitorLeft(chat);
    state.chats.selectGroup('closed');
    await state.chats.open(chat);
    await screen.findByText('Hello');
    expect(screen.queryByTestId('chat-rating')).toBeNull();
  });
});

describe('rating switch and ticket rating (B33)', () => {
  it('b33 a_supervisor_switches_ratings_off_and_on_from_the_console', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'sue@example.com' });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('audit-toggle'));
    const section = await screen.findByTestId('rating-switch');
    const toggle = within(section).getByRole<HTMLInputElement>('checkbox', {
      name: 'Ask visitors of Acme website to rate their chats',
    });
    await waitFor(() => expect(toggle).toBeEnabled());
    expect(toggle).toBeChecked();

    await user.click(toggle);
    expect(await within(section).findByRole('status')).toHaveTextContent(
      'Visitors of Acme website are no longer asked to rate their chats.',
    );
    expect(toggle).not.toBeChecked();
    expect(fake.calls).toContain('setRatingSettings 1 false');
    expect(await fake.ratingSettings(1)).toEqual({ enabled: false });

    await user.click(toggle);
    await waitFor(() => expect(toggle).toBeChecked());
    expect(fake.calls).toContain('setRatingSettings 1 true');
  });

  it('b33 operators_who_do_not_supervise_see_no_switch', async () => {
    await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    await screen.findByTestId('tickets-toggle');
    expect(screen.queryByTestId('audit-toggle')).toBeNull();
    expect(screen.queryByTestId('rating-switch')).toBeNull();
  });

  it('b33 the_ticket_shows_the_rating_with_a_hostile_comment_as_text', async () => {
    const { fake, container } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'Where is my parcel?');
    await fake.acceptChat(chat);
    await fake.endChat(chat);
    fake.simulateRating(chat, 'bad', HOSTILE);

    const user = userEvent.setup();
    await user.click(await screen.findByTestId('tickets-toggle'));
    const row = await screen.findByTestId('ticket-1');
    await user.click(within(row).getByTestId('ticket-detail-toggle'));
    const badge = await within(row).findByTestId('chat-rating');
    expect(badge).toHaveAttribute('data-score', 'bad');
    expect(within(badge).getByTestId('chat-rating-comment').textContent).toBe(HOSTILE);
    expect(container.querySelector('img')).toBeNull();
  });

  it('b33 an_unrated_ticket_shows_no_rating', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'Hello');
    await fake.acceptChat(chat);
    await fake.endChat(chat);
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('tickets-toggle'));
    const row = await screen.findByTestId('ticket-1');
    await user.click(within(row).getByTestId('ticket-detail-toggle'));
    await within(row).findByTestId('ticket-transcript');
    expect(within(row).queryByTestId('chat-rating')).toBeNull();
  });
});

describe('messenger icon (B43)', () => {
  it('b43 channel_icon_names_the_channel_for_people_and_screen_readers', () => {
    render(ChannelIcon, { props: { channel: 'web' } });
    const icon = screen.getByRole('img', { name: 'Website' });
    expect(icon).toHaveAttribute('data-channel', 'web');
    expect(icon).toHaveAttribute('title', 'Website');
    expect(icon.querySelector('svg')).toHaveAttribute('aria-hidden', 'true');
  });

  it('b43 every_chat_row_shows_the_channel_the_visitor_wrote_from', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'Hello');
    const row = await screen.findByTestId(`chat-row-${chat}`);
    expect(within(row).getByTestId('channel-icon')).toHaveAttribute('data-channel', 'web');
    expect(within(row).getByRole('img', { name: 'Website' })).toBeInTheDocument();
  });
});
