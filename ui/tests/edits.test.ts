import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './render-console';

function messageItem(body: string): HTMLElement {
  const item = screen.getByText(body).closest('li');
  if (item === null) throw new Error(`no message item for ${body}`);
  return item;
}

describe('edit and delete own messages (B16)', () => {
  it('b16 edits_and_deletes_own_messages_and_offers_nothing_on_others', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'Where is my parcel?');
    await fake.acceptChat(chat);
    await fake.sendMessage(chat, 'It ships Monday', 'public');
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('group-my-chats'));
    await user.click(await screen.findByTestId(`chat-row-${chat}`));
    await screen.findByText('It ships Monday');

    // Nothing to edit on the visitor's message.
    expect(within(messageItem('Where is my parcel?')).queryByTestId('edit-message')).toBeNull();

    await user.click(within(messageItem('It ships Monday')).getByTestId('edit-message'));
    const input = screen.getByTestId<HTMLTextAreaElement>('edit-message-input');
    await user.clear(input);
    await user.type(input, 'It ships Tuesday');
    await user.click(screen.getByTestId('save-message'));
    await screen.findByText('It ships Tuesday');
    expect(screen.queryByText('It ships Monday')).toBeNull();
    expect(fake.calls.some((call) => call.startsWith('editMessage '))).toBe(true);

    await user.click(within(messageItem('It ships Tuesday')).getByTestId('delete-message'));
    await waitFor(() => expect(screen.queryByText('It ships Tuesday')).toBeNull());
    expect(fake.calls.some((call) => call.startsWith(`deleteMessage ${chat} `))).toBe(true);
    expect(screen.getByText('Where is my parcel?')).toBeInTheDocument();
  });

  it('b16 the_fake_refuses_to_edit_or_delete_someone_elses_message', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    const visitorMessage = fake.simulateVisitorMessage(chat, 'Hello?');
    await expect(fake.editMessage(visitorMessage.id, 'Rewritten')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(fake.deleteMessage(chat, visitorMessage.id)).rejects.toMatchObject({ code: 'forbidden' });
  });
});
