//! Chat ratings (B33) against a real server and real SQLite: the visitor rates their own chat and
//! only theirs, a later rating replaces the first within 24 hours, the chat's staff get the
//! rating, supervisors see it in the audit log, and no visitor ever sees staff-only things.

use switchboard_protocol::{
    AuditAction, AuditEntry, Author, ChatId, ChatRating, CreateVisitorSession, Endpoint, ErrorCode,
    GetAuditLog, GetChatHistory, GetRatingSettings, GetTicket, GetTickets, OperatorEvent, RateChat,
    RatingScore, RatingSettings, Ticket, TicketDetail, Visibility, VisitorEvent, VisitorResponse,
    VisitorSessionRequest, VisitorSessionResponse,
};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor, get_json,
    post_json,
};

const HOSTILE: &str = "<img src=x onerror=alert(1)> great help";

async fn rate(
    visitor: &mut TestVisitor,
    chat: ChatId,
    score: RatingScore,
    comment: Option<&str>,
) -> Result<ChatRating, ErrorCode> {
    match visitor
        .command(RateChat {
            chat,
            score,
            comment: comment.map(str::to_owned),
        })
        .await
    {
        Ok(VisitorResponse::Rate(rating)) => Ok(rating),
        Ok(other) => panic!("rate answered with {other:?}"),
        Err(error) => Err(error.code),
    }
}

/// The ticket of an ended `chat`, as `operator` opens it.
async fn ticket_of(server: &TestServer, operator: &TestOperator, chat: ChatId) -> TicketDetail {
    let tickets: Vec<Ticket> = get_json(
        &format!("{}{}", server.url(), GetTickets::PATH),
        Some(operator.token()),
    )
    .await
    .expect("list tickets");
    let ticket = tickets
        .iter()
        .find(|ticket| ticket.chat == chat)
        .expect("the ended chat has a ticket");
    get_json(
        &format!(
            "{}{}",
            server.url(),
            GetTicket::PATH.replace("{id}", &ticket.id.to_string())
        ),
        Some(operator.token()),
    )
    .await
    .expect("open the ticket")
}

async fn chat_rated(operator: &mut TestOperator, chat: ChatId, score: RatingScore) -> ChatRating {
    match operator
        .wait_for("the rating", |event| {
            matches!(event, OperatorEvent::ChatRated { rating }
                if rating.chat == chat && rating.score == score)
        })
        .await
    {
        OperatorEvent::ChatRated { rating } => rating,
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn b33_visitor_rates_own_chat_staff_see_it_and_a_later_rating_replaces_it() {
    let server = TestServer::start().await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let mut sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let live_chat = sue.profile().live_chats[0].id;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let mut stranger = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Vera", "Where is my parcel?").await.id;
    let strangers_chat = stranger.start_chat("Mallory", "Hi").await.id;

    // Not answered yet: nothing to rate.
    assert_eq!(
        rate(&mut visitor, chat, RatingScore::Good, None).await,
        Err(ErrorCode::Conflict)
    );
    ann.accept(chat).await.expect("Ann accepts");

    // Rated during the chat, with a hostile comment stored as text.
    let rating = rate(&mut visitor, chat, RatingScore::Good, Some(HOSTILE))
        .await
        .expect("the visitor rates their chat");
    assert_eq!(rating.comment.as_deref(), Some(HOSTILE));
    assert_eq!(chat_rated(&mut ann, chat, RatingScore::Good).await, rating);
    assert_eq!(chat_rated(&mut sue, chat, RatingScore::Good).await, rating);
    // Bob is a member but not in the chat: he sees the staff-only note in its history only.
    let note = bob
        .wait_for("the rating note", |event| {
            matches!(event, OperatorEvent::MessagePosted { message }
                if message.chat == chat && message.author == Author::System
                    && message.body.starts_with("Visitor rated"))
        })
        .await;
    let OperatorEvent::MessagePosted { message } = note else {
        unreachable!()
    };
    assert_eq!(message.visibility, Visibility::Note);
    assert_eq!(message.body, format!("Visitor rated: 👍 good — {HOSTILE}"));

    // Another visitor's chat and a chat that does not exist: the same clear refusal.
    assert_eq!(
        rate(&mut stranger, chat, RatingScore::Bad, Some("spite")).await,
        Err(ErrorCode::NotFound)
    );
    assert_eq!(
        rate(&mut visitor, strangers_chat, RatingScore::Bad, None).await,
        Err(ErrorCode::NotFound)
    );
    assert_eq!(
        rate(&mut visitor, ChatId(999_999), RatingScore::Bad, None).await,
        Err(ErrorCode::NotFound)
    );
    let long = "x".repeat(switchboard_protocol::MAX_RATING_COMMENT_CHARS + 1);
    assert_eq!(
        rate(&mut visitor, chat, RatingScore::Bad, Some(&long)).await,
        Err(ErrorCode::TooLarge)
    );

    // The chat ends; the visitor changes their mind: the new rating replaces the first.
    ann.end(chat).await.expect("Ann ends the chat");
    let replaced = rate(&mut visitor, chat, RatingScore::Bad, Some("  "))
        .await
        .expect("a second rating within a day replaces the first");
    assert_eq!(replaced.comment, None, "a blank comment is no comment");
    assert_eq!(chat_rated(&mut ann, chat, RatingScore::Bad).await, replaced);

    // The ended chat's ticket shows both ratings in its history.
    let detail = ticket_of(&server, &ann, chat).await;
    let notes: Vec<&str> = detail
        .messages
        .iter()
        .filter(|message| {
            message.author == Author::System && message.visibility == Visibility::Note
        })
        .map(|message| message.body.as_str())
        .collect();
    assert_eq!(
        notes,
        [
            format!("Visitor rated: 👍 good — {HOSTILE}").as_str(),
            "Visitor changed the rating to 👎 bad"
        ]
    );

    // Both ratings are in the audit log, about Ann.
    let audit: Vec<AuditEntry> = get_json(
        &format!(
            "{}{}",
            server.url(),
            GetAuditLog::PATH.replace("{id}", &live_chat.to_string())
        ),
        Some(sue.token()),
    )
    .await
    .expect("Sue reads the audit log");
    let rated: Vec<&AuditEntry> = audit
        .iter()
        .filter(|entry| entry.action == AuditAction::Rated && entry.chat == chat)
        .collect();
    assert_eq!(rated.len(), 2, "{audit:?}");
    assert!(rated.iter().all(|entry| entry.actor.id == ann.id()));

    // After 24 hours the rating stands.
    let database = rusqlite::Connection::open(server.database_path()).expect("open the database");
    database
        .busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    database
        .execute(
            "UPDATE chat_ratings SET first_rated_at = first_rated_at - 25 * 3600 * 1000",
            [],
        )
        .expect("age the rating");
    assert_eq!(
        rate(&mut visitor, chat, RatingScore::Good, None).await,
        Err(ErrorCode::Conflict)
    );

    // No visitor ever saw the staff side: not the note, not the event, not the comment. Each
    // rating's reply came after whatever its transaction sent the visitor.
    for frame in visitor.raw_frames().iter().chain(stranger.raw_frames()) {
        assert!(!frame.contains("Visitor rated"), "a note leaked: {frame}");
        assert!(
            !frame.contains("chatRated"),
            "a staff event leaked: {frame}"
        );
    }
    for frame in stranger.raw_frames() {
        assert!(!frame.contains("onerror"), "the comment leaked: {frame}");
    }
}

#[tokio::test]
async fn b33_a_supervisor_switches_ratings_off_for_the_live_chat() {
    let server = TestServer::start().await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let live_chat = sue.profile().live_chats[0].id;
    let settings_url = format!(
        "{}{}",
        server.url(),
        GetRatingSettings::PATH.replace("{id}", &live_chat.to_string())
    );
    let session_url = format!("{}{}", server.url(), CreateVisitorSession::PATH);
    let session_request = VisitorSessionRequest {
        embed_key: DEMO_EMBED_KEY.to_owned(),
    };

    let before: RatingSettings = get_json(&settings_url, Some(ann.token()))
        .await
        .expect("a member reads the switch");
    assert!(before.enabled, "ratings are on by default");
    let session: VisitorSessionResponse = post_json(&session_url, &session_request, None)
        .await
        .expect("a visitor session");
    assert!(session.rating_enabled);

    let refused = post_json::<RatingSettings>(
        &settings_url,
        &RatingSettings { enabled: false },
        Some(ann.token()),
    )
    .await;
    assert_eq!(
        refused.map_err(|(status, error)| (status, error.code)),
        Err((403, ErrorCode::Forbidden))
    );
    let after: RatingSettings = post_json(
        &settings_url,
        &RatingSettings { enabled: false },
        Some(sue.token()),
    )
    .await
    .expect("the supervisor switches ratings off");
    assert!(!after.enabled);

    let session: VisitorSessionResponse = post_json(&session_url, &session_request, None)
        .await
        .expect("a visitor session");
    assert!(!session.rating_enabled, "the widget does not offer it");
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Vera", "Hello").await.id;
    ann.accept(chat).await.expect("Ann accepts");
    assert_eq!(
        rate(&mut visitor, chat, RatingScore::Good, None).await,
        Err(ErrorCode::Forbidden)
    );
}

#[tokio::test]
async fn b33_a_fresh_sign_in_gets_the_rating_in_snapshot_history_and_ticket() {
    let server = TestServer::start().await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Vera", "Where is my parcel?").await.id;
    ann.accept(chat).await.expect("Ann accepts");
    ann.end(chat).await.expect("Ann ends the chat");
    let rating = rate(&mut visitor, chat, RatingScore::Bad, Some(HOSTILE))
        .await
        .expect("the visitor rates the ended chat");

    // A new device: it never saw `ChatRated`, the snapshot's summary carries the rating.
    let bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let Some(OperatorEvent::Snapshot { chats, .. }) = bob.snapshot() else {
        panic!("Bob's device starts from a snapshot");
    };
    let summary = chats
        .iter()
        .find(|summary| summary.id == chat)
        .expect("the recently ended chat is in the snapshot");
    assert_eq!(summary.rating.as_ref(), Some(&rating));

    // The chat's history says the same.
    let history: switchboard_protocol::ChatHistory = get_json(
        &format!(
            "{}{}",
            server.url(),
            GetChatHistory::PATH.replace("{id}", &chat.to_string())
        ),
        Some(bob.token()),
    )
    .await
    .expect("Bob reads the history");
    assert_eq!(history.chat.rating.as_ref(), Some(&rating));

    // And the ended chat's ticket.
    let detail = ticket_of(&server, &bob, chat).await;
    assert_eq!(detail.rating, Some(rating));

    // An unrated chat has no rating anywhere.
    let mut other = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let unrated = other.start_chat("Otto", "Hi").await.id;
    let bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let Some(OperatorEvent::Snapshot { chats, .. }) = bob.snapshot() else {
        panic!("a snapshot");
    };
    let summary = chats
        .iter()
        .find(|summary| summary.id == unrated)
        .expect("the pending chat");
    assert_eq!(summary.rating, None);

    // Nothing of it reaches visitors: they never get a chat summary.
    for frame in visitor.raw_frames().iter().chain(other.raw_frames()) {
        assert!(!frame.contains("\"rating\""), "a rating leaked: {frame}");
    }
}

#[tokio::test]
async fn b33_open_widgets_follow_the_rating_switch_live_and_on_resume() {
    let server = TestServer::start().await;
    let sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let live_chat = sue.profile().live_chats[0].id;
    let settings_url = format!(
        "{}{}",
        server.url(),
        GetRatingSettings::PATH.replace("{id}", &live_chat.to_string())
    );
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let started = visitor.start_chat("Vera", "Hello").await;
    assert!(started.rating_enabled, "ratings are on by default");
    let chat = started.id;
    let seq_before = visitor.last_seq();

    let switch = |enabled: bool| {
        let url = settings_url.clone();
        let token = sue.token().to_owned();
        async move {
            post_json::<RatingSettings>(&url, &RatingSettings { enabled }, Some(&token))
                .await
                .expect("the supervisor switches ratings")
        }
    };
    assert!(!switch(false).await.enabled);
    let updated = visitor
        .wait_for("the rating switch", |event| {
            matches!(event, VisitorEvent::ChatUpdated { chat: updated }
                if updated.id == chat && !updated.rating_enabled)
        })
        .await;
    let VisitorEvent::ChatUpdated { chat: updated } = updated else {
        unreachable!()
    };
    assert!(updated.emoji_enabled, "the other switch is unchanged");

    // The change is logged: a widget that resumes from before it gets the same update.
    visitor.reconnect_since(Some(seq_before)).await;
    visitor
        .wait_for("the rating switch", |event| {
            matches!(event, VisitorEvent::ChatUpdated { chat: updated }
                if updated.id == chat && !updated.rating_enabled)
        })
        .await;

    // Switching it back on reaches the widget too; saving the same value again sends nothing.
    let seq_off = visitor.last_seq();
    assert!(switch(true).await.enabled);
    visitor
        .wait_for("the rating switch", |event| {
            matches!(event, VisitorEvent::ChatUpdated { chat: updated }
                if updated.id == chat && updated.rating_enabled)
        })
        .await;
    let seq_on = visitor.last_seq();
    assert!(seq_on > seq_off);
    assert!(switch(true).await.enabled);
    let welcome = visitor.reconnect_since(Some(seq_on)).await;
    assert_eq!(welcome.head, seq_on, "an unchanged switch logs nothing");
}
