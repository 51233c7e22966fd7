//! An in-process server and real protocol clients for tests (feature `test-support`).
//!
//! Everything here talks to the server the way production clients do: REST over HTTP, the
//! protocol over a real WebSocket. Waits are bounded: a missing event panics with a message
//! naming what was awaited instead of hanging the test.

use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_protocol::{
    AcceptChat, Ack, ApiError, Availability, AvailabilityState, ChatId, ChatSummary, ClientFrame,
    ClientId, CreateVisitorSession, EndChat, Endpoint, LeaveChat, Message, MuteRing,
    OPERATOR_WS_PATH, OperatorCommand, OperatorEvent, OperatorId, OperatorProfile,
    OperatorResponse, Outcome, PROTOCOL_VERSION, SendMessage, ServerFrame, SetAvailability, SignIn,
    SignInRequest, SignInResponse, StartChat, VISITOR_WS_PATH, Visibility, VisitorChat,
    VisitorCommand, VisitorEvent, VisitorId, VisitorMessage, VisitorResponse, VisitorSend,
    VisitorSessionRequest, VisitorSessionResponse,
};
use switchboard_protocol::{
    DeclineOffer, GetRoutingHistory, GetRoutingSettings, LiveChatId, ReleaseChat,
    RoutingHistoryEntry, RoutingSettings, RoutingState, SetOperatorAvailability, SetRouting,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WebSocketMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::config::Config;
use crate::server::Server;

pub use crate::storage::{DEMO_EMBED_KEY, DEMO_PASSWORD};

/// Demo operator Ann.
pub const ANN: &str = "ann@example.com";
/// Demo operator Bob.
pub const BOB: &str = "bob@example.com";
/// Demo supervisor Sue (also an operator of the demo live chat).
pub const SUE: &str = "sue@example.com";

/// How long a test waits for any one frame.
pub const WAIT: Duration = Duration::from_secs(10);

/// A real server on 127.0.0.1 with its own temporary database.
pub struct TestServer {
    server: Server,
    config: Config,
    database: std::path::PathBuf,
    // Held so the database folder lives as long as the server.
    _directory: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A server with the demo organisation, on an ephemeral port, with a fresh database.
    pub async fn start() -> TestServer {
        Self::start_tweaked(|_| {}).await
    }

    /// A demo server like [`TestServer::start`] with some settings changed (grace periods…).
    pub async fn start_tweaked(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let directory =
            tempfile::tempdir().expect("create a temporary folder for the test database");
        let mut config = Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: directory.path().join("switchboard.sqlite3"),
            demo: true,
            ..Config::default()
        };
        tweak(&mut config);
        let mut server = Self::start_with(config).await;
        server._directory = Some(directory);
        server
    }

    /// A server with this configuration (its database is not deleted afterwards).
    pub async fn start_with(config: Config) -> TestServer {
        let database = config.database.clone();
        let server = Server::start(config.clone())
            .await
            .expect("the test server starts");
        TestServer {
            server,
            config,
            database,
            _directory: None,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.local_addr())
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The SQLite file the server uses.
    pub fn database_path(&self) -> &std::path::Path {
        &self.database
    }

    /// Adds an operator who is a member of the demo live chat.
    pub fn create_operator(&self, email: &str, name: &str, password: &str) -> OperatorId {
        self.server
            .create_operator(email, name, password, DEMO_EMBED_KEY)
            .expect("create a test operator")
    }

    /// Runs visitor retention (B50) as if it were `now`; returns how many visitors went.
    pub fn prune_visitors(
        &self,
        now: switchboard_protocol::Timestamp,
        retention_days: i64,
    ) -> usize {
        self.server
            .prune_visitors(now, retention_days)
            .expect("visitor retention runs")
    }

    /// Cuts every live WebSocket session; the server keeps running and accepts reconnects.
    pub fn drop_connections(&self) {
        self.server.drop_connections();
    }

    /// Stops the server and starts it again on the same address and database, the way a
    /// deployment restarts: sessions are cut, state and event logs survive.
    pub async fn restart(self) -> TestServer {
        let address = self.server.local_addr();
        self.server.stop().await;
        let mut config = self.config;
        config.bind = address;
        config.demo = false;
        let server = Server::start(config.clone())
            .await
            .expect("the test server restarts on its address");
        TestServer {
            server,
            config,
            database: self.database,
            _directory: self._directory,
        }
    }

    /// Stops the server; its WebSocket sessions are closed.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// An HTTP client for tests, usable in any build of the workspace.
pub fn http_client() -> reqwest::Client {
    // The desktop core builds reqwest with rustls and no default crypto provider; in a workspace
    // build that feature reaches this client too, which then needs a provider installed first.
    // Installing one twice is harmless (the second call just reports the first).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("build an HTTP client")
}

/// POSTs a JSON body and decodes the response or the `ApiError`.
pub async fn post_json<T: DeserializeOwned>(
    url: &str,
    body: &impl Serialize,
    token: Option<&str>,
) -> Result<T, (u16, ApiError)> {
    let mut request = http_client().post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    decode(request.send().await.expect("the server answers HTTP")).await
}

/// GETs a JSON response or the `ApiError`.
pub async fn get_json<T: DeserializeOwned>(
    url: &str,
    token: Option<&str>,
) -> Result<T, (u16, ApiError)> {
    let mut request = http_client().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    decode(request.send().await.expect("the server answers HTTP")).await
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, (u16, ApiError)> {
    let status = response.status();
    let body = response.bytes().await.expect("read the response body");
    if status.is_success() {
        Ok(serde_json::from_slice(&body).unwrap_or_else(|error| {
            panic!(
                "response body does not match its type ({error}): {}",
                String::from_utf8_lossy(&body)
            )
        }))
    } else {
        let error = serde_json::from_slice(&body).unwrap_or_else(|_| {
            panic!(
                "error {status} without an ApiError body: {}",
                String::from_utf8_lossy(&body)
            )
        });
        Err((status.as_u16(), error))
    }
}

/// `ws://…<path>?v=1` for a server URL.
pub fn websocket_url(server_url: &str, path: &str) -> String {
    let base = server_url
        .strip_prefix("http://")
        .map(|rest| format!("ws://{rest}"))
        .unwrap_or_else(|| server_url.to_owned());
    format!("{base}{path}?v={PROTOCOL_VERSION}")
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A protocol connection: sends frames, records every received text frame, queues events, and
/// matches replies to commands.
pub struct ProtocolSocket<E, R> {
    socket: Option<Socket>,
    raw_frames: Vec<String>,
    events: VecDeque<(u64, E)>,
    replies: HashMap<ClientId, Outcome<R>>,
    errors: VecDeque<ApiError>,
    /// Ephemeral events (`Transient` frames: typing), kept apart from the logged ones.
    transients: VecDeque<E>,
    last_seq: u64,
    _types: PhantomData<R>,
}

impl<E: DeserializeOwned + Debug, R: DeserializeOwned + Debug> Default for ProtocolSocket<E, R> {
    fn default() -> Self {
        Self::new()
    }
}

/// What the server said to a Hello.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Welcome {
    pub head: u64,
    pub resumed: bool,
    /// How many events the replay holds (resumed only).
    pub missed: Option<u64>,
}

impl<E: DeserializeOwned + Debug, R: DeserializeOwned + Debug> ProtocolSocket<E, R> {
    /// A connection that is not open yet; see [`Self::open`].
    pub fn new() -> Self {
        Self {
            socket: None,
            raw_frames: Vec::new(),
            events: VecDeque::new(),
            replies: HashMap::new(),
            errors: VecDeque::new(),
            transients: VecDeque::new(),
            last_seq: 0,
            _types: PhantomData,
        }
    }

    /// Opens the WebSocket (no Hello yet).
    pub async fn open(&mut self, url: &str) {
        let (socket, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .unwrap_or_else(|_| panic!("timed out opening {url}"))
            .unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
        self.socket = Some(socket);
    }

    /// Sends a text frame as is.
    pub async fn send_text(&mut self, text: impl Into<String>) {
        let socket = self.socket.as_mut().expect("the socket is open");
        socket
            .send(WebSocketMessage::text(text.into()))
            .await
            .expect("send a frame");
    }

    /// Says hello; returns the Welcome. With `resumed == false` the snapshot follows as the
    /// next event.
    pub async fn hello(&mut self, token: &str, since: Option<u64>) -> Result<Welcome, ApiError> {
        let hello: ClientFrame<()> = ClientFrame::Hello {
            token: token.to_owned(),
            since,
        };
        self.send_text(serde_json::to_string(&hello).expect("serialise hello"))
            .await;
        match self.read_frame("welcome").await {
            Some(ServerFrame::Welcome {
                head,
                resumed,
                missed,
                ..
            }) => Ok(Welcome {
                head,
                resumed,
                missed,
            }),
            Some(ServerFrame::Error { error }) => Err(error),
            Some(other) => panic!("expected welcome, got {other:?}"),
            None => panic!("the server closed the connection before welcome"),
        }
    }

    /// Reads and records one frame (10 s limit); `None` when the server closed the connection.
    async fn read_frame(&mut self, awaiting: &str) -> Option<ServerFrame<E, R>> {
        let socket = self.socket.as_mut().expect("the socket is open");
        loop {
            let message = tokio::time::timeout(WAIT, socket.next())
                .await
                .unwrap_or_else(|_| panic!("waited {WAIT:?} for {awaiting} but nothing arrived"));
            let text = match message {
                Some(Ok(WebSocketMessage::Text(text))) => text.to_string(),
                Some(Ok(WebSocketMessage::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            };
            self.raw_frames.push(text.clone());
            let frame: ServerFrame<E, R> = serde_json::from_str(&text).unwrap_or_else(|error| {
                panic!("server frame does not match the protocol ({error}): {text}")
            });
            return Some(frame);
        }
    }

    /// Queues an event, reply or error frame; a Welcome or Pong carries nothing to keep.
    fn queue(&mut self, frame: ServerFrame<E, R>) {
        match frame {
            ServerFrame::Event { seq, event, .. } => {
                self.last_seq = self.last_seq.max(seq);
                self.events.push_back((seq, event));
            }
            ServerFrame::Reply { id, outcome } => {
                self.replies.insert(id, outcome);
            }
            ServerFrame::Error { error } => self.errors.push_back(error),
            ServerFrame::Transient { event } => self.transients.push_back(event),
            ServerFrame::Welcome { .. } | ServerFrame::Pong { .. } => {}
        }
    }

    /// Reads frames until one is queued or the connection ends.
    async fn pump(&mut self, awaiting: &str) -> bool {
        match self.read_frame(awaiting).await {
            Some(frame) => {
                self.queue(frame);
                true
            }
            None => false,
        }
    }

    /// The next event with its sequence number.
    pub async fn next_event_with_seq(&mut self) -> (u64, E) {
        loop {
            if let Some(event) = self.events.pop_front() {
                return event;
            }
            assert!(
                self.pump("the next event").await,
                "the server closed the connection while an event was awaited"
            );
        }
    }

    /// Waits for an event matching `matches`, dropping the events before it.
    pub async fn wait_for(&mut self, what: &str, matches: impl Fn(&E) -> bool) -> E {
        loop {
            while let Some((_, event)) = self.events.pop_front() {
                if matches(&event) {
                    return event;
                }
            }
            assert!(
                self.pump(what).await,
                "the server closed the connection while waiting for {what}"
            );
        }
    }

    /// Waits for an ephemeral (`Transient`) event matching `matches`, dropping the ones before.
    pub async fn wait_for_transient(&mut self, what: &str, matches: impl Fn(&E) -> bool) -> E {
        loop {
            while let Some(event) = self.transients.pop_front() {
                if matches(&event) {
                    return event;
                }
            }
            assert!(
                self.pump(what).await,
                "the server closed the connection while waiting for {what}"
            );
        }
    }

    /// Ephemeral events received but not taken yet.
    pub fn queued_transients(&self) -> impl Iterator<Item = &E> {
        self.transients.iter()
    }

    /// The next connection-level error frame.
    pub async fn next_error(&mut self) -> ApiError {
        loop {
            if let Some(error) = self.errors.pop_front() {
                return error;
            }
            assert!(
                self.pump("an error frame").await,
                "the server closed the connection while an error was awaited"
            );
        }
    }

    /// Sends a command and waits for its reply; events arriving meanwhile stay queued.
    pub async fn command_with_id<C: Serialize>(&mut self, id: ClientId, command: C) -> Outcome<R> {
        let frame = ClientFrame::Command {
            id: id.clone(),
            command,
        };
        self.send_text(serde_json::to_string(&frame).expect("serialise command"))
            .await;
        self.reply(&id).await
    }

    /// Waits for the reply to the command with `id`.
    pub async fn reply(&mut self, id: &ClientId) -> Outcome<R> {
        loop {
            if let Some(outcome) = self.replies.remove(id) {
                return outcome;
            }
            assert!(
                self.pump(&format!("the reply to command {}", id.0)).await,
                "the server closed the connection before replying to {}",
                id.0
            );
        }
    }

    /// Sends a ping and waits for its pong.
    pub async fn ping(&mut self, nonce: u64) {
        let ping: ClientFrame<()> = ClientFrame::Ping { nonce };
        self.send_text(serde_json::to_string(&ping).expect("serialise ping"))
            .await;
        loop {
            match self.read_frame("pong").await {
                Some(ServerFrame::Pong { nonce: answered }) if answered == nonce => return,
                Some(frame) => self.queue(frame),
                None => panic!("the server closed the connection before answering ping {nonce}"),
            }
        }
    }

    /// Waits until the server closes the connection (frames before it are recorded).
    pub async fn wait_closed(&mut self) {
        while self.pump("the connection to close").await {}
    }

    /// Events received but not taken yet.
    pub fn queued_events(&self) -> impl Iterator<Item = &E> {
        self.events.iter().map(|(_, event)| event)
    }

    /// Drops the events received but not taken yet, e.g. before a reconnect that expects the
    /// snapshot as its next event.
    pub fn discard_queued_events(&mut self) {
        self.events.clear();
    }

    /// Closes the socket (the events queued so far stay).
    pub async fn disconnect(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
    }
}

fn new_client_id() -> ClientId {
    ClientId(uuid::Uuid::new_v4().to_string())
}

/// What [`TestVisitor`] and [`TestOperator`] share: the protocol connection, and the Welcome and
/// snapshot of its last (re)opening.
struct ClientConnection<E, R> {
    url: String,
    /// The panic message when the server refuses the session token.
    token_accepted: &'static str,
    is_snapshot: fn(&E) -> bool,
    socket: ProtocolSocket<E, R>,
    welcome: Welcome,
    snapshot: Option<E>,
}

impl<E: DeserializeOwned + Debug, R: DeserializeOwned + Debug> ClientConnection<E, R> {
    /// A connection to the protocol endpoint `path` of the server, not open yet.
    fn new(
        server_url: &str,
        path: &str,
        token_accepted: &'static str,
        is_snapshot: fn(&E) -> bool,
    ) -> Self {
        Self {
            url: websocket_url(server_url, path),
            token_accepted,
            is_snapshot,
            socket: ProtocolSocket::new(),
            welcome: Welcome {
                head: 0,
                resumed: false,
                missed: None,
            },
            snapshot: None,
        }
    }

    /// Reconnects and resumes from the last event received.
    async fn reconnect(&mut self, token: &str) {
        let since = Some(self.socket.last_seq);
        self.reconnect_since(token, since).await;
    }

    /// Reconnects with this cursor; see [`TestVisitor::reconnect_since`].
    async fn reconnect_since(&mut self, token: &str, since: Option<u64>) -> Welcome {
        self.socket.disconnect().await;
        self.socket.open(&self.url).await;
        self.welcome = self
            .socket
            .hello(token, since)
            .await
            .expect(self.token_accepted);
        if !self.welcome.resumed {
            let (seq, snapshot) = self.socket.next_event_with_seq().await;
            assert!(
                (self.is_snapshot)(&snapshot),
                "expected a snapshot, got {snapshot:?}"
            );
            assert_eq!(seq, self.welcome.head, "a snapshot carries the stream head");
            self.socket.last_seq = seq;
            self.snapshot = Some(snapshot);
        }
        self.welcome
    }

    /// Sends a command and returns its outcome.
    async fn command<C: Serialize>(&mut self, command: C) -> Result<R, ApiError> {
        self.socket
            .command_with_id(new_client_id(), command)
            .await
            .into_result()
    }
}

/// A visitor using the widget protocol.
pub struct TestVisitor {
    session: VisitorSessionResponse,
    connection: ClientConnection<VisitorEvent, VisitorResponse>,
}

impl TestVisitor {
    /// Creates a visitor session, opens the WebSocket, says hello and takes the snapshot.
    pub async fn connect(server_url: &str, embed_key: &str) -> TestVisitor {
        let session: VisitorSessionResponse = post_json(
            &format!("{server_url}{}", CreateVisitorSession::PATH),
            &VisitorSessionRequest {
                embed_key: embed_key.to_owned(),
            },
            None,
        )
        .await
        .unwrap_or_else(|error| panic!("visitor session for {embed_key:?} refused: {error:?}"));
        Self::connect_session(server_url, session).await
    }

    /// Like [`Self::connect`], with extra headers on the session request (e.g. a proxy's
    /// country header).
    pub async fn connect_with_headers(
        server_url: &str,
        embed_key: &str,
        headers: &[(&str, &str)],
    ) -> TestVisitor {
        let mut request = http_client()
            .post(format!("{server_url}{}", CreateVisitorSession::PATH))
            .json(&VisitorSessionRequest {
                embed_key: embed_key.to_owned(),
            });
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let session: VisitorSessionResponse = request
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("visitor session")
            .json()
            .await
            .expect("visitor session body");
        Self::connect_session(server_url, session).await
    }

    async fn connect_session(server_url: &str, session: VisitorSessionResponse) -> TestVisitor {
        let mut visitor = TestVisitor {
            session,
            connection: ClientConnection::new(
                server_url,
                VISITOR_WS_PATH,
                "the visitor token is accepted",
                |event| matches!(event, VisitorEvent::Snapshot { .. }),
            ),
        };
        visitor.reconnect_since(None).await;
        visitor
    }

    /// Reconnects and resumes from the last event received.
    pub async fn reconnect(&mut self) {
        self.connection.reconnect(&self.session.token).await;
    }

    /// Reconnects with this cursor; without a resume the snapshot is kept in [`Self::snapshot`]
    /// (not queued), with one the replayed events are queued.
    pub async fn reconnect_since(&mut self, since: Option<u64>) -> Welcome {
        self.connection
            .reconnect_since(&self.session.token, since)
            .await
    }

    pub fn welcome(&self) -> Welcome {
        self.connection.welcome
    }

    /// The snapshot of the last connection that was not resumed.
    pub fn snapshot(&self) -> Option<&VisitorEvent> {
        self.connection.snapshot.as_ref()
    }

    pub fn token(&self) -> &str {
        &self.session.token
    }

    pub fn id(&self) -> VisitorId {
        self.session.visitor
    }

    /// The pre-chat topics the session offered.
    pub fn topics(&self) -> &[String] {
        &self.session.topics
    }

    /// The sequence number of the last event received.
    pub fn last_seq(&self) -> u64 {
        self.connection.socket.last_seq
    }

    pub fn raw_frames(&self) -> &[String] {
        &self.connection.socket.raw_frames
    }

    /// The protocol connection itself, for raw frames and custom commands.
    pub fn socket(&mut self) -> &mut ProtocolSocket<VisitorEvent, VisitorResponse> {
        &mut self.connection.socket
    }

    /// Sends a command and returns its outcome.
    pub async fn command(
        &mut self,
        command: impl Into<VisitorCommand>,
    ) -> Result<VisitorResponse, ApiError> {
        self.connection.command(command.into()).await
    }

    pub async fn try_start_chat(
        &mut self,
        name: &str,
        question: &str,
    ) -> Result<VisitorChat, ApiError> {
        match self
            .command(StartChat {
                name: name.to_owned(),
                email: None,
                question: question.to_owned(),
                page_url: Some("https://acme.example/anvils".to_owned()),
                topic: None,
                language: None,
                time_zone: None,
            })
            .await?
        {
            VisitorResponse::Start(chat) => Ok(chat),
            other => panic!("start chat answered with {other:?}"),
        }
    }

    pub async fn start_chat(&mut self, name: &str, question: &str) -> VisitorChat {
        self.try_start_chat(name, question)
            .await
            .unwrap_or_else(|error| panic!("start chat refused: {error}"))
    }

    pub async fn try_send(&mut self, body: &str) -> Result<VisitorMessage, ApiError> {
        match self
            .command(VisitorSend {
                body: body.to_owned(),
            })
            .await?
        {
            VisitorResponse::Send(message) => Ok(message),
            other => panic!("send answered with {other:?}"),
        }
    }

    pub async fn send(&mut self, body: &str) -> VisitorMessage {
        self.try_send(body)
            .await
            .unwrap_or_else(|error| panic!("visitor send refused: {error}"))
    }

    pub async fn leave(&mut self) -> VisitorChat {
        match self.command(LeaveChat {}).await {
            Ok(VisitorResponse::Leave(chat)) => chat,
            other => panic!("leave answered with {other:?}"),
        }
    }

    pub async fn next_event(&mut self) -> VisitorEvent {
        self.connection.socket.next_event_with_seq().await.1
    }

    pub async fn wait_for<F: Fn(&VisitorEvent) -> bool>(
        &mut self,
        what: &str,
        f: F,
    ) -> VisitorEvent {
        self.connection.socket.wait_for(what, f).await
    }
}

/// An operator using the desktop protocol.
pub struct TestOperator {
    session: SignInResponse,
    connection: ClientConnection<OperatorEvent, OperatorResponse>,
}

impl TestOperator {
    /// Signs in over REST, opens the WebSocket, says hello and takes the snapshot.
    pub async fn sign_in(server_url: &str, email: &str, password: &str) -> TestOperator {
        let session: SignInResponse = post_json(
            &format!("{server_url}{}", SignIn::PATH),
            &SignInRequest {
                email: email.to_owned(),
                password: password.to_owned(),
            },
            None,
        )
        .await
        .unwrap_or_else(|error| panic!("sign-in of {email} refused: {error:?}"));
        let mut operator = TestOperator {
            session,
            connection: ClientConnection::new(
                server_url,
                OPERATOR_WS_PATH,
                "the operator token is accepted",
                |event| matches!(event, OperatorEvent::Snapshot { .. }),
            ),
        };
        operator.reconnect_since(None).await;
        operator
    }

    /// Reconnects and resumes from the last event received.
    pub async fn reconnect(&mut self) {
        self.connection.reconnect(&self.session.token).await;
    }

    /// Reconnects with this cursor; see [`TestVisitor::reconnect_since`].
    pub async fn reconnect_since(&mut self, since: Option<u64>) -> Welcome {
        self.connection
            .reconnect_since(&self.session.token, since)
            .await
    }

    pub fn welcome(&self) -> Welcome {
        self.connection.welcome
    }

    pub fn snapshot(&self) -> Option<&OperatorEvent> {
        self.connection.snapshot.as_ref()
    }

    pub fn token(&self) -> &str {
        &self.session.token
    }

    pub fn profile(&self) -> &OperatorProfile {
        &self.session.operator
    }

    pub fn id(&self) -> OperatorId {
        self.session.operator.id
    }

    pub fn last_seq(&self) -> u64 {
        self.connection.socket.last_seq
    }

    pub fn raw_frames(&self) -> &[String] {
        &self.connection.socket.raw_frames
    }

    pub fn socket(&mut self) -> &mut ProtocolSocket<OperatorEvent, OperatorResponse> {
        &mut self.connection.socket
    }

    pub async fn command(
        &mut self,
        command: impl Into<OperatorCommand>,
    ) -> Result<OperatorResponse, ApiError> {
        self.connection.command(command.into()).await
    }

    pub async fn accept(&mut self, chat: ChatId) -> Result<ChatSummary, ApiError> {
        match self.command(AcceptChat { chat }).await? {
            OperatorResponse::Accept(summary) => Ok(summary),
            other => panic!("accept answered with {other:?}"),
        }
    }

    pub async fn send(
        &mut self,
        chat: ChatId,
        body: &str,
        visibility: Visibility,
    ) -> Result<Message, ApiError> {
        match self
            .command(SendMessage {
                chat,
                body: body.to_owned(),
                visibility,
            })
            .await?
        {
            OperatorResponse::Send(message) => Ok(message),
            other => panic!("send answered with {other:?}"),
        }
    }

    pub async fn mute(&mut self, chat: ChatId) -> Result<Ack, ApiError> {
        match self.command(MuteRing { chat }).await? {
            OperatorResponse::Mute(ack) => Ok(ack),
            other => panic!("mute answered with {other:?}"),
        }
    }

    pub async fn end(&mut self, chat: ChatId) -> Result<ChatSummary, ApiError> {
        match self.command(EndChat { chat }).await? {
            OperatorResponse::End(summary) => Ok(summary),
            other => panic!("end answered with {other:?}"),
        }
    }

    pub async fn set_availability(
        &mut self,
        availability: Availability,
    ) -> Result<AvailabilityState, ApiError> {
        match self.command(SetAvailability { availability }).await? {
            OperatorResponse::SetAvailability(state) => Ok(state),
            other => panic!("set availability answered with {other:?}"),
        }
    }

    pub async fn decline(&mut self, chat: ChatId) -> Result<Ack, ApiError> {
        match self.command(DeclineOffer { chat }).await? {
            OperatorResponse::Decline(ack) => Ok(ack),
            other => panic!("decline answered with {other:?}"),
        }
    }

    pub async fn release(&mut self, chat: ChatId) -> Result<ChatSummary, ApiError> {
        match self.command(ReleaseChat { chat }).await? {
            OperatorResponse::Release(summary) => Ok(summary),
            other => panic!("release answered with {other:?}"),
        }
    }

    /// Flips the routing switch of `operator` (`None`: this operator).
    pub async fn set_routing(
        &mut self,
        operator: Option<OperatorId>,
        routing: bool,
    ) -> Result<RoutingState, ApiError> {
        match self.command(SetRouting { operator, routing }).await? {
            OperatorResponse::SetRouting(state) => Ok(state),
            other => panic!("set routing answered with {other:?}"),
        }
    }

    pub async fn set_operator_availability(
        &mut self,
        operator: OperatorId,
        availability: Availability,
    ) -> Result<AvailabilityState, ApiError> {
        match self
            .command(SetOperatorAvailability {
                operator,
                availability,
            })
            .await?
        {
            OperatorResponse::SetOperatorAvailability(state) => Ok(state),
            other => panic!("set operator availability answered with {other:?}"),
        }
    }

    /// Saves the routing settings of a live chat through the admin REST API.
    pub async fn save_routing_settings(
        &self,
        server_url: &str,
        live_chat: LiveChatId,
        settings: &RoutingSettings,
    ) -> Result<RoutingSettings, (u16, ApiError)> {
        let path = GetRoutingSettings::PATH.replace("{id}", &live_chat.to_string());
        post_json(&format!("{server_url}{path}"), settings, Some(self.token())).await
    }

    /// A chat's routing history through the REST API.
    pub async fn routing_history(
        &self,
        server_url: &str,
        chat: ChatId,
    ) -> Result<Vec<RoutingHistoryEntry>, (u16, ApiError)> {
        let path = GetRoutingHistory::PATH.replace("{id}", &chat.to_string());
        get_json(&format!("{server_url}{path}"), Some(self.token())).await
    }

    pub async fn next_event(&mut self) -> OperatorEvent {
        self.connection.socket.next_event_with_seq().await.1
    }

    pub async fn wait_for<F: Fn(&OperatorEvent) -> bool>(
        &mut self,
        what: &str,
        f: F,
    ) -> OperatorEvent {
        self.connection.socket.wait_for(what, f).await
    }
}
