//! A server that speaks a newer protocol answers the WebSocket upgrade with HTTP 426: the core
//! shows "update the app" and stops retrying, instead of hammering the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use switchboard_core::protocol::{
    ApiError, ErrorCode, LiveChatId, LiveChatSummary, OperatorId, OperatorProfile, SignInResponse,
};
use switchboard_core::{
    AudioOutput, ConnectionState, Core, CoreConfig, CoreError, CredentialStore,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const WAIT: Duration = Duration::from_secs(20);

/// Answers sign-in like a server would, and every WebSocket upgrade with 426.
async fn newer_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let upgrades = Arc::new(AtomicUsize::new(0));
    let counted = upgrades.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0; 4096];
                // Headers only: the sign-in body is not needed to answer.
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => request.extend_from_slice(&buffer[..read]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                let (status, body) = if head.starts_with("POST /api/v1/auth/sign-in") {
                    let response = SignInResponse {
                        token: "token-from-the-future".to_owned(),
                        operator: OperatorProfile {
                            id: OperatorId(1),
                            name: "Ann Operator".to_owned(),
                            email: "ann@example.com".to_owned(),
                            live_chats: vec![LiveChatSummary {
                                id: LiveChatId(1),
                                name: "Acme website".to_owned(),
                                supervisor: false,
                                staff_emoji: true,
                            }],
                        },
                    };
                    ("200 OK", serde_json::to_string(&response).expect("json"))
                } else {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let error = ApiError::new(ErrorCode::UpgradeRequired, "Protocol 2 only.");
                    (
                        "426 Upgrade Required",
                        serde_json::to_string(&error).expect("json"),
                    )
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, upgrades)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_426_means_upgrade_required_and_no_more_retries() {
    let (url, upgrades) = newer_server().await;
    let data = tempfile::tempdir().expect("a data folder");
    let core = Core::start(CoreConfig {
        server_url: url,
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    })
    .await
    .expect("start");
    core.sign_in("ann@example.com", "switchboard")
        .await
        .expect("sign-in works over REST");
    core.wait_until(WAIT, |state| {
        state.connection == ConnectionState::UpgradeRequired
    })
    .await
    .expect("the core reports that the app must be updated");

    // Commands fail with a clear code instead of waiting for a connection that never comes.
    let error = core
        .accept(switchboard_core::protocol::ChatId(1))
        .await
        .expect_err("no commands without a compatible server");
    assert!(matches!(error, CoreError::UpgradeRequired), "{error:?}");
    assert_eq!(error.code(), ErrorCode::UpgradeRequired);

    // No retry loop: the one refused upgrade stays the only one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        upgrades.load(Ordering::SeqCst),
        1,
        "the core must stop retrying after 426"
    );
    core.shutdown().await;
}
