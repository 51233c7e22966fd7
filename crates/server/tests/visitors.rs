//! Visitors on site (B50) against a real server, real SQLite and real WebSockets: staff of the
//! live chat see a visitor arrive, move between pages and leave after the grace period; a
//! reload or a second tab is not a new visitor; other live chats' staff and visitors see nothing.

use switchboard_protocol::{
    OperatorEvent, SiteVisitor, VISITOR_WS_PATH, VisitorEvent, VisitorId, VisitorPageView,
    VisitorResponse,
};
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, ProtocolSocket, SUE, TestOperator, TestServer, TestVisitor,
    websocket_url,
};

fn page(url: &str, title: &str) -> VisitorPageView {
    VisitorPageView {
        url: url.to_owned(),
        title: Some(title.to_owned()),
        referrer: Some("https://search.example/?q=widgets".to_owned()),
        time_zone: Some("Europe/Berlin".to_owned()),
    }
}

async fn view_page(visitor: &mut TestVisitor, view: VisitorPageView) {
    match visitor.command(view).await {
        Ok(VisitorResponse::PageView(_)) => {}
        other => panic!("page view answered with {other:?}"),
    }
}

async fn arrival(operator: &mut TestOperator, visitor: VisitorId) -> SiteVisitor {
    match operator
        .socket()
        .wait_for_transient("the visitor's arrival", |event| {
            matches!(event, OperatorEvent::VisitorArrived { visitor: arrived } if arrived.visitor == visitor)
        })
        .await
    {
        OperatorEvent::VisitorArrived { visitor } => visitor,
        other => unreachable!("matched {other:?}"),
    }
}

async fn update(operator: &mut TestOperator, visitor: VisitorId, what: &str) -> SiteVisitor {
    match operator
        .socket()
        .wait_for_transient(what, |event| {
            matches!(event, OperatorEvent::VisitorUpdated { visitor: updated } if updated.visitor == visitor)
        })
        .await
    {
        OperatorEvent::VisitorUpdated { visitor } => visitor,
        other => unreachable!("matched {other:?}"),
    }
}

async fn list_on_connect(operator: &mut TestOperator) -> Vec<SiteVisitor> {
    match operator
        .socket()
        .wait_for_transient("the visitors on site", |event| {
            matches!(event, OperatorEvent::VisitorsOnSite { .. })
        })
        .await
    {
        OperatorEvent::VisitorsOnSite { visitors } => visitors,
        other => unreachable!("matched {other:?}"),
    }
}

/// A live chat none of the demo staff belong to, with Olga as its only operator.
async fn other_live_chat(server: &TestServer) -> TestOperator {
    let olga = server.create_operator("olga@example.com", "Olga Elsewhere", DEMO_PASSWORD);
    let database =
        rusqlite::Connection::open(server.database_path()).expect("open the test database");
    database
        .execute_batch(&format!(
            "INSERT INTO live_chats (id, name, embed_key) VALUES (2, 'Other shop', 'other-key');
             DELETE FROM memberships WHERE operator_id = {olga};
             INSERT INTO memberships (operator_id, live_chat_id, supervisor) VALUES ({olga}, 2, 0);"
        ))
        .expect("move Olga to another live chat");
    drop(database);
    TestOperator::sign_in(&server.url(), "olga@example.com", DEMO_PASSWORD).await
}

#[tokio::test]
async fn b50_staff_see_visitors_arrive_navigate_and_reload_without_a_new_arrival() {
    let server = TestServer::start().await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut sue = TestOperator::sign_in(&server.url(), SUE, DEMO_PASSWORD).await;
    let mut olga = other_live_chat(&server).await;
    assert_eq!(list_on_connect(&mut ann).await, Vec::new());

    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    let hostile_title = format!("<img src=x onerror=alert(1)>{}", "t".repeat(5_000));
    view_page(&mut visitor, page("https://shop.example/", &hostile_title)).await;
    let arrived = arrival(&mut ann, visitor.id()).await;
    assert_eq!(arrived.page_url.as_deref(), Some("https://shop.example/"));
    let title = arrived.page_title.clone().expect("a title");
    assert!(
        title.starts_with("<img src=x onerror=alert(1)>"),
        "kept as text"
    );
    assert_eq!(
        title.chars().count(),
        switchboard_protocol::MAX_PAGE_TEXT_CHARS
    );
    assert_eq!(
        arrived.referrer.as_deref(),
        Some("https://search.example/?q=widgets")
    );
    assert_eq!(arrived.location.as_deref(), Some("Berlin, Germany"));
    assert_eq!(arrived.pages_viewed, 1);
    assert!(!arrived.in_chat);
    assert_eq!(arrived.name, None);
    // The supervisor of the live chat sees it too.
    assert_eq!(arrival(&mut sue, visitor.id()).await, arrived);

    // In-page navigation: an update, not an arrival.
    view_page(
        &mut visitor,
        page("https://shop.example/pricing", "Pricing"),
    )
    .await;
    let moved = update(&mut ann, visitor.id(), "the move to pricing").await;
    assert_eq!(
        moved.page_url.as_deref(),
        Some("https://shop.example/pricing")
    );
    assert_eq!(moved.pages_viewed, 2);
    assert_eq!(moved.first_seen, arrived.first_seen);

    // A reload: the socket closes and a new one opens and reports the page again.
    visitor.socket().disconnect().await;
    visitor.reconnect().await;
    view_page(
        &mut visitor,
        page("https://shop.example/pricing", "Pricing"),
    )
    .await;
    let reloaded = update(&mut ann, visitor.id(), "the reloaded page").await;
    assert_eq!(reloaded.pages_viewed, 3);
    assert_eq!(reloaded.first_seen, arrived.first_seen);

    // A second tab of the same visitor is the same visitor.
    let mut tab = ProtocolSocket::<VisitorEvent, VisitorResponse>::new();
    tab.open(&websocket_url(&server.url(), VISITOR_WS_PATH))
        .await;
    tab.hello(visitor.token(), None)
        .await
        .expect("the tab says hello");
    tab.disconnect().await;

    // Starting a chat marks the visitor as in chat, with their name.
    visitor.start_chat("Vera", "Do you ship to Mars?").await;
    let chatting = update(&mut ann, visitor.id(), "the in-chat mark").await;
    assert!(chatting.in_chat);
    assert_eq!(chatting.name.as_deref(), Some("Vera"));

    // Ann accepts and ends the chat: the mark goes away.
    let chat = ann
        .wait_for("the ring", |event| {
            matches!(event, OperatorEvent::RingStarted { .. })
        })
        .await;
    let OperatorEvent::RingStarted { chat } = chat else {
        unreachable!("matched a ring")
    };
    ann.accept(chat).await.expect("Ann accepts");
    ann.end(chat).await.expect("Ann ends the chat");
    let ended = update(&mut ann, visitor.id(), "the end of the chat").await;
    assert!(!ended.in_chat);

    // A reconnecting operator gets the list after the snapshot.
    ann.socket().discard_queued_events();
    ann.reconnect_since(None).await;
    let listed = list_on_connect(&mut ann).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].visitor, visitor.id());
    assert_eq!(listed[0].pages_viewed, 3);
    assert!(
        ann.socket().queued_transients().all(|event| !matches!(
            event,
            OperatorEvent::VisitorArrived { .. } | OperatorEvent::VisitorLeft { .. }
        )),
        "a reload or a second tab is never an arrival or a departure"
    );

    // Other live chats' staff: nothing, neither events nor list.
    olga.socket().ping(7).await;
    assert_eq!(list_on_connect(&mut olga).await, Vec::new());
    assert!(
        olga.raw_frames()
            .iter()
            .all(|frame| !frame.contains("shop.example")),
        "another live chat's operator sees nothing of this site's visitors"
    );
    // Visitors never see other visitors.
    let mut other_visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    other_visitor.socket().ping(8).await;
    assert!(
        visitor
            .raw_frames()
            .iter()
            .chain(other_visitor.raw_frames())
            .all(|frame| !frame.contains("visitorArrived")
                && !frame.contains("visitorUpdated")
                && !frame.contains("visitorsOnSite")),
        "visitors never learn of other visitors"
    );
    server.stop().await;
}

#[tokio::test]
async fn b50_a_visitor_leaves_when_their_last_page_stays_closed_past_the_grace_period() {
    let server = TestServer::start_tweaked(|config| config.visitor_leave_grace_ms = 300).await;
    let mut ann = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;
    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    view_page(&mut visitor, page("https://shop.example/", "Home")).await;
    arrival(&mut ann, visitor.id()).await;
    visitor.socket().disconnect().await;
    let left = ann
        .socket()
        .wait_for_transient("the visitor's departure", |event| {
            matches!(event, OperatorEvent::VisitorLeft { .. })
        })
        .await;
    assert_eq!(
        left,
        OperatorEvent::VisitorLeft {
            live_chat: ann.profile().live_chats[0].id,
            visitor: visitor.id(),
        }
    );
    ann.socket().discard_queued_events();
    ann.reconnect_since(None).await;
    assert_eq!(list_on_connect(&mut ann).await, Vec::new());
    // Coming back later is a new visit.
    visitor.reconnect().await;
    view_page(&mut visitor, page("https://shop.example/again", "Again")).await;
    let again = arrival(&mut ann, visitor.id()).await;
    assert_eq!(again.pages_viewed, 1);
    server.stop().await;
}
