//! Unread escalation (B12) and unsubscribing (B13) against a real server, real SQLite and real
//! WebSockets. The escalation time is configured down to seconds; every wait is an awaited event
//! with the test-support timeout, never a sleep.

use switchboard_protocol::{
    ChatId, ErrorCode, MarkRead, Message, OperatorEvent, OperatorResponse, SubscribeChat,
    UnsubscribeChat, VisitorEvent,
};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, TestOperator, TestServer, TestVisitor,
};

fn rings(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::RingStarted { chat: ringing } if *ringing == chat)
}

fn escalated(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::UnreadEscalation { chat: escalated, .. } if *escalated == chat)
}

fn escalated_messages(event: OperatorEvent) -> Vec<Message> {
    match event {
        OperatorEvent::UnreadEscalation { messages, .. } => messages,
        other => panic!("expected an escalation, got {other:?}"),
    }
}

fn bodies(messages: &[Message]) -> Vec<&str> {
    messages
        .iter()
        .map(|message| message.body.as_str())
        .collect()
}

/// Ann accepts a chat (she is responsible); Bob is a member who did not take it.
async fn active_chat(server: &TestServer) -> (TestOperator, TestOperator, TestVisitor, ChatId) {
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Where is my anvil?").await.id;
    ann.wait_for("Ann's ring", rings(chat)).await;
    ann.accept(chat).await.expect("Ann accepts");
    visitor
        .wait_for("Ann joined", |event| {
            matches!(event, VisitorEvent::OperatorJoined { .. })
        })
        .await;
    (ann, bob, visitor, chat)
}

#[tokio::test]
async fn b12_an_unread_visitor_message_escalates_to_subscribed_members_once_per_batch() {
    let server = TestServer::start_tweaked(|config| config.unread_escalation_seconds = 1).await;
    let (mut ann, mut bob, mut visitor, chat) = active_chat(&server).await;
    visitor.send("Hello?").await;
    let first = escalated_messages(bob.wait_for("the escalation", escalated(chat)).await);
    assert_eq!(bodies(&first), ["Hello?"]);
    let to_ann = escalated_messages(ann.wait_for("Ann's escalation", escalated(chat)).await);
    assert_eq!(
        bodies(&to_ann),
        ["Hello?"],
        "the responsible operator is subscribed too"
    );

    // The next escalation Bob sees is the next batch, not the first one again; it still shows
    // the earlier unseen message because Ann has not read it.
    visitor.send("Still there?").await;
    let second = escalated_messages(bob.wait_for("the second escalation", escalated(chat)).await);
    assert_eq!(bodies(&second), ["Hello?", "Still there?"]);
    server.stop().await;
}

#[tokio::test]
async fn b12_messages_read_by_the_responsible_operator_do_not_escalate() {
    // Long enough that Ann's read lands first even on a slow machine.
    let server = TestServer::start_tweaked(|config| config.unread_escalation_seconds = 3).await;
    let (mut ann, mut bob, mut visitor, chat) = active_chat(&server).await;
    let read = visitor.send("Read me").await;
    ann.command(MarkRead {
        chat,
        up_to: read.id,
    })
    .await
    .expect("Ann marks the chat read");
    let unread = visitor.send("Unread").await;
    // A colleague reading does not count: only the responsible operator's read stops it.
    let reply = bob
        .command(MarkRead {
            chat,
            up_to: unread.id,
        })
        .await
        .expect("Bob may mark read; it changes nothing");
    assert!(matches!(reply, OperatorResponse::MarkRead(_)));
    let messages = escalated_messages(bob.wait_for("the escalation", escalated(chat)).await);
    assert_eq!(
        bodies(&messages),
        ["Unread"],
        "what Ann read is not escalated"
    );
    server.stop().await;
}

#[tokio::test]
async fn b13_an_unsubscribed_operator_gets_no_escalation_until_subscribing_again() {
    let server = TestServer::start_tweaked(|config| config.unread_escalation_seconds = 1).await;
    let (mut ann, mut bob, mut visitor, chat) = active_chat(&server).await;
    bob.command(UnsubscribeChat { chat })
        .await
        .expect("Bob unsubscribes");
    visitor.send("Anyone?").await;
    ann.wait_for("Ann's escalation", escalated(chat)).await;
    // The escalation went to every stream in one transaction, so it would be on Bob's socket
    // before the reply to any later command.
    bob.command(SubscribeChat { chat })
        .await
        .expect("Bob subscribes again");
    assert!(
        !bob.socket().queued_events().any(escalated(chat)),
        "an unsubscribed operator is not alerted"
    );
    visitor.send("Hello??").await;
    let messages = escalated_messages(bob.wait_for("Bob's escalation", escalated(chat)).await);
    assert_eq!(bodies(&messages), ["Anyone?", "Hello??"]);
    server.stop().await;
}

#[tokio::test]
async fn b12_a_pending_escalation_survives_a_restart() {
    let server = TestServer::start_tweaked(|config| config.unread_escalation_seconds = 2).await;
    let (_ann, mut bob, mut visitor, chat) = active_chat(&server).await;
    visitor.send("Before the restart").await;
    let server = server.restart().await;
    bob.socket().wait_closed().await;
    bob.reconnect().await;
    let messages = escalated_messages(bob.wait_for("the escalation", escalated(chat)).await);
    assert_eq!(bodies(&messages), ["Before the restart"]);
    server.stop().await;
}

#[tokio::test]
async fn b13_outsiders_cannot_mark_read_or_subscribe_and_are_never_alerted() {
    let server = TestServer::start_tweaked(|config| config.unread_escalation_seconds = 1).await;
    let (_ann, mut bob, mut visitor, chat) = active_chat(&server).await;
    let eve = server.create_operator("eve@example.com", "Eve Elsewhere", DEMO_PASSWORD);
    {
        let database =
            rusqlite::Connection::open(server.database_path()).expect("open the test database");
        database
            .execute_batch(&format!(
                "INSERT INTO live_chats (id, name, embed_key) VALUES (2, 'Other shop', 'other-key');
                 DELETE FROM memberships WHERE operator_id = {eve};
                 INSERT INTO memberships (operator_id, live_chat_id, supervisor) VALUES ({eve}, 2, 1);"
            ))
            .expect("move Eve to another live chat");
    }
    let mut eve = TestOperator::sign_in(&server.url(), "eve@example.com", DEMO_PASSWORD).await;
    let message = visitor.send("Help").await;
    let refused = eve
        .command(MarkRead {
            chat,
            up_to: message.id,
        })
        .await
        .expect_err("an outsider cannot mark the chat read");
    assert_eq!(refused.code, ErrorCode::NotFound);
    for refused in [
        eve.command(SubscribeChat { chat }).await,
        eve.command(UnsubscribeChat { chat }).await,
    ] {
        assert_eq!(refused.expect_err("refused").code, ErrorCode::NotFound);
    }
    bob.wait_for("Bob's escalation", escalated(chat)).await;
    // Delivered in the same transaction: it would be on Eve's socket before this reply.
    let _ = eve.command(SubscribeChat { chat }).await;
    assert!(
        !eve.socket().queued_events().any(escalated(chat)),
        "an outsider is never alerted"
    );
    server.stop().await;
}

#[tokio::test]
async fn b13_an_unsubscription_survives_a_server_restart() {
    let server = TestServer::start_tweaked(|config| config.unread_escalation_seconds = 1).await;
    let (mut ann, mut bob, mut visitor, chat) = active_chat(&server).await;
    bob.command(UnsubscribeChat { chat })
        .await
        .expect("Bob unsubscribes");
    let server = server.restart().await;
    for operator in [&mut ann, &mut bob] {
        operator.socket().wait_closed().await;
        operator.reconnect().await;
    }
    visitor.socket().wait_closed().await;
    visitor.reconnect().await;
    visitor.send("After the restart").await;
    ann.wait_for("Ann's escalation", escalated(chat)).await;
    // Delivered to every stream in one transaction: it would be on Bob's socket before this
    // reply.
    bob.command(MarkRead {
        chat,
        up_to: switchboard_protocol::MessageId(0),
    })
    .await
    .expect("a harmless command");
    assert!(
        !bob.socket().queued_events().any(escalated(chat)),
        "the unsubscription was kept across the restart"
    );
    server.stop().await;
}
