//! Routing engine scenarios (issue 3) against a real server, real SQLite and real WebSockets.
//! Each test names the behaviour (BEHAVIOURS.md) it proves. Timers run on the real clock with
//! short settings; tests wait for the events timers cause, never for a fixed time.

use std::time::Duration;

use switchboard_protocol::{
    ChatId, ChatState, ClientId, ErrorCode, LiveChatId, Offer, OperatorEvent, OperatorId,
    RingStopReason, RoutingAction, RoutingMode, RoutingRule, RoutingSettings, RuleCondition,
    RuleFallback, RuleField, RuleMatch, StartChat, VISITOR_WS_PATH, VisitorCommand, VisitorEvent,
    VisitorResponse,
};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, ProtocolSocket, SUE, TestOperator, TestServer,
    TestVisitor, WAIT, websocket_url,
};

const DEMO_LIVE_CHAT: LiveChatId = LiveChatId(1);

fn rings(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::RingStarted { chat: ringing } if *ringing == chat)
}

fn any_ring(event: &OperatorEvent) -> bool {
    matches!(event, OperatorEvent::RingStarted { .. })
}

fn stops(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::RingStopped { chat: stopped, .. } if *stopped == chat)
}

fn offered(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::Offered { offer } if offer.chat == chat)
}

fn routing_changed(event: &OperatorEvent) -> bool {
    matches!(event, OperatorEvent::RoutingChanged { .. })
}

fn stop_reason(event: OperatorEvent) -> RingStopReason {
    match event {
        OperatorEvent::RingStopped { reason, .. } => reason,
        other => panic!("expected RingStopped, got {other:?}"),
    }
}

fn the_offer(event: OperatorEvent) -> Offer {
    match event {
        OperatorEvent::Offered { offer } => offer,
        other => panic!("expected Offered, got {other:?}"),
    }
}

fn settings(mode: RoutingMode, offer_timeout_seconds: u32) -> RoutingSettings {
    RoutingSettings {
        mode,
        offer_timeout_seconds,
        capacity: None,
        capacity_overrides: Vec::new(),
        rules: Vec::new(),
        topics: Vec::new(),
    }
}

async fn sign_in_all(server: &TestServer) -> (TestOperator, TestOperator, TestOperator) {
    (
        TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await,
        TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await,
        TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await,
    )
}

/// Sue (supervisor) saves the settings and takes herself out of routing, so offers go to Ann
/// (lowest id, never offered) and then Bob.
async fn offer_mode(sue: &mut TestOperator, server: &TestServer, timeout_seconds: u32) {
    sue.save_routing_settings(
        &server.url(),
        DEMO_LIVE_CHAT,
        &settings(RoutingMode::Offer, timeout_seconds),
    )
    .await
    .expect("a supervisor saves routing settings");
    sue.set_routing(None, false)
        .await
        .expect("Sue stops routing");
}

async fn start_chat_from(visitor: &mut TestVisitor, page_url: &str) -> ChatId {
    match visitor
        .command(StartChat {
            name: "Wile E.".into(),
            email: None,
            question: "Where is my anvil?".into(),
            page_url: Some(page_url.into()),
            topic: None,
            language: None,
            time_zone: None,
        })
        .await
    {
        Ok(VisitorResponse::Start(chat)) => chat.id,
        other => panic!("start chat answered with {other:?}"),
    }
}

fn history_actions(
    history: &[switchboard_protocol::RoutingHistoryEntry],
) -> Vec<(RoutingAction, Option<String>)> {
    history
        .iter()
        .map(|entry| {
            (
                entry.action,
                entry
                    .operator
                    .as_ref()
                    .map(|operator| operator.name.clone()),
            )
        })
        .collect()
}

#[tokio::test]
async fn b02_a_muted_chat_keeps_ringing_for_others_and_can_still_be_accepted_from_awaiting() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, _sue) = sign_in_all(&server).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Anvil?").await.id;
    ann.wait_for("Ann's ring", rings(chat)).await;
    bob.wait_for("Bob's ring", rings(chat)).await;
    ann.mute(chat).await.expect("Ann mutes");
    assert_eq!(
        stop_reason(ann.wait_for("Ann's ring to stop", stops(chat)).await),
        RingStopReason::Muted
    );
    // From her Awaiting list Ann can still take it; Bob's ring, still sounding, stops then.
    ann.accept(chat).await.expect("Ann accepts a muted chat");
    match stop_reason(bob.wait_for("Bob's ring to stop", stops(chat)).await) {
        RingStopReason::AcceptedBy { operator } => assert_eq!(operator.name, "Ann Operator"),
        other => panic!("Bob's ring stops because Ann accepted, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn b01_a_visitor_who_stays_away_past_the_grace_period_abandons_the_chat() {
    let server = TestServer::start_tweaked(|config| config.visitor_grace_seconds = 1).await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Anvil?").await.id;
    ann.wait_for("Ann's ring", rings(chat)).await;
    visitor.socket().disconnect().await;
    assert_eq!(
        stop_reason(ann.wait_for("the ring to stop", stops(chat)).await),
        RingStopReason::Abandoned
    );
    let abandoned = ann
        .wait_for("the abandoned chat", |event| {
            matches!(event, OperatorEvent::ChatUpserted { chat: summary } if summary.id == chat)
        })
        .await;
    match abandoned {
        OperatorEvent::ChatUpserted { chat } => assert_eq!(chat.state, ChatState::Abandoned),
        other => panic!("expected the chat, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn b06_full_operators_are_not_rung_and_b03_a_freed_slot_rings_for_the_waiting_chat() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, sue) = sign_in_all(&server).await;
    let mut one_each = settings(RoutingMode::RingAll, 30);
    one_each.capacity = Some(1);
    sue.save_routing_settings(&server.url(), DEMO_LIVE_CHAT, &one_each)
        .await
        .expect("save capacity");
    let mut first = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let first_chat = first.start_chat("First", "One").await.id;
    ann.wait_for("Ann's first ring", rings(first_chat)).await;
    ann.accept(first_chat).await.expect("Ann takes the first");
    let mut second = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let second_chat = second.start_chat("Second", "Two").await.id;
    bob.wait_for("Bob's ring for the second", rings(second_chat))
        .await;
    ann.end(first_chat).await.expect("Ann ends the first");
    // The first ring Ann hears after ending is the second chat: it did not ring while she
    // was full, and it rings as soon as her slot frees.
    assert_eq!(
        ann.wait_for("Ann's next ring", any_ring).await,
        OperatorEvent::RingStarted { chat: second_chat }
    );
    server.stop().await;
}

#[tokio::test]
async fn b05_offers_go_to_one_operator_with_a_payload_and_declining_moves_on() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue) = sign_in_all(&server).await;
    offer_mode(&mut sue, &server, 30).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let started = visitor.start_chat("Wile E.", "Where is my anvil?").await;
    let offer = the_offer(ann.wait_for("Ann's offer", offered(started.id)).await);
    assert_eq!(offer.subject, "Where is my anvil?");
    assert_eq!(offer.group, "Acme website");
    assert_eq!(offer.created_at, started.created_at);
    assert_eq!(
        offer.deadline.0 - offer.created_at.0,
        30_000,
        "the countdown runs 30 s from the offer"
    );
    ann.wait_for("Ann's ring", rings(started.id)).await;
    ann.decline(started.id).await.expect("Ann declines");
    assert_eq!(
        stop_reason(ann.wait_for("Ann's ring to stop", stops(started.id)).await),
        RingStopReason::Declined
    );
    assert_eq!(
        ann.wait_for("Ann's routing switch", routing_changed).await,
        OperatorEvent::RoutingChanged { routing: false }
    );
    // The first ring Bob hears is this chat's offer: it was never rung for him before.
    the_offer(bob.wait_for("Bob's offer", offered(started.id)).await);
    assert_eq!(
        bob.wait_for("Bob's ring", any_ring).await,
        OperatorEvent::RingStarted { chat: started.id }
    );
    let error = ann
        .decline(started.id)
        .await
        .expect_err("not Ann's offer now");
    assert_eq!(error.code, ErrorCode::Conflict);
    bob.accept(started.id).await.expect("Bob accepts");
    let history = sue
        .routing_history(&server.url(), started.id)
        .await
        .expect("the supervisor reads the history");
    assert_eq!(
        history_actions(&history),
        vec![
            (RoutingAction::Queued, None),
            (RoutingAction::Offered, Some("Ann Operator".into())),
            (RoutingAction::Declined, Some("Ann Operator".into())),
            (RoutingAction::Offered, Some("Bob Operator".into())),
            (RoutingAction::Accepted, Some("Bob Operator".into())),
        ]
    );
    assert!(
        history.windows(2).all(|pair| pair[0].at <= pair[1].at),
        "history entries are in time order"
    );
    let (status, _) = ann
        .routing_history(&server.url(), started.id)
        .await
        .expect_err("the history is for supervisors");
    assert_eq!(status, 403);
    server.stop().await;
}

#[tokio::test]
async fn b05_an_ignored_offer_times_out_turns_routing_off_and_goes_to_the_next_operator() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue) = sign_in_all(&server).await;
    offer_mode(&mut sue, &server, 1).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Anvil?").await.id;
    let first = the_offer(ann.wait_for("Ann's offer", offered(chat)).await);
    assert_eq!(
        stop_reason(ann.wait_for("Ann's offer to run out", stops(chat)).await),
        RingStopReason::TimedOut
    );
    assert_eq!(
        ann.wait_for("Ann's routing switch", routing_changed).await,
        OperatorEvent::RoutingChanged { routing: false }
    );
    let next = the_offer(bob.wait_for("Bob's offer", offered(chat)).await);
    assert!(
        next.deadline.0 >= first.deadline.0 + 1_000,
        "Bob's offer starts when Ann's ran out"
    );
    bob.accept(chat).await.expect("Bob accepts in time");
    let history = sue
        .routing_history(&server.url(), chat)
        .await
        .expect("history");
    let timed_out = history
        .iter()
        .find(|entry| entry.action == RoutingAction::TimedOut)
        .expect("the timeout is in the history");
    assert!(
        timed_out.at >= first.deadline,
        "no offer outlives its deadline early"
    );
    server.stop().await;
}

#[tokio::test]
async fn b08_an_offer_survives_a_server_restart_and_times_out_on_schedule() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue) = sign_in_all(&server).await;
    offer_mode(&mut sue, &server, 3).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Anvil?").await.id;
    let first = the_offer(ann.wait_for("Ann's offer", offered(chat)).await);

    let server = server.restart().await;
    ann.socket().wait_closed().await;
    bob.socket().wait_closed().await;
    ann.reconnect().await;
    bob.reconnect().await;
    assert!(ann.welcome().resumed && bob.welcome().resumed);
    // The stored deadline fires after the restart: Ann's offer ends (it is not offered to her
    // again) and Bob's starts.
    let stopped = ann.wait_for("Ann's offer to end", |event| {
        stops(chat)(event) || offered(chat)(event)
    });
    assert_eq!(stop_reason(stopped.await), RingStopReason::TimedOut);
    let next = the_offer(
        bob.wait_for("Bob's offer after the restart", offered(chat))
            .await,
    );
    assert!(next.deadline.0 >= first.deadline.0 + 3_000);
    bob.accept(chat).await.expect("Bob accepts");
    let history = sue_history(&server, chat).await;
    assert_eq!(
        history_actions(&history),
        vec![
            (RoutingAction::Queued, None),
            (RoutingAction::Offered, Some("Ann Operator".into())),
            (RoutingAction::TimedOut, Some("Ann Operator".into())),
            (RoutingAction::Offered, Some("Bob Operator".into())),
            (RoutingAction::Accepted, Some("Bob Operator".into())),
        ]
    );
    assert!(history[2].at >= first.deadline);
    server.stop().await;
}

#[tokio::test]
async fn b05_an_operator_reconnecting_with_a_snapshot_gets_their_offer_again() {
    let server = TestServer::start().await;
    let (mut ann, _bob, mut sue) = sign_in_all(&server).await;
    offer_mode(&mut sue, &server, 30).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Anvil?").await.id;
    let first = the_offer(ann.wait_for("Ann's offer", offered(chat)).await);
    let welcome = ann.reconnect_since(None).await;
    assert!(!welcome.resumed);
    match ann.snapshot() {
        Some(OperatorEvent::Snapshot { ringing, .. }) => assert_eq!(ringing, &vec![chat]),
        other => panic!("expected a snapshot, got {other:?}"),
    }
    let again = the_offer(ann.wait_for("the offer again", offered(chat)).await);
    assert_eq!(again, first, "same offer, same deadline");
    server.stop().await;
}

async fn sue_history(
    server: &TestServer,
    chat: ChatId,
) -> Vec<switchboard_protocol::RoutingHistoryEntry> {
    let sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    sue.routing_history(&server.url(), chat)
        .await
        .expect("the supervisor reads the history")
}

#[tokio::test]
async fn b07_the_operator_or_a_supervisor_flips_routing_and_availability() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue) = sign_in_all(&server).await;
    let state = sue
        .set_routing(Some(bob.id()), false)
        .await
        .expect("a supervisor turns Bob's routing off");
    assert!(!state.routing);
    assert_eq!(
        bob.wait_for("Bob's switch", routing_changed).await,
        OperatorEvent::RoutingChanged { routing: false }
    );
    let error = ann
        .set_routing(Some(bob.id()), true)
        .await
        .expect_err("Ann supervises nobody");
    assert_eq!(error.code, ErrorCode::Forbidden);
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Anvil?").await.id;
    ann.wait_for("Ann's ring", rings(chat)).await;
    bob.set_routing(None, true)
        .await
        .expect("Bob turns routing on");
    // Bob's first ring is this one: it did not ring for him while his routing was off.
    assert_eq!(
        bob.wait_for("Bob's ring", any_ring).await,
        OperatorEvent::RingStarted { chat }
    );
    sue.set_operator_availability(ann.id(), switchboard_protocol::Availability::Away)
        .await
        .expect("a supervisor sets Ann away");
    assert_eq!(
        stop_reason(ann.wait_for("Ann's ring to stop", stops(chat)).await),
        RingStopReason::Unavailable
    );
    let error = bob
        .set_operator_availability(ann.id(), switchboard_protocol::Availability::Online)
        .await
        .expect_err("Bob supervises nobody");
    assert_eq!(error.code, ErrorCode::Forbidden);
    server.stop().await;
}

/// Reads an operator's stored availability and active chats straight from the database.
fn stored_operator(server: &TestServer, operator: OperatorId) -> (String, i64) {
    let database =
        rusqlite::Connection::open(server.database_path()).expect("open the test database");
    database
        .query_row(
            "SELECT availability, (SELECT COUNT(*) FROM chats WHERE responsible_id = ?1 AND state = 'active')
             FROM operators WHERE id = ?1",
            [operator.0],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("read the operator")
}

#[tokio::test]
async fn b07_a_disconnect_makes_the_operator_offline_after_the_grace_period_keeping_their_chats_until_they_return()
 {
    let server = TestServer::start_tweaked(|config| config.operator_grace_seconds = 1).await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    // A slow sign-in may outlast the short grace period that started with the server.
    ann.set_availability(switchboard_protocol::Availability::Online)
        .await
        .expect("Ann is online");
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Anvil?").await.id;
    ann.wait_for("Ann's ring", rings(chat)).await;
    ann.accept(chat).await.expect("Ann accepts");
    ann.socket().disconnect().await;
    // The grace timer writes the new availability; wait for it (bounded), then check that
    // the chat stayed hers.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (availability, _) = stored_operator(&server, ann.id());
        if availability == "offline" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Ann is still {availability} after the grace period"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        stored_operator(&server, ann.id()).1,
        1,
        "her active chat is kept"
    );
    ann.reconnect().await;
    assert_eq!(
        ann.wait_for("the offline notice", |event| matches!(
            event,
            OperatorEvent::AvailabilityChanged { .. }
        ))
        .await,
        OperatorEvent::AvailabilityChanged {
            availability: switchboard_protocol::Availability::Offline
        }
    );
    // Reconnecting gives back the availability the grace period took.
    assert_eq!(
        ann.wait_for("the restored availability", |event| matches!(
            event,
            OperatorEvent::AvailabilityChanged { .. }
        ))
        .await,
        OperatorEvent::AvailabilityChanged {
            availability: switchboard_protocol::Availability::Online
        }
    );
    assert_eq!(stored_operator(&server, ann.id()).0, "online");
    server.stop().await;
}

#[tokio::test]
async fn b14_closing_the_tab_tells_the_visitor_and_puts_the_chat_back_in_the_queue() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue) = sign_in_all(&server).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Anvil?").await.id;
    ann.wait_for("Ann's ring", rings(chat)).await;
    ann.accept(chat).await.expect("Ann accepts");
    bob.wait_for("Bob's ring to stop", stops(chat)).await;
    let released = ann.release(chat).await.expect("Ann closes the tab");
    assert_eq!(released.state, ChatState::Pending);
    assert_eq!(released.responsible, None);
    assert_eq!(
        visitor
            .wait_for("the operator left", |event| matches!(
                event,
                VisitorEvent::OperatorLeft { .. }
            ))
            .await,
        VisitorEvent::OperatorLeft {
            name: "Ann Operator".into()
        }
    );
    bob.wait_for("Bob's ring again", rings(chat)).await;
    sue.wait_for("Sue's ring again", rings(chat)).await;
    let error = bob
        .release(chat)
        .await
        .expect_err("only the responsible releases");
    assert_eq!(error.code, ErrorCode::Forbidden);
    bob.accept(chat).await.expect("Bob takes it from the queue");
    let history = sue
        .routing_history(&server.url(), chat)
        .await
        .expect("history");
    assert_eq!(
        history_actions(&history),
        vec![
            (RoutingAction::Queued, None),
            (RoutingAction::Accepted, Some("Ann Operator".into())),
            (RoutingAction::Released, Some("Ann Operator".into())),
            (RoutingAction::Queued, None),
            (RoutingAction::Accepted, Some("Bob Operator".into())),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn b04_rules_route_by_page_url_to_named_operators_only() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue) = sign_in_all(&server).await;
    sue.set_routing(None, false)
        .await
        .expect("Sue stops routing");
    let mut with_rule = settings(RoutingMode::RingAll, 30);
    with_rule.rules = vec![RoutingRule {
        name: "Billing".into(),
        conditions: vec![RuleCondition {
            field: RuleField::PageUrl,
            matching: RuleMatch::Contains,
            value: "/billing".into(),
        }],
        operators: vec![bob.id()],
        teams: Vec::new(),
        fallback: RuleFallback::Wait,
    }];
    let saved = sue
        .save_routing_settings(&server.url(), DEMO_LIVE_CHAT, &with_rule)
        .await
        .expect("save the rule");
    assert_eq!(saved, with_rule);
    let mut billing = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let billing_chat = start_chat_from(&mut billing, "https://acme.example/billing/42").await;
    bob.wait_for("Bob's billing ring", rings(billing_chat))
        .await;
    let mut other = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let other_chat = start_chat_from(&mut other, "https://acme.example/anvils").await;
    // Ann's first ring is the other chat: the billing chat never rang for her.
    assert_eq!(
        ann.wait_for("Ann's ring", any_ring).await,
        OperatorEvent::RingStarted { chat: other_chat }
    );
    // Bob away: the rule waits for him rather than widening.
    bob.set_availability(switchboard_protocol::Availability::Away)
        .await
        .expect("Bob goes away");
    bob.wait_for("Bob's billing ring to stop", stops(billing_chat))
        .await;
    let mut widening = with_rule.clone();
    widening.rules[0].fallback = RuleFallback::WidenToAll;
    sue.save_routing_settings(&server.url(), DEMO_LIVE_CHAT, &widening)
        .await
        .expect("widen the rule");
    ann.wait_for("Ann's ring once the rule widens", rings(billing_chat))
        .await;
    server.stop().await;
}

#[tokio::test]
async fn b04_settings_are_validated_on_save_and_only_supervisors_may_change_them() {
    let server = TestServer::start().await;
    let (ann, _bob, sue) = sign_in_all(&server).await;
    let mut bad = settings(RoutingMode::RingAll, 30);
    bad.rules = vec![RoutingRule {
        name: "Broken".into(),
        conditions: vec![RuleCondition {
            field: RuleField::PageUrl,
            matching: RuleMatch::Regex,
            value: "([unclosed".into(),
        }],
        operators: vec![ann.id()],
        teams: Vec::new(),
        fallback: RuleFallback::Wait,
    }];
    let (status, error) = sue
        .save_routing_settings(&server.url(), DEMO_LIVE_CHAT, &bad)
        .await
        .expect_err("a broken regex is refused");
    assert_eq!((status, error.code), (400, ErrorCode::BadRequest));
    assert!(
        error.message.contains("rules[0]") && error.message.contains("Broken"),
        "the error names the rule: {}",
        error.message
    );
    let mut stranger = settings(RoutingMode::RingAll, 30);
    stranger.capacity_overrides = vec![switchboard_protocol::CapacityOverride {
        operator: OperatorId(999),
        capacity: Some(2),
    }];
    let (status, error) = sue
        .save_routing_settings(&server.url(), DEMO_LIVE_CHAT, &stranger)
        .await
        .expect_err("unknown operators are refused");
    assert_eq!(status, 400);
    assert!(
        error.message.contains("capacityOverrides[0]"),
        "{}",
        error.message
    );
    let (status, _) = ann
        .save_routing_settings(
            &server.url(),
            DEMO_LIVE_CHAT,
            &settings(RoutingMode::Offer, 30),
        )
        .await
        .expect_err("operators cannot change routing");
    assert_eq!(status, 403);
    server.stop().await;
}

#[tokio::test]
async fn a_visitor_starting_two_chats_at_once_gets_one_chat() {
    let server = TestServer::start().await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    // A second tab of the same visitor: same token, its own connection.
    let mut second_tab: ProtocolSocket<VisitorEvent, VisitorResponse> = ProtocolSocket::new();
    second_tab
        .open(&websocket_url(&server.url(), VISITOR_WS_PATH))
        .await;
    second_tab
        .hello(visitor.token(), None)
        .await
        .expect("the second tab says hello");
    let start = |question: &str| {
        VisitorCommand::from(StartChat {
            name: "Twin".into(),
            email: None,
            question: question.into(),
            page_url: None,
            topic: None,
            language: None,
            time_zone: None,
        })
    };
    let (first, second) = tokio::join!(
        visitor
            .socket()
            .command_with_id(ClientId("tab-one".into()), start("From tab one")),
        second_tab.command_with_id(ClientId("tab-two".into()), start("From tab two")),
    );
    let chat_of =
        |outcome: switchboard_protocol::Outcome<VisitorResponse>| match outcome.into_result() {
            Ok(VisitorResponse::Start(chat)) => chat.id,
            other => panic!("start answered with {other:?}"),
        };
    assert_eq!(
        chat_of(first),
        chat_of(second),
        "both tabs get the same chat"
    );
    let database =
        rusqlite::Connection::open(server.database_path()).expect("open the test database");
    let chats: i64 = database
        .query_row(
            "SELECT COUNT(*) FROM chats WHERE visitor_id = ?1",
            [visitor.id().0],
            |row| row.get(0),
        )
        .expect("count chats");
    assert_eq!(chats, 1);
    server.stop().await;
}
