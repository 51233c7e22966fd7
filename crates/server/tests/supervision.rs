//! Supervision scenarios (issue 7) against a real server, real SQLite and real WebSockets: a
//! supervisor monitors invisibly (B21), joins visibly (B20) or takes over; refusals for everyone
//! else; the audit log. Each test names the behaviour (BEHAVIOURS.md) it proves.

use switchboard_protocol::{
    AnswerInvitation, AuditAction, AuditEntry, ChatHistory, ChatId, ChatState, ChatSummary,
    EmailTranscript, Endpoint, ErrorCode, GetAuditLog, GetTicket, GetTickets, InvitationKind,
    InviteOperator, JoinChat, LiveChatId, LockReplies, MonitorChat, OperatorEvent,
    OperatorResponse, ReassignChat, StaffLeaveChat, StartChat, TakeOverChat, Ticket, TicketDetail,
    TicketStatus, TicketUpdate, TranscriptSent, TransferChat, Visibility, VisitorEvent,
    VisitorResponse, VisitorSideAuthor,
};
use switchboard_server::mail::SmtpSettings;
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor, WAIT,
    get_json, post_json,
};

const DEMO_LIVE_CHAT: LiveChatId = LiveChatId(1);
const SUE_NAME: &str = "Sue Supervisor";
const WHISPER: &str = "psst: offer the loyalty discount";

fn rings(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::RingStarted { chat: ringing } if *ringing == chat)
}

fn posted(body: &'static str) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::MessagePosted { message } if message.body == body)
}

fn visitor_got(body: &'static str) -> impl Fn(&VisitorEvent) -> bool {
    move |event| matches!(event, VisitorEvent::MessagePosted { message } if message.body == body)
}

async fn monitor(operator: &mut TestOperator, chat: ChatId) -> Result<ChatHistory, ErrorCode> {
    match operator.command(MonitorChat { chat }).await {
        Ok(OperatorResponse::Monitor(history)) => Ok(history),
        Ok(other) => panic!("monitor answered with {other:?}"),
        Err(error) => Err(error.code),
    }
}

async fn join(operator: &mut TestOperator, chat: ChatId) -> Result<ChatSummary, ErrorCode> {
    match operator.command(JoinChat { chat }).await {
        Ok(OperatorResponse::Join(summary)) => Ok(summary),
        Ok(other) => panic!("join answered with {other:?}"),
        Err(error) => Err(error.code),
    }
}

async fn take_over(
    operator: &mut TestOperator,
    chat: ChatId,
    previous_stays: bool,
) -> Result<ChatSummary, ErrorCode> {
    match operator
        .command(TakeOverChat {
            chat,
            previous_stays,
        })
        .await
    {
        Ok(OperatorResponse::TakeOver(summary)) => Ok(summary),
        Ok(other) => panic!("take over answered with {other:?}"),
        Err(error) => Err(error.code),
    }
}

async fn audit_log(
    server: &TestServer,
    operator: &TestOperator,
    live_chat: LiveChatId,
) -> Result<Vec<AuditEntry>, (u16, ErrorCode)> {
    let path = GetAuditLog::PATH.replace("{id}", &live_chat.to_string());
    get_json(&format!("{}{path}", server.url()), Some(operator.token()))
        .await
        .map_err(|(status, error)| (status, error.code))
}

/// Ann has accepted a visitor's chat; Sue and Bob are signed in.
async fn active_chat(
    server: &TestServer,
) -> (
    TestOperator,
    TestOperator,
    TestOperator,
    TestVisitor,
    ChatId,
) {
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Where is my anvil?").await.id;
    ann.wait_for("Ann's ring", rings(chat)).await;
    ann.accept(chat).await.expect("Ann accepts");
    visitor
        .wait_for("Ann joined", |event| {
            matches!(event, VisitorEvent::OperatorJoined { .. })
        })
        .await;
    (ann, bob, sue, visitor, chat)
}

/// The visitor is told Sue joined.
async fn sue_joined(visitor: &mut TestVisitor) {
    visitor
        .wait_for(
            "Sue joined",
            |event| matches!(event, VisitorEvent::OperatorJoined { name } if name == SUE_NAME),
        )
        .await;
}

/// The visitor is told Sue joined, then sees these two names as the chat's staff.
async fn sue_joins_the_visitors_list(visitor: &mut TestVisitor, expected: [&str; 2]) {
    sue_joined(visitor).await;
    match visitor
        .wait_for("the participant list", |event| {
            matches!(event, VisitorEvent::ChatUpdated { chat } if chat.operators.len() == 2)
        })
        .await
    {
        VisitorEvent::ChatUpdated { chat } => assert_eq!(chat.operators, expected),
        other => panic!("unexpected {other:?}"),
    }
}

/// Asserts that no frame the visitor received mentions the supervisor or the whisper.
fn assert_nothing_leaked(frames: &[String]) {
    assert!(!frames.is_empty(), "the visitor received frames");
    for frame in frames {
        let lower = frame.to_lowercase();
        for secret in ["sue", "supervisor", "monitor", "psst", "loyalty"] {
            assert!(
                !lower.contains(secret),
                "a visitor frame mentions {secret:?}: {frame}"
            );
        }
    }
}

#[tokio::test]
async fn b21_monitor_is_invisible_to_the_visitor_in_every_frame_and_snapshot() {
    let server = TestServer::start().await;
    let (mut ann, _bob, mut sue, mut visitor, chat) = active_chat(&server).await;

    let history = monitor(&mut sue, chat).await.expect("Sue monitors");
    assert_eq!(history.chat.id, chat);
    assert!(
        history
            .messages
            .iter()
            .any(|message| message.body == "Where is my anvil?"),
        "the monitor reads the history"
    );

    // Live traffic in both directions reaches the monitor.
    visitor.send("Hello?").await;
    sue.wait_for("the visitor's message", posted("Hello?"))
        .await;
    ann.send(chat, "Hi, looking now.", Visibility::Public)
        .await
        .expect("Ann replies");
    sue.wait_for("Ann's reply", posted("Hi, looking now."))
        .await;

    // The monitor whispers to staff; a public reply is refused until they join or take over.
    sue.send(chat, WHISPER, Visibility::Note)
        .await
        .expect("a monitor may write notes");
    ann.wait_for("Sue's note", posted(WHISPER)).await;
    let refused = sue
        .send(chat, "I am here too", Visibility::Public)
        .await
        .expect_err("a monitor cannot reply to the visitor");
    assert_eq!(refused.code, ErrorCode::Forbidden);

    // A last public message: the visitor's stream is ordered, so every earlier frame is in.
    ann.send(chat, "Found it.", Visibility::Public)
        .await
        .expect("Ann replies");
    visitor
        .wait_for("Ann's last reply", visitor_got("Found it."))
        .await;
    // And what a reconnecting visitor gets: a full replay and a snapshot.
    visitor.reconnect_since(Some(0)).await;
    visitor
        .wait_for("the replay to reach the end", visitor_got("Found it."))
        .await;
    visitor.reconnect_since(None).await;
    match visitor.snapshot() {
        Some(VisitorEvent::Snapshot {
            chat: Some(snapshot_chat),
            ..
        }) => assert_eq!(snapshot_chat.operators, vec!["Ann Operator".to_owned()]),
        other => panic!("expected a snapshot with the chat, got {other:?}"),
    }
    assert_nothing_leaked(visitor.raw_frames());

    // The check can fail: once Sue joins visibly, her name reaches the visitor.
    join(&mut sue, chat).await.expect("Sue joins");
    sue_joined(&mut visitor).await;
    assert!(
        visitor
            .raw_frames()
            .iter()
            .any(|frame| frame.contains(SUE_NAME))
    );
    server.stop().await;
}

#[tokio::test]
async fn b21_only_supervisors_of_the_live_chat_can_monitor_join_or_take_over() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue, _visitor, chat) = active_chat(&server).await;

    // Bob is a member but not a supervisor.
    assert_eq!(
        monitor(&mut bob, chat).await.unwrap_err(),
        ErrorCode::Forbidden
    );
    assert_eq!(
        join(&mut bob, chat).await.unwrap_err(),
        ErrorCode::Forbidden
    );
    assert_eq!(
        take_over(&mut bob, chat, true).await.unwrap_err(),
        ErrorCode::Forbidden
    );
    // Nor is Ann, who is responsible: she cannot hand herself a supervisor's powers.
    assert_eq!(
        monitor(&mut ann, chat).await.unwrap_err(),
        ErrorCode::Forbidden
    );
    // A supervisor of another live chat does not even learn that the chat exists.
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
            .expect("make Eve a supervisor of another live chat only");
    }
    let mut eve = TestOperator::sign_in(&server.url(), "eve@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        monitor(&mut eve, chat).await.unwrap_err(),
        ErrorCode::NotFound
    );
    assert_eq!(join(&mut eve, chat).await.unwrap_err(), ErrorCode::NotFound);
    assert_eq!(
        take_over(&mut eve, chat, false).await.unwrap_err(),
        ErrorCode::NotFound
    );
    assert_eq!(
        audit_log(&server, &eve, DEMO_LIVE_CHAT).await.unwrap_err(),
        (403, ErrorCode::Forbidden)
    );
    // Refusals leave no trace in the audit log, and only supervisors may read it.
    assert_eq!(
        audit_log(&server, &bob, DEMO_LIVE_CHAT).await.unwrap_err(),
        (403, ErrorCode::Forbidden)
    );
    assert!(
        audit_log(&server, &sue, DEMO_LIVE_CHAT)
            .await
            .expect("Sue reads the audit log")
            .is_empty()
    );
    // A chat that has ended cannot be monitored.
    ann.end(chat).await.expect("Ann ends the chat");
    assert_eq!(
        monitor(&mut sue, chat).await.unwrap_err(),
        ErrorCode::Conflict
    );
    server.stop().await;
}

#[tokio::test]
async fn b20_join_is_visible_to_everyone_and_both_operators_can_reply() {
    let server = TestServer::start().await;
    let (mut ann, _bob, mut sue, mut visitor, chat) = active_chat(&server).await;

    monitor(&mut sue, chat).await.expect("Sue monitors first");
    let summary = join(&mut sue, chat).await.expect("Sue joins");
    assert_eq!(
        summary.responsible.map(|operator| operator.name).as_deref(),
        Some("Ann Operator"),
        "joining does not take responsibility"
    );
    sue_joins_the_visitors_list(&mut visitor, ["Ann Operator", SUE_NAME]).await;
    ann.wait_for("the join message", posted_joined()).await;

    sue.send(chat, "Supervisor here, happy to help.", Visibility::Public)
        .await
        .expect("a joined supervisor replies");
    ann.send(chat, "Me too.", Visibility::Public)
        .await
        .expect("Ann still replies");
    match visitor
        .wait_for(
            "Sue's reply",
            visitor_got("Supervisor here, happy to help."),
        )
        .await
    {
        VisitorEvent::MessagePosted { message } => assert_eq!(
            message.from,
            VisitorSideAuthor::Operator {
                name: SUE_NAME.to_owned()
            }
        ),
        other => panic!("unexpected {other:?}"),
    }
    visitor
        .wait_for("Ann's reply", visitor_got("Me too."))
        .await;

    // Joining twice is harmless and not audited twice.
    join(&mut sue, chat)
        .await
        .expect("joining again is a no-op");
    let log = audit_log(&server, &sue, DEMO_LIVE_CHAT)
        .await
        .expect("Sue reads the audit log");
    let actions: Vec<AuditAction> = log.iter().map(|entry| entry.action).collect();
    assert_eq!(actions, vec![AuditAction::Monitored, AuditAction::Joined]);
    assert!(log.iter().all(|entry| entry.chat == chat
        && entry.actor.name == SUE_NAME
        && entry.previous.is_none()));
    server.stop().await;
}

fn posted_joined() -> impl Fn(&OperatorEvent) -> bool {
    |event| matches!(event, OperatorEvent::MessagePosted { message } if message.body == format!("{SUE_NAME} joined"))
}

#[tokio::test]
async fn take_over_makes_the_supervisor_responsible_and_the_previous_operator_stays() {
    let server = TestServer::start().await;
    let (mut ann, _bob, mut sue, mut visitor, chat) = active_chat(&server).await;

    let summary = take_over(&mut sue, chat, true)
        .await
        .expect("Sue takes over");
    assert_eq!(summary.state, ChatState::Active);
    assert_eq!(
        summary.responsible.map(|operator| operator.name).as_deref(),
        Some(SUE_NAME)
    );
    sue_joins_the_visitors_list(&mut visitor, [SUE_NAME, "Ann Operator"]).await;
    // Ann stayed as a participant: she can still reply; Sue can now end the chat, Ann cannot.
    ann.send(chat, "Still here.", Visibility::Public)
        .await
        .expect("the previous operator stays and replies");
    assert_eq!(
        ann.end(chat)
            .await
            .expect_err("Ann is not responsible")
            .code,
        ErrorCode::Forbidden
    );
    sue.end(chat).await.expect("Sue ends the chat");

    let log = audit_log(&server, &sue, DEMO_LIVE_CHAT)
        .await
        .expect("Sue reads the audit log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, AuditAction::TookOver);
    assert_eq!(log[0].actor.name, SUE_NAME);
    assert_eq!(
        log[0]
            .previous
            .as_ref()
            .map(|previous| previous.name.as_str()),
        Some("Ann Operator")
    );
    server.stop().await;
}

#[tokio::test]
async fn take_over_with_the_previous_operator_leaving_tells_the_visitor() {
    let server = TestServer::start().await;
    let (mut ann, _bob, mut sue, mut visitor, chat) = active_chat(&server).await;

    take_over(&mut sue, chat, false)
        .await
        .expect("Sue takes over");
    visitor
        .wait_for(
            "Ann left",
            |event| matches!(event, VisitorEvent::OperatorLeft { name } if name == "Ann Operator"),
        )
        .await;
    match visitor
        .wait_for("the participant list", |event| {
            matches!(event, VisitorEvent::ChatUpdated { chat } if chat.operators == [SUE_NAME])
        })
        .await
    {
        VisitorEvent::ChatUpdated { chat } => assert_eq!(chat.state, ChatState::Active),
        other => panic!("unexpected {other:?}"),
    }
    let refused = ann
        .send(chat, "Am I still here?", Visibility::Public)
        .await
        .expect_err("the previous operator left");
    assert_eq!(refused.code, ErrorCode::Forbidden);
    ann.send(chat, "Notes are still fine.", Visibility::Note)
        .await
        .expect("a member may still write notes");
    // Taking over a chat that is waiting is not possible: it is accepted instead.
    let mut other_visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let waiting = other_visitor.start_chat("Road Runner", "Meep?").await.id;
    assert_eq!(
        take_over(&mut sue, waiting, true).await.unwrap_err(),
        ErrorCode::Conflict
    );
    server.stop().await;
}

#[tokio::test]
async fn b21_notes_never_reach_the_visitor_through_history_or_snapshot() {
    let server = TestServer::start().await;
    let (mut ann, _bob, mut sue, mut visitor, chat) = active_chat(&server).await;
    monitor(&mut sue, chat).await.expect("Sue monitors");
    sue.send(chat, WHISPER, Visibility::Note)
        .await
        .expect("Sue whispers");
    ann.send(chat, "Public after the note.", Visibility::Public)
        .await
        .expect("Ann replies");
    visitor
        .wait_for("the public reply", visitor_got("Public after the note."))
        .await;
    visitor.reconnect_since(None).await;
    match visitor.snapshot() {
        Some(VisitorEvent::Snapshot { messages, .. }) => {
            assert!(
                messages
                    .iter()
                    .any(|message| message.body == "Public after the note.")
            );
            assert!(messages.iter().all(|message| message.body != WHISPER));
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
    assert_nothing_leaked(visitor.raw_frames());
    // Staff history keeps the note.
    let history = monitor(&mut sue, chat).await.expect("Sue monitors again");
    assert!(
        history
            .messages
            .iter()
            .any(|message| message.body == WHISPER && message.visibility == Visibility::Note)
    );
    server.stop().await;
}

// ----- collaboration -----

async fn ok_command(
    operator: &mut TestOperator,
    command: impl Into<switchboard_protocol::OperatorCommand>,
) -> OperatorResponse {
    operator
        .command(command)
        .await
        .expect("the command succeeds")
}

async fn refused(
    operator: &mut TestOperator,
    command: impl Into<switchboard_protocol::OperatorCommand>,
) -> ErrorCode {
    operator
        .command(command)
        .await
        .expect_err("the command is refused")
        .code
}

fn invited(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::Invited { invitation } if invitation.chat == chat)
}

fn answered(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::InvitationAnswered { chat: answered, .. } if *answered == chat)
}

#[tokio::test]
async fn b27_reassign_hands_the_chat_over_and_the_visitor_sees_it() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue, mut visitor, chat) = active_chat(&server).await;

    let bob_id = bob.id();
    // Bob is neither responsible nor a supervisor.
    assert_eq!(
        refused(
            &mut bob,
            ReassignChat {
                chat,
                operator: bob_id
            }
        )
        .await,
        ErrorCode::Forbidden
    );
    // The responsible operator reassigns to Bob.
    match ok_command(
        &mut ann,
        ReassignChat {
            chat,
            operator: bob.id(),
        },
    )
    .await
    {
        OperatorResponse::Reassign(summary) => assert_eq!(
            summary.responsible.map(|operator| operator.name).as_deref(),
            Some("Bob Operator")
        ),
        other => panic!("unexpected {other:?}"),
    }
    visitor
        .wait_for(
            "Ann left",
            |event| matches!(event, VisitorEvent::OperatorLeft { name } if name == "Ann Operator"),
        )
        .await;
    visitor
        .wait_for("Bob joined", |event| {
            matches!(event, VisitorEvent::OperatorJoined { name } if name == "Bob Operator")
        })
        .await;
    bob.send(chat, "Bob here.", Visibility::Public)
        .await
        .expect("the new responsible operator replies");
    assert_eq!(
        ann.send(chat, "Me?", Visibility::Public)
            .await
            .expect_err("Ann handed it over")
            .code,
        ErrorCode::Forbidden
    );
    // A supervisor may reassign too, and it is audited with who had it.
    ok_command(
        &mut sue,
        ReassignChat {
            chat,
            operator: ann.id(),
        },
    )
    .await;
    let log = audit_log(&server, &sue, DEMO_LIVE_CHAT)
        .await
        .expect("the audit log");
    let entries: Vec<(AuditAction, &str, Option<&str>)> = log
        .iter()
        .map(|entry| {
            (
                entry.action,
                entry.actor.name.as_str(),
                entry
                    .previous
                    .as_ref()
                    .map(|previous| previous.name.as_str()),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (
                AuditAction::Reassigned,
                "Ann Operator",
                Some("Ann Operator")
            ),
            (AuditAction::Reassigned, SUE_NAME, Some("Bob Operator")),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn b23_invited_operator_accepts_and_joins_visibly_or_declines_and_the_inviter_is_told() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, _sue, mut visitor, chat) = active_chat(&server).await;

    let bob_id = bob.id();
    // Bob is not in the chat, so he cannot invite anyone into it.
    assert_eq!(
        refused(
            &mut bob,
            InviteOperator {
                chat,
                operator: bob_id
            }
        )
        .await,
        ErrorCode::Forbidden
    );
    ok_command(
        &mut ann,
        InviteOperator {
            chat,
            operator: bob.id(),
        },
    )
    .await;
    match bob.wait_for("Bob's invitation", invited(chat)).await {
        OperatorEvent::Invited { invitation } => {
            assert_eq!(invitation.kind, InvitationKind::Invite);
            assert_eq!(invitation.from.name, "Ann Operator");
            assert_eq!(invitation.subject, "Where is my anvil?");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Declined: Ann is told, nothing else changes.
    ok_command(
        &mut bob,
        AnswerInvitation {
            chat,
            accept: false,
        },
    )
    .await;
    match ann.wait_for("the answer", answered(chat)).await {
        OperatorEvent::InvitationAnswered {
            accepted,
            kind,
            operator,
            ..
        } => {
            assert!(!accepted);
            assert_eq!(kind, InvitationKind::Invite);
            assert_eq!(operator.name, "Bob Operator");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Answering twice finds nothing open.
    assert_eq!(
        refused(&mut bob, AnswerInvitation { chat, accept: true }).await,
        ErrorCode::NotFound
    );
    // Invited again and accepted: Bob joins visibly and may reply; Ann stays responsible.
    ok_command(
        &mut ann,
        InviteOperator {
            chat,
            operator: bob.id(),
        },
    )
    .await;
    bob.wait_for("Bob's second invitation", invited(chat)).await;
    match ok_command(&mut bob, AnswerInvitation { chat, accept: true }).await {
        OperatorResponse::AnswerInvitation(summary) => assert_eq!(
            summary.responsible.map(|operator| operator.name).as_deref(),
            Some("Ann Operator")
        ),
        other => panic!("unexpected {other:?}"),
    }
    visitor
        .wait_for("Bob joined", |event| {
            matches!(event, VisitorEvent::OperatorJoined { name } if name == "Bob Operator")
        })
        .await;
    bob.send(chat, "Bob joining in.", Visibility::Public)
        .await
        .expect("an invitee who joined replies");
    assert_eq!(
        refused(
            &mut ann,
            InviteOperator {
                chat,
                operator: bob.id()
            }
        )
        .await,
        ErrorCode::Conflict,
        "already in the chat"
    );
    server.stop().await;
}

#[tokio::test]
async fn b22_transfer_waits_for_acceptance_and_a_decline_comes_back_with_the_note_kept_from_the_visitor()
 {
    const NOTE: &str = "transfer-note: VIP, knows billing";
    let server = TestServer::start().await;
    let (mut ann, mut bob, _sue, mut visitor, chat) = active_chat(&server).await;

    ok_command(
        &mut ann,
        TransferChat {
            chat,
            operator: bob.id(),
            note: NOTE.to_owned(),
        },
    )
    .await;
    match bob.wait_for("Bob's transfer", invited(chat)).await {
        OperatorEvent::Invited { invitation } => {
            assert_eq!(invitation.kind, InvitationKind::Transfer);
            assert_eq!(invitation.note.as_deref(), Some(NOTE));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Until Bob accepts, Ann stays responsible and keeps replying.
    ann.send(chat, "One moment please.", Visibility::Public)
        .await
        .expect("the original operator remains");
    ok_command(
        &mut bob,
        AnswerInvitation {
            chat,
            accept: false,
        },
    )
    .await;
    match ann.wait_for("the decline", answered(chat)).await {
        OperatorEvent::InvitationAnswered { accepted, kind, .. } => {
            assert!(!accepted);
            assert_eq!(kind, InvitationKind::Transfer);
        }
        other => panic!("unexpected {other:?}"),
    }

    // Transferred again and accepted: Bob is responsible, Ann left.
    ok_command(
        &mut ann,
        TransferChat {
            chat,
            operator: bob.id(),
            note: NOTE.to_owned(),
        },
    )
    .await;
    bob.wait_for("Bob's second transfer", invited(chat)).await;
    match ok_command(&mut bob, AnswerInvitation { chat, accept: true }).await {
        OperatorResponse::AnswerInvitation(summary) => assert_eq!(
            summary.responsible.map(|operator| operator.name).as_deref(),
            Some("Bob Operator")
        ),
        other => panic!("unexpected {other:?}"),
    }
    visitor
        .wait_for(
            "Ann left",
            |event| matches!(event, VisitorEvent::OperatorLeft { name } if name == "Ann Operator"),
        )
        .await;
    bob.send(chat, "Bob now.", Visibility::Public)
        .await
        .expect("Bob replies");
    visitor
        .wait_for("Bob's reply", visitor_got("Bob now."))
        .await;
    assert!(
        visitor
            .raw_frames()
            .iter()
            .all(|frame| !frame.contains("transfer-note")),
        "the transfer note never reaches the visitor"
    );
    let log = audit_log(&server, &bob, DEMO_LIVE_CHAT).await;
    assert_eq!(log.unwrap_err(), (403, ErrorCode::Forbidden));

    // Offline operators cannot be transferred to.
    ann.set_availability(switchboard_protocol::Availability::Away)
        .await
        .expect("Ann steps away");
    assert_eq!(
        refused(
            &mut bob,
            TransferChat {
                chat,
                operator: ann.id(),
                note: String::new(),
            },
        )
        .await,
        ErrorCode::Conflict
    );
    server.stop().await;
}

#[tokio::test]
async fn b15_reply_lock_stops_colleagues_replying_until_unlocked() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue, _visitor, chat) = active_chat(&server).await;
    join(&mut sue, chat).await.expect("Sue joins");

    // Bob is not in the chat: he cannot lock it.
    assert_eq!(
        refused(&mut bob, LockReplies { chat, locked: true }).await,
        ErrorCode::Forbidden
    );
    ok_command(&mut ann, LockReplies { chat, locked: true }).await;
    match bob
        .wait_for("the lock", |event| {
            matches!(event, OperatorEvent::ReplyLockChanged { .. })
        })
        .await
    {
        OperatorEvent::ReplyLockChanged { locked_by, .. } => {
            assert_eq!(
                locked_by.map(|operator| operator.name).as_deref(),
                Some("Ann Operator")
            )
        }
        other => panic!("unexpected {other:?}"),
    }
    let error = sue
        .send(chat, "Can I?", Visibility::Public)
        .await
        .expect_err("locked");
    assert_eq!(error.code, ErrorCode::Conflict);
    assert!(error.message.contains("Ann Operator"), "{}", error.message);
    sue.send(chat, "noted", Visibility::Note)
        .await
        .expect("notes stay open");
    ann.send(chat, "Mine.", Visibility::Public)
        .await
        .expect("the holder replies");

    ok_command(
        &mut ann,
        LockReplies {
            chat,
            locked: false,
        },
    )
    .await;
    sue.send(chat, "Now I can.", Visibility::Public)
        .await
        .expect("unlocked");
    server.stop().await;
}

// ----- tickets and transcript email -----

/// A tiny SMTP receiver on loopback: accepts connections one after another, answers every
/// command with success and hands each message's DATA to the test.
async fn smtp_sink() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the SMTP sink");
    let port = listener.local_addr().expect("sink address").port();
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read);
                let _ = write.write_all(b"220 sink ready\r\n").await;
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        break;
                    }
                    let command = line.trim_end().to_ascii_uppercase();
                    if command == "DATA" {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        let _ = sender.send(data);
                        let _ = write.write_all(b"250 queued\r\n").await;
                    } else if command == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        let _ = write.write_all(b"250 ok\r\n").await;
                    }
                }
            });
        }
    });
    (port, receiver)
}

/// A demo server that mails transcripts to a local SMTP sink, and the sink's inbox.
async fn server_mailing_transcripts() -> (TestServer, tokio::sync::mpsc::UnboundedReceiver<String>)
{
    let (port, inbox) = smtp_sink().await;
    let server = TestServer::start_tweaked(|config| {
        config.smtp = Some(SmtpSettings {
            host: "127.0.0.1".to_owned(),
            port,
            from: "Acme Support <support@acme.example>".to_owned(),
        });
    })
    .await;
    (server, inbox)
}

/// A visitor who left their email address starts a chat, and Ann accepts it.
async fn chat_with_an_email_address(
    server: &TestServer,
    ann: &mut TestOperator,
) -> (TestVisitor, ChatId) {
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = match visitor
        .command(StartChat {
            name: "Wile E.".to_owned(),
            email: Some("wile@example.com".to_owned()),
            question: "Where is my anvil?".to_owned(),
            page_url: None,
            topic: None,
            language: None,
            time_zone: None,
        })
        .await
        .expect("start the chat")
    {
        VisitorResponse::Start(chat) => chat.id,
        other => panic!("unexpected {other:?}"),
    };
    ann.wait_for("Ann's ring", rings(chat)).await;
    ann.accept(chat).await.expect("Ann accepts");
    (visitor, chat)
}

fn ticket_path(id: i64) -> String {
    GetTicket::PATH.replace("{id}", &id.to_string())
}

#[tokio::test]
async fn b25_ending_a_chat_opens_a_ticket_staff_update_it_and_the_emailed_transcript_has_no_notes()
{
    let (server, mut inbox) = server_mailing_transcripts().await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let mut sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let (_visitor, chat) = chat_with_an_email_address(&server, &mut ann).await;
    monitor(&mut sue, chat).await.expect("Sue monitors");
    sue.send(chat, WHISPER, Visibility::Note)
        .await
        .expect("Sue whispers");
    ann.send(chat, "It ships tomorrow.", Visibility::Public)
        .await
        .expect("Ann replies");
    ann.send(chat, "internal: check the warehouse", Visibility::Note)
        .await
        .expect("Ann notes");
    ann.end(chat).await.expect("Ann ends the chat");

    let url = server.url();
    let tickets: Vec<Ticket> = get_json(&format!("{url}{}", GetTickets::PATH), Some(bob.token()))
        .await
        .expect("Bob lists tickets");
    assert_eq!(tickets.len(), 1);
    let ticket = &tickets[0];
    assert_eq!(ticket.chat, chat);
    assert_eq!(ticket.subject, "Where is my anvil?");
    assert_eq!(ticket.status, TicketStatus::Open);
    assert_eq!(
        ticket
            .assignee
            .as_ref()
            .map(|operator| operator.name.as_str()),
        Some("Ann Operator")
    );

    // The end dialog: subject, status and assignee.
    let updated: Ticket = post_json(
        &format!("{url}{}", ticket_path(ticket.id)),
        &TicketUpdate {
            subject: "Anvil delivery".to_owned(),
            status: TicketStatus::Pending,
            assignee: Some(bob.id()),
        },
        Some(ann.token()),
    )
    .await
    .expect("Ann updates the ticket");
    assert_eq!(updated.subject, "Anvil delivery");
    assert_eq!(updated.status, TicketStatus::Pending);
    assert_eq!(
        updated.assignee.map(|operator| operator.name).as_deref(),
        Some("Bob Operator")
    );
    let detail: TicketDetail = get_json(
        &format!("{url}{}", ticket_path(ticket.id)),
        Some(bob.token()),
    )
    .await
    .expect("Bob reads the ticket");
    assert!(
        detail
            .messages
            .iter()
            .any(|message| message.body == WHISPER),
        "staff see the notes in the ticket"
    );

    let sent: TranscriptSent = post_json(
        &format!(
            "{url}{}",
            EmailTranscript::PATH.replace("{id}", &ticket.id.to_string())
        ),
        &(),
        Some(ann.token()),
    )
    .await
    .expect("the transcript is emailed");
    assert_eq!(sent.to, "wile@example.com");
    let email = tokio::time::timeout(WAIT, inbox.recv())
        .await
        .expect("the sink receives the email in time")
        .expect("the sink is running");
    assert!(email.contains("To: wile@example.com"), "{email}");
    assert!(email.contains("Where is my anvil?"), "{email}");
    assert!(
        email.contains("Ann Operator: It ships tomorrow."),
        "{email}"
    );
    let lower = email.to_lowercase();
    for secret in [
        "psst",
        "loyalty",
        "internal:",
        "warehouse",
        "sue",
        "supervisor",
    ] {
        assert!(
            !lower.contains(secret),
            "the email mentions {secret:?}: {email}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn b25_tickets_are_for_staff_of_their_live_chat_only_and_the_visitor_ending_opens_one_too() {
    let server = TestServer::start().await;
    let (_ann, bob, _sue, mut visitor, chat) = active_chat(&server).await;
    visitor.leave().await;
    let url = server.url();
    let tickets: Vec<Ticket> = get_json(&format!("{url}{}", GetTickets::PATH), Some(bob.token()))
        .await
        .expect("Bob lists tickets");
    assert_eq!(
        tickets.len(),
        1,
        "the visitor ending the chat opened a ticket"
    );
    assert_eq!(tickets[0].chat, chat);
    let id = tickets[0].id;

    // Someone outside the live chat sees nothing and changes nothing.
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
    let eve = TestOperator::sign_in(&server.url(), "eve@example.com", DEMO_PASSWORD).await;
    let listed: Vec<Ticket> = get_json(&format!("{url}{}", GetTickets::PATH), Some(eve.token()))
        .await
        .expect("Eve lists her tickets");
    assert!(listed.is_empty());
    let error = get_json::<TicketDetail>(&format!("{url}{}", ticket_path(id)), Some(eve.token()))
        .await
        .expect_err("not visible");
    assert_eq!((error.0, error.1.code), (404, ErrorCode::NotFound));
    let update = TicketUpdate {
        subject: "x".to_owned(),
        status: TicketStatus::Solved,
        assignee: None,
    };
    let error = post_json::<Ticket>(
        &format!("{url}{}", ticket_path(id)),
        &update,
        Some(eve.token()),
    )
    .await
    .expect_err("not changeable");
    assert_eq!(error.1.code, ErrorCode::NotFound);
    // Assigning to someone outside the live chat is refused.
    let error = post_json::<Ticket>(
        &format!("{url}{}", ticket_path(id)),
        &TicketUpdate {
            assignee: Some(eve.id()),
            ..update
        },
        Some(bob.token()),
    )
    .await
    .expect_err("assignee outside the live chat");
    assert_eq!(error.1.code, ErrorCode::BadRequest);
    // Without an email address (or an SMTP server) nothing is sent.
    let error = post_json::<TranscriptSent>(
        &format!(
            "{url}{}",
            EmailTranscript::PATH.replace("{id}", &id.to_string())
        ),
        &(),
        Some(bob.token()),
    )
    .await
    .expect_err("no address");
    assert_eq!(error.1.code, ErrorCode::BadRequest);
    server.stop().await;
}

#[tokio::test]
async fn b24_leaving_hands_over_to_a_joined_colleague_and_the_last_one_out_opens_a_ticket() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue, mut visitor, chat) = active_chat(&server).await;
    assert_eq!(
        refused(&mut bob, StaffLeaveChat { chat }).await,
        ErrorCode::Conflict,
        "Bob is not in the chat"
    );
    join(&mut sue, chat).await.expect("Sue joins");

    // The responsible operator leaves: Sue, who joined, becomes responsible.
    match ok_command(&mut ann, StaffLeaveChat { chat }).await {
        OperatorResponse::StaffLeave(summary) => {
            assert_eq!(summary.state, ChatState::Active);
            assert_eq!(
                summary.responsible.map(|operator| operator.name).as_deref(),
                Some(SUE_NAME)
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    visitor
        .wait_for(
            "Ann left",
            |event| matches!(event, VisitorEvent::OperatorLeft { name } if name == "Ann Operator"),
        )
        .await;
    sue.send(chat, "Still with you.", Visibility::Public)
        .await
        .expect("the successor replies");

    // The last staff member leaves: the chat ends and a ticket is opened.
    match ok_command(&mut sue, StaffLeaveChat { chat }).await {
        OperatorResponse::StaffLeave(summary) => assert_eq!(summary.state, ChatState::Closed),
        other => panic!("unexpected {other:?}"),
    }
    visitor
        .wait_for("the chat closed", |event| {
            matches!(event, VisitorEvent::ChatUpdated { chat } if chat.state == ChatState::Closed)
        })
        .await;
    let tickets: Vec<Ticket> = get_json(
        &format!("{}{}", server.url(), GetTickets::PATH),
        Some(bob.token()),
    )
    .await
    .expect("Bob lists tickets");
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].chat, chat);
    assert_eq!(tickets[0].subject, "Where is my anvil?");
    server.stop().await;
}

#[tokio::test]
async fn b25_a_visitor_who_closes_the_page_ends_the_chat_after_the_inactivity_timeout() {
    let server = TestServer::start_tweaked(|config| config.visitor_inactivity_seconds = 1).await;
    let (mut ann, bob, _sue, mut visitor, chat) = active_chat(&server).await;
    visitor.socket().disconnect().await;
    ann.wait_for("the chat to end", |event| {
        matches!(event, OperatorEvent::ChatUpserted { chat: summary }
            if summary.id == chat && summary.state == ChatState::Closed)
    })
    .await;
    ann.wait_for("the notice", |event| {
        matches!(event, OperatorEvent::MessagePosted { message }
            if message.chat == chat && message.body == "The visitor left")
    })
    .await;
    let tickets: Vec<Ticket> = get_json(
        &format!("{}{}", server.url(), GetTickets::PATH),
        Some(bob.token()),
    )
    .await
    .expect("Bob lists tickets");
    assert_eq!(tickets.len(), 1, "ending by inactivity opens the ticket");
    assert_eq!(tickets[0].chat, chat);
    server.stop().await;
}

fn expired(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::InvitationExpired { chat: expired, .. } if *expired == chat)
}

#[tokio::test]
async fn b22_an_unanswered_transfer_times_out_back_to_the_sender_who_stays_responsible() {
    let server = TestServer::start_tweaked(|config| config.invitation_timeout_seconds = 1).await;
    let (mut ann, mut bob, _sue, mut visitor, chat) = active_chat(&server).await;
    ok_command(
        &mut ann,
        TransferChat {
            chat,
            operator: bob.id(),
            note: "transfer-note: billing".to_owned(),
        },
    )
    .await;
    bob.wait_for("Bob's transfer", invited(chat)).await;
    match ann.wait_for("the transfer timing out", expired(chat)).await {
        OperatorEvent::InvitationExpired {
            kind,
            operator,
            outcome,
            ..
        } => {
            assert_eq!(kind, InvitationKind::Transfer);
            assert_eq!(operator.id, bob.id(), "the reason names who did not answer");
            assert_eq!(
                outcome,
                Some(switchboard_protocol::InvitationOutcome::TimedOut)
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    match bob
        .wait_for("Bob's transfer withdrawn", expired(chat))
        .await
    {
        OperatorEvent::InvitationExpired { outcome, .. } => assert_eq!(
            outcome,
            Some(switchboard_protocol::InvitationOutcome::TimedOut),
            "Bob is told why at once"
        ),
        other => panic!("unexpected {other:?}"),
    }
    // Too late to accept: Ann is still responsible and still replies.
    assert_eq!(
        refused(&mut bob, AnswerInvitation { chat, accept: true }).await,
        ErrorCode::NotFound
    );
    ann.send(chat, "Still me.", Visibility::Public)
        .await
        .expect("the sender stays responsible");
    visitor
        .wait_for("Ann's reply", visitor_got("Still me."))
        .await;
    assert!(
        visitor
            .raw_frames()
            .iter()
            .all(|frame| !frame.contains("transfer-note") && !frame.contains("Bob")),
        "the visitor hears nothing of a transfer that did not happen"
    );
    server.stop().await;
}

#[tokio::test]
async fn b23_an_invitation_timer_is_durable_across_a_server_restart() {
    let server = TestServer::start_tweaked(|config| config.invitation_timeout_seconds = 2).await;
    let (mut ann, mut bob, _sue, _visitor, chat) = active_chat(&server).await;
    ok_command(
        &mut ann,
        InviteOperator {
            chat,
            operator: bob.id(),
        },
    )
    .await;
    bob.wait_for("Bob's invitation", invited(chat)).await;
    let server = server.restart().await;
    ann.socket().wait_closed().await;
    ann.reconnect().await;
    match ann
        .wait_for("the invitation timing out after the restart", expired(chat))
        .await
    {
        OperatorEvent::InvitationExpired { kind, .. } => assert_eq!(kind, InvitationKind::Invite),
        other => panic!("unexpected {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn b25_a_supervisor_may_end_an_active_chat_and_a_colleague_may_not() {
    let server = TestServer::start().await;
    let (_ann, mut bob, mut sue, _visitor, chat) = active_chat(&server).await;
    assert_eq!(
        bob.end(chat)
            .await
            .expect_err("Bob is not responsible")
            .code,
        ErrorCode::Forbidden
    );
    let ended = sue.end(chat).await.expect("the supervisor ends it");
    assert_eq!(ended.state, ChatState::Closed);
    let tickets: Vec<Ticket> = get_json(
        &format!("{}{}", server.url(), GetTickets::PATH),
        Some(sue.token()),
    )
    .await
    .expect("the tickets");
    assert!(tickets.iter().any(|ticket| ticket.chat == chat));
    server.stop().await;
}

async fn create_team(
    server: &TestServer,
    by: &TestOperator,
    name: &str,
    members: Vec<switchboard_protocol::OperatorId>,
) -> switchboard_protocol::Team {
    let path = switchboard_protocol::CreateTeam::PATH.replace("{id}", &DEMO_LIVE_CHAT.to_string());
    post_json(
        &format!("{}{path}", server.url()),
        &switchboard_protocol::TeamRequest {
            name: name.to_owned(),
            members,
        },
        Some(by.token()),
    )
    .await
    .expect("the supervisor creates a team")
}

#[tokio::test]
async fn b22_a_team_transfer_rings_its_online_members_and_the_first_acceptance_wins() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue, mut visitor, chat) = active_chat(&server).await;
    let billing = create_team(&server, &sue, "Billing", vec![bob.id(), sue.id()]).await;
    let transfer = switchboard_protocol::TransferToTeam {
        chat,
        team: billing.id,
        note: "transfer-note: invoice 42".to_owned(),
    };

    // Everyone declines: only the last decline goes back to Ann.
    ok_command(&mut ann, transfer.clone()).await;
    bob.wait_for("Bob's team transfer", invited(chat)).await;
    sue.wait_for("Sue's team transfer", invited(chat)).await;
    ok_command(
        &mut bob,
        AnswerInvitation {
            chat,
            accept: false,
        },
    )
    .await;
    // Delivered in the same transaction as an answer would be: on Ann's socket before this reply.
    ok_command(
        &mut ann,
        LockReplies {
            chat,
            locked: false,
        },
    )
    .await;
    assert!(
        !ann.socket().queued_events().any(answered(chat)),
        "one member declining does not return the chat while another may take it"
    );
    ok_command(
        &mut sue,
        AnswerInvitation {
            chat,
            accept: false,
        },
    )
    .await;
    match ann.wait_for("the team's decline", answered(chat)).await {
        OperatorEvent::InvitationAnswered { accepted, .. } => assert!(!accepted),
        other => panic!("unexpected {other:?}"),
    }

    // Again: Sue accepts first; Bob's invitation is withdrawn, Ann is told and leaves.
    ok_command(&mut ann, transfer).await;
    bob.wait_for("Bob's second team transfer", invited(chat))
        .await;
    sue.wait_for("Sue's second team transfer", invited(chat))
        .await;
    match ok_command(&mut sue, AnswerInvitation { chat, accept: true }).await {
        OperatorResponse::AnswerInvitation(summary) => assert_eq!(
            summary.responsible.map(|operator| operator.name).as_deref(),
            Some(SUE_NAME)
        ),
        other => panic!("unexpected {other:?}"),
    }
    match bob
        .wait_for("Bob's invitation withdrawn", expired(chat))
        .await
    {
        OperatorEvent::InvitationExpired { operator, .. } => assert_eq!(operator.id, bob.id()),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        refused(&mut bob, AnswerInvitation { chat, accept: true }).await,
        ErrorCode::NotFound,
        "a withdrawn invitation cannot be accepted"
    );
    match ann.wait_for("the acceptance", answered(chat)).await {
        OperatorEvent::InvitationAnswered {
            accepted, operator, ..
        } => {
            assert!(accepted);
            assert_eq!(operator.name, SUE_NAME);
        }
        other => panic!("unexpected {other:?}"),
    }
    visitor
        .wait_for(
            "Ann left",
            |event| matches!(event, VisitorEvent::OperatorLeft { name } if name == "Ann Operator"),
        )
        .await;
    assert!(
        visitor
            .raw_frames()
            .iter()
            .all(|frame| !frame.contains("transfer-note") && !frame.contains("Billing")),
        "the team and its note stay among staff"
    );
    server.stop().await;
}

#[tokio::test]
async fn b22_a_team_with_nobody_online_is_refused_and_other_live_chats_teams_are_unknown() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, sue, _visitor, chat) = active_chat(&server).await;
    let billing = create_team(&server, &sue, "Billing", vec![bob.id()]).await;
    bob.set_availability(switchboard_protocol::Availability::Away)
        .await
        .expect("Bob steps away");
    let transfer = |team| switchboard_protocol::TransferToTeam {
        chat,
        team,
        note: String::new(),
    };
    assert_eq!(
        refused(&mut ann, transfer(billing.id)).await,
        ErrorCode::Conflict
    );
    assert_eq!(
        refused(&mut ann, transfer(switchboard_protocol::TeamId(999))).await,
        ErrorCode::NotFound
    );
    assert_eq!(
        refused(&mut bob, transfer(billing.id)).await,
        ErrorCode::Forbidden,
        "only the responsible operator or a supervisor transfers"
    );
    server.stop().await;
}

fn open_invitations(event: &OperatorEvent) -> bool {
    matches!(event, OperatorEvent::OpenInvitations { .. })
}

#[tokio::test]
async fn b22_b23_a_snapshot_is_followed_by_every_open_invitation_to_and_from_me() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue, _visitor, chat) = active_chat(&server).await;
    let billing = create_team(&server, &sue, "Billing", vec![sue.id()]).await;

    // Bob is away from his connection while Ann invites him; Sue is asked through her team.
    bob.socket().disconnect().await;
    ok_command(
        &mut ann,
        InviteOperator {
            chat,
            operator: bob.id(),
        },
    )
    .await;
    ok_command(
        &mut ann,
        switchboard_protocol::TransferToTeam {
            chat,
            team: billing.id,
            note: "transfer-note: invoice 42".to_owned(),
        },
    )
    .await;
    // Live, the invitee sees the team it came through (issue 7: "via team Billing").
    match sue.wait_for("Sue's team transfer", invited(chat)).await {
        OperatorEvent::Invited { invitation } => {
            assert_eq!(invitation.team.as_deref(), Some("Billing"));
            assert_eq!(invitation.from.name, "Ann Operator");
        }
        other => panic!("unexpected {other:?}"),
    }

    // Reconnecting without a cursor forces a snapshot: what the log held follows it.
    bob.socket().discard_queued_events();
    let welcome = bob.reconnect_since(None).await;
    assert!(!welcome.resumed);
    match bob
        .wait_for("Bob's open invitations", open_invitations)
        .await
    {
        OperatorEvent::OpenInvitations { received, sent, .. } => {
            assert_eq!(received.len(), 1, "{received:?}");
            assert_eq!(received[0].chat, chat);
            assert_eq!(received[0].kind, InvitationKind::Invite);
            assert_eq!(received[0].from.name, "Ann Operator");
            assert_eq!(received[0].subject, "Where is my anvil?");
            assert_eq!(received[0].team, None);
            assert!(sent.is_empty());
        }
        other => panic!("unexpected {other:?}"),
    }
    sue.socket().discard_queued_events();
    sue.reconnect_since(None).await;
    match sue
        .wait_for("Sue's open invitations", open_invitations)
        .await
    {
        OperatorEvent::OpenInvitations { received, .. } => {
            assert_eq!(received.len(), 1, "{received:?}");
            assert_eq!(received[0].kind, InvitationKind::Transfer);
            assert_eq!(received[0].team.as_deref(), Some("Billing"));
            assert_eq!(
                received[0].note.as_deref(),
                Some("transfer-note: invoice 42")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    ann.socket().discard_queued_events();
    ann.reconnect_since(None).await;
    match ann
        .wait_for("Ann's open invitations", open_invitations)
        .await
    {
        OperatorEvent::OpenInvitations { received, sent, .. } => {
            assert!(received.is_empty());
            let mut to: Vec<(String, InvitationKind, Option<switchboard_protocol::TeamId>)> = sent
                .into_iter()
                .map(|open| (open.to.name, open.kind, open.team))
                .collect();
            to.sort_by(|left, right| left.0.cmp(&right.0));
            assert_eq!(
                to,
                vec![
                    ("Bob Operator".to_owned(), InvitationKind::Invite, None),
                    (
                        SUE_NAME.to_owned(),
                        InvitationKind::Transfer,
                        Some(billing.id)
                    ),
                ]
            );
        }
        other => panic!("unexpected {other:?}"),
    }

    // Answered while away: the next snapshot no longer lists it on either side.
    ok_command(
        &mut bob,
        AnswerInvitation {
            chat,
            accept: false,
        },
    )
    .await;
    bob.socket().discard_queued_events();
    bob.reconnect_since(None).await;
    match bob
        .wait_for("Bob's open invitations", open_invitations)
        .await
    {
        OperatorEvent::OpenInvitations { received, .. } => assert!(received.is_empty()),
        other => panic!("unexpected {other:?}"),
    }
    ann.socket().discard_queued_events();
    ann.reconnect_since(None).await;
    match ann
        .wait_for("Ann's open invitations", open_invitations)
        .await
    {
        OperatorEvent::OpenInvitations { sent, .. } => {
            assert_eq!(sent.len(), 1, "{sent:?}");
            assert_eq!(sent[0].to.name, SUE_NAME);
        }
        other => panic!("unexpected {other:?}"),
    }
    // A resume that replays the log sends no extra list.
    ann.socket().discard_queued_events();
    let welcome = ann.reconnect_since(Some(ann.last_seq())).await;
    assert!(welcome.resumed);
    ok_command(
        &mut ann,
        LockReplies {
            chat,
            locked: false,
        },
    )
    .await;
    assert!(
        !ann.socket().queued_events().any(open_invitations),
        "only a snapshot is followed by the open invitations"
    );
    server.stop().await;
}

/// Uploads a file as a message of `chat` with the operator's token.
async fn upload(server: &TestServer, token: &str, path: String, name: &str) -> serde_json::Value {
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    let response = switchboard_server::test_support::http_client()
        .post(format!("{}{path}", server.url()))
        .bearer_auth(token)
        .header("content-type", "image/png")
        .header(switchboard_protocol::ATTACHMENT_NAME_HEADER, name)
        .header(
            switchboard_protocol::CLIENT_ID_HEADER,
            format!("upload-{name}"),
        )
        .body(PNG.to_vec())
        .send()
        .await
        .expect("the server answers the upload");
    assert_eq!(response.status().as_u16(), 200, "upload of {name}");
    response.json().await.expect("the posted message")
}

#[tokio::test]
async fn b25_the_emailed_transcript_names_public_files_and_omits_notes_their_files_and_monitors() {
    let (server, mut inbox) = server_mailing_transcripts().await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let (visitor, chat) = chat_with_an_email_address(&server, &mut ann).await;
    monitor(&mut sue, chat).await.expect("Sue monitors");
    sue.send(chat, WHISPER, Visibility::Note)
        .await
        .expect("Sue whispers");
    let chat_upload =
        switchboard_protocol::UPLOAD_ATTACHMENT_PATH.replace("{id}", &chat.to_string());
    upload(
        &server,
        ann.token(),
        format!("{chat_upload}?visibility=public"),
        "delivery-slip.png",
    )
    .await;
    upload(
        &server,
        ann.token(),
        format!("{chat_upload}?visibility=note"),
        "internal-ledger.png",
    )
    .await;
    upload(
        &server,
        sue.token(),
        format!("{chat_upload}?visibility=note"),
        "supervisor-scan.png",
    )
    .await;
    upload(
        &server,
        visitor.token(),
        switchboard_protocol::VISITOR_UPLOAD_ATTACHMENT_PATH.to_owned(),
        "dented-anvil.png",
    )
    .await;
    ann.end(chat).await.expect("Ann ends the chat");

    let url = server.url();
    let tickets: Vec<Ticket> = get_json(&format!("{url}{}", GetTickets::PATH), Some(ann.token()))
        .await
        .expect("Ann lists tickets");
    let ticket = tickets
        .iter()
        .find(|ticket| ticket.chat == chat)
        .expect("the chat's ticket");
    let _: TranscriptSent = post_json(
        &format!(
            "{url}{}",
            EmailTranscript::PATH.replace("{id}", &ticket.id.to_string())
        ),
        &(),
        Some(ann.token()),
    )
    .await
    .expect("the transcript is emailed");
    let email = tokio::time::timeout(WAIT, inbox.recv())
        .await
        .expect("the sink receives the email in time")
        .expect("the sink is running");
    assert!(email.contains("[attachment: delivery-slip.png]"), "{email}");
    assert!(email.contains("[attachment: dented-anvil.png]"), "{email}");
    let lower = email.to_lowercase();
    for secret in [
        "internal-ledger",
        "supervisor-scan",
        "psst",
        "loyalty",
        "sue",
        "supervisor",
        "monitor",
    ] {
        assert!(
            !lower.contains(secret),
            "the email mentions {secret:?}: {email}"
        );
    }
    // Named, not embedded: one plain-text part, no file bytes (a PNG's base64 starts "iVBOR").
    assert!(!lower.contains("multipart"), "{email}");
    assert!(!email.contains("iVBOR"), "{email}");
    assert!(email.contains("Content-Type: text/plain"), "{email}");

    // Only supervisors read the audit log (issue 7, "visible to admins"): without a token the
    // request is refused before anything is looked up.
    let path = GetAuditLog::PATH.replace("{id}", &DEMO_LIVE_CHAT.to_string());
    let refused: Result<Vec<AuditEntry>, _> = get_json(&format!("{url}{path}"), None).await;
    assert_eq!(refused.unwrap_err().0, 401);
    let log = audit_log(&server, &sue, DEMO_LIVE_CHAT)
        .await
        .expect("Sue reads the audit log");
    assert!(
        log.iter()
            .any(|entry| entry.action == AuditAction::Monitored && entry.chat == chat),
        "{log:?}"
    );
    server.stop().await;
}

fn colleague_changed(name: &'static str) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::ColleagueChanged { colleague } if colleague.name == name)
}

#[tokio::test]
async fn b22_b23_the_picker_knows_who_is_online_after_a_snapshot_and_live() {
    let server = TestServer::start().await;
    let eve = server.create_operator("eve@example.com", "Eve Elsewhere", DEMO_PASSWORD);
    rusqlite::Connection::open(server.database_path())
        .expect("open the test database")
        .execute_batch(&format!(
            "INSERT INTO live_chats (id, name, embed_key) VALUES (2, 'Other shop', 'other-key');
             DELETE FROM memberships WHERE operator_id = {eve};
             INSERT INTO memberships (operator_id, live_chat_id, supervisor) VALUES ({eve}, 2, 0);"
        ))
        .expect("make Eve an operator of another live chat only");
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;
    let mut eve = TestOperator::sign_in(&server.url(), "eve@example.com", DEMO_PASSWORD).await;

    // Live: Bob goes away, then switches routing off; Ann, who shares a live chat, is told.
    bob.set_availability(switchboard_protocol::Availability::Away)
        .await
        .expect("Bob goes away");
    match ann
        .wait_for("Bob away", colleague_changed("Bob Operator"))
        .await
    {
        OperatorEvent::ColleagueChanged { colleague } => {
            assert_eq!(colleague.id, bob.id());
            assert_eq!(
                colleague.availability,
                switchboard_protocol::Availability::Away
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    bob.set_routing(None, false)
        .await
        .expect("Bob switches routing off");
    match ann
        .wait_for("Bob's routing", colleague_changed("Bob Operator"))
        .await
    {
        OperatorEvent::ColleagueChanged { colleague } => assert!(!colleague.routing),
        other => panic!("unexpected {other:?}"),
    }
    // Eve shares no live chat with Bob: nothing about him reaches her.
    eve.set_availability(switchboard_protocol::Availability::Online)
        .await
        .expect("a round trip for Eve");
    assert!(
        !eve.socket()
            .queued_events()
            .any(colleague_changed("Bob Operator")),
        "only staff of shared live chats hear of a colleague"
    );

    // After a snapshot the whole list follows it: Bob away with routing off, Sue, not Ann.
    ann.socket().discard_queued_events();
    ann.reconnect_since(None).await;
    match ann
        .wait_for("Ann's colleagues", |event| {
            matches!(event, OperatorEvent::ColleaguesChanged { .. })
        })
        .await
    {
        OperatorEvent::ColleaguesChanged { colleagues } => {
            let names: Vec<&str> = colleagues
                .iter()
                .map(|colleague| colleague.name.as_str())
                .collect();
            assert_eq!(names, vec!["Bob Operator", SUE_NAME]);
            assert_eq!(
                colleagues[0].availability,
                switchboard_protocol::Availability::Away
            );
            assert!(!colleagues[0].routing);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Back online: told again.
    bob.set_availability(switchboard_protocol::Availability::Online)
        .await
        .expect("Bob is back");
    match ann
        .wait_for("Bob back", colleague_changed("Bob Operator"))
        .await
    {
        OperatorEvent::ColleagueChanged { colleague } => assert_eq!(
            colleague.availability,
            switchboard_protocol::Availability::Online
        ),
        other => panic!("unexpected {other:?}"),
    }
    server.stop().await;
}

// ----- outcomes that survive a snapshot (B22, B23) -----

/// The decided invitations listed after a forced snapshot, as (chat, kind, from, to, outcome).
async fn decided_after_snapshot(
    operator: &mut TestOperator,
) -> Vec<switchboard_protocol::DecidedInvitation> {
    operator.socket().discard_queued_events();
    let welcome = operator.reconnect_since(None).await;
    assert!(!welcome.resumed, "no cursor: a snapshot");
    match operator
        .wait_for("the open invitations", open_invitations)
        .await
    {
        OperatorEvent::OpenInvitations { decided, .. } => {
            decided.expect("this server lists decided invitations")
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn outcomes(
    decided: &[switchboard_protocol::DecidedInvitation],
) -> Vec<(String, String, switchboard_protocol::InvitationOutcome)> {
    let mut outcomes: Vec<_> = decided
        .iter()
        .map(|decided| {
            (
                decided.from.name.clone(),
                decided.to.name.clone(),
                decided.outcome.clone(),
            )
        })
        .collect();
    outcomes.sort_by(|left, right| (&left.0, &left.1).cmp(&(&right.0, &right.1)));
    outcomes
}

#[tokio::test]
async fn b22_b23_how_invitations_ended_survives_a_snapshot_and_a_restart_until_dismissed() {
    use switchboard_protocol::{DismissInvitationOutcomes, InvitationOutcome, OperatorRef};
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue, _visitor, chat) = active_chat(&server).await;
    let billing = create_team(&server, &sue, "Billing", vec![bob.id(), sue.id()]).await;
    let sue_ref = OperatorRef {
        id: sue.id(),
        name: SUE_NAME.to_owned(),
    };

    // Ann transfers to Billing; Sue takes it, so Bob's transfer was "taken by Sue".
    ok_command(
        &mut ann,
        switchboard_protocol::TransferToTeam {
            chat,
            team: billing.id,
            note: String::new(),
        },
    )
    .await;
    bob.wait_for("Bob's team transfer", invited(chat)).await;
    sue.wait_for("Sue's team transfer", invited(chat)).await;
    ok_command(&mut sue, AnswerInvitation { chat, accept: true }).await;
    // Sue invites Bob, who declines; then she invites Ann and leaves before Ann answers.
    ok_command(
        &mut sue,
        InviteOperator {
            chat,
            operator: bob.id(),
        },
    )
    .await;
    ok_command(
        &mut bob,
        AnswerInvitation {
            chat,
            accept: false,
        },
    )
    .await;
    ok_command(
        &mut sue,
        InviteOperator {
            chat,
            operator: ann.id(),
        },
    )
    .await;
    ok_command(&mut sue, StaffLeaveChat { chat }).await;

    // Outcomes are durable: a restart in the middle loses none.
    let server = server.restart().await;
    for operator in [&mut ann, &mut bob, &mut sue] {
        operator.socket().wait_closed().await;
    }

    let taken = InvitationOutcome::Accepted {
        by: sue_ref.clone(),
    };
    let withdrawn = InvitationOutcome::Withdrawn {
        by: sue_ref.clone(),
    };
    assert_eq!(
        outcomes(&decided_after_snapshot(&mut ann).await),
        vec![
            (
                "Ann Operator".to_owned(),
                "Bob Operator".to_owned(),
                taken.clone()
            ),
            (
                "Ann Operator".to_owned(),
                SUE_NAME.to_owned(),
                taken.clone()
            ),
            (
                SUE_NAME.to_owned(),
                "Ann Operator".to_owned(),
                withdrawn.clone()
            ),
        ],
        "Ann sent the team transfer and was invited by Sue"
    );
    let bobs = decided_after_snapshot(&mut bob).await;
    assert_eq!(
        outcomes(&bobs),
        vec![(
            "Ann Operator".to_owned(),
            "Bob Operator".to_owned(),
            taken.clone()
        )],
        "Bob's own decline is his to know, the team transfer was taken"
    );
    assert_eq!(bobs[0].team, Some(billing.id));
    assert_eq!(bobs[0].kind, InvitationKind::Transfer);
    assert_eq!(
        outcomes(&decided_after_snapshot(&mut sue).await),
        vec![
            (SUE_NAME.to_owned(), "Ann Operator".to_owned(), withdrawn),
            (
                SUE_NAME.to_owned(),
                "Bob Operator".to_owned(),
                InvitationOutcome::Declined
            ),
        ]
    );

    // Ann dismisses them: gone for her after the next snapshot, still there for Bob.
    ok_command(&mut ann, DismissInvitationOutcomes { chat }).await;
    assert!(decided_after_snapshot(&mut ann).await.is_empty());
    assert_eq!(decided_after_snapshot(&mut bob).await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn b22_b23_a_timed_out_invitation_and_one_whose_chat_ended_say_so_after_a_snapshot() {
    use switchboard_protocol::InvitationOutcome;
    let server = TestServer::start_tweaked(|config| config.invitation_timeout_seconds = 1).await;
    let (mut ann, mut bob, _sue, _visitor, chat) = active_chat(&server).await;
    ok_command(
        &mut ann,
        InviteOperator {
            chat,
            operator: bob.id(),
        },
    )
    .await;
    ann.wait_for("the invitation timing out", expired(chat))
        .await;
    for operator in [&mut ann, &mut bob] {
        let decided = decided_after_snapshot(operator).await;
        assert_eq!(decided.len(), 1, "{decided:?}");
        assert_eq!(decided[0].outcome, InvitationOutcome::TimedOut);
    }

    // A second chat ends while Bob's invitation to it is open: "chat ended", not "timed out".
    let mut second = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let second_chat = second.start_chat("Road Runner", "Beep beep").await.id;
    ann.wait_for("Ann's second ring", rings(second_chat)).await;
    ann.accept(second_chat).await.expect("Ann accepts");
    ok_command(
        &mut ann,
        InviteOperator {
            chat: second_chat,
            operator: bob.id(),
        },
    )
    .await;
    bob.wait_for("Bob's second invitation", invited(second_chat))
        .await;
    ann.end(second_chat).await.expect("Ann ends the chat");
    match bob
        .wait_for("the withdrawn invitation", expired(second_chat))
        .await
    {
        OperatorEvent::InvitationExpired { outcome, .. } => {
            assert_eq!(outcome, Some(InvitationOutcome::ChatEnded));
        }
        other => panic!("unexpected {other:?}"),
    }
    let decided = decided_after_snapshot(&mut bob).await;
    let ended: Vec<_> = decided
        .iter()
        .filter(|decided| decided.chat == second_chat)
        .map(|decided| decided.outcome.clone())
        .collect();
    assert_eq!(ended, vec![InvitationOutcome::ChatEnded]);
    server.stop().await;
}

/// The reason Bob's live `InvitationExpired` for `chat` carries.
async fn live_reason(
    bob: &mut TestOperator,
    chat: ChatId,
    what: &str,
) -> Option<switchboard_protocol::InvitationOutcome> {
    match bob.wait_for(what, expired(chat)).await {
        OperatorEvent::InvitationExpired {
            operator, outcome, ..
        } => {
            assert_eq!(operator.id, bob.id(), "it is Bob's invitation");
            outcome
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn b22_b23_an_invitation_withdrawn_while_connected_says_why_at_once() {
    use switchboard_protocol::{InvitationOutcome, OperatorRef};
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue, mut visitor, chat) = active_chat(&server).await;
    let ann_ref = OperatorRef {
        id: ann.id(),
        name: "Ann Operator".to_owned(),
    };

    // Sue joins, Ann invites Bob and leaves before he answers: Sue takes over, Ann withdrew.
    join(&mut sue, chat).await.expect("Sue joins");
    sue_joined(&mut visitor).await;
    ok_command(
        &mut ann,
        InviteOperator {
            chat,
            operator: bob.id(),
        },
    )
    .await;
    bob.wait_for("Bob's invitation", invited(chat)).await;
    ok_command(&mut ann, StaffLeaveChat { chat }).await;
    assert_eq!(
        live_reason(&mut bob, chat, "Bob's invitation withdrawn").await,
        Some(InvitationOutcome::Withdrawn {
            by: ann_ref.clone()
        })
    );

    // Sue, now responsible, transfers to a team; Ann takes it first: "taken by Ann" for Bob.
    let billing = create_team(&server, &sue, "Billing", vec![bob.id(), ann.id()]).await;
    ok_command(
        &mut sue,
        switchboard_protocol::TransferToTeam {
            chat,
            team: billing.id,
            note: String::new(),
        },
    )
    .await;
    bob.wait_for("Bob's team transfer", invited(chat)).await;
    ann.wait_for("Ann's team transfer", invited(chat)).await;
    ok_command(&mut ann, AnswerInvitation { chat, accept: true }).await;
    assert_eq!(
        live_reason(&mut bob, chat, "Bob's team transfer taken").await,
        Some(InvitationOutcome::Accepted { by: ann_ref })
    );
    assert!(
        !ann.socket().queued_events().any(expired(chat)),
        "the one who took it is not told it ended"
    );
    server.stop().await;
}
