//! Visitors on site (B50) through a real core against a real server: a visitor's page view
//! reaches the console's list, and the list survives a reconnect (the server repeats it whole).

use std::time::Duration;

use switchboard_core::protocol::VisitorPageView;
use switchboard_core::{AudioOutput, Core, CoreConfig, CoreEvent, CredentialStore};
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, TestServer, TestVisitor,
};
use tokio::sync::broadcast;

const WAIT: Duration = Duration::from_secs(20);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b50_a_page_view_reaches_the_console_list_and_survives_a_reconnect() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = Core::start(CoreConfig {
        server_url: server.url(),
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await
    .expect("the core starts");
    let mut events = core.subscribe();
    core.sign_in(ANN, DEMO_PASSWORD).await.expect("sign in");
    // The list follows every connect, empty at first.
    next_matching(&mut events, "the first list", |event| {
        matches!(event, CoreEvent::VisitorsOnSite { .. })
    })
    .await;

    let mut visitor = TestVisitor::connect(&server.url(), DEMO_EMBED_KEY).await;
    visitor
        .command(VisitorPageView {
            url: "https://shop.example/tents".to_owned(),
            title: Some("Tents".to_owned()),
            referrer: None,
            time_zone: Some("Europe/Oslo".to_owned()),
        })
        .await
        .expect("the page view is taken");
    let id = visitor.id();
    next_matching(&mut events, "the visitor in the list", |event| {
        matches!(event, CoreEvent::VisitorsOnSite { visitors }
            if visitors.iter().any(|listed| listed.visitor == id))
    })
    .await;
    let listed = core.visitors_on_site();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].page_title.as_deref(), Some("Tents"));
    assert_eq!(listed[0].location.as_deref(), Some("Oslo, Norway"));
    assert_eq!(core.state().visitors_on_site, Some(listed.clone()));

    // A cut link: the core reconnects and the server's full list keeps the visitor (within the
    // grace period the visitor is still on site).
    server.drop_connections();
    next_matching(&mut events, "the list after the reconnect", |event| {
        matches!(event, CoreEvent::VisitorsOnSite { visitors }
            if visitors.iter().any(|listed| listed.visitor == id))
    })
    .await;
    assert_eq!(core.visitors_on_site().len(), 1);
    core.shutdown().await;
}
