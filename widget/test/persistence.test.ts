import { describe, expect, it } from "vitest";
import { addEcho, emptyConversation } from "../src/conversation";
import { type KeyValueStorage, RecordStore, emptyRecord, memoryStorage, storageKey } from "../src/persistence";

describe("persistence", () => {
  it("keys the record by server origin and embed key", () => {
    expect(storageKey("https://a.example", "demo")).not.toBe(storageKey("https://b.example", "demo"));
    expect(storageKey("https://a.example", "demo")).not.toBe(storageKey("https://a.example", "other"));
  });

  it("round-trips the token, the conversation and its last seq", () => {
    const storage = memoryStorage();
    const store = new RecordStore(storage, "key");
    const conversation = { ...addEcho(emptyConversation(), "cmd-1", "hi", 1), lastSeq: 12 };
    store.save({
      ...emptyRecord(),
      open: true,
      name: "Vera",
      session: { token: "secret", visitor: 3, liveChatName: "Acme website", conversation },
    });
    const loaded = new RecordStore(storage, "key").load();
    expect(loaded.open).toBe(true);
    expect(loaded.name).toBe("Vera");
    expect(loaded.session?.token).toBe("secret");
    expect(loaded.session?.conversation).toEqual(conversation);
  });

  it("treats unreadable or foreign records as empty", () => {
    const storage = memoryStorage();
    const store = new RecordStore(storage, "key");
    storage.setItem("key", "{not json");
    expect(store.load()).toEqual(emptyRecord());
    storage.setItem("key", JSON.stringify({ version: 99, session: { token: "x" } }));
    expect(store.load()).toEqual(emptyRecord());
    // A session whose conversation looks wrong keeps the token but asks for a snapshot.
    storage.setItem(
      "key",
      JSON.stringify({
        version: 1,
        open: false,
        name: "",
        email: "",
        session: { token: "t", visitor: 1, liveChatName: "Acme", conversation: { entries: [{ kind: "evil" }], lastSeq: 4, chat: null } },
      }),
    );
    const loaded = store.load();
    expect(loaded.session?.token).toBe("t");
    expect(loaded.session?.conversation).toEqual(emptyConversation());
  });

  it("keeps working when the browser refuses storage", () => {
    const refusing: KeyValueStorage = {
      getItem: () => {
        throw new Error("SecurityError");
      },
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
      removeItem: () => {
        throw new Error("SecurityError");
      },
    };
    const store = new RecordStore(refusing, "key");
    expect(store.load()).toEqual(emptyRecord());
    expect(() => store.save(emptyRecord())).not.toThrow();
    expect(() => store.clear()).not.toThrow();
  });
});
