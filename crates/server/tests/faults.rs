//! Bad input, bad credentials and protocol misuse: each gets a clear error, and the server keeps
//! serving afterwards.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use switchboard_protocol::{
    ApiError, ChatHistory, ErrorCode, Health, MAX_FRAME_BYTES, MAX_MESSAGE_CHARS, OperatorProfile,
    Outcome, SignInRequest, SignInResponse, VisitorResponse, VisitorSessionRequest,
    VisitorSessionResponse,
};
use switchboard_protocol::{OperatorEvent, OperatorResponse, VisitorEvent};
use switchboard_server::Config;
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, ProtocolSocket, TestOperator, TestServer, TestVisitor,
    get_json, post_json, websocket_url,
};

async fn assert_still_serving(server: &TestServer) {
    let health: Health = get_json(&format!("{}/api/v1/health", server.url()), None)
        .await
        .expect("the server still answers the health check");
    assert_eq!(health.status, "ok");
}

#[tokio::test]
async fn malformed_unknown_and_oversized_frames_are_refused_and_the_connection_stays_usable() {
    let server = TestServer::start().await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;

    visitor.socket().send_text("{not json").await;
    assert_eq!(
        visitor.socket().next_error().await.code,
        ErrorCode::BadFrame
    );

    visitor
        .socket()
        .send_text(r#"{"type":"launchRocket","target":"roadrunner"}"#)
        .await;
    assert_eq!(
        visitor.socket().next_error().await.code,
        ErrorCode::BadFrame
    );

    visitor
        .socket()
        .send_text(r#"{"type":"command","id":"c-1","command":{"type":"selfDestruct"}}"#)
        .await;
    match visitor
        .socket()
        .reply(&switchboard_protocol::ClientId("c-1".to_owned()))
        .await
    {
        Outcome::Error { error } => assert_eq!(error.code, ErrorCode::BadRequest),
        other => panic!("an unknown command must fail, got {other:?}"),
    }

    let oversized = format!(
        r#"{{"type":"ping","nonce":1,"padding":"{}"}}"#,
        "x".repeat(MAX_FRAME_BYTES)
    );
    visitor.socket().send_text(oversized).await;
    assert_eq!(
        visitor.socket().next_error().await.code,
        ErrorCode::TooLarge
    );

    visitor.socket().ping(42).await;
    let chat = visitor.start_chat("Coyote", "Still there?").await;
    assert_eq!(
        chat.subject, "Still there?",
        "commands work after refused frames"
    );
    assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn empty_and_overlong_messages_are_bad_requests() {
    let server = TestServer::start().await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let error = visitor
        .try_start_chat("Coyote", "   ")
        .await
        .expect_err("an empty question");
    assert_eq!(error.code, ErrorCode::BadRequest);
    let error = visitor
        .try_start_chat("", "Hello")
        .await
        .expect_err("a name is required");
    assert_eq!(error.code, ErrorCode::BadRequest);
    visitor.start_chat("Coyote", "Hello").await;
    let error = visitor.try_send("").await.expect_err("an empty message");
    assert_eq!(error.code, ErrorCode::BadRequest);
    let error = visitor
        .try_send(&"é".repeat(MAX_MESSAGE_CHARS + 1))
        .await
        .expect_err("a message over the limit");
    assert_eq!(error.code, ErrorCode::BadRequest);
    visitor.send(&"é".repeat(MAX_MESSAGE_CHARS)).await;
    let mut operator = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let id = switchboard_protocol::ClientId("x".repeat(65));
    match operator
        .socket()
        .command_with_id(
            id,
            switchboard_protocol::OperatorCommand::Mute(switchboard_protocol::MuteRing {
                chat: switchboard_protocol::ChatId(1),
            }),
        )
        .await
    {
        Outcome::Error { error } => assert_eq!(
            error.code,
            ErrorCode::BadRequest,
            "client ids are at most 64 characters"
        ),
        other => panic!("an overlong client id must fail, got {other:?}"),
    }
    assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_missing_or_unknown_protocol_version_gets_426_before_the_upgrade() {
    let server = TestServer::start().await;
    for query in ["", "?v=2", "?v=abc"] {
        for path in ["/api/v1/operator/ws", "/api/v1/visitor/ws"] {
            let url = format!("{}{path}{query}", server.url());
            let result: Result<serde_json::Value, (u16, ApiError)> = get_json(&url, None).await;
            let (status, error) = result.expect_err("no upgrade without the right version");
            assert_eq!(status, 426, "{url}");
            assert_eq!(error.code, ErrorCode::UpgradeRequired);
        }
    }
    let url = websocket_url(&server.url(), "/api/v1/visitor/ws").replace("?v=1", "?v=9");
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 426)
        }
        other => panic!(
            "a WebSocket client must see 426, got {:?}",
            other.map(|_| ())
        ),
    }
    assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn wrong_passwords_and_unknown_emails_get_401() {
    let server = TestServer::start().await;
    let url = format!("{}/api/v1/auth/sign-in", server.url());
    for (email, password) in [
        (ANN, "wrong"),
        ("nobody@example.com", DEMO_PASSWORD),
        (ANN, ""),
    ] {
        let result: Result<SignInResponse, _> = post_json(
            &url,
            &SignInRequest {
                email: email.to_owned(),
                password: password.to_owned(),
            },
            None,
        )
        .await;
        let (status, error) = result.expect_err("sign-in must fail");
        assert_eq!(status, 401);
        assert_eq!(error.code, ErrorCode::Unauthorized);
        assert_eq!(
            error.message, "Wrong email or password.",
            "the message does not reveal which was wrong"
        );
    }
    let result: Result<SignInResponse, _> =
        post_json(&url, &serde_json::json!({"email": ANN}), None).await;
    assert_eq!(result.expect_err("a malformed body").0, 400);
    assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn sign_in_me_and_sign_out_revoke_the_token() {
    let server = TestServer::start().await;
    let signed_in: SignInResponse = post_json(
        &format!("{}/api/v1/auth/sign-in", server.url()),
        &SignInRequest {
            email: "ANN@example.com".to_owned(),
            password: DEMO_PASSWORD.to_owned(),
        },
        None,
    )
    .await
    .expect("emails are case-insensitive");
    assert_eq!(signed_in.token.len(), 64);
    let me: OperatorProfile = get_json(
        &format!("{}/api/v1/me", server.url()),
        Some(&signed_in.token),
    )
    .await
    .expect("me");
    assert_eq!(me.name, "Ann Operator");
    assert_eq!(me.live_chats.len(), 1);
    let _: switchboard_protocol::Ack = post_json(
        &format!("{}/api/v1/auth/sign-out", server.url()),
        &(),
        Some(&signed_in.token),
    )
    .await
    .expect("sign out");
    let (status, _) = get_json::<OperatorProfile>(
        &format!("{}/api/v1/me", server.url()),
        Some(&signed_in.token),
    )
    .await
    .expect_err("a revoked token");
    assert_eq!(status, 401);
    server.stop().await;
}

#[tokio::test]
async fn expired_and_unknown_tokens_are_refused_on_the_websocket() {
    let directory = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start_with(Config {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        database: directory.path().join("expired.sqlite3"),
        demo: true,
        // Tokens that expire the moment they are issued.
        operator_token_days: 0,
        ..Config::default()
    })
    .await;
    let signed_in: SignInResponse = post_json(
        &format!("{}/api/v1/auth/sign-in", server.url()),
        &SignInRequest {
            email: ANN.to_owned(),
            password: DEMO_PASSWORD.to_owned(),
        },
        None,
    )
    .await
    .expect("sign-in itself works");
    for token in [signed_in.token.as_str(), "0123456789abcdef", ""] {
        let mut socket: ProtocolSocket<OperatorEvent, OperatorResponse> = ProtocolSocket::default();
        socket
            .open(&websocket_url(&server.url(), "/api/v1/operator/ws"))
            .await;
        let error = socket
            .hello(token, None)
            .await
            .expect_err("the token is refused");
        assert_eq!(error.code, ErrorCode::Unauthorized);
        socket.wait_closed().await;
    }
    let (status, _) = get_json::<OperatorProfile>(
        &format!("{}/api/v1/me", server.url()),
        Some(&signed_in.token),
    )
    .await
    .expect_err("an expired token");
    assert_eq!(status, 401);
    assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_visitor_token_opens_no_operator_door() {
    let server = TestServer::start().await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Coyote", "Mine").await;
    let mut other = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    other.start_chat("Sneaky", "Theirs").await;

    let (status, error) = get_json::<ChatHistory>(
        &format!("{}/api/v1/chats/{}/messages", server.url(), chat.id),
        Some(other.token()),
    )
    .await
    .expect_err("a visitor token cannot read chat history");
    assert_eq!((status, error.code), (401, ErrorCode::Unauthorized));

    let mut socket: ProtocolSocket<OperatorEvent, OperatorResponse> = ProtocolSocket::default();
    socket
        .open(&websocket_url(&server.url(), "/api/v1/operator/ws"))
        .await;
    let error = socket
        .hello(other.token(), None)
        .await
        .expect_err("not an operator token");
    assert_eq!(error.code, ErrorCode::Unauthorized);
    socket.wait_closed().await;

    let operator = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut socket: ProtocolSocket<VisitorEvent, VisitorResponse> = ProtocolSocket::default();
    socket
        .open(&websocket_url(&server.url(), "/api/v1/visitor/ws"))
        .await;
    let error = socket
        .hello(operator.token(), None)
        .await
        .expect_err("not a visitor token");
    assert_eq!(error.code, ErrorCode::Unauthorized);

    let (status, _) = get_json::<ChatHistory>(
        &format!("{}/api/v1/chats/9999/messages", server.url()),
        Some(operator.token()),
    )
    .await
    .expect_err("no such chat");
    assert_eq!(status, 404);
    let history: ChatHistory = get_json(
        &format!("{}/api/v1/chats/{}/messages", server.url(), chat.id),
        Some(operator.token()),
    )
    .await
    .expect("a member operator reads the history");
    assert_eq!(history.messages[0].body, "Mine");
    assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn visitor_sessions_need_a_known_embed_key_and_work_cross_origin() {
    let server = TestServer::start().await;
    let url = format!("{}/api/v1/visitor/session", server.url());
    let (status, error) = post_json::<VisitorSessionResponse>(
        &url,
        &VisitorSessionRequest {
            embed_key: "no-such-key".to_owned(),
        },
        None,
    )
    .await
    .expect_err("unknown embed key");
    assert_eq!((status, error.code), (404, ErrorCode::NotFound));
    let session: VisitorSessionResponse = post_json(
        &url,
        &VisitorSessionRequest {
            embed_key: DEMO_EMBED_KEY.to_owned(),
        },
        None,
    )
    .await
    .expect("demo session");
    assert_eq!(session.live_chat_name, "Acme website");

    let preflight = switchboard_server::test_support::http_client()
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "https://shop.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .map(|value| value.as_bytes()),
        Some(&b"*"[..]),
        "the widget runs on other sites"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_demo_page_embeds_the_widget_and_widget_js_is_served_from_the_widget_dir() {
    let server = TestServer::start().await;
    let page = reqwest::get(format!("{}/demo", server.url()))
        .await
        .expect("demo page");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"<script src="/widget.js" data-embed-key="demo" defer></script>"#));
    let missing = reqwest::get(format!("{}/widget.js", server.url()))
        .await
        .expect("widget");
    assert_eq!(missing.status().as_u16(), 404, "no widget dir configured");
    let error: ApiError = missing.json().await.expect("ApiError body");
    assert!(error.message.contains("not built"), "{}", error.message);
    server.stop().await;

    let directory = tempfile::tempdir().expect("temp dir");
    std::fs::write(directory.path().join("widget.js"), "console.log('widget');")
        .expect("write widget");
    let server = TestServer::start_with(Config {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        database: directory.path().join("widget.sqlite3"),
        widget_dir: Some(directory.path().to_owned()),
        ..Config::default()
    })
    .await;
    let script = reqwest::get(format!("{}/widget.js", server.url()))
        .await
        .expect("widget");
    assert!(script.status().is_success());
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/javascript")
    );
    assert_eq!(script.text().await.expect("body"), "console.log('widget');");
    server.stop().await;
}

#[tokio::test]
async fn widget_js_is_gzipped_and_revalidated_by_etag_until_it_changes() {
    let directory = tempfile::tempdir().expect("temp dir");
    let bundle = "console.log('the widget');\n".repeat(200);
    std::fs::write(directory.path().join("widget.js"), &bundle).expect("write widget");
    let server = TestServer::start_with(Config {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        database: directory.path().join("widget.sqlite3"),
        widget_dir: Some(directory.path().to_owned()),
        ..Config::default()
    })
    .await;
    let url = format!("{}/widget.js", server.url());
    let client = reqwest::Client::new();

    let first = client
        .get(&url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("widget");
    assert!(first.status().is_success());
    assert_eq!(first.headers()["content-encoding"], "gzip");
    let tag = first.headers()["etag"].to_str().expect("etag").to_owned();
    let compressed = first.bytes().await.expect("body");
    assert!(
        compressed.len() * 4 < bundle.len(),
        "{} gzipped bytes for {} plain",
        compressed.len(),
        bundle.len()
    );

    let plain = client.get(&url).send().await.expect("widget");
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.expect("body"), bundle);

    let revalidated = client
        .get(&url)
        .header("if-none-match", &tag)
        .send()
        .await
        .expect("widget");
    assert_eq!(revalidated.status().as_u16(), 304);
    assert!(revalidated.bytes().await.expect("body").is_empty());

    std::fs::write(directory.path().join("widget.js"), "console.log('new');").expect("rewrite");
    let changed = client
        .get(&url)
        .header("if-none-match", &tag)
        .send()
        .await
        .expect("widget");
    assert_eq!(changed.status().as_u16(), 200, "a new bundle is sent again");
    assert_ne!(changed.headers()["etag"].to_str().expect("etag"), tag);
    assert_eq!(changed.text().await.expect("body"), "console.log('new');");
    server.stop().await;
}

#[tokio::test]
async fn stopping_the_server_closes_live_sessions() {
    let server = TestServer::start().await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    server.stop().await;
    visitor.socket().wait_closed().await;
}

#[test]
fn the_binary_prints_its_address_and_demo_sign_ins() {
    let directory = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard-server"))
        .args(["--bind", "127.0.0.1:0", "--demo", "--database"])
        .arg(directory.path().join("binary.sqlite3"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a first line").expect("read stdout");
    let second = lines.next().expect("a second line").expect("read stdout");
    let _ = child.kill();
    let _ = child.wait();
    let address = first
        .strip_prefix("switchboard-server listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    let address: SocketAddr = address.parse().expect("an address");
    assert_ne!(address.port(), 0, "the real port is printed");
    assert_eq!(second, format!("demo page: http://{address}/demo"));
}

#[tokio::test]
async fn an_oversized_request_body_gets_413() {
    let server = TestServer::start().await;
    let body = serde_json::json!({"email": ANN, "password": "x".repeat(MAX_FRAME_BYTES * 2)});
    let (status, error) = post_json::<SignInResponse>(
        &format!("{}/api/v1/auth/sign-in", server.url()),
        &body,
        None,
    )
    .await
    .expect_err("a body over the limit");
    assert_eq!((status, error.code), (413, ErrorCode::TooLarge));
    assert_still_serving(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn operators_cannot_see_or_act_in_chats_of_live_chats_they_are_not_members_of() {
    let server = TestServer::start().await;
    // A second live chat nobody from the demo belongs to, added the way an admin tool would.
    let database =
        rusqlite::Connection::open(server.database_path()).expect("open the test database");
    database
        .execute(
            "INSERT INTO live_chats (name, embed_key) VALUES ('Other shop', 'other')",
            [],
        )
        .expect("add a live chat");
    drop(database);
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), "other").await;
    let chat = visitor.start_chat("Elsewhere", "Private question").await;
    let error = ann.accept(chat.id).await.expect_err("not a member");
    assert_eq!(
        error.code,
        ErrorCode::NotFound,
        "the chat is not visible to a non-member"
    );
    let error = ann
        .send(chat.id, "Note", switchboard_protocol::Visibility::Note)
        .await
        .expect_err("not a member");
    assert_eq!(error.code, ErrorCode::NotFound);
    let (status, _) = get_json::<ChatHistory>(
        &format!("{}/api/v1/chats/{}/messages", server.url(), chat.id),
        Some(ann.token()),
    )
    .await
    .expect_err("not a member");
    assert_eq!(status, 403);
    ann.socket().ping(3).await;
    assert!(
        ann.raw_frames()
            .iter()
            .all(|frame| !frame.contains("Private question")),
        "nothing of another live chat reaches a non-member"
    );
    server.stop().await;
}
