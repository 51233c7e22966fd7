//! The HTTP surface: REST endpoints, WebSocket upgrades (protocol version checked first), the
//! widget bundle and the demo page. Every error is an `ApiError` JSON body with its status.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_protocol::{
    Ack, ApiError, ChatId, CreateVisitorSession, DEMO_PAGE_PATH, Endpoint, ErrorCode,
    GetCannedResponses, GetChatHistory, GetColleagues, GetHealth, GetMe, GetRoutingHistory,
    GetRoutingSettings, Health, LiveChatId, MAX_FRAME_BYTES, OPERATOR_WS_PATH, OperatorId,
    PROTOCOL_VERSION, SearchArticles, SignIn, SignInRequest, SignOut, VERSION_QUERY_PARAM,
    VISITOR_WS_PATH, VisitorSessionRequest, WIDGET_SCRIPT_PATH,
};
use tokio::sync::watch;
use tower_http::cors::{Any, CorsLayer};

use crate::credentials;
use crate::hub::SharedHub;
use crate::session::{self, OperatorRole, Role, VisitorRole};

/// Largest WebSocket message axum accepts. Above [`MAX_FRAME_BYTES`] so an oversized frame can
/// be answered with `tooLarge` instead of the connection being dropped.
const WEBSOCKET_MESSAGE_LIMIT: usize = MAX_FRAME_BYTES * 4;

/// Initial read buffer of a WebSocket session; it grows for larger frames.
const WEBSOCKET_READ_BUFFER: usize = 8 * 1024;

/// The demo shop page lives with the widget it demonstrates.
const DEMO_PAGE: &str = include_str!("../../../widget/demo.html");

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub hub: SharedHub,
    pub widget_dir: Option<Arc<PathBuf>>,
    pub shutdown: watch::Receiver<bool>,
    /// How transcript emails leave (SMTP relay or mail folder), when configured.
    pub mail: Option<Arc<crate::mail::MailTransport>>,
    /// Where uploaded files go and the size limit (B32).
    pub attachments: Arc<crate::attachments::AttachmentStore>,
}

/// An error response: the status follows from the code.
pub struct HttpError(pub ApiError);

impl From<ApiError> for HttpError {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = match self.0.code {
            ErrorCode::BadRequest | ErrorCode::BadFrame => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::UpgradeRequired => StatusCode::UPGRADE_REQUIRED,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, axum::Json(self.0)).into_response()
    }
}

pub(crate) type HttpResult<T> = Result<axum::Json<T>, HttpError>;

fn error(code: ErrorCode, message: &str) -> HttpError {
    HttpError(ApiError::new(code, message))
}

/// The application's routes.
pub fn router(state: AppState) -> Router {
    // The widget runs on customers' sites, so its endpoints answer any origin. It carries its
    // token in a header, never a cookie, so no credentials mode is needed.
    let cross_origin = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::HeaderName::from_static(switchboard_protocol::ATTACHMENT_NAME_HEADER),
            header::HeaderName::from_static(switchboard_protocol::CLIENT_ID_HEADER),
        ]);
    let visitor_routes = Router::new()
        .route(CreateVisitorSession::PATH, post(create_visitor_session))
        .route(VISITOR_WS_PATH, get(visitor_ws))
        .route(
            WIDGET_SCRIPT_PATH,
            get(widget_script).layer(tower_http::compression::CompressionLayer::new()),
        )
        // Uploads stream to disk under their own limit (`AttachmentStore::max_bytes`).
        .route(
            switchboard_protocol::VISITOR_UPLOAD_ATTACHMENT_PATH,
            post(crate::attachments::visitor_upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            switchboard_protocol::ATTACHMENT_PATH,
            get(crate::attachments::download),
        )
        .route(GetHealth::PATH, get(health))
        .layer(cross_origin);
    Router::new()
        .route(SignIn::PATH, post(sign_in))
        .route(SignOut::PATH, post(sign_out))
        .route(GetMe::PATH, get(me))
        .route(GetChatHistory::PATH, get(chat_history))
        .route(GetCannedResponses::PATH, get(canned_responses))
        .route(SearchArticles::PATH, post(search_articles))
        .route(GetColleagues::PATH, get(colleagues))
        .route(GetRoutingHistory::PATH, get(routing_history))
        .route(switchboard_protocol::GetAuditLog::PATH, get(audit_log))
        .route(switchboard_protocol::GetTickets::PATH, get(tickets))
        .route(
            switchboard_protocol::GetTicket::PATH,
            get(ticket).post(update_ticket),
        )
        .route(
            switchboard_protocol::EmailTranscript::PATH,
            post(email_transcript),
        )
        .route(
            GetRoutingSettings::PATH,
            get(routing_settings).post(save_routing_settings),
        )
        .route(
            switchboard_protocol::GetTeams::PATH,
            get(crate::teams::list),
        )
        .route(
            switchboard_protocol::CreateTeam::PATH,
            post(crate::teams::create),
        )
        .route(
            switchboard_protocol::UpdateTeam::PATH,
            post(crate::teams::update),
        )
        .route(
            switchboard_protocol::DeleteTeam::PATH,
            post(crate::teams::delete),
        )
        .route(
            switchboard_protocol::UPLOAD_ATTACHMENT_PATH,
            post(crate::attachments::operator_upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            switchboard_protocol::GetRatingSettings::PATH,
            get(crate::rating::get_settings).post(crate::rating::save_settings),
        )
        .route(
            switchboard_protocol::GetEmojiSettings::PATH,
            get(crate::attachments::get_emoji).post(crate::attachments::save_emoji),
        )
        .route(
            switchboard_protocol::GetChatCustomer::PATH,
            get(crate::customers::get_for_chat),
        )
        .route(
            switchboard_protocol::CreateCustomer::PATH,
            post(crate::customers::create),
        )
        .route(OPERATOR_WS_PATH, get(operator_ws))
        .route(DEMO_PAGE_PATH, get(demo_page))
        .merge(visitor_routes)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_FRAME_BYTES))
        .with_state(state)
}

async fn not_found() -> HttpError {
    error(ErrorCode::NotFound, "There is nothing at this address.")
}

/// Parses a JSON body, mapping every failure to an `ApiError`.
pub(crate) fn json_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, HttpError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            error(ErrorCode::TooLarge, "The request body is too large.")
        } else {
            error(ErrorCode::BadRequest, "The request body could not be read.")
        }
    })?;
    serde_json::from_slice(&body).map_err(|parse| {
        HttpError(ApiError::new(
            ErrorCode::BadRequest,
            format!("The request body is not valid: {parse}"),
        ))
    })
}

pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<String, HttpError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            error(
                ErrorCode::Unauthorized,
                "Sign in first: this needs a bearer token.",
            )
        })
}

/// Runs hub work off the async workers (SQLite is synchronous).
pub(crate) async fn with_hub<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&SharedHub) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, HttpError> {
    let hub = state.hub.clone();
    tokio::task::spawn_blocking(move || work(&hub))
        .await
        .map_err(|_| error(ErrorCode::Internal, "The request failed on the server."))?
        .map_err(HttpError)
}

pub(crate) async fn authenticated_operator(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<OperatorId, HttpError> {
    let token = bearer_token(headers)?;
    with_hub(state, move |hub| {
        hub.lock().operator_for_token(&token)?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "This session is not valid any more. Sign in again.",
            )
        })
    })
    .await
}

fn ok<T: Serialize>(value: T) -> HttpResult<T> {
    Ok(axum::Json(value))
}

async fn health() -> HttpResult<Health> {
    ok(Health {
        status: "ok".to_owned(),
        protocol: PROTOCOL_VERSION,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// A hash to verify against when the email is unknown, so a wrong email costs the same time as
/// a wrong password and does not reveal which emails exist.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| credentials::hash_password("decoy password").unwrap_or_default())
}

/// How many password checks run at once (see `sign_in`).
static PASSWORD_CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn sign_in(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> HttpResult<switchboard_protocol::SignInResponse> {
    let request: SignInRequest = json_body(body)?;
    // Each argon2 check takes ~19 MiB and a blocking thread for ~50 ms. Hundreds of operators
    // signing in at once (a shift start, a server restart) would otherwise run hundreds of checks
    // side by side: the memory stays with the allocator (measured: ~1.2 GB after 500 sign-ins)
    // and the checks starve chat traffic of CPU. Queue them instead, a few at a time.
    let _permit = PASSWORD_CHECKS
        .acquire()
        .await
        .map_err(|_| error(ErrorCode::Internal, "The request failed on the server."))?;
    let response = with_hub(&state, move |hub| {
        let stored = hub.lock().operator_credentials(request.email.trim())?;
        // Argon2 runs outside the hub lock so sign-ins do not stall chats.
        let (operator, hash) = match stored {
            Some((operator, hash)) => (Some(operator), hash),
            None => (None, decoy_hash().to_owned()),
        };
        let verified = credentials::verify_password(&request.password, &hash);
        match (operator, verified) {
            (Some(operator), true) => hub.lock().issue_operator_token(operator),
            _ => Err(ApiError::new(
                ErrorCode::Unauthorized,
                "Wrong email or password.",
            )),
        }
    })
    .await?;
    ok(response)
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> HttpResult<Ack> {
    let token = bearer_token(&headers)?;
    with_hub(&state, move |hub| {
        if hub.lock().revoke_operator_token(&token)? {
            Ok(Ack {})
        } else {
            Err(ApiError::new(
                ErrorCode::Unauthorized,
                "This session is not valid any more.",
            ))
        }
    })
    .await
    .map(axum::Json)
}

async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> HttpResult<switchboard_protocol::OperatorProfile> {
    let operator = authenticated_operator(&state, &headers).await?;
    with_hub(&state, move |hub| {
        hub.lock()
            .operator_profile(operator)?
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "This account no longer exists."))
    })
    .await
    .map(axum::Json)
}

async fn canned_responses(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> HttpResult<Vec<switchboard_protocol::CannedResponse>> {
    let operator = authenticated_operator(&state, &headers).await?;
    with_hub(&state, move |hub| hub.lock().canned_responses(operator))
        .await
        .map(axum::Json)
}

async fn colleagues(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> HttpResult<Vec<switchboard_protocol::OperatorRef>> {
    let operator = authenticated_operator(&state, &headers).await?;
    with_hub(&state, move |hub| hub.lock().colleagues(operator))
        .await
        .map(axum::Json)
}

async fn search_articles(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> HttpResult<Vec<switchboard_protocol::Article>> {
    let operator = authenticated_operator(&state, &headers).await?;
    let search: switchboard_protocol::ArticleSearch = json_body(body)?;
    with_hub(&state, move |hub| {
        hub.lock().search_articles(operator, &search.query)
    })
    .await
    .map(axum::Json)
}

async fn chat_history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
) -> HttpResult<switchboard_protocol::ChatHistory> {
    let operator = authenticated_operator(&state, &headers).await?;
    let chat = chat
        .parse::<i64>()
        .map(ChatId)
        .map_err(|_| error(ErrorCode::NotFound, "There is no such chat."))?;
    with_hub(&state, move |hub| hub.lock().chat_history(operator, chat))
        .await
        .map(axum::Json)
}

pub(crate) fn path_id(text: &str, what: &str) -> Result<i64, HttpError> {
    text.parse::<i64>()
        .map_err(|_| error(ErrorCode::NotFound, &format!("There is no such {what}.")))
}

async fn routing_history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(chat): Path<String>,
) -> HttpResult<Vec<switchboard_protocol::RoutingHistoryEntry>> {
    let operator = authenticated_operator(&state, &headers).await?;
    let chat = ChatId(path_id(&chat, "chat")?);
    with_hub(&state, move |hub| {
        hub.lock().routing_history(operator, chat)
    })
    .await
    .map(axum::Json)
}

async fn tickets(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> HttpResult<Vec<switchboard_protocol::Ticket>> {
    let operator = authenticated_operator(&state, &headers).await?;
    with_hub(&state, move |hub| hub.lock().tickets(operator))
        .await
        .map(axum::Json)
}

async fn ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> HttpResult<switchboard_protocol::TicketDetail> {
    let operator = authenticated_operator(&state, &headers).await?;
    let id = path_id(&id, "ticket")?;
    with_hub(&state, move |hub| hub.lock().ticket_detail(operator, id))
        .await
        .map(axum::Json)
}

async fn update_ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Json(update): axum::Json<switchboard_protocol::TicketUpdate>,
) -> HttpResult<switchboard_protocol::Ticket> {
    let operator = authenticated_operator(&state, &headers).await?;
    let id = path_id(&id, "ticket")?;
    with_hub(&state, move |hub| {
        hub.lock().update_ticket(operator, id, update)
    })
    .await
    .map(axum::Json)
}

/// Builds the email under the hub lock, then talks SMTP (or writes the file) outside it.
async fn email_transcript(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> HttpResult<switchboard_protocol::TranscriptSent> {
    let operator = authenticated_operator(&state, &headers).await?;
    let id = path_id(&id, "ticket")?;
    let email = with_hub(&state, move |hub| hub.lock().transcript_email(operator, id)).await?;
    let Some(transport) = state.mail.clone() else {
        return Err(error(
            ErrorCode::Conflict,
            "This server has no SMTP server configured for email.",
        ));
    };
    let to = email.to.clone();
    crate::mail::deliver(&transport, email)
        .await
        .map_err(|failure| {
            tracing::warn!(error = %failure, "transcript email failed");
            error(
                ErrorCode::Internal,
                "The email could not be sent. Please try again later.",
            )
        })?;
    Ok(axum::Json(switchboard_protocol::TranscriptSent { to }))
}

async fn audit_log(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(live_chat): Path<String>,
) -> HttpResult<Vec<switchboard_protocol::AuditEntry>> {
    let operator = authenticated_operator(&state, &headers).await?;
    let live_chat = LiveChatId(path_id(&live_chat, "live chat")?);
    with_hub(&state, move |hub| hub.lock().audit_log(operator, live_chat))
        .await
        .map(axum::Json)
}

async fn routing_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(live_chat): Path<String>,
) -> HttpResult<switchboard_protocol::RoutingSettings> {
    let operator = authenticated_operator(&state, &headers).await?;
    let live_chat = LiveChatId(path_id(&live_chat, "live chat")?);
    with_hub(&state, move |hub| {
        hub.lock().routing_settings(operator, live_chat)
    })
    .await
    .map(axum::Json)
}

async fn save_routing_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(live_chat): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> HttpResult<switchboard_protocol::RoutingSettings> {
    let operator = authenticated_operator(&state, &headers).await?;
    let live_chat = LiveChatId(path_id(&live_chat, "live chat")?);
    let settings: switchboard_protocol::RoutingSettings = json_body(body)?;
    with_hub(&state, move |hub| {
        hub.lock()
            .save_routing_settings(operator, live_chat, settings)
    })
    .await
    .map(axum::Json)
}

async fn create_visitor_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> HttpResult<switchboard_protocol::VisitorSessionResponse> {
    let request: VisitorSessionRequest = json_body(body)?;
    with_hub(&state, move |hub| {
        let mut hub = hub.lock();
        // B04: a trusted proxy's country header beats the time zone guess (routing/location.rs).
        let proxy_country = hub
            .country_header()
            .and_then(|name| headers.get(name))
            .and_then(|value| value.to_str().ok())
            .and_then(crate::routing::location::proxy_country);
        hub.create_visitor_session(&request.embed_key, proxy_country.as_deref())
    })
    .await
    .map(axum::Json)
}

async fn operator_ws(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    upgrade_session::<OperatorRole>(state, query, upgrade)
}

async fn visitor_ws(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    upgrade_session::<VisitorRole>(state, query, upgrade)
}

/// Whether the query string asks for the protocol version this server speaks.
fn speaks_our_version(query: Option<&str>) -> bool {
    let expected = PROTOCOL_VERSION.to_string();
    query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .any(|(name, value)| name == VERSION_QUERY_PARAM && value == expected)
}

fn upgrade_session<R: Role>(
    state: AppState,
    query: Option<String>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // The version is checked before upgrading, so an old client gets a plain 426 it can show
    // as "update the app" rather than a socket that fails later.
    if !speaks_our_version(query.as_deref()) {
        return error(
            ErrorCode::UpgradeRequired,
            &format!("This app speaks a protocol version the server does not; the server speaks v{PROTOCOL_VERSION}. Please update."),
        )
        .into_response();
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(_) => {
            return error(
                ErrorCode::BadRequest,
                "This address needs a WebSocket upgrade.",
            )
            .into_response();
        }
    };
    let hub = state.hub.clone();
    let shutdown = state.shutdown.clone();
    upgrade
        .max_message_size(WEBSOCKET_MESSAGE_LIMIT)
        .max_frame_size(WEBSOCKET_MESSAGE_LIMIT)
        // Thousands of mostly idle visitor sockets: the 128 KiB default read buffer, allocated
        // up front for each, would dominate the server's memory. Frames are small.
        .read_buffer_size(WEBSOCKET_READ_BUFFER)
        .on_upgrade(move |socket| session::run::<R>(socket, hub, shutdown))
}

/// The widget is fetched on every page view of every customer site, so it is sent once and then
/// revalidated: `no-cache` makes browsers ask each time, and the ETag (a hash of the bytes) lets
/// the answer be an empty 304 until the file changes. The route's compression layer gzips it
/// (about a third of its size) for the first fetch.
async fn widget_script(State(state): State<AppState>, request_headers: HeaderMap) -> Response {
    let missing = || {
        error(
            ErrorCode::NotFound,
            "The widget is not built: build widget/ and start the server with --widget-dir pointing at the folder holding widget.js.",
        )
        .into_response()
    };
    let Some(directory) = state.widget_dir.as_ref() else {
        return missing();
    };
    let Ok(script) = tokio::fs::read(directory.join("widget.js")).await else {
        return missing();
    };
    let tag = entity_tag(&script);
    let cache_headers = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::ETAG,
            HeaderValue::from_str(&tag).expect("a quoted hex digest is a valid header value"),
        ),
    ];
    let unchanged = request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|candidate| {
            let candidate = candidate.trim();
            candidate == "*" || candidate.trim_start_matches("W/") == tag
        });
    if unchanged {
        return (StatusCode::NOT_MODIFIED, cache_headers).into_response();
    }
    (
        cache_headers,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/javascript; charset=utf-8"),
        )],
        script,
    )
        .into_response()
}

/// A strong validator for a file's bytes: SHA-256 is already a dependency (token hashing), and the
/// widget is read per request anyway, so hashing it costs microseconds.
fn entity_tag(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let hex: String = digest[..12]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
}

async fn demo_page() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        DEMO_PAGE,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_protocol_version_is_accepted() {
        assert!(speaks_our_version(Some("v=1")));
        assert!(speaks_our_version(Some("x=2&v=1")));
        assert!(!speaks_our_version(None));
        assert!(!speaks_our_version(Some("v=2")));
        assert!(!speaks_our_version(Some("v=")));
        assert!(!speaks_our_version(Some("version=1")));
    }
}
