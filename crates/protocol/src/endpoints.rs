//! REST endpoints, each a request type paired with its response type and its route.
//!
//! Errors are an [`ApiError`](crate::ApiError) body with a matching HTTP status.
//! Authenticated endpoints take `Authorization: Bearer <token>`: an operator token from
//! [`SignIn`], or a visitor token from [`CreateVisitorSession`].

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{ChatSummary, Message, OperatorProfile, VisitorId};

/// HTTP method of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// A REST endpoint: its method, its route (axum syntax, `{name}` for path parameters), and the
/// request and response bodies.
pub trait Endpoint {
    const METHOD: Method;
    const PATH: &'static str;
    type Request: Serialize;
    type Response;
}

/// WebSocket route for operator clients (desktop core).
pub const OPERATOR_WS_PATH: &str = "/api/v1/operator/ws";
/// WebSocket route for visitor clients (widget).
pub const VISITOR_WS_PATH: &str = "/api/v1/visitor/ws";
/// The widget bundle, served by the server for websites to embed.
pub const WIDGET_SCRIPT_PATH: &str = "/widget.js";
/// The demo web page with the widget embedded.
pub const DEMO_PAGE_PATH: &str = "/demo";

/// Server liveness and the protocol it speaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: String,
    pub protocol: u32,
    pub version: String,
}

/// `GET /api/v1/health`.
pub struct GetHealth;
impl Endpoint for GetHealth {
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/api/v1/health";
    type Request = ();
    type Response = Health;
}

/// Operator sign-in with email and password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for SignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A new operator session.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SignInResponse {
    /// Bearer token for REST and the operator WebSocket. The server keeps only its hash.
    pub token: String,
    pub operator: OperatorProfile,
}

impl std::fmt::Debug for SignInResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInResponse")
            .field("token", &"<redacted>")
            .field("operator", &self.operator)
            .finish()
    }
}

/// `POST /api/v1/auth/sign-in`.
pub struct SignIn;
impl Endpoint for SignIn {
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/api/v1/auth/sign-in";
    type Request = SignInRequest;
    type Response = SignInResponse;
}

/// `POST /api/v1/auth/sign-out`: revokes the bearer token.
pub struct SignOut;
impl Endpoint for SignOut {
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/api/v1/auth/sign-out";
    type Request = ();
    type Response = crate::Ack;
}

/// `GET /api/v1/me`: the signed-in operator.
pub struct GetMe;
impl Endpoint for GetMe {
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/api/v1/me";
    type Request = ();
    type Response = OperatorProfile;
}

/// A chat with its full history, as staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChatHistory {
    pub chat: ChatSummary,
    pub messages: Vec<Message>,
}

/// `GET /api/v1/chats/{id}/messages` (operator token).
pub struct GetChatHistory;
impl Endpoint for GetChatHistory {
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/api/v1/chats/{id}/messages";
    type Request = ();
    type Response = ChatHistory;
}

/// Opens or resumes a visitor session for the live chat with this embed key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitorSessionRequest {
    pub embed_key: String,
}

/// A visitor session. The widget keeps the token (in the page's local storage) to survive reloads.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitorSessionResponse {
    pub token: String,
    pub visitor: VisitorId,
    /// Display name of the live chat, for the widget header.
    pub live_chat_name: String,
}

impl std::fmt::Debug for VisitorSessionResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisitorSessionResponse")
            .field("token", &"<redacted>")
            .field("visitor", &self.visitor)
            .field("live_chat_name", &self.live_chat_name)
            .finish()
    }
}

/// `POST /api/v1/visitor/session`.
pub struct CreateVisitorSession;
impl Endpoint for CreateVisitorSession {
    const METHOD: Method = Method::Post;
    const PATH: &'static str = "/api/v1/visitor/session";
    type Request = VisitorSessionRequest;
    type Response = VisitorSessionResponse;
}
