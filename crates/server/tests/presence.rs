//! Typing indicators and read state against a real server, real SQLite and real WebSockets:
//! typing travels both ways in transient frames that never enter the event log (resume stays
//! exact), notes being written and monitoring supervisors never reach the visitor (B21), and
//! read state goes both ways with a monitor's reading marking nothing read (B12, B21).

use switchboard_protocol::{
    ChatId, ErrorCode, MarkRead, MessageId, MonitorChat, OperatorEvent, OperatorResponse,
    SetTyping, Visibility, VisitorEvent, VisitorMarkRead, VisitorResponse, VisitorTyping,
};
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor,
};

/// Ann has accepted a visitor's chat.
async fn active_chat(server: &TestServer) -> (TestOperator, TestVisitor, ChatId) {
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Vera", "Where is my parcel?").await.id;
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
    (ann, visitor, chat)
}

async fn operator_typing(
    operator: &mut TestOperator,
    chat: ChatId,
    typing: bool,
    visibility: Visibility,
) {
    match operator
        .command(SetTyping {
            chat,
            typing,
            visibility,
        })
        .await
    {
        Ok(OperatorResponse::Typing(_)) => {}
        other => panic!("typing answered with {other:?}"),
    }
}

async fn visitor_typing(visitor: &mut TestVisitor, typing: bool) {
    match visitor.command(VisitorTyping { typing }).await {
        Ok(VisitorResponse::Typing(_)) => {}
        other => panic!("visitor typing answered with {other:?}"),
    }
}

async fn visitor_mark_read(visitor: &mut TestVisitor, up_to: MessageId) -> Result<(), ErrorCode> {
    match visitor.command(VisitorMarkRead { up_to }).await {
        Ok(VisitorResponse::MarkRead(_)) => Ok(()),
        Ok(other) => panic!("visitor mark read answered with {other:?}"),
        Err(error) => Err(error.code),
    }
}

async fn mark_read(operator: &mut TestOperator, chat: ChatId, up_to: MessageId) {
    match operator.command(MarkRead { chat, up_to }).await {
        Ok(OperatorResponse::MarkRead(_)) => {}
        other => panic!("mark read answered with {other:?}"),
    }
}

#[tokio::test]
async fn typing_reaches_the_other_side_without_entering_the_event_log() {
    let server = TestServer::start().await;
    let (mut ann, mut visitor, chat) = active_chat(&server).await;
    // Let everything logged so far arrive, so the heads below are the streams' real heads.
    let posted = visitor.send("Hello?").await;
    ann.wait_for("the visitor's message", |event| {
        matches!(event, OperatorEvent::MessagePosted { message } if message.id == posted.id)
    })
    .await;
    let ann_seq = ann.last_seq();
    let visitor_seq = visitor.last_seq();

    visitor_typing(&mut visitor, true).await;
    let typing = ann
        .socket()
        .wait_for_transient("the visitor typing", |event| {
            matches!(event, OperatorEvent::VisitorTyping { .. })
        })
        .await;
    assert_eq!(typing, OperatorEvent::VisitorTyping { chat, typing: true });

    operator_typing(&mut ann, chat, true, Visibility::Public).await;
    let typing = visitor
        .socket()
        .wait_for_transient("Ann typing", |event| {
            matches!(event, VisitorEvent::OperatorTyping { .. })
        })
        .await;
    assert_eq!(
        typing,
        VisitorEvent::OperatorTyping {
            name: "Ann Operator".into(),
            typing: true
        }
    );
    operator_typing(&mut ann, chat, false, Visibility::Public).await;
    visitor
        .socket()
        .wait_for_transient("Ann stopped typing", |event| {
            matches!(event, VisitorEvent::OperatorTyping { typing: false, .. })
        })
        .await;

    // Nothing was logged: resuming from the cursors before the typing replays nothing.
    let welcome = ann.reconnect_since(Some(ann_seq)).await;
    assert!(welcome.resumed);
    assert_eq!(
        welcome.head, ann_seq,
        "typing added no event to Ann's stream"
    );
    let welcome = visitor.reconnect_since(Some(visitor_seq)).await;
    assert!(welcome.resumed);
    assert_eq!(
        welcome.head, visitor_seq,
        "typing added no event to the visitor's stream"
    );
}

#[tokio::test]
async fn b21_notes_typing_and_monitoring_supervisors_never_reach_the_visitor() {
    let server = TestServer::start().await;
    let (mut ann, mut visitor, chat) = active_chat(&server).await;
    let mut sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    match sue.command(MonitorChat { chat }).await {
        Ok(OperatorResponse::Monitor(_)) => {}
        other => panic!("monitor answered with {other:?}"),
    }

    // A monitoring supervisor typing, even "public", and Ann writing a note: both stay unseen.
    operator_typing(&mut sue, chat, true, Visibility::Public).await;
    operator_typing(&mut ann, chat, true, Visibility::Note).await;
    // A public message after them: frames reach a connection in order, so anything sent for
    // the typing above would have arrived before it.
    let marker = ann
        .send(chat, "Let me check.", Visibility::Public)
        .await
        .expect("Ann replies");
    visitor
        .wait_for("Ann's reply", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.id == marker.id)
        })
        .await;
    assert_eq!(
        visitor.socket().queued_transients().count(),
        0,
        "no typing frame reached the visitor"
    );
    for frame in visitor.raw_frames() {
        assert!(!frame.contains("Sue"), "the monitor leaked: {frame}");
        assert!(
            !frame.contains("transient"),
            "a typing frame leaked: {frame}"
        );
    }

    // Once Ann types a public reply, the visitor does see it: the silence above was the rule.
    operator_typing(&mut ann, chat, true, Visibility::Public).await;
    visitor
        .socket()
        .wait_for_transient("Ann typing", |event| {
            matches!(event, VisitorEvent::OperatorTyping { name, typing: true } if name == "Ann Operator")
        })
        .await;
}

#[tokio::test]
async fn b12_read_state_reaches_both_sides() {
    let server = TestServer::start().await;
    let (mut ann, mut visitor, chat) = active_chat(&server).await;
    let question = visitor.send("Is it shipped?").await;
    ann.wait_for("the question", |event| {
        matches!(event, OperatorEvent::MessagePosted { message } if message.id == question.id)
    })
    .await;

    // Ann reads it: the visitor sees "Seen" on their message.
    mark_read(&mut ann, chat, question.id).await;
    let read = visitor
        .wait_for("the read mark", |event| {
            matches!(event, VisitorEvent::Read { .. })
        })
        .await;
    assert_eq!(read, VisitorEvent::Read { up_to: question.id });

    // The visitor reads Ann's answer: Ann sees it.
    let answer = ann
        .send(chat, "Yes, this morning.", Visibility::Public)
        .await
        .expect("Ann answers");
    let note = ann
        .send(chat, "internal: courier is slow", Visibility::Note)
        .await
        .expect("Ann notes");
    visitor_mark_read(&mut visitor, answer.id)
        .await
        .expect("the visitor marks the answer read");
    ann.wait_for("the visitor's read mark", |event| {
        matches!(event, OperatorEvent::VisitorRead { chat: read_in, up_to }
            if *read_in == chat && *up_to == answer.id)
    })
    .await;

    // A note's id is not the visitor's to name.
    assert_eq!(
        visitor_mark_read(&mut visitor, note.id).await,
        Err(ErrorCode::NotFound)
    );
}

#[tokio::test]
async fn b21_a_monitoring_supervisors_reading_marks_nothing_read() {
    let server = TestServer::start().await;
    let (mut ann, mut visitor, chat) = active_chat(&server).await;
    let mut sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    match sue.command(MonitorChat { chat }).await {
        Ok(OperatorResponse::Monitor(_)) => {}
        other => panic!("monitor answered with {other:?}"),
    }
    let question = visitor.send("Anyone there?").await;
    sue.wait_for("the question", |event| {
        matches!(event, OperatorEvent::MessagePosted { message } if message.id == question.id)
    })
    .await;

    mark_read(&mut sue, chat, question.id).await;
    let marker = ann
        .send(chat, "One moment.", Visibility::Public)
        .await
        .expect("Ann replies");
    visitor
        .wait_for("Ann's reply", |event| {
            assert!(
                !matches!(event, VisitorEvent::Read { .. }),
                "the monitor's reading reached the visitor as read"
            );
            matches!(event, VisitorEvent::MessagePosted { message } if message.id == marker.id)
        })
        .await;

    // Ann's own reading still counts afterwards.
    mark_read(&mut ann, chat, question.id).await;
    visitor
        .wait_for(
            "Ann's read mark",
            |event| matches!(event, VisitorEvent::Read { up_to } if *up_to == question.id),
        )
        .await;
}

#[tokio::test]
async fn b12_a_visitor_read_mark_is_announced_once_even_across_a_restart() {
    let server = TestServer::start().await;
    let (mut ann, mut visitor, chat) = active_chat(&server).await;
    let greeting = ann
        .send(chat, "Let me look.", Visibility::Public)
        .await
        .expect("Ann greets");
    let answer = ann
        .send(chat, "It left this morning.", Visibility::Public)
        .await
        .expect("Ann answers");
    visitor_mark_read(&mut visitor, answer.id)
        .await
        .expect("the visitor reads the answer");
    ann.wait_for(
        "the visitor's read mark",
        |event| matches!(event, OperatorEvent::VisitorRead { up_to, .. } if *up_to == answer.id),
    )
    .await;

    let server = server.restart().await;
    ann.socket().wait_closed().await;
    visitor.socket().wait_closed().await;
    ann.reconnect().await;
    visitor.reconnect().await;
    // The widget marks what it shows again after a reload: the same mark, and an older one,
    // are no news.
    visitor_mark_read(&mut visitor, answer.id)
        .await
        .expect("the same mark again");
    visitor_mark_read(&mut visitor, greeting.id)
        .await
        .expect("an older mark");
    let later = ann
        .send(chat, "It arrives tomorrow.", Visibility::Public)
        .await
        .expect("Ann writes again");
    visitor_mark_read(&mut visitor, later.id)
        .await
        .expect("the visitor reads on");
    let first_after_restart = ann
        .wait_for("the next read mark", |event| {
            matches!(event, OperatorEvent::VisitorRead { .. })
        })
        .await;
    assert_eq!(
        first_after_restart,
        OperatorEvent::VisitorRead {
            chat,
            up_to: later.id
        },
        "the mark the visitor repeated after the restart was not announced again"
    );
    server.stop().await;
}
