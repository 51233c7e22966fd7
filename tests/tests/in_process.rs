//! The operator core end to end, in one process: a real server on an ephemeral port, a real
//! visitor over the widget protocol, and two real cores (Ann and Bob) with their own caches.

use std::time::Duration;

use switchboard_core::protocol::{
    Author, ChatId, ChatState, OperatorEvent, RingStopReason, Visibility, VisitorEvent,
    VisitorSideAuthor,
};
use switchboard_core::{ChatGroup, ConnectionState, Core, CoreError, CoreState};
use switchboard_e2e::{WAIT, headless_core, wait_for_state};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, TestServer, TestVisitor,
};
use tempfile::TempDir;

struct Desk {
    core: Core,
    _cache: TempDir,
}

async fn signed_in(server: &TestServer, email: &str) -> Desk {
    let cache = tempfile::tempdir().expect("a cache folder");
    let core = headless_core(&server.url(), cache.path()).await;
    core.sign_in(email, DEMO_PASSWORD)
        .await
        .expect("sign-in works");
    wait_for_state(&core, "the core to connect", |state| {
        state.connection == ConnectionState::Connected
    })
    .await;
    Desk {
        core,
        _cache: cache,
    }
}

fn chat_in(state: &CoreState, chat: ChatId) -> Option<&switchboard_core::ConsoleChat> {
    state
        .chats
        .iter()
        .find(|console| console.summary.id == chat)
}

/// Waits for a protocol event on a core's stream.
async fn wait_for_stream_event(
    events: &mut tokio::sync::broadcast::Receiver<(u64, OperatorEvent)>,
    what: &str,
    matches: impl Fn(&OperatorEvent) -> bool,
) -> OperatorEvent {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok((_, event))) if matches(&event) => return event,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(closed)) => panic!("event stream ended while waiting for {what}: {closed}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b01_b10_ring_all_accept_reply_and_end_through_two_cores() {
    let server = TestServer::start().await;
    let ann = signed_in(&server, ANN).await;
    let bob = signed_in(&server, BOB).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;

    // B01: a new chat rings every eligible operator.
    let chat = visitor
        .start_chat("Vera Visitor", "Where is my order?")
        .await
        .id;
    for (name, desk) in [("Ann", &ann), ("Bob", &bob)] {
        let state = wait_for_state(
            &desk.core,
            &format!("the chat to ring for {name}"),
            |state| state.counters.ringing == 1 && chat_in(state, chat).is_some_and(|c| c.ringing),
        )
        .await;
        let console = chat_in(&state, chat).expect("the chat is listed");
        assert_eq!(
            console.group,
            ChatGroup::Unassigned,
            "a ringing chat is unassigned"
        );
        assert_eq!(console.summary.subject, "Where is my order?");
        assert_eq!(state.counters.unassigned, 1);
    }

    // Ann accepts: the ring stops for everyone, for Bob because Ann took it.
    let mut bob_stream = bob.core.stream_events();
    let accepted = ann
        .core
        .accept(chat)
        .await
        .expect("Ann accepts the ringing chat");
    assert_eq!(accepted.state, ChatState::Active);
    assert_eq!(
        accepted
            .responsible
            .as_ref()
            .map(|operator| operator.name.as_str()),
        Some("Ann Operator")
    );
    let stopped = wait_for_stream_event(&mut bob_stream, "Bob's ring to stop", |event| {
        matches!(event, OperatorEvent::RingStopped { chat: stopped, .. } if *stopped == chat)
    })
    .await;
    assert!(
        matches!(
            &stopped,
            OperatorEvent::RingStopped { reason: RingStopReason::AcceptedBy { operator }, .. }
                if operator.name == "Ann Operator"
        ),
        "Bob's ring stops because Ann accepted: {stopped:?}"
    );
    let bob_state = wait_for_state(&bob.core, "the chat to leave Bob's Unassigned", |state| {
        state.counters.ringing == 0
            && chat_in(state, chat).is_some_and(|c| c.group == ChatGroup::OthersActive)
    })
    .await;
    assert_eq!(bob_state.counters.unassigned, 0);
    let ann_state = wait_for_state(&ann.core, "the chat in Ann's My Chats", |state| {
        state.counters.ringing == 0
            && chat_in(state, chat).is_some_and(|c| c.group == ChatGroup::MyChats)
    })
    .await;
    assert_eq!(ann_state.counters.my_chats, 1);

    // B10: the visitor is told Ann joined.
    visitor
        .wait_for("Ann Operator joined", |event| {
            matches!(event, VisitorEvent::OperatorJoined { name } if name == "Ann Operator")
        })
        .await;

    // Ann's reply reaches the visitor; her note does not.
    let note = "internal: refund approved by finance";
    ann.core
        .send(chat, note.to_owned(), Visibility::Note)
        .await
        .expect("Ann adds a note");
    let reply = ann
        .core
        .send(
            chat,
            "Hello Vera, let me check.".to_owned(),
            Visibility::Public,
        )
        .await
        .expect("Ann replies");
    assert_eq!(
        reply.author,
        Author::Operator {
            id: reply_author_id(&ann),
            name: "Ann Operator".to_owned()
        }
    );
    visitor
        .wait_for("Ann's reply", |event| {
            matches!(event, VisitorEvent::MessagePosted { message }
                if message.body == "Hello Vera, let me check."
                    && message.from == VisitorSideAuthor::Operator { name: "Ann Operator".to_owned() })
        })
        .await;
    assert!(
        visitor
            .raw_frames()
            .iter()
            .all(|frame| !frame.contains(note)),
        "a note must never reach the visitor"
    );

    // The visitor's message lands in Ann's cache and counts as unread for her.
    visitor.send("Thanks! Order 1042.").await;
    wait_for_state(
        &ann.core,
        "the visitor's message to be unread for Ann",
        |state| state.counters.unread == 1 && chat_in(state, chat).is_some_and(|c| c.unread == 1),
    )
    .await;
    let history = ann.core.messages(chat).await.expect("Ann reads the chat");
    assert!(
        history
            .iter()
            .any(|message| message.body == "Thanks! Order 1042."
                && matches!(message.author, Author::Visitor { .. })),
        "the visitor's message is in Ann's cache: {history:?}"
    );
    ann.core.mark_read(chat).await.expect("mark read");
    assert_eq!(ann.core.state().counters.unread, 0);

    // Bob, who is not responsible, gets no unread alert (B12) but can load the history.
    let bob_history = bob
        .core
        .messages(chat)
        .await
        .expect("Bob loads the history");
    assert!(
        bob_history
            .iter()
            .any(|message| message.body == "Thanks! Order 1042.")
    );
    assert_eq!(bob.core.state().counters.unread, 0);

    // Ann ends the chat.
    let ended = ann.core.end_chat(chat).await.expect("Ann ends the chat");
    assert_eq!(ended.state, ChatState::Closed);
    wait_for_state(&bob.core, "the chat to close for Bob", |state| {
        chat_in(state, chat).is_some_and(|c| c.group == ChatGroup::Closed)
    })
    .await;
    assert_eq!(
        chat_in(&ann.core.state(), chat).map(|c| c.group),
        Some(ChatGroup::Closed)
    );

    ann.core.shutdown().await;
    bob.core.shutdown().await;
    server.stop().await;
}

fn reply_author_id(desk: &Desk) -> switchboard_core::protocol::OperatorId {
    desk.core.state().operator.expect("signed in").id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b02_muted_request_moves_to_awaiting_and_keeps_ringing_for_others() {
    let server = TestServer::start().await;
    let ann = signed_in(&server, ANN).await;
    let bob = signed_in(&server, BOB).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Max", "Is this in stock?").await.id;
    for desk in [&ann, &bob] {
        wait_for_state(&desk.core, "the chat to ring", |state| {
            chat_in(state, chat).is_some_and(|c| c.ringing)
        })
        .await;
    }

    bob.core.mute(chat).await.expect("Bob mutes the request");
    let bob_state = wait_for_state(&bob.core, "the chat in Bob's Awaiting", |state| {
        state.counters.ringing == 0
            && chat_in(state, chat).is_some_and(|c| c.group == ChatGroup::Awaiting && c.awaiting)
    })
    .await;
    assert_eq!(bob_state.counters.awaiting, 1);
    // Give a wrong "stop for everyone" a moment to show, then check Ann still rings.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ann_state = ann.core.state();
    assert!(
        chat_in(&ann_state, chat).is_some_and(|c| c.ringing),
        "muting is per operator: it still rings for Ann"
    );

    // From Awaiting, Bob can still start the chat.
    let accepted = bob
        .core
        .accept(chat)
        .await
        .expect("Bob accepts from Awaiting");
    assert_eq!(accepted.state, ChatState::Active);
    wait_for_state(&ann.core, "Ann's ring to stop", |state| {
        state.counters.ringing == 0
    })
    .await;

    ann.core.shutdown().await;
    bob.core.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d01_d02_a_restarted_core_renders_from_its_cache_then_resumes_the_stream() {
    let server = TestServer::start().await;
    let cache = tempfile::tempdir().expect("a cache folder");
    let config = switchboard_core::CoreConfig {
        server_url: server.url(),
        data_dir: cache.path().to_owned(),
        credentials: switchboard_core::CredentialStore::Memory,
        audio: switchboard_core::AudioOutput::Disabled,
    };
    let core = Core::start(config.clone()).await.expect("start");
    core.sign_in(ANN, DEMO_PASSWORD).await.expect("sign in");
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Rita", "Opening hours?").await.id;
    wait_for_state(&core, "the chat to ring", |state| {
        chat_in(state, chat).is_some_and(|c| c.ringing)
    })
    .await;
    core.shutdown().await;
    drop(core);

    // While Ann's app is closed, the visitor gives up.
    visitor.leave().await;

    let restarted = Core::start(config).await.expect("restart");
    // Before the network answers, the console draws from the cache: Ann, and the chat.
    let first = restarted.state();
    assert_eq!(
        first
            .operator
            .as_ref()
            .map(|operator| operator.name.as_str()),
        Some("Ann Operator")
    );
    assert!(
        chat_in(&first, chat).is_some(),
        "the cached chat is listed at once"
    );
    // Then it catches up on what it missed (D02): the chat was abandoned, nothing rings.
    let caught_up = wait_for_state(&restarted, "the missed abandonment to arrive", |state| {
        state.connection == ConnectionState::Connected
            && state.counters.ringing == 0
            && chat_in(state, chat).is_some_and(|c| c.summary.state == ChatState::Abandoned)
    })
    .await;
    assert_eq!(
        chat_in(&caught_up, chat).map(|c| c.group),
        Some(ChatGroup::Closed)
    );

    restarted.sign_out().await.expect("sign out");
    assert_eq!(restarted.state().connection, ConnectionState::SignedOut);
    assert!(
        restarted.state().chats.is_empty(),
        "sign-out forgets the cache"
    );
    restarted.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_and_leaves_the_core_signed_out() {
    let server = TestServer::start().await;
    let cache = tempfile::tempdir().expect("a cache folder");
    let core = headless_core(&server.url(), cache.path()).await;
    let error = core
        .sign_in(BOB, "not the password")
        .await
        .expect_err("a wrong password is refused");
    assert_eq!(
        error.code(),
        switchboard_core::protocol::ErrorCode::Unauthorized
    );
    assert_eq!(core.state().connection, ConnectionState::SignedOut);
    assert!(core.state().operator.is_none());
    core.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d02_a_cut_connection_reconnects_by_itself_and_catches_up() {
    let server = TestServer::start().await;
    let ann = signed_in(&server, ANN).await;
    let mut events = ann.core.subscribe();

    server.drop_connections();
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Otto", "Still there?").await.id;

    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(switchboard_core::CoreEvent::Connection {
                state: ConnectionState::Reconnecting { .. },
            })) => break,
            Ok(_) => {}
            Err(_) => panic!("the core never reported that it is reconnecting"),
        }
    }
    wait_for_state(
        &ann.core,
        "the reconnected core to ring for the new chat",
        |state| {
            state.connection == ConnectionState::Connected
                && chat_in(state, chat).is_some_and(|c| c.ringing)
        },
    )
    .await;
    ann.core.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d01_a_reply_sent_across_a_server_restart_is_delivered_exactly_once() {
    let server = TestServer::start().await;
    let ann = signed_in(&server, ANN).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Ida", "Hello?").await.id;
    wait_for_state(&ann.core, "the chat to ring", |state| {
        chat_in(state, chat).is_some_and(|c| c.ringing)
    })
    .await;
    ann.core.accept(chat).await.expect("Ann accepts");

    // The reply leaves while the server goes down; the core keeps it and resends it (same
    // command id) once the server is back.
    let sender = ann.core.clone();
    let reply = tokio::spawn(async move {
        sender
            .send(chat, "Sorry for the wait!".to_owned(), Visibility::Public)
            .await
    });
    let server = server.restart().await;
    // Either the core got its reply confirmed after the restart, or it saw the link drop first
    // and answered at once that the reply is queued: both are correct; what matters is that the
    // reply reaches the visitor exactly once.
    match reply.await.expect("the send task ends") {
        Ok(sent) => assert_eq!(sent.body, "Sorry for the wait!"),
        Err(error) => assert!(
            matches!(error, CoreError::Queued),
            "a reply sent across a restart is delivered or queued, not lost: {error}"
        ),
    }

    visitor.reconnect().await;
    visitor
        .wait_for("the reply sent across the restart", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.body == "Sorry for the wait!")
        })
        .await;
    // The first reply may have landed before the restart, so the core can still be in its
    // reconnect backoff here: a send now would (rightly) be queued. Wait for the link.
    wait_for_state(
        &ann.core,
        "Ann's core to reconnect after the restart",
        |state| state.connection == ConnectionState::Connected,
    )
    .await;
    ann.core
        .send(chat, "Anything else?".to_owned(), Visibility::Public)
        .await
        .expect("a second reply");
    visitor
        .wait_for("the second reply", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.body == "Anything else?")
        })
        .await;
    let history = ann.core.messages(chat).await.expect("history");
    let copies = history
        .iter()
        .filter(|message| message.body == "Sorry for the wait!")
        .count();
    assert_eq!(copies, 1, "the reply exists exactly once: {history:?}");
    ann.core.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_session_signs_the_core_out_and_forgets_the_token() {
    let server = TestServer::start().await;
    // Two cores of one process share the in-memory credential store, like two runs of the app
    // share the keychain: the second restores the first one's session.
    let first = signed_in(&server, ANN).await;
    let second_cache = tempfile::tempdir().expect("a cache folder");
    let second = headless_core(&server.url(), second_cache.path()).await;
    wait_for_state(&second, "the restored session to connect", |state| {
        state.connection == ConnectionState::Connected
    })
    .await;

    // Signing out revokes the token on the server; the next connection of the other core is
    // refused, and it signs out instead of retrying forever.
    first.core.sign_out().await.expect("sign out");
    server.drop_connections();
    let state = wait_for_state(&second, "the revoked core to sign out", |state| {
        state.connection == ConnectionState::SignedOut
    })
    .await;
    assert!(state.operator.is_none(), "a signed-out core shows nobody");
    assert!(state.chats.is_empty(), "a signed-out core shows no chats");

    // The token is gone from the store: a new start is signed out from the beginning.
    let third_cache = tempfile::tempdir().expect("a cache folder");
    let third = headless_core(&server.url(), third_cache.path()).await;
    assert_eq!(third.state().connection, ConnectionState::SignedOut);
    second.shutdown().await;
    third.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b16_an_edit_and_a_deletion_reach_the_visitor_and_a_colleagues_cache() {
    let server = TestServer::start().await;
    let ann = signed_in(&server, ANN).await;
    let bob = signed_in(&server, BOB).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor
        .start_chat("Vera Visitor", "Where is my order?")
        .await
        .id;
    wait_for_state(&ann.core, "the chat to ring for Ann", |state| {
        chat_in(state, chat).is_some_and(|c| c.ringing)
    })
    .await;
    ann.core.accept(chat).await.expect("Ann accepts");
    let reply = ann
        .core
        .send(chat, "It ships Monday.".to_owned(), Visibility::Public)
        .await
        .expect("Ann replies");
    let bob_history = bob.core.messages(chat).await.expect("Bob loads the chat");
    assert!(bob_history.iter().any(|message| message.id == reply.id));

    let mut bob_stream = bob.core.stream_events();
    let edited = ann
        .core
        .edit_message(reply.id, "It ships Tuesday.".to_owned())
        .await
        .expect("Ann edits her reply");
    assert_eq!(edited.body, "It ships Tuesday.");
    let ann_history = ann.core.messages(chat).await.expect("Ann's cache");
    assert!(
        ann_history
            .iter()
            .any(|message| message.id == reply.id && message.body == "It ships Tuesday."),
        "Ann's cache holds the edit at once: {ann_history:?}"
    );
    visitor
        .wait_for("the visitor sees the edit", |event| {
            matches!(event, VisitorEvent::MessageEdited { message }
                if message.id == reply.id && message.body == "It ships Tuesday.")
        })
        .await;
    wait_for_stream_event(
        &mut bob_stream,
        "Bob's edit event",
        |event| matches!(event, OperatorEvent::MessageEdited { message } if message.id == reply.id),
    )
    .await;
    let bob_history = bob.core.messages(chat).await.expect("Bob's cache");
    assert!(
        bob_history
            .iter()
            .any(|message| message.id == reply.id && message.body == "It ships Tuesday."),
        "Bob's cache holds the edit: {bob_history:?}"
    );

    ann.core
        .delete_message(chat, reply.id)
        .await
        .expect("Ann deletes her reply");
    visitor
        .wait_for("the visitor sees the deletion", |event| {
            matches!(event, VisitorEvent::MessageDeleted { message } if *message == reply.id)
        })
        .await;
    wait_for_stream_event(&mut bob_stream, "Bob's deletion event", |event| {
        matches!(event, OperatorEvent::MessageDeleted { message, .. } if *message == reply.id)
    })
    .await;
    for (name, desk) in [("Ann", &ann), ("Bob", &bob)] {
        let history = desk.core.messages(chat).await.expect("the cache");
        assert!(
            history.iter().all(|message| message.id != reply.id),
            "{name}'s cache no longer holds the deleted reply: {history:?}"
        );
    }

    ann.core.shutdown().await;
    bob.core.shutdown().await;
    server.stop().await;
}
