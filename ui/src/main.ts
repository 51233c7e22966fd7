// Entry point: picks the backend (Tauri inside the app; the in-memory fake for `--mode fake`
// builds or a `?fake` URL) and mounts the console.

import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { ConsoleState } from './console.svelte';
import type { Backend } from './lib/backend';

async function chooseBackend(): Promise<Backend> {
  const parameters = new URLSearchParams(window.location.search);
  if (import.meta.env.MODE === 'fake' || parameters.has('fake')) {
    const { FakeBackend } = await import('./lib/fake-backend');
    const signedInAs = parameters.get('as') ?? undefined;
    // `chats` and `messages` load the fake with generated data for the bench (`npm run bench`).
    const loadChats = Number(parameters.get('chats') ?? 0);
    const loadMessages = Number(parameters.get('messages') ?? 0);
    const fake = new FakeBackend({ signedInAs, loadChats, loadMessages, seedDemoChats: loadChats === 0 });
    // The accessibility check drives states no URL reaches (invitations, attachments) through it.
    Object.assign(window, { switchboardFake: fake });
    // A visitor every so often keeps the demo alive.
    window.setInterval(() => fake.simulateNewChat('Demo Visitor', 'Question about pricing', 'Hello, is anyone there?'), 60_000);
    return fake;
  }
  const { TauriBackend } = await import('./lib/tauri-backend');
  return new TauriBackend();
}

const target = document.getElementById('app');
if (target === null) throw new Error('index.html has no #app element');
const state = new ConsoleState(await chooseBackend());
mount(App, { target, props: { state } });
await state.start();
// The demo build can open a chat from the URL (`?fake&as=...&group=myChats&chat=2`) for screenshots.
const demoParameters = new URLSearchParams(window.location.search);
const demoGroup = demoParameters.get('group');
const demoChat = Number(demoParameters.get('chat'));
if (import.meta.env.MODE === 'fake' || demoParameters.has('fake')) {
  if (demoGroup === 'unassigned' || demoGroup === 'myChats' || demoGroup === 'awaiting' || demoGroup === 'closed') {
    state.chats.selectGroup(demoGroup);
  }
  if (Number.isInteger(demoChat) && demoChat > 0) await state.chats.open(demoChat);
  // `offline` shows the console without a connection (banner, queued replies) for checks.
  if (demoParameters.has('offline')) {
    const { FakeBackend } = await import('./lib/fake-backend');
    if (state.backend instanceof FakeBackend) state.backend.setConnection({ type: 'offline' });
  }
}
