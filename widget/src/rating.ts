// B33: the visitor rates their chat, thumbs up or thumbs down (the two-way scale LiveChat and
// Zendesk use: one tap, so visitors answer it) with an optional short comment. Offered when the
// chat has ended, skippable, and during the chat from a small "Rate this chat" button, both only
// while the live chat has ratings switched on. Plain buttons and a textarea: keyboard reachable
// in order, Escape skips. The prompt keeps its own small record (which chats were rated or
// skipped) so a reload does not ask again.

import type { KeyValueStorage } from "./persistence";
import type { ChatId, ChatRating, RatingScore, VisitorChat, VisitorEvent } from "./protocol";
import { MAX_RATING_COMMENT_CHARS } from "./protocol";

export type { RatingScore };

/** Where the visitor's rating of one chat stands. */
export type RatingStatus = "sending" | "rated" | "skipped";

/** What the prompt draws, part of the client's view. */
export interface RatingView {
  /** The live chat asks for ratings. */
  enabled: boolean;
  /** The chat this state belongs to; another chat has not been rated yet. */
  chat: ChatId | null;
  status: RatingStatus | null;
  score: RatingScore | null;
  /** Why the last rating was refused, for a person. */
  problem: string | null;
}

/** What the prompt asks of the client; `VisitorClient` implements it. */
export interface RatingActions {
  rate?(chat: ChatId, score: RatingScore, comment: string): void;
  skipRating?(chat: ChatId): void;
}

/**
 * The live chat's rating switch as an event carries it in the chat (a supervisor changed it while
 * this widget was open, or a snapshot after a reload), or `null` when the event says nothing of
 * it (other events, or a server too old to send it).
 */
export function ratingSwitchFrom(event: VisitorEvent): boolean | null {
  if (event.type !== "snapshot" && event.type !== "chatUpdated") return null;
  const enabled = (event.chat as Partial<VisitorChat> | null)?.ratingEnabled;
  return typeof enabled === "boolean" ? enabled : null;
}

/** Which part of the prompt shows for `chat`, given `rating` and whether the visitor opened it. */
export function ratingScreen(
  chat: VisitorChat | null,
  rating: RatingView | undefined,
  opened: boolean,
): "hidden" | "offer" | "prompt" | "sending" | "thanks" {
  // Nothing to rate before someone answered, or when the visitor gave up waiting.
  if (rating === undefined || !rating.enabled || chat === null) return "hidden";
  if (chat.state === "pending" || chat.state === "abandoned") return "hidden";
  const status = rating.chat === chat.id ? rating.status : null;
  if (status === "sending") return "sending";
  if (status === "rated") return chat.state === "closed" ? "thanks" : "hidden";
  if (status === "skipped") return "hidden";
  if (chat.state === "closed") return "prompt";
  return opened ? "prompt" : "offer";
}

interface StoredRating {
  chat: ChatId;
  status: "rated" | "skipped";
  score: RatingScore | null;
}

/** The client's side of ratings: the state of the newest chat's rating, kept across reloads. */
export class RatingTracker {
  private state: { chat: ChatId; status: RatingStatus; score: RatingScore | null; id: string | null } | null;
  private problem: string | null = null;

  constructor(
    private readonly storage: KeyValueStorage,
    private readonly key: string,
  ) {
    this.state = this.load();
  }

  view(enabled: boolean): RatingView {
    return {
      enabled,
      chat: this.state?.chat ?? null,
      status: this.state?.status ?? null,
      score: this.state?.score ?? null,
      problem: this.problem,
    };
  }

  /** A rating command with this id went out. */
  sending(chat: ChatId, score: RatingScore, id: string): void {
    this.state = { chat, status: "sending", score, id };
    this.problem = null;
  }

  skip(chat: ChatId): void {
    this.state = { chat, status: "skipped", score: null, id: null };
    this.problem = null;
    this.save();
  }

  /** Takes the reply to a rating command; false when `id` was not one. */
  answer(
    id: string,
    outcome: { status: "ok"; response: unknown } | { status: "error"; error: { message: string } },
  ): boolean {
    if (this.state === null || this.state.id !== id) return false;
    if (outcome.status === "ok") {
      const rating = outcome.response as Partial<ChatRating>;
      this.state = { ...this.state, status: "rated", score: rating.score ?? this.state.score, id: null };
      this.save();
    } else {
      // Back to the prompt with the reason, so the visitor can try again or skip.
      this.problem = outcome.error.message;
      this.state = null;
    }
    return true;
  }

  private load(): RatingTracker["state"] {
    try {
      const raw = this.storage.getItem(this.key);
      if (raw === null) return null;
      const stored = JSON.parse(raw) as Partial<StoredRating>;
      if (typeof stored.chat !== "number" || (stored.status !== "rated" && stored.status !== "skipped")) return null;
      const score = stored.score === "good" || stored.score === "bad" ? stored.score : null;
      return { chat: stored.chat, status: stored.status, score, id: null };
    } catch {
      return null;
    }
  }

  private save(): void {
    if (this.state === null || this.state.status === "sending") return;
    const stored: StoredRating = { chat: this.state.chat, status: this.state.status, score: this.state.score };
    try {
      this.storage.setItem(this.key, JSON.stringify(stored));
    } catch {
      // A full or forbidden storage only means the prompt may show again after a reload.
    }
  }
}

// Only what the widget's own sheet lacks; adopted into the shadow root as a constructed sheet
// (a <style> element would break under a site's strict CSP `style-src`).
const RATING_CSS =
  ".rating{display:grid;gap:8px;padding:10px 12px;border-top:1px solid #e3e7ef}" +
  ".rating p{margin:0}.rating .score{min-height:40px;margin-right:8px;padding:4px 12px;border-radius:8px;border:1px solid #c9cfdc;background:#fff}" +
  '.rating .score span{font-size:18px;margin-right:6px}.rating [aria-pressed="true"]{border-color:#2456d6;background:#e8eefc;font-weight:600}' +
  ".rating textarea{box-sizing:border-box;width:100%}.rating .actions{display:flex;gap:12px;align-items:center}" +
  ".rating .link{justify-self:start;padding:4px 0;border:0;background:none;color:#2456d6;text-decoration:underline}";

/** Adds the prompt's rules to the shadow root's adopted sheets once; without support it stays plain. */
function adoptStyles(node: Node): void {
  const root = node.getRootNode();
  const view = node.ownerDocument?.defaultView;
  if (!(root instanceof ShadowRoot) || !view || typeof view.CSSStyleSheet?.prototype.replaceSync !== "function") return;
  if (root.adoptedStyleSheets.some((sheet) => sheet.cssRules[0]?.cssText.startsWith(".rating"))) return;
  try {
    const sheet = new view.CSSStyleSheet();
    sheet.replaceSync(RATING_CSS);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } catch {
    // Unstyled buttons still work.
  }
}

/** The prompt's DOM: append `element` where the chat's end shows and call `render` per view. */
export function createRatingPrompt(
  document: Document,
  actions: RatingActions,
): { element: HTMLElement; render(chat: VisitorChat | null, rating: RatingView | undefined): void } {
  const make = <K extends keyof HTMLElementTagNameMap>(
    tag: K,
    attributes: Record<string, string>,
    text?: string,
  ): HTMLElementTagNameMap[K] => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const offer = make("button", { type: "button", class: "link", "data-testid": "sb-rate-open" }, "Rate this chat");
  const title = make("p", { class: "title", id: "sb-rating-title" }, "How was this chat?");
  // A word next to each thumb: it names the button and shows where no emoji font exists.
  const scoreButton = (score: RatingScore, thumb: string, word: string): HTMLButtonElement => {
    const button = make("button", { type: "button", class: "score", "aria-pressed": "false", "data-testid": `sb-rate-${score}` });
    button.append(make("span", { "aria-hidden": "true" }, thumb), word);
    return button;
  };
  const good = scoreButton("good", "👍", "Good");
  const bad = scoreButton("bad", "👎", "Bad");
  const scores = make("div", { class: "scores", role: "group", "aria-labelledby": "sb-rating-title" });
  scores.append(good, bad);
  const comment = make("textarea", {
    "data-testid": "sb-rating-comment",
    "aria-label": "Comment (optional)",
    placeholder: "Anything to add? (optional)",
    maxlength: String(MAX_RATING_COMMENT_CHARS),
    rows: "2",
  });
  const send = make("button", { type: "button", class: "primary", "data-testid": "sb-rating-send" }, "Send rating");
  const skip = make("button", { type: "button", class: "link", "data-testid": "sb-rating-skip" }, "Skip");
  const actionsRow = make("div", { class: "actions" });
  actionsRow.append(send, skip);
  const problem = make("p", { class: "problem", role: "alert", "data-testid": "sb-rating-problem" });
  const prompt = make("div", { class: "prompt", "data-testid": "sb-rating-prompt" });
  prompt.append(title, scores, comment, actionsRow, problem);
  const thanks = make("p", { class: "thanks", role: "status", "data-testid": "sb-rating-thanks" });
  const element = make("div", { class: "rating", "data-testid": "sb-rating", hidden: "" });
  element.append(offer, prompt, thanks);

  let chosen: RatingScore | null = null;
  let opened = false;
  let currentChat: VisitorChat | null = null;
  let currentRating: RatingView | undefined;

  const choose = (score: RatingScore): void => {
    chosen = score;
    good.setAttribute("aria-pressed", String(score === "good"));
    bad.setAttribute("aria-pressed", String(score === "bad"));
    send.disabled = false;
  };
  const rerender = (): void => draw(currentChat, currentRating);
  good.addEventListener("click", () => choose("good"));
  bad.addEventListener("click", () => choose("bad"));
  offer.addEventListener("click", () => {
    opened = true;
    rerender();
    good.focus();
  });
  send.addEventListener("click", () => {
    if (chosen === null || currentChat === null) return;
    actions.rate?.(currentChat.id, chosen, comment.value);
  });
  const skipped = (): void => {
    if (currentChat === null) return;
    if (currentChat.state === "closed") {
      actions.skipRating?.(currentChat.id);
    } else {
      // During the chat, closing the prompt only folds it back into its button.
      opened = false;
      rerender();
      offer.focus();
    }
  };
  skip.addEventListener("click", skipped);
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      skipped();
    }
  });

  const draw = (chat: VisitorChat | null, rating: RatingView | undefined): void => {
    if (chat?.id !== currentChat?.id) {
      // A new chat starts with a fresh prompt.
      chosen = null;
      opened = false;
      comment.value = "";
      good.setAttribute("aria-pressed", "false");
      bad.setAttribute("aria-pressed", "false");
    }
    currentChat = chat;
    currentRating = rating;
    adoptStyles(element);
    const screen = ratingScreen(chat, rating, opened);
    element.hidden = screen === "hidden";
    element.dataset["screen"] = screen;
    offer.hidden = screen !== "offer";
    prompt.hidden = screen !== "prompt" && screen !== "sending";
    thanks.hidden = screen !== "thanks";
    thanks.textContent = screen === "thanks" ? "Thanks for your feedback!" : "";
    send.disabled = chosen === null || screen === "sending";
    send.textContent = screen === "sending" ? "Sending…" : "Send rating";
    problem.textContent = rating?.problem ?? "";
  };

  return { element, render: draw };
}
