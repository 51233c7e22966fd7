// Renders the whole console against a FakeBackend, the way main.ts does inside the app.

import { render } from '@testing-library/svelte';
import App from '../src/App.svelte';
import { ConsoleState } from '../src/console.svelte';
import { FakeBackend, type FakeBackendOptions } from '../src/lib/fake-backend';

export const FIXED_NOW = Date.UTC(2026, 10, 22, 9, 30, 0);

export async function renderConsole(options: FakeBackendOptions = {}) {
  const fake = new FakeBackend({ now: () => FIXED_NOW, ...options });
  const state = new ConsoleState(fake);
  const rendered = render(App, { props: { state } });
  await state.start();
  return { fake, state, ...rendered };
}
