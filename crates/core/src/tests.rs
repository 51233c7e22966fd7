//! Core scenarios that need to reach inside: the outbox a previous run left behind.

use std::time::Duration;

use switchboard_protocol::{
    ClientFrame, ClientId, OperatorClientFrame, SendMessage, Visibility, VisitorEvent,
};
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, TestServer, TestVisitor,
};

use super::*;

const WAIT: Duration = Duration::from_secs(20);

fn config(server: &TestServer, data_dir: &std::path::Path) -> CoreConfig {
    CoreConfig {
        server_url: server.url(),
        data_dir: data_dir.to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d01_a_reply_left_in_the_outbox_is_delivered_exactly_once_after_restarts() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = Core::start(config(&server, data.path()))
        .await
        .expect("start");
    core.sign_in(ANN, DEMO_PASSWORD).await.expect("sign in");
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Paul", "Anyone?").await.id;
    core.wait_until(WAIT, |state| state.counters.ringing == 1)
        .await
        .expect("it rings");
    core.accept(chat).await.expect("accept");
    core.shutdown().await;

    // As if the app quit while a reply was still unconfirmed: it sits in the outbox.
    let frame: OperatorClientFrame = ClientFrame::Command {
        id: ClientId("queued-reply-1".to_owned()),
        command: SendMessage {
            chat,
            body: "Written just before the app closed".to_owned(),
            visibility: Visibility::Public,
        }
        .into(),
    };
    let frame = serde_json::to_string(&frame).expect("json");
    lock(&core.inner.cache)
        .outbox_add("queued-reply-1", &frame, now().0)
        .expect("queue");
    drop(core);

    for run in 0..2 {
        let restarted = Core::start(config(&server, data.path()))
            .await
            .expect("restart");
        if run == 0 {
            visitor
                .wait_for("the queued reply", |event| {
                    matches!(event, VisitorEvent::MessagePosted { message }
                        if message.body == "Written just before the app closed")
                })
                .await;
        }
        // The confirmation raises no console event, so poll the outbox (bounded).
        let deadline = tokio::time::Instant::now() + WAIT;
        while !lock(&restarted.inner.cache)
            .outbox()
            .is_ok_and(|queued| queued.is_empty())
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "run {run}: the outbox never emptied"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        restarted.shutdown().await;
        drop(restarted);
        // Run twice: the second run sends the same command id again, as a crash between
        // delivery and confirmation would.
        lock_outbox_again(data.path(), &frame);
    }

    // A marker sent after both runs: once it arrives, a duplicate would have arrived too.
    let core = Core::start(config(&server, data.path()))
        .await
        .expect("restart");
    core.wait_until(WAIT, |state| state.connection == ConnectionState::Connected)
        .await
        .expect("connected");
    core.send(chat, "Marker".to_owned(), Visibility::Public)
        .await
        .expect("marker");
    visitor
        .wait_for("the marker", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.body == "Marker")
        })
        .await;
    core.shutdown().await;
    let copies = visitor
        .raw_frames()
        .iter()
        .filter(|frame| frame.contains("Written just before the app closed"))
        .count();
    assert_eq!(copies, 1, "the visitor gets the queued reply exactly once");
    server.stop().await;
}

/// Puts the same frame back into the outbox of the cache in `data_dir`.
fn lock_outbox_again(data_dir: &std::path::Path, frame: &str) {
    let mut cache = Cache::open(data_dir).expect("open the cache");
    cache
        .outbox_add("queued-reply-1", frame, now().0)
        .expect("queue again");
}

/// A restored session's profile refresh that answers after someone else signed in on this core
/// (the in-process tests' second core restores the first one's token from the shared memory
/// store) must not put the previous person's profile over the new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_profile_refresh_of_a_previous_session_changes_nothing() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = Core::start(config(&server, data.path()))
        .await
        .expect("start");
    core.sign_in(ANN, DEMO_PASSWORD)
        .await
        .expect("Ann signs in");
    let anns_token = core.inner.token().expect("Ann's session");
    core.sign_in(switchboard_server::test_support::BOB, DEMO_PASSWORD)
        .await
        .expect("Bob signs in");
    // Ann's `GET /me`, answered only now.
    core.inner.clone().refresh_profile(anns_token).await;
    let operator = core.state().operator.expect("signed in");
    assert_eq!(operator.name, "Bob Operator");
    core.shutdown().await;
    server.stop().await;
}
