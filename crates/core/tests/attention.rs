//! The attention logic wired into a real core against a real server: the global mute reaches
//! the console even when nothing rings, the shortcuts act on the oldest ringing request, rings
//! stop when another operator accepts, and an unfocused operator is notified and flashed.

use std::time::Duration;

use switchboard_core::protocol::{ChatId, ChatState};
use switchboard_core::{
    AudioOutput, ChatGroup, Core, CoreConfig, CoreEvent, CredentialStore, NotificationKind,
};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, TestServer, TestVisitor,
};
use tokio::sync::broadcast;

const WAIT: Duration = Duration::from_secs(20);

async fn core(server: &TestServer, data: &tempfile::TempDir) -> Core {
    Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await
    .expect("the core starts")
}

/// The first event `matches` accepts, or a failure after [`WAIT`].
async fn next_matching(
    events: &mut broadcast::Receiver<CoreEvent>,
    what: &str,
    matches: impl Fn(&CoreEvent) -> bool,
) -> CoreEvent {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => panic!("no {what} within {WAIT:?}"),
            Ok(Err(broadcast::error::RecvError::Closed)) => panic!("the core stopped"),
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Ok(event)) if matches(&event) => return event,
            Ok(Ok(_)) => {}
        }
    }
}

fn group_of(core: &Core, chat: ChatId) -> Option<ChatGroup> {
    core.state()
        .chats
        .iter()
        .find(|listed| listed.summary.id == chat)
        .map(|listed| listed.group)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d03_global_mute_while_nothing_rings_reaches_the_console_and_tray() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = core(&server, &data).await;
    core.sign_in(ANN, DEMO_PASSWORD).await.expect("sign in");
    let mut events = core.subscribe();
    core.set_ringer_muted(true);
    next_matching(&mut events, "a muted ringer event", |event| {
        matches!(event, CoreEvent::Ringer { muted: true, .. })
    })
    .await;
    assert!(core.state().ringer_muted);
    core.set_ringer_muted(false);
    next_matching(&mut events, "an unmuted ringer event", |event| {
        matches!(event, CoreEvent::Ringer { muted: false, .. })
    })
    .await;
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b02_shortcuts_mute_then_accept_the_oldest_ringing_request() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = core(&server, &data).await;
    core.sign_in(ANN, DEMO_PASSWORD).await.expect("sign in");
    let mut first_visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let first = first_visitor
        .start_chat("Maria", "pricing question")
        .await
        .id;
    core.wait_until(WAIT, |state| state.counters.ringing == 1)
        .await
        .expect("the first rings");
    let mut second_visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let second = second_visitor.start_chat("Paul", "shipping").await.id;
    core.wait_until(WAIT, |state| state.counters.ringing == 2)
        .await
        .expect("both ring");
    wait_for_ringing_requests(&core, 2).await;
    let order: Vec<ChatId> = core
        .ringing_requests()
        .iter()
        .map(|request| request.chat)
        .collect();
    assert_eq!(order, vec![first, second], "oldest first");

    let muted = core.mute_oldest_ringing().await.expect("mute");
    assert_eq!(muted, Some(first));
    assert_eq!(group_of(&core, first), Some(ChatGroup::Awaiting));
    let accepted = core.accept_oldest_ringing().await.expect("accept");
    assert_eq!(accepted.map(|summary| summary.id), Some(second));
    assert!(core.ringing_requests().is_empty());
    assert_eq!(
        core.mute_oldest_ringing().await.expect("nothing to mute"),
        None
    );
    core.wait_until(WAIT, |state| state.counters.my_chats == 1)
        .await
        .expect("the accepted chat is mine");
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d03_the_ring_stops_when_another_operator_accepts() {
    let server = TestServer::start().await;
    let ann_data = tempfile::tempdir().expect("a data folder");
    let bob_data = tempfile::tempdir().expect("a data folder");
    let ann = core(&server, &ann_data).await;
    let bob = core(&server, &bob_data).await;
    ann.sign_in(ANN, DEMO_PASSWORD).await.expect("ann signs in");
    bob.sign_in(BOB, DEMO_PASSWORD).await.expect("bob signs in");
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Maria", "pricing question").await.id;
    for core in [&ann, &bob] {
        core.wait_until(WAIT, |state| state.counters.ringing == 1)
            .await
            .expect("it rings for both");
    }
    wait_for_ringing_requests(&ann, 1).await;
    let summary = bob.accept(chat).await.expect("bob accepts");
    assert_eq!(summary.state, ChatState::Active);
    ann.wait_until(WAIT, |state| state.counters.ringing == 0)
        .await
        .expect("the ring stops for ann");
    wait_for_ringing_requests(&ann, 0).await;
    ann.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d05_an_unfocused_operator_is_notified_and_flashed() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = core(&server, &data).await;
    core.sign_in(ANN, DEMO_PASSWORD).await.expect("sign in");
    core.set_window_focused(false);
    let mut events = core.subscribe();
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Maria", "pricing question").await.id;
    let ring = next_matching(&mut events, "a ring notification", |event| {
        matches!(event, CoreEvent::Notify { .. })
    })
    .await;
    let CoreEvent::Notify { notification } = ring else {
        unreachable!("matched above");
    };
    assert_eq!(notification.chat, chat);
    assert_eq!(notification.kind, NotificationKind::Ringing);
    assert_eq!(notification.title, "Maria – pricing question");
    next_matching(&mut events, "a taskbar attention request", |event| {
        matches!(event, CoreEvent::UserAttention { wanted: true })
    })
    .await;

    core.accept(chat).await.expect("accept");
    next_matching(&mut events, "the attention request ending", |event| {
        matches!(event, CoreEvent::UserAttention { wanted: false })
    })
    .await;
    visitor.send("are you there?").await;
    let message = next_matching(&mut events, "a message notification", |event| {
        matches!(
            event,
            CoreEvent::Notify { notification } if notification.kind == NotificationKind::Message
        )
    })
    .await;
    let CoreEvent::Notify { notification } = message else {
        unreachable!("matched above");
    };
    assert_eq!(notification.chat, chat);
    assert_eq!(notification.body, "are you there?");
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d03_sound_settings_are_kept_across_restarts_and_a_bad_file_changes_nothing() {
    use switchboard_core::{CoreError, SoundChoice, SoundSettings};

    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let first = core(&server, &data).await;
    assert_eq!(first.sound_settings(), SoundSettings::default());
    let chosen = SoundSettings {
        volume: 35,
        ring: SoundChoice::BuiltIn,
        message: SoundChoice::Off,
        mention: SoundChoice::Off,
        ..SoundSettings::default()
    };
    first
        .set_sound_settings(chosen.clone())
        .await
        .expect("valid settings");
    let text = data.path().join("not-a-sound.mp3");
    std::fs::write(&text, "hello").expect("write");
    let refused = first
        .set_sound_settings(SoundSettings {
            ring: SoundChoice::File {
                path: text.display().to_string(),
            },
            ..chosen.clone()
        })
        .await;
    assert!(
        matches!(&refused, Err(CoreError::InvalidSetting(reason)) if reason.contains("not-a-sound.mp3")),
        "{refused:?}"
    );
    assert_eq!(
        first.sound_settings(),
        chosen,
        "a refused change changes nothing"
    );
    first.shutdown().await;
    drop(first);

    let second = core(&server, &data).await;
    assert_eq!(second.sound_settings(), chosen, "kept across a restart");
    second.shutdown().await;
}

/// Ann and Bob signed in; a visitor's chat rings for both and Bob accepts it.
async fn bobs_chat(server: &TestServer, ann: &Core, bob: &Core) -> (TestVisitor, ChatId) {
    ann.sign_in(ANN, DEMO_PASSWORD).await.expect("ann signs in");
    bob.sign_in(BOB, DEMO_PASSWORD).await.expect("bob signs in");
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Maria", "pricing question").await.id;
    bob.wait_until(WAIT, |state| state.counters.ringing == 1)
        .await
        .expect("it rings for bob");
    bob.accept(chat).await.expect("bob accepts");
    ann.wait_until(WAIT, |state| state.counters.ringing == 0)
        .await
        .expect("the ring stops for ann");
    (visitor, chat)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d05_an_invitation_to_me_notifies_and_can_be_accepted() {
    let server = TestServer::start().await;
    let ann_data = tempfile::tempdir().expect("a data folder");
    let bob_data = tempfile::tempdir().expect("a data folder");
    let ann = core(&server, &ann_data).await;
    let bob = core(&server, &bob_data).await;
    let (_visitor, chat) = bobs_chat(&server, &ann, &bob).await;
    let ann_id = ann.state().operator.expect("signed in").id;
    ann.set_window_focused(false);
    let mut events = ann.subscribe();
    bob.invite(chat, ann_id).await.expect("bob invites ann");
    let invited = next_matching(&mut events, "an invitation notification", |event| {
        matches!(
            event,
            CoreEvent::Notify { notification } if notification.kind == NotificationKind::Invitation
        )
    })
    .await;
    let CoreEvent::Notify { notification } = invited else {
        unreachable!("matched above");
    };
    assert_eq!(notification.chat, chat);
    assert_eq!(notification.title, "Maria – pricing question");
    assert!(
        notification.body.contains("invites you to this chat"),
        "{}",
        notification.body
    );
    // What the notification's Accept does.
    let joined = ann
        .answer_invitation(chat, true)
        .await
        .expect("ann accepts the invitation");
    assert_eq!(joined.id, chat);
    ann.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b26_a_colleagues_note_mentioning_me_notifies_me() {
    use switchboard_core::protocol::Visibility;

    let server = TestServer::start().await;
    let ann_data = tempfile::tempdir().expect("a data folder");
    let bob_data = tempfile::tempdir().expect("a data folder");
    let ann = core(&server, &ann_data).await;
    let bob = core(&server, &bob_data).await;
    let (_visitor, chat) = bobs_chat(&server, &ann, &bob).await;
    let ann_name = ann.state().operator.expect("signed in").name;
    ann.set_window_focused(false);
    let mut events = ann.subscribe();
    // As the console inserts it: "@" and the display name.
    let body = format!("@{ann_name} can you check the invoice?");
    bob.send(chat, body.clone(), Visibility::Note)
        .await
        .expect("bob writes a note");
    let mentioned = next_matching(&mut events, "a mention notification", |event| {
        matches!(
            event,
            CoreEvent::Notify { notification } if notification.kind == NotificationKind::Mention
        )
    })
    .await;
    let CoreEvent::Notify { notification } = mentioned else {
        unreachable!("matched above");
    };
    assert_eq!(notification.chat, chat);
    assert_eq!(notification.body, body);
    assert!(
        notification.title.ends_with("mentioned you"),
        "{}",
        notification.title
    );
    ann.shutdown().await;
    bob.shutdown().await;
}

/// Waits until the attention machine lists `count` ringing requests. The counters come from the
/// cache and the list from the attention machine, which sees the ring event a moment after the
/// chat's summary has reached the cache, so the two can differ for an instant.
async fn wait_for_ringing_requests(core: &switchboard_core::Core, count: usize) {
    let deadline = std::time::Instant::now() + WAIT;
    while core.ringing_requests().len() != count {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {count} ringing requests; have {:?}",
            core.ringing_requests()
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
