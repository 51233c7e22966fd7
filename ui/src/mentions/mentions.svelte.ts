// @mentions in notes (B26): which colleagues match the word being typed after "@", and the draft
// with the chosen name put in its place.

import type { Backend } from '../lib/backend';
import type { OperatorRef } from '../lib/protocol';
import { stripBidiControls } from '../lib/text';

/** The "@word" right before the caret, or null when the caret is not in a mention. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const match = /(?:^|\s)@([\p{L}\p{N}._-]*)$/u.exec(text.slice(0, caret));
  if (match === null) return null;
  const query = match[1] ?? '';
  return { start: caret - query.length - 1, query };
}

export function matchingColleagues(colleagues: readonly OperatorRef[], query: string): OperatorRef[] {
  const needle = query.toLocaleLowerCase();
  return colleagues
    .filter((colleague) =>
      stripBidiControls(colleague.name)
        .toLocaleLowerCase()
        .split(/\s+/)
        .some((word) => word.startsWith(needle)),
    )
    .slice(0, 8);
}

/** The draft with "@query" replaced by "@Full Name " and where the caret goes after it. */
export function applyMention(
  text: string,
  mention: { start: number; query: string },
  colleague: OperatorRef,
): { text: string; caret: number } {
  const end = mention.start + 1 + mention.query.length;
  const after = text.slice(end);
  // One space after the name, unless one already follows.
  const inserted = `@${stripBidiControls(colleague.name)}${/^\s/.test(after) ? '' : ' '}`;
  return { text: text.slice(0, mention.start) + inserted + after, caret: mention.start + inserted.length };
}

export class MentionsStore {
  colleagues = $state<OperatorRef[]>([]);
  private loaded = false;
  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Loads the colleagues once; a failure leaves the list empty and retries next time. */
  async ensureLoaded(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    try {
      this.colleagues = await this.backend.colleagues();
    } catch {
      this.loaded = false;
    }
  }
}
