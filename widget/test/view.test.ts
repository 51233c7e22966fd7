import { afterEach, describe, expect, it } from "vitest";
import { VisitorClient } from "../src/client";
import { EMOJI, EMOJI_COLUMNS } from "../src/emoji";
import { HOST_ID, type MountedWidget, mountWidget } from "../src/view";
import { FakeEnvironment, chat, commandsSent, event, message, settle, welcome } from "./fakes";

const HOSTILE = `<img src=x onerror="window.__pwned=1">`;

let mounted: MountedWidget | null = null;

afterEach(() => {
  mounted?.destroy();
  mounted = null;
  delete (window as unknown as Record<string, unknown>)["__pwned"];
});

async function connectedWidget() {
  const environment = new FakeEnvironment();
  const client = new VisitorClient({ origin: "https://chat.example.com", embedKey: "demo" }, environment);
  client.start();
  mounted = mountWidget(document, client);
  document.body.append(mounted.host);
  const root = mounted.root;
  const byTestId = <T extends Element = HTMLElement>(id: string): T => {
    const found = root.querySelector<T>(`[data-testid="${id}"]`);
    if (found === null) throw new Error(`no element with data-testid=${id}`);
    return found;
  };
  byTestId<HTMLButtonElement>("sb-launcher").click();
  await settle();
  const socket = environment.socket;
  socket.handlers.open();
  welcome(socket);
  return { environment, client, root, socket, byTestId };
}

function shownMessages(root: ShadowRoot): { from: string | null; text: string }[] {
  return Array.from(root.querySelectorAll('[data-testid="sb-message"]'), (node) => ({
    from: node.getAttribute("data-from"),
    text: node.querySelector(".body")?.textContent ?? "",
  }));
}

describe("widget view", () => {
  it("lives in an open shadow root on #switchboard-widget and opens from the launcher", async () => {
    const { byTestId, root } = await connectedWidget();
    expect(document.getElementById(HOST_ID)?.shadowRoot).toBe(root);
    expect(byTestId("sb-panel").hidden).toBe(false);
    expect(byTestId("sb-launcher").getAttribute("aria-expanded")).toBe("true");
    for (const id of ["sb-name", "sb-email", "sb-question", "sb-start", "sb-status", "sb-composer", "sb-send", "sb-end"]) {
      expect(byTestId(id), id).toBeTruthy();
    }
    // No styles leak into the page: the page's document has no stylesheet of ours.
    expect(document.head.querySelectorAll("style").length).toBe(0);
  });

  it("b51_pre_chat_form_starts_a_chat_then_shows_the_waiting_notice", async () => {
    const { byTestId, socket, root } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: null, messages: [] });
    byTestId<HTMLInputElement>("sb-name").value = "Vera Visitor";
    byTestId<HTMLTextAreaElement>("sb-question").value = "Do you ship to Norway?";
    byTestId<HTMLButtonElement>("sb-start").click();
    const [start] = commandsSent(socket);
    expect(start?.command).toMatchObject({ type: "start", name: "Vera Visitor", question: "Do you ship to Norway?" });
    event(socket, 2, { type: "chatUpdated", chat: chat() });
    expect(byTestId("sb-status").textContent).toBe("Waiting for an operator…");
    expect(byTestId("sb-composer").closest("form")?.hidden).toBe(false);
    expect(shownMessages(root)).toEqual([{ from: "me", text: "Do you ship to Norway?" }]);
  });

  it("asks for the name instead of starting when it is missing", async () => {
    const { byTestId, socket } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: null, messages: [] });
    byTestId<HTMLTextAreaElement>("sb-question").value = "Hello?";
    byTestId<HTMLButtonElement>("sb-start").click();
    expect(commandsSent(socket)).toHaveLength(0);
    expect(byTestId("sb-panel").querySelector('[role="alert"]')?.textContent).toBe("Please enter your name.");
  });

  it("renders hostile message text literally, never as markup", async () => {
    const { socket, root } = await connectedWidget();
    event(socket, 1, {
      type: "snapshot",
      chat: chat({ state: "active", subject: HOSTILE }),
      messages: [message({ id: 1, body: HOSTILE, from: { kind: "operator", name: `<b>Ann</b>` } })],
    });
    expect(root.querySelector("img")).toBeNull();
    expect(root.querySelector("b")).toBeNull();
    const operator = root.querySelector('[data-from="operator"]');
    expect(operator?.querySelector(".body")?.textContent).toBe(HOSTILE);
    expect(operator?.querySelector(".author")?.textContent).toBe("<b>Ann</b>");
    expect((window as unknown as Record<string, unknown>)["__pwned"]).toBeUndefined();
  });

  it("places my messages, operator messages and notices with their data-from", async () => {
    const { socket, root, byTestId } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: chat({ subject: "Question" }), messages: [] });
    event(socket, 2, { type: "operatorJoined", name: "Ann Operator" });
    event(socket, 3, { type: "chatUpdated", chat: chat({ subject: "Question", state: "active", operators: ["Ann Operator"] }) });
    event(socket, 4, { type: "messagePosted", message: message({ id: 9, body: "Hi!" }) });
    expect(shownMessages(root)).toEqual([
      { from: "me", text: "Question" },
      { from: "system", text: "Ann Operator joined" },
      { from: "operator", text: "Hi!" },
    ]);
    expect(byTestId("sb-status").textContent).toBe("You are chatting with Ann Operator");
    expect(root.querySelector('[role="log"]')?.getAttribute("aria-live")).toBe("polite");
  });

  it("sends on Enter, keeps Shift+Enter for a newline, and shows the echo as pending", async () => {
    const { socket, root, byTestId } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    const composer = byTestId<HTMLTextAreaElement>("sb-composer");
    composer.value = "line one";
    composer.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true, bubbles: true }));
    expect(commandsSent(socket)).toHaveLength(0);
    composer.value = "line one\nline two";
    composer.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
    expect(commandsSent(socket).map((frame) => frame.command)).toEqual([{ type: "send", body: "line one\nline two" }]);
    expect(composer.value).toBe("");
    const echo = root.querySelector('[data-from="me"].pending');
    expect(echo?.querySelector(".body")?.textContent).toBe("line one\nline two");
  });

  it("offers Retry on a failed send and End chat while the chat is open", async () => {
    const { socket, root, byTestId } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    byTestId<HTMLTextAreaElement>("sb-composer").value = "hello";
    byTestId<HTMLButtonElement>("sb-send").click();
    socket.handlers.message(
      JSON.stringify({
        type: "reply",
        id: "cmd-1",
        outcome: { status: "error", error: { code: "conflict", message: "The chat has ended." } },
      }),
    );
    const retry = root.querySelector<HTMLButtonElement>("button[data-action='retry']");
    expect(retry?.textContent).toBe("Retry");
    retry?.click();
    expect(commandsSent(socket).at(-1)).toEqual({ type: "command", id: "cmd-2", command: { type: "send", body: "hello" } });

    byTestId<HTMLButtonElement>("sb-end").click();
    expect(commandsSent(socket).at(-1)?.command).toEqual({ type: "leave" });
  });

  it("moves focus into the panel on open, back to the launcher on Escape, and badges unread replies", async () => {
    const { socket, root, byTestId } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    const launcher = byTestId<HTMLButtonElement>("sb-launcher");
    launcher.click(); // close
    launcher.click(); // open again
    expect(root.activeElement).toBe(byTestId("sb-composer"));
    byTestId("sb-panel").dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(byTestId("sb-panel").hidden).toBe(true);
    expect(root.activeElement).toBe(launcher);
    expect(launcher.textContent).toContain("Open chat");
    event(socket, 2, { type: "messagePosted", message: message({ id: 3, body: "Are you still there?" }) });
    const badge = root.querySelector<HTMLElement>(".badge");
    expect(badge?.hidden).toBe(false);
    expect(badge?.textContent).toBe("1");
    launcher.click();
    expect(badge?.hidden).toBe(true);
  });

  it("b16 marks an edited reply '(edited)' live and after a reload, and keeps a deletion's placeholder", async () => {
    const { socket, root, environment } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active", subject: "" }), messages: [] });
    event(socket, 2, { type: "messagePosted", message: message({ id: 5, body: "Ships Monday" }) });
    event(socket, 3, { type: "messagePosted", message: message({ id: 6, body: "Wrong chat, sorry" }) });
    expect(root.querySelector('[data-testid="sb-edited"]')).toBeNull();
    event(socket, 4, { type: "messageEdited", message: message({ id: 5, body: "Ships Tuesday", editedAt: 1_700_000_009_000 }) });
    event(socket, 5, { type: "messageDeleted", message: 6 });
    const check = (widgetRoot: ShadowRoot) => {
      const edited = widgetRoot.querySelector('[data-key="m:5"]');
      expect(edited?.querySelector(".body")?.textContent).toBe("Ships Tuesday");
      expect(edited?.querySelector('[data-testid="sb-edited"]')?.textContent).toBe("(edited)");
      const deleted = widgetRoot.querySelector('[data-key="m:6"]');
      expect(deleted?.querySelector(".body")?.textContent).toBe("Message deleted");
      expect(deleted?.classList.contains("deleted")).toBe(true);
      expect(deleted?.querySelector('[data-testid="sb-edited"]')).toBeNull();
    };
    check(root);

    // A reload: a new client and view over the same stored record, resuming from its cursor.
    mounted?.destroy();
    const again = new VisitorClient({ origin: "https://chat.example.com", embedKey: "demo" }, environment);
    again.start();
    mounted = mountWidget(document, again);
    document.body.append(mounted.host);
    check(mounted.root);
    const hello = environment.socket.sent[0] as { since: number | null };
    expect(hello).toBeUndefined(); // Not open yet: the socket sends hello on open.
    environment.socket.handlers.open();
    expect((environment.socket.sent[0] as { since: number | null }).since).toBe(5);
  });

  it("b32 the emoji picker shows only while the live chat allows emoji and hides live", async () => {
    const { socket, root, byTestId } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    const toggle = byTestId<HTMLButtonElement>("sb-emoji");
    const picker = byTestId("sb-emoji-picker");
    expect(toggle.hidden).toBe(false);
    expect(toggle.getAttribute("aria-label")).toBe("Insert emoji");
    toggle.click();
    expect(picker.hidden).toBe(false);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    event(socket, 2, { type: "chatUpdated", chat: chat({ state: "active", emojiEnabled: false }) });
    expect(toggle.hidden).toBe(true);
    expect(picker.hidden, "switching emoji off closes an open picker").toBe(true);
    event(socket, 3, { type: "chatUpdated", chat: chat({ state: "active", emojiEnabled: true }) });
    expect(toggle.hidden).toBe(false);
    expect(root.querySelectorAll('[data-testid="sb-emoji-picker"] button')).toHaveLength(EMOJI.length);
  });

  it("b32 the emoji grid is keyboard navigable, Escape closes only it, and a pick lands at the caret", async () => {
    const { socket, root, byTestId, client } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    const composer = byTestId<HTMLTextAreaElement>("sb-composer");
    composer.value = "Hello world";
    composer.setSelectionRange(5, 5);
    const toggle = byTestId<HTMLButtonElement>("sb-emoji");
    const picker = byTestId("sb-emoji-picker");
    toggle.click();
    const cells = Array.from(picker.querySelectorAll("button"));
    expect(root.activeElement).toBe(cells[0]);
    expect(cells.filter((cell) => cell.tabIndex === 0)).toHaveLength(1);
    const press = (key: string) => root.activeElement?.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
    press("ArrowRight");
    expect(root.activeElement).toBe(cells[1]);
    press("ArrowDown");
    expect(root.activeElement).toBe(cells[1 + EMOJI_COLUMNS]);
    expect(cells[1 + EMOJI_COLUMNS]?.tabIndex).toBe(0);
    press("Escape");
    expect(picker.hidden).toBe(true);
    expect(byTestId("sb-panel").hidden, "Escape closed only the picker").toBe(false);
    expect(root.activeElement).toBe(toggle);
    expect(client.view.open).toBe(true);

    toggle.click();
    expect(root.activeElement, "the grid reopens where the visitor left it").toBe(cells[1 + EMOJI_COLUMNS]);
    (root.activeElement as HTMLButtonElement).click();
    const picked = EMOJI[1 + EMOJI_COLUMNS] ?? "";
    expect(composer.value).toBe(`Hello${picked} world`);
    expect(composer.selectionStart).toBe(5 + picked.length);
    expect(picker.hidden).toBe(true);
    expect(root.activeElement).toBe(composer);
    // It is part of the message like typed text.
    byTestId<HTMLButtonElement>("sb-send").click();
    expect(commandsSent(socket).at(-1)?.command).toEqual({ type: "send", body: `Hello${picked} world` });
  });

  it("shows the closed state with Start a new chat, which brings back the form", async () => {
    const { socket, root, byTestId } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: chat({ state: "closed" }), messages: [] });
    expect(byTestId("sb-end").hidden).toBe(true);
    expect(byTestId("sb-status").textContent).toBe("This chat has ended.");
    const restart = Array.from(root.querySelectorAll("button")).find((button) => button.textContent === "Start a new chat");
    expect(restart).toBeDefined();
    restart?.click();
    expect(byTestId("sb-name").closest("form")?.hidden).toBe(false);
  });
});
