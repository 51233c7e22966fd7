import { describe, expect, it } from "vitest";
import { BACKOFF_MAX_MS, PING_INTERVAL_MS, VisitorClient, backoffDelay, randomUuid, visitorSocketUrl } from "../src/client";
import { memoryStorage, storageKey } from "../src/persistence";
import {
  FakeEnvironment,
  chat,
  commandsSent,
  event,
  jsonResponse,
  message,
  reply,
  serverSends,
  settle,
  welcome,
} from "./fakes";

const ORIGIN = "https://chat.example.com";

function newClient(environment = new FakeEnvironment()): { client: VisitorClient; environment: FakeEnvironment } {
  const client = new VisitorClient({ origin: ORIGIN, embedKey: "demo" }, environment);
  client.start();
  return { client, environment };
}

/** Opens the panel, lets the session POST finish and the socket say hello; returns the socket. */
async function openAndConnect(client: VisitorClient, environment: FakeEnvironment) {
  client.setOpen(true);
  await settle();
  const socket = environment.socket;
  socket.handlers.open();
  return socket;
}

describe("visitor client", () => {
  it("derives the WebSocket URL from the server origin with the protocol version", () => {
    expect(visitorSocketUrl("https://chat.example.com")).toBe("wss://chat.example.com/api/v1/visitor/ws?v=1");
    expect(visitorSocketUrl("http://127.0.0.1:4100")).toBe("ws://127.0.0.1:4100/api/v1/visitor/ws?v=1");
  });

  it("creates a session only when the visitor opens the panel, then says hello asking for a snapshot", async () => {
    const { client, environment } = newClient();
    expect(environment.posts).toHaveLength(0);
    const socket = await openAndConnect(client, environment);
    expect(environment.posts).toEqual([{ url: `${ORIGIN}/api/v1/visitor/session`, body: { embedKey: "demo" } }]);
    expect(socket.url).toBe("wss://chat.example.com/api/v1/visitor/ws?v=1");
    expect(socket.sent[0]).toEqual({ type: "hello", token: "token-1", since: null });
    welcome(socket);
    event(socket, 1, { type: "snapshot", chat: null, messages: [] });
    expect(client.view.status).toEqual({ kind: "connected" });
    expect(client.view.liveChatName).toBe("Acme website");
  });

  it("b51_start_sends_the_pre_chat_form_and_applies_the_reply", async () => {
    const { client, environment } = newClient();
    const socket = await openAndConnect(client, environment);
    welcome(socket);
    event(socket, 1, { type: "snapshot", chat: null, messages: [] });
    client.startChat({ name: " Vera Visitor ", email: "", question: "Do you ship to Norway?" });
    const [start] = commandsSent(socket);
    expect(start).toEqual({
      type: "command",
      id: "cmd-1",
      command: {
        type: "start",
        name: "Vera Visitor",
        email: null,
        question: "Do you ship to Norway?",
        pageUrl: "https://shop.example/pricing",
      },
    });
    expect(client.view.starting).toBe(true);
    reply(socket, "cmd-1", { type: "start", ...chat() });
    expect(client.view.starting).toBe(false);
    expect(client.view.conversation.chat).toEqual(chat());
  });

  it("queues a start written before the socket is ready and sends it after welcome", async () => {
    const { client, environment } = newClient();
    client.setOpen(true);
    client.startChat({ name: "Vera", email: "vera@example.com", question: "Hi" });
    await settle();
    const socket = environment.socket;
    socket.handlers.open();
    expect(commandsSent(socket)).toHaveLength(0);
    welcome(socket);
    expect(commandsSent(socket).map((frame) => frame.command.type)).toEqual(["start"]);
  });

  it("matches a send reply to its local echo by command id", async () => {
    const { client, environment } = newClient();
    const socket = await openAndConnect(client, environment);
    welcome(socket);
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    client.send("  Thanks!  ");
    const [send] = commandsSent(socket);
    expect(send?.command).toEqual({ type: "send", body: "Thanks!" });
    const pending = client.view.conversation.entries.at(-1);
    expect(pending).toMatchObject({ body: "Thanks!", delivery: "pending" });

    // A reply for somebody else's id changes nothing.
    reply(socket, "cmd-999", { type: "send", ...message({ id: 3, clientId: "cmd-999", from: { kind: "me" } }) });
    expect(client.view.conversation.entries.filter((entry) => entry.kind === "message")).toHaveLength(1);

    reply(socket, send?.id ?? "", {
      type: "send",
      ...message({ id: 8, clientId: send?.id ?? "", from: { kind: "me" }, body: "Thanks!" }),
    });
    // The broadcast of the same message must not add a second copy.
    event(socket, 2, {
      type: "messagePosted",
      message: message({ id: 8, clientId: send?.id ?? "", from: { kind: "me" }, body: "Thanks!" }),
    });
    const mine = client.view.conversation.entries.filter((entry) => entry.kind === "message" && entry.body === "Thanks!");
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ id: 8, delivery: "sent" });
  });

  it("shows a failed send with a retry that uses a fresh command id", async () => {
    const { client, environment } = newClient();
    const socket = await openAndConnect(client, environment);
    welcome(socket);
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    client.send("hello");
    serverSends(socket, {
      type: "reply",
      id: "cmd-1",
      outcome: { status: "error", error: { code: "internal", message: "Try again." } },
    });
    const failed = client.view.conversation.entries.at(-1);
    expect(failed).toMatchObject({ delivery: "failed", failure: "Try again." });
    client.retry(failed?.key ?? "");
    expect(commandsSent(socket).at(-1)).toEqual({ type: "command", id: "cmd-2", command: { type: "send", body: "hello" } });
  });

  it("reconnects with backoff, resumes from the last seq and resends unanswered sends with the same id", async () => {
    const { client, environment } = newClient();
    const socket = await openAndConnect(client, environment);
    welcome(socket);
    event(socket, 4, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    client.send("are you there?");
    socket.handlers.close();
    expect(client.view.status.kind).toBe("reconnecting");
    client.send("hello?");

    environment.advance(backoffDelay(0, environment.random) - 1);
    expect(environment.sockets).toHaveLength(1);
    environment.advance(1);
    expect(environment.sockets).toHaveLength(2);
    const second = environment.socket;
    second.handlers.open();
    expect(second.sent[0]).toEqual({ type: "hello", token: "token-1", since: 4 });
    welcome(second, true, 4);
    expect(commandsSent(second)).toEqual([
      { type: "command", id: "cmd-1", command: { type: "send", body: "are you there?" } },
      { type: "command", id: "cmd-2", command: { type: "send", body: "hello?" } },
    ]);
  });

  it("backs off from half a second up to thirty seconds, with jitter", () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(1, () => 1)).toBe(1000);
    expect(backoffDelay(40, () => 1)).toBe(BACKOFF_MAX_MS);
    expect(backoffDelay(40, () => 0)).toBe(BACKOFF_MAX_MS / 2);
  });

  it("retries the session request with backoff when the server is unreachable", async () => {
    const environment = new FakeEnvironment();
    let calls = 0;
    environment.sessionResponse = () => {
      calls += 1;
      if (calls === 1) throw new TypeError("Failed to fetch");
      return jsonResponse(200, { token: "token-ok", visitor: 1, liveChatName: "Acme website" });
    };
    const { client } = newClient(environment);
    client.setOpen(true);
    await settle();
    expect(client.view.status.kind).toBe("reconnecting");
    expect(environment.sockets).toHaveLength(0);
    environment.advance(1_000);
    await settle();
    expect(environment.sockets).toHaveLength(1);
  });

  it("drops an unauthorized token and starts over with a new session", async () => {
    const { client, environment } = newClient();
    const socket = await openAndConnect(client, environment);
    serverSends(socket, { type: "error", error: { code: "unauthorized", message: "Session expired." } });
    await settle();
    expect(environment.posts).toHaveLength(2);
    const fresh = environment.socket;
    expect(fresh).not.toBe(socket);
    fresh.handlers.open();
    expect(fresh.sent[0]).toEqual({ type: "hello", token: "token-2", since: null });
  });

  it("keeps the token and conversation in localStorage so a reload continues the chat", async () => {
    const storage = memoryStorage();
    const first = newClient(new FakeEnvironment(storage));
    const socket = await openAndConnect(first.client, first.environment);
    welcome(socket);
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    event(socket, 2, { type: "operatorJoined", name: "Ann Operator" });
    event(socket, 3, { type: "messagePosted", message: message({ id: 5, body: "Hi there" }) });
    first.client.stop();
    expect(storage.getItem(storageKey(ORIGIN, "demo"))).toContain("token-1");

    // The reloaded page: same storage, new client. It connects at once, without a new session.
    const reloaded = newClient(new FakeEnvironment(storage));
    expect(reloaded.environment.posts).toHaveLength(0);
    expect(reloaded.client.view.open).toBe(true);
    expect(reloaded.client.view.conversation.entries.map((entry) => (entry.kind === "notice" ? entry.text : entry.body))).toEqual([
      "Ann Operator joined",
      "Hi there",
    ]);
    reloaded.environment.socket.handlers.open();
    expect(reloaded.environment.socket.sent[0]).toEqual({ type: "hello", token: "token-1", since: 3 });

    // Another embed key on the same origin does not see it.
    const other = new VisitorClient({ origin: ORIGIN, embedKey: "other" }, new FakeEnvironment(storage));
    expect(other.view.conversation.entries).toHaveLength(0);
  });

  it("pings every 20 seconds and reconnects when the server falls silent", async () => {
    const { client, environment } = newClient();
    const socket = await openAndConnect(client, environment);
    welcome(socket);
    environment.advance(PING_INTERVAL_MS);
    expect(socket.sent.at(-1)).toEqual({ type: "ping", nonce: 1 });
    serverSends(socket, { type: "pong", nonce: 1 });
    environment.advance(PING_INTERVAL_MS);
    expect(socket.sent.at(-1)).toEqual({ type: "ping", nonce: 2 });
    expect(socket.closed).toBe(false);
    environment.advance(PING_INTERVAL_MS * 2);
    expect(socket.closed).toBe(true);
    expect(client.view.status.kind).toBe("reconnecting");
  });

  it("counts operator messages that arrive while the panel is closed", async () => {
    const { client, environment } = newClient();
    const socket = await openAndConnect(client, environment);
    welcome(socket);
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    client.setOpen(false);
    event(socket, 2, { type: "messagePosted", message: message({ id: 1 }) });
    expect(client.view.unread).toBe(1);
    client.setOpen(true);
    expect(client.view.unread).toBe(0);
  });

  it("generates version 4 UUIDs for command ids", () => {
    const id = randomUuid();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(randomUuid()).not.toBe(id);
  });
});
