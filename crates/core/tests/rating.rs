//! Chat ratings (B33) through the core against a real server: a core that never saw the live
//! `ChatRated` event (a fresh sign-in on a new device) still shows the rating, and the live
//! chat's rating switch is read and changed through the core, by supervisors only.

use std::time::Duration;

use switchboard_core::{AudioOutput, Core, CoreConfig, CoreError, CredentialStore};
use switchboard_protocol::{
    ChatId, ErrorCode, RateChat, RatingScore, RatingSettings, VisitorEvent, VisitorResponse,
};
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor,
};

const WAIT: Duration = Duration::from_secs(10);

async fn start_core(server: &TestServer, data: &std::path::Path) -> Core {
    Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await
    .expect("start the core")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b33_a_fresh_sign_in_shows_the_rating_it_never_saw_live() {
    let server = TestServer::start().await;
    // Started first: the core installs the TLS crypto provider the test clients use too.
    let data = tempfile::tempdir().expect("a data folder");
    let core = start_core(&server, data.path()).await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat: ChatId = visitor.start_chat("Vera", "Where is my parcel?").await.id;
    ann.accept(chat).await.expect("Ann accepts");
    ann.end(chat).await.expect("Ann ends the chat");
    let rating = match visitor
        .command(RateChat {
            chat,
            score: RatingScore::Good,
            comment: Some("<b>Quick</b>".to_owned()),
        })
        .await
    {
        Ok(VisitorResponse::Rate(rating)) => rating,
        other => panic!("rating answered {other:?}"),
    };

    // Sue's new device signs in after the rating: its snapshot carries it to the badge.
    core.sign_in(SUE, DEMO_PASSWORD)
        .await
        .expect("Sue signs in");
    let rated = |state: &switchboard_core::CoreState| {
        state
            .chats
            .iter()
            .find(|console| console.summary.id == chat)
            .and_then(|console| console.rating.clone())
    };
    let state = core
        .wait_until(WAIT, |state| rated(state).is_some())
        .await
        .expect("the rating reaches a core that never saw ChatRated");
    assert_eq!(rated(&state), Some(rating.clone()));

    // The chat's history (what opening it fetches) says the same and keeps it.
    core.messages(chat).await.expect("the history");
    assert_eq!(rated(&core.state()), Some(rating));
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b33_a_supervisor_switches_ratings_through_the_core_and_widgets_follow() {
    let server = TestServer::start().await;
    let sue_data = tempfile::tempdir().expect("a data folder");
    let ann_data = tempfile::tempdir().expect("a data folder");
    let sue = start_core(&server, sue_data.path()).await;
    let ann = start_core(&server, ann_data.path()).await;
    let profile = sue.sign_in(SUE, DEMO_PASSWORD).await.expect("Sue signs in");
    ann.sign_in(ANN, DEMO_PASSWORD).await.expect("Ann signs in");
    let live_chat = profile.live_chats[0].id;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Vera", "Hello").await.id;

    let before = ann
        .rating_settings(live_chat)
        .await
        .expect("a member reads the switch");
    assert!(before.enabled, "on by default");
    let refused = ann
        .set_rating_settings(live_chat, RatingSettings { enabled: false })
        .await;
    assert!(
        matches!(&refused, Err(CoreError::Api(error)) if error.code == ErrorCode::Forbidden),
        "an operator who does not supervise is refused: {refused:?}"
    );
    let saved = sue
        .set_rating_settings(live_chat, RatingSettings { enabled: false })
        .await
        .expect("the supervisor switches ratings off");
    assert!(!saved.enabled);
    assert!(
        !sue.rating_settings(live_chat)
            .await
            .expect("read back")
            .enabled
    );
    visitor
        .wait_for("the open widget hears of it", |event| {
            matches!(event, VisitorEvent::ChatUpdated { chat: updated }
                if updated.id == chat && !updated.rating_enabled)
        })
        .await;
    sue.shutdown().await;
    ann.shutdown().await;
}
