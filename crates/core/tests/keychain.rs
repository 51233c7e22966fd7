//! D06: the session token lives in the real OS keychain (the Secret Service on Linux), and
//! nowhere in the app's data folder.
//!
//! Without a session bus that has a Secret Service, the test re-runs itself inside a private
//! `dbus-run-session` with a fresh, unlocked gnome-keyring, so it never touches the developer's
//! own keyring and works on a headless CI machine.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use switchboard_core::protocol::{ApiError, Endpoint, GetMe, OperatorProfile};
use switchboard_core::{
    AudioOutput, ConnectionState, Core, CoreConfig, CredentialStore, KeychainState,
};
use switchboard_server::test_support::{ANN, DEMO_PASSWORD, TestServer, get_json};

/// Set in the re-executed child: run the scenario here.
const CHILD_ENV: &str = "SWITCHBOARD_KEYCHAIN_TEST_CHILD";
/// Set in the child that runs without any reachable keychain.
const NO_KEYCHAIN_CHILD_ENV: &str = "SWITCHBOARD_NO_KEYCHAIN_TEST_CHILD";
const NO_KEYCHAIN_TEST_NAME: &str = "d06_without_a_keychain_the_session_lives_in_memory_only";
const TEST_NAME: &str = "d06_token_lives_in_the_os_keychain_and_nowhere_in_the_data_folder";
const WAIT: Duration = Duration::from_secs(20);

#[test]
fn d06_token_lives_in_the_os_keychain_and_nowhere_in_the_data_folder() {
    if std::env::var_os(CHILD_ENV).is_some() || secret_service_answers() {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(scenario());
        return;
    }
    let home = tempfile::tempdir().expect("a home folder for the private keyring");
    let executable = std::env::current_exe().expect("the test binary's path");
    let output = Command::new("dbus-run-session")
        .args([
            "--",
            "sh",
            "-c",
            "echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec \"$@\"",
            "sh",
        ])
        .arg(executable)
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_RUNTIME_DIR", home.path())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("dbus-run-session runs (Debian package dbus-daemon / dbus-x11)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the keychain scenario failed under a private session bus:\n{stdout}\n{stderr}"
    );
}

/// Whether the current session bus has a Secret Service we may use.
fn secret_service_answers() -> bool {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        return false;
    }
    Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).contains("boolean true"))
        .unwrap_or(false)
}

fn secret_tool_lookup(service: &str, user: &str) -> Option<String> {
    let output = Command::new("secret-tool")
        .args(["lookup", "service", service, "username", user])
        .output()
        .expect("secret-tool runs (Debian package libsecret-tools)");
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !token.is_empty()).then_some(token)
}

fn files_containing(folder: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder)
        .expect("read the data folder")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|window| window == needle)
        {
            found.push(path.display().to_string());
        }
    }
    found
}

async fn me(server_url: &str, token: &str) -> Result<OperatorProfile, (u16, ApiError)> {
    get_json(&format!("{server_url}{}", GetMe::PATH), Some(token)).await
}

async fn scenario() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let service = format!(
        "switchboard-test-{}-{}",
        std::process::id(),
        fastrand_suffix()
    );
    let config = CoreConfig {
        server_url: server.url(),
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Os {
            service: service.clone(),
        },
        audio: AudioOutput::Disabled,
    };
    let core = Core::start(config.clone()).await.expect("the core starts");
    core.sign_in(ANN, DEMO_PASSWORD)
        .await
        .expect("Ann signs in");
    assert_eq!(
        core.state().keychain,
        KeychainState::Available,
        "the Secret Service must take the token"
    );
    core.wait_until(WAIT, |state| state.connection == ConnectionState::Connected)
        .await
        .expect("connected");

    let token = secret_tool_lookup(&service, &server.url())
        .expect("the token is in the keychain under the service and the server URL");
    assert_eq!(
        me(&server.url(), &token).await.map(|profile| profile.name),
        Ok("Ann Operator".to_owned()),
        "the keychain holds the live session token"
    );
    core.shutdown().await;
    drop(core);
    let leaks = files_containing(data.path(), token.as_bytes());
    assert!(
        leaks.is_empty(),
        "the token must not be in any file: {leaks:?}"
    );

    // The next start restores the session from the keychain, with no password.
    let restarted = Core::start(config).await.expect("the core restarts");
    restarted
        .wait_until(WAIT, |state| state.connection == ConnectionState::Connected)
        .await
        .expect("the restored session connects");

    // Sign-out revokes the token on the server and deletes the keychain entry.
    restarted.sign_out().await.expect("sign out");
    assert_eq!(secret_tool_lookup(&service, &server.url()), None);
    assert_eq!(
        me(&server.url(), &token)
            .await
            .map_err(|(status, _)| status),
        Err(401),
        "the token is revoked"
    );
    restarted.shutdown().await;
    server.stop().await;
}

fn fastrand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or(0)
}

#[test]
fn d06_without_a_keychain_the_session_lives_in_memory_only() {
    if std::env::var_os(NO_KEYCHAIN_CHILD_ENV).is_some() {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(no_keychain_scenario());
        return;
    }
    // A session bus address that leads nowhere: the keychain cannot be reached.
    let home = tempfile::tempdir().expect("a home folder");
    let output = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([
            "--exact",
            NO_KEYCHAIN_TEST_NAME,
            "--nocapture",
            "--test-threads=1",
        ])
        .env(NO_KEYCHAIN_CHILD_ENV, "1")
        .env("HOME", home.path())
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", home.path().join("no-bus").display()),
        )
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the no-keychain scenario failed:\n{stdout}\n{stderr}"
    );
}

async fn no_keychain_scenario() {
    let server = TestServer::start().await;
    let data = tempfile::tempdir().expect("a data folder");
    let config = CoreConfig {
        server_url: server.url(),
        data_dir: data.path().to_owned(),
        credentials: CredentialStore::Os {
            service: "switchboard-test-no-keychain".to_owned(),
        },
        audio: AudioOutput::Disabled,
    };
    let core = Core::start(config.clone()).await.expect("the core starts");
    core.sign_in(ANN, DEMO_PASSWORD)
        .await
        .expect("sign-in works without a keychain");
    let state = core
        .wait_until(WAIT, |state| state.connection == ConnectionState::Connected)
        .await
        .expect("the session works for this run");
    let KeychainState::Unavailable { reason } = state.keychain else {
        panic!(
            "the keychain cannot be reachable here: {:?}",
            state.keychain
        );
    };
    assert!(!reason.is_empty(), "the operator is told why");
    core.shutdown().await;
    drop(core);

    // Nothing was written in its place: the next start is signed out.
    let restarted = Core::start(config).await.expect("the core restarts");
    assert_eq!(restarted.state().connection, ConnectionState::SignedOut);
    assert!(
        restarted.state().operator.is_none(),
        "no session survives without a keychain"
    );
    restarted.shutdown().await;
    server.stop().await;
}
