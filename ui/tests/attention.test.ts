// The app-wide ringing shortcuts and the shell's "open this chat" (issue 5).

import { screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderConsole } from './render-console';

describe('ringing shortcuts', () => {
  it('ctrl_shift_m_mutes_and_ctrl_shift_a_accepts_the_oldest_ringing_request', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const first = fake.simulateNewChat('Maria', 'pricing question', 'hi');
    const second = fake.simulateNewChat('Paul', 'shipping', 'hello');
    expect(await screen.findByTestId('ringing-shortcuts')).toHaveTextContent('Ctrl+Shift+A');
    const user = userEvent.setup();
    await user.keyboard('{Control>}{Shift>}m{/Shift}{/Control}');
    await waitFor(() => expect(fake.calls).toContain(`muteChat ${first}`));
    await user.keyboard('{Control>}{Shift>}a{/Shift}{/Control}');
    await waitFor(() => expect(fake.calls).toContain(`acceptChat ${second}`));
    expect(fake.calls).not.toContain(`acceptChat ${first}`);
  });

  it('does_nothing_when_nothing_rings', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    const before = fake.calls.length;
    const user = userEvent.setup();
    await user.keyboard('{Control>}{Shift>}a{/Shift}{/Control}');
    await user.keyboard('{Control>}{Shift>}m{/Shift}{/Control}');
    expect(fake.calls.slice(before).filter((call) => /^(acceptChat|muteChat)/.test(call))).toEqual([]);
  });
});

describe('open chat from a notification (D05)', () => {
  it('d05 an_open_chat_event_opens_that_chat', async () => {
    const { state } = await renderConsole({ signedInAs: 'ann@example.com' });
    state.apply({ type: 'openChat', chat: 2 });
    await waitFor(() => expect(state.chats.selectedChatId).toBe(2));
    await screen.findByTestId('composer-input');
  });
});

describe('sound settings (D03)', () => {
  it('d03 sound_settings_are_saved_and_a_file_that_does_not_play_is_explained', async () => {
    const { fake } = await renderConsole({ signedInAs: 'ann@example.com' });
    const user = userEvent.setup();
    await user.click(screen.getByTestId('header-settings-button'));
    await user.click(screen.getByText('Sounds'));
    await user.selectOptions(await screen.findByTestId('sound-message'), 'off');
    await user.selectOptions(screen.getByTestId('sound-ring'), 'file');
    await user.type(screen.getByTestId('sound-ring-path'), '/home/ann/notes.txt');
    await user.click(screen.getByTestId('sound-save'));
    expect(await screen.findByRole('alert')).toHaveTextContent('/home/ann/notes.txt cannot be played');
    await user.clear(screen.getByTestId('sound-ring-path'));
    await user.type(screen.getByTestId('sound-ring-path'), '/home/ann/bell.ogg');
    await user.click(screen.getByTestId('sound-save'));
    await waitFor(() => expect(screen.getByTestId('sound-status')).toHaveTextContent('Sounds saved.'));
    expect(await fake.soundSettings()).toEqual({
      volume: 80,
      ring: { type: 'file', path: '/home/ann/bell.ogg' },
      message: { type: 'off' },
      invitation: { type: 'builtIn' },
      mention: { type: 'builtIn' },
      newVisitor: { type: 'off' },
      outputDevice: null,
    });
  });

  it('d03 every_event_has_its_own_sound_with_a_test_button_and_the_new_visitor_sound_is_off_by_default', async () => {
    const { fake } = await renderConsole({ signedInAs: 'ann@example.com' });
    const user = userEvent.setup();
    await user.click(screen.getByTestId('header-settings-button'));
    await user.click(screen.getByText('Sounds'));
    expect(await screen.findByTestId('sound-newVisitor')).toHaveValue('off');
    expect(screen.getByTestId('sound-newVisitor-test')).toBeDisabled();
    await user.selectOptions(screen.getByTestId('sound-newVisitor'), 'builtIn');
    await user.click(screen.getByTestId('sound-newVisitor-test'));
    await user.selectOptions(screen.getByTestId('sound-mention'), 'file');
    await user.type(screen.getByTestId('sound-mention-path'), '/home/ann/ping.flac');
    await user.click(screen.getByTestId('sound-mention-test'));
    await user.click(screen.getByTestId('sound-invitation-test'));
    await waitFor(() => expect(fake.calls).toContain('testSound invitation'));
    expect(fake.calls).toContain('testSound newVisitor');
    expect(fake.calls).toContain('testSound mention');
    await user.click(screen.getByTestId('sound-save'));
    await waitFor(() => expect(screen.getByTestId('sound-status')).toHaveTextContent('Sounds saved.'));
    const saved = await fake.soundSettings();
    expect(saved.newVisitor).toEqual({ type: 'builtIn' });
    expect(saved.mention).toEqual({ type: 'file', path: '/home/ann/ping.flac' });
  });

  it('d03 the_output_device_is_chosen_and_a_missing_one_falls_back_with_a_note', async () => {
    const devices = [
      { id: 'alsa:default', name: 'Default Audio Device', isDefault: true },
      { id: 'alsa:front:CARD=USB,DEV=0', name: 'USB Headset', isDefault: false },
    ];
    const { fake } = await renderConsole({ signedInAs: 'ann@example.com', outputDevices: devices });
    const user = userEvent.setup();
    await user.click(screen.getByTestId('header-settings-button'));
    await user.click(screen.getByText('Sounds'));
    await screen.findByRole('option', { name: 'USB Headset' });
    await user.selectOptions(screen.getByTestId('sound-device'), 'USB Headset');
    await user.click(screen.getByTestId('sound-save'));
    await waitFor(() => expect(screen.getByTestId('sound-status')).toHaveTextContent('Sounds saved.'));
    expect((await fake.soundSettings()).outputDevice).toBe('alsa:front:CARD=USB,DEV=0');
    expect(screen.queryByTestId('sound-device-fallback')).toBeNull();

    devices.pop();
    await user.click(screen.getByTestId('sound-save'));
    expect(await screen.findByTestId('sound-device-fallback')).toHaveTextContent('playing through the default device');
    expect(screen.getByTestId('sound-device')).toHaveValue('alsa:front:CARD=USB,DEV=0');
  });

  it('d03 switched_off_sound_says_so_instead_of_no_device', async () => {
    await renderConsole({ signedInAs: 'ann@example.com', soundDisabled: true });
    expect(await screen.findByTestId('ringer-disabled')).toHaveTextContent('switched off');
    expect(screen.queryByTestId('ringer-no-device')).toBeNull();
    const user = userEvent.setup();
    await user.click(screen.getByTestId('header-settings-button'));
    await user.click(screen.getByText('Sounds'));
    const why = await screen.findByTestId('sound-unavailable');
    expect(why).toHaveAttribute('data-reason', 'disabled');
    expect(why).toHaveTextContent('SWITCHBOARD_AUDIO=off');
  });

  it('d03 a_missing_device_says_no_sound_device_with_the_reason', async () => {
    await renderConsole({ signedInAs: 'ann@example.com', ringerNoDevice: 'no audio output: no device' });
    expect(await screen.findByTestId('ringer-no-device')).toHaveTextContent('No sound device');
    const user = userEvent.setup();
    await user.click(screen.getByTestId('header-settings-button'));
    await user.click(screen.getByText('Sounds'));
    const why = await screen.findByTestId('sound-unavailable');
    expect(why).toHaveAttribute('data-reason', 'noDevice');
    expect(why).toHaveTextContent('no audio output: no device');
  });
});

describe('quitting asks only while chats are active (D04)', () => {
  it('d04 the_tray_quit_asks_and_the_answer_quits_or_keeps_running', async () => {
    const { state, fake } = await renderConsole({ signedInAs: 'ann@example.com' });
    const user = userEvent.setup();
    state.apply({ type: 'confirmQuit' });
    expect(await screen.findByTestId('quit-dialog')).toHaveTextContent('Quit Switchboard?');
    await user.click(screen.getByTestId('quit-cancel'));
    await waitFor(() => expect(screen.queryByTestId('quit-dialog')).toBeNull());
    expect(fake.calls).not.toContain('quit');
    state.apply({ type: 'confirmQuit' });
    await user.click(await screen.findByTestId('quit-confirm'));
    await waitFor(() => expect(fake.calls).toContain('quit'));
  });
});
