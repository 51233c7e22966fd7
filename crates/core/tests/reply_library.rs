//! The reply library through the core: canned responses (B30) and article search (B31) fetched
//! from a real server, cached in the real SQLite cache and answered from it when the server is
//! gone.

use switchboard_core::{AudioOutput, Core, CoreConfig, CredentialStore};
use switchboard_server::test_support::{ANN, DEMO_PASSWORD, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b26_b30_b31_canned_responses_articles_and_colleagues_come_from_the_server_and_work_offline()
 {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let config = CoreConfig {
        server_url: server.url(),
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Memory,
        audio: AudioOutput::Disabled,
    };
    let core = Core::start(config).await.expect("start the core");
    assert!(
        core.canned_responses()
            .await
            .expect("signed out")
            .is_empty(),
        "nothing without a session"
    );
    core.sign_in(ANN, DEMO_PASSWORD).await.expect("sign in");

    let online = core
        .canned_responses()
        .await
        .expect("fetch from the server");
    let titles: Vec<&str> = online.iter().map(|canned| canned.title.as_str()).collect();
    assert_eq!(titles, ["Follow up by email", "Goodbye", "Greeting"]);

    let refunds = core
        .search_articles("refund")
        .await
        .expect("server-side search");
    let titles: Vec<&str> = refunds
        .iter()
        .map(|article| article.title.as_str())
        .collect();
    assert_eq!(titles, ["Refunds"]);

    let colleagues = core.colleagues().await.expect("colleagues from the server");
    let names: Vec<&str> = colleagues
        .iter()
        .map(|colleague| colleague.name.as_str())
        .collect();
    assert_eq!(names, ["Bob Operator", "Sue Supervisor"]);

    server.stop().await;
    let offline = core
        .canned_responses()
        .await
        .expect("answered from the cache with the server gone");
    assert_eq!(offline, online);
    let last = core
        .search_articles("shipping")
        .await
        .expect("the last results with the server gone");
    assert_eq!(last, refunds, "offline, the last results stand in");
    assert_eq!(
        core.colleagues().await.expect("cached colleagues"),
        colleagues
    );
    core.shutdown().await;
}
