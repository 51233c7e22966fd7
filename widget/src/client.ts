// The visitor's connection to the server: the REST session, the WebSocket with hello/resume,
// commands matched to their replies by id, reconnects with backoff, pings, and persistence.
// Everything it touches outside itself (fetch, sockets, timers, randomness, storage) comes in
// through `ClientEnvironment`, so tests drive it with fakes and no real time passes.

import { AttachmentUrls, type RawFetch, type RawUpload, uploadFile, uploadWithFetch } from "./attachments";
import {
  type Conversation,
  addEcho,
  applyChat,
  applyEvent,
  applyMessage,
  emptyConversation,
  failEcho,
  isOpenChat,
  newestStaffMessage,
  pendingEchoes,
  retryEcho,
} from "./conversation";
import { type KeyValueStorage, RecordStore, type StoredRecord, type StoredSession, storageKey } from "./persistence";
import { type RatingScore, RatingTracker, type RatingView, ratingSwitchFrom } from "./rating";
import {
  type ApiError,
  type Attachment,
  type ClientFrame,
  type ClientId,
  PROTOCOL_VERSION,
  type ServerFrame,
  TYPING_EXPIRY_MS,
  TYPING_REFRESH_MS,
  VISITOR_SESSION_PATH,
  VISITOR_WS_PATH,
  type VisitorChat,
  type VisitorCommand,
  type VisitorEvent,
  type VisitorMessage,
  type VisitorResponse,
  type VisitorSessionResponse,
} from "./protocol";

export type VisitorClientFrame = ClientFrame<VisitorCommand>;
export type VisitorServerFrame = ServerFrame<VisitorEvent, VisitorResponse>;

/** Ping period; the server and proxies drop idle sockets, and a dead link shows up by silence. */
export const PING_INTERVAL_MS = 20_000;
/** No frame at all for this long (two pings unanswered) means the link is dead. */
export const SILENCE_LIMIT_MS = 2 * PING_INTERVAL_MS + 5_000;
export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 30_000;
/** After this long without a keystroke the visitor counts as no longer typing. */
export const TYPING_IDLE_MS = 4_000;

/** The connection as the visitor sees it. */
export type ConnectionStatus =
  | { kind: "idle" }
  | { kind: "connecting" }
  | { kind: "connected" }
  | { kind: "reconnecting"; at: number }
  | { kind: "upgradeRequired" }
  | { kind: "unavailable"; message: string };

export interface SocketHandlers {
  open(): void;
  message(data: string): void;
  close(): void;
}

export interface SocketConnection {
  send(data: string): void;
  close(): void;
}

export type SocketFactory = (url: string, handlers: SocketHandlers) => SocketConnection;

export interface HttpResponse {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}

export interface ClientEnvironment {
  post(url: string, body: unknown): Promise<HttpResponse>;
  openSocket: SocketFactory;
  storage: KeyValueStorage;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
  random(): number;
  now(): number;
  newId(): string;
  pageUrl(): string;
  /** The browser's language and IANA time zone, sent with a new chat for routing rules (B04). */
  browserContext?(): BrowserContext;
  /**
   * The page the browser shows (B50). With it the widget opens a session on every page load, so
   * staff see visitors on site before they chat, and reports each page view; without it the
   * widget stays silent until the visitor opens it.
   */
  currentPage?(): PageInfo;
  /** Raw HTTP for files (B32); without it the widget neither sends nor shows files. */
  fetchRaw?: RawFetch;
  /** An upload that reports progress (the browser's `XMLHttpRequest`); else `fetchRaw` sends. */
  uploadRaw?: RawUpload;
  /** `URL.createObjectURL`, for showing fetched files. */
  createObjectUrl?(blob: Blob): string;
}

export interface PageInfo {
  url: string;
  title: string | null;
  referrer: string | null;
}

export interface BrowserContext {
  language: string | null;
  timeZone: string | null;
}

export interface ClientOptions {
  /** The server's origin, e.g. `https://chat.example.com`. */
  origin: string;
  embedKey: string;
}

/** Everything the view draws. */
export interface WidgetView {
  status: ConnectionStatus;
  liveChatName: string | null;
  conversation: Conversation;
  open: boolean;
  /** A start command is on its way. */
  starting: boolean;
  /** The visitor asked for a new chat after the last one ended. */
  composingNew: boolean;
  /** The last command failure worth telling the visitor about. */
  problem: string | null;
  name: string;
  email: string;
  /** Messages from staff that arrived while the panel was closed. */
  unread: number;
  /** Staff typing a reply now, by display name. */
  typing: string[];
  /** The pre-chat form's topic (department) choices; empty hides the select. */
  topics: string[];
  /** B33: the rating prompt's state (`rating.ts`). */
  rating?: RatingView;
  /** A file of the visitor's is on its way (B32). */
  uploading?: boolean;
  /** The visitor's file on its way or refused (B32); null when there is none. */
  upload?: UploadView | null;
}

/** A file of the visitor's, as the progress bar and its buttons show it. */
export interface UploadView {
  name: string;
  /** Bytes sent so far of `total`. */
  sent: number;
  total: number;
  /** Why it was not sent, for a person; null while it is on its way. */
  failure: string | null;
}

/** The file being sent: kept after a failure so "Retry" can send it again. */
interface Upload {
  file: File;
  /** One id for every try, so a resend after a lost answer posts the file once. */
  id: ClientId;
  sent: number;
  failure: string | null;
  abort: AbortController | null;
}

export interface StartForm {
  name: string;
  email: string;
  question: string;
  /** One of `WidgetView.topics`; empty or absent for none. */
  topic?: string;
}

/** Delay before reconnect attempt `attempt` (0-based): doubling from 0.5 s to 30 s, "equal jitter". */
export function backoffDelay(attempt: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** `https://host` → `wss://host/api/v1/visitor/ws?v=1`. */
export function visitorSocketUrl(origin: string): string {
  const url = new URL(VISITOR_WS_PATH, origin);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("v", String(PROTOCOL_VERSION));
  return url.toString();
}

/** A random RFC 4122 version 4 UUID; `crypto.randomUUID` exists only on secure pages. */
export function randomUuid(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type Listener = (view: WidgetView) => void;

/** A start or leave command awaiting its reply (sends are tracked by their echoes instead). */
interface InFlight {
  id: ClientId;
  command: VisitorCommand;
}

export class VisitorClient {
  private readonly store: RecordStore;
  private record: StoredRecord;
  private readonly listeners = new Set<Listener>();
  private status: ConnectionStatus = { kind: "idle" };
  private socket: SocketConnection | null = null;
  /** Set once `welcome` arrived on the current socket: only then may commands be sent. */
  private welcomed = false;
  private attempt = 0;
  private reconnectTimer: unknown = null;
  private pingTimer: unknown = null;
  private lastFrameAt = 0;
  private nonce = 0;
  private inFlight: InFlight[] = [];
  private creatingSession = false;
  private stopped = false;
  private composingNew = false;
  private problem: string | null = null;
  /** The visitor's file on its way or refused (B32). */
  private upload: Upload | null = null;
  private files: AttachmentUrls | null = null;
  private unread = 0;
  /** Staff typing now, each with the timer that hides them without a refresh. */
  private readonly typingStaff = new Map<string, unknown>();
  /** When my last `typing: true` went out; `null` while I am not typing. */
  private typingSentAt: number | null = null;
  private typingIdle: unknown = null;
  /** The newest staff message reported as seen on this connection. */
  private reportedRead = 0;
  /** The page last reported on this connection (B50), to report changes only. */
  private reportedPage: string | null = null;
  /** Ids of typing and read commands: fire-and-forget, their replies change nothing. */
  private readonly presenceIds = new Set<ClientId>();
  /** B33: the visitor's rating of their newest chat (`rating.ts`). */
  private readonly rating: RatingTracker;

  constructor(
    private readonly options: ClientOptions,
    private readonly environment: ClientEnvironment,
  ) {
    this.store = new RecordStore(environment.storage, storageKey(options.origin, options.embedKey));
    this.record = this.store.load();
    this.rating = new RatingTracker(environment.storage, `${storageKey(options.origin, options.embedKey)}:rating`);
  }

  /**
   * Connects at once when a session is stored (to keep the conversation live), or when page
   * views are reported (B50: staff see visitors on site); else waits.
   */
  start(): void {
    if (this.record.session !== null) this.connect();
    else if (this.environment.currentPage !== undefined) void this.createSession();
  }

  /** The page changed without a load (SPA navigation): staff see the new page (B50). */
  pageChanged(): void {
    this.reportPage();
  }

  /** Closes the socket and stops every timer. */
  stop(): void {
    this.stopped = true;
    this.clearReconnect();
    this.dropSocket();
    if (this.typingIdle !== null) this.environment.clearTimer(this.typingIdle);
    for (const timer of this.typingStaff.values()) this.environment.clearTimer(timer);
    this.typingStaff.clear();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.view);
    return () => this.listeners.delete(listener);
  }

  get view(): WidgetView {
    const session = this.record.session;
    return {
      status: this.status,
      liveChatName: session?.liveChatName ?? null,
      conversation: session?.conversation ?? emptyConversation(),
      open: this.record.open,
      starting: this.inFlight.some((item) => item.command.type === "start"),
      composingNew: this.composingNew,
      problem: this.problem,
      name: this.record.name,
      email: this.record.email,
      unread: this.unread,
      typing: [...this.typingStaff.keys()],
      topics: session?.topics ?? [],
      rating: this.rating.view(session?.ratingEnabled !== false),
      uploading: this.upload !== null && this.upload.failure === null,
      upload:
        this.upload === null
          ? null
          : {
              name: this.upload.file.name,
              sent: this.upload.sent,
              total: this.upload.file.size,
              failure: this.upload.failure,
            },
    };
  }

  /** B32: sends a file into my open chat; it comes back as my message with the file. */
  attach(file: File): void {
    if (this.upload !== null && this.upload.failure === null) return; // One at a time.
    this.sendFile({ file, id: this.environment.newId(), sent: 0, failure: null, abort: null });
  }

  /** B32: stops the file on its way (nothing is posted), or forgets the refused one. */
  cancelUpload(): void {
    this.upload?.abort?.abort();
    this.upload = null;
    this.notify();
  }

  /** B32: sends the refused file again. */
  retryUpload(): void {
    if (this.upload !== null && this.upload.failure !== null) this.sendFile({ ...this.upload, sent: 0, failure: null, abort: null });
  }

  private sendFile(upload: Upload): void {
    const session = this.record.session;
    const environment = this.environment;
    const send =
      environment.uploadRaw ?? (environment.fetchRaw === undefined ? undefined : uploadWithFetch(environment.fetchRaw));
    if (session === null || send === undefined || !isOpenChat(session.conversation.chat)) return;
    const abort = new AbortController();
    const current: Upload = { ...upload, abort };
    this.upload = current;
    this.notify();
    const progress = (sent: number): void => {
      if (this.upload !== current) return;
      current.sent = Math.min(sent, current.file.size);
      this.notify();
    };
    void uploadFile(send, this.options.origin, session.token, current.file, current.id, abort.signal, progress).then(
      (outcome) => {
        // Cancelled, or replaced by a retry: that one reports for itself.
        if (this.upload !== current) return;
        current.abort = null;
        if (outcome.kind === "failed") current.failure = outcome.problem;
        else this.upload = null;
        this.notify();
      },
    );
  }

  /** B32: a `blob:` URL for a file of the conversation. */
  attachmentUrl(attachment: Attachment): Promise<string> {
    const fetchRaw = this.environment.fetchRaw;
    const createUrl = this.environment.createObjectUrl;
    if (fetchRaw === undefined || createUrl === undefined) return Promise.reject(new Error("no file support"));
    this.files ??= new AttachmentUrls(fetchRaw, this.options.origin, () => this.record.session?.token ?? null, createUrl);
    return this.files.url(attachment);
  }

  /** The visitor opened or closed the panel. Opening creates the session if there is none yet. */
  setOpen(open: boolean): void {
    this.record = { ...this.record, open };
    if (open) this.unread = 0;
    this.persist();
    if (open) this.ensureSession();
    if (open) this.reportRead();
    this.notify();
  }

  /** Try now instead of waiting for the backoff timer (the browser came back online). */
  reconnectNow(): void {
    if (this.stopped || this.status.kind !== "reconnecting") return;
    this.clearReconnect();
    if (this.record.session === null) void this.createSession();
    else this.connect();
  }

  /** Starts a chat from the pre-chat form (B51). */
  startChat(form: StartForm): void {
    const name = form.name.trim();
    const question = form.question.trim();
    const email = form.email.trim();
    if (name === "" || question === "") return;
    this.record = { ...this.record, name, email };
    this.problem = null;
    const context = this.environment.browserContext?.() ?? { language: null, timeZone: null };
    const topic = form.topic ?? "";
    this.issue({
      type: "start",
      name,
      email: email === "" ? null : email,
      question,
      pageUrl: this.environment.pageUrl(),
      ...(topic === "" ? {} : { topic }),
      ...(context.language === null ? {} : { language: context.language }),
      ...(context.timeZone === null ? {} : { timeZone: context.timeZone }),
    });
    this.persist();
    this.ensureSession();
    this.notify();
  }

  /** B33: rates the chat, thumbs up or down with an optional comment; resent after a reconnect. */
  rate(chat: number, score: RatingScore, comment: string): void {
    const trimmed = comment.trim();
    const id = this.environment.newId();
    this.rating.sending(chat, score, id);
    const command: VisitorCommand = { type: "rate", chat, score, ...(trimmed === "" ? {} : { comment: trimmed }) };
    this.inFlight.push({ id, command });
    this.transmit({ type: "command", id, command });
    this.ensureSession();
    this.notify();
  }

  /** B33: the visitor closed the rating prompt of an ended chat without rating. */
  skipRating(chat: number): void {
    this.rating.skip(chat);
    this.notify();
  }

  /** Shows the pre-chat form again after a chat ended. */
  composeNewChat(): void {
    this.composingNew = true;
    this.notify();
  }

  /** Sends a message: shown at once as pending, delivered as soon as the socket allows. */
  send(text: string): void {
    const body = text.trim();
    const session = this.record.session;
    if (body === "" || session === null) return;
    this.stopTyping();
    const id = this.environment.newId();
    this.updateConversation(addEcho(session.conversation, id, body, this.environment.now()));
    this.transmit({ type: "command", id, command: { type: "send", body } });
    this.notify();
  }

  /**
   * The composer's text changed: staff see "<name> is typing…". Sent at most once per
   * TYPING_REFRESH_MS, stopped by a pause, an emptied composer or a send. Never the text itself.
   */
  typed(draft: string): void {
    if (draft.trim() === "" || !isOpenChat(this.view.conversation.chat)) {
      this.stopTyping();
      return;
    }
    const now = this.environment.now();
    if (this.typingSentAt === null || now - this.typingSentAt >= TYPING_REFRESH_MS) {
      this.typingSentAt = now;
      this.presence({ type: "typing", typing: true });
    }
    if (this.typingIdle !== null) this.environment.clearTimer(this.typingIdle);
    this.typingIdle = this.environment.setTimer(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private stopTyping(): void {
    if (this.typingIdle !== null) this.environment.clearTimer(this.typingIdle);
    this.typingIdle = null;
    if (this.typingSentAt === null) return;
    this.typingSentAt = null;
    this.presence({ type: "typing", typing: false });
  }

  /** With the panel open, staff messages on screen are seen: tell staff once per new one. */
  private reportRead(): void {
    const session = this.record.session;
    if (!this.record.open || !this.welcomed || session === null) return;
    const newest = newestStaffMessage(session.conversation);
    if (newest === null || newest <= this.reportedRead) return;
    this.reportedRead = newest;
    this.presence({ type: "markRead", upTo: newest });
  }

  /** B50: reports the page once per connection and per change; never queued (presence). */
  private reportPage(): void {
    const page = this.environment.currentPage?.();
    if (page === undefined || !this.welcomed) return;
    const key = `${page.url}\n${page.title ?? ""}`;
    if (key === this.reportedPage) return;
    this.reportedPage = key;
    const context = this.environment.browserContext?.() ?? { language: null, timeZone: null };
    this.presence({
      type: "pageView",
      url: page.url,
      ...(page.title === null || page.title === "" ? {} : { title: page.title }),
      ...(page.referrer === null || page.referrer === "" ? {} : { referrer: page.referrer }),
      ...(context.timeZone === null ? {} : { timeZone: context.timeZone }),
    });
  }

  /** Typing and read state are worth nothing late: sent now or never, not queued. */
  private presence(command: VisitorCommand): void {
    if (!this.welcomed) return;
    const id = this.environment.newId();
    this.presenceIds.add(id);
    this.sendFrame({ type: "command", id, command });
  }

  private staffTyping(name: string, typing: boolean): void {
    const timer = this.typingStaff.get(name);
    if (timer !== undefined) this.environment.clearTimer(timer);
    this.typingStaff.delete(name);
    if (typing) {
      this.typingStaff.set(
        name,
        this.environment.setTimer(() => {
          this.typingStaff.delete(name);
          this.notify();
        }, TYPING_EXPIRY_MS),
      );
    }
  }

  /** Sends a failed message again. */
  retry(key: string): void {
    const session = this.record.session;
    if (session === null) return;
    const id = this.environment.newId();
    const next = retryEcho(session.conversation, key, id);
    const echo = pendingEchoes(next).find((entry) => entry.key === key);
    if (echo === undefined) return;
    this.updateConversation(next);
    this.transmit({ type: "command", id, command: { type: "send", body: echo.body } });
    this.notify();
  }

  /** The visitor ends the chat. */
  leave(): void {
    if (!isOpenChat(this.view.conversation.chat)) return;
    if (this.inFlight.some((item) => item.command.type === "leave")) return;
    this.problem = null;
    this.issue({ type: "leave" });
    this.notify();
  }

  private issue(command: VisitorCommand): void {
    const id = this.environment.newId();
    this.inFlight.push({ id, command });
    this.transmit({ type: "command", id, command });
  }

  private ensureSession(): void {
    if (this.stopped) return;
    if (this.record.session === null) {
      if (this.status.kind !== "reconnecting") void this.createSession();
    } else if (this.socket === null && this.status.kind === "idle") {
      this.connect();
    }
  }

  private async createSession(): Promise<void> {
    if (this.creatingSession || this.stopped) return;
    this.creatingSession = true;
    this.status = { kind: "connecting" };
    this.notify();
    try {
      const response = await this.environment.post(new URL(VISITOR_SESSION_PATH, this.options.origin).toString(), {
        embedKey: this.options.embedKey,
      });
      if (this.stopped) return;
      if (response.status === 426) {
        this.status = { kind: "upgradeRequired" };
      } else if (response.status === 404 || response.status === 403) {
        this.status = { kind: "unavailable", message: "Chat is not available on this site." };
      } else if (!response.ok) {
        this.scheduleReconnect();
      } else {
        const session = (await response.json()) as VisitorSessionResponse;
        this.record = {
          ...this.record,
          session: {
            token: session.token,
            visitor: session.visitor,
            liveChatName: session.liveChatName,
            topics: Array.isArray(session.topics) ? session.topics : [],
            ratingEnabled: session.ratingEnabled !== false,
            conversation: emptyConversation(),
          },
        };
        this.persist();
        this.connect();
      }
    } catch {
      if (!this.stopped) this.scheduleReconnect();
    } finally {
      this.creatingSession = false;
      this.notify();
    }
  }

  private connect(): void {
    const session = this.record.session;
    if (this.stopped || session === null) return;
    this.dropSocket();
    this.status = { kind: "connecting" };
    this.welcomed = false;
    let socket: SocketConnection;
    try {
      socket = this.openSocket(session);
    } catch {
      // The browser refused to even try (e.g. a blocked URL): treat it like a failed connect.
      this.scheduleReconnect();
      this.notify();
      return;
    }
    this.socket = socket;
    this.notify();
  }

  private openSocket(session: StoredSession): SocketConnection {
    const socket: SocketConnection = this.environment.openSocket(visitorSocketUrl(this.options.origin), {
      open: () => {
        if (this.socket !== socket) return;
        this.lastFrameAt = this.environment.now();
        const since = this.record.session?.conversation.lastSeq ?? null;
        this.sendFrame({ type: "hello", token: session.token, since });
        this.startPinging();
      },
      message: (data) => {
        if (this.socket === socket) this.receive(data);
      },
      close: () => {
        if (this.socket !== socket) return;
        this.dropSocket();
        this.scheduleReconnect();
        this.notify();
      },
    });
    return socket;
  }

  private receive(data: string): void {
    this.lastFrameAt = this.environment.now();
    let frame: VisitorServerFrame;
    try {
      frame = JSON.parse(data) as VisitorServerFrame;
    } catch {
      return;
    }
    switch (frame.type) {
      case "welcome":
        this.welcomed = true;
        this.attempt = 0;
        this.status = { kind: "connected" };
        this.flush();
        this.reportedRead = 0;
        this.reportRead();
        this.reportedPage = null;
        this.reportPage();
        break;
      case "event":
        this.receiveEvent(frame.seq, frame.event);
        break;
      case "reply":
        this.receiveReply(frame.id, frame.outcome);
        break;
      case "error":
        this.receiveError(frame.error);
        break;
      case "pong":
        break;
      case "transient":
        if (frame.event.type === "operatorTyping") this.staffTyping(frame.event.name, frame.event.typing);
        break;
    }
    this.notify();
  }

  private receiveEvent(seq: number, event: VisitorEvent): void {
    const session = this.record.session;
    if (session === null) return;
    const before = session.conversation;
    const after = applyEvent(before, seq, event);
    if (after === before) return;
    // B33: a supervisor's change of the rating switch reaches this open widget in the chat
    // itself; it replaces what the session said when the widget loaded (kept by persist below).
    const ratingEnabled = ratingSwitchFrom(event);
    if (ratingEnabled !== null && ratingEnabled !== session.ratingEnabled) {
      this.record = { ...this.record, session: { ...session, ratingEnabled } };
    }
    if (event.type === "messagePosted" && event.message.from.kind === "operator" && !this.record.open) {
      this.unread += 1;
    }
    if (event.type === "snapshot" || event.type === "chatUpdated") {
      if (isOpenChat(after.chat)) this.composingNew = false;
    }
    // Their message is what they were typing.
    if (event.type === "messagePosted" && event.message.from.kind === "operator") {
      this.staffTyping(event.message.from.name, false);
    }
    this.updateConversation(after);
    this.reportRead();
  }

  private receiveReply(id: ClientId, outcome: ReplyOutcome): void {
    if (this.presenceIds.delete(id)) return;
    if (this.rating.answer(id, outcome)) {
      this.inFlight = this.inFlight.filter((item) => item.id !== id);
      this.notify();
      return;
    }
    const session = this.record.session;
    const index = this.inFlight.findIndex((item) => item.id === id);
    if (index >= 0) this.inFlight.splice(index, 1);
    if (session === null) return;
    if (outcome.status === "error") {
      if (index >= 0) {
        this.problem = outcome.error.message;
      } else {
        this.updateConversation(failEcho(session.conversation, id, outcome.error.message));
      }
      return;
    }
    const response = outcome.response;
    switch (response.type) {
      case "start":
      case "leave": {
        const { type: _type, ...chat } = response;
        this.updateConversation(applyChat(session.conversation, chat as VisitorChat));
        if (response.type === "start") this.composingNew = false;
        break;
      }
      case "send": {
        // Only for an echo of ours; the broadcast `messagePosted` carries the message anyway.
        const ours = session.conversation.entries.some((entry) => entry.kind === "message" && entry.clientId === id);
        if (!ours) break;
        const { type: _type, ...message } = response;
        const posted = message as VisitorMessage;
        // Match the echo even if the server left the id out of its reply.
        this.updateConversation(applyMessage(session.conversation, { ...posted, clientId: posted.clientId ?? id }));
        break;
      }
    }
  }

  private receiveError(error: ApiError): void {
    switch (error.code) {
      case "unauthorized":
        // The token expired or was revoked: this visitor is gone, start over as a new one.
        this.resetSession();
        break;
      case "upgradeRequired":
        this.stopped = true;
        this.dropSocket();
        this.status = { kind: "upgradeRequired" };
        break;
      default:
        break;
    }
  }

  private resetSession(): void {
    this.dropSocket();
    this.clearReconnect();
    this.record = { ...this.record, session: null };
    // A pending start is worth keeping (it is the visitor's form); sends belonged to the old chat.
    this.inFlight = this.inFlight.filter((item) => item.command.type === "start");
    this.persist();
    this.status = { kind: "idle" };
    void this.createSession();
  }

  /** After `welcome`: resend everything the server has not answered, each under its own id. */
  private flush(): void {
    for (const item of this.inFlight) this.sendFrame({ type: "command", id: item.id, command: item.command });
    const session = this.record.session;
    if (session === null) return;
    for (const echo of pendingEchoes(session.conversation)) {
      if (echo.clientId === null) continue;
      this.sendFrame({ type: "command", id: echo.clientId, command: { type: "send", body: echo.body } });
    }
  }

  /** Commands go out only after `welcome`; before that `flush` sends them. */
  private transmit(frame: VisitorClientFrame): void {
    if (this.welcomed) this.sendFrame(frame);
  }

  private sendFrame(frame: VisitorClientFrame): void {
    try {
      this.socket?.send(JSON.stringify(frame));
    } catch {
      // The socket is closing; its close handler reconnects and `flush` resends.
    }
  }

  private startPinging(): void {
    this.stopPinging();
    const tick = (): void => {
      if (this.socket === null) return;
      if (this.environment.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        // Nothing heard for two pings: the link is dead even if the socket has not noticed.
        this.dropSocket();
        this.scheduleReconnect();
        this.notify();
        return;
      }
      this.nonce += 1;
      this.sendFrame({ type: "ping", nonce: this.nonce });
      this.pingTimer = this.environment.setTimer(tick, PING_INTERVAL_MS);
    };
    this.pingTimer = this.environment.setTimer(tick, PING_INTERVAL_MS);
  }

  private stopPinging(): void {
    if (this.pingTimer !== null) this.environment.clearTimer(this.pingTimer);
    this.pingTimer = null;
  }

  private dropSocket(): void {
    this.stopPinging();
    const socket = this.socket;
    this.socket = null;
    this.welcomed = false;
    if (socket !== null) {
      try {
        socket.close();
      } catch {
        // Already closed.
      }
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.clearReconnect();
    const delay = backoffDelay(this.attempt, this.environment.random);
    this.attempt += 1;
    this.status = { kind: "reconnecting", at: this.environment.now() + delay };
    this.reconnectTimer = this.environment.setTimer(() => {
      this.reconnectTimer = null;
      if (this.record.session === null) void this.createSession();
      else this.connect();
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== null) this.environment.clearTimer(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private updateConversation(conversation: Conversation): void {
    const session = this.record.session;
    if (session === null) return;
    const next: StoredSession = { ...session, conversation };
    this.record = { ...this.record, session: next };
    this.persist();
  }

  private persist(): void {
    this.store.save(this.record);
  }

  private notify(): void {
    const view = this.view;
    for (const listener of this.listeners) listener(view);
  }
}

type ReplyOutcome = Extract<VisitorServerFrame, { type: "reply" }>["outcome"];
