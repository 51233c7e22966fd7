// The widget's DOM: a launcher and a panel inside an open shadow root on `#switchboard-widget`.
// Built once from constant markup; every piece of data (message bodies, names, the live chat's
// name) goes in through `textContent`, never as markup, because every visitor and operator message
// is untrusted text. Event handlers are attached with `addEventListener`, so a strict CSP holds.

import { attachmentsSignature, renderAttachments } from "./attachments";
import type { StartForm, UploadView, WidgetView } from "./client";
import { type Entry, isFinished, isOpenChat, seenKey, visibleEntries } from "./conversation";
import { createEmojiPicker } from "./emoji";
import { type RatingActions, createRatingPrompt } from "./rating";
import { type Attachment, MAX_MESSAGE_CHARS } from "./protocol";
import { WIDGET_CSS } from "./styles";

export const HOST_ID = "switchboard-widget";

/** What the view asks of the client; `VisitorClient` implements it. */
export interface WidgetActions extends RatingActions {
  subscribe(listener: (view: WidgetView) => void): () => void;
  setOpen(open: boolean): void;
  startChat(form: StartForm): void;
  composeNewChat(): void;
  send(text: string): void;
  /** The composer's text changed (for the typing indicator; the text is not sent). */
  typed(draft: string): void;
  retry(key: string): void;
  leave(): void;
  /** B32: sends a file; absent where the widget cannot send files. */
  attach?(file: File): void;
  /** B32: a `blob:` URL for a file of the conversation. */
  attachmentUrl?(attachment: Attachment): Promise<string>;
  /** B32: stops the file on its way, or forgets the refused one. */
  cancelUpload?(): void;
  /** B32: sends the refused file again. */
  retryUpload?(): void;
}

export interface MountedWidget {
  host: HTMLElement;
  root: ShadowRoot;
  destroy(): void;
}

/** The status line: the connection first (it explains everything else), then the chat's state. */
export function statusText(view: WidgetView): string {
  switch (view.status.kind) {
    case "upgradeRequired":
      return "This chat needs an update. Please reload the page.";
    case "unavailable":
      return view.status.message;
    case "reconnecting":
      return "Can’t reach the chat right now. Retrying…";
    case "connecting":
      return "Connecting…";
    case "idle":
    case "connected":
      break;
  }
  const chat = view.conversation.chat;
  if (chat === null || (view.composingNew && !isOpenChat(chat))) {
    return view.starting ? "Starting your chat…" : "";
  }
  switch (chat.state) {
    case "pending":
      return "Waiting for an operator…";
    case "active":
      return chat.operators.length > 0 ? `You are chatting with ${chat.operators.join(", ")}` : "Connected";
    case "closed":
    case "abandoned":
      return "This chat has ended.";
  }
}

/** Which screen the panel shows. */
export function screenOf(view: WidgetView): "form" | "chat" {
  const chat = view.conversation.chat;
  if (chat === null) return "form";
  if (isFinished(chat.state) && view.composingNew) return "form";
  return "chat";
}

type Attributes = Record<string, string>;

function element<K extends keyof HTMLElementTagNameMap>(
  document: Document,
  tag: K,
  attributes: Attributes = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

/** A decorative 24×24 icon: its button carries the accessible label, not the drawing. */
function icon(document: Document, shape: string): SVGSVGElement {
  const svgNamespace = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNamespace, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(svgNamespace, "path");
  path.setAttribute("d", shape);
  svg.append(path);
  return svg;
}

function launcherIcon(document: Document): SVGSVGElement {
  return icon(document, "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
}

/** A paperclip drawn as one stroke, not the 📎 emoji: pages without an emoji font showed a box. */
function paperclipIcon(document: Document): SVGSVGElement {
  return icon(document, "M16 7v9a4 4 0 0 1-8 0V6a2.5 2.5 0 0 1 5 0v9.5a1 1 0 0 1-2 0V8");
}

function adoptStyles(document: Document, root: ShadowRoot): void {
  // A constructed stylesheet is not subject to the page's CSP `style-src`; a <style> element is,
  // so it is only the fallback for browsers without constructable stylesheets.
  try {
    const view = document.defaultView;
    if (view && "adoptedStyleSheets" in root && typeof view.CSSStyleSheet?.prototype.replaceSync === "function") {
      const sheet = new view.CSSStyleSheet();
      sheet.replaceSync(WIDGET_CSS);
      root.adoptedStyleSheets = [sheet];
      return;
    }
  } catch {
    // Fall through to a <style> element.
  }
  root.append(element(document, "style", {}, [WIDGET_CSS]));
}

interface RenderedEntry {
  node: HTMLLIElement;
  signature: string;
}

export function mountWidget(document: Document, actions: WidgetActions): MountedWidget {
  const host = element(document, "div", { id: HOST_ID });
  const root = host.attachShadow({ mode: "open" });
  adoptStyles(document, root);

  const badge = element(document, "span", { class: "badge", "aria-hidden": "true", hidden: "" });
  const launcherLabel = element(document, "span", { class: "visually-hidden" });
  const launcher = element(
    document,
    "button",
    {
      type: "button",
      class: "launcher",
      "data-testid": "sb-launcher",
      "aria-controls": "sb-panel",
      "aria-expanded": "false",
    },
    [launcherIcon(document), launcherLabel, badge],
  );

  const title = element(document, "h2", { class: "title", id: "sb-title" }, ["Chat"]);
  const endButton = element(document, "button", { type: "button", "data-testid": "sb-end", hidden: "" }, [
    "End chat",
  ]);
  const closeButton = element(document, "button", { type: "button", class: "close", "aria-label": "Minimise chat" }, [
    "×",
  ]);
  const header = element(document, "div", { class: "header" }, [title, endButton, closeButton]);
  const status = element(document, "p", { class: "status", "data-testid": "sb-status", role: "status" });

  const nameInput = element(document, "input", {
    "data-testid": "sb-name",
    name: "name",
    autocomplete: "name",
    maxlength: "100",
    required: "",
  });
  const emailInput = element(document, "input", {
    "data-testid": "sb-email",
    name: "email",
    type: "email",
    autocomplete: "email",
    maxlength: "200",
  });
  const questionInput = element(document, "textarea", {
    "data-testid": "sb-question",
    name: "question",
    maxlength: String(MAX_MESSAGE_CHARS),
    required: "",
  });
  // Topics are staff-configured text: options are built with textContent only.
  const topicSelect = element(document, "select", { "data-testid": "sb-topic", name: "topic" });
  const topicLabel = element(document, "label", { hidden: "" }, ["Topic", topicSelect]);
  let shownTopics = "";
  const formProblem = element(document, "p", { class: "problem", role: "alert" });
  const startButton = element(document, "button", { type: "submit", class: "primary", "data-testid": "sb-start" }, [
    "Start chat",
  ]);
  const form = element(document, "form", { class: "prechat", novalidate: "" }, [
    element(document, "p", {}, ["Tell us who you are and what you need; an operator will join you here."]),
    element(document, "label", {}, ["Name", nameInput]),
    element(document, "label", {}, ["Email (optional)", emailInput]),
    topicLabel,
    element(document, "label", {}, ["Your question", questionInput]),
    formProblem,
    startButton,
  ]);

  const messages = element(document, "ol", {
    class: "messages",
    role: "log",
    "aria-live": "polite",
    "aria-label": "Messages",
  });
  const chatProblem = element(document, "p", { class: "problem", role: "alert" });
  const restartButton = element(document, "button", { type: "button", class: "primary" }, ["Start a new chat"]);
  const ended = element(document, "div", { class: "ended", hidden: "" }, [
    element(document, "p", {}, ["Thanks for chatting with us."]),
    restartButton,
  ]);
  const composerInput = element(document, "textarea", {
    "data-testid": "sb-composer",
    "aria-label": "Message",
    placeholder: "Write a message…",
    maxlength: String(MAX_MESSAGE_CHARS),
    rows: "1",
  });
  const sendButton = element(document, "button", { type: "submit", class: "primary", "data-testid": "sb-send" }, [
    "Send",
  ]);
  const composer = element(document, "form", { class: "composer" }, [composerInput, sendButton]);
  // B32: emoji at the caret, only while the live chat allows them (the switch arrives live).
  const emoji = createEmojiPicker(document, composerInput);
  composerInput.before(emoji.toggle);
  composer.append(emoji.popup);
  // B32: a file button next to the text; the browser's picker, nothing else, chooses the file.
  const fileInput = element(document, "input", { type: "file", hidden: "", "data-testid": "sb-file" });
  const attachButton = element(
    document,
    "button",
    { type: "button", class: "attach", "data-testid": "sb-attach", "aria-label": "Send a file" },
    [paperclipIcon(document)],
  );
  if (actions.attach !== undefined) composer.prepend(fileInput, attachButton);
  attachButton.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    if (file !== undefined) actions.attach?.(file);
    fileInput.value = "";
  });
  const attachmentUrl = actions.attachmentUrl?.bind(actions);
  // B32: the visitor's file on its way (a progress bar and Cancel) or refused (why, and Retry).
  const uploadLabel = element(document, "span", { id: "sb-upload-label", class: "upload-label" });
  const uploadProgress = element(document, "progress", {
    "data-testid": "sb-upload-progress",
    "aria-labelledby": "sb-upload-label",
  });
  const uploadProblem = element(document, "p", { class: "problem", role: "alert", "data-testid": "sb-upload-problem" });
  const uploadCancel = element(document, "button", { type: "button", class: "retry", "data-testid": "sb-upload-cancel" }, [
    "Cancel",
  ]);
  const uploadRetry = element(document, "button", { type: "button", class: "retry", "data-testid": "sb-upload-retry" }, [
    "Retry",
  ]);
  const uploadBox = element(document, "div", { class: "upload", "data-testid": "sb-upload", hidden: "" }, [
    uploadLabel,
    uploadProgress,
    uploadProblem,
    uploadRetry,
    uploadCancel,
  ]);
  uploadCancel.addEventListener("click", () => {
    actions.cancelUpload?.();
    composerInput.focus();
  });
  uploadRetry.addEventListener("click", () => actions.retryUpload?.());
  // Polite and atomic: announced once per change, not per refresh.
  const typing = element(document, "p", {
    class: "typing",
    "aria-live": "polite",
    "aria-atomic": "true",
    "data-testid": "sb-typing",
  });
  // B33: the rating prompt sits where the chat's end shows.
  const rating = createRatingPrompt(document, actions);
  const chatView = element(document, "div", { class: "chat", hidden: "" }, [
    messages,
    typing,
    chatProblem,
    uploadBox,
    ended,
    rating.element,
    composer,
  ]);

  const panel = element(
    document,
    "section",
    {
      class: "panel",
      id: "sb-panel",
      "data-testid": "sb-panel",
      role: "dialog",
      "aria-labelledby": "sb-title",
      hidden: "",
    },
    [header, status, form, chatView],
  );
  root.append(panel, launcher);

  let current: WidgetView | null = null;
  const rendered = new Map<string, RenderedEntry>();
  let prefilled = false;
  let lastScreen: "form" | "chat" | null = null;
  let validationProblem = "";

  const focusScreen = (): void => {
    if (current === null) return;
    if (screenOf(current) === "form") {
      (nameInput.value === "" ? nameInput : questionInput).focus();
    } else if (isOpenChat(current.conversation.chat)) {
      composerInput.focus();
    } else {
      restartButton.focus();
    }
  };

  const setOpen = (open: boolean): void => {
    actions.setOpen(open);
    if (open) focusScreen();
    else launcher.focus();
  };

  launcher.addEventListener("click", () => setOpen(!(current?.open ?? false)));
  closeButton.addEventListener("click", () => setOpen(false));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false);
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    validationProblem =
      nameInput.value.trim() === "" ? "Please enter your name." : questionInput.value.trim() === "" ? "Please write your question." : "";
    formProblem.textContent = validationProblem;
    if (validationProblem !== "") {
      (nameInput.value.trim() === "" ? nameInput : questionInput).focus();
      return;
    }
    actions.startChat({
      name: nameInput.value,
      email: emailInput.value,
      question: questionInput.value,
      topic: topicLabel.hidden ? "" : topicSelect.value,
    });
  });

  const submitMessage = (): void => {
    const text = composerInput.value;
    if (text.trim() === "") return;
    actions.send(text);
    composerInput.value = "";
    composerInput.focus();
  };
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submitMessage();
  });
  composerInput.addEventListener("input", () => actions.typed(composerInput.value));
  composerInput.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter is a newline; never while an IME is composing a character.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitMessage();
    }
  });
  endButton.addEventListener("click", () => actions.leave());
  restartButton.addEventListener("click", () => {
    actions.composeNewChat();
    questionInput.value = "";
    focusScreen();
  });
  messages.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const button = target.closest("button[data-action='retry']");
    const item = button?.closest("li");
    const key = item?.getAttribute("data-key");
    if (key) actions.retry(key);
  });

  const renderUpload = (upload: UploadView | null): void => {
    uploadBox.hidden = upload === null;
    if (upload === null) return;
    const sending = upload.failure === null;
    // The file's name is the visitor's text, set as text like everything else.
    uploadLabel.textContent = sending ? `Sending ${upload.name}…` : `${upload.name} was not sent.`;
    uploadProgress.hidden = !sending;
    uploadProgress.max = Math.max(upload.total, 1);
    // Nothing counted yet (or a browser that cannot count): an indeterminate bar, not "0 %".
    if (upload.sent > 0) uploadProgress.value = upload.sent;
    else uploadProgress.removeAttribute("value");
    uploadProblem.textContent = upload.failure ?? "";
    // One button: Cancel stops the file on its way, Dismiss forgets the refused one.
    uploadCancel.textContent = sending ? "Cancel" : "Dismiss";
    uploadRetry.hidden = sending;
  };

  const renderEntries = (entries: Entry[], seen: string | null): void => {
    const nearBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
    const wanted = new Set(entries.map((entry) => entry.key));
    for (const [key, item] of rendered) {
      if (!wanted.has(key)) {
        item.node.remove();
        rendered.delete(key);
      }
    }
    let previous: Element | null = null;
    let appended = false;
    let previousEntry: Entry | null = null;
    for (const entry of entries) {
      // A run of messages from one operator names them once, at its start.
      const showAuthor = !(
        entry.kind === "message" &&
        entry.from.kind === "operator" &&
        previousEntry?.kind === "message" &&
        previousEntry.from.kind === "operator" &&
        previousEntry.from.name === entry.from.name
      );
      previousEntry = entry;
      const isSeen = entry.key === seen;
      const signature = `${showAuthor}|${isSeen}|${entrySignature(entry)}`;
      let item = rendered.get(entry.key);
      if (item === undefined || item.signature !== signature) {
        const node = renderEntry(document, entry, showAuthor, isSeen);
        if (entry.kind === "message") renderAttachments(document, node, entry.attachments, attachmentUrl);
        if (item !== undefined) item.node.replaceWith(node);
        else appended = true;
        item = { node, signature };
        rendered.set(entry.key, item);
      }
      const expectedPosition: Element | null = previous === null ? messages.firstElementChild : previous.nextElementSibling;
      if (expectedPosition !== item.node) {
        if (previous === null) messages.prepend(item.node);
        else previous.after(item.node);
      }
      previous = item.node;
    }
    if (appended && (nearBottom || entries.at(-1)?.kind === "message")) {
      messages.scrollTop = messages.scrollHeight;
    }
  };

  const render = (view: WidgetView): void => {
    current = view;
    title.textContent = view.liveChatName ?? "Chat";
    launcherLabel.textContent = view.open ? "Close chat" : "Open chat";
    launcher.setAttribute("aria-expanded", String(view.open));
    badge.hidden = view.open || view.unread === 0;
    badge.textContent = view.unread > 9 ? "9+" : String(view.unread);
    panel.hidden = !view.open;
    status.textContent = statusText(view);
    attachButton.disabled = view.uploading === true;
    attachButton.setAttribute("aria-label", view.uploading === true ? "Sending your file…" : "Send a file");

    if (!prefilled && (view.name !== "" || view.email !== "")) {
      // Prefill once from the last form; after that the fields belong to the visitor.
      if (nameInput.value === "") nameInput.value = view.name;
      if (emailInput.value === "") emailInput.value = view.email;
      prefilled = true;
    }

    const topics = JSON.stringify(view.topics);
    if (topics !== shownTopics) {
      shownTopics = topics;
      const chosen = topicSelect.value;
      topicSelect.replaceChildren(
        element(document, "option", { value: "" }, ["Choose a topic (optional)"]),
        ...view.topics.map((topic) => element(document, "option", { value: topic }, [topic])),
      );
      if (view.topics.includes(chosen)) topicSelect.value = chosen;
      topicLabel.hidden = view.topics.length === 0;
    }

    const screen = screenOf(view);
    form.hidden = screen !== "form";
    chatView.hidden = screen !== "chat";
    startButton.disabled = view.starting;
    startButton.textContent = view.starting ? "Starting…" : "Start chat";

    const chat = view.conversation.chat;
    const open = isOpenChat(chat);
    endButton.hidden = screen !== "chat" || !open;
    composer.hidden = !open;
    emoji.setEnabled(open && chat?.emojiEnabled !== false);
    // A refused file cannot be retried into a chat that has ended.
    renderUpload(open ? (view.upload ?? null) : null);
    ended.hidden = open || chat === null;
    rating.render(chat, view.rating);
    formProblem.textContent = screen === "form" ? validationProblem || (view.problem ?? "") : "";
    chatProblem.textContent = screen === "chat" ? (view.problem ?? "") : "";

    renderEntries(visibleEntries(view.conversation), seenKey(view.conversation));
    // Names are operator-chosen text: textContent only.
    typing.textContent =
      open && view.typing.length > 0 ? `${view.typing.join(", ")} ${view.typing.length > 1 ? "are" : "is"} typing…` : "";
    // The form just turned into the chat: carry the visitor's focus to the composer, unless they
    // have moved on to something else on the page meanwhile.
    const focusIsOurs = document.activeElement === host || document.activeElement === document.body;
    if (lastScreen === "form" && screen === "chat" && view.open && open && focusIsOurs) composerInput.focus();
    lastScreen = screen;
  };

  const unsubscribe = actions.subscribe(render);
  return {
    host,
    root,
    destroy: () => {
      unsubscribe();
      host.remove();
    },
  };
}

function entrySignature(entry: Entry): string {
  if (entry.kind === "notice") return `notice|${entry.text}`;
  const author = entry.from.kind === "operator" ? entry.from.name : "";
  const marks = `${entry.deleted === true}|${entry.editedAt ?? ""}`;
  return `${entry.from.kind}|${author}|${entry.delivery}|${entry.failure ?? ""}|${marks}|${entry.body}|${attachmentsSignature(entry.attachments)}`;
}

function renderEntry(document: Document, entry: Entry, showAuthor: boolean, seen: boolean): HTMLLIElement {
  const item = document.createElement("li");
  item.setAttribute("data-testid", "sb-message");
  item.setAttribute("data-key", entry.key);
  const body = document.createElement("p");
  body.className = "body";
  if (entry.kind === "notice") {
    item.setAttribute("data-from", "system");
    item.className = "message system";
    body.textContent = entry.text;
    item.append(body);
    return item;
  }
  const from = entry.from.kind;
  item.setAttribute("data-from", from);
  item.className = `message ${from} ${entry.delivery}${entry.deleted === true ? " deleted" : ""}`;
  if (entry.from.kind === "operator") {
    const author = document.createElement("span");
    // Screen readers still hear the name on every message; only the visible label is grouped.
    author.className = showAuthor ? "author" : "author visually-hidden";
    author.textContent = entry.from.name;
    item.append(author);
  }
  body.textContent = entry.body;
  item.append(body);
  if (entry.editedAt !== undefined && entry.deleted !== true) {
    const edited = document.createElement("span");
    edited.className = "meta";
    edited.setAttribute("data-testid", "sb-edited");
    edited.textContent = "(edited)";
    item.append(edited);
  }
  if (entry.delivery === "pending") {
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = "Sending…";
    item.append(meta);
  } else if (entry.delivery === "failed") {
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = entry.failure ? `Not sent: ${entry.failure}` : "Not sent.";
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "retry";
    retry.setAttribute("data-action", "retry");
    retry.textContent = "Retry";
    item.append(meta, retry);
  } else if (seen) {
    const meta = document.createElement("span");
    meta.className = "meta seen";
    meta.setAttribute("data-testid", "sb-seen");
    meta.textContent = "Seen";
    item.append(meta);
  }
  return item;
}
