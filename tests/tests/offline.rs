//! Offline-first proofs (D01, D02) with faults injected between a real core and the real
//! in-process server: links cut mid-send, reconnects refused for a while, the server restarted
//! with commands in flight, event frames lost or duplicated, commands duplicated.
//!
//! The property every test checks: each reply the operator wrote reaches the visitor exactly
//! once and in the order written, and the operator's cache holds each message exactly once,
//! in order. Nothing written offline is lost.

use switchboard_core::protocol::{
    Author, ChatId, Message, OperatorEvent, VISITOR_WS_PATH, Visibility, VisitorEvent,
    VisitorResponse, VisitorSideAuthor,
};
use switchboard_core::{ConnectionState, Core, CoreState, OutboxState};
use switchboard_e2e::fault_proxy::FaultProxy;
use switchboard_e2e::{WAIT, headless_core, wait_for_state};
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, ProtocolSocket, TestServer, TestVisitor, websocket_url,
};
use tempfile::TempDir;

/// Ann's core behind a fault proxy, a visitor connected straight to the server, and the chat
/// between them, accepted by Ann.
struct Scene {
    proxy: FaultProxy,
    core: Core,
    visitor: TestVisitor,
    chat: ChatId,
    _cache: TempDir,
}

async fn scene(server: &TestServer) -> Scene {
    let proxy = FaultProxy::start(server.addr()).await;
    let cache = tempfile::tempdir().expect("a cache folder");
    let core = headless_core(&proxy.url(), cache.path()).await;
    core.sign_in(ANN, DEMO_PASSWORD).await.expect("sign in");
    wait_for_state(&core, "the core to connect", connected).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Rosa", "Is anyone there?").await.id;
    wait_for_state(&core, "the chat to ring", |state| {
        state
            .chats
            .iter()
            .any(|console| console.summary.id == chat && console.ringing)
    })
    .await;
    core.accept(chat).await.expect("Ann accepts");
    Scene {
        proxy,
        core,
        visitor,
        chat,
        _cache: cache,
    }
}

impl Scene {
    /// Takes the network away and keeps it away (reconnects refused) until the core has
    /// noticed; `refuse(false)` brings it back.
    async fn go_offline(&self) {
        self.proxy.refuse(true);
        self.proxy.cut();
        wait_for_state(&self.core, "the core to notice it is offline", reconnecting).await;
    }

    /// Sends `written` as replies one after the other in the background: each confirmed, or
    /// queued while the link is down (both are delivered later).
    fn send_in_background(&self, written: &[String]) -> tokio::task::JoinHandle<()> {
        let core = self.core.clone();
        let chat = self.chat;
        let written = written.to_vec();
        tokio::spawn(async move {
            for body in written {
                match core.send(chat, body, Visibility::Public).await {
                    Ok(_) | Err(switchboard_core::CoreError::Queued) => {}
                    Err(error) => panic!("a reply failed: {error}"),
                }
            }
        })
    }
}

fn connected(state: &CoreState) -> bool {
    state.connection == ConnectionState::Connected
}

fn reconnecting(state: &CoreState) -> bool {
    matches!(state.connection, ConnectionState::Reconnecting { .. })
}

fn replies(count: usize, label: &str) -> Vec<String> {
    (0..count)
        .map(|index| format!("{label} {index:03}"))
        .collect()
}

/// Operator replies as the visitor's widget would draw them after a fresh load: from the
/// server's snapshot on a new connection, which shows exactly what was delivered, each
/// delivered message once.
async fn delivered_to_visitor(server: &TestServer, visitor: &TestVisitor) -> Vec<String> {
    let mut fresh = ProtocolSocket::<VisitorEvent, VisitorResponse>::new();
    fresh
        .open(&websocket_url(&server.url(), VISITOR_WS_PATH))
        .await;
    fresh
        .hello(visitor.token(), None)
        .await
        .expect("the visitor token is accepted");
    let (_, snapshot) = fresh.next_event_with_seq().await;
    let VisitorEvent::Snapshot { messages, .. } = snapshot else {
        panic!("expected a snapshot, got {snapshot:?}");
    };
    fresh.disconnect().await;
    messages
        .iter()
        .filter(|message| matches!(message.from, VisitorSideAuthor::Operator { .. }))
        .map(|message| message.body.clone())
        .collect()
}

/// Ann's replies as her core's cache holds them, in order.
async fn in_operator_cache(core: &Core, chat: ChatId) -> Vec<String> {
    let messages: Vec<Message> = core.messages(chat).await.expect("the chat's messages");
    let ids: Vec<_> = messages.iter().map(|message| message.id).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        ids.len(),
        "a message is cached twice: {ids:?}"
    );
    messages
        .into_iter()
        .filter(|message| matches!(message.author, Author::Operator { .. }))
        .map(|message| message.body)
        .collect()
}

async fn wait_for_empty_outbox(core: &Core) {
    wait_for_state(core, "every queued command to be confirmed", |state| {
        connected(state) && state.outbox.is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d01_two_hundred_replies_written_offline_arrive_once_and_in_order() {
    let server = TestServer::start().await;
    let scene = scene(&server).await;
    let core = scene.core.clone();

    // The network goes away and stays away while Ann keeps writing.
    scene.go_offline().await;
    let written = replies(200, "offline reply");
    for body in &written {
        let queued = core
            .send(scene.chat, body.clone(), Visibility::Public)
            .await;
        assert!(
            matches!(queued, Err(switchboard_core::CoreError::Queued)),
            "offline, a reply is queued at once: {queued:?}"
        );
    }
    // Each shows at once as a pending local echo, in the order written.
    let state = core.state();
    let echoed: Vec<String> = state
        .outbox
        .iter()
        .filter(|item| item.state == OutboxState::Pending)
        .filter_map(|item| match &item.command {
            switchboard_core::protocol::OperatorCommand::Send(send) => Some(send.body.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(echoed, written, "the outbox echoes every reply in order");

    // The network is back; the OS would tell the shell, which tells the core.
    scene.proxy.refuse(false);
    core.network_changed();
    wait_for_empty_outbox(&core).await;

    assert_eq!(delivered_to_visitor(&server, &scene.visitor).await, written);
    assert_eq!(in_operator_cache(&core, scene.chat).await, written);
    core.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d01_a_link_cut_mid_send_with_duplicated_frames_loses_and_doubles_nothing() {
    let server = TestServer::start().await;
    let mut scene = scene(&server).await;
    let core = scene.core.clone();
    // A flaky network that repeats frames both ways: commands reach the server twice and
    // events and replies reach the core twice.
    scene.proxy.duplicate_to_server(true);
    scene.proxy.duplicate_to_client(true);

    let written = replies(60, "reply");
    let sender = scene.send_in_background(&written);
    // Cut mid-stream once some replies went through, and refuse reconnects for a while.
    scene
        .visitor
        .wait_for("the tenth reply", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.body == "reply 009")
        })
        .await;
    scene.go_offline().await;
    scene.proxy.refuse(false);
    sender.await.expect("the sender finishes");
    wait_for_empty_outbox(&core).await;

    assert_eq!(delivered_to_visitor(&server, &scene.visitor).await, written);
    assert_eq!(in_operator_cache(&core, scene.chat).await, written);
    core.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d02_a_server_restart_with_replies_in_flight_loses_and_doubles_nothing() {
    let server = TestServer::start().await;
    let mut scene = scene(&server).await;
    let core = scene.core.clone();

    let written = replies(40, "in flight");
    let sender = scene.send_in_background(&written);
    scene
        .visitor
        .wait_for("the fifth reply", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.body == "in flight 004")
        })
        .await;
    // Every session cut at once, mid-command, then the process goes away and comes back on
    // the same address and database.
    server.drop_connections();
    let server = server.restart().await;
    sender.await.expect("the sender finishes");
    wait_for_empty_outbox(&core).await;

    assert_eq!(delivered_to_visitor(&server, &scene.visitor).await, written);
    assert_eq!(in_operator_cache(&core, scene.chat).await, written);
    core.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d02_a_lost_event_frame_is_noticed_and_the_cache_repaired() {
    let server = TestServer::start().await;
    let mut scene = scene(&server).await;
    let core = scene.core.clone();
    // Open the chat once so its history counts as loaded: later messages come as events only.
    in_operator_cache(&core, scene.chat).await;
    let mut stream = core.stream_events();

    scene.proxy.drop_next_events(1);
    scene.visitor.send("first, lost on the way").await;
    scene.visitor.send("second, arrives after a hole").await;

    // The hole is noticed: the core drops its cursor and starts over from a snapshot.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, stream.recv()).await {
            Ok(Ok((_, OperatorEvent::Snapshot { .. }))) => break,
            Ok(Ok((_, OperatorEvent::MessagePosted { message })))
                if message.body == "second, arrives after a hole" =>
            {
                panic!("the event after the hole was applied as if nothing was missing");
            }
            Ok(_) => {}
            Err(_) => panic!("the core never noticed the missing event"),
        }
    }
    wait_for_state(&core, "the core to be back", connected).await;
    // ... and nothing is missing or doubled afterwards.
    let messages = core.messages(scene.chat).await.expect("messages");
    let visitor_bodies: Vec<&str> = messages
        .iter()
        .filter(|message| matches!(message.author, Author::Visitor { .. }))
        .map(|message| message.body.as_str())
        .collect();
    assert_eq!(
        visitor_bodies,
        [
            "Is anyone there?",
            "first, lost on the way",
            "second, arrives after a hole"
        ]
    );
    in_operator_cache(&core, scene.chat).await;
    core.shutdown().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d01_a_command_the_server_refuses_is_kept_failed_with_its_reason_until_discarded() {
    let server = TestServer::start().await;
    let scene = scene(&server).await;
    let core = scene.core.clone();

    // Offline, Ann ends the chat and then, still offline, replies in it: the end goes first,
    // so the server refuses the reply for good.
    scene.go_offline().await;
    assert!(matches!(
        core.end_chat(scene.chat).await,
        Err(switchboard_core::CoreError::Queued)
    ));
    assert!(matches!(
        core.send(scene.chat, "too late".to_owned(), Visibility::Public)
            .await,
        Err(switchboard_core::CoreError::Queued)
    ));
    scene.proxy.refuse(false);
    core.network_changed();
    let state = wait_for_state(&core, "the reply to be refused", |state| {
        connected(state)
            && state.outbox.len() == 1
            && matches!(state.outbox[0].state, OutboxState::Failed { .. })
    })
    .await;
    let failed = &state.outbox[0];
    let OutboxState::Failed { error } = &failed.state else {
        unreachable!()
    };
    assert!(!error.message.is_empty(), "the server's reason is kept");

    // Retrying sends it again under the same id: the server answers the same.
    core.retry(&failed.id).expect("retry");
    wait_for_state(&core, "the retry to be refused again", |state| {
        state.outbox.len() == 1 && matches!(state.outbox[0].state, OutboxState::Failed { .. })
    })
    .await;
    core.discard(&failed.id).expect("discard");
    assert!(core.state().outbox.is_empty());
    assert!(core.discard(&failed.id).is_err(), "gone after discarding");
    core.shutdown().await;
    server.stop().await;
}

/// Visitor messages as the operator's cache holds them, in order (each once: checked by
/// `in_operator_cache`'s uniqueness assertion over the same history).
async fn visitor_messages_in_operator_cache(core: &Core, chat: ChatId) -> Vec<String> {
    in_operator_cache(core, chat).await;
    let messages: Vec<Message> = core.messages(chat).await.expect("the chat's messages");
    messages
        .into_iter()
        .filter(|message| matches!(message.author, Author::Visitor { .. }))
        .map(|message| message.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d01_d02_random_fault_schedules_lose_and_double_nothing_either_way() {
    // Seeded, so a failing schedule replays exactly; each seed is a different mix of faults.
    for seed in [3_u64, 17, 2026] {
        let server = TestServer::start().await;
        let mut scene = scene(&server).await;
        let core = scene.core.clone();
        let mut random = fastrand::Rng::with_seed(seed);
        let mut written = Vec::new();
        let mut from_visitor = vec!["Is anyone there?".to_owned()];
        let mut schedule = Vec::new();
        for _ in 0..12 {
            let fault = random.usize(..5);
            schedule.push(fault);
            match fault {
                0 => {}
                1 => scene.proxy.cut(),
                // Written once the core knows it is offline, the replies are queued at once
                // (before, each would wait for its reply through the refusals).
                2 => scene.go_offline().await,
                3 => {
                    scene.proxy.duplicate_to_server(random.bool());
                    scene.proxy.duplicate_to_client(random.bool());
                }
                _ => scene.proxy.drop_next_events(1 + random.usize(..2)),
            }
            for _ in 0..1 + random.usize(..4) {
                let body = format!("seed {seed} reply {:03}", written.len());
                match core
                    .send(scene.chat, body.clone(), Visibility::Public)
                    .await
                {
                    Ok(_) | Err(switchboard_core::CoreError::Queued) => {}
                    Err(error) => panic!("seed {seed}: a reply failed: {error}"),
                }
                written.push(body);
            }
            if random.bool() {
                let body = format!("seed {seed} visitor {:03}", from_visitor.len());
                scene.visitor.send(&body).await;
                from_visitor.push(body);
            }
            // A refusal lasts one round; then the network is back, and sometimes the OS says so.
            scene.proxy.refuse(false);
            if random.bool() {
                core.network_changed();
            }
        }
        let context = format!("seed {seed}, faults {schedule:?}");
        scene.proxy.duplicate_to_server(false);
        scene.proxy.duplicate_to_client(false);
        scene.proxy.drop_next_events(0);
        core.network_changed();
        wait_for_empty_outbox(&core).await;

        // One more visitor message: a lost event before it shows as a hole once it arrives, so
        // the core repairs its cache (snapshot, history fetched again) before the check.
        let mut stream = core.stream_events();
        let last = format!("seed {seed} visitor last");
        scene.visitor.send(&last).await;
        from_visitor.push(last.clone());
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, stream.recv()).await {
                Ok(Ok((_, OperatorEvent::Snapshot { .. }))) => break,
                Ok(Ok((_, OperatorEvent::MessagePosted { message }))) if message.body == last => {
                    break;
                }
                Ok(_) => {}
                Err(_) => panic!("{context}: the last visitor message never reached the core"),
            }
        }
        wait_for_state(&core, "the core to be connected", connected).await;

        assert_eq!(
            delivered_to_visitor(&server, &scene.visitor).await,
            written,
            "{context}"
        );
        assert_eq!(
            in_operator_cache(&core, scene.chat).await,
            written,
            "{context}"
        );
        assert_eq!(
            visitor_messages_in_operator_cache(&core, scene.chat).await,
            from_visitor,
            "{context}"
        );
        core.shutdown().await;
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b42_search_answers_from_the_cache_with_the_server_gone() {
    let server = TestServer::start().await;
    let mut scene = scene(&server).await;
    let core = scene.core.clone();
    let mut stream = core.stream_events();
    scene.visitor.send("My parcel never arrived").await;
    core.send(
        scene.chat,
        "Sorry about the parcel, checking now".to_owned(),
        Visibility::Public,
    )
    .await
    .expect("the reply is confirmed");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, stream.recv()).await {
            Ok(Ok((_, OperatorEvent::MessagePosted { message })))
                if message.body == "My parcel never arrived" =>
            {
                break;
            }
            Ok(_) => {}
            Err(_) => panic!("the visitor's message never reached the core"),
        }
    }

    // The network is gone for good: search still answers, from the cache alone.
    server.stop().await;
    drop(scene.proxy);
    wait_for_state(&core, "the core to notice", reconnecting).await;
    let bodies = |found: &switchboard_core::SearchResults| {
        found
            .messages
            .iter()
            .map(|message| message.body.clone())
            .collect::<Vec<_>>()
    };
    // No chat open: chat names, and every chat's messages, newest first.
    let everywhere = core.search("parc", None).expect("search");
    assert_eq!(
        bodies(&everywhere),
        [
            "Sorry about the parcel, checking now",
            "My parcel never arrived"
        ]
    );
    assert_eq!(
        core.search("rosa", None)
            .expect("search")
            .chats
            .iter()
            .map(|chat| chat.summary.id)
            .collect::<Vec<_>>(),
        [scene.chat]
    );
    // The chat open: its history; another chat's id finds none of it.
    let inside = core.search("never arr", Some(scene.chat)).expect("search");
    assert_eq!(bodies(&inside), ["My parcel never arrived"]);
    let elsewhere = core
        .search("parcel", Some(ChatId(scene.chat.0 + 1000)))
        .expect("search");
    assert!(elsewhere.messages.is_empty());
    core.shutdown().await;
}
