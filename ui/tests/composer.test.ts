import { screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './render-console';

async function openChat(id: number) {
  const user = userEvent.setup();
  await user.click(await screen.findByTestId(`chat-row-${id}`));
  await screen.findByTestId('composer-input');
  return user;
}

function messageElements() {
  return screen.queryAllByTestId('message');
}

describe('composer', () => {
  it('b11 before_accepting_the_composer_writes_notes_only_and_says_so', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'Hello?');
    const user = await openChat(chat);

    const mode = screen.getByTestId('composer-mode');
    expect(mode).toHaveTextContent('Note');
    expect(mode.tagName, 'no reply toggle before joining').not.toBe('BUTTON');
    expect(screen.getByTestId('composer-hint')).toHaveTextContent('Accept the chat to reply');

    await user.type(screen.getByTestId('composer-input'), 'Looks like a VIP{Enter}');
    await waitFor(() => expect(fake.calls).toContain(`sendMessage ${chat} note`));
    const sent = messageElements().at(-1);
    expect(sent).toHaveAttribute('data-visibility', 'note');
    expect(sent).toHaveAttribute('data-author-kind', 'operator');
    expect(sent).toHaveTextContent('only staff see this');
    expect(fake.calls.some((call) => call.endsWith('public')), 'no public reply before joining').toBe(false);
  });

  it('b10 after_accepting_the_composer_replies_and_can_switch_to_note', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order', 'Hello?');
    const user = await openChat(chat);
    await user.click(screen.getByTestId('accept-button'));
    await waitFor(() => expect(screen.getByTestId('composer-mode')).toHaveTextContent('Reply'));
    expect(screen.queryByTestId('accept-button')).toBeNull();

    await user.type(screen.getByTestId('composer-input'), 'Hi Maria{Enter}');
    await waitFor(() => expect(fake.calls).toContain(`sendMessage ${chat} public`));
    expect(messageElements().at(-1)).toHaveAttribute('data-visibility', 'public');

    await user.click(screen.getByTestId('composer-mode'));
    expect(screen.getByTestId('composer-mode')).toHaveTextContent('Note');
    await user.type(screen.getByTestId('composer-input'), 'internal{Enter}');
    await waitFor(() => expect(fake.calls).toContain(`sendMessage ${chat} note`));
  });

  it('b17 enter_sends_and_shift_enter_adds_a_newline', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    const user = await openChat(chat);
    const input = screen.getByTestId<HTMLTextAreaElement>('composer-input');

    await user.type(input, 'line one{Shift>}{Enter}{/Shift}line two');
    expect(input.value).toBe('line one\nline two');
    expect(fake.calls.filter((call) => call.startsWith('sendMessage'))).toEqual([]);

    await user.keyboard('{Enter}');
    await waitFor(() => expect(input.value, 'the draft clears once sent').toBe(''));
    const sent = messageElements().at(-1);
    expect(sent?.querySelector('.message-body')?.textContent).toBe('line one\nline two');
  });

  it('keeps the draft and shows the reason when sending fails', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    const user = await openChat(chat);
    fake.sendMessage = async () => {
      throw { code: 'forbidden', message: 'You are not a member of this live chat.' };
    };
    await user.type(screen.getByTestId('composer-input'), 'hello{Enter}');
    expect(await screen.findByTestId('composer-error')).toHaveTextContent('You are not a member of this live chat.');
    expect(screen.getByTestId<HTMLTextAreaElement>('composer-input').value).toBe('hello');
  });

  it('does not send an empty message', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const chat = fake.simulateNewChat('Maria', 'Order');
    const user = await openChat(chat);
    await user.type(screen.getByTestId('composer-input'), '   {Enter}');
    expect(screen.getByTestId('send-button')).toBeDisabled();
    expect(fake.calls.filter((call) => call.startsWith('sendMessage'))).toEqual([]);
  });
});
