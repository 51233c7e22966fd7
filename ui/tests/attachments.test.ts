import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { renderConsole } from './render-console';

/** A 1×1 PNG. */
const PNG = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='),
  (character) => character.charCodeAt(0),
);

// jsdom has no object URLs: hand out recognisable ones and remember what they hold.
const blobs = new Map<string, Blob>();
beforeEach(() => {
  let next = 0;
  URL.createObjectURL = vi.fn((blob: Blob) => {
    const url = `blob:test/${(next += 1)}`;
    blobs.set(url, blob);
    return url;
  });
});
afterEach(() => blobs.clear());

async function openAcceptedChat() {
  const rendered = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
  const chatId = rendered.fake.simulateNewChat('Maria', 'Order', 'Hello?');
  const user = userEvent.setup();
  await user.click(await screen.findByTestId(`chat-row-${chatId}`));
  await user.click(await screen.findByTestId('accept-button'));
  await waitFor(() => expect(screen.getByTestId('composer-mode')).toHaveTextContent('Reply'));
  return { ...rendered, chatId, user };
}

describe('attachments (B32)', () => {
  it('b32 a_picked_image_is_sent_as_a_reply_with_progress_and_shows_as_a_thumbnail_that_opens', async () => {
    const { fake, chatId, user } = await openAcceptedChat();
    const progress: number[] = [];
    await fake.onEvent((event) => {
      if (event.type === 'upload') progress.push(event.upload.sent);
    });
    const file = new File([PNG], 'cat <b>.png', { type: 'image/png' });
    await user.upload(screen.getByTestId<HTMLInputElement>('attach-input'), file);

    await waitFor(() => expect(fake.calls).toContain(`uploadAttachment ${chatId} public cat <b>.png`));
    expect(progress.at(-1), 'progress reaches the last byte').toBe(PNG.byteLength);
    const image = await screen.findByTestId<HTMLImageElement>('attachment-image');
    expect(image.src).toMatch(/^blob:/);
    expect(await blobs.get(image.src)?.arrayBuffer()).toEqual(PNG.buffer);
    expect(image).toHaveAccessibleName('Image cat <b>.png');
    expect(screen.queryByTestId('uploads'), 'a finished upload leaves no bar').toBeNull();

    await user.click(screen.getByTestId('attachment-thumbnail'));
    const viewer = await screen.findByTestId('attachment-viewer');
    expect(within(viewer).getByRole('img')).toHaveAttribute('src', image.src);
    await waitFor(() => expect(screen.getByTestId('attachment-viewer-close')).toHaveFocus());
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('attachment-viewer')).toBeNull();
  });

  it('b32 a_file_from_the_visitor_is_a_download_link_with_name_and_size', async () => {
    const { fake, chatId, user } = await openAcceptedChat();
    fake.simulateVisitorAttachment(chatId, 'invoice\u202Efdp.exe', 'application/pdf', new Uint8Array(2048));
    const link = await screen.findByTestId('attachment-download');
    expect(link, 'bidi controls are stripped from the name').toHaveTextContent('invoicefdp.exe (2 KB)');
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    await user.click(link);
    await waitFor(() => expect(click).toHaveBeenCalled());
    const anchor = click.mock.contexts[0] as HTMLAnchorElement;
    expect(anchor.download).toBe('invoice\u202Efdp.exe');
    expect(anchor.href).toMatch(/^blob:/);
    click.mockRestore();
  });

  it('b32 dropped_and_pasted_files_are_sent_as_notes_in_note_mode', async () => {
    const { fake, chatId, user } = await openAcceptedChat();
    await user.click(screen.getByTestId('composer-mode'));
    const dropped = new File(['hello'], 'dropped.txt', { type: 'text/plain' });
    await fireEvent.drop(screen.getByTestId('chat-view'), {
      dataTransfer: { types: ['Files'], files: [dropped] },
    });
    await waitFor(() => expect(fake.calls).toContain(`uploadAttachment ${chatId} note dropped.txt`));
    const pasted = new File(['x'], 'pasted.png', { type: 'image/png' });
    await fireEvent.paste(screen.getByTestId('composer-input'), { clipboardData: { files: [pasted] } });
    await waitFor(() => expect(fake.calls).toContain(`uploadAttachment ${chatId} note pasted.png`));
  });

  it('b32 refusals_are_shown_too_large_and_not_allowed', async () => {
    const { fake, user } = await openAcceptedChat();
    fake.attachmentLimit = 4;
    await user.upload(
      screen.getByTestId<HTMLInputElement>('attach-input'),
      new File(['too big'], 'big.pdf', { type: 'application/pdf' }),
    );
    expect(await screen.findByTestId('upload-error')).toHaveTextContent('too large');
    await user.click(within(screen.getByTestId('uploads')).getByRole('button', { name: 'Dismiss' }));
    fake.attachmentLimit = 1_000_000;
    // The picker accepts anything; the server decides (user-event honours no accept filter here).
    await user.upload(
      screen.getByTestId<HTMLInputElement>('attach-input'),
      new File(['<svg onload=alert(1)>'], 'logo.svg', { type: 'image/svg+xml' }),
    );
    expect(await screen.findByTestId('upload-error')).toHaveTextContent('cannot be sent');
    expect(screen.queryByTestId('attachment')).toBeNull();
  });

  it('b32 the_emoji_picker_is_hidden_when_the_live_chat_switches_staff_emoji_off', async () => {
    const { fake } = await openAcceptedChat();
    expect(screen.getByTestId('emoji-open')).toBeVisible();
    fake.setStaffEmoji(false);
    await waitFor(() => expect(screen.queryByTestId('emoji-open')).toBeNull());
    fake.setStaffEmoji(true);
    expect(await screen.findByTestId('emoji-open')).toBeVisible();
  });
});
