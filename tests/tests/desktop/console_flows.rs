//! The console's everyday flows in the real app against the real server: notes before joining
//! and replies after (B11), a canned response with a variable reaching the visitor filled in
//! (B30), search over the local cache with the match highlighted (B42), and the connection banner
//! while the server is unreachable. Screenshots land in `target/e2e-artifacts`.

use std::path::PathBuf;

use switchboard_e2e::fault_proxy::FaultProxy;
use switchboard_protocol::VisitorEvent;
use switchboard_server::test_support::{TestServer, TestVisitor};

use super::support::*;

fn artifacts() -> PathBuf {
    let folder = workspace_root().join("target/e2e-artifacts");
    std::fs::create_dir_all(&folder).expect("artifact folder");
    folder
}

/// Opens the chat from the Unassigned group.
async fn open_unassigned(browser: &Browser, chat: i64) {
    let group = browser
        .wait_for_element("[data-testid='group-unassigned']")
        .await;
    browser.click(&group).await;
    let row = browser
        .wait_for_element(&format!(
            "[data-testid='chat-list'] [data-testid='chat-row-{chat}']"
        ))
        .await;
    browser.click(&row).await;
    browser
        .wait_for_element(&format!("[data-testid='chat-view'][data-chat-id='{chat}']"))
        .await;
}

async fn send_from_composer(browser: &Browser, text: &str) {
    let composer = browser
        .wait_for_element("[data-testid='composer-input']")
        .await;
    browser.type_into(&composer, text).await;
    let send = browser.find("[data-testid='send-button']").await;
    browser.click(&send).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b11_b30_b42_notes_before_joining_canned_reply_and_search_in_the_real_app() {
    install_tls_provider();
    let server = TestServer::start().await;
    let data_dir = tempfile::tempdir().expect("temporary app data folder");
    let artifacts = artifacts();
    let driver = Driver::start(&server.url(), data_dir.path());
    let browser = driver.session(&app_binary()).await;
    browser.sign_in("ann@example.com", "Ann").await;

    let mut visitor = TestVisitor::connect(&server.url(), "demo").await;
    let chat = visitor
        .start_chat("Vera Visitor", "Do anvils float?")
        .await
        .id;
    let asked = visitor.send("My anvil is zebra-striped").await;
    open_unassigned(&browser, chat.0).await;

    // B11: before joining, the composer writes notes only and says so.
    browser
        .wait_for_element("[data-testid='composer-mode'][data-mode='note']")
        .await;
    browser
        .wait_for_text("[data-testid='composer-hint']", |text| {
            text.contains("notes")
        })
        .await;
    let note = "Checking the stock before I answer";
    send_from_composer(&browser, note).await;
    browser
        .wait_for_text("[data-testid='message'][data-visibility='note']", |text| {
            text.contains(note)
        })
        .await;
    browser
        .screenshot(&artifacts.join("console-flows-note-before-join.png"))
        .await;

    // Join (accept): now a reply goes to the visitor, and the note never did.
    let accept = browser
        .wait_for_element("[data-testid='accept-button']")
        .await;
    browser.click(&accept).await;
    browser
        .wait_for_element("[data-testid='composer-mode'][data-mode='public']")
        .await;
    let reply = "Only the wooden ones.";
    send_from_composer(&browser, reply).await;
    visitor
        .wait_for("the reply", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.body == reply)
        })
        .await;
    assert!(
        visitor
            .raw_frames()
            .iter()
            .all(|frame| !frame.contains("Checking the stock")),
        "the note written before joining reached the visitor"
    );

    // B30: the greeting's variables are filled from the chat and reach the visitor filled in.
    let open_canned = browser.find("[data-testid='canned-open']").await;
    browser.click(&open_canned).await;
    let search = browser
        .wait_for_element("[data-testid='canned-search']")
        .await;
    browser.type_into(&search, "Greeting").await;
    let greeting = "Hi Vera Visitor, this is Ann Operator. How can I help?";
    browser
        .wait_for_text("[data-testid='canned-preview']", |text| {
            text.contains(greeting)
        })
        .await;
    browser
        .screenshot(&artifacts.join("console-flows-canned-preview.png"))
        .await;
    let insert = browser.find("[data-testid='canned-insert']").await;
    browser.click(&insert).await;
    browser
        .wait_for_script(
            "the greeting in the composer",
            &format!(
                "return document.querySelector(\"[data-testid='composer-input']\").value === {};",
                serde_json::to_string(greeting).expect("a JSON string")
            ),
        )
        .await;
    let send = browser.find("[data-testid='send-button']").await;
    browser.click(&send).await;
    visitor
        .wait_for("the filled-in greeting", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.body == greeting)
        })
        .await;

    // B42: search finds the visitor's message in the local cache and highlights the match.
    let search = browser.find("[data-testid='search-input']").await;
    browser.type_into(&search, "zebra").await;
    let found = format!("[data-testid='search-message-{}']", asked.id);
    browser
        .wait_for_text(&format!("{found} mark"), |text| {
            text.eq_ignore_ascii_case("zebra")
        })
        .await;
    browser
        .screenshot(&artifacts.join("console-flows-search.png"))
        .await;
    let result = browser.find(&found).await;
    browser.click(&result).await;
    browser
        .wait_for_element(&format!(
            "[data-testid='chat-view'][data-chat-id='{}'] [data-message-id='{}']",
            chat.0, asked.id
        ))
        .await;

    browser.end().await;
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_banner_appears_while_the_server_is_unreachable_and_clears_when_it_is_back() {
    install_tls_provider();
    let server = TestServer::start().await;
    let proxy = FaultProxy::start(server.addr()).await;
    let data_dir = tempfile::tempdir().expect("temporary app data folder");
    let artifacts = artifacts();
    let driver = Driver::start(&proxy.url(), data_dir.path());
    let browser = driver.session(&app_binary()).await;
    browser.sign_in("bob@example.com", "Bob").await;
    // Connected: no banner.
    browser
        .wait_for_script(
            "the banner to be gone while connected",
            "return document.querySelector(\"[data-testid='connection-banner']\") === null;",
        )
        .await;

    // The server goes away: every link is cut and reconnects are refused.
    proxy.refuse(true);
    proxy.cut();
    let state = browser
        .wait_for_text("[data-testid='connection-banner']", |text| {
            !text.trim().is_empty()
        })
        .await;
    assert!(!state.is_empty());
    browser
        .wait_for_element(
            "[data-testid='connection-banner'][data-state='reconnecting'], \
             [data-testid='connection-banner'][data-state='offline']",
        )
        .await;
    browser
        .screenshot(&artifacts.join("console-flows-offline.png"))
        .await;

    // Back: the core reconnects on its own and the banner clears.
    proxy.refuse(false);
    browser
        .wait_for_script(
            "the banner to clear once reconnected",
            "return document.querySelector(\"[data-testid='connection-banner']\") === null;",
        )
        .await;
    browser
        .screenshot(&artifacts.join("console-flows-back-online.png"))
        .await;

    browser.end().await;
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_both_ways_seen_and_a_customer_record_in_the_real_app() {
    use switchboard_protocol::{VisitorMarkRead, VisitorResponse, VisitorTyping};

    install_tls_provider();
    let server = TestServer::start().await;
    let data_dir = tempfile::tempdir().expect("temporary app data folder");
    let artifacts = artifacts();
    let driver = Driver::start(&server.url(), data_dir.path());
    let browser = driver.session(&app_binary()).await;
    browser.sign_in("ann@example.com", "Ann").await;

    let mut visitor = TestVisitor::connect(&server.url(), "demo").await;
    let chat = visitor.start_chat("Vera Visitor", "Parcel?").await.id;
    open_unassigned(&browser, chat.0).await;
    let accept = browser
        .wait_for_element("[data-testid='accept-button']")
        .await;
    browser.click(&accept).await;
    browser
        .wait_for_element("[data-testid='composer-mode'][data-mode='public']")
        .await;

    // The visitor types: the console says so.
    match visitor.command(VisitorTyping { typing: true }).await {
        Ok(VisitorResponse::Typing(_)) => {}
        other => panic!("visitor typing answered with {other:?}"),
    }
    browser
        .wait_for_text("[data-testid='visitor-typing']", |text| {
            text.contains("Vera Visitor is typing")
        })
        .await;
    browser
        .screenshot(&artifacts.join("console-flows-visitor-typing.png"))
        .await;

    // Ann types a reply: the visitor is told, then gets it and marks it seen.
    let composer = browser
        .wait_for_element("[data-testid='composer-input']")
        .await;
    browser.type_into(&composer, "It left the warehouse").await;
    visitor
        .socket()
        .wait_for_transient("Ann typing", |event| {
            matches!(event, VisitorEvent::OperatorTyping { name, typing: true } if name == "Ann Operator")
        })
        .await;
    let send = browser.find("[data-testid='send-button']").await;
    browser.click(&send).await;
    let posted = visitor
        .wait_for("the reply", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if message.body == "It left the warehouse")
        })
        .await;
    let VisitorEvent::MessagePosted { message } = posted else {
        unreachable!("wait_for returns the matching event");
    };
    match visitor.command(VisitorMarkRead { up_to: message.id }).await {
        Ok(VisitorResponse::MarkRead(_)) => {}
        other => panic!("visitor mark read answered with {other:?}"),
    }
    browser
        .wait_for_text("[data-testid='read-receipt']", |text| text.contains("Seen"))
        .await;

    // B34: a customer record created from the panel.
    let details = browser.find("[data-testid='customer-panel'] summary").await;
    browser.click(&details).await;
    let create = browser
        .wait_for_element("[data-testid='customer-create']")
        .await;
    browser.click(&create).await;
    let notes = browser
        .wait_for_element("[data-testid='customer-form-notes']")
        .await;
    browser.type_into(&notes, "Ships to the lighthouse").await;
    let save = browser.find("[data-testid='customer-form-save']").await;
    browser.click(&save).await;
    browser
        .wait_for_text("[data-testid='customer-record-notes']", |text| {
            text.contains("lighthouse")
        })
        .await;
    browser
        .screenshot(&artifacts.join("console-flows-customer-record.png"))
        .await;

    browser.end().await;
    drop(driver);
}
