import { afterEach, describe, expect, it } from "vitest";
import type { RawFetch } from "../src/attachments";
import { VisitorClient } from "../src/client";
import { type MountedWidget, mountWidget } from "../src/view";
import { FakeEnvironment, chat, event, message, settle, welcome } from "./fakes";

const HOSTILE = `<img src=x onerror="window.__pwned=1">.pdf`;

let mounted: MountedWidget | null = null;
afterEach(() => {
  mounted?.destroy();
  mounted = null;
  delete (window as unknown as Record<string, unknown>)["__pwned"];
});

interface Request {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Blob;
}

/** A widget in an active chat whose file requests are recorded and answered by `answer`. */
async function chattingWidget(answer: (request: Request) => { status: number; body: unknown; blob?: Blob }) {
  const environment = new FakeEnvironment();
  const requests: Request[] = [];
  const fetchRaw: RawFetch = async (url, init) => {
    const request = { url, ...init };
    requests.push(request);
    const { status, body, blob } = answer(request);
    return {
      ok: status < 300,
      status,
      json: async () => body,
      blob: async () => blob ?? new Blob([]),
    };
  };
  const withFiles = Object.assign(environment, {
    fetchRaw,
    createObjectUrl: (blob: Blob) => `blob:test/${blob.size}/${blob.type}`,
  });
  const client = new VisitorClient({ origin: "https://chat.example.com", embedKey: "demo" }, withFiles);
  client.start();
  mounted = mountWidget(document, client);
  document.body.append(mounted.host);
  const root = mounted.root;
  root.querySelector<HTMLButtonElement>('[data-testid="sb-launcher"]')?.click();
  await settle();
  const socket = environment.socket;
  socket.handlers.open();
  welcome(socket);
  event(socket, 1, { type: "snapshot", chat: chat({ state: "active", operators: ["Ann Operator"] }), messages: [] });
  return { root, socket, requests };
}

describe("attachments in the widget (B32)", () => {
  it("b32 the visitor sends a file with the file button", async () => {
    const { root, requests } = await chattingWidget(() => ({ status: 200, body: {} }));
    const input = root.querySelector<HTMLInputElement>('[data-testid="sb-file"]');
    expect(input).not.toBeNull();
    const file = new File(["hello"], "résumé.txt", { type: "text/plain" });
    Object.defineProperty(input, "files", { value: [file] });
    input?.dispatchEvent(new Event("change"));
    await settle();
    const [upload] = requests;
    expect(upload?.url).toBe("https://chat.example.com/api/v1/visitor/attachments");
    expect(upload?.method).toBe("POST");
    expect(upload?.headers["x-attachment-name"]).toBe("r%C3%A9sum%C3%A9.txt");
    expect(upload?.headers["authorization"]).toMatch(/^Bearer token-/);
    expect(upload?.headers["x-client-id"]).toBeTruthy();
    expect(upload?.body).toBe(file);
  });

  it("b32 a refusal is shown to the visitor", async () => {
    const { root } = await chattingWidget(() => ({
      status: 413,
      body: { code: "tooLarge", message: "This file is too large: the limit is 10 MB." },
    }));
    const input = root.querySelector<HTMLInputElement>('[data-testid="sb-file"]');
    Object.defineProperty(input, "files", { value: [new File(["x"], "big.pdf", { type: "application/pdf" })] });
    input?.dispatchEvent(new Event("change"));
    await settle();
    await settle();
    expect(root.querySelector(".chat [role=alert]")?.textContent).toBe("This file is too large: the limit is 10 MB.");
  });

  it("b32 operator files show as an image preview and a download link, names as text", async () => {
    const { root, socket, requests } = await chattingWidget((request) => ({
      status: 200,
      body: null,
      blob: new Blob([request.url.endsWith("img1") ? "png-bytes" : "pdf"]),
    }));
    event(socket, 2, {
      type: "messagePosted",
      message: message({
        id: 101,
        body: "",
        attachments: [
          { id: "img1", name: "cat.png", size: 9, contentType: "image/png" },
          { id: "doc1", name: HOSTILE, size: 2048, contentType: "application/pdf" },
        ],
      }),
    });
    await settle();
    await settle();
    const image = root.querySelector<HTMLImageElement>('[data-testid="sb-attachment-image"]');
    expect(image?.getAttribute("src")).toBe("blob:test/9/image/png");
    expect(image?.alt).toBe("cat.png");
    const link = root.querySelector<HTMLAnchorElement>('[data-testid="sb-attachment-link"]');
    expect(link?.textContent).toBe(`${HOSTILE} (2 KB)`);
    expect(link?.getAttribute("href")).toBe("blob:test/3/application/pdf");
    expect(link?.download).toBe(HOSTILE);
    expect(root.querySelectorAll("img")).toHaveLength(1);
    expect((window as unknown as Record<string, unknown>)["__pwned"]).toBeUndefined();
    expect(requests.every((request) => request.headers["authorization"]?.startsWith("Bearer "))).toBe(true);
    expect(requests.map((request) => request.url)).toEqual([
      "https://chat.example.com/api/v1/attachments/img1",
      "https://chat.example.com/api/v1/attachments/doc1",
    ]);
    const body = root.querySelector<HTMLElement>('[data-key="m:101"] .body');
    expect(body?.hidden, "a file-only message shows no empty bubble").toBe(true);
  });
});
