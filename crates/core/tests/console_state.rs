//! What the console shows from the core's state, against a real server: the staff emoji switch
//! reaches a running core without a new sign-in (B32), and "(edited)" and "Seen" come back from
//! the cache after the app restarts (B16, read state).

use std::time::Duration;

use switchboard_core::{AudioOutput, Core, CoreConfig, CoreEvent, CredentialStore};
use switchboard_protocol::{
    ChatId, EmojiSettings, Endpoint, GetEmojiSettings, MessageId, Visibility, VisitorEvent,
    VisitorMarkRead,
};
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor, post_json,
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
async fn b32_the_staff_emoji_switch_reaches_a_running_core_without_a_new_sign_in() {
    let server = TestServer::start().await;
    // Started first: the core installs the TLS crypto provider the test clients use too.
    let data = tempfile::tempdir().expect("a data folder");
    let ann = start_core(&server, data.path()).await;
    let profile = ann.sign_in(ANN, DEMO_PASSWORD).await.expect("Ann signs in");
    let live_chat = profile.live_chats[0].id;
    assert!(profile.live_chats[0].staff_emoji, "on by default");
    ann.wait_until(WAIT, |state| {
        state.connection == switchboard_core::ConnectionState::Connected
    })
    .await
    .expect("Ann's core connects");
    let mut events = ann.subscribe();

    let sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let url = format!(
        "{}{}",
        server.url(),
        GetEmojiSettings::PATH.replace("{id}", &live_chat.to_string())
    );
    let off = EmojiSettings {
        staff: false,
        visitors: true,
    };
    let _: EmojiSettings = post_json(&url, &off, Some(sue.token()))
        .await
        .expect("Sue switches staff emoji off");

    let state = ann
        .wait_until(WAIT, |state| {
            state
                .operator
                .as_ref()
                .is_some_and(|operator| !operator.live_chats[0].staff_emoji)
        })
        .await
        .expect("Ann's core learns it live");
    assert_eq!(
        state.operator.expect("signed in").live_chats[0].id,
        live_chat
    );
    // The console hears it as a session change, the event it already redraws the profile from.
    let told = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(CoreEvent::Session {
                operator: Some(operator),
                ..
            }) = events.recv().await
                && !operator.live_chats[0].staff_emoji
            {
                return;
            }
        }
    })
    .await;
    assert!(told.is_ok(), "the console is told through a Session event");
    ann.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b16_edited_and_seen_come_back_from_the_cache_after_a_restart() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let ann = start_core(&server, data.path()).await;
    ann.sign_in(ANN, DEMO_PASSWORD).await.expect("Ann signs in");
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat: ChatId = visitor.start_chat("Wile E.", "Where is my anvil?").await.id;
    ann.wait_until(WAIT, |state| {
        state.chats.iter().any(|console| console.summary.id == chat)
    })
    .await
    .expect("the chat reaches Ann's core");
    ann.accept(chat).await.expect("Ann accepts");
    let reply = ann
        .send(chat, "It ships Monday".to_owned(), Visibility::Public)
        .await
        .expect("Ann replies");
    let edited = ann
        .edit_message(reply.id, "It ships Tuesday".to_owned())
        .await
        .expect("Ann edits her reply");
    assert!(edited.edited_at.is_some(), "the server stamps the edit");
    visitor
        .wait_for("the visitor sees the edit", |event| {
            matches!(event, VisitorEvent::MessageEdited { .. })
        })
        .await;
    visitor
        .command(VisitorMarkRead { up_to: reply.id })
        .await
        .expect("the visitor reads the reply");
    let seen = |state: &switchboard_core::CoreState| -> Option<MessageId> {
        state
            .chats
            .iter()
            .find(|console| console.summary.id == chat)
            .and_then(|console| console.visitor_read_up_to)
    };
    // Once the read event is applied, the chat state carries it.
    let state = ann
        .wait_until(WAIT, |state| seen(state) == Some(reply.id))
        .await
        .expect("the chat state carries the read position");
    assert_eq!(seen(&state), Some(reply.id));
    ann.shutdown().await;
    drop(ann);

    // The app restarts over the same data folder (the memory keychain forgets the session, so
    // Ann signs in again; the cache stays).
    let restarted = start_core(&server, data.path()).await;
    restarted
        .sign_in(ANN, DEMO_PASSWORD)
        .await
        .expect("Ann signs in again");
    let state = restarted
        .wait_until(WAIT, |state| seen(state).is_some())
        .await
        .expect("Seen survives the restart");
    assert_eq!(seen(&state), Some(reply.id));
    let messages = restarted.messages(chat).await.expect("the history");
    let stored = messages
        .iter()
        .find(|message| message.id == reply.id)
        .expect("the reply is there");
    assert_eq!(stored.body, "It ships Tuesday");
    assert_eq!(stored.edited_at, edited.edited_at, "\"(edited)\" survives");
    restarted.shutdown().await;
}
