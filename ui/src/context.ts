// Hands the one `ConsoleState` to every component without threading it through props.

import { getContext, setContext } from 'svelte';
import type { ConsoleState } from './console.svelte';

const KEY = Symbol('switchboard-console');

export function provideConsole(state: ConsoleState): void {
  setContext(KEY, state);
}

export function useConsole(): ConsoleState {
  const state = getContext<ConsoleState | undefined>(KEY);
  if (state === undefined) throw new Error('useConsole() outside <App>');
  return state;
}
