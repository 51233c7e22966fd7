// Typing indicators and read state ("Seen") in the widget: ephemeral typing both ways, read
// state reported once per new staff message while the panel is open.

import { describe, expect, it } from "vitest";
import { TYPING_IDLE_MS, VisitorClient } from "../src/client";
import { seenKey } from "../src/conversation";
import { TYPING_EXPIRY_MS, TYPING_REFRESH_MS } from "../src/protocol";
import { FakeEnvironment, chat, commandsSent, event, message, serverSends, settle, welcome } from "./fakes";

async function activeChat() {
  const environment = new FakeEnvironment();
  const client = new VisitorClient({ origin: "https://chat.example.com", embedKey: "demo" }, environment);
  client.start();
  client.setOpen(true);
  await settle();
  const socket = environment.socket;
  socket.handlers.open();
  welcome(socket);
  event(socket, 1, { type: "snapshot", chat: chat({ state: "active", operators: ["Ann Operator"] }), messages: [] });
  return { client, environment, socket };
}

describe("widget presence", () => {
  it("shows staff typing from transient frames and hides it after the expiry or their message", async () => {
    const { client, environment, socket } = await activeChat();
    serverSends(socket, { type: "transient", event: { type: "operatorTyping", name: "Ann Operator", typing: true } });
    expect(client.view.typing).toEqual(["Ann Operator"]);
    // A transient frame is not an event: the resume cursor does not move.
    expect(client.view.conversation.lastSeq).toBe(1);
    environment.advance(TYPING_EXPIRY_MS + 1);
    expect(client.view.typing).toEqual([]);

    serverSends(socket, { type: "transient", event: { type: "operatorTyping", name: "Ann Operator", typing: true } });
    event(socket, 2, { type: "messagePosted", message: message({ id: 5 }) });
    expect(client.view.typing).toEqual([]);
  });

  it("sends typing at most once per refresh period and stops after a pause or a send", async () => {
    const { client, environment, socket } = await activeChat();
    const typingCommands = () => commandsSent(socket).filter((frame) => frame.command.type === "typing");
    client.typed("H");
    client.typed("He");
    client.typed("Hel");
    expect(typingCommands().map((frame) => frame.command)).toEqual([{ type: "typing", typing: true }]);
    environment.advance(TYPING_REFRESH_MS);
    client.typed("Hell");
    expect(typingCommands()).toHaveLength(2);
    environment.advance(TYPING_IDLE_MS + 1);
    expect(typingCommands().at(-1)?.command).toEqual({ type: "typing", typing: false });

    client.typed("Hello");
    client.send("Hello");
    expect(typingCommands().slice(-2).map((frame) => frame.command)).toEqual([
      { type: "typing", typing: true },
      { type: "typing", typing: false },
    ]);
    // The text itself never travels with the indicator.
    expect(JSON.stringify(typingCommands())).not.toContain("Hell");
  });

  it("reports staff messages seen only while the panel is open, once each", async () => {
    const { client, socket } = await activeChat();
    const reads = () => commandsSent(socket).filter((frame) => frame.command.type === "markRead");
    event(socket, 2, { type: "messagePosted", message: message({ id: 7 }) });
    expect(reads().map((frame) => frame.command)).toEqual([{ type: "markRead", upTo: 7 }]);
    client.setOpen(false);
    event(socket, 3, { type: "messagePosted", message: message({ id: 8 }) });
    expect(reads()).toHaveLength(1);
    client.setOpen(true);
    expect(reads().at(-1)?.command).toEqual({ type: "markRead", upTo: 8 });
    client.setOpen(true);
    expect(reads()).toHaveLength(2);
  });

  it("shows Seen under my newest message the operator has read", async () => {
    const { client, socket } = await activeChat();
    event(socket, 2, { type: "messagePosted", message: message({ id: 3, from: { kind: "me" }, body: "first" }) });
    event(socket, 3, { type: "messagePosted", message: message({ id: 4, from: { kind: "me" }, body: "second" }) });
    expect(seenKey(client.view.conversation)).toBeNull();
    event(socket, 4, { type: "read", upTo: 3 });
    const first = client.view.conversation.entries.find((entry) => entry.kind === "message" && entry.id === 3);
    expect(seenKey(client.view.conversation)).toBe(first?.key);
    event(socket, 5, { type: "read", upTo: 4 });
    const second = client.view.conversation.entries.find((entry) => entry.kind === "message" && entry.id === 4);
    expect(seenKey(client.view.conversation)).toBe(second?.key);
  });
});
