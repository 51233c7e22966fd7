//! Routing and chat scenarios against a real server, real SQLite and real WebSockets. Each test
//! names the behaviour (BEHAVIOURS.md) it proves.

use switchboard_protocol::{
    Author, ChatHistory, ChatId, ChatState, ClientId, ErrorCode, OperatorEvent, OperatorResponse,
    Outcome, RingStopReason, Visibility, VisitorEvent, VisitorResponse, VisitorSend,
    VisitorSideAuthor,
};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor, get_json,
};

fn rings(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::RingStarted { chat: ringing } if *ringing == chat)
}

fn stops(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::RingStopped { chat: stopped, .. } if *stopped == chat)
}

fn stop_reason(event: OperatorEvent) -> RingStopReason {
    match event {
        OperatorEvent::RingStopped { reason, .. } => reason,
        other => panic!("expected RingStopped, got {other:?}"),
    }
}

/// Ann and Bob signed in, a visitor with a new chat ringing for both.
async fn ringing_chat(server: &TestServer) -> (TestOperator, TestOperator, TestVisitor, ChatId) {
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Where is my anvil?").await;
    assert_eq!(
        chat.state,
        ChatState::Pending,
        "a new chat waits for an operator"
    );
    ann.wait_for("Ann's ring", rings(chat.id)).await;
    bob.wait_for("Bob's ring", rings(chat.id)).await;
    (ann, bob, visitor, chat.id)
}

#[tokio::test]
async fn b01_ring_all_rings_every_eligible_operator_and_stops_for_everyone_on_accept() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, _visitor, chat) = ringing_chat(&server).await;
    ann.accept(chat)
        .await
        .expect("Ann accepts the ringing chat");
    assert_eq!(
        stop_reason(ann.wait_for("Ann's ring to stop", stops(chat)).await),
        RingStopReason::AcceptedByYou
    );
    match stop_reason(bob.wait_for("Bob's ring to stop", stops(chat)).await) {
        RingStopReason::AcceptedBy { operator } => assert_eq!(operator.name, "Ann Operator"),
        other => panic!("Bob's ring must stop because Ann accepted, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn b01_an_operator_connecting_while_a_chat_waits_starts_ringing() {
    let server = TestServer::start().await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Road Runner", "Beep beep?").await;
    let sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    match sue.snapshot() {
        Some(OperatorEvent::Snapshot { chats, ringing, .. }) => {
            assert!(
                chats
                    .iter()
                    .any(|summary| summary.id == chat.id && summary.state == ChatState::Pending),
                "the snapshot lists the waiting chat"
            );
            // Sue was available (within her grace period) when the chat arrived, so it has
            // been ringing for her all along; the snapshot says so.
            assert!(ringing.contains(&chat.id), "the chat rings for Sue");
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn b10_accept_makes_the_operator_responsible_and_the_visitor_sees_them_join() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut visitor, chat) = ringing_chat(&server).await;

    let refused = bob
        .send(chat, "I can answer without joining?", Visibility::Public)
        .await
        .expect_err("B11: a public reply needs a join");
    assert_eq!(refused.code, ErrorCode::Forbidden);

    let summary = ann.accept(chat).await.expect("Ann accepts");
    assert_eq!(summary.state, ChatState::Active);
    assert_eq!(
        summary.responsible.map(|operator| operator.name).as_deref(),
        Some("Ann Operator")
    );

    let joined = visitor
        .wait_for("the visitor to be told Ann joined", |event| {
            matches!(event, VisitorEvent::OperatorJoined { .. })
        })
        .await;
    assert_eq!(
        joined,
        VisitorEvent::OperatorJoined {
            name: "Ann Operator".to_owned()
        }
    );
    match visitor
        .wait_for("the chat update", |event| {
            matches!(event, VisitorEvent::ChatUpdated { .. })
        })
        .await
    {
        VisitorEvent::ChatUpdated { chat: updated } => {
            assert_eq!(updated.state, ChatState::Active);
            assert_eq!(updated.operators, vec!["Ann Operator".to_owned()]);
        }
        other => panic!("unexpected {other:?}"),
    }
    match visitor
        .wait_for("the join message", |event| {
            matches!(event, VisitorEvent::MessagePosted { .. })
        })
        .await
    {
        VisitorEvent::MessagePosted { message } => {
            assert_eq!(message.from, VisitorSideAuthor::System);
            assert_eq!(message.body, "Ann Operator joined");
        }
        other => panic!("unexpected {other:?}"),
    }

    ann.send(chat, "Hello, your anvil ships today.", Visibility::Public)
        .await
        .expect("the responsible operator replies");
    match visitor
        .wait_for("Ann's reply", |event| {
            matches!(event, VisitorEvent::MessagePosted { .. })
        })
        .await
    {
        VisitorEvent::MessagePosted { message } => {
            assert_eq!(
                message.from,
                VisitorSideAuthor::Operator {
                    name: "Ann Operator".to_owned()
                }
            );
            assert_eq!(message.body, "Hello, your anvil ships today.");
        }
        other => panic!("unexpected {other:?}"),
    }
    let reply = visitor.send("Thanks!").await;
    assert_eq!(reply.from, VisitorSideAuthor::Me);
    match ann
        .wait_for("the visitor's message", |event| {
            matches!(event, OperatorEvent::MessagePosted { message } if message.body == "Thanks!")
        })
        .await
    {
        OperatorEvent::MessagePosted { message } => {
            assert_eq!(message.author, Author::Visitor { name: "Wile E.".to_owned() })
        }
        other => panic!("unexpected {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn b10_racing_accepts_have_exactly_one_winner_and_the_loser_is_told_who() {
    let server = TestServer::start().await;
    for _round in 0..3 {
        let (mut ann, mut bob, _visitor, chat) = ringing_chat(&server).await;
        let (ann_result, bob_result) = tokio::join!(ann.accept(chat), bob.accept(chat));
        let (winner, loser_error) = match (ann_result, bob_result) {
            (Ok(summary), Err(error)) | (Err(error), Ok(summary)) => (summary, error),
            (ann_result, bob_result) => {
                panic!("exactly one accept must win: Ann {ann_result:?}, Bob {bob_result:?}")
            }
        };
        let winner_name = winner.responsible.expect("the winner is responsible").name;
        assert_eq!(loser_error.code, ErrorCode::Conflict);
        assert_eq!(
            loser_error.message,
            format!("This chat was taken by {winner_name}.")
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn b02_mute_stops_the_ring_only_for_the_operator_who_muted() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, _visitor, chat) = ringing_chat(&server).await;
    ann.mute(chat).await.expect("Ann mutes");
    assert_eq!(
        stop_reason(ann.wait_for("Ann's ring to stop", stops(chat)).await),
        RingStopReason::Muted
    );
    // A ping round trip orders Bob's stream after the mute: anything it caused has arrived.
    bob.socket().ping(7).await;
    assert!(
        !bob.socket().queued_events().any(stops(chat)),
        "muting is per operator: the chat keeps ringing for Bob"
    );
    ann.reconnect_since(None).await;
    match ann.snapshot() {
        Some(OperatorEvent::Snapshot { chats, ringing, .. }) => {
            assert!(
                !ringing.contains(&chat),
                "the mute is persisted across reconnects"
            );
            assert!(
                chats.iter().any(|summary| summary.id == chat),
                "the muted chat still waits in Ann's list"
            );
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
    let accepted = ann
        .accept(chat)
        .await
        .expect("a muted chat can still be accepted (Awaiting list)");
    assert_eq!(accepted.state, ChatState::Active);
    match stop_reason(bob.wait_for("Bob's ring to stop", stops(chat)).await) {
        RingStopReason::AcceptedBy { operator } => assert_eq!(operator.name, "Ann Operator"),
        other => panic!("unexpected reason {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn b01_visitor_leaving_a_pending_chat_abandons_it_and_stops_the_rings() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut visitor, chat) = ringing_chat(&server).await;
    let left = visitor.leave().await;
    assert_eq!(left.state, ChatState::Abandoned);
    for operator in [&mut ann, &mut bob] {
        assert_eq!(
            stop_reason(operator.wait_for("the ring to stop", stops(chat)).await),
            RingStopReason::Abandoned
        );
        operator
            .wait_for("the abandoned chat update", |event| {
                matches!(event, OperatorEvent::ChatUpserted { chat: summary }
                    if summary.id == chat && summary.state == ChatState::Abandoned)
            })
            .await;
    }
    let error = ann
        .accept(chat)
        .await
        .expect_err("an abandoned chat cannot be accepted");
    assert_eq!(error.code, ErrorCode::Conflict);
    server.stop().await;
}

#[tokio::test]
async fn b25_the_responsible_operator_ends_the_chat() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut visitor, chat) = ringing_chat(&server).await;
    ann.accept(chat).await.expect("Ann accepts");
    let error = bob
        .end(chat)
        .await
        .expect_err("only the responsible operator ends a chat");
    assert_eq!(error.code, ErrorCode::Forbidden);
    let ended = ann.end(chat).await.expect("Ann ends the chat");
    assert_eq!(ended.state, ChatState::Closed);
    visitor
        .wait_for("the visitor to see the chat closed", |event| {
            matches!(event, VisitorEvent::ChatUpdated { chat: updated } if updated.state == ChatState::Closed)
        })
        .await;
    let error = visitor
        .try_send("Hello?")
        .await
        .expect_err("no open chat any more");
    assert_eq!(error.code, ErrorCode::NotFound);
    server.stop().await;
}

#[tokio::test]
async fn notes_never_reach_the_visitor_by_any_path() {
    const NOTE: &str = "NOTE-7f3a: customer is a repeat anvil buyer";
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut visitor, chat) = ringing_chat(&server).await;
    bob.send(chat, NOTE, Visibility::Note)
        .await
        .expect("B11: any member may add a note without joining");
    ann.accept(chat).await.expect("Ann accepts");
    ann.send(chat, NOTE, Visibility::Note)
        .await
        .expect("Ann adds a note");
    ann.send(chat, "Public answer", Visibility::Public)
        .await
        .expect("Ann replies");
    visitor
        .wait_for("the public answer", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.body == "Public answer")
        })
        .await;
    // Every other path a visitor has: a fresh snapshot and a replay from the start.
    visitor.reconnect_since(None).await;
    visitor.reconnect_since(Some(0)).await;
    visitor.socket().ping(1).await;
    assert!(
        visitor
            .raw_frames()
            .iter()
            .all(|frame| !frame.contains("NOTE-7f3a")),
        "a note reached the visitor: {:?}",
        visitor.raw_frames()
    );
    let history: ChatHistory = get_json(
        &format!("{}/api/v1/chats/{}/messages", server.url(), chat),
        Some(ann.token()),
    )
    .await
    .expect("staff read the history");
    assert_eq!(
        history
            .messages
            .iter()
            .filter(|message| message.visibility == Visibility::Note)
            .count(),
        2,
        "staff see both notes"
    );
    server.stop().await;
}

#[tokio::test]
async fn d02_resume_with_since_replays_exactly_the_missed_events() {
    let server = TestServer::start().await;
    // Two connections of Ann's: one stays, one drops and resumes. The one that stayed saw
    // exactly what the other missed.
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut ann_elsewhere = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let first = visitor.start_chat("Coyote", "First question").await;
    ann.wait_for("the first ring", rings(first.id)).await;
    ann_elsewhere
        .wait_for("the first ring", rings(first.id))
        .await;
    let since = ann.last_seq();
    assert_eq!(
        ann_elsewhere.last_seq(),
        since,
        "both connections read up to the same event"
    );
    ann.socket().disconnect().await;

    bob.accept(first.id)
        .await
        .expect("Bob accepts while Ann is away");
    visitor.send("Are you there?").await;
    bob.send(first.id, "Note while Ann is away", Visibility::Note)
        .await
        .expect("note");
    ann_elsewhere.socket().ping(1).await;
    let seen: Vec<OperatorEvent> = ann_elsewhere.socket().queued_events().cloned().collect();
    assert!(
        seen.len() >= 4,
        "the staying connection saw the missed events: {seen:?}"
    );

    let welcome = ann.reconnect_since(Some(since)).await;
    assert!(welcome.resumed, "the log holds every event after {since}");
    assert_eq!(
        welcome.head,
        ann_elsewhere.last_seq(),
        "the head is the last event of Ann's stream"
    );
    // Operator streams are numbered by a log shared by all operators (issue 3): numbers skip,
    // and each frame names its predecessor in Ann's stream instead.
    let frames_before = ann.raw_frames().len();
    let mut replayed = Vec::new();
    let mut previous = since;
    for _ in 0..seen.len() {
        let (seq, event) = ann.socket().next_event_with_seq().await;
        assert!(seq > previous, "replayed sequence numbers increase");
        previous = seq;
        replayed.push(event);
    }
    assert_eq!(previous, welcome.head, "the replay ends at the head");
    let mut expected_prev = since;
    for frame in &ann.raw_frames()[frames_before..] {
        let frame: serde_json::Value = serde_json::from_str(frame).expect("a JSON frame");
        if frame["type"] == "event" {
            assert_eq!(
                frame["prev"].as_u64(),
                Some(expected_prev),
                "each replayed event names its predecessor: {frame}"
            );
            expected_prev = frame["seq"].as_u64().expect("a sequence number");
        }
    }
    assert_eq!(
        replayed, seen,
        "the replay is exactly what was missed, in order"
    );
    ann.socket().ping(2).await;
    assert_eq!(
        ann.socket().queued_events().count(),
        0,
        "nothing more than the missed events"
    );
    server.stop().await;
}

#[tokio::test]
async fn d02_a_cursor_older_than_the_log_gets_a_snapshot() {
    let server = TestServer::start().await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Coyote", "Question").await;
    ann.wait_for("the ring", rings(chat.id)).await;
    ann.socket().disconnect().await;
    // Trimming keeps the newest events of the shared operator log; drop all but the last one
    // the way it would.
    let database =
        rusqlite::Connection::open(server.database_path()).expect("open the test database");
    let trimmed = database
        .execute(
            "DELETE FROM operator_events WHERE id < (SELECT MAX(id) FROM operator_events)",
            [],
        )
        .expect("trim the log");
    assert!(trimmed >= 2, "the log had early events");
    database
        .execute(
            "UPDATE operator_event_log SET \
             trimmed_through = (SELECT MAX(id) - 1 FROM operator_events)",
            [],
        )
        .expect("record the trim");
    drop(database);

    let welcome = ann.reconnect_since(Some(1)).await;
    assert!(
        !welcome.resumed,
        "events 2.. are gone, so a resume from 1 is impossible"
    );
    match ann.snapshot() {
        Some(OperatorEvent::Snapshot { chats, ringing, .. }) => {
            assert!(chats.iter().any(|summary| summary.id == chat.id));
            assert!(
                ringing.contains(&chat.id),
                "the snapshot says the chat still rings"
            );
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
    let welcome = ann.reconnect_since(Some(welcome.head + 50)).await;
    assert!(
        !welcome.resumed,
        "a cursor from another history gets a snapshot"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_resent_command_with_the_same_client_id_has_one_effect() {
    let server = TestServer::start().await;
    let (mut ann, _bob, mut visitor, chat) = ringing_chat(&server).await;
    let id = ClientId("visitor-send-1".to_owned());
    let command = VisitorSend {
        body: "Only once, please".to_owned(),
    };
    let first = visitor
        .socket()
        .command_with_id(
            id.clone(),
            switchboard_protocol::VisitorCommand::Send(command.clone()),
        )
        .await;
    let second = visitor
        .socket()
        .command_with_id(
            id.clone(),
            switchboard_protocol::VisitorCommand::Send(command),
        )
        .await;
    assert_eq!(first, second, "the resend gets the first outcome");
    assert!(matches!(
        first,
        Outcome::Ok {
            response: VisitorResponse::Send(_)
        }
    ));

    ann.accept(chat).await.expect("Ann accepts");
    let note = switchboard_protocol::OperatorCommand::Send(switchboard_protocol::SendMessage {
        chat,
        body: "Operator once".to_owned(),
        visibility: Visibility::Public,
    });
    let id = ClientId("operator-send-1".to_owned());
    let first = ann.socket().command_with_id(id.clone(), note.clone()).await;
    let second = ann.socket().command_with_id(id, note).await;
    assert_eq!(first, second);
    assert!(matches!(
        first,
        Outcome::Ok {
            response: OperatorResponse::Send(_)
        }
    ));

    let history: ChatHistory = get_json(
        &format!("{}/api/v1/chats/{}/messages", server.url(), chat),
        Some(ann.token()),
    )
    .await
    .expect("history");
    let count = |body: &str| {
        history
            .messages
            .iter()
            .filter(|message| message.body == body)
            .count()
    };
    assert_eq!(
        count("Only once, please"),
        1,
        "one visitor message for two sends"
    );
    assert_eq!(
        count("Operator once"),
        1,
        "one operator message for two sends"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_second_start_returns_the_open_chat() {
    let server = TestServer::start().await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let first = visitor.start_chat("Coyote", "One").await;
    let second = visitor.start_chat("Coyote", "Two").await;
    assert_eq!(first.id, second.id, "a visitor has at most one open chat");
    assert_eq!(second.subject, "One");
    server.stop().await;
}

#[tokio::test]
async fn b03_availability_starts_and_stops_rings() {
    let server = TestServer::start().await;
    let (mut ann, _bob, _visitor, chat) = ringing_chat(&server).await;
    ann.set_availability(switchboard_protocol::Availability::Away)
        .await
        .expect("Ann goes away");
    assert_eq!(
        stop_reason(ann.wait_for("Ann's ring to stop", stops(chat)).await),
        RingStopReason::Unavailable
    );
    ann.set_availability(switchboard_protocol::Availability::Online)
        .await
        .expect("Ann is back");
    ann.wait_for("Ann's ring to start again", rings(chat)).await;
    server.stop().await;
}

#[tokio::test]
async fn many_operators_all_ring() {
    let server = TestServer::start().await;
    let mut operators = Vec::new();
    for index in 0..5 {
        let email = format!("operator{index}@example.com");
        server.create_operator(&email, &format!("Operator {index}"), "secret password");
        operators.push(TestOperator::sign_in(&server.url(), &email, "secret password").await);
    }
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Coyote", "Anyone?").await;
    for operator in &mut operators {
        operator.wait_for("the ring", rings(chat.id)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn d02_clients_resume_after_a_cut_connection_and_after_a_restart() {
    let server = TestServer::start().await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Coyote", "Before the cut").await;
    ann.wait_for("the ring", rings(chat.id)).await;

    server.drop_connections();
    ann.socket().wait_closed().await;
    visitor.socket().wait_closed().await;
    visitor.reconnect().await;
    assert!(visitor.welcome().resumed, "the visitor resumes after a cut");
    ann.reconnect().await;
    assert!(ann.welcome().resumed, "the operator resumes after a cut");
    // The ring never stopped: within the grace period a cut changes nothing (B07).

    let server = server.restart().await;
    ann.socket().wait_closed().await;
    ann.reconnect().await;
    assert!(ann.welcome().resumed, "the event log survives a restart");
    ann.accept(chat.id)
        .await
        .expect("the pending chat survived the restart");
    server.stop().await;
}
