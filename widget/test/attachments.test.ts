import { afterEach, describe, expect, it } from "vitest";
import type { RawFetch, RawUpload } from "../src/attachments";
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

  it("b32 the file button draws a paperclip, not an emoji, and keeps its label", async () => {
    const { root } = await chattingWidget(() => ({ status: 200, body: {} }));
    const button = root.querySelector<HTMLButtonElement>('[data-testid="sb-attach"]');
    expect(button?.getAttribute("aria-label")).toBe("Send a file");
    expect(button?.textContent, "no emoji that needs an emoji font").toBe("");
    const svg = button?.querySelector("svg");
    expect(svg?.namespaceURI).toBe("http://www.w3.org/2000/svg");
    expect(svg?.getAttribute("aria-hidden")).toBe("true");
    expect(svg?.querySelector("path")?.getAttribute("d")).toBeTruthy();
  });

  it("b32 a refusal says why in the server's words and offers a retry with the same id", async () => {
    let refuse = true;
    const { root, requests } = await chattingWidget(() =>
      refuse
        ? { status: 413, body: { code: "tooLarge", message: "This file is too large: the limit is 10 MB." } }
        : { status: 200, body: {} },
    );
    const input = root.querySelector<HTMLInputElement>('[data-testid="sb-file"]');
    Object.defineProperty(input, "files", { value: [new File(["x"], HOSTILE, { type: "application/pdf" })] });
    input?.dispatchEvent(new Event("change"));
    await settle();
    await settle();
    const byTestId = (id: string) => root.querySelector<HTMLElement>(`[data-testid="${id}"]`);
    expect(byTestId("sb-upload-problem")?.getAttribute("role")).toBe("alert");
    expect(byTestId("sb-upload-problem")?.textContent).toBe("This file is too large: the limit is 10 MB.");
    expect(byTestId("sb-upload")?.textContent).toContain(`${HOSTILE} was not sent.`);
    expect(byTestId("sb-upload-progress")?.hidden).toBe(true);
    expect(byTestId("sb-upload-cancel")?.textContent).toBe("Dismiss");
    expect(root.querySelectorAll(".upload img")).toHaveLength(0);

    refuse = false;
    byTestId("sb-upload-retry")?.click();
    await settle();
    await settle();
    expect(requests).toHaveLength(2);
    expect(requests[1]?.headers["x-client-id"]).toBe(requests[0]?.headers["x-client-id"]);
    expect(byTestId("sb-upload")?.hidden, "a sent file leaves no trace in the upload area").toBe(true);
  });

  it("b32 a type refusal can be dismissed", async () => {
    const { root } = await chattingWidget(() => ({
      status: 415,
      body: { code: "badRequest", message: "This kind of file cannot be sent." },
    }));
    const input = root.querySelector<HTMLInputElement>('[data-testid="sb-file"]');
    Object.defineProperty(input, "files", { value: [new File(["MZ"], "tool.exe")] });
    input?.dispatchEvent(new Event("change"));
    await settle();
    await settle();
    const upload = root.querySelector<HTMLElement>('[data-testid="sb-upload"]');
    expect(upload?.textContent).toContain("This kind of file cannot be sent.");
    const dismiss = root.querySelector<HTMLButtonElement>('[data-testid="sb-upload-cancel"]');
    expect(dismiss?.textContent).toBe("Dismiss");
    dismiss?.click();
    expect(upload?.hidden).toBe(true);
  });

  it("b32 a progress bar with an accessible label follows the upload, and Cancel stops it", async () => {
    const environment = new FakeEnvironment();
    const uploads: { progress(sent: number): void; signal: AbortSignal; finish(status: number): void }[] = [];
    const uploadRaw: RawUpload = (_url, init) =>
      new Promise((resolve, reject) => {
        init.signal.addEventListener("abort", () => reject(new Error("aborted")));
        uploads.push({
          progress: init.progress,
          signal: init.signal,
          finish: (status) => resolve({ ok: status < 300, status, json: async () => ({}) }),
        });
      });
    const client = new VisitorClient(
      { origin: "https://chat.example.com", embedKey: "demo" },
      Object.assign(environment, { uploadRaw }),
    );
    client.start();
    mounted = mountWidget(document, client);
    document.body.append(mounted.host);
    const root = mounted.root;
    const byTestId = <T extends HTMLElement = HTMLElement>(id: string) => root.querySelector<T>(`[data-testid="${id}"]`);
    byTestId("sb-launcher")?.click();
    await settle();
    environment.socket.handlers.open();
    welcome(environment.socket);
    event(environment.socket, 1, { type: "snapshot", chat: chat({ state: "active" }), messages: [] });

    const attach = (name: string) => {
      const input = byTestId<HTMLInputElement>("sb-file");
      Object.defineProperty(input, "files", { value: [new File(["0123456789"], name)], configurable: true });
      input?.dispatchEvent(new Event("change"));
    };
    attach("photo.jpg");
    const bar = byTestId<HTMLProgressElement>("sb-upload-progress");
    expect(byTestId("sb-upload")?.hidden).toBe(false);
    expect(bar?.hidden).toBe(false);
    const label = root.getElementById(bar?.getAttribute("aria-labelledby") ?? "");
    expect(label?.textContent).toBe("Sending photo.jpg…");
    expect(bar?.hasAttribute("value"), "indeterminate until something is counted").toBe(false);
    expect(byTestId<HTMLButtonElement>("sb-attach")?.disabled).toBe(true);

    uploads[0]?.progress(4);
    expect(bar?.max).toBe(10);
    expect(bar?.value).toBe(4);
    uploads[0]?.progress(10);
    expect(bar?.value).toBe(10);

    expect(byTestId("sb-upload-cancel")?.textContent).toBe("Cancel");
    expect(byTestId("sb-upload-retry")?.hidden).toBe(true);
    byTestId("sb-upload-cancel")?.click();
    expect(uploads[0]?.signal.aborted).toBe(true);
    await settle();
    expect(byTestId("sb-upload")?.hidden).toBe(true);
    expect(byTestId("sb-upload-problem")?.textContent, "a cancel is no failure").toBe("");
    expect(byTestId<HTMLButtonElement>("sb-attach")?.disabled).toBe(false);

    attach("second.jpg");
    uploads[1]?.finish(200);
    await settle();
    expect(byTestId("sb-upload")?.hidden).toBe(true);
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
