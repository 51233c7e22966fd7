//! Attachments and emoji settings (B32) against a real server, real SQLite, real files on disk
//! and real WebSockets: files go both ways, a note's file never reaches the visitor, only the
//! chat's parties may download, the size limit and the type allow-list hold, and uploads are
//! idempotent on their client id.

use switchboard_protocol::{
    ATTACHMENT_NAME_HEADER, ATTACHMENT_PATH, ApiError, Attachment, CLIENT_ID_HEADER, ChatId,
    EmojiSettings, Endpoint, ErrorCode, GetEmojiSettings, GetMe, Message, OperatorEvent,
    OperatorProfile, UPLOAD_ATTACHMENT_PATH, VISITOR_UPLOAD_ATTACHMENT_PATH, Visibility,
    VisitorEvent, VisitorMessage,
};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor, get_json,
    http_client, post_json,
};

/// A complete 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// Ann has accepted a visitor's chat; Bob is signed in as a colleague.
async fn active_chat(server: &TestServer) -> (TestOperator, TestOperator, TestVisitor, ChatId) {
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor
        .start_chat("Wile E.", "Can I send you a photo?")
        .await
        .id;
    ann.wait_for(
        "Ann's ring",
        |event| matches!(event, OperatorEvent::RingStarted { chat: ringing } if *ringing == chat),
    )
    .await;
    ann.accept(chat).await.expect("Ann accepts");
    visitor
        .wait_for("Ann joined", |event| {
            matches!(event, VisitorEvent::OperatorJoined { .. })
        })
        .await;
    (ann, bob, visitor, chat)
}

struct Upload<'a> {
    token: &'a str,
    name: &'a str,
    content_type: &'a str,
    bytes: Vec<u8>,
    client_id: String,
}

impl<'a> Upload<'a> {
    fn new(token: &'a str, name: &'a str, content_type: &'a str, bytes: &[u8]) -> Self {
        Self {
            token,
            name,
            content_type,
            bytes: bytes.to_vec(),
            client_id: format!("upload-{}", uuid_like()),
        }
    }
}

/// Unique enough client ids for one test process.
fn uuid_like() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

async fn send(url: String, upload: &Upload<'_>) -> (u16, serde_json::Value) {
    let response = http_client()
        .post(url)
        .bearer_auth(upload.token)
        .header("content-type", upload.content_type)
        .header(ATTACHMENT_NAME_HEADER, upload.name)
        .header(CLIENT_ID_HEADER, upload.client_id.as_str())
        .body(upload.bytes.clone())
        .send()
        .await
        .expect("the server answers HTTP");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("read the body");
    let json = serde_json::from_slice(&body).unwrap_or_else(|_| {
        panic!(
            "HTTP {status} without a JSON body: {}",
            String::from_utf8_lossy(&body)
        )
    });
    (status, json)
}

async fn operator_upload(
    server: &TestServer,
    chat: ChatId,
    visibility: Visibility,
    upload: &Upload<'_>,
) -> Result<Message, (u16, ApiError)> {
    let path = UPLOAD_ATTACHMENT_PATH.replace("{id}", &chat.to_string());
    let query = match visibility {
        Visibility::Public => "public",
        Visibility::Note => "note",
    };
    let (status, json) = send(format!("{}{path}?visibility={query}", server.url()), upload).await;
    if status == 200 {
        Ok(serde_json::from_value(json).expect("a message"))
    } else {
        Err((status, serde_json::from_value(json).expect("an ApiError")))
    }
}

async fn visitor_upload(
    server: &TestServer,
    upload: &Upload<'_>,
) -> Result<VisitorMessage, (u16, ApiError)> {
    let url = format!("{}{VISITOR_UPLOAD_ATTACHMENT_PATH}", server.url());
    let (status, json) = send(url, upload).await;
    if status == 200 {
        Ok(serde_json::from_value(json).expect("a visitor message"))
    } else {
        Err((status, serde_json::from_value(json).expect("an ApiError")))
    }
}

struct Download {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

async fn download(server: &TestServer, attachment: &Attachment, token: Option<&str>) -> Download {
    let path = ATTACHMENT_PATH.replace("{id}", &attachment.id.0);
    let mut request = http_client().get(format!("{}{path}", server.url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers HTTP");
    Download {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.expect("read the body").to_vec(),
    }
}

fn header<'a>(download: &'a Download, name: &str) -> &'a str {
    download
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// Files stored on disk, to prove refused uploads leave nothing behind.
fn stored_files(server: &TestServer) -> usize {
    let folder = server
        .database_path()
        .parent()
        .expect("the database has a folder")
        .join("attachments");
    std::fs::read_dir(folder)
        .map(|entries| entries.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn b32_files_go_both_ways_and_download_inert() {
    let server = TestServer::start().await;
    let (mut ann, _bob, mut visitor, chat) = active_chat(&server).await;

    let photo = Upload::new(ann.token(), "..%2Fcat%20%3Cb%3E.png", "image/png", PNG);
    let message = operator_upload(&server, chat, Visibility::Public, &photo)
        .await
        .expect("Ann sends a photo");
    let [attachment] = message.attachments.as_slice() else {
        panic!("the message carries exactly the one file: {message:?}");
    };
    assert_eq!(
        attachment.name, "cat <b>.png",
        "path parts are dropped, text kept as text"
    );
    assert_eq!(attachment.size, PNG.len() as u64);
    assert_eq!(attachment.content_type, "image/png");
    assert_eq!(
        message.client_id.as_ref().map(|id| id.0.as_str()),
        Some(photo.client_id.as_str())
    );

    let posted = visitor
        .wait_for("the photo reaches the visitor", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if !message.attachments.is_empty())
        })
        .await;
    let VisitorEvent::MessagePosted { message: seen } = posted else {
        unreachable!()
    };
    assert_eq!(seen.attachments, message.attachments);

    let image = download(&server, attachment, Some(visitor.token())).await;
    assert_eq!(image.status, 200);
    assert_eq!(image.bytes, PNG, "the visitor gets the very bytes");
    assert_eq!(header(&image, "content-type"), "image/png");
    assert_eq!(header(&image, "content-disposition"), "inline");
    assert_eq!(header(&image, "x-content-type-options"), "nosniff");
    assert!(header(&image, "content-security-policy").contains("sandbox"));

    let text = "Order #42\nThanks!\n";
    let receipt = Upload::new(
        visitor.token(),
        "receipt.txt",
        "text/plain",
        text.as_bytes(),
    );
    let sent = visitor_upload(&server, &receipt)
        .await
        .expect("the visitor sends a file");
    assert_eq!(sent.attachments.len(), 1);
    let posted = ann
        .wait_for("the visitor's file reaches Ann", |event| {
            matches!(event, OperatorEvent::MessagePosted { message } if !message.attachments.is_empty() && message.chat == chat && matches!(message.author, switchboard_protocol::Author::Visitor { .. }))
        })
        .await;
    let OperatorEvent::MessagePosted { message: received } = posted else {
        unreachable!()
    };
    let file = download(&server, &received.attachments[0], Some(ann.token())).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.bytes, text.as_bytes());
    assert_eq!(header(&file, "content-type"), "text/plain; charset=utf-8");
    assert_eq!(
        header(&file, "content-disposition"),
        "attachment; filename*=UTF-8''receipt.txt",
        "anything but a raster image downloads instead of opening"
    );

    let history: switchboard_protocol::ChatHistory = get_json(
        &format!("{}/api/v1/chats/{chat}/messages", server.url()),
        Some(ann.token()),
    )
    .await
    .expect("history");
    assert_eq!(
        history
            .messages
            .iter()
            .filter(|message| !message.attachments.is_empty())
            .count(),
        2,
        "both files are in the stored history"
    );
}

#[tokio::test]
async fn b32_a_notes_attachment_never_reaches_the_visitor() {
    let server = TestServer::start().await;
    let (ann, mut bob, mut visitor, chat) = active_chat(&server).await;

    let note = Upload::new(
        ann.token(),
        "internal.pdf",
        "application/pdf",
        b"%PDF-1.4 secret",
    );
    let message = operator_upload(&server, chat, Visibility::Note, &note)
        .await
        .expect("Ann attaches a file to a note");
    assert_eq!(message.visibility, Visibility::Note);
    bob.wait_for("the note's file reaches Bob", |event| {
        matches!(event, OperatorEvent::MessagePosted { message: posted } if posted.id == message.id)
    })
    .await;
    let refused = download(&server, &message.attachments[0], Some(visitor.token())).await;
    assert_eq!(refused.status, 404, "a visitor cannot fetch a note's file");
    assert!(!String::from_utf8_lossy(&refused.bytes).contains("secret"));
    assert_eq!(
        download(&server, &message.attachments[0], Some(bob.token()))
            .await
            .status,
        200,
        "a colleague can"
    );

    // A public message after the note: when it arrives, the note's would have arrived first.
    let mut ann = ann;
    ann.send(chat, "Here you go", Visibility::Public)
        .await
        .expect("Ann replies");
    visitor
        .wait_for("Ann's reply", |event| {
            if let VisitorEvent::MessagePosted { message: posted } = event {
                assert!(
                    posted.attachments.is_empty(),
                    "no note attachment on the visitor stream: {posted:?}"
                );
                posted.body == "Here you go"
            } else {
                false
            }
        })
        .await;
    visitor.reconnect_since(None).await;
    let Some(VisitorEvent::Snapshot { messages, .. }) = visitor.snapshot() else {
        panic!("a fresh connection gets a snapshot");
    };
    assert!(
        messages
            .iter()
            .all(|message| message.attachments.is_empty()),
        "the visitor's history holds no note attachment"
    );
}

#[tokio::test]
async fn b32_only_the_chats_parties_may_upload_or_download() {
    let server = TestServer::start().await;
    let (ann, bob, visitor, chat) = active_chat(&server).await;
    let photo = Upload::new(ann.token(), "cat.png", "image/png", PNG);
    let message = operator_upload(&server, chat, Visibility::Public, &photo)
        .await
        .expect("Ann sends a photo");
    let attachment = &message.attachments[0];

    let (status, error) = operator_upload(
        &server,
        chat,
        Visibility::Public,
        &Upload::new(bob.token(), "cat.png", "image/png", PNG),
    )
    .await
    .expect_err("Bob is not in the chat");
    assert_eq!((status, error.code), (403, ErrorCode::Forbidden));
    operator_upload(
        &server,
        chat,
        Visibility::Note,
        &Upload::new(bob.token(), "cat.png", "image/png", PNG),
    )
    .await
    .expect("notes are always allowed to members");

    let (status, _) = operator_upload(
        &server,
        chat,
        Visibility::Public,
        &Upload::new("not-a-token", "cat.png", "image/png", PNG),
    )
    .await
    .expect_err("no session, no upload");
    assert_eq!(status, 401);

    let mut other_visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let (status, error) = visitor_upload(
        &server,
        &Upload::new(other_visitor.token(), "a.png", "image/png", PNG),
    )
    .await
    .expect_err("a visitor without a chat cannot upload");
    assert_eq!((status, error.code), (404, ErrorCode::NotFound));
    other_visitor.start_chat("Roadrunner", "Meep meep").await;
    assert_eq!(
        download(&server, attachment, Some(other_visitor.token()))
            .await
            .status,
        404,
        "another visitor cannot download"
    );

    // Sign in as an operator of another organisation: a stranger to this chat.
    let stranger = {
        let mut stranger = None;
        server.create_operator("eve@example.com", "Eve Elsewhere", "eve-password");
        // Created as a member of the demo live chat by test support, so take the membership away.
        let database = rusqlite::Connection::open(server.database_path()).expect("open database");
        database
            .execute(
                "DELETE FROM memberships WHERE operator_id = (SELECT id FROM operators WHERE email = 'eve@example.com')",
                [],
            )
            .expect("remove membership");
        let signed_in: switchboard_protocol::SignInResponse = post_json(
            &format!("{}/api/v1/auth/sign-in", server.url()),
            &switchboard_protocol::SignInRequest {
                email: "eve@example.com".into(),
                password: "eve-password".into(),
            },
            None,
        )
        .await
        .expect("Eve signs in");
        stranger.get_or_insert(signed_in.token).clone()
    };
    assert_eq!(
        download(&server, attachment, Some(&stranger)).await.status,
        404,
        "a stranger cannot download"
    );
    let (status, _) = operator_upload(
        &server,
        chat,
        Visibility::Note,
        &Upload::new(&stranger, "cat.png", "image/png", PNG),
    )
    .await
    .expect_err("a stranger cannot upload");
    assert!(status == 403 || status == 404, "refused, got {status}");
    assert_eq!(download(&server, attachment, None).await.status, 401);
    assert_eq!(
        download(&server, attachment, Some(visitor.token()))
            .await
            .status,
        200,
        "the chat's own visitor can"
    );
}

#[tokio::test]
async fn b32_the_size_limit_is_configurable_and_clear() {
    let server = TestServer::start_tweaked(|config| config.attachment_max_bytes = 1024).await;
    let (ann, _bob, _visitor, chat) = active_chat(&server).await;
    let mut big = b"%PDF-1.4 ".to_vec();
    big.resize(1025, b'x');
    let (status, error) = operator_upload(
        &server,
        chat,
        Visibility::Public,
        &Upload::new(ann.token(), "big.pdf", "application/pdf", &big),
    )
    .await
    .expect_err("over the limit");
    assert_eq!((status, error.code), (413, ErrorCode::TooLarge));
    assert!(
        error.message.contains("1 KB"),
        "names the limit: {}",
        error.message
    );
    big.truncate(1024);
    operator_upload(
        &server,
        chat,
        Visibility::Public,
        &Upload::new(ann.token(), "fits.pdf", "application/pdf", &big),
    )
    .await
    .expect("exactly at the limit is fine");
    assert_eq!(
        stored_files(&server),
        1,
        "the refused file left nothing on disk"
    );
}

#[tokio::test]
async fn b32_only_allowed_file_types_are_accepted() {
    let server = TestServer::start().await;
    let (ann, _bob, _visitor, chat) = active_chat(&server).await;
    let refused: [(&str, &str, &[u8]); 4] = [
        (
            "page.html",
            "text/html",
            b"<html><script>alert(1)</script></html>",
        ),
        (
            "logo.svg",
            "image/svg+xml",
            b"<svg onload=\"alert(1)\"></svg>",
        ),
        (
            "innocent.txt",
            "text/plain",
            b"<!DOCTYPE html><script>alert(1)</script>",
        ),
        (
            "tool.exe",
            "application/octet-stream",
            b"MZ\x90\x00\x03\x00\x00\x00",
        ),
    ];
    for (name, content_type, bytes) in refused {
        let (status, error) = operator_upload(
            &server,
            chat,
            Visibility::Public,
            &Upload::new(ann.token(), name, content_type, bytes),
        )
        .await
        .expect_err(name);
        assert_eq!((status, error.code), (400, ErrorCode::BadRequest), "{name}");
        assert!(
            error.message.contains("cannot be sent"),
            "{}",
            error.message
        );
    }
    assert_eq!(
        stored_files(&server),
        0,
        "refused files leave nothing on disk"
    );
    let disguised = operator_upload(
        &server,
        chat,
        Visibility::Public,
        &Upload::new(ann.token(), "photo.html", "text/html", PNG),
    )
    .await
    .expect("a real PNG is a PNG whatever it claims");
    assert_eq!(disguised.attachments[0].content_type, "image/png");
}

#[tokio::test]
async fn b32_a_resent_upload_posts_once() {
    let server = TestServer::start().await;
    let (ann, mut bob, _visitor, chat) = active_chat(&server).await;
    let photo = Upload::new(ann.token(), "cat.png", "image/png", PNG);
    let first = operator_upload(&server, chat, Visibility::Note, &photo)
        .await
        .expect("first try");
    let second = operator_upload(&server, chat, Visibility::Note, &photo)
        .await
        .expect("the resend");
    assert_eq!(first, second, "the resend gets the first message back");
    assert_eq!(stored_files(&server), 1, "and stores nothing twice");
    bob.wait_for(
        "the note",
        |event| matches!(event, OperatorEvent::MessagePosted { message } if message.id == first.id),
    )
    .await;
    let history: switchboard_protocol::ChatHistory = get_json(
        &format!("{}/api/v1/chats/{chat}/messages", server.url()),
        Some(bob.token()),
    )
    .await
    .expect("history");
    assert_eq!(
        history
            .messages
            .iter()
            .filter(|message| !message.attachments.is_empty())
            .count(),
        1
    );
}

#[tokio::test]
async fn b32_a_supervisor_switches_staff_emoji_off() {
    let server = TestServer::start().await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let live_chat = ann.profile().live_chats[0].id;
    assert!(ann.profile().live_chats[0].staff_emoji, "on by default");
    let url = format!(
        "{}{}",
        server.url(),
        GetEmojiSettings::PATH.replace("{id}", &live_chat.to_string())
    );
    let off = EmojiSettings {
        staff: false,
        visitors: true,
    };
    let (status, _) = post_json::<EmojiSettings>(&url, &off, Some(ann.token()))
        .await
        .expect_err("an operator cannot change it");
    assert_eq!(status, 403);
    let saved: EmojiSettings = post_json(&url, &off, Some(sue.token()))
        .await
        .expect("the supervisor can");
    assert_eq!(saved, off);
    // Members hear of it at once: the console hides the button without a new sign-in.
    let changed = ann
        .wait_for("the staff emoji switch", |event| {
            matches!(event, OperatorEvent::StaffEmojiChanged { .. })
        })
        .await;
    assert_eq!(
        changed,
        OperatorEvent::StaffEmojiChanged {
            live_chat,
            enabled: false,
        }
    );
    let read: EmojiSettings = get_json(&url, Some(ann.token()))
        .await
        .expect("members read it");
    assert_eq!(read, off);
    let me: OperatorProfile = get_json(
        &format!("{}{}", server.url(), GetMe::PATH),
        Some(ann.token()),
    )
    .await
    .expect("profile");
    assert!(
        !me.live_chats[0].staff_emoji,
        "the console learns it from the profile"
    );
}

#[tokio::test]
async fn b32_the_visitor_emoji_switch_reaches_open_chats_at_once() {
    let server = TestServer::start().await;
    let sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let live_chat = sue.profile().live_chats[0].id;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let started = visitor.start_chat("Wile E.", "Do you sell rockets?").await;
    assert!(
        started.emoji_enabled,
        "the widget's picker is on by default"
    );
    let url = format!(
        "{}{}",
        server.url(),
        GetEmojiSettings::PATH.replace("{id}", &live_chat.to_string())
    );
    let off = EmojiSettings {
        staff: true,
        visitors: false,
    };
    let saved: EmojiSettings = post_json(&url, &off, Some(sue.token()))
        .await
        .expect("the supervisor switches the visitors' picker off");
    assert_eq!(saved, off);
    // The open chat's widget hides its picker without a reload.
    visitor
        .wait_for("the chat without emoji", |event| {
            matches!(event, VisitorEvent::ChatUpdated { chat }
                if chat.id == started.id && !chat.emoji_enabled)
        })
        .await;
    // A snapshot (a widget that lost its cursor) says the same.
    visitor.reconnect_since(None).await;
    match visitor.snapshot() {
        Some(VisitorEvent::Snapshot {
            chat: Some(chat), ..
        }) => assert!(!chat.emoji_enabled, "the snapshot keeps the switch"),
        other => panic!("expected a snapshot with the chat, got {other:?}"),
    }
}

#[tokio::test]
async fn b16_deleting_a_message_removes_its_file_and_a_restart_sweeps_orphans() {
    let server = TestServer::start().await;
    let (mut ann, _bob, _visitor, chat) = active_chat(&server).await;
    let deleted = operator_upload(
        &server,
        chat,
        Visibility::Public,
        &Upload::new(ann.token(), "old.png", "image/png", PNG),
    )
    .await
    .expect("first photo");
    let kept = operator_upload(
        &server,
        chat,
        Visibility::Public,
        &Upload::new(ann.token(), "new.png", "image/png", PNG),
    )
    .await
    .expect("second photo");
    assert_eq!(stored_files(&server), 2);

    match ann
        .command(switchboard_protocol::DeleteMessage {
            message: deleted.id,
        })
        .await
    {
        Ok(switchboard_protocol::OperatorResponse::DeleteMessage(_)) => {}
        other => panic!("delete answered with {other:?}"),
    }
    assert_eq!(
        stored_files(&server),
        1,
        "the deleted message's file is gone"
    );
    let token = ann.token().to_owned();
    assert_eq!(
        download(&server, &deleted.attachments[0], Some(&token))
            .await
            .status,
        404
    );

    // A crash between a deletion's commit and its file removal leaves a file without a row.
    let folder = server
        .database_path()
        .parent()
        .expect("the database has a folder")
        .join("attachments");
    std::fs::write(folder.join("0123456789abcdef"), b"left behind").expect("an orphan file");
    // Not a name uploads get: not the server's to remove.
    std::fs::write(folder.join("README.txt"), b"someone else's").expect("a foreign file");
    assert_eq!(stored_files(&server), 3);
    let server = server.restart().await;
    assert_eq!(
        stored_files(&server),
        2,
        "the start-up sweep removed the orphan"
    );
    assert!(folder.join("README.txt").exists());
    let still_there = download(&server, &kept.attachments[0], Some(&token)).await;
    assert_eq!(still_there.status, 200);
    assert_eq!(still_there.bytes, PNG);
    server.stop().await;
}
