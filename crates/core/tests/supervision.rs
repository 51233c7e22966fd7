//! Supervision through the core (issue 7) against a real server: a supervisor's core monitors a
//! chat invisibly (B21) without touching unread counts, joins it visibly (B20), replies, takes it
//! over, and reads the audit log.

use std::time::Duration;

use switchboard_core::{AudioOutput, Core, CoreConfig, CoreError, CredentialStore};
use switchboard_protocol::{
    AuditAction, ChatState, ErrorCode, LiveChatId, OperatorEvent, TicketStatus, TicketUpdate,
    Visibility, VisitorEvent,
};
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor,
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
