// Files in the widget (B32): the visitor sends one with the composer's button, and sees the files
// of the conversation: raster images as previews, anything else as a download link with its name
// and size. Files are fetched with the visitor's token in a header (never in a URL) and shown
// through `blob:` URLs; names are text, set with `textContent` like every message.

import type { Attachment, ClientId } from "./protocol";
import {
  ATTACHMENT_NAME_HEADER,
  ATTACHMENT_PATH,
  CLIENT_ID_HEADER,
  VISITOR_UPLOAD_ATTACHMENT_PATH,
} from "./protocol";

/** The part of `fetch` the widget needs, injectable for tests. */
export type RawFetch = (
  url: string,
  init: { method: "GET" | "POST"; headers: Record<string, string>; body?: Blob; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown>; blob(): Promise<Blob> }>;

/**
 * A POST that reports how much of its body went out: `fetch` cannot, so the browser's is an
 * `XMLHttpRequest`. Rejects when the request fails or `signal` aborts it.
 */
export type RawUpload = (
  url: string,
  init: { headers: Record<string, string>; body: Blob; signal: AbortSignal; progress(sent: number): void },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** How an upload ended. */
export type UploadOutcome = { kind: "sent" } | { kind: "cancelled" } | { kind: "failed"; problem: string };

const PREVIEWABLE = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

export function isPreviewable(attachment: Attachment): boolean {
  return PREVIEWABLE.has(attachment.contentType);
}

export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

/** A [`RawUpload`] over `fetch`, for where only that exists: no progress until it is done. */
export function uploadWithFetch(fetchRaw: RawFetch): RawUpload {
  return (url, { headers, body, signal }) => fetchRaw(url, { method: "POST", headers, body, signal });
}

/**
 * Uploads a file into the visitor's open chat. The server's refusal (size limit, a kind of file
 * it does not take) comes back as its own words. A retry may reuse `id`: the server remembers
 * only uploads that succeeded, so a resend after a lost answer posts nothing twice.
 */
export async function uploadFile(
  upload: RawUpload,
  origin: string,
  token: string,
  file: File,
  id: ClientId,
  signal: AbortSignal,
  progress: (sent: number) => void,
): Promise<UploadOutcome> {
  try {
    const response = await upload(new URL(VISITOR_UPLOAD_ATTACHMENT_PATH, origin).toString(), {
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": file.type === "" ? "application/octet-stream" : file.type,
        [ATTACHMENT_NAME_HEADER]: encodeURIComponent(file.name),
        [CLIENT_ID_HEADER]: id,
      },
      body: file,
      signal,
      progress,
    });
    if (response.ok) return { kind: "sent" };
    const error = (await response.json().catch(() => null)) as { message?: unknown } | null;
    if (typeof error?.message === "string") return { kind: "failed", problem: error.message };
    return {
      kind: "failed",
      problem: response.status === 413 ? "This file is too large." : "The file could not be sent.",
    };
  } catch {
    if (signal.aborted) return { kind: "cancelled" };
    return { kind: "failed", problem: "The file could not be sent. Check your connection and try again." };
  }
}

/** `blob:` URLs of attachments, fetched once each. */
export class AttachmentUrls {
  private readonly urls = new Map<string, Promise<string>>();

  constructor(
    private readonly fetchRaw: RawFetch,
    private readonly origin: string,
    private readonly token: () => string | null,
    private readonly createUrl: (blob: Blob) => string,
  ) {}

  url(attachment: Attachment): Promise<string> {
    let url = this.urls.get(attachment.id);
    if (url === undefined) {
      url = this.load(attachment);
      url.catch(() => this.urls.delete(attachment.id));
      this.urls.set(attachment.id, url);
    }
    return url;
  }

  private async load(attachment: Attachment): Promise<string> {
    const token = this.token();
    if (token === null) throw new Error("no session");
    const path = ATTACHMENT_PATH.replace("{id}", encodeURIComponent(attachment.id));
    const response = await this.fetchRaw(new URL(path, this.origin).toString(), {
      method: "GET",
      headers: { authorization: `Bearer ${token}` },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const blob = await response.blob();
    // The type the server decided, not whatever the response claims.
    return this.createUrl(new Blob([blob], { type: attachment.contentType }));
  }
}

/** A signature part for the view's re-render check. */
export function attachmentsSignature(attachments: readonly Attachment[] | undefined): string {
  return (attachments ?? []).map((attachment) => attachment.id).join(",");
}

/** Appends a message's files under its text. */
export function renderAttachments(
  document: Document,
  item: HTMLElement,
  attachments: readonly Attachment[] | undefined,
  url: ((attachment: Attachment) => Promise<string>) | undefined,
): void {
  if (attachments === undefined || attachments.length === 0 || url === undefined) return;
  const body = item.querySelector(".body");
  if (body instanceof HTMLElement && body.textContent === "") body.hidden = true;
  const list = document.createElement("ul");
  list.className = "attachments";
  for (const attachment of attachments) {
    const entry = document.createElement("li");
    entry.setAttribute("data-testid", "sb-attachment");
    const link = document.createElement("a");
    link.className = "attachment";
    link.rel = "noopener";
    link.target = "_blank";
    if (isPreviewable(attachment)) {
      const image = document.createElement("img");
      image.alt = attachment.name;
      image.setAttribute("data-testid", "sb-attachment-image");
      link.append(image);
      void url(attachment).then(
        (href) => {
          image.src = href;
          link.href = href;
        },
        () => (image.alt = `${attachment.name} (unavailable)`),
      );
    } else {
      link.textContent = `${attachment.name} (${formatSize(attachment.size)})`;
      link.download = attachment.name;
      link.setAttribute("data-testid", "sb-attachment-link");
      void url(attachment).then(
        (href) => (link.href = href),
        () => (link.textContent = `${attachment.name} (unavailable)`),
      );
    }
    entry.append(link);
    list.append(entry);
  }
  item.append(list);
}
