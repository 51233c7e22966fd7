//! Routing features of session 2 (issue 3) against a real server, real SQLite and real
//! WebSockets: teams (B04, for B22), rules on country, language and pre-chat topic (B04), the
//! offer's location (B05) and fairness that survives a restart (B05, B08).

use switchboard_protocol::{
    Ack, ChatId, ChatSummary, CreateTeam, DeleteTeam, Endpoint, ErrorCode, GetTeams, LiveChatId,
    OperatorEvent, RingStopReason, RoutingMode, RoutingRule, RoutingSettings, RuleCondition,
    RuleFallback, RuleField, RuleMatch, StartChat, Team, TeamId, TeamRequest, UpdateTeam,
    VisitorResponse,
};
use switchboard_server::test_support::{
    ANN, BOB, DEMO_EMBED_KEY, DEMO_PASSWORD, SUE, TestOperator, TestServer, TestVisitor, get_json,
    post_json,
};

const DEMO_LIVE_CHAT: LiveChatId = LiveChatId(1);

fn rings(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::RingStarted { chat: rung } if *rung == chat)
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

/// A `TeamsChanged` with teams in it (the one after the snapshot lists none yet).
fn teams_announced(event: &OperatorEvent) -> bool {
    matches!(event, OperatorEvent::TeamsChanged { teams } if !teams.is_empty())
}

fn upserted(chat: ChatId) -> impl Fn(&OperatorEvent) -> bool {
    move |event| matches!(event, OperatorEvent::ChatUpserted { chat: summary } if summary.id == chat)
}

fn settings(mode: RoutingMode) -> RoutingSettings {
    RoutingSettings {
        mode,
        offer_timeout_seconds: 30,
        capacity: None,
        capacity_overrides: Vec::new(),
        rules: Vec::new(),
        topics: Vec::new(),
    }
}

fn rule(name: &str, field: RuleField, matching: RuleMatch, value: &str) -> RoutingRule {
    RoutingRule {
        name: name.into(),
        conditions: vec![RuleCondition {
            field,
            matching,
            value: value.into(),
        }],
        operators: Vec::new(),
        teams: Vec::new(),
        fallback: RuleFallback::Wait,
    }
}

async fn sign_in_all(server: &TestServer) -> (TestOperator, TestOperator, TestOperator) {
    (
        TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await,
        TestOperator::sign_in(&server.url(), BOB, DEMO_PASSWORD).await,
        TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await,
    )
}

/// Ann, Bob and Sue signed in; Sue, the supervisor, takes no chats herself.
async fn sign_in_sue_not_routing(
    server: &TestServer,
) -> (TestOperator, TestOperator, TestOperator) {
    let (ann, bob, mut sue) = sign_in_all(server).await;
    sue.set_routing(None, false)
        .await
        .expect("Sue stops routing");
    (ann, bob, sue)
}

/// Like [`sign_in_sue_not_routing`], with the demo live chat offering chats one operator at a
/// time (B05).
async fn sign_in_offer_mode(server: &TestServer) -> (TestOperator, TestOperator, TestOperator) {
    let (ann, bob, sue) = sign_in_sue_not_routing(server).await;
    sue.save_routing_settings(&server.url(), DEMO_LIVE_CHAT, &settings(RoutingMode::Offer))
        .await
        .expect("offer mode");
    (ann, bob, sue)
}

/// A visitor behind a proxy that says France, with this browser context, starts a chat; what
/// staff see of it.
async fn chat_behind_a_french_proxy(
    server: &TestServer,
    language: Option<&str>,
    time_zone: &str,
) -> ChatSummary {
    let (_ann, _bob, mut sue) = sign_in_all(server).await;
    let mut visitor =
        TestVisitor::connect_with_headers(&server.url(), DEMO_EMBED_KEY, &[("CF-IPCountry", "FR")])
            .await;
    let chat = start_with_context(&mut visitor, None, language, Some(time_zone))
        .await
        .expect("chat");
    match sue.wait_for("the chat", upserted(chat)).await {
        OperatorEvent::ChatUpserted { chat } => chat,
        other => panic!("{other:?}"),
    }
}

fn with_path(server: &TestServer, path: &str, id: i64) -> String {
    format!("{}{}", server.url(), path.replace("{id}", &id.to_string()))
}

async fn create_team(
    server: &TestServer,
    by: &TestOperator,
    name: &str,
    members: Vec<switchboard_protocol::OperatorId>,
) -> Result<Team, (u16, switchboard_protocol::ApiError)> {
    post_json(
        &with_path(server, CreateTeam::PATH, DEMO_LIVE_CHAT.0),
        &TeamRequest {
            name: name.into(),
            members,
        },
        Some(by.token()),
    )
    .await
}

/// Starts a chat with the context a browser sends.
async fn start_with_context(
    visitor: &mut TestVisitor,
    topic: Option<&str>,
    language: Option<&str>,
    time_zone: Option<&str>,
) -> Result<ChatId, switchboard_protocol::ApiError> {
    match visitor
        .command(StartChat {
            name: "Wile E.".into(),
            email: None,
            question: "Where is my anvil?".into(),
            page_url: Some("https://acme.example/anvils".into()),
            topic: topic.map(Into::into),
            language: language.map(Into::into),
            time_zone: time_zone.map(Into::into),
        })
        .await?
    {
        VisitorResponse::Start(chat) => Ok(chat.id),
        other => panic!("start chat answered with {other:?}"),
    }
}

#[tokio::test]
async fn b04_teams_are_managed_by_supervisors_validated_and_announced_to_members() {
    let server = TestServer::start().await;
    let (mut ann, bob, sue) = sign_in_all(&server).await;
    let (status, error) = create_team(&server, &ann, "Billing", vec![bob.id()])
        .await
        .expect_err("an operator cannot create teams");
    assert_eq!((status, error.code), (403, ErrorCode::Forbidden));
    let (status, error) = create_team(&server, &sue, "  ", vec![bob.id()])
        .await
        .expect_err("a team needs a name");
    assert_eq!(status, 400);
    assert!(error.message.contains("name"), "{}", error.message);
    let (status, error) = create_team(
        &server,
        &sue,
        "Billing",
        vec![switchboard_protocol::OperatorId(999)],
    )
    .await
    .expect_err("members must belong to the live chat");
    assert_eq!(status, 400);
    assert!(error.message.contains("members[0]"), "{}", error.message);

    let billing = create_team(&server, &sue, "Billing", vec![bob.id(), ann.id()])
        .await
        .expect("Sue creates a team");
    assert_eq!(billing.name, "Billing");
    assert_eq!(billing.live_chat, DEMO_LIVE_CHAT);
    let mut sorted = vec![ann.id(), bob.id()];
    sorted.sort();
    assert_eq!(billing.members, sorted);
    // Every member of the live chat hears about it, operators included.
    match ann.wait_for("Ann hears of the team", teams_announced).await {
        OperatorEvent::TeamsChanged { teams } => assert_eq!(teams, vec![billing.clone()]),
        other => panic!("{other:?}"),
    }
    let (status, error) = create_team(&server, &sue, "billing", Vec::new())
        .await
        .expect_err("team names are unique per live chat");
    assert_eq!((status, error.code), (409, ErrorCode::Conflict));

    let renamed: Team = post_json(
        &with_path(&server, UpdateTeam::PATH, billing.id.0),
        &TeamRequest {
            name: "Accounts".into(),
            members: vec![bob.id()],
        },
        Some(sue.token()),
    )
    .await
    .expect("Sue updates the team");
    assert_eq!(
        (renamed.name.as_str(), renamed.members.clone()),
        ("Accounts", vec![bob.id()])
    );
    let listed: Vec<Team> = get_json(
        &format!("{}{}", server.url(), GetTeams::PATH),
        Some(ann.token()),
    )
    .await
    .expect("members list the teams");
    assert_eq!(listed, vec![renamed.clone()]);

    // A rule naming the team keeps it from being deleted.
    let mut with_rule = settings(RoutingMode::RingAll);
    let mut routed = rule(
        "To accounts",
        RuleField::PageUrl,
        RuleMatch::Contains,
        "/billing",
    );
    routed.teams = vec![renamed.id];
    with_rule.rules = vec![routed];
    sue.save_routing_settings(&server.url(), DEMO_LIVE_CHAT, &with_rule)
        .await
        .expect("a rule may route to a team");
    let (status, error) = post_json::<Ack>(
        &with_path(&server, DeleteTeam::PATH, renamed.id.0),
        &(),
        Some(sue.token()),
    )
    .await
    .expect_err("a team in use cannot be deleted");
    assert_eq!(status, 409);
    assert!(error.message.contains("To accounts"), "{}", error.message);
    sue.save_routing_settings(
        &server.url(),
        DEMO_LIVE_CHAT,
        &settings(RoutingMode::RingAll),
    )
    .await
    .expect("the rule goes");
    post_json::<Ack>(
        &with_path(&server, DeleteTeam::PATH, renamed.id.0),
        &(),
        Some(sue.token()),
    )
    .await
    .expect("an unused team is deleted");
    let (status, _) = post_json::<Ack>(
        &with_path(&server, DeleteTeam::PATH, renamed.id.0),
        &(),
        Some(sue.token()),
    )
    .await
    .expect_err("gone");
    assert_eq!(status, 404);

    // A rule naming a team that is not there is refused on save.
    let mut dangling = settings(RoutingMode::RingAll);
    let mut routed = rule("Ghosts", RuleField::PageUrl, RuleMatch::Contains, "/x");
    routed.teams = vec![TeamId(4242)];
    dangling.rules = vec![routed];
    let (status, error) = sue
        .save_routing_settings(&server.url(), DEMO_LIVE_CHAT, &dangling)
        .await
        .expect_err("unknown teams are refused");
    assert_eq!(status, 400);
    assert!(error.message.contains("team 4242"), "{}", error.message);
    server.stop().await;
}

#[tokio::test]
async fn b04_a_rule_routes_to_a_team_and_follows_its_membership() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, sue) = sign_in_sue_not_routing(&server).await;
    let team = create_team(&server, &sue, "Billing", vec![bob.id()])
        .await
        .expect("team");
    let mut with_rule = settings(RoutingMode::RingAll);
    let mut routed = rule(
        "Billing",
        RuleField::PageUrl,
        RuleMatch::Contains,
        "/anvils",
    );
    routed.teams = vec![team.id];
    with_rule.rules = vec![routed];
    sue.save_routing_settings(&server.url(), DEMO_LIVE_CHAT, &with_rule)
        .await
        .expect("rule to the team");

    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Wile E.", "Anvil?").await.id;
    bob.wait_for("the team member rings", rings(chat)).await;

    // Ann joins the team and Bob leaves it: the pending chat follows the team.
    let _: Team = post_json(
        &with_path(&server, UpdateTeam::PATH, team.id.0),
        &TeamRequest {
            name: "Billing".into(),
            members: vec![ann.id()],
        },
        Some(sue.token()),
    )
    .await
    .expect("membership changes");
    ann.wait_for("Ann rings as the new member", rings(chat))
        .await;
    match bob.wait_for("Bob's ring stops", stops(chat)).await {
        OperatorEvent::RingStopped { reason, .. } => {
            assert_eq!(reason, RingStopReason::Unavailable)
        }
        other => panic!("{other:?}"),
    }
    ann.accept(chat).await.expect("Ann accepts");
    server.stop().await;
}

#[tokio::test]
async fn b04_rules_on_topic_language_and_country_match_what_the_widget_sends() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, mut sue) = sign_in_all(&server).await;
    let mut routed = settings(RoutingMode::RingAll);
    routed.topics = vec!["Billing".into(), "Sales".into()];
    let mut by_topic = rule("Sales desk", RuleField::Topic, RuleMatch::Equals, "sales");
    by_topic.operators = vec![bob.id()];
    let mut by_language = rule("German", RuleField::Language, RuleMatch::Prefix, "de");
    by_language.operators = vec![ann.id()];
    let mut by_country = rule("France", RuleField::Country, RuleMatch::Equals, "FR");
    by_country.operators = vec![sue.id()];
    routed.rules = vec![by_topic, by_language, by_country];
    sue.save_routing_settings(&server.url(), DEMO_LIVE_CHAT, &routed)
        .await
        .expect("rules on topic, language and country");

    // The widget learns the topics from its session.
    let mut sales = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    assert_eq!(sales.topics(), ["Billing".to_owned(), "Sales".to_owned()]);
    let refused = start_with_context(&mut sales, Some("Hacking"), None, None)
        .await
        .expect_err("only offered topics are accepted");
    assert_eq!(refused.code, ErrorCode::BadRequest);
    let sales_chat = start_with_context(&mut sales, Some("Sales"), Some("de-DE"), None)
        .await
        .expect("sales chat");
    // The first matching rule wins: topic before language.
    assert_eq!(
        bob.wait_for("Bob's sales ring", any_ring).await,
        OperatorEvent::RingStarted { chat: sales_chat }
    );

    let mut german = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let german_chat = start_with_context(&mut german, Some("Billing"), Some("de-AT"), None)
        .await
        .expect("German chat");
    assert_eq!(
        ann.wait_for("Ann's German ring", any_ring).await,
        OperatorEvent::RingStarted { chat: german_chat }
    );

    let mut french = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let french_chat = start_with_context(&mut french, None, Some("fr-FR"), Some("Europe/Paris"))
        .await
        .expect("French chat");
    assert_eq!(
        sue.wait_for("Sue's French ring", any_ring).await,
        OperatorEvent::RingStarted { chat: french_chat }
    );
    // Each routed operator takes their chat; the chat summary staff get carries what the rules
    // saw (the customer panel shows it).
    bob.accept(sales_chat).await.expect("Bob takes sales");
    ann.accept(german_chat).await.expect("Ann takes German");
    let summary: ChatSummary = sue.accept(french_chat).await.expect("Sue takes French");
    assert_eq!(summary.visitor.country.as_deref(), Some("FR"));
    assert_eq!(summary.visitor.location.as_deref(), Some("Paris, France"));
    assert_eq!(summary.visitor.language.as_deref(), Some("fr-FR"));
    assert_eq!(summary.visitor.time_zone.as_deref(), Some("Europe/Paris"));
    assert_eq!(summary.visitor.topic, None);
    server.stop().await;
}

#[tokio::test]
async fn b04_a_trusted_proxy_country_header_takes_precedence_over_the_time_zone() {
    let server = TestServer::start_tweaked(|config| {
        config.country_header = Some("CF-IPCountry".into());
    })
    .await;
    let summary = chat_behind_a_french_proxy(&server, Some("de-DE"), "Europe/Berlin").await;
    assert_eq!(summary.visitor.country.as_deref(), Some("FR"));
    assert_eq!(summary.visitor.location.as_deref(), Some("France"));
    server.stop().await;
}

#[tokio::test]
async fn b04_without_configuration_a_country_header_is_ignored() {
    let server = TestServer::start().await;
    let summary = chat_behind_a_french_proxy(&server, None, "Europe/Berlin").await;
    assert_eq!(summary.visitor.country.as_deref(), Some("DE"));
    assert_eq!(summary.visitor.location.as_deref(), Some("Berlin, Germany"));
    server.stop().await;
}

#[tokio::test]
async fn b05_the_offer_shows_approximate_location_subject_group_and_created_time() {
    let server = TestServer::start().await;
    let (mut ann, _bob, _sue) = sign_in_offer_mode(&server).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let chat = start_with_context(&mut visitor, None, Some("en-US"), Some("America/New_York"))
        .await
        .expect("chat");
    let offer = match ann.wait_for("Ann's offer", offered(chat)).await {
        OperatorEvent::Offered { offer } => offer,
        other => panic!("{other:?}"),
    };
    assert_eq!(offer.location.as_deref(), Some("New York, United States"));
    assert_eq!(offer.subject, "Where is my anvil?");
    assert_eq!(offer.group, "Acme website");
    assert!(offer.created_at.0 > 0 && offer.deadline > offer.created_at);
    server.stop().await;
}

#[tokio::test]
async fn b05_least_recently_offered_survives_a_server_restart() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, _sue) = sign_in_offer_mode(&server).await;
    assert!(ann.id() < bob.id(), "the demo seed creates Ann before Bob");
    // Bob is offered first (Ann's routing is off), then Ann: Ann is the most recently offered.
    ann.set_routing(None, false).await.expect("Ann pauses");
    let mut first = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let first_chat = first.start_chat("First", "One?").await.id;
    bob.wait_for("Bob's offer", offered(first_chat)).await;
    bob.accept(first_chat).await.expect("Bob accepts");
    bob.end(first_chat).await.expect("Bob ends");
    ann.set_routing(None, true).await.expect("Ann resumes");
    let mut second = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let second_chat = second.start_chat("Second", "Two?").await.id;
    ann.wait_for("Ann's offer", offered(second_chat)).await;
    ann.accept(second_chat).await.expect("Ann accepts");
    ann.end(second_chat).await.expect("Ann ends");

    // Both are free and on; without the stored order the tie would go to Ann (lower id).
    let server = server.restart().await;
    ann.socket().wait_closed().await;
    bob.socket().wait_closed().await;
    ann.reconnect().await;
    bob.reconnect().await;
    let mut third = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let third_chat = third.start_chat("Third", "Three?").await.id;
    bob.wait_for(
        "Bob, offered least recently, gets the offer",
        offered(third_chat),
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn b08_rules_on_the_visitor_context_still_route_a_pending_chat_after_a_restart() {
    let server = TestServer::start().await;
    let (mut ann, mut bob, sue) = sign_in_sue_not_routing(&server).await;
    let mut routed = settings(RoutingMode::RingAll);
    routed.topics = vec!["Sales".into()];
    let mut by_topic = rule("Sales desk", RuleField::Topic, RuleMatch::Equals, "Sales");
    by_topic.operators = vec![bob.id()];
    routed.rules = vec![by_topic];
    sue.save_routing_settings(&server.url(), DEMO_LIVE_CHAT, &routed)
        .await
        .expect("rule on the topic");
    let mut sales = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let sales_chat = start_with_context(&mut sales, Some("Sales"), None, None)
        .await
        .expect("sales chat");
    bob.wait_for("Bob's sales ring", rings(sales_chat)).await;

    let server = server.restart().await;
    ann.socket().wait_closed().await;
    bob.socket().wait_closed().await;
    sales.socket().wait_closed().await;
    sales.reconnect().await;
    ann.reconnect().await;
    bob.reconnect().await;
    // Ann goes away and comes back: were the rule forgotten, the chat would stop and start
    // ringing for her; under the rule it never concerns her.
    for availability in [
        switchboard_protocol::Availability::Away,
        switchboard_protocol::Availability::Online,
    ] {
        ann.set_availability(availability)
            .await
            .expect("Ann's availability");
    }
    // Bob becomes unavailable: under the rule the chat waits rather than ringing for Ann.
    bob.set_availability(switchboard_protocol::Availability::Away)
        .await
        .expect("Bob goes away");
    bob.wait_for("Bob's ring stops", stops(sales_chat)).await;
    let mut other = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let other_chat = start_with_context(&mut other, None, None, None)
        .await
        .expect("other chat");
    // Ann's first ring event after the restart is the chat without a topic.
    assert_eq!(
        ann.wait_for("Ann's ring", |event| {
            matches!(
                event,
                OperatorEvent::RingStarted { .. } | OperatorEvent::RingStopped { .. }
            )
        })
        .await,
        OperatorEvent::RingStarted { chat: other_chat }
    );
    server.stop().await;
}
