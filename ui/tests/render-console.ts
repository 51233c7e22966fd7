// Renders the whole console against a FakeBackend, the way main.ts does inside the app.

import { render } from '@testing-library/svelte';
import App from '../src/App.svelte';
import { ConsoleState } from '../src/console.svelte';
import { FakeBackend, type FakeBackendOptions } from '../src/lib/fake-backend';
import type { SettingsStorage } from '../src/settings/settings.svelte';

export const FIXED_NOW = Date.UTC(2026, 10, 22, 9, 30, 0);

/** A fresh in-memory settings storage per render, so one test's preferences never leak. */
export function memoryStorage(): SettingsStorage {
  const values = new Map<string, string>();
  return {
    getItem: (key) => values.get(key) ?? null,
    setItem: (key, value) => {
      values.set(key, value);
    },
  };
}

export async function renderConsole(options: FakeBackendOptions = {}, settingsStorage: SettingsStorage = memoryStorage()) {
  const fake = new FakeBackend({ now: () => FIXED_NOW, ...options });
  const state = new ConsoleState(fake, settingsStorage);
  const rendered = render(App, { props: { state } });
  await state.start();
  return { fake, state, ...rendered };
}
