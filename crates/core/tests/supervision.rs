//! Supervision through the core (issue 7) against a real server: a supervisor's core monitors a
//! chat invisibly (B21) without touching unread counts, joins it visibly (B20), replies, takes it
//! over, and reads the audit log.

use std::time::Duration;

use switchboard_core::{
    AudioOutput, Collaboration, ConnectionState, Core, CoreConfig, CoreError, CoreEvent,
    CredentialStore, SentState,
};
use switchboard_protocol::{
    AnswerInvitation, AuditAction, Availability, ChatId, ChatState, ErrorCode, InvitationKind,
    LiveChatId, LockReplies, OperatorEvent, TicketStatus, TicketUpdate, TransferChat, Visibility,
    VisitorEvent,
};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor,
};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b21_b20_b25_supervisor_core_monitors_joins_takes_over_and_files_the_ticket() {
    let server = TestServer::start().await;
    // Started first: the core installs the TLS crypto provider the test clients use too.
    let data = tempfile::tempdir().expect("a data folder");
    let sue = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await
    .expect("start the core");
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Where is my anvil?").await.id;
    ann.wait_for(
        "Ann's ring",
        |event| matches!(event, OperatorEvent::RingStarted { chat: ringing } if *ringing == chat),
    )
    .await;
    ann.accept(chat).await.expect("Ann accepts");

    sue.sign_in(SUE, DEMO_PASSWORD).await.expect("Sue signs in");
    sue.wait_until(WAIT, |state| {
        state
            .chats
            .iter()
            .any(|console| console.summary.id == chat && console.summary.state == ChatState::Active)
    })
    .await
    .expect("Sue's console lists Ann's chat");

    let history = sue.monitor(chat).await.expect("Sue monitors");
    assert!(
        history
            .messages
            .iter()
            .any(|message| message.body == "Where is my anvil?")
    );
    let state = sue.state();
    assert_eq!(
        state.counters.unread, 0,
        "monitoring marks nothing and counts nothing"
    );
    let refused = sue
        .send(chat, "Hello from a monitor".to_owned(), Visibility::Public)
        .await
        .expect_err("a monitor cannot reply");
    assert!(
        matches!(&refused, CoreError::Api(error) if error.code == ErrorCode::Forbidden),
        "refused with Forbidden, got {refused:?}"
    );

    sue.join(chat).await.expect("Sue joins");
    visitor
        .wait_for("Sue joined", |event| {
            matches!(event, VisitorEvent::OperatorJoined { name } if name == "Sue Supervisor")
        })
        .await;
    sue.send(chat, "Sue here.".to_owned(), Visibility::Public)
        .await
        .expect("a joined supervisor replies");

    let summary = sue.take_over(chat, true).await.expect("Sue takes over");
    assert_eq!(
        summary.responsible.map(|operator| operator.name).as_deref(),
        Some("Sue Supervisor")
    );

    let log = sue.audit_log(LiveChatId(1)).await.expect("the audit log");
    let actions: Vec<AuditAction> = log.iter().map(|entry| entry.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::Monitored,
            AuditAction::Joined,
            AuditAction::TookOver
        ]
    );

    // B25: ending opens a ticket the core lists, reads and updates.
    sue.end_chat(chat).await.expect("Sue ends the chat");
    let tickets = sue.tickets().await.expect("the tickets");
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].subject, "Where is my anvil?");
    let updated = sue
        .update_ticket(
            tickets[0].id,
            TicketUpdate {
                subject: "Anvil".to_owned(),
                status: TicketStatus::Solved,
                assignee: None,
            },
        )
        .await
        .expect("update the ticket");
    assert_eq!(updated.status, TicketStatus::Solved);
    assert_eq!(updated.assignee, None);
    let detail = sue.ticket(tickets[0].id).await.expect("the ticket");
    assert!(
        detail
            .messages
            .iter()
            .any(|message| message.body == "Sue here.")
    );
    server.stop().await;
}

/// Waits until the core's collaboration state passes `check`.
async fn collaboration_where(
    core: &Core,
    what: &str,
    check: impl Fn(&Collaboration) -> bool,
) -> Collaboration {
    // Subscribed before reading, so no change falls between the two.
    let mut events = core.subscribe();
    let current = core.collaboration();
    if check(&current) {
        return current;
    }
    tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(CoreEvent::Collaboration { collaboration }) if check(&collaboration) => {
                    return collaboration;
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let current = core.collaboration();
                    if check(&current) {
                        return current;
                    }
                }
                Err(error) => panic!("the core's events ended: {error}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

fn rings(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::RingStarted { chat: ringing } if *ringing == chat)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b22_b23_b15_b13_collaboration_state_reaches_the_console_and_survives_an_app_restart() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let config = CoreConfig {
        server_url: server.url(),
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    };
    let bob = Core::start(config.clone()).await.expect("start the core");
    bob.sign_in(BOB, DEMO_PASSWORD).await.expect("Bob signs in");
    bob.wait_until(WAIT, |state| state.connection == ConnectionState::Connected)
        .await
        .expect("Bob is connected");
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;

    // Ann's chat: she transfers it to Bob with a note; Bob's console shows the transfer.
    let mut first_visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let anns = first_visitor.start_chat("Wile E.", "Anvil").await.id;
    ann.wait_for("Ann's ring", rings(anns)).await;
    ann.accept(anns).await.expect("Ann accepts");
    ann.command(TransferChat {
        chat: anns,
        operator: bob.state().operator.expect("Bob's profile").id,
        note: "Knows anvils".to_owned(),
    })
    .await
    .expect("Ann transfers");
    let shown = collaboration_where(&bob, "the transfer", |state| {
        state
            .invitations
            .iter()
            .any(|invitation| invitation.chat == anns)
    })
    .await;
    assert_eq!(shown.invitations[0].kind, InvitationKind::Transfer);
    assert_eq!(shown.invitations[0].note.as_deref(), Some("Knows anvils"));
    bob.answer_invitation(anns, false)
        .await
        .expect("Bob declines");
    assert!(
        bob.collaboration().invitations.is_empty(),
        "an answered invitation is no longer open"
    );

    // B15: Ann locks replies; Bob's console shows who holds the lock.
    ann.command(LockReplies {
        chat: anns,
        locked: true,
    })
    .await
    .expect("Ann locks replies");
    let locked = collaboration_where(&bob, "the reply lock", |state| {
        state.reply_locks.iter().any(|lock| lock.chat == anns)
    })
    .await;
    assert_eq!(locked.reply_locks[0].locked_by.name, "Ann Operator");

    // Bob's own chat: he transfers it to Ann, who declines; Bob sees the reason.
    let mut second_visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let bobs = second_visitor.start_chat("Road Runner", "Seeds").await.id;
    bob.wait_until(WAIT, |state| {
        state
            .chats
            .iter()
            .any(|console| console.summary.id == bobs && console.ringing)
    })
    .await
    .expect("Bob's ring");
    bob.accept(bobs).await.expect("Bob accepts");
    bob.colleagues().await.expect("Bob's colleagues");
    bob.transfer(bobs, ann.id(), "Ann knows seeds".to_owned())
        .await
        .expect("Bob transfers");
    let waiting = bob.collaboration();
    assert_eq!(waiting.sent.len(), 1);
    assert_eq!(waiting.sent[0].to, "Ann Operator");
    assert_eq!(waiting.sent[0].state, SentState::Waiting);
    ann.command(AnswerInvitation {
        chat: bobs,
        accept: false,
    })
    .await
    .expect("Ann declines");
    collaboration_where(&bob, "the decline", |state| {
        state
            .sent
            .iter()
            .any(|sent| sent.chat == bobs && sent.state == SentState::Declined)
    })
    .await;
    bob.dismiss_sent(bobs);
    assert!(bob.collaboration().sent.is_empty());

    // B13: the unsubscription is remembered across an app restart.
    bob.set_subscribed(bobs, false)
        .await
        .expect("Bob unsubscribes");
    bob.shutdown().await;
    drop(bob);
    let restarted = Core::start(config).await.expect("the core restarts");
    restarted
        .wait_until(WAIT, |state| state.connection == ConnectionState::Connected)
        .await
        .expect("the restored session connects");
    let remembered = restarted.collaboration();
    assert_eq!(remembered.unsubscribed, vec![bobs]);
    assert_eq!(
        remembered.reply_locks.len(),
        1,
        "the reply lock is remembered too"
    );
    restarted.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b22_b23_invitations_and_colleagues_availability_reach_the_console_after_a_snapshot() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    // Started first: the core installs the TLS crypto provider the test clients use too.
    let bob = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await
    .expect("start the core");
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let bob_id = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD)
        .await
        .id();
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Anvil").await.id;
    ann.wait_for("Ann's ring", rings(chat)).await;
    ann.accept(chat).await.expect("Ann accepts");
    // Bob's app is not signed in: the invitation only waits on the server.
    ann.command(switchboard_protocol::InviteOperator {
        chat,
        operator: bob_id,
    })
    .await
    .expect("Ann invites Bob");

    // A fresh cache has no cursor, so the server answers with a snapshot, which the open
    // invitations follow.
    bob.sign_in(BOB, DEMO_PASSWORD).await.expect("Bob signs in");
    let shown = collaboration_where(&bob, "the invitation", |state| {
        state
            .invitations
            .iter()
            .any(|invitation| invitation.chat == chat)
    })
    .await;
    assert_eq!(shown.invitations[0].kind, InvitationKind::Invite);
    assert_eq!(shown.invitations[0].from.name, "Ann Operator");
    // The picker's colleagues with their availability follow the snapshot too, and stay live.
    collaboration_where(&bob, "Ann online", |state| {
        state.colleagues.iter().any(|colleague| {
            colleague.name == "Ann Operator" && colleague.availability == Availability::Online
        })
    })
    .await;
    ann.set_availability(Availability::Away)
        .await
        .expect("Ann goes away");
    collaboration_where(&bob, "Ann away", |state| {
        state.colleagues.iter().any(|colleague| {
            colleague.name == "Ann Operator" && colleague.availability == Availability::Away
        })
    })
    .await;
    bob.answer_invitation(chat, true)
        .await
        .expect("Bob accepts the invitation he found");
    bob.shutdown().await;
    server.stop().await;
}

/// Makes the server's operator event log start after everything stored so far, as if it had
/// been trimmed: a client whose cursor is older gets a snapshot instead of a replay.
fn trim_operator_log(server: &TestServer) {
    let database =
        rusqlite::Connection::open(server.database_path()).expect("open the server database");
    database
        .busy_timeout(WAIT)
        .expect("wait for the server's writes");
    database
        .execute(
            "UPDATE operator_event_log SET trimmed_through = (SELECT MAX(id) FROM operator_events)",
            [],
        )
        .expect("trim the operator log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b22_b23_what_was_decided_while_away_shows_why_after_a_snapshot() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let config = CoreConfig {
        server_url: server.url(),
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    };
    let ann = Core::start(config.clone()).await.expect("start the core");
    ann.sign_in(ANN, DEMO_PASSWORD).await.expect("Ann signs in");
    let mut bob = TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await;

    // Three chats of Ann's: one transferred to Bob, Bob invited into the other two.
    let mut visitors = Vec::new();
    let mut chats = Vec::new();
    for name in ["Wile E.", "Road Runner", "Marvin"] {
        let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
        let chat = visitor.start_chat(name, "Anvil").await.id;
        ann.wait_until(WAIT, |state| {
            state
                .chats
                .iter()
                .any(|console| console.summary.id == chat && console.ringing)
        })
        .await
        .expect("Ann's ring");
        ann.accept(chat).await.expect("Ann accepts");
        visitors.push(visitor);
        chats.push(chat);
    }
    let (taken, declined, ended) = (chats[0], chats[1], chats[2]);
    ann.transfer(taken, bob.id(), "Knows anvils".to_owned())
        .await
        .expect("Ann transfers");
    ann.invite(declined, bob.id()).await.expect("Ann invites");
    ann.invite(ended, bob.id()).await.expect("Ann invites");
    assert!(
        ann.collaboration()
            .sent
            .iter()
            .all(|sent| sent.state == SentState::Waiting)
    );

    // Ann's app goes away; meanwhile Bob takes the transfer, declines an invitation and a
    // visitor leaves. Then the log no longer reaches back to Ann's cursor.
    ann.shutdown().await;
    drop(ann);
    bob.command(AnswerInvitation {
        chat: taken,
        accept: true,
    })
    .await
    .expect("Bob takes the transfer");
    bob.command(AnswerInvitation {
        chat: declined,
        accept: false,
    })
    .await
    .expect("Bob declines");
    visitors[2].leave().await;
    trim_operator_log(&server);

    // Back with a cursor the server cannot resume from: a snapshot, and each outcome says why.
    let ann = Core::start(config).await.expect("the core restarts");
    let shown = collaboration_where(&ann, "every outcome", |state| {
        state.sent.len() == 3
            && state
                .sent
                .iter()
                .all(|sent| sent.state != SentState::Waiting)
    })
    .await;
    let outcome = |chat: ChatId| {
        shown
            .sent
            .iter()
            .find(|sent| sent.chat == chat)
            .unwrap_or_else(|| panic!("chat {chat} is still listed: {shown:?}"))
    };
    assert_eq!(outcome(taken).state, SentState::Accepted, "{shown:?}");
    assert_eq!(outcome(taken).to, "Bob Operator", "taken by Bob");
    assert_eq!(
        outcome(declined).state,
        SentState::Declined,
        "the server stored the outcome"
    );
    assert_eq!(outcome(ended).state, SentState::ChatEnded);

    // Shown until dismissed.
    ann.dismiss_sent(taken);
    assert_eq!(ann.collaboration().sent.len(), 2);
    ann.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b22_b23_invitations_to_me_that_ended_while_away_say_why_after_a_snapshot() {
    use switchboard_protocol::{Endpoint, InvitationOutcome, InviteOperator, StaffLeaveChat};
    // Long enough that only the invitation left open runs out before Bob is back.
    let server = TestServer::start_tweaked(|config| config.invitation_timeout_seconds = 8).await;
    let data = tempfile::tempdir().expect("a data folder");
    let config = CoreConfig {
        server_url: server.url(),
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    };
    let bob = Core::start(config.clone()).await.expect("start the core");
    bob.sign_in(BOB, DEMO_PASSWORD).await.expect("Bob signs in");
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let team_path =
        switchboard_protocol::CreateTeam::PATH.replace("{id}", &LiveChatId(1).to_string());
    let billing: switchboard_protocol::Team = switchboard_server::test_support::post_json(
        &format!("{}{team_path}", server.url()),
        &switchboard_protocol::TeamRequest {
            name: "Billing".to_owned(),
            members: vec![bob_id(&bob), sue.id()],
        },
        Some(sue.token()),
    )
    .await
    .expect("Sue creates a team");

    let mut visitors = Vec::new();
    let mut chats = Vec::new();
    for name in ["Wile E.", "Road Runner", "Marvin", "Taz"] {
        let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
        let chat = visitor.start_chat(name, "Anvil").await.id;
        ann.wait_for("Ann's ring", rings(chat)).await;
        ann.accept(chat).await.expect("Ann accepts");
        visitors.push(visitor);
        chats.push(chat);
    }
    let (withdrawn, taken, ended, timed_out) = (chats[0], chats[1], chats[2], chats[3]);
    for chat in [withdrawn, ended, timed_out] {
        ann.command(InviteOperator {
            chat,
            operator: bob_id(&bob),
        })
        .await
        .expect("Ann invites Bob");
    }
    ann.command(switchboard_protocol::TransferToTeam {
        chat: taken,
        team: billing.id,
        note: String::new(),
    })
    .await
    .expect("Ann transfers to Billing");
    collaboration_where(&bob, "four invitations", |state| {
        state.invitations.len() == 4
    })
    .await;

    // Bob's app goes away; Ann leaves one chat, Sue takes the team transfer, a visitor leaves
    // and the last invitation runs out. Then the log no longer reaches back to Bob's cursor.
    bob.shutdown().await;
    drop(bob);
    ann.command(StaffLeaveChat { chat: withdrawn })
        .await
        .expect("Ann leaves");
    sue.command(AnswerInvitation {
        chat: taken,
        accept: true,
    })
    .await
    .expect("Sue takes it");
    visitors[2].leave().await;
    ann.wait_for("the last invitation running out", |event| {
        matches!(event, OperatorEvent::InvitationExpired { chat, .. } if *chat == timed_out)
    })
    .await;
    trim_operator_log(&server);

    let bob = Core::start(config).await.expect("the core restarts");
    let shown = collaboration_where(&bob, "why each ended", |state| {
        state.invitations.is_empty() && state.ended.len() == 4
    })
    .await;
    let why = |chat: ChatId| {
        shown
            .ended
            .iter()
            .find(|ended| ended.chat == chat)
            .map(|ended| ended.outcome.clone())
            .unwrap_or_else(|| panic!("chat {chat} is not listed: {shown:?}"))
    };
    assert!(
        matches!(why(withdrawn), InvitationOutcome::Withdrawn { by } if by.name == "Ann Operator"),
        "{shown:?}"
    );
    assert!(
        matches!(why(taken), InvitationOutcome::Accepted { by } if by.name == "Sue Supervisor"),
        "{shown:?}"
    );
    assert_eq!(why(ended), InvitationOutcome::ChatEnded);
    assert_eq!(why(timed_out), InvitationOutcome::TimedOut);

    // Shown until dismissed.
    bob.dismiss_outcomes(withdrawn).await;
    assert_eq!(bob.collaboration().ended.len(), 3);
    bob.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b22_b23_an_invitation_to_me_that_ends_while_connected_says_why_until_dismissed() {
    use switchboard_protocol::{
        Endpoint, InvitationOutcome, InviteOperator, JoinChat, StaffLeaveChat,
    };
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let bob = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await
    .expect("start the core");
    bob.sign_in(BOB, DEMO_PASSWORD).await.expect("Bob signs in");
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Anvil").await.id;
    ann.wait_for("Ann's ring", rings(chat)).await;
    ann.accept(chat).await.expect("Ann accepts");

    // Sue joins; Ann invites Bob and leaves before he answers, handing the chat to Sue.
    sue.command(JoinChat { chat }).await.expect("Sue joins");
    ann.command(InviteOperator {
        chat,
        operator: bob_id(&bob),
    })
    .await
    .expect("Ann invites Bob");
    collaboration_where(&bob, "Bob's invitation", |state| {
        state.invitations.len() == 1
    })
    .await;
    ann.command(StaffLeaveChat { chat })
        .await
        .expect("Ann leaves");
    let shown = collaboration_where(&bob, "why it ended", |state| {
        state.invitations.is_empty() && !state.ended.is_empty()
    })
    .await;
    assert_eq!(shown.ended.len(), 1, "{shown:?}");
    assert_eq!(shown.ended[0].chat, chat);
    assert_eq!(shown.ended[0].subject, "Anvil");
    assert!(
        matches!(&shown.ended[0].outcome, InvitationOutcome::Withdrawn { by } if by.name == "Ann Operator"),
        "{shown:?}"
    );

    // Sue transfers to a team of Bob and Ann; Ann takes it first: "taken by Ann" for Bob.
    let team_path =
        switchboard_protocol::CreateTeam::PATH.replace("{id}", &LiveChatId(1).to_string());
    let billing: switchboard_protocol::Team = switchboard_server::test_support::post_json(
        &format!("{}{team_path}", server.url()),
        &switchboard_protocol::TeamRequest {
            name: "Billing".to_owned(),
            members: vec![bob_id(&bob), ann.id()],
        },
        Some(sue.token()),
    )
    .await
    .expect("Sue creates a team");
    sue.command(switchboard_protocol::TransferToTeam {
        chat,
        team: billing.id,
        note: String::new(),
    })
    .await
    .expect("Sue transfers to Billing");
    collaboration_where(&bob, "Bob's team transfer", |state| {
        state.invitations.len() == 1
    })
    .await;
    ann.command(AnswerInvitation { chat, accept: true })
        .await
        .expect("Ann takes it");
    let shown = collaboration_where(&bob, "taken by Ann", |state| {
        state.invitations.is_empty()
            && state
                .ended
                .iter()
                .any(|ended| matches!(ended.outcome, InvitationOutcome::Accepted { .. }))
    })
    .await;
    assert_eq!(shown.ended.len(), 1, "one line per chat: {shown:?}");
    assert_eq!(shown.ended[0].team.as_deref(), Some("Billing"));
    assert!(
        matches!(&shown.ended[0].outcome, InvitationOutcome::Accepted { by } if by.name == "Ann Operator"),
        "{shown:?}"
    );

    // Shown until dismissed.
    bob.dismiss_outcomes(chat).await;
    assert!(bob.collaboration().ended.is_empty());
    bob.shutdown().await;
    server.stop().await;
}

fn bob_id(core: &Core) -> switchboard_protocol::OperatorId {
    core.state().operator.expect("signed in").id
}
