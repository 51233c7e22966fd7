import { afterEach, describe, expect, it } from "vitest";
import { VisitorClient } from "../src/client";
import { memoryStorage } from "../src/persistence";
import { ratingScreen, ratingSwitchFrom, type RatingView } from "../src/rating";
import { type MountedWidget, mountWidget } from "../src/view";
import { FakeEnvironment, chat, commandsSent, event, jsonResponse, reply, serverSends, settle, welcome } from "./fakes";

const HOSTILE = `<img src=x onerror="window.__pwned=1">`;

let mounted: MountedWidget[] = [];

afterEach(() => {
  for (const widget of mounted) widget.destroy();
  mounted = [];
  delete (window as unknown as Record<string, unknown>)["__pwned"];
});

async function connectedWidget(environment = new FakeEnvironment()) {
  const client = new VisitorClient({ origin: "https://chat.example.com", embedKey: "demo" }, environment);
  client.start();
  const widget = mountWidget(document, client);
  mounted.push(widget);
  document.body.append(widget.host);
  const root = widget.root;
  const byTestId = <T extends HTMLElement = HTMLElement>(id: string): T => {
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

const enabled: RatingView = { enabled: true, chat: null, status: null, score: null, problem: null };

describe("chat rating (B33)", () => {
  it("b33_prompt_shows_when_an_answered_chat_ends_and_only_if_the_live_chat_asks", () => {
    expect(ratingScreen(chat({ state: "closed" }), enabled, false)).toBe("prompt");
    expect(ratingScreen(chat({ state: "active" }), enabled, false)).toBe("offer");
    expect(ratingScreen(chat({ state: "active" }), enabled, true)).toBe("prompt");
    expect(ratingScreen(chat({ state: "pending" }), enabled, true)).toBe("hidden");
    expect(ratingScreen(chat({ state: "abandoned" }), enabled, false)).toBe("hidden");
    expect(ratingScreen(chat({ state: "closed" }), { ...enabled, enabled: false }, false)).toBe("hidden");
    expect(ratingScreen(null, enabled, false)).toBe("hidden");
    const rated = { ...enabled, chat: 41, status: "rated" as const, score: "good" as const };
    expect(ratingScreen(chat({ state: "closed" }), rated, false)).toBe("thanks");
    expect(ratingScreen(chat({ state: "closed", id: 42 }), rated, false)).toBe("prompt");
    expect(ratingScreen(chat({ state: "closed" }), { ...rated, status: "skipped" }, false)).toBe("hidden");
  });

  it("b33_the_visitor_rates_an_ended_chat_with_a_comment_and_is_not_asked_again", async () => {
    const storage = memoryStorage();
    const { byTestId, socket, root } = await connectedWidget(new FakeEnvironment(storage));
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active", operators: ["Ann Operator"] }), messages: [] });
    expect(byTestId("sb-rate-open").hidden).toBe(false);
    expect(byTestId("sb-rating-prompt").hidden).toBe(true);

    event(socket, 2, { type: "chatUpdated", chat: chat({ state: "closed" }) });
    expect(byTestId("sb-rating").hidden).toBe(false);
    expect(byTestId("sb-rating-prompt").hidden).toBe(false);
    const send = byTestId<HTMLButtonElement>("sb-rating-send");
    expect(send.disabled).toBe(true);
    byTestId("sb-rate-good").click();
    expect(byTestId("sb-rate-good").getAttribute("aria-pressed")).toBe("true");
    expect(byTestId("sb-rate-bad").getAttribute("aria-pressed")).toBe("false");
    byTestId<HTMLTextAreaElement>("sb-rating-comment").value = `  ${HOSTILE}  `;
    send.click();

    const sent = commandsSent(socket).find((frame) => frame.command.type === "rate");
    expect(sent?.command).toEqual({ type: "rate", chat: 41, score: "good", comment: HOSTILE });
    expect(byTestId<HTMLButtonElement>("sb-rating-send").disabled).toBe(true);
    reply(socket, sent?.id ?? "", { type: "rate", chat: 41, score: "good", comment: HOSTILE, ratedAt: 1 });
    expect(byTestId("sb-rating-prompt").hidden).toBe(true);
    expect(byTestId("sb-rating-thanks").textContent).toBe("Thanks for your feedback!");
    expect(root.querySelector("img")).toBeNull();
    expect((window as unknown as Record<string, unknown>)["__pwned"]).toBeUndefined();

    // A reload of the page does not ask again.
    const again = await connectedWidget(new FakeEnvironment(storage));
    event(again.socket, 3, { type: "snapshot", chat: chat({ state: "closed" }), messages: [] });
    expect(again.byTestId("sb-rating-prompt").hidden).toBe(true);
    expect(again.byTestId("sb-rating-thanks").hidden).toBe(false);
  });

  it("b33_a_refused_rating_explains_why_and_escape_skips_for_good", async () => {
    const { byTestId, socket } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: chat({ state: "closed" }), messages: [] });
    byTestId("sb-rate-bad").click();
    byTestId("sb-rating-send").click();
    const sent = commandsSent(socket).find((frame) => frame.command.type === "rate");
    expect(sent?.command).toEqual({ type: "rate", chat: 41, score: "bad" });
    serverSends(socket, {
      type: "reply",
      id: sent?.id,
      outcome: { status: "error", error: { code: "conflict", message: "This chat was rated more than 24 hours ago." } },
    });
    expect(byTestId("sb-rating-problem").textContent).toBe("This chat was rated more than 24 hours ago.");
    expect(byTestId("sb-rating-prompt").hidden).toBe(false);

    byTestId("sb-rating-comment").dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(byTestId("sb-rating").hidden).toBe(true);
  });

  it("b33_rate_during_the_chat_from_the_small_button", async () => {
    const { byTestId, socket, root } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    byTestId("sb-rate-open").click();
    expect(byTestId("sb-rating-prompt").hidden).toBe(false);
    expect(root.activeElement).toBe(byTestId("sb-rate-good"));
    byTestId("sb-rating-skip").click();
    expect(byTestId("sb-rating-prompt").hidden).toBe(true);
    expect(byTestId("sb-rate-open").hidden).toBe(false);
    expect(commandsSent(socket).some((frame) => frame.command.type === "rate")).toBe(false);
  });

  it("b33_no_prompt_when_the_live_chat_switched_ratings_off", async () => {
    const environment = new FakeEnvironment();
    environment.sessionResponse = () =>
      jsonResponse(200, { token: "t", visitor: 7, liveChatName: "Acme website", ratingEnabled: false });
    const { byTestId, socket } = await connectedWidget(environment);
    // The server's chat carries the same switch as the session.
    event(socket, 1, { type: "snapshot", chat: chat({ state: "closed", ratingEnabled: false }), messages: [] });
    expect(byTestId("sb-rating").hidden).toBe(true);
  });

  it("b33_an_open_widget_follows_the_rating_switch_live", async () => {
    const { byTestId, socket } = await connectedWidget();
    event(socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });
    expect(byTestId("sb-rate-open").hidden).toBe(false);

    // A supervisor switches ratings off: the offer goes at once, and the end asks nothing.
    event(socket, 2, { type: "chatUpdated", chat: chat({ state: "active", ratingEnabled: false }) });
    expect(byTestId("sb-rate-open").hidden).toBe(true);
    event(socket, 3, { type: "chatUpdated", chat: chat({ state: "closed", ratingEnabled: false }) });
    expect(byTestId("sb-rating").hidden).toBe(true);

    // Switched on again: the ended chat's prompt shows without a reload.
    event(socket, 4, { type: "chatUpdated", chat: chat({ state: "closed", ratingEnabled: true }) });
    expect(byTestId("sb-rating").hidden).toBe(false);
    expect(byTestId("sb-rating-prompt").hidden).toBe(false);
  });

  it("b33_the_switch_is_read_only_from_chat_events", () => {
    expect(ratingSwitchFrom({ type: "chatUpdated", chat: chat({ ratingEnabled: false }) })).toBe(false);
    expect(ratingSwitchFrom({ type: "snapshot", chat: chat({ ratingEnabled: true }), messages: [] })).toBe(true);
    expect(ratingSwitchFrom({ type: "snapshot", chat: null, messages: [] })).toBeNull();
    expect(ratingSwitchFrom({ type: "operatorJoined", name: "Ann" })).toBeNull();
    // An older server's chat without the field says nothing of the switch.
    const older = { ...chat() } as Partial<ReturnType<typeof chat>>;
    delete older.ratingEnabled;
    expect(ratingSwitchFrom({ type: "chatUpdated", chat: older as ReturnType<typeof chat> })).toBeNull();
  });
});
