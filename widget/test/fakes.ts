// Test doubles for the client's environment: a scripted server on the other end of fake sockets,
// timers that run only when the test advances time, and an in-memory storage.

import type { ClientEnvironment, HttpResponse, SocketHandlers } from "../src/client";
import { type KeyValueStorage, memoryStorage } from "../src/persistence";
import type {
  VisitorChat,
  VisitorCommand,
  VisitorEvent,
  VisitorMessage,
  VisitorResponse,
} from "../src/protocol";

export interface FakeSocket {
  url: string;
  handlers: SocketHandlers;
  sent: unknown[];
  closed: boolean;
}

interface Timer {
  at: number;
  callback: () => void;
  id: number;
}

export class FakeEnvironment implements ClientEnvironment {
  time = 1_000_000;
  sockets: FakeSocket[] = [];
  posts: { url: string; body: unknown }[] = [];
  storage: KeyValueStorage;
  /** What the next session POST answers; a function may throw to simulate a network failure. */
  sessionResponse: () => HttpResponse = () => jsonResponse(200, { token: `token-${this.posts.length}`, visitor: 7, liveChatName: "Acme website" });
  private timers: Timer[] = [];
  private nextTimer = 1;
  private nextId = 1;

  constructor(storage: KeyValueStorage = memoryStorage()) {
    this.storage = storage;
  }

  post = async (url: string, body: unknown): Promise<HttpResponse> => {
    this.posts.push({ url, body });
    return this.sessionResponse();
  };

  openSocket = (url: string, handlers: SocketHandlers) => {
    const socket: FakeSocket = { url, handlers, sent: [], closed: false };
    this.sockets.push(socket);
    return {
      send: (data: string) => {
        if (socket.closed) throw new Error("socket closed");
        socket.sent.push(JSON.parse(data));
      },
      close: () => {
        socket.closed = true;
      },
    };
  };

  setTimer = (callback: () => void, delayMs: number): unknown => {
    const id = this.nextTimer++;
    this.timers.push({ at: this.time + delayMs, callback, id });
    return id;
  };

  clearTimer = (handle: unknown): void => {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  };

  random = (): number => 0.5;
  now = (): number => this.time;
  newId = (): string => `cmd-${this.nextId++}`;
  pageUrl = (): string => "https://shop.example/pricing";
  /** Absent unless a test sets it, like a browser without `Intl` time zones. */
  browserContext?: () => { language: string | null; timeZone: string | null };
  /** Absent unless a test sets it (B50: page reporting on). */
  currentPage?: () => { url: string; title: string | null; referrer: string | null };

  /** Moves the clock forward, running due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = end;
  }

  pendingTimers(): number {
    return this.timers.length;
  }

  get socket(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (socket === undefined) throw new Error("no socket was opened");
    return socket;
  }
}

export function jsonResponse(status: number, body: unknown): HttpResponse {
  return { ok: status >= 200 && status < 300, status, json: async () => body };
}

/** Lets pending promise callbacks (the session POST) run. */
export async function settle(): Promise<void> {
  for (let round = 0; round < 5; round += 1) await Promise.resolve();
}

export function serverSends(socket: FakeSocket, frame: unknown): void {
  socket.handlers.message(JSON.stringify(frame));
}

export function welcome(socket: FakeSocket, resumed = false, head = 0): void {
  serverSends(socket, { type: "welcome", protocol: 1, head, resumed });
}

export function event(socket: FakeSocket, seq: number, payload: VisitorEvent): void {
  serverSends(socket, { type: "event", seq, event: payload });
}

export function reply(socket: FakeSocket, id: string, response: VisitorResponse): void {
  serverSends(socket, { type: "reply", id, outcome: { status: "ok", response } });
}

export function commandsSent(socket: FakeSocket): { id: string; command: VisitorCommand }[] {
  return socket.sent.filter(
    (frame): frame is { type: "command"; id: string; command: VisitorCommand } =>
      typeof frame === "object" && frame !== null && (frame as { type?: unknown }).type === "command",
  );
}

export function chat(overrides: Partial<VisitorChat> = {}): VisitorChat {
  return {
    id: 41,
    state: "pending",
    subject: "Do you ship to Norway?",
    operators: [],
    createdAt: 1_700_000_000_000,
    emojiEnabled: true,
    ratingEnabled: true,
    ...overrides,
  };
}

export function message(overrides: Partial<VisitorMessage> = {}): VisitorMessage {
  return {
    id: 100,
    clientId: null,
    from: { kind: "operator", name: "Ann Operator" },
    body: "Hello!",
    attachments: [],
    sentAt: 1_700_000_001_000,
    ...overrides,
  };
}
