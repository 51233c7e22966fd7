import { describe, expect, it } from "vitest";
import {
  type Conversation,
  type MessageEntry,
  addEcho,
  applyEvent,
  DELETED_TEXT,
  emptyConversation,
  failEcho,
  pendingEchoes,
  retryEcho,
  visibleEntries,
} from "../src/conversation";
import { chat, message } from "./fakes";

function texts(conversation: Conversation): string[] {
  return visibleEntries(conversation).map((entry) =>
    entry.kind === "notice" ? `notice:${entry.text}` : `${entry.from.kind}:${entry.body}`,
  );
}

describe("conversation", () => {
  it("replaces everything it knew with a snapshot", () => {
    let state = applyEvent(emptyConversation(), 1, {
      type: "messagePosted",
      message: message({ id: 5, body: "stale" }),
    });
    state = applyEvent(state, 9, {
      type: "snapshot",
      chat: chat({ state: "active", operators: ["Ann Operator"] }),
      messages: [
        message({ id: 10, from: { kind: "me" }, body: "Do you ship to Norway?" }),
        message({ id: 11, body: "Yes we do" }),
      ],
    });
    expect(state.lastSeq).toBe(9);
    expect(state.chat?.state).toBe("active");
    expect(texts(state)).toEqual(["me:Do you ship to Norway?", "operator:Yes we do"]);
  });

  it("ignores events replayed at or below the last applied seq", () => {
    let state = applyEvent(emptyConversation(), 3, { type: "messagePosted", message: message({ id: 1 }) });
    const replayed = applyEvent(state, 3, { type: "messagePosted", message: message({ id: 2, body: "again" }) });
    expect(replayed).toBe(state);
    state = applyEvent(state, 4, { type: "messagePosted", message: message({ id: 2, body: "new" }) });
    expect(texts(state)).toEqual(["operator:Hello!", "operator:new"]);
  });

  it("adds a join notice after the message it followed", () => {
    let state = applyEvent(emptyConversation(), 1, { type: "snapshot", chat: chat(), messages: [] });
    state = applyEvent(state, 2, {
      type: "messagePosted",
      message: message({ id: 20, from: { kind: "me" }, body: "Do you ship to Norway?" }),
    });
    state = applyEvent(state, 3, { type: "operatorJoined", name: "Ann Operator" });
    state = applyEvent(state, 4, { type: "messagePosted", message: message({ id: 21, body: "Hi, Ann here" }) });
    state = applyEvent(state, 5, { type: "operatorLeft", name: "Ann Operator" });
    expect(texts(state)).toEqual([
      "me:Do you ship to Norway?",
      "notice:Ann Operator joined",
      "operator:Hi, Ann here",
      "notice:Ann Operator left",
    ]);
  });

  it("shows a join only once when the server also posts it as a system message", () => {
    let state = applyEvent(emptyConversation(), 1, { type: "snapshot", chat: chat(), messages: [] });
    state = applyEvent(state, 2, { type: "operatorJoined", name: "Ann Operator" });
    state = applyEvent(state, 3, {
      type: "messagePosted",
      message: message({ id: 30, from: { kind: "system" }, body: "Ann Operator joined" }),
    });
    expect(texts(state).filter((text) => text.endsWith("Ann Operator joined"))).toHaveLength(1);

    // And in the other order.
    let other = applyEvent(emptyConversation(), 1, { type: "snapshot", chat: chat(), messages: [] });
    other = applyEvent(other, 2, {
      type: "messagePosted",
      message: message({ id: 30, from: { kind: "system" }, body: "Bob Operator joined" }),
    });
    other = applyEvent(other, 3, { type: "operatorJoined", name: "Bob Operator" });
    expect(texts(other).filter((text) => text.endsWith("Bob Operator joined"))).toHaveLength(1);
  });

  it("keeps local notices across a snapshot, where they were", () => {
    let state = applyEvent(emptyConversation(), 1, {
      type: "snapshot",
      chat: chat(),
      messages: [message({ id: 1, from: { kind: "me" }, body: "Do you ship to Norway?" })],
    });
    state = applyEvent(state, 2, { type: "operatorJoined", name: "Ann Operator" });
    state = applyEvent(state, 3, { type: "messagePosted", message: message({ id: 2, body: "Yes" }) });
    state = applyEvent(state, 50, {
      type: "snapshot",
      chat: chat({ state: "active" }),
      messages: [
        message({ id: 1, from: { kind: "me" }, body: "Do you ship to Norway?" }),
        message({ id: 2, body: "Yes" }),
        message({ id: 3, body: "Anything else?" }),
      ],
    });
    expect(texts(state)).toEqual([
      "me:Do you ship to Norway?",
      "notice:Ann Operator joined",
      "operator:Yes",
      "operator:Anything else?",
    ]);
  });

  it("replaces my local echo with the server's copy, keeping its key", () => {
    let state = applyEvent(emptyConversation(), 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    state = addEcho(state, "cmd-1", "Thanks", 5);
    const echo = state.entries.at(-1) as MessageEntry;
    expect(echo.delivery).toBe("pending");
    expect(pendingEchoes(state)).toHaveLength(1);
    state = applyEvent(state, 2, {
      type: "messagePosted",
      message: message({ id: 70, clientId: "cmd-1", from: { kind: "me" }, body: "Thanks" }),
    });
    const delivered = state.entries.filter((entry) => entry.kind === "message" && entry.body === "Thanks");
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ key: echo.key, id: 70, delivery: "sent" });
    expect(pendingEchoes(state)).toHaveLength(0);
  });

  it("keeps undelivered echoes through a snapshot and drops delivered ones", () => {
    let state = applyEvent(emptyConversation(), 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    state = addEcho(state, "cmd-1", "first", 5);
    state = addEcho(state, "cmd-2", "second", 6);
    state = applyEvent(state, 8, {
      type: "snapshot",
      chat: chat({ state: "active" }),
      messages: [message({ id: 9, clientId: "cmd-1", from: { kind: "me" }, body: "first" })],
    });
    expect(texts(state)).toEqual(["me:Do you ship to Norway?", "me:first", "me:second"]);
    expect(pendingEchoes(state).map((entry) => entry.clientId)).toEqual(["cmd-2"]);
  });

  it("marks a failed send and retries it under a new command id", () => {
    let state = addEcho(emptyConversation(), "cmd-1", "hello", 5);
    state = failEcho(state, "cmd-1", "The chat has ended.");
    const failed = state.entries[0] as MessageEntry;
    expect(failed).toMatchObject({ delivery: "failed", failure: "The chat has ended." });
    expect(pendingEchoes(state)).toHaveLength(0);
    state = retryEcho(state, failed.key, "cmd-2");
    expect(pendingEchoes(state)).toMatchObject([{ key: failed.key, clientId: "cmd-2", delivery: "pending" }]);
  });

  it("shows the chat's question first when the server holds it only as the subject", () => {
    const state = applyEvent(emptyConversation(), 1, {
      type: "snapshot",
      chat: chat({ subject: "Where is my order?" }),
      messages: [message({ id: 4, body: "Let me check", sentAt: chat().createdAt + 10 })],
    });
    expect(texts(state)).toEqual(["me:Where is my order?", "operator:Let me check"]);
  });

  it("b16 shows a staff edit in place and a deletion as 'Message deleted'", () => {
    let state = applyEvent(emptyConversation(), 1, {
      type: "messagePosted",
      message: message({ id: 5, body: "Ships Monday", from: { kind: "operator", name: "Ann Operator" } }),
    });
    state = applyEvent(state, 2, {
      type: "messagePosted",
      message: message({ id: 6, body: "Thanks", from: { kind: "me" } }),
    });
    state = applyEvent(state, 3, {
      type: "messageEdited",
      message: message({ id: 5, body: "Ships Tuesday", from: { kind: "operator", name: "Ann Operator" } }),
    });
    expect(texts(state)).toEqual(["operator:Ships Tuesday", "me:Thanks"]);
    state = applyEvent(state, 4, { type: "messageDeleted", message: 5 });
    expect(texts(state)).toEqual([`operator:${DELETED_TEXT}`, "me:Thanks"]);
    const deleted = state.entries.find((entry) => entry.kind === "message" && entry.id === 5) as MessageEntry;
    expect(deleted.deleted).toBe(true);
    // An edit of a message this widget never saw changes nothing.
    const unchanged = applyEvent(state, 5, {
      type: "messageEdited",
      message: message({ id: 99, body: "Unknown", from: { kind: "operator", name: "Ann Operator" } }),
    });
    expect(texts(unchanged)).toEqual(texts(state));
  });

  it("b16 keeps '(edited)' and 'Message deleted' from a snapshot, and drops a deleted message's files", () => {
    const live = applyEvent(emptyConversation(), 1, {
      type: "messagePosted",
      message: message({
        id: 5,
        body: "Ships Monday",
        attachments: [{ id: "a1", name: "label.pdf", size: 3, contentType: "application/pdf" }],
      }),
    });
    const edited = applyEvent(live, 2, {
      type: "messageEdited",
      message: message({ id: 5, body: "Ships Tuesday", editedAt: 1_700_000_009_000 }),
    });
    expect((edited.entries[0] as MessageEntry).editedAt).toBe(1_700_000_009_000);
    const deleted = applyEvent(edited, 3, { type: "messageDeleted", message: 5 });
    const gone = deleted.entries[0] as MessageEntry;
    expect([gone.body, gone.deleted, gone.editedAt, gone.attachments]).toEqual([DELETED_TEXT, true, undefined, undefined]);

    // After a reload without the stored conversation, the server's snapshot says the same.
    const snapshot = applyEvent(emptyConversation(), 9, {
      type: "snapshot",
      chat: chat({ state: "active", subject: "" }),
      messages: [
        message({ id: 5, body: "", deletedAt: 1_700_000_010_000 }),
        message({ id: 6, body: "Ships Wednesday", editedAt: 1_700_000_011_000 }),
        message({ id: 7, body: "Plain" }),
      ],
    });
    expect(texts(snapshot)).toEqual([`operator:${DELETED_TEXT}`, "operator:Ships Wednesday", "operator:Plain"]);
    const [first, second, third] = snapshot.entries as MessageEntry[];
    expect(first?.deleted).toBe(true);
    expect(second?.editedAt).toBe(1_700_000_011_000);
    expect(third?.editedAt).toBeUndefined();
  });

  it("b16 an edit from an older server without a stamp still counts as edited", () => {
    const state = applyEvent(
      applyEvent(emptyConversation(), 1, { type: "messagePosted", message: message({ id: 5, body: "a" }) }),
      2,
      { type: "messageEdited", message: message({ id: 5, body: "b" }) },
    );
    expect((state.entries[0] as MessageEntry).editedAt).toBe(message().sentAt);
  });
});
