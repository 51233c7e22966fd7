//! B32 in the real app: the operator picks a file in the console, its bytes cross the Tauri IPC
//! raw, the core uploads it, the visitor receives it, and the console previews it through a
//! `blob:` URL the app's CSP allows.

use switchboard_protocol::{ATTACHMENT_PATH, VisitorEvent};
use switchboard_server::test_support::{TestServer, TestVisitor, http_client};

use super::support::*;

/// A complete 1×1 PNG.
fn png() -> Vec<u8> {
    vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b32_the_operator_attaches_a_file_in_the_app_and_the_visitor_receives_it() {
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
    browser.sign_in("ann@example.com", "Ann").await;

    let mut visitor = TestVisitor::connect(&server.url(), "demo").await;
    let chat = visitor
        .start_chat("Vera Visitor", "Can you send me the manual?")
        .await;
    let unassigned = browser.find("[data-testid='group-unassigned']").await;
    browser.click(&unassigned).await;
    let row = browser
        .wait_for_element(&format!(
            "[data-testid='chat-list'] [data-testid='chat-row-{}']",
            chat.id
        ))
        .await;
    browser.click(&row).await;
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
    browser
        .wait_for_element("[data-testid='attach-input']")
        .await;

    // The operator picks a file: WebDriver hands a real file to the console's file input, as
    // the native picker would, and the console's change handler takes it from there.
    let picked_dir = tempfile::tempdir().expect("a folder for the picked file");
    let picked = picked_dir.path().join("manual page.png");
    std::fs::write(&picked, png()).expect("write the picked file");
    let input = browser.find("[data-testid='attach-input']").await;
    browser
        .type_into(&input, picked.to_str().expect("a UTF-8 path"))
        .await;

    let received = visitor
        .wait_for("the operator's file", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if !message.attachments.is_empty())
        })
        .await;
    let VisitorEvent::MessagePosted { message } = received else {
        unreachable!("wait_for returns the matching event");
    };
    let attachment = &message.attachments[0];
    assert_eq!(attachment.name, "manual page.png");
    assert_eq!(attachment.content_type, "image/png");

    // The visitor downloads the very bytes the operator picked.
    let path = ATTACHMENT_PATH.replace("{id}", &attachment.id.0);
    let download = http_client()
        .get(format!("{}{path}", server.url()))
        .bearer_auth(visitor.token())
        .send()
        .await
        .expect("the server answers");
    assert_eq!(download.status().as_u16(), 200);
    let bytes = download.bytes().await.expect("the file");
    assert_eq!(bytes.len() as u64, attachment.size);
    assert_eq!(bytes.to_vec(), png(), "the bytes crossed the IPC intact");

    // The console previews it: a blob: image that really loaded under the app's CSP.
    browser
        .wait_for_script(
            "the console's preview to load",
            "const image = document.querySelector(\"[data-testid='attachment-image']\");\
             return image !== null && image.src.startsWith('blob:') && image.complete && image.naturalWidth === 1;",
        )
        .await;
    browser
        .screenshot(&artifacts.join("desktop-attachment.png"))
        .await;

    browser.end().await;
    drop(driver);
}
