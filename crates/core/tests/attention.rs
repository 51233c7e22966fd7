//! The attention logic wired into a real core against a real server: the global mute reaches
//! the console even when nothing rings, the shortcuts act on the oldest ringing request, rings
//! stop when another operator accepts, and an unfocused operator is notified and flashed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// A server with Ann's and Bob's cores started (not signed in yet), each on its own folder.
struct TwoCores {
    server: TestServer,
    ann: Core,
    bob: Core,
    /// Kept for as long as the cores run: dropping a folder deletes their caches.
    _folders: [tempfile::TempDir; 2],
}

async fn two_cores() -> TwoCores {
    let server = TestServer::start().await;
    let ann_data = tempfile::tempdir().expect("a data folder");
    let bob_data = tempfile::tempdir().expect("a data folder");
    let ann = core(&server, &ann_data).await;
    let bob = core(&server, &bob_data).await;
    TwoCores {
        server,
        ann,
        bob,
        _folders: [ann_data, bob_data],
    }
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
    let TwoCores {
        server,
        ann,
        bob,
        _folders,
    } = two_cores().await;
    ann.sign_in(ANN, DEMO_PASSWORD).await.expect("ann signs in");
    bob.sign_in(BOB, DEMO_PASSWORD).await.expect("bob signs in");
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Maria", "pricing question").await.id;
    for core in [&ann, &bob] {
        core.wait_until(WAIT, |state| state.counters.ringing == 1)
            .await
            .expect("it rings for both");
    }
    assert_eq!(ann.ringing_requests().len(), 1);
    let summary = bob.accept(chat).await.expect("bob accepts");
    assert_eq!(summary.state, ChatState::Active);
    ann.wait_until(WAIT, |state| state.counters.ringing == 0)
        .await
        .expect("the ring stops for ann");
    assert!(ann.ringing_requests().is_empty());
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
    let TwoCores {
        server,
        ann,
        bob,
        _folders,
    } = two_cores().await;
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

    let TwoCores {
        server,
        ann,
        bob,
        _folders,
    } = two_cores().await;
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

/// Checks one state the console could be given: the header's ringing counter, the chats marked
/// ringing and the tray's ringing list name the same requests.
fn assert_ringing_agrees(state: &switchboard_core::CoreState) {
    let mut marked: Vec<ChatId> = state
        .chats
        .iter()
        .filter(|chat| chat.ringing)
        .map(|chat| chat.summary.id)
        .collect();
    marked.sort();
    let mut listed: Vec<ChatId> = state
        .ringing_requests
        .iter()
        .map(|request| request.chat)
        .collect();
    listed.sort();
    assert_eq!(
        state.counters.ringing as usize,
        listed.len(),
        "the counter and the ringing list differ: {:?} vs {listed:?}",
        state.counters
    );
    assert_eq!(
        marked, listed,
        "the chats marked ringing and the list differ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b41_the_ringing_counter_and_the_ringing_list_agree_on_every_update() {
    let TwoCores {
        server,
        ann,
        bob,
        _folders,
    } = two_cores().await;
    ann.sign_in(ANN, DEMO_PASSWORD).await.expect("ann signs in");
    bob.sign_in(BOB, DEMO_PASSWORD).await.expect("bob signs in");

    // Every update the console is sent is checked as it arrives, and a thread reads the state
    // as often as it can in between, the way the tray's timer may at any moment.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (ann, stop) = (ann.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0_u64;
            while !stop.load(Ordering::SeqCst) {
                assert_ringing_agrees(&ann.state());
                reads += 1;
                std::thread::yield_now();
            }
            reads
        })
    };
    let mut events = ann.subscribe();
    let (finished, mut until_finished) = tokio::sync::watch::channel(false);
    let watcher = {
        let ann = ann.clone();
        tokio::spawn(async move {
            let mut updates = 0_u64;
            loop {
                let event = tokio::select! {
                    _ = until_finished.changed() => return updates,
                    event = events.recv() => event,
                };
                match event {
                    Ok(CoreEvent::Chats { chats, counters }) => {
                        let marked = chats.iter().filter(|chat| chat.ringing).count();
                        assert_eq!(counters.ringing as usize, marked);
                        assert_ringing_agrees(&ann.state());
                        updates += 1;
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        assert_ringing_agrees(&ann.state());
                    }
                    Err(broadcast::error::RecvError::Closed) => panic!("the core stopped"),
                }
            }
        })
    };

    // The burst: six requests, then mutes and accepts by either operator and a visitor
    // leaving, without waiting in between.
    let mut visitors = Vec::new();
    let mut chats = Vec::new();
    for number in 0..6 {
        let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
        let chat = visitor
            .start_chat(&format!("Visitor {number}"), "burst")
            .await;
        chats.push(chat.id);
        visitors.push(visitor);
    }
    ann.wait_until(WAIT, |state| state.counters.ringing == 6)
        .await
        .expect("all six ring for ann");
    let (mine, bobs) = tokio::join!(
        async {
            ann.mute(chats[0]).await.expect("ann mutes one");
            ann.mute(chats[1]).await.expect("ann mutes another");
            ann.accept(chats[2]).await.expect("ann accepts one")
        },
        async {
            bob.accept(chats[3]).await.expect("bob accepts one");
            bob.accept(chats[4]).await.expect("bob accepts another")
        },
    );
    assert_eq!(mine.state, ChatState::Active);
    assert_eq!(bobs.state, ChatState::Active);
    visitors[5].leave().await;
    let settled = ann
        .wait_until(WAIT, |state| state.counters.ringing == 0)
        .await
        .expect("nothing rings any more");
    assert_eq!(settled.counters.awaiting, 2, "{:?}", settled.counters);
    assert!(ann.ringing_requests().is_empty());

    stop.store(true, Ordering::SeqCst);
    let reads = reader.join().expect("every state read agreed");
    assert!(reads > 0);
    finished.send_replace(true);
    let updates = watcher.await.expect("every update agreed");
    assert!(updates > 0, "the console was sent updates");
    ann.shutdown().await;
    bob.shutdown().await;
}
