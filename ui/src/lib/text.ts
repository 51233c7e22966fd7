// Visitor text is hostile. The console renders message bodies only as text nodes; this module
// turns a body into plain-text segments plus links that are provably http(s), so components never
// need markup from strings.

/** Bidi embedding/override/isolate controls: they can make "gnp.exe" read as "exe.png". */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

// Only these two starts can ever become a link, so `javascript:`, `data:` and friends stay text.
const URL_CANDIDATE = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?'"*_~]+$/;

export type TextSegment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

/** Removes bidi control characters so the text displays in its logical order. */
export function stripBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}

/** A cleaned display string for places that never link (names, subjects). */
export function displayText(text: string): string {
  return stripBidiControls(text);
}

function trimCandidate(candidate: string): string {
  let result = candidate;
  for (;;) {
    const before = result;
    result = result.replace(TRAILING_PUNCTUATION, '');
    // A closing bracket belongs to the URL only when the URL opened it, as in Wikipedia links.
    const last = result.at(-1);
    const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
    if (last !== undefined && last in pairs) {
      const opener = pairs[last] ?? '';
      const opened = result.split(opener).length - 1;
      const closed = result.split(last).length - 1;
      if (closed > opened) result = result.slice(0, -1);
    }
    if (result === before) return result;
  }
}

/** The safe href for a candidate, or null when it is not an http(s) URL with a host. */
export function safeHref(candidate: string): string | null {
  const withScheme = /^www\./i.test(candidate) ? `https://${candidate}` : candidate;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.hostname === '') return null;
  return url.href;
}

/** Splits a message body into text and link segments, bidi controls removed. */
export function segmentText(body: string): TextSegment[] {
  const text = stripBidiControls(body);
  const segments: TextSegment[] = [];
  let position = 0;
  for (const match of text.matchAll(URL_CANDIDATE)) {
    const start = match.index;
    const candidate = trimCandidate(match[0]);
    const href = candidate === '' ? null : safeHref(candidate);
    if (href === null) continue;
    if (start > position) segments.push({ kind: 'text', text: text.slice(position, start) });
    segments.push({ kind: 'link', text: candidate, href });
    position = start + candidate.length;
  }
  if (position < text.length) segments.push({ kind: 'text', text: text.slice(position) });
  return mergeText(segments);
}

function mergeText(segments: TextSegment[]): TextSegment[] {
  const merged: TextSegment[] = [];
  for (const segment of segments) {
    const previous = merged.at(-1);
    if (segment.kind === 'text' && previous?.kind === 'text') {
      previous.text += segment.text;
    } else {
      merged.push(segment);
    }
  }
  return merged;
}

export interface HighlightSegment {
  text: string;
  match: boolean;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Splits display text into runs that match the search query (case-insensitively) and runs that
 * do not, so the component can wrap matches in <mark> without building markup from strings.
 */
export function highlightSegments(text: string, query: string): HighlightSegment[] {
  const clean = stripBidiControls(text);
  const needle = stripBidiControls(query).trim();
  if (needle === '') return [{ text: clean, match: false }];
  const segments: HighlightSegment[] = [];
  let position = 0;
  for (const found of clean.matchAll(new RegExp(escapeRegExp(needle), 'giu'))) {
    if (found.index > position) segments.push({ text: clean.slice(position, found.index), match: false });
    segments.push({ text: found[0], match: true });
    position = found.index + found[0].length;
  }
  if (position < clean.length) segments.push({ text: clean.slice(position), match: false });
  return segments;
}
