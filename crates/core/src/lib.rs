//! The headless operator core behind the desktop app: the session (sign-in, token in the OS
//! keychain), the live connection to the server, the local SQLite cache the console renders
//! from, and the ringer. The Tauri shell is a thin adapter over [`Core`]; nothing here depends
//! on Tauri, so all of it runs in plain tests.

pub use switchboard_protocol as protocol;

mod cache;
mod connection;
mod credentials;
mod error;
mod ringer;
mod sensitive;
mod state;
pub mod typescript;

pub use error::CoreError;
pub use sensitive::Sensitive;
pub use state::{
    ChatGroup, ConnectionState, ConsoleChat, CoreEvent, CoreState, Counters, KeychainState,
    RingerState,
};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use protocol::{
    AcceptChat, ApiError, Availability, ChatHistory, ChatId, ChatSummary, ClientFrame, ClientId,
    Command, EndChat, Endpoint, ErrorCode, GetChatHistory, GetMe, Message, MuteRing,
    OperatorClientFrame, OperatorCommand, OperatorEvent, OperatorProfile, OperatorResponse,
    Outcome, RingStopReason, SendMessage, SetAvailability, SignIn, SignInRequest, SignInResponse,
    SignOut, Timestamp, Visibility,
};
use tokio::sync::{Notify, broadcast, mpsc, oneshot, watch};

pub use cache::CACHE_FILE_NAME;
use cache::{Applied, Cache};
use credentials::SecretStore;
use ringer::Ringer;

/// Where the session token is kept between runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialStore {
    /// The OS keychain (Secret Service, macOS Keychain, Windows Credential Manager); entries are
    /// named by this service and the server URL.
    Os { service: String },
    /// Process memory only, never written anywhere: for tests. Shared by all cores of the
    /// process (keyed by server URL), so a restarted core restores its session like the app does.
    Memory,
}

/// Where the ring tone goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioOutput {
    /// The system's default output device.
    Default,
    /// Never open a device (tests, headless runs).
    Disabled,
}

/// How a [`Core`] is set up.
#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// e.g. `http://127.0.0.1:8080`; the WebSocket URL is derived from it.
    pub server_url: String,
    /// Cache folder; the SQLite cache file lives here.
    pub data_dir: PathBuf,
    pub credentials: CredentialStore,
    pub audio: AudioOutput,
}

/// How long a command waits for its reply, including a reconnect in between.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a REST call may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(20);
/// Console events buffered per subscriber before the slowest one starts missing some.
const EVENT_BUFFER: usize = 1024;

/// The operator core. Cheap to clone: every clone drives the same session.
#[derive(Clone)]
pub struct Core {
    inner: Arc<Inner>,
}

struct Session {
    token: Sensitive<String>,
}

/// The running connection task of the current session.
struct Link {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// A command sent (or waiting to be sent) and the caller waiting for its reply, if any is
/// still waiting (a queued reply outlives the call that wrote it).
struct PendingCommand {
    frame: String,
    reply: Option<oneshot::Sender<Outcome<OperatorResponse>>>,
    /// Kept in the cache's outbox until confirmed.
    persisted: bool,
}

pub(crate) struct Inner {
    pub(crate) server_url: String,
    http: reqwest::Client,
    cache: Mutex<Cache>,
    secrets: Arc<SecretStore>,
    session: Mutex<Option<Session>>,
    keychain: Mutex<KeychainState>,
    events: broadcast::Sender<CoreEvent>,
    connection: watch::Sender<ConnectionState>,
    ringer: Mutex<Ringer>,
    ringer_muted: AtomicBool,
    ringer_state: Mutex<RingerState>,
    link: Mutex<Option<Link>>,
    pending: Mutex<HashMap<ClientId, PendingCommand>>,
    writer: Mutex<Option<mpsc::UnboundedSender<String>>>,
    /// Wakes the task that publishes the chat list; wakes coalesce, so a burst of events
    /// costs one list, not one per event.
    chats_changed: Arc<Notify>,
    publisher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    stream: broadcast::Sender<(u64, OperatorEvent)>,
}

/// Locks a mutex, ignoring poisoning: every critical section here leaves its data consistent
/// (SQLite transactions roll back on their own), so a panic elsewhere is no reason to stop.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An error and its causes in one line: reqwest's own message hides the useful part
/// ("connection refused", "invalid peer certificate") in its sources.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The current time as a protocol timestamp.
pub(crate) fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(millis)
}

impl Core {
    /// Opens the cache, restores a session from the credential store if one is there, and then
    /// connects in the background.
    pub async fn start(config: CoreConfig) -> Result<Core, CoreError> {
        let server_url = config.server_url.trim_end_matches('/').to_owned();
        // ring is the TLS crypto provider for REST and WebSocket; a provider the embedding app
        // installed first wins, so the error of a second install is expected and ignored.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cache = Cache::open(&config.data_dir)?;
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|error| CoreError::Unreachable(error.to_string()))?;
        let credentials = config.credentials.clone();
        let audio = config.audio;
        // Opening the keychain and the audio device both block (D-Bus, ALSA).
        let secrets = Arc::new(
            tokio::task::spawn_blocking(move || SecretStore::open(&credentials))
                .await
                .map_err(|_| CoreError::ShutDown)?,
        );
        let ringer = tokio::task::spawn_blocking(move || Ringer::start(audio))
            .await
            .map_err(|_| CoreError::ShutDown)?;
        let ringer_state = match ringer.no_device() {
            Some(reason) => RingerState::NoDevice {
                reason: reason.to_owned(),
            },
            None => RingerState::Silent,
        };
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (connection, _) = watch::channel(ConnectionState::SignedOut);
        let inner = Arc::new(Inner {
            server_url,
            http,
            cache: Mutex::new(cache),
            secrets,
            session: Mutex::new(None),
            keychain: Mutex::new(KeychainState::Available),
            events,
            connection,
            ringer: Mutex::new(ringer),
            ringer_muted: AtomicBool::new(false),
            ringer_state: Mutex::new(ringer_state),
            link: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            writer: Mutex::new(None),
            chats_changed: Arc::new(Notify::new()),
            publisher: Mutex::new(None),
            stream: broadcast::channel(EVENT_BUFFER).0,
        });
        let publisher = tokio::spawn(publish_chats(
            Arc::downgrade(&inner),
            inner.chats_changed.clone(),
        ));
        *lock(&inner.publisher) = Some(publisher);
        let core = Core { inner };
        core.restore_session().await;
        Ok(core)
    }

    async fn restore_session(&self) {
        let secrets = self.inner.secrets.clone();
        let user = self.inner.server_url.clone();
        let loaded = tokio::task::spawn_blocking(move || secrets.load(&user)).await;
        match loaded {
            Ok(Ok(Some(token))) => {
                *lock(&self.inner.session) = Some(Session {
                    token: token.clone(),
                });
                self.inner.load_outbox();
                self.inner.start_link(token.clone());
                let inner = self.inner.clone();
                // The cached profile draws the console at once; this refreshes it.
                tokio::spawn(async move { inner.refresh_profile(token).await });
            }
            Ok(Ok(None)) => {
                // No stored session: whatever the cache holds belongs to a signed-out person.
                let _ = lock(&self.inner.cache).clear();
            }
            Ok(Err(failure)) => {
                *lock(&self.inner.keychain) = KeychainState::Unavailable { reason: failure.0 };
            }
            Err(_) => {}
        }
    }

    /// Signs in over REST, keeps the token in the credential store and connects.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<OperatorProfile, CoreError> {
        let request = SignInRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        let response: SignInResponse = self
            .inner
            .rest::<SignIn>(SignIn::PATH, None, Some(&request))
            .await?;
        let token = Sensitive::new(response.token);
        let operator = response.operator;
        self.inner.stop_link().await;
        self.inner.fail_pending();
        lock(&self.inner.cache).set_operator(&operator)?;

        let secrets = self.inner.secrets.clone();
        let user = self.inner.server_url.clone();
        let stored = token.clone();
        let saved = tokio::task::spawn_blocking(move || secrets.save(&user, &stored))
            .await
            .map_err(|_| CoreError::ShutDown)?;
        let keychain = match saved {
            Ok(()) => KeychainState::Available,
            // The session still works for this run; the token stays in memory only.
            Err(failure) => KeychainState::Unavailable { reason: failure.0 },
        };
        *lock(&self.inner.keychain) = keychain.clone();
        *lock(&self.inner.session) = Some(Session {
            token: token.clone(),
        });
        self.inner.emit(CoreEvent::Session {
            operator: Some(operator.clone()),
            keychain,
        });
        self.inner.emit_chats();
        self.inner.load_outbox();
        self.inner.start_link(token);
        Ok(operator)
    }

    /// Revokes the session on the server (best effort), forgets the token and the cache.
    pub async fn sign_out(&self) -> Result<(), CoreError> {
        self.inner.stop_link().await;
        self.inner.fail_pending();
        let session = lock(&self.inner.session).take();
        if let Some(session) = session {
            let revoked = self
                .inner
                .rest::<SignOut>(SignOut::PATH, Some(&session.token), None::<&()>)
                .await;
            if let Err(error) = revoked {
                tracing::info!(%error, "could not revoke the session on the server");
            }
        }
        self.inner.forget_session().await;
        Ok(())
    }

    /// The full current state for the console, read from the cache.
    pub fn state(&self) -> CoreState {
        let signed_in = lock(&self.inner.session).is_some();
        let (chats, counters, operator, availability) = if !signed_in {
            // The cache may still hold a previous session (e.g. the keychain is locked right
            // now); without a session none of it is shown.
            (Vec::new(), Counters::default(), None, Availability::Offline)
        } else {
            let cache = lock(&self.inner.cache);
            let operator = cache.operator();
            let me = operator.as_ref().map(|operator| operator.id);
            let (chats, counters) = state::console_view(cache.chats().unwrap_or_default(), me);
            let availability = cache.availability().unwrap_or(Availability::Offline);
            (chats, counters, operator, availability)
        };
        CoreState {
            connection: self.inner.connection.borrow().clone(),
            keychain: lock(&self.inner.keychain).clone(),
            operator,
            availability,
            chats,
            counters,
            ringer: lock(&self.inner.ringer_state).clone(),
            ringer_muted: self.inner.ringer_muted.load(Ordering::SeqCst),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<CoreEvent> {
        self.inner.events.subscribe()
    }

    pub fn connection(&self) -> watch::Receiver<ConnectionState> {
        self.inner.connection.subscribe()
    }

    /// Every protocol event with its sequence number, sent after the cache has applied it
    /// (for diagnostics and benchmarks; the console uses [`Core::subscribe`]).
    pub fn stream_events(&self) -> broadcast::Receiver<(u64, OperatorEvent)> {
        self.inner.stream.subscribe()
    }

    /// Waits until `condition` holds for [`Core::state`], re-checking after every event.
    /// Returns the last state seen as the error when `timeout` passes first.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        condition: impl Fn(&CoreState) -> bool,
    ) -> Result<CoreState, Box<CoreState>> {
        let mut events = self.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let state = self.state();
            if condition(&state) {
                return Ok(state);
            }
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Err(_) => return Err(Box::new(self.state())),
                Ok(Err(broadcast::error::RecvError::Closed)) => return Err(Box::new(state)),
                Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) => {}
            }
        }
    }

    /// The chat's messages. The first call per chat fetches the full history from the server;
    /// later calls, and any call while the server is unreachable, answer from the cache (D01).
    pub async fn messages(&self, chat: ChatId) -> Result<Vec<Message>, CoreError> {
        let (cached, loaded) = {
            let cache = lock(&self.inner.cache);
            (cache.messages(chat)?, cache.history_loaded(chat)?)
        };
        if loaded {
            return Ok(cached);
        }
        let Some(token) = self.inner.token() else {
            return Ok(cached);
        };
        let path = GetChatHistory::PATH.replace("{id}", &chat.to_string());
        let history = self
            .inner
            .rest::<GetChatHistory>(&path, Some(&token), None::<&()>)
            .await;
        let history: ChatHistory = match history {
            Ok(history) => history,
            Err(CoreError::Unreachable(reason)) => {
                tracing::info!(%reason, "history not reachable; answering from the cache");
                return Ok(cached);
            }
            Err(error) => return Err(error),
        };
        let mut cache = lock(&self.inner.cache);
        cache.store_history(&history)?;
        cache.messages(chat)
    }

    /// Accepts a ringing or awaiting chat (B10).
    pub async fn accept(&self, chat: ChatId) -> Result<ChatSummary, CoreError> {
        let summary = self.inner.request(AcceptChat { chat }).await?;
        self.inner.apply_summary(&summary);
        Ok(summary)
    }

    /// Posts a reply or a note. The reply is kept in the cache's outbox until the server
    /// confirms it: if that takes longer than the command timeout (offline), the call returns
    /// [`CoreError::Queued`] and the reply is still delivered, exactly once, when the link is
    /// back, even after a restart (D01); it then arrives as [`CoreEvent::MessagePosted`].
    pub async fn send(
        &self,
        chat: ChatId,
        body: String,
        visibility: Visibility,
    ) -> Result<Message, CoreError> {
        let message = self
            .inner
            .request_with(
                SendMessage {
                    chat,
                    body,
                    visibility,
                },
                true,
            )
            .await?;
        if lock(&self.inner.cache).apply_message(&message)? {
            self.inner.emit(CoreEvent::MessagePosted {
                message: message.clone(),
            });
        }
        Ok(message)
    }

    /// Ends a chat (B25).
    pub async fn end_chat(&self, chat: ChatId) -> Result<ChatSummary, CoreError> {
        let summary = self.inner.request(EndChat { chat }).await?;
        self.inner.apply_summary(&summary);
        Ok(summary)
    }

    /// Server-side mute of one ringing chat for this operator only (B02).
    pub async fn mute(&self, chat: ChatId) -> Result<(), CoreError> {
        self.inner.request(MuteRing { chat }).await?;
        let applied = lock(&self.inner.cache).apply_local(&OperatorEvent::RingStopped {
            chat,
            reason: RingStopReason::Muted,
        })?;
        self.inner.after_apply(applied);
        Ok(())
    }

    /// Marks the chat's messages read on this device.
    pub async fn mark_read(&self, chat: ChatId) -> Result<(), CoreError> {
        if lock(&self.inner.cache).mark_read(chat)? {
            self.inner.emit_chats();
        }
        Ok(())
    }

    /// The global "Mute ringing" switch (tray): silences the sound only, chats still ring.
    pub fn set_ringer_muted(&self, muted: bool) {
        self.inner.ringer_muted.store(muted, Ordering::SeqCst);
        self.inner.update_ringer();
    }

    pub async fn set_availability(&self, availability: Availability) -> Result<(), CoreError> {
        let state = self.inner.request(SetAvailability { availability }).await?;
        lock(&self.inner.cache).set_availability(state.availability)?;
        self.inner.emit(CoreEvent::Availability {
            availability: state.availability,
        });
        Ok(())
    }

    /// Closes the connection and stops the ringer. The session stays stored for the next start,
    /// and unconfirmed replies stay in the outbox.
    pub async fn shutdown(&self) {
        self.inner.stop_link().await;
        self.inner.fail_pending();
        if matches!(
            *self.inner.connection.borrow(),
            ConnectionState::Connecting
                | ConnectionState::Connected
                | ConnectionState::Reconnecting { .. }
        ) {
            self.inner.set_connection(ConnectionState::Offline);
        }
        if let Some(publisher) = lock(&self.inner.publisher).take() {
            publisher.abort();
        }
        let inner = self.inner.clone();
        let _ = tokio::task::spawn_blocking(move || lock(&inner.ringer).stop()).await;
    }
}

impl Inner {
    fn emit(&self, event: CoreEvent) {
        // No subscriber is fine: the console may not be open.
        let _ = self.events.send(event);
    }

    /// The console's chat list; empty without a session, whatever the cache still holds.
    fn console_chats(&self) -> (Vec<ConsoleChat>, Counters) {
        if lock(&self.session).is_none() {
            return (Vec::new(), Counters::default());
        }
        let cache = lock(&self.cache);
        let me = cache.operator().map(|operator| operator.id);
        state::console_view(cache.chats().unwrap_or_default(), me)
    }

    fn emit_chats(&self) {
        self.chats_changed.notify_one();
    }

    pub(crate) fn set_connection(&self, state: ConnectionState) {
        let changed = self.connection.send_if_modified(|current| {
            if *current == state {
                false
            } else {
                *current = state.clone();
                true
            }
        });
        if changed {
            self.emit(CoreEvent::Connection { state });
        }
    }

    fn token(&self) -> Option<Sensitive<String>> {
        lock(&self.session)
            .as_ref()
            .map(|session| session.token.clone())
    }

    fn start_link(self: &Arc<Self>, token: Sensitive<String>) {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(connection::run(self.clone(), token, stopped));
        let previous = lock(&self.link).replace(Link { stop, task });
        if let Some(previous) = previous {
            let _ = previous.stop.send(true);
        }
    }

    async fn stop_link(&self) {
        let link = lock(&self.link).take();
        if let Some(link) = link {
            let _ = link.stop.send(true);
            let _ = link.task.await;
        }
        self.detach_writer();
    }

    pub(crate) fn cursor(&self) -> Option<u64> {
        lock(&self.cache).cursor()
    }

    pub(crate) fn clear_cursor(&self) {
        if let Err(error) = lock(&self.cache).clear_cursor() {
            tracing::warn!(%error, "could not clear the stream cursor");
        }
    }

    pub(crate) fn apply_event(&self, seq: u64, event: &OperatorEvent) {
        let applied = lock(&self.cache).apply(seq, event);
        match applied {
            Ok(applied) => {
                self.after_apply(applied);
                if self.stream.receiver_count() > 0 {
                    let _ = self.stream.send((seq, event.clone()));
                }
            }
            Err(error) => tracing::error!(%error, "could not apply an event to the cache"),
        }
    }

    fn apply_summary(&self, summary: &ChatSummary) {
        let changed = lock(&self.cache).apply_summary(summary);
        if matches!(changed, Ok(true)) {
            self.emit_chats();
            self.update_ringer();
        }
    }

    fn after_apply(&self, applied: Applied) {
        if applied.chats_changed {
            self.emit_chats();
        }
        if let Some(message) = applied.new_message {
            self.emit(CoreEvent::MessagePosted { message });
        }
        if let Some(availability) = applied.availability {
            self.emit(CoreEvent::Availability { availability });
        }
        self.update_ringer();
    }

    /// Plays the tone while any chat rings for me and I have not muted ringing globally.
    fn update_ringer(&self) {
        let ringing = lock(&self.cache).ringing_count().unwrap_or(0) > 0;
        let muted = self.ringer_muted.load(Ordering::SeqCst);
        let state = {
            let ringer = lock(&self.ringer);
            ringer.set_playing(ringing && !muted);
            match ringer.no_device() {
                Some(reason) => RingerState::NoDevice {
                    reason: reason.to_owned(),
                },
                None if !ringing => RingerState::Silent,
                None if muted => RingerState::Muted,
                None => RingerState::Ringing,
            }
        };
        let mut current = lock(&self.ringer_state);
        if *current != state {
            *current = state.clone();
            drop(current);
            self.emit(CoreEvent::Ringer { state, muted });
        }
    }

    /// A connection was welcomed: commands go through it, including any still waiting.
    pub(crate) fn attach_writer(&self, writer: mpsc::UnboundedSender<String>) {
        *lock(&self.writer) = Some(writer.clone());
        // Resending under the same id is safe: the server runs each id once.
        for pending in lock(&self.pending).values() {
            let _ = writer.send(pending.frame.clone());
        }
    }

    pub(crate) fn detach_writer(&self) {
        *lock(&self.writer) = None;
    }

    /// Ends every waiting command with "offline" (the link will not come back for them).
    pub(crate) fn fail_pending(&self) {
        lock(&self.pending).clear();
    }

    pub(crate) fn resolve(&self, id: &ClientId, outcome: Outcome<OperatorResponse>) {
        let Some(pending) = lock(&self.pending).remove(id) else {
            return;
        };
        if pending.persisted {
            if let Outcome::Error { error } = &outcome {
                tracing::warn!(%error, "the server refused a queued command");
            }
            if let Err(error) = lock(&self.cache).outbox_remove(&id.0) {
                tracing::warn!(%error, "could not remove a delivered command from the outbox");
            }
        }
        if let Some(reply) = pending.reply {
            let _ = reply.send(outcome);
        }
    }

    /// Queues the commands a previous run (or session) left unconfirmed; they go out with the
    /// next welcome.
    fn load_outbox(&self) {
        let queued = lock(&self.cache).outbox().unwrap_or_default();
        let mut pending = lock(&self.pending);
        for (id, frame) in queued {
            pending.entry(ClientId(id)).or_insert(PendingCommand {
                frame,
                reply: None,
                persisted: true,
            });
        }
    }

    async fn request<C>(&self, command: C) -> Result<C::Response, CoreError>
    where
        C: Command<Envelope = OperatorCommand, ResponseEnvelope = OperatorResponse>,
    {
        self.request_with(command, false).await
    }

    /// Sends a command and waits for its reply. A `persisted` command is written to the outbox
    /// first and, if no reply comes in time, stays queued: [`CoreError::Queued`].
    async fn request_with<C>(&self, command: C, persisted: bool) -> Result<C::Response, CoreError>
    where
        C: Command<Envelope = OperatorCommand, ResponseEnvelope = OperatorResponse>,
    {
        if self.token().is_none() {
            return Err(CoreError::SignedOut);
        }
        match &*self.connection.borrow() {
            ConnectionState::SignedOut => return Err(CoreError::SignedOut),
            ConnectionState::UpgradeRequired => return Err(CoreError::UpgradeRequired),
            _ => {}
        }
        let id = ClientId(uuid::Uuid::new_v4().to_string());
        let frame: OperatorClientFrame = ClientFrame::Command {
            id: id.clone(),
            command: command.into(),
        };
        let frame = serde_json::to_string(&frame)
            .map_err(|error| CoreError::Protocol(error.to_string()))?;
        if persisted {
            lock(&self.cache).outbox_add(&id.0, &frame, now().0)?;
        }
        let (reply, replied) = oneshot::channel();
        lock(&self.pending).insert(
            id.clone(),
            PendingCommand {
                frame: frame.clone(),
                reply: Some(reply),
                persisted,
            },
        );
        // While the link is down the command waits in `pending` and goes out on reconnect.
        if let Some(writer) = lock(&self.writer).as_ref() {
            let _ = writer.send(frame);
        }
        let outcome = match tokio::time::timeout(COMMAND_TIMEOUT, replied).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => return Err(CoreError::Offline),
            Err(_) if persisted => {
                // Nobody waits any more, but the command stays queued for the next connection.
                if let Some(pending) = lock(&self.pending).get_mut(&id) {
                    pending.reply = None;
                }
                return Err(CoreError::Queued);
            }
            Err(_) => {
                lock(&self.pending).remove(&id);
                return Err(if *self.connection.borrow() == ConnectionState::Connected {
                    CoreError::Timeout
                } else {
                    CoreError::Offline
                });
            }
        };
        let response = outcome.into_result()?;
        C::response(response)
            .ok_or_else(|| CoreError::Protocol("the reply does not match the command".to_owned()))
    }

    /// One REST call; `body` is sent as JSON when present.
    async fn rest<E: Endpoint>(
        &self,
        path: &str,
        token: Option<&Sensitive<String>>,
        body: Option<&impl serde::Serialize>,
    ) -> Result<E::Response, CoreError>
    where
        E::Response: serde::de::DeserializeOwned,
    {
        let url = format!("{}{}", self.server_url, path);
        let mut request = match E::METHOD {
            protocol::Method::Get => self.http.get(url),
            protocol::Method::Post => self.http.post(url),
        };
        if let Some(token) = token {
            request = request.bearer_auth(token.expose());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|error| CoreError::Unreachable(with_causes(&error)))?;
        let status = response.status();
        if status.is_success() {
            return response
                .json::<E::Response>()
                .await
                .map_err(|error| CoreError::Protocol(error.to_string()));
        }
        let text = response.text().await.unwrap_or_default();
        match serde_json::from_str::<ApiError>(&text) {
            Ok(error) => Err(CoreError::Api(error)),
            Err(_) => Err(CoreError::Api(ApiError::new(
                match status.as_u16() {
                    401 => ErrorCode::Unauthorized,
                    403 => ErrorCode::Forbidden,
                    404 => ErrorCode::NotFound,
                    409 => ErrorCode::Conflict,
                    426 => ErrorCode::UpgradeRequired,
                    _ => ErrorCode::Internal,
                },
                format!("The server answered HTTP {status}."),
            ))),
        }
    }

    async fn refresh_profile(self: Arc<Self>, token: Sensitive<String>) {
        match self
            .rest::<GetMe>(GetMe::PATH, Some(&token), None::<&()>)
            .await
        {
            Ok(operator) => {
                if lock(&self.cache).set_operator(&operator).is_ok() {
                    self.emit(CoreEvent::Session {
                        operator: Some(operator),
                        keychain: lock(&self.keychain).clone(),
                    });
                    self.emit_chats();
                }
            }
            Err(CoreError::Api(error)) if error.code == ErrorCode::Unauthorized => {
                // The link notices the same on its own and signs out.
            }
            Err(error) => tracing::info!(%error, "could not refresh the operator profile"),
        }
    }

    /// The server no longer accepts the token: sign out locally.
    pub(crate) async fn session_revoked(self: &Arc<Self>) {
        lock(&self.session).take();
        // Called from inside the link task: drop its handle rather than wait for itself.
        lock(&self.link).take();
        self.forget_session().await;
    }

    async fn forget_session(&self) {
        let secrets = self.secrets.clone();
        let user = self.server_url.clone();
        let deleted = tokio::task::spawn_blocking(move || secrets.delete(&user)).await;
        if let Ok(Err(failure)) = deleted {
            tracing::warn!(reason = %failure.0, "could not delete the stored token");
        }
        if let Err(error) = lock(&self.cache).clear() {
            tracing::warn!(%error, "could not clear the cache");
        }
        self.set_connection(ConnectionState::SignedOut);
        self.emit(CoreEvent::Session {
            operator: None,
            keychain: lock(&self.keychain).clone(),
        });
        self.emit_chats();
        self.update_ringer();
    }
}

/// Publishes the whole chat list each time it changed, coalescing bursts.
async fn publish_chats(inner: std::sync::Weak<Inner>, changed: Arc<Notify>) {
    loop {
        changed.notified().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let (chats, counters) = inner.console_chats();
        inner.emit(CoreEvent::Chats { chats, counters });
    }
}

#[cfg(test)]
mod tests;
