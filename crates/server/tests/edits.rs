//! Editing and deleting sent messages (B16) against a real server, real SQLite and real
//! WebSockets: the visitor and colleagues see the change, only the author may make it, and a
//! note's edit or deletion never reaches the visitor.

use switchboard_protocol::{
    ChatId, DeleteMessage, EditMessage, ErrorCode, Message, MessageId, MonitorChat, OperatorEvent,
    OperatorResponse, Visibility, VisitorEvent,
};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor,
};

/// Ann has accepted a visitor's chat; Bob is signed in as a colleague.
async fn active_chat(server: &TestServer) -> (TestOperator, TestOperator, TestVisitor, ChatId) {
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Where is my anvil?").await.id;
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

async fn edit(
    operator: &mut TestOperator,
    message: MessageId,
    body: &str,
) -> Result<Message, ErrorCode> {
    match operator
        .command(EditMessage {
            message,
            body: body.to_owned(),
        })
        .await
    {
        Ok(OperatorResponse::EditMessage(message)) => Ok(message),
        Ok(other) => panic!("edit answered with {other:?}"),
        Err(error) => Err(error.code),
    }
}

async fn delete(operator: &mut TestOperator, message: MessageId) -> Result<(), ErrorCode> {
    match operator.command(DeleteMessage { message }).await {
        Ok(OperatorResponse::DeleteMessage(_)) => Ok(()),
        Ok(other) => panic!("delete answered with {other:?}"),
        Err(error) => Err(error.code),
    }
}

/// The chat's messages as a supervisor reads them from the server.
async fn history_bodies(server: &TestServer, chat: ChatId) -> Vec<String> {
    let mut sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    match sue.command(MonitorChat { chat }).await {
        Ok(OperatorResponse::Monitor(history)) => history
            .messages
            .into_iter()
            .map(|message| message.body)
            .collect(),
        other => panic!("monitor answered with {other:?}"),
    }
}

#[tokio::test]
async fn b16_edit_and_delete_reach_the_visitor_and_colleagues() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut visitor, chat) = active_chat(&server).await;
    let sent = ann
        .send(chat, "Your anvil ships Monday", Visibility::Public)
        .await
        .expect("Ann replies");

    let edited = edit(&mut ann, sent.id, "Your anvil ships Tuesday")
        .await
        .expect("Ann edits her reply");
    assert_eq!(edited.id, sent.id);
    assert_eq!(edited.body, "Your anvil ships Tuesday");
    visitor
        .wait_for("the visitor sees the edit", |event| {
            matches!(event, VisitorEvent::MessageEdited { message }
                if message.id == sent.id && message.body == "Your anvil ships Tuesday")
        })
        .await;
    bob.wait_for("Bob sees the edit", |event| {
        matches!(event, OperatorEvent::MessageEdited { message }
            if message.id == sent.id && message.body == "Your anvil ships Tuesday")
    })
    .await;
    let bodies = history_bodies(&server, chat).await;
    assert!(bodies.iter().any(|body| body == "Your anvil ships Tuesday"));
    assert!(!bodies.iter().any(|body| body == "Your anvil ships Monday"));

    delete(&mut ann, sent.id)
        .await
        .expect("Ann deletes her reply");
    visitor
        .wait_for("the visitor sees the deletion", |event| {
            matches!(event, VisitorEvent::MessageDeleted { message } if *message == sent.id)
        })
        .await;
    bob.wait_for("Bob sees the deletion", |event| {
        matches!(event, OperatorEvent::MessageDeleted { chat: deleted_in, message }
            if *deleted_in == chat && *message == sent.id)
    })
    .await;
    assert!(
        !history_bodies(&server, chat)
            .await
            .iter()
            .any(|body| body.contains("anvil ships")),
        "a deleted message is gone from the stored history"
    );
    assert_eq!(
        edit(&mut ann, sent.id, "Back again").await,
        Err(ErrorCode::NotFound),
        "a deleted message cannot be edited"
    );
}

#[tokio::test]
async fn b16_only_the_author_may_edit_or_delete() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut visitor, chat) = active_chat(&server).await;
    let sent = ann
        .send(chat, "Your anvil ships Monday", Visibility::Public)
        .await
        .expect("Ann replies");
    let from_visitor = visitor.send("Thanks!").await;

    assert_eq!(
        edit(&mut bob, sent.id, "Bob was here").await,
        Err(ErrorCode::Forbidden)
    );
    assert_eq!(delete(&mut bob, sent.id).await, Err(ErrorCode::Forbidden));
    assert_eq!(
        edit(&mut ann, from_visitor.id, "Rewritten visitor text").await,
        Err(ErrorCode::Forbidden),
        "staff cannot rewrite what the visitor said"
    );
    assert_eq!(
        delete(&mut ann, from_visitor.id).await,
        Err(ErrorCode::Forbidden)
    );
    assert_eq!(
        edit(&mut ann, MessageId(9_999), "Nothing").await,
        Err(ErrorCode::NotFound)
    );
    assert_eq!(
        edit(&mut ann, sent.id, "   ").await,
        Err(ErrorCode::BadRequest),
        "an edit cannot blank a message"
    );

    let bodies = history_bodies(&server, chat).await;
    assert!(bodies.iter().any(|body| body == "Your anvil ships Monday"));
    assert!(bodies.iter().any(|body| body == "Thanks!"));
}

#[tokio::test]
async fn b16_note_edit_and_delete_never_reach_the_visitor() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut visitor, chat) = active_chat(&server).await;
    let note = ann
        .send(chat, "psst: he ordered twelve", Visibility::Note)
        .await
        .expect("Ann writes a note");
    edit(&mut ann, note.id, "psst: he ordered thirteen")
        .await
        .expect("Ann edits her note");
    bob.wait_for("Bob sees the note's edit", |event| {
        matches!(event, OperatorEvent::MessageEdited { message }
            if message.id == note.id && message.visibility == Visibility::Note)
    })
    .await;
    delete(&mut ann, note.id)
        .await
        .expect("Ann deletes her note");
    bob.wait_for("Bob sees the note's deletion", |event| {
        matches!(event, OperatorEvent::MessageDeleted { message, .. } if *message == note.id)
    })
    .await;

    // A public reply after the note: once the visitor has it, anything about the note would
    // already have arrived before it.
    ann.send(chat, "Marker reply", Visibility::Public)
        .await
        .expect("Ann replies");
    visitor
        .wait_for("the marker reply", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.body == "Marker reply")
        })
        .await;
    for frame in visitor.raw_frames() {
        assert!(
            !frame.contains("psst"),
            "a visitor frame leaks the note: {frame}"
        );
        assert!(
            !frame.contains("messageEdited") && !frame.contains("messageDeleted"),
            "a visitor frame mentions a note's change: {frame}"
        );
    }
}

#[tokio::test]
async fn b16_the_edit_time_is_stored_and_comes_back_with_the_history() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, _visitor, chat) = active_chat(&server).await;
    let sent = ann
        .send(chat, "Your anvil ships Monday", Visibility::Public)
        .await
        .expect("Ann replies");
    assert_eq!(sent.edited_at, None, "a new message was never edited");
    let edited = edit(&mut ann, sent.id, "Your anvil ships Tuesday")
        .await
        .expect("Ann edits her reply");
    let edited_at = edited.edited_at.expect("the edit is stamped");
    assert!(edited_at >= sent.sent_at);
    bob.wait_for("Bob sees the stamped edit", |event| {
        matches!(event, OperatorEvent::MessageEdited { message }
            if message.id == sent.id && message.edited_at == Some(edited_at))
    })
    .await;

    // A console that loads the history later (or after a restart) still sees "(edited)".
    let mut sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let history = match sue.command(MonitorChat { chat }).await {
        Ok(OperatorResponse::Monitor(history)) => history.messages,
        other => panic!("monitor answered with {other:?}"),
    };
    let stored = history
        .iter()
        .find(|message| message.id == sent.id)
        .expect("the reply is in the history");
    assert_eq!(stored.edited_at, Some(edited_at));
    assert!(
        history
            .iter()
            .filter(|message| message.id != sent.id)
            .all(|message| message.edited_at.is_none()),
        "only the edited message carries an edit time"
    );
}

#[tokio::test]
async fn b16_a_visitor_snapshot_keeps_edited_and_deleted_marks_and_no_notes() {
    let server = TestServer::start().await;
    let (mut ann, _bob, mut visitor, chat) = active_chat(&server).await;
    let edited = ann
        .send(chat, "Your anvil ships Monday", Visibility::Public)
        .await
        .expect("Ann replies");
    let deleted = ann
        .send(chat, "Oops, wrong chat", Visibility::Public)
        .await
        .expect("Ann replies again");
    let note = ann
        .send(chat, "psst: he ordered twelve", Visibility::Note)
        .await
        .expect("Ann writes a note");
    let edited_at = edit(&mut ann, edited.id, "Your anvil ships Tuesday")
        .await
        .expect("Ann edits her reply")
        .edited_at
        .expect("the edit is stamped");
    edit(&mut ann, note.id, "psst: he ordered thirteen")
        .await
        .expect("Ann edits her note");
    delete(&mut ann, deleted.id)
        .await
        .expect("Ann deletes her reply");
    delete(&mut ann, note.id)
        .await
        .expect("Ann deletes her note");
    visitor
        .wait_for("the deletion", |event| {
            matches!(event, VisitorEvent::MessageDeleted { message } if *message == deleted.id)
        })
        .await;

    // A widget without a cursor (a reload on another device, a trimmed log) gets a snapshot.
    visitor.reconnect_since(None).await;
    let messages = match visitor.snapshot() {
        Some(VisitorEvent::Snapshot { messages, .. }) => messages.clone(),
        other => panic!("expected a snapshot, got {other:?}"),
    };
    let find = |id: MessageId| messages.iter().find(|message| message.id == id);
    let shown = find(edited.id).expect("the edited reply is in the snapshot");
    assert_eq!(shown.body, "Your anvil ships Tuesday");
    assert_eq!(shown.edited_at, Some(edited_at), "\"(edited)\" survives");
    assert_eq!(shown.deleted_at, None);
    let gone = find(deleted.id).expect("the deleted reply keeps its place");
    assert!(gone.deleted_at.is_some(), "\"Message deleted\" survives");
    assert_eq!(gone.body, "", "a deleted message keeps no text");
    assert!(gone.attachments.is_empty());
    assert!(find(note.id).is_none(), "a note is never in the snapshot");
    assert!(
        messages
            .iter()
            .filter(|message| message.id != edited.id)
            .all(|message| message.edited_at.is_none()),
        "only the edited message carries an edit time"
    );
    for frame in visitor.raw_frames() {
        assert!(
            !frame.contains("psst"),
            "a visitor frame leaks the note: {frame}"
        );
    }
}
