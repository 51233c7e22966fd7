//! The headless operator core behind the desktop app: the session (sign-in, token in the OS
//! keychain), the live connection to the server, the local SQLite cache the console renders
//! from, and the ringer. The Tauri shell is a thin adapter over [`Core`]; nothing here depends
//! on Tauri, so all of it runs in plain tests.

pub use switchboard_protocol as protocol;

mod attachments;
mod attention;
#[doc(hidden)]
pub mod bench_support;
mod cache;
mod connection;
mod credentials;
mod customers;
mod edits;
mod error;
mod escalation;
mod library;
mod network;
mod presence;
mod rating;
mod ringer;
mod sensitive;
mod sounds;
mod state;
mod store;
mod supervision;
pub mod typescript;
mod visitors;

pub use attachments::{AttachmentFile, UploadProgress, UploadState};
pub use attention::{
    Notification, NotificationKind, RingingRequest, Sound, quit_needs_confirmation,
};
pub use error::CoreError;
pub use network::NetworkChange;
pub use sensitive::Sensitive;
pub use sounds::{
    OutputDevice, SOUND_SETTINGS_FILE, SoundChoice, SoundSettings, SoundStatus, SoundUnavailable,
};
pub use state::{
    ChatGroup, ConnectionState, ConsoleChat, CoreEvent, CoreState, Counters, KeychainState,
    OutboxItem, OutboxState, RingerState, SearchResults, SyncProgress,
};
pub use supervision::{Collaboration, EndedInvitation, ReplyLock, SentInvitation, SentState};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
use cache::Cache;
use credentials::SecretStore;
use ringer::Ringer;
use store::{Applied, QueuedCommand, Store};

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
    /// Issue order: commands go out oldest first after every reconnect.
    order: u64,
    /// Transient failures so far; sets the next retry's delay.
    attempts: u32,
}

pub(crate) struct Inner {
    pub(crate) server_url: String,
    http: reqwest::Client,
    cache: Mutex<Box<dyn Store>>,
    secrets: Arc<SecretStore>,
    session: Mutex<Option<Session>>,
    keychain: Mutex<KeychainState>,
    events: broadcast::Sender<CoreEvent>,
    connection: watch::Sender<ConnectionState>,
    ringer: Mutex<Ringer>,
    ringer_muted: AtomicBool,
    ringer_state: Mutex<RingerState>,
    /// What rings, chimes and notifies (D03, D05); fed every event after the cache.
    attention: Mutex<attention::Attention>,
    /// Whether the taskbar attention request is on, as last told to the shell.
    user_attention: AtomicBool,
    /// The cache folder, where the sound settings file lives.
    data_dir: PathBuf,
    sound_settings: Mutex<SoundSettings>,
    link: Mutex<Option<Link>>,
    pending: Mutex<HashMap<ClientId, PendingCommand>>,
    writer: Mutex<Option<mpsc::UnboundedSender<String>>>,
    /// Wakes the task that publishes the chat list; wakes coalesce, so a burst of events
    /// costs one list, not one per event.
    chats_changed: Arc<Notify>,
    publisher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    stream: broadcast::Sender<(u64, OperatorEvent)>,
    /// Source of [`PendingCommand::order`].
    next_order: AtomicU64,
    /// Catch-up progress while replaying missed events.
    sync: Mutex<Option<SyncProgress>>,
    /// Wakes the link to reconnect at once: the network changed or the machine woke up.
    pub(crate) nudge: Notify,
    /// The tasks following network changes (the OS's, and any fed in); stopped on shutdown.
    network_watch: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// The wall clock compared with the monotonic one to notice a wake from sleep.
    pub(crate) wall_clock: connection::WallClock,
    /// Client ids of the uploads being sent right now, so a flush never sends one twice at once.
    uploads: Mutex<std::collections::HashSet<String>>,
    /// Visitors on site (B50, `visitors.rs`): presence, in memory only.
    site_visitors: Mutex<visitors::SiteVisitorList>,
}

/// The console's chat list, counters and ringing requests, read together (see
/// [`Inner::console_view`]).
#[derive(Default)]
struct ConsoleView {
    chats: Vec<ConsoleChat>,
    counters: Counters,
    /// Oldest first; exactly the chats listed as ringing, so `counters.ringing` is its length.
    ringing: Vec<RingingRequest>,
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
        let sound_settings = sounds::load(&config.data_dir);
        let chosen = sound_settings.clone();
        let ringer = tokio::task::spawn_blocking(move || {
            let ringer = Ringer::start(audio, chosen.output_device.clone());
            // A file chosen earlier may have gone since: the built-in sounds stand in.
            let prepared = sounds::PreparedSounds::prepare(&chosen).or_else(|error| {
                tracing::warn!(%error, "the chosen sounds cannot play; using the built-in ones");
                sounds::PreparedSounds::prepare(&SoundSettings {
                    volume: chosen.volume.min(100),
                    ..SoundSettings::default()
                })
            });
            if let Ok(prepared) = prepared {
                ringer.configure(prepared);
            }
            ringer
        })
        .await
        .map_err(|_| CoreError::ShutDown)?;
        let mut attention = attention::Attention::new(ringer.unavailable().cloned());
        // What rang when the last run stopped rings on until the resumed stream says otherwise.
        attention.restore(
            cache
                .chats()
                .unwrap_or_default()
                .into_iter()
                .filter(|chat| chat.ringing)
                .map(|chat| chat.summary.id),
            now(),
        );
        let ringer_state = match ringer.unavailable() {
            Some(SoundUnavailable::Disabled) => RingerState::Disabled,
            Some(SoundUnavailable::NoDevice { reason }) => RingerState::NoDevice {
                reason: reason.clone(),
            },
            None => RingerState::Silent,
        };
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (connection, _) = watch::channel(ConnectionState::SignedOut);
        let inner = Arc::new(Inner {
            server_url,
            http,
            cache: Mutex::new(Box::new(cache)),
            secrets,
            session: Mutex::new(None),
            keychain: Mutex::new(KeychainState::Available),
            events,
            connection,
            ringer: Mutex::new(ringer),
            ringer_muted: AtomicBool::new(false),
            ringer_state: Mutex::new(ringer_state),
            attention: Mutex::new(attention),
            user_attention: AtomicBool::new(false),
            data_dir: config.data_dir.clone(),
            sound_settings: Mutex::new(sound_settings),
            link: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            writer: Mutex::new(None),
            chats_changed: Arc::new(Notify::new()),
            publisher: Mutex::new(None),
            stream: broadcast::channel(EVENT_BUFFER).0,
            next_order: AtomicU64::new(0),
            sync: Mutex::new(None),
            site_visitors: Mutex::new(visitors::SiteVisitorList::default()),
            nudge: Notify::new(),
            network_watch: Mutex::new(Vec::new()),
            wall_clock: connection::WallClock::default(),
            uploads: Mutex::new(std::collections::HashSet::new()),
        });
        attachments::send_queued_on_connect(&inner);
        let publisher = tokio::spawn(publish_chats(
            Arc::downgrade(&inner),
            inner.chats_changed.clone(),
        ));
        *lock(&inner.publisher) = Some(publisher);
        let core = Core { inner };
        #[cfg(feature = "os-network-watch")]
        if let Some(changes) = network::os_changes() {
            core.follow(changes, network::os_address_book());
        }
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
        // The previous session ends before its profile is replaced: a refresh of that profile
        // still on its way (a restored session's `GET /me`) then finds it gone and changes
        // nothing, instead of writing the previous person over this one.
        lock(&self.inner.session).take();
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
        let (operator, availability) = if !signed_in {
            // The cache may still hold a previous session (e.g. the keychain is locked right
            // now); without a session none of it is shown.
            (None, Availability::Offline)
        } else {
            let cache = lock(&self.inner.cache);
            let availability = cache.availability().unwrap_or(Availability::Offline);
            (cache.operator(), availability)
        };
        let view = self.inner.console_view();
        CoreState {
            connection: self.inner.connection.borrow().clone(),
            keychain: lock(&self.inner.keychain).clone(),
            operator,
            availability,
            chats: view.chats,
            counters: view.counters,
            ringing_requests: view.ringing,
            ringer: lock(&self.inner.ringer_state).clone(),
            ringer_muted: self.inner.ringer_muted.load(Ordering::SeqCst),
            outbox: if signed_in {
                self.inner.outbox_items()
            } else {
                Vec::new()
            },
            sync: *lock(&self.inner.sync),
            visitors_on_site: signed_in.then(|| lock(&self.inner.site_visitors).visitors()),
        }
    }

    /// Local full-text search (B42), answered from the cache with or without a network: with
    /// `open_chat`, that chat's name and message history; otherwise chat names and the
    /// messages of every chat (newest first). At most 50 of each.
    pub fn search(
        &self,
        query: &str,
        open_chat: Option<ChatId>,
    ) -> Result<SearchResults, CoreError> {
        if lock(&self.inner.session).is_none() {
            return Ok(SearchResults::default());
        }
        let cache = lock(&self.inner.cache);
        let found = cache.search(query, open_chat)?;
        let operator = cache.operator();
        drop(cache);
        // Grouped like the chat list, then put back in the order of relevance.
        let ranked: Vec<ChatId> = found.chats.iter().map(|chat| chat.summary.id).collect();
        let (grouped, _) = state::console_view(found.chats, operator.as_ref());
        let mut by_id: HashMap<ChatId, ConsoleChat> = grouped
            .into_iter()
            .map(|chat| (chat.summary.id, chat))
            .collect();
        let chats = ranked.iter().filter_map(|id| by_id.remove(id)).collect();
        Ok(SearchResults {
            chats,
            messages: found.messages,
        })
    }

    /// Puts a command the server refused back in line, under the same client id.
    pub fn retry(&self, id: &str) -> Result<(), CoreError> {
        let queued = lock(&self.inner.cache).outbox_retry(id)?;
        let Some(queued) = queued else {
            return Err(CoreError::Api(ApiError::new(
                ErrorCode::NotFound,
                "This command is no longer in the outbox.",
            )));
        };
        self.inner.enqueue(queued);
        self.inner.emit_outbox();
        Ok(())
    }

    /// Drops a command the server refused. A command still pending cannot be discarded: it
    /// may already be on its way, and the outbox promises delivery.
    pub fn discard(&self, id: &str) -> Result<(), CoreError> {
        let mut cache = lock(&self.inner.cache);
        let failed = cache
            .outbox()?
            .into_iter()
            .any(|queued| queued.id == id && queued.failure.is_some());
        if !failed {
            return Err(CoreError::Api(ApiError::new(
                ErrorCode::Conflict,
                "Only a command the server refused can be discarded.",
            )));
        }
        cache.outbox_remove(id)?;
        drop(cache);
        self.inner.emit_outbox();
        Ok(())
    }

    /// Tells the core the network changed (the shell calls this when the OS says so): the
    /// link reconnects now instead of waiting for a heartbeat to time out, and catches up.
    pub fn network_changed(&self) {
        self.inner.network_changed();
    }

    /// Follows a stream of address changes for as long as the core runs: each new or lost
    /// address is a [`Core::network_changed`]. The core follows the OS's own changes already
    /// (feature `os-network-watch`); this is for another source (and for tests).
    pub fn follow_network_changes<S>(&self, changes: S)
    where
        S: futures_util::Stream<Item = NetworkChange> + Send + 'static,
    {
        self.follow(changes, network::AddressBook::new(None));
    }

    fn follow<S>(&self, changes: S, book: network::AddressBook)
    where
        S: futures_util::Stream<Item = NetworkChange> + Send + 'static,
    {
        let task = tokio::spawn(network::follow(Arc::downgrade(&self.inner), changes, book));
        lock(&self.inner.network_watch).push(task);
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
        let summary = self.inner.request_with(AcceptChat { chat }, true).await?;
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
        let summary = self.inner.request_with(EndChat { chat }, true).await?;
        self.inner.apply_summary(&summary);
        Ok(summary)
    }

    /// Server-side mute of one ringing chat for this operator only (B02).
    pub async fn mute(&self, chat: ChatId) -> Result<(), CoreError> {
        self.inner.request_with(MuteRing { chat }, true).await?;
        let stopped = OperatorEvent::RingStopped {
            chat,
            reason: RingStopReason::Muted,
        };
        let applied = lock(&self.inner.cache).apply_local(&stopped)?;
        self.inner.observe(&stopped);
        self.inner.after_apply(applied);
        Ok(())
    }

    /// Marks the chat's messages read on this device.
    pub async fn mark_read(&self, chat: ChatId) -> Result<(), CoreError> {
        if lock(&self.inner.cache).mark_read(chat)? {
            self.inner.emit_chats();
        }
        self.report_read(chat).await;
        Ok(())
    }

    /// The global "Mute ringing" switch (tray): silences the sound only, chats still ring.
    pub fn set_ringer_muted(&self, muted: bool) {
        let previous = self.inner.ringer_muted.swap(muted, Ordering::SeqCst);
        lock(&self.inner.attention).set_muted(muted);
        // The switch itself is news even when the sound does not change (nothing rings).
        self.inner.refresh_ringer(previous != muted);
    }

    /// The sound settings (D03).
    pub fn sound_settings(&self) -> SoundSettings {
        lock(&self.inner.sound_settings).clone()
    }

    /// Checks, stores and applies new sound settings. A file that does not play is refused
    /// ([`CoreError::InvalidSetting`]) and nothing changes.
    pub async fn set_sound_settings(&self, settings: SoundSettings) -> Result<(), CoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // Decoding reads files: off the async threads.
            let prepared = sounds::PreparedSounds::prepare(&settings)?;
            let device_changed =
                lock(&inner.sound_settings).output_device != settings.output_device;
            if device_changed {
                lock(&inner.ringer)
                    .use_device(settings.output_device.clone())
                    .map_err(CoreError::InvalidSetting)?;
            }
            sounds::save(&inner.data_dir, &settings)?;
            lock(&inner.ringer).configure(prepared);
            *lock(&inner.sound_settings) = settings;
            Ok(())
        })
        .await
        .map_err(|_| CoreError::ShutDown)?
    }

    /// Why sound is unavailable (switched off or no device), the output devices to choose
    /// from, and whether the chosen one is gone (D03). Probes the sound system: blocks a
    /// little, so it runs off the async threads.
    pub async fn sound_status(&self) -> SoundStatus {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let (unavailable, fallback) = {
                let ringer = lock(&inner.ringer);
                (
                    ringer.unavailable().cloned(),
                    ringer.fallback().map(str::to_owned),
                )
            };
            // With sound switched off the sound system is not touched at all.
            let devices = match unavailable {
                Some(SoundUnavailable::Disabled) => Vec::new(),
                _ => ringer::output_devices(),
            };
            SoundStatus {
                unavailable,
                devices,
                fallback,
            }
        })
        .await
        .unwrap_or(SoundStatus {
            unavailable: None,
            devices: Vec::new(),
            fallback: None,
        })
    }

    /// Plays `sound` once as `settings` would (the settings' "test" button), before they are
    /// saved; a file that does not play is refused with its name.
    pub async fn test_sound(&self, settings: SoundSettings, sound: Sound) -> Result<(), CoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let prepared = sounds::PreparedSounds::prepare(&settings)?;
            lock(&inner.ringer).test(sound, prepared);
            Ok(())
        })
        .await
        .map_err(|_| CoreError::ShutDown)?
    }

    /// The shell reports whether the window has the focus: notifications and the taskbar
    /// attention request are for an operator who is not looking (D05).
    pub fn set_window_focused(&self, focused: bool) {
        lock(&self.inner.attention).set_focused(focused);
        self.inner.update_ringer();
    }

    /// Requests ringing for me, oldest first (tray menu, keyboard shortcuts). Read the same
    /// way as the console's ringing counter, so the two agree.
    pub fn ringing_requests(&self) -> Vec<RingingRequest> {
        self.inner.console_view().ringing
    }

    /// Accepts the oldest ringing request (the app-wide shortcut). `None` when nothing rings.
    pub async fn accept_oldest_ringing(&self) -> Result<Option<ChatSummary>, CoreError> {
        let oldest = self.ringing_requests().first().map(|request| request.chat);
        match oldest {
            Some(chat) => self.accept(chat).await.map(Some),
            None => Ok(None),
        }
    }

    /// Mutes the oldest ringing request (the app-wide shortcut). `None` when nothing rings.
    pub async fn mute_oldest_ringing(&self) -> Result<Option<ChatId>, CoreError> {
        let oldest = self.ringing_requests().first().map(|request| request.chat);
        match oldest {
            Some(chat) => self.mute(chat).await.map(|()| Some(chat)),
            None => Ok(None),
        }
    }

    pub async fn set_availability(&self, availability: Availability) -> Result<(), CoreError> {
        let state = self.inner.request(SetAvailability { availability }).await?;
        lock(&self.inner.cache).set_availability(state.availability)?;
        lock(&self.inner.attention).set_availability(state.availability);
        self.inner.update_ringer();
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
        for watch in lock(&self.inner.network_watch).drain(..) {
            watch.abort();
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

    /// The console's chat list, its counters and the ringing requests; empty without a
    /// session, whatever the cache still holds.
    ///
    /// What rings is the attention machine's alone: the cache applies an event a moment before
    /// the machine sees it, so taking the counter from the cache and the list from the machine
    /// let the header and the tray disagree for an instant. Both now come from one read of the
    /// machine (and one of the cache): a request counts only while its chat is listed pending.
    fn console_view(&self) -> ConsoleView {
        if lock(&self.session).is_none() {
            return ConsoleView::default();
        }
        let (mut chats, operator) = {
            let cache = lock(&self.cache);
            (cache.chats().unwrap_or_default(), cache.operator())
        };
        let requests = lock(&self.attention).ringing();
        let ringing: std::collections::HashSet<ChatId> =
            requests.iter().map(|request| request.chat).collect();
        for chat in &mut chats {
            chat.ringing = ringing.contains(&chat.summary.id);
        }
        let (chats, counters) = state::console_view(chats, operator.as_ref());
        let listed: std::collections::HashSet<ChatId> = chats
            .iter()
            .filter(|chat| chat.ringing)
            .map(|chat| chat.summary.id)
            .collect();
        let ringing = requests
            .into_iter()
            .filter(|request| listed.contains(&request.chat))
            .collect();
        ConsoleView {
            chats,
            counters,
            ringing,
        }
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
                self.observe(event);
                self.after_apply(applied);
                if self.stream.receiver_count() > 0 {
                    let _ = self.stream.send((seq, event.clone()));
                }
            }
            Err(error) => tracing::error!(%error, "could not apply an event to the cache"),
        }
    }

    /// Applies a run of consecutive events at once (catch-up), then tells the console.
    pub(crate) fn apply_events(&self, events: &[(u64, OperatorEvent)]) {
        let applied = lock(&self.cache).apply_all(events);
        match applied {
            Ok(applied) => {
                for (applied, event) in applied.into_iter().zip(events) {
                    self.observe(&event.1);
                    self.announce(applied);
                    if self.stream.receiver_count() > 0 {
                        let _ = self.stream.send(event.clone());
                    }
                }
                self.update_ringer();
            }
            Err(error) => tracing::error!(%error, "could not apply events to the cache"),
        }
    }

    fn apply_summary(&self, summary: &ChatSummary) {
        let changed = lock(&self.cache).apply_summary(summary);
        let me = lock(&self.cache).operator().map(|operator| operator.id);
        lock(&self.attention).observe_summary(summary, me);
        if matches!(changed, Ok(true)) {
            self.emit_chats();
            self.update_ringer();
        }
    }

    fn after_apply(&self, applied: Applied) {
        self.announce(applied);
        self.update_ringer();
    }

    /// Tells the console what an applied event changed (the ringer is updated separately).
    fn announce(&self, applied: Applied) {
        if applied.chats_changed {
            self.emit_chats();
        }
        if let Some(message) = applied.new_message {
            self.emit(CoreEvent::MessagePosted { message });
        }
        if let Some(availability) = applied.availability {
            self.emit(CoreEvent::Availability { availability });
        }
        if let Some(message) = applied.edited_message {
            self.emit(CoreEvent::MessageEdited { message });
        }
        if let Some((chat, message)) = applied.deleted_message {
            self.emit(CoreEvent::MessageDeleted { chat, message });
        }
        if let Some((chat, up_to)) = applied.visitor_read {
            self.emit(CoreEvent::VisitorRead { chat, up_to });
        }
        if let Some(operator) = applied.operator {
            self.emit(CoreEvent::Session {
                operator: Some(operator),
                keychain: lock(&self.keychain).clone(),
            });
        }
    }

    /// Feeds one event to the attention logic and carries out what it triggers.
    fn observe(&self, event: &OperatorEvent) {
        self.observe_collaboration(event);
        let operator = lock(&self.cache).operator();
        let me = operator.as_ref().map(|operator| operator.id);
        let effects = {
            let mut attention = lock(&self.attention);
            attention.set_my_name(operator.map(|operator| operator.name));
            attention.observe(event, me, now())
        };
        for effect in effects {
            match effect {
                attention::Effect::Chime(sound) => lock(&self.ringer).chime(sound),
                attention::Effect::Notify(notification) => {
                    self.emit(CoreEvent::Notify { notification });
                }
            }
        }
    }

    /// Plays the tone while any chat rings for me, unless I muted ringing, went away, or there
    /// is no device; reports the ringer and the taskbar attention request when they change.
    fn update_ringer(&self) {
        self.refresh_ringer(false);
    }

    fn refresh_ringer(&self, force: bool) {
        // The cache is the record of what rings: when it holds nothing, nothing may ring.
        if lock(&self.cache).ringing_count().unwrap_or(0) == 0 {
            lock(&self.attention).clear_rings();
        }
        let (playing, state, wanted) = {
            let attention = lock(&self.attention);
            (
                attention.ring_plays(),
                attention.ringer_state(),
                attention.wants_user_attention(),
            )
        };
        lock(&self.ringer).set_playing(playing);
        let muted = self.ringer_muted.load(Ordering::SeqCst);
        let mut current = lock(&self.ringer_state);
        if force || *current != state {
            *current = state.clone();
            drop(current);
            self.emit(CoreEvent::Ringer { state, muted });
        } else {
            drop(current);
        }
        if self.user_attention.swap(wanted, Ordering::SeqCst) != wanted {
            self.emit(CoreEvent::UserAttention { wanted });
        }
    }

    /// A connection was welcomed: commands go through it, including any still waiting, oldest
    /// first (a frame per command, in order, so the server runs them in the order issued).
    pub(crate) fn attach_writer(&self, writer: mpsc::UnboundedSender<String>) {
        let pending = lock(&self.pending);
        let mut waiting: Vec<&PendingCommand> = pending.values().collect();
        waiting.sort_by_key(|command| command.order);
        // Resending under the same id is safe: the server runs each id once.
        for command in waiting {
            let _ = writer.send(command.frame.clone());
        }
        // Set under the pending lock, so a command issued meanwhile is neither lost nor sent
        // ahead of older ones.
        *lock(&self.writer) = Some(writer);
    }

    fn next_order(&self) -> u64 {
        self.next_order.fetch_add(1, Ordering::SeqCst)
    }

    /// Queues an outbox command for delivery (no caller waits for it) and sends it if the
    /// link is up.
    fn enqueue(&self, queued: QueuedCommand) {
        let mut pending = lock(&self.pending);
        let id = ClientId(queued.id);
        if pending.contains_key(&id) {
            return;
        }
        let order = self.next_order();
        pending.insert(
            id,
            PendingCommand {
                frame: queued.frame.clone(),
                reply: None,
                persisted: true,
                order,
                attempts: 0,
            },
        );
        if let Some(writer) = lock(&self.writer).as_ref() {
            let _ = writer.send(queued.frame);
        }
    }

    /// The outbox as the console shows it.
    fn outbox_items(&self) -> Vec<OutboxItem> {
        let queued = lock(&self.cache).outbox().unwrap_or_default();
        queued
            .into_iter()
            .filter_map(|queued| {
                let frame: OperatorClientFrame = serde_json::from_str(&queued.frame).ok()?;
                let ClientFrame::Command { command, .. } = frame else {
                    return None;
                };
                Some(OutboxItem {
                    id: queued.id,
                    command,
                    created_at: Timestamp(queued.created_at),
                    state: match queued.failure {
                        Some(error) => OutboxState::Failed { error },
                        None => OutboxState::Pending,
                    },
                })
            })
            .collect()
    }

    fn emit_outbox(&self) {
        self.emit(CoreEvent::Outbox {
            items: self.outbox_items(),
        });
    }

    pub(crate) fn set_sync(&self, progress: Option<SyncProgress>) {
        let mut current = lock(&self.sync);
        if *current != progress {
            *current = progress;
            drop(current);
            self.emit(CoreEvent::Sync { progress });
        }
    }

    pub(crate) fn detach_writer(&self) {
        *lock(&self.writer) = None;
    }

    /// Ends every waiting command with "offline" (the link will not come back for them).
    pub(crate) fn fail_pending(&self) {
        lock(&self.pending).clear();
    }

    pub(crate) fn resolve(self: &Arc<Self>, id: &ClientId, outcome: Outcome<OperatorResponse>) {
        let transient = matches!(&outcome, Outcome::Error { error } if is_transient(error));
        let pending = {
            let mut pending = lock(&self.pending);
            match pending.get_mut(id) {
                None => return,
                Some(command) if command.persisted && transient => {
                    // It stays queued and goes again after a backoff; a waiting caller is told
                    // it is queued (its reply channel closes).
                    command.reply = None;
                    command.attempts = command.attempts.saturating_add(1);
                    let delay = retry_delay(command.attempts);
                    let frame = command.frame.clone();
                    drop(pending);
                    tracing::info!(?delay, "the server failed a command; retrying it later");
                    self.retry_later(id.clone(), frame, delay);
                    return;
                }
                Some(_) => match pending.remove(id) {
                    Some(command) => command,
                    None => return,
                },
            }
        };
        if pending.persisted {
            let stored = match &outcome {
                Outcome::Error { error } => {
                    tracing::warn!(%error, "the server refused a queued command");
                    lock(&self.cache).outbox_fail(&id.0, error)
                }
                Outcome::Ok { .. } => lock(&self.cache).outbox_remove(&id.0),
            };
            if let Err(error) = stored {
                tracing::warn!(%error, "could not update the outbox");
            }
            self.emit_outbox();
        }
        if let Some(reply) = pending.reply {
            let _ = reply.send(outcome);
        }
    }

    /// Sends a queued command again after `delay`, if it is still waiting and the link is up
    /// (otherwise the next welcome sends it).
    fn retry_later(self: &Arc<Self>, id: ClientId, frame: String, delay: Duration) {
        let inner = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let Some(inner) = inner.upgrade() else {
                return;
            };
            let pending = lock(&inner.pending);
            if pending.contains_key(&id)
                && let Some(writer) = lock(&inner.writer).as_ref()
            {
                let _ = writer.send(frame);
            }
        });
    }

    /// Queues the commands a previous run (or session) left unconfirmed; they go out with the
    /// next welcome.
    fn load_outbox(&self) {
        let queued = lock(&self.cache).outbox().unwrap_or_default();
        for queued in queued {
            // Refused ones wait for the operator's retry or discard.
            if queued.failure.is_none() {
                self.enqueue(queued);
            }
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
            // The local echo: the console shows the command at once, pending.
            self.emit_outbox();
        }
        let connected = *self.connection.borrow() == ConnectionState::Connected;
        let (reply, replied) = oneshot::channel();
        {
            let mut pending = lock(&self.pending);
            let order = self.next_order();
            pending.insert(
                id.clone(),
                PendingCommand {
                    frame: frame.clone(),
                    // Offline, nobody waits: the caller hears "queued" at once.
                    reply: (connected || !persisted).then_some(reply),
                    persisted,
                    order,
                    attempts: 0,
                },
            );
            // While the link is down the command waits in `pending` and goes out on reconnect.
            if let Some(writer) = lock(&self.writer).as_ref() {
                let _ = writer.send(frame);
            }
        }
        let outcome = match tokio::time::timeout(COMMAND_TIMEOUT, replied).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) if persisted => return Err(CoreError::Queued),
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
                // Only for the session it was asked for: the person may have signed out or in
                // as someone else meanwhile. Checked and written under the session lock, so a
                // sign-in cannot come in between.
                let session = lock(&self.session);
                let current = session
                    .as_ref()
                    .is_some_and(|session| session.token.expose() == token.expose());
                let stored = current && lock(&self.cache).set_operator(&operator).is_ok();
                drop(session);
                if stored {
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
        attachments::forget(&self.data_dir);
        self.set_connection(ConnectionState::SignedOut);
        self.emit(CoreEvent::Session {
            operator: None,
            keychain: lock(&self.keychain).clone(),
        });
        self.emit_chats();
        lock(&self.attention).clear();
        self.clear_site_visitors();
        self.update_ringer();
    }
}

/// Failures worth retrying: the server says it failed on its side (it does not remember those
/// outcomes, so the same client id runs again). Everything else is the server's final answer.
fn is_transient(error: &ApiError) -> bool {
    error.code == ErrorCode::Internal
}

/// Delay before the `attempt`-th retry of a command: the link's backoff, 0.5 s doubling to 30 s
/// with jitter.
fn retry_delay(attempt: u32) -> Duration {
    let mut backoff = connection::Backoff::new(fastrand::u64(..));
    let mut delay = backoff.next_delay();
    for _ in 1..attempt.min(16) {
        delay = backoff.next_delay();
    }
    delay
}

/// Publishes the whole chat list each time it changed, coalescing bursts.
async fn publish_chats(inner: std::sync::Weak<Inner>, changed: Arc<Notify>) {
    loop {
        changed.notified().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let view = inner.console_view();
        inner.emit(CoreEvent::Chats {
            chats: view.chats,
            counters: view.counters,
        });
    }
}

#[cfg(test)]
mod link_tests;
#[cfg(test)]
mod tests;
