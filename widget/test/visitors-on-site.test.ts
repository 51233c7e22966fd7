// B50: the widget reports the page it is on, so staff see visitors before they chat: a session
// at once on page load, a page view after every connect, and one per in-page navigation.

import { describe, expect, it } from "vitest";
import { type PageInfo, VisitorClient } from "../src/client";
import { FakeEnvironment, commandsSent, settle, welcome } from "./fakes";

function reporting(page: PageInfo) {
  const environment = new FakeEnvironment();
  let current = page;
  environment.currentPage = () => current;
  environment.browserContext = () => ({ language: "de-DE", timeZone: "Europe/Berlin" });
  const client = new VisitorClient({ origin: "https://chat.example.com", embedKey: "demo" }, environment);
  return {
    environment,
    client,
    navigate(next: PageInfo) {
      current = next;
    },
  };
}

const pageViews = (sent: ReturnType<typeof commandsSent>) =>
  sent.filter((frame) => frame.command.type === "pageView").map((frame) => frame.command);

describe("visitors on site (B50)", () => {
  it("b50 opens a session on page load and reports the page after welcome", async () => {
    const { environment, client } = reporting({
      url: "https://shop.example/pricing",
      title: "Pricing",
      referrer: "https://search.example/",
    });
    client.start();
    await settle();
    expect(environment.posts).toHaveLength(1);
    const socket = environment.socket;
    socket.handlers.open();
    expect(pageViews(commandsSent(socket))).toEqual([]);
    welcome(socket);
    expect(pageViews(commandsSent(socket))).toEqual([
      {
        type: "pageView",
        url: "https://shop.example/pricing",
        title: "Pricing",
        referrer: "https://search.example/",
        timeZone: "Europe/Berlin",
      },
    ]);
  });

  it("b50 reports in-page navigation once per change and again after a reconnect", async () => {
    const { environment, client, navigate } = reporting({ url: "https://shop.example/", title: null, referrer: null });
    client.start();
    await settle();
    const socket = environment.socket;
    socket.handlers.open();
    welcome(socket);
    client.pageChanged(); // Same page: nothing new.
    navigate({ url: "https://shop.example/cart", title: "Cart", referrer: null });
    client.pageChanged();
    client.pageChanged();
    expect(pageViews(commandsSent(socket)).map((view) => view.type === "pageView" && view.url)).toEqual([
      "https://shop.example/",
      "https://shop.example/cart",
    ]);
    // Presence is never queued: a page change while disconnected is reported by the next welcome.
    socket.handlers.close();
    environment.advance(60_000);
    const next = environment.socket;
    expect(next).not.toBe(socket);
    next.handlers.open();
    welcome(next, true, 0);
    expect(pageViews(commandsSent(next))).toEqual([
      { type: "pageView", url: "https://shop.example/cart", title: "Cart", timeZone: "Europe/Berlin" },
    ]);
  });

  it("b50 without page reporting the widget waits for the visitor as before", async () => {
    const environment = new FakeEnvironment();
    const client = new VisitorClient({ origin: "https://chat.example.com", embedKey: "demo" }, environment);
    client.start();
    await settle();
    expect(environment.posts).toHaveLength(0);
  });
});
