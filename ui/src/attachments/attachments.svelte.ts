// Attachments in the console (B32): uploads in flight per chat, fed by the core's `upload`
// events, and `blob:` URLs for the files messages carry. The bytes come from the core, which
// holds the session token; the webview only ever sees `blob:` URLs (the CSP allows nothing else
// for images besides the app itself).

import { toApiError, type Backend } from '../lib/backend';
import type { UploadProgress } from '../lib/core';
import { messages } from '../lib/i18n';
import type { Attachment, AttachmentId, ChatId, Visibility } from '../lib/protocol';
import { DEFAULT_ATTACHMENT_MAX_BYTES } from '../lib/protocol';

/** Types shown inline as a thumbnail; anything else is a download link. */
const PREVIEWABLE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export function isPreviewable(attachment: Attachment): boolean {
  return PREVIEWABLE.has(attachment.contentType);
}

export class UploadsStore {
  /** Uploads by client id, in the order they started. */
  items = $state<UploadProgress[]>([]);
  /** A refusal that came before any progress (e.g. the file was too large to read), per chat. */
  errors = $state<Record<ChatId, string | null>>({});

  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  forChat(chat: ChatId): UploadProgress[] {
    return this.items.filter((item) => item.chat === chat);
  }

  /** Applies an `upload` event: finished ones leave, the rest are replaced in place. */
  apply(progress: UploadProgress): void {
    const index = this.items.findIndex((item) => item.id === progress.id);
    if (progress.state.kind === 'done') {
      if (index >= 0) this.items.splice(index, 1);
      return;
    }
    if (index >= 0) this.items[index] = progress;
    else this.items.push(progress);
  }

  dismiss(id: string): void {
    this.items = this.items.filter((item) => item.id !== id);
  }

  /**
   * Sends each file. The core reports progress and refusals as events; what fails before the
   * core saw the file (too large to read at all, the shell unreachable) is shown here.
   */
  async upload(chat: ChatId, files: readonly File[], visibility: Visibility): Promise<void> {
    this.errors[chat] = null;
    for (const file of files) {
      // Reading a huge file into the webview to have the server refuse it helps nobody.
      if (file.size > DEFAULT_ATTACHMENT_MAX_BYTES) {
        this.errors[chat] = messages.attachments.tooLarge(messages.attachments.size(DEFAULT_ATTACHMENT_MAX_BYTES));
        continue;
      }
      try {
        await this.backend.uploadAttachment(chat, file, visibility);
      } catch (reason) {
        const error = toApiError(reason, messages.attachments.unavailable);
        // Refusals the core reported arrive as a failed upload with the same reason.
        const reported = this.items.some(
          (item) => item.chat === chat && item.name === file.name && item.state.kind !== 'sending',
        );
        if (!reported) this.errors[chat] = error.message;
      }
    }
  }
}

/** `blob:` URLs for attachments, fetched once each and kept while the console runs. */
export class AttachmentFiles {
  private readonly urls = new Map<AttachmentId, Promise<string>>();
  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  url(attachment: Attachment): Promise<string> {
    let url = this.urls.get(attachment.id);
    if (url === undefined) {
      url = this.backend.attachmentBytes(attachment.id).then((bytes) =>
        URL.createObjectURL(new Blob([bytes], { type: attachment.contentType })),
      );
      // A failure is not kept: the next look tries again (the link may be back).
      url.catch(() => this.urls.delete(attachment.id));
      this.urls.set(attachment.id, url);
    }
    return url;
  }

  /** Saves the file through a download link (the webview's own download handling). */
  async download(attachment: Attachment): Promise<void> {
    const url = await this.url(attachment);
    const link = document.createElement('a');
    link.href = url;
    link.download = attachment.name;
    link.rel = 'noopener';
    document.body.append(link);
    link.click();
    link.remove();
  }
}
