// Entry point of `widget.js`. A website embeds it with
//   <script src="https://<server>/widget.js" data-embed-key="<key>" defer></script>
// The server's origin comes from the script's own `src`, so the widget talks to the server that
// served it, whatever site it is embedded in.

import type { RawUpload } from "./attachments";
import { type ClientEnvironment, type SocketFactory, VisitorClient, randomUuid } from "./client";
import { pageStorage } from "./persistence";
import { HOST_ID, mountWidget } from "./view";

/** Read while the script runs: `document.currentScript` is null once it has finished. */
const ownScript = document.currentScript;

function findScript(): HTMLScriptElement | null {
  if (ownScript instanceof HTMLScriptElement && ownScript.src !== "") return ownScript;
  // Loaded some other way (e.g. injected by a tag manager): fall back to the tag with our attribute.
  return document.querySelector<HTMLScriptElement>("script[data-embed-key][src]");
}

const browserSocket: SocketFactory = (url, handlers) => {
  const socket = new WebSocket(url);
  let closed = false;
  const closeOnce = (): void => {
    if (closed) return;
    closed = true;
    handlers.close();
  };
  socket.addEventListener("open", () => handlers.open());
  socket.addEventListener("message", (event: MessageEvent<unknown>) => {
    if (typeof event.data === "string") handlers.message(event.data);
  });
  socket.addEventListener("close", closeOnce);
  socket.addEventListener("error", closeOnce);
  return {
    send: (data) => socket.send(data),
    close: () => {
      closed = true;
      socket.close();
    },
  };
};

/** B32: `fetch` cannot report upload progress; `XMLHttpRequest` can. */
const browserUpload: RawUpload = (url, { headers, body, signal, progress }) =>
  new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.withCredentials = false;
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.addEventListener("progress", (event) => progress(event.loaded));
    request.addEventListener("load", () =>
      resolve({
        ok: request.status >= 200 && request.status < 300,
        status: request.status,
        json: async () => JSON.parse(request.responseText) as unknown,
      }),
    );
    request.addEventListener("error", () => reject(new Error("network error")));
    request.addEventListener("abort", () => reject(new Error("aborted")));
    signal.addEventListener("abort", () => request.abort(), { once: true });
    request.send(body);
  });

function boot(): void {
  if (document.getElementById(HOST_ID) !== null) return; // Embedded twice: one widget is enough.
  const script = findScript();
  if (script === null) return;
  const embedKey = script.dataset["embedKey"] ?? "";
  if (embedKey === "") {
    console.warn("Switchboard widget: the script tag needs a data-embed-key attribute.");
    return;
  }
  const origin = new URL(script.src, location.href).origin;
  const environment: ClientEnvironment = {
    post: (url, body) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
      }),
    fetchRaw: (url, init) => fetch(url, { ...init, credentials: "omit" }),
    uploadRaw: browserUpload,
    createObjectUrl: (blob) => URL.createObjectURL(blob),
    openSocket: browserSocket,
    storage: pageStorage(),
    setTimer: (callback, delayMs) => window.setTimeout(callback, delayMs),
    clearTimer: (handle) => window.clearTimeout(handle as number),
    random: Math.random,
    now: Date.now,
    newId: randomUuid,
    pageUrl: () => location.href,
    currentPage: () => ({
      url: location.href,
      title: document.title === "" ? null : document.title,
      referrer: document.referrer === "" ? null : document.referrer,
    }),
    browserContext: () => ({
      language: typeof navigator.language === "string" && navigator.language !== "" ? navigator.language : null,
      timeZone: browserTimeZone(),
    }),
  };
  const client = new VisitorClient({ origin, embedKey }, environment);
  const widget = mountWidget(document, client);
  document.body.append(widget.host);
  window.addEventListener("online", () => client.reconnectNow());
  watchNavigation(() => client.pageChanged());
  client.start();
  if (client.view.open) client.setOpen(true);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", boot, { once: true });
} else {
  boot();
}

/** The IANA time zone the browser reports, if it reports one. */
function browserTimeZone(): string | null {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return typeof zone === "string" && zone !== "" ? zone : null;
  } catch {
    return null;
  }
}

/**
 * Calls `changed` after in-page navigation (B50): history changes of single-page sites and hash
 * changes. Event-driven, no polling; the client reports only actual changes.
 */
function watchNavigation(changed: () => void): void {
  // After the site's own handler has run, so a title it sets is seen too.
  const soon = (): void => void window.setTimeout(changed, 0);
  for (const method of ["pushState", "replaceState"] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History["pushState"]>) {
      const result = original.apply(this, args);
      soon();
      return result;
    };
  }
  window.addEventListener("popstate", soon);
  window.addEventListener("hashchange", soon);
}
