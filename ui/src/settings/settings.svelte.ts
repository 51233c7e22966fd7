// Personal console preferences kept on this device. The send shortcut is a setting (B17): some
// operators write long answers and want Enter for new lines, others want Enter to send.

export type SendShortcut = 'enter' | 'modEnter';

const STORAGE_KEY = 'switchboard.settings.v1';

interface StoredSettings {
  sendShortcut?: unknown;
}

/** The subset of `Storage` the store uses, so tests can pass an in-memory one. */
export interface SettingsStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

function defaultStorage(): SettingsStorage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    // Some webviews throw on access when storage is disabled; settings then last for the run.
    return null;
  }
}

function readSendShortcut(storage: SettingsStorage | null): SendShortcut {
  if (storage === null) return 'enter';
  try {
    const stored = JSON.parse(storage.getItem(STORAGE_KEY) ?? '{}') as StoredSettings;
    return stored.sendShortcut === 'modEnter' ? 'modEnter' : 'enter';
  } catch {
    return 'enter';
  }
}

export class SettingsStore {
  sendShortcut = $state<SendShortcut>('enter');
  private readonly storage: SettingsStorage | null;

  constructor(storage: SettingsStorage | null = defaultStorage()) {
    this.storage = storage;
    this.sendShortcut = readSendShortcut(storage);
  }

  setSendShortcut(shortcut: SendShortcut): void {
    this.sendShortcut = shortcut;
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify({ sendShortcut: shortcut }));
    } catch {
      // A full or disabled storage only loses the preference for the next start.
    }
  }
}

/** The parts of a key event the send decision looks at. */
export interface SendKey {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  isComposing: boolean;
}

/**
 * Whether a keydown in the composer sends the draft. Shift+Enter is always a new line, and Enter
 * while an input method composes a word belongs to the input method. With `modEnter`, Ctrl+Enter
 * (Cmd+Enter on macOS) sends and a plain Enter is a new line.
 */
export function isSendKey(event: SendKey, shortcut: SendShortcut): boolean {
  if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.altKey) return false;
  const modified = event.ctrlKey || event.metaKey;
  return shortcut === 'enter' ? !modified : modified;
}
