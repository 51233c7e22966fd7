use serde_json::json;
use switchboard_protocol::VisitorEvent;
use switchboard_server::test_support::{TestServer, TestVisitor};

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_operator_signs_in_accepts_and_replies_through_the_console() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the desktop test needs a display: run it through `cargo xtask test` (Xvfb + D-Bus)"
    );
    install_tls_provider();
    let server = TestServer::start().await;
    let data_dir = tempfile::tempdir().expect("temporary app data folder");
    let artifacts = workspace_root().join("target/e2e-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifact folder");

    let driver = Driver::start(&server.url(), data_dir.path());
    let browser = driver.session(&app_binary()).await;

    // Sign in through the console, as an operator would.
    browser.sign_in("ann@example.com", "Ann").await;
    browser
        .screenshot(&artifacts.join("desktop-signed-in.png"))
        .await;
    // The console must show the real core's numbers (a `build:fake` console in ui/dist shows
    // its own seeded chats instead).
    let core_unassigned = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             window.__TAURI_INTERNALS__.invoke('core_state')\
               .then((state) => done(state.counters.unassigned), (error) => done(String(error)));",
        )
        .await
        .expect("the console can ask the core for its state");
    assert_eq!(
        core_unassigned,
        json!(0),
        "a fresh server has no waiting chats, and the core knows it"
    );
    browser
        .wait_for_text("[data-testid='counter-unassigned']", |text| {
            text.trim() == "0"
        })
        .await;

    // A visitor asks for help: the chat appears under Unassigned and the counter says so.
    let mut visitor = TestVisitor::connect(&server.url(), "demo").await;
    let chat = visitor.start_chat("Vera Visitor", "Do anvils float?").await;
    let unassigned = browser.find("[data-testid='group-unassigned']").await;
    browser.click(&unassigned).await;
    browser
        .wait_for_element("[data-testid='group-unassigned'][aria-current='page']")
        .await;
    let row = format!(
        "[data-testid='chat-list'] [data-testid='chat-row-{}']",
        chat.id
    );
    let row_element = browser.wait_for_element(&row).await;
    browser
        .wait_for_text("[data-testid='counter-unassigned']", |text| {
            text.trim() == "1"
        })
        .await;
    browser
        .screenshot(&artifacts.join("desktop-ringing.png"))
        .await;

    // Accept it: the open chat turns active with me responsible.
    browser.click(&row_element).await;
    let accept = browser
        .wait_for_element("[data-testid='accept-button']")
        .await;
    browser.click(&accept).await;
    browser
        .wait_for_element(&format!(
            "[data-testid='chat-view'][data-chat-id='{}'][data-state='active']",
            chat.id
        ))
        .await;

    // Reply from the composer.
    let reply = "Only the wooden ones, Vera.";
    let composer = browser
        .wait_for_element("[data-testid='composer-input']")
        .await;
    browser.type_into(&composer, reply).await;
    let send = browser.find("[data-testid='send-button']").await;
    browser.click(&send).await;

    let received = visitor
        .wait_for("the operator's reply", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.body == reply)
        })
        .await;
    let VisitorEvent::MessagePosted { message } = received else {
        unreachable!("wait_for returns the matching event");
    };
    assert_eq!(
        message.body, reply,
        "the visitor receives exactly what the operator typed"
    );
    browser
        .wait_for_text(
            "[data-testid='message'][data-author-kind='operator']",
            |text| text.contains(reply),
        )
        .await;
    browser
        .screenshot(&artifacts.join("desktop-replied.png"))
        .await;

    browser.end().await;
    drop(driver);
}
