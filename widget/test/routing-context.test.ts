// B04: what the widget tells routing rules: the pre-chat topic (department) a visitor picks from
// the live chat's options, the browser's language and its IANA time zone.

import { afterEach, describe, expect, it } from "vitest";
import { VisitorClient } from "../src/client";
import { type MountedWidget, mountWidget } from "../src/view";
import { FakeEnvironment, commandsSent, event, jsonResponse, settle, welcome } from "./fakes";

const HOSTILE_TOPIC = `<img src=x onerror="window.__pwned=1">`;

let mounted: MountedWidget | null = null;

afterEach(() => {
  mounted?.destroy();
  mounted = null;
  delete (window as unknown as Record<string, unknown>)["__pwned"];
});

function environmentWithTopics(topics: string[], browser = true): FakeEnvironment {
  const environment = new FakeEnvironment();
  environment.sessionResponse = () =>
    jsonResponse(200, { token: "token-1", visitor: 7, liveChatName: "Acme website", topics });
  if (browser) environment.browserContext = () => ({ language: "de-DE", timeZone: "Europe/Berlin" });
  return environment;
}

async function widgetWith(environment: FakeEnvironment) {
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
  event(socket, 1, { type: "snapshot", chat: null, messages: [] });
  return { client, byTestId, socket };
}

describe("routing context", () => {
  it("b04_start_carries_the_chosen_topic_the_browser_language_and_time_zone", async () => {
    const { client, byTestId, socket } = await widgetWith(environmentWithTopics(["Billing", "Sales"]));
    expect(client.view.topics).toEqual(["Billing", "Sales"]);
    const select = byTestId<HTMLSelectElement>("sb-topic");
    expect(select.closest("label")?.hidden).toBe(false);
    expect(Array.from(select.options, (option) => option.value)).toEqual(["", "Billing", "Sales"]);
    byTestId<HTMLInputElement>("sb-name").value = "Vera";
    byTestId<HTMLTextAreaElement>("sb-question").value = "An invoice question";
    select.value = "Sales";
    byTestId<HTMLButtonElement>("sb-start").click();
    const [start] = commandsSent(socket);
    expect(start?.command).toEqual({
      type: "start",
      name: "Vera",
      email: null,
      question: "An invoice question",
      pageUrl: "https://shop.example/pricing",
      topic: "Sales",
      language: "de-DE",
      timeZone: "Europe/Berlin",
    });
  });

  it("b04_without_topics_the_select_is_hidden_and_no_topic_is_sent", async () => {
    const { byTestId, socket } = await widgetWith(environmentWithTopics([], false));
    expect(byTestId<HTMLSelectElement>("sb-topic").closest("label")?.hidden).toBe(true);
    byTestId<HTMLInputElement>("sb-name").value = "Vera";
    byTestId<HTMLTextAreaElement>("sb-question").value = "Hello?";
    byTestId<HTMLButtonElement>("sb-start").click();
    const [start] = commandsSent(socket);
    expect(start?.command).toEqual({
      type: "start",
      name: "Vera",
      email: null,
      question: "Hello?",
      pageUrl: "https://shop.example/pricing",
    });
  });

  it("renders topic names as text, never as markup", async () => {
    const { byTestId } = await widgetWith(environmentWithTopics([HOSTILE_TOPIC]));
    const select = byTestId<HTMLSelectElement>("sb-topic");
    expect(select.options[1]?.textContent).toBe(HOSTILE_TOPIC);
    expect(select.querySelector("img")).toBeNull();
    expect((window as unknown as Record<string, unknown>)["__pwned"]).toBeUndefined();
  });
});
