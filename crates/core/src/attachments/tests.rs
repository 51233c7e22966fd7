//! Uploads through a real core against a real server: progress up to the last byte, the
//! visitor receiving the file, a refusal reported as final, and a file picked while the server
//! is down going out once it is back.

use std::time::Duration;

use switchboard_protocol::{ChatId, ErrorCode, Visibility, VisitorEvent};
use switchboard_server::Config;
use switchboard_server::test_support::{
    ANN, DEMO_EMBED_KEY, DEMO_PASSWORD, TestServer, TestVisitor,
};
use tokio::sync::broadcast;

use super::*;
use crate::{AudioOutput, CoreConfig, CredentialStore};

const WAIT: Duration = Duration::from_secs(30);

fn config(server_url: String, data_dir: &Path) -> CoreConfig {
    CoreConfig {
        server_url,
        data_dir: data_dir.to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    }
}

/// Ann's core has accepted a fresh visitor's chat.
async fn accepted_chat(core: &Core, server_url: &str) -> (TestVisitor, ChatId) {
    core.sign_in(ANN, DEMO_PASSWORD).await.expect("sign in");
    let mut visitor = TestVisitor::connect(server_url, DEMO_EMBED_KEY).await;
    let chat = visitor.start_chat("Paul", "Here is my invoice").await.id;
    core.wait_until(WAIT, |state| state.counters.ringing == 1)
        .await
        .expect("it rings");
    core.accept(chat).await.expect("accept");
    visitor
        .wait_for("Ann joined", |event| {
            matches!(event, VisitorEvent::OperatorJoined { .. })
        })
        .await;
    (visitor, chat)
}

/// The upload events seen until one reaches a final state.
async fn upload_events(events: &mut broadcast::Receiver<CoreEvent>) -> Vec<UploadProgress> {
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("upload events keep coming")
            .expect("the core is running");
        if let CoreEvent::Upload { upload } = event {
            let settled = matches!(upload.state, UploadState::Done | UploadState::Failed { .. });
            seen.push(upload);
            if settled {
                return seen;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b32_an_upload_reports_progress_to_the_last_byte_and_reaches_the_visitor() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = Core::start(config(server.url(), data.path()))
        .await
        .expect("start");
    let (mut visitor, chat) = accepted_chat(&core, &server.url()).await;

    let mut events = core.subscribe();
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.resize(300 * 1024, b'x');
    let message = core
        .upload_attachment(
            chat,
            "invoice 42.pdf".to_owned(),
            "application/pdf".to_owned(),
            pdf.clone(),
            Visibility::Public,
        )
        .await
        .expect("the upload succeeds");
    let progress = upload_events(&mut events).await;
    let total = pdf.len() as u64;
    assert!(
        progress
            .iter()
            .all(|step| step.total == total && step.name == "invoice 42.pdf"),
        "every step names the file and its size"
    );
    let sent: Vec<u64> = progress.iter().map(|step| step.sent).collect();
    assert!(
        sent.windows(2).all(|pair| pair[0] <= pair[1]),
        "progress only grows: {sent:?}"
    );
    assert!(
        sent.len() >= 5,
        "a 300 KB file moves in several steps: {sent:?}"
    );
    assert!(sent.contains(&total));
    assert_eq!(
        progress.last().map(|step| &step.state),
        Some(&UploadState::Done)
    );
    assert_eq!(
        message.client_id.as_ref().map(|id| id.0.as_str()),
        progress.first().map(|step| step.id.as_str()),
        "the message carries the upload's id, so the console can match them"
    );
    assert!(core.queued_uploads().is_empty(), "nothing is left staged");

    let posted = visitor
        .wait_for("the invoice reaches the visitor", |event| {
            matches!(event, VisitorEvent::MessagePosted { message } if !message.attachments.is_empty())
        })
        .await;
    let VisitorEvent::MessagePosted { message: seen } = posted else {
        unreachable!()
    };
    assert_eq!(seen.attachments[0].name, "invoice 42.pdf");

    let file = core
        .attachment(&message.attachments[0].id)
        .await
        .expect("download");
    assert_eq!(file.bytes, pdf);
    assert_eq!(file.content_type, "application/pdf");
    assert!(
        core.messages(chat)
            .await
            .expect("messages")
            .iter()
            .any(|cached| cached.attachments == message.attachments),
        "the cache keeps the message with its file"
    );
    assert!(
        data.path()
            .join(DOWNLOADS_FOLDER)
            .read_dir()
            .is_ok_and(|mut files| files.next().is_some()),
        "the downloaded file is kept for offline viewing"
    );
    core.sign_out().await.expect("sign out");
    assert!(
        !data.path().join(DOWNLOADS_FOLDER).exists(),
        "signing out leaves no file of the session behind"
    );
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b32_a_refused_upload_fails_clearly_and_is_not_retried() {
    let server = TestServer::start_tweaked(|config| config.attachment_max_bytes = 64 * 1024).await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = Core::start(config(server.url(), data.path()))
        .await
        .expect("start");
    let (_visitor, chat) = accepted_chat(&core, &server.url()).await;
    let mut events = core.subscribe();
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(1024 * 1024, b'x');
    let error = core
        .upload_attachment(
            chat,
            "big.pdf".to_owned(),
            "application/pdf".to_owned(),
            big,
            Visibility::Public,
        )
        .await
        .expect_err("too large");
    assert_eq!(error.code(), ErrorCode::TooLarge, "{error}");
    let progress = upload_events(&mut events).await;
    assert!(
        matches!(&progress.last().map(|step| &step.state), Some(UploadState::Failed { error }) if error.code == ErrorCode::TooLarge),
        "the console is told why: {progress:?}"
    );
    let error = core
        .upload_attachment(
            chat,
            "page.html".to_owned(),
            "text/html".to_owned(),
            b"<html><script>alert(1)</script></html>".to_vec(),
            Visibility::Public,
        )
        .await
        .expect_err("not allowed");
    assert_eq!(error.code(), ErrorCode::BadRequest);
    assert!(
        core.queued_uploads().is_empty(),
        "refusals are final, not queued"
    );
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b32_a_file_picked_while_the_server_is_down_goes_out_when_it_is_back() {
    let folder = tempfile::tempdir().expect("a server folder");
    let server_config = Config {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        database: folder.path().join("switchboard.sqlite3"),
        demo: true,
        ..Config::default()
    };
    let server = TestServer::start_with(server_config.clone()).await;
    let address = server.addr();
    let data = tempfile::tempdir().expect("a data folder");
    let core = Core::start(config(server.url(), data.path()))
        .await
        .expect("start");
    let (_visitor, chat) = accepted_chat(&core, &server.url()).await;
    server.stop().await;

    let error = core
        .upload_attachment(
            chat,
            "notes.txt".to_owned(),
            "text/plain".to_owned(),
            b"written offline".to_vec(),
            Visibility::Note,
        )
        .await
        .expect_err("the server is down");
    assert!(
        matches!(error, CoreError::Queued),
        "queued, not failed: {error}"
    );
    let queued = core.queued_uploads();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].state, UploadState::Queued);

    let mut events = core.subscribe();
    let back = TestServer::start_with(Config {
        bind: address,
        demo: false,
        ..server_config
    })
    .await;
    let progress = upload_events(&mut events).await;
    assert_eq!(
        progress.last().map(|step| &step.state),
        Some(&UploadState::Done)
    );
    assert!(core.queued_uploads().is_empty());
    let history = core.messages(chat).await.expect("messages");
    let posted: Vec<_> = history
        .iter()
        .filter(|message| !message.attachments.is_empty())
        .collect();
    assert_eq!(posted.len(), 1, "posted exactly once");
    assert_eq!(posted[0].visibility, Visibility::Note);
    core.shutdown().await;
    back.stop().await;
}
