//! The real desktop app, driven through WebDriver (tauri-driver + WebKitWebDriver) against the
//! real server in-process: an operator signs in through the console, a visitor starts a chat,
//! the operator accepts it and replies, and the visitor receives the reply.
//!
//! Needs a display, a D-Bus session with an unlocked keyring, `tauri-driver` and a built
//! `target/debug/switchboard`: run it with `cargo xtask test`, which sets all of that up. The
//! app binary can be overridden with `SWITCHBOARD_APP`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use switchboard_protocol::{ChatState, OperatorEvent, RingStopReason, VisitorEvent};
use switchboard_server::test_support::{ANN, DEMO_PASSWORD, TestOperator, TestServer, TestVisitor};

/// Generous: the first WebKit start on a loaded 2-core machine can take many seconds.
const UI_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(200);
/// A D-Bus peer that does not answer within this is not the one we look for.
const DBUS_CALL: Duration = Duration::from_secs(5);

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

    browser
        .wait_for_script(
            "the console document to load",
            "return document.readyState === 'complete'",
        )
        .await;

    // Sign in through the console, as an operator would.
    let email = browser
        .wait_for_element("[data-testid='sign-in-email']")
        .await;
    browser.type_into(&email, "ann@example.com").await;
    let password = browser.find("[data-testid='sign-in-password']").await;
    browser.type_into(&password, "switchboard").await;
    let submit = browser.find("[data-testid='sign-in-submit']").await;
    browser.click(&submit).await;
    browser
        .wait_for_text("[data-testid='operator-name']", |text| text.contains("Ann"))
        .await;
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

/// reqwest (the server's test clients) needs a process-wide TLS provider in this workspace,
/// even for plain HTTP.
fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

fn app_binary() -> PathBuf {
    let path = std::env::var_os("SWITCHBOARD_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_root().join("target"));
            target.join("debug/switchboard")
        });
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build -p switchboard-desktop`",
        path.display()
    );
    path.canonicalize().expect("the app binary path resolves")
}

fn tauri_driver() -> PathBuf {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("tauri-driver"))
            .collect::<Vec<_>>()
    });
    let in_cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|home| home.join("bin/tauri-driver"));
    on_path
        .chain(in_cargo_home)
        .find(|candidate| candidate.is_file())
        .expect("tauri-driver is installed (cargo install tauri-driver --locked)")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// tauri-driver and everything it starts (WebKitWebDriver, the app), in a process group of its
/// own so they all end together, also when the test panics.
struct Driver {
    child: Child,
    port: u16,
    session: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Driver {
    fn start(server_url: &str, data_dir: &Path) -> Driver {
        let port = free_port();
        let native_port = free_port();
        let child = Command::new(tauri_driver())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("SWITCHBOARD_SERVER_URL", server_url)
            .env("SWITCHBOARD_DATA_DIR", data_dir)
            .env("SWITCHBOARD_CREDENTIALS", "os")
            .env("SWITCHBOARD_AUDIO", "off")
            .env_remove("SWITCHBOARD_EMAIL")
            .env_remove("SWITCHBOARD_PASSWORD")
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("tauri-driver starts");
        Driver {
            child,
            port,
            session: Default::default(),
        }
    }

    /// Opens a W3C session on the app, retrying while tauri-driver is still starting.
    async fn session(&self, application: &Path) -> Browser {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("http client");
        let base = format!("http://127.0.0.1:{}", self.port);
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "tauri:options": { "application": application.display().to_string() }
                }
            }
        });
        // tauri-driver listens before its WebKitWebDriver does: until both are up the request
        // fails (refused, or the proxy drops it), so retry until the deadline.
        let deadline = Instant::now() + UI_TIMEOUT;
        let session = loop {
            let failure = match http
                .post(format!("{base}/session"))
                .json(&capabilities)
                .send()
                .await
            {
                Ok(response) => {
                    let status = response.status();
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    match body["value"]["sessionId"].as_str() {
                        Some(id) => break id.to_owned(),
                        None => format!("{status}: {body}"),
                    }
                }
                Err(error) => error.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "tauri-driver opened no session: {failure}"
            );
            tokio::time::sleep(POLL).await;
        };
        *self.session.lock().expect("session lock") = Some(session.clone());
        Browser {
            http,
            url: format!("{base}/session/{session}"),
            session: self.session.clone(),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // A test that panicked never reached `Browser::end`: end the session so the one-session
        // WebKitWebDriver is free for the next run, then end the whole process group.
        if let Some(session) = self.session.lock().ok().and_then(|mut held| held.take()) {
            delete_session_blocking(self.port, &session);
        }
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// Drop cannot await, so the DELETE goes out as plain HTTP/1.1 over a blocking socket.
fn delete_session_blocking(port: u16, session: &str) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}

/// A minimal W3C WebDriver client: just what this test uses.
struct Browser {
    http: reqwest::Client,
    url: String,
    session: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

/// The W3C key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|error| error.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|error| error.to_string())?;
        if status.is_success() {
            Ok(body["value"].clone())
        } else {
            Err(format!("{status}: {}", body["value"]))
        }
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn execute(&self, script: &str) -> Result<Value, String> {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    async fn execute_async(&self, script: &str) -> Result<Value, String> {
        self.post("/execute/async", json!({ "script": script, "args": [] }))
            .await
    }

    async fn try_find(&self, css: &str) -> Result<String, String> {
        let found = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await?;
        found[ELEMENT_KEY]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no element reference in {found}"))
    }

    async fn find(&self, css: &str) -> String {
        self.try_find(css)
            .await
            .unwrap_or_else(|error| panic!("{css} is on screen: {error}"))
    }

    async fn text(&self, element: &str) -> Result<String, String> {
        let text = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{element}/text"),
                None,
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    async fn click(&self, element: &str) {
        self.post(&format!("/element/{element}/click"), json!({}))
            .await
            .unwrap_or_else(|error| panic!("click: {error}"));
    }

    async fn type_into(&self, element: &str, text: &str) {
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await
        .unwrap_or_else(|error| panic!("typing {text:?}: {error}"));
    }

    /// Polls until `check` succeeds. The DOM has no event a WebDriver client could await, so
    /// polling with a deadline is the synchronisation here; errors (the first query after a new
    /// session can reset the connection) count as "not yet".
    async fn poll<T, F, Fut>(&self, what: &str, check: F) -> T
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<T>, String>>,
    {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let last = match check().await {
                Ok(Some(value)) => return value,
                Ok(None) => "not yet".to_owned(),
                Err(error) => error,
            };
            if Instant::now() > deadline {
                self.screenshot(&workspace_root().join("target/e2e-artifacts/desktop-timeout.png"))
                    .await;
                panic!("timed out after {UI_TIMEOUT:?} waiting for {what} (last: {last})");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn wait_for_script(&self, what: &str, script: &str) {
        self.poll(what, || async {
            Ok((self.execute(script).await? == Value::Bool(true)).then_some(()))
        })
        .await;
    }

    async fn wait_for_element(&self, css: &str) -> String {
        self.poll(css, || async { self.try_find(css).await.map(Some) })
            .await
    }

    async fn wait_for_text(&self, css: &str, accept: impl Fn(&str) -> bool) -> String {
        self.poll(css, || async {
            let element = self.try_find(css).await?;
            let text = self.text(&element).await?;
            if accept(&text) {
                Ok(Some(text))
            } else {
                Err(format!("the text reads {text:?}"))
            }
        })
        .await
    }

    /// Saves a screenshot; a failure to take one is reported but never fails the test.
    async fn screenshot(&self, path: &Path) {
        let shot = match self.call(reqwest::Method::GET, "/screenshot", None).await {
            Ok(shot) => shot,
            Err(error) => {
                eprintln!("no screenshot {}: {error}", path.display());
                return;
            }
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(shot.as_str().unwrap_or_default())
            .map_err(|error| error.to_string())
            .and_then(|png| std::fs::write(path, png).map_err(|error| error.to_string()));
        match decoded {
            Ok(()) => eprintln!("screenshot: {}", path.display()),
            Err(error) => eprintln!("no screenshot {}: {error}", path.display()),
        }
    }

    /// Deletes the session (which closes the app).
    async fn end(self) {
        let held = self.session.lock().expect("session lock").take();
        if held.is_some() {
            self.call(reqwest::Method::DELETE, "", None)
                .await
                .unwrap_or_else(|error| panic!("deleting the session: {error}"));
        }
    }
}

/// D04 through the tray exactly as a Linux desktop sees it: the app's StatusNotifierItem menu
/// over D-Bus (libayatana-appindicator's `com.canonical.dbusmenu`). Needs the session bus that
/// `cargo xtask test` provides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d04_tray_lists_a_ringing_request_mutes_accepts_and_quits() {
    assert!(
        std::env::var_os("DISPLAY").is_some()
            && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "the tray test needs a display and a D-Bus session: run it through `cargo xtask test`"
    );
    install_tls_provider();
    let server = TestServer::start().await;
    let data_dir = tempfile::tempdir().expect("temporary app data folder");
    let mut app = AppProcess::start(&server.url(), data_dir.path());
    let bus = zbus::Connection::session().await.expect("the session bus");
    let tray = TrayMenu::find(&bus, app.pid()).await;

    tray.wait_for("the signed-in idle tray", |menu| {
        menu.status() == Some("nothing waiting")
    })
    .await;

    let mut visitor = TestVisitor::connect(&server.url(), "demo").await;
    let chat = visitor
        .start_chat("Tess Tray", "Is the tray ringing?")
        .await;
    let menu = tray
        .wait_for("the ringing request in the menu", |menu| {
            menu.status()
                .is_some_and(|status| status.contains("1 ringing"))
                && menu
                    .find("Ringing: Tess Tray: Is the tray ringing?")
                    .and_then(|request| request.children.first())
                    .is_some_and(|wait| {
                        wait.label.starts_with("Waiting ") && wait.label.ends_with(" s")
                    })
        })
        .await;

    let mute = menu.find("Mute ringing").expect("a Mute ringing item");
    tray.click(mute.id).await;
    tray.wait_for("the global mute to show", |menu| {
        menu.find("Mute ringing")
            .is_some_and(|item| item.toggle == Some(1))
            && menu
                .status()
                .is_some_and(|status| status.contains("ringing muted"))
    })
    .await;

    let accept = menu
        .find_prefix("Ringing: Tess Tray: Is the tray ringing?")
        .and_then(|request| request.children.iter().find(|item| item.label == "Accept"))
        .expect("the ringing request offers Accept")
        .id;
    tray.click(accept).await;
    visitor
        .wait_for("the chat to be accepted from the tray", |event| {
            matches!(event, VisitorEvent::ChatUpdated { chat: updated }
                if updated.id == chat.id && updated.state == ChatState::Active)
        })
        .await;
    tray.wait_for("the request to leave the menu once accepted", |menu| {
        menu.find_prefix("Ringing: Tess Tray: Is the tray ringing?")
            .is_none()
    })
    .await;

    // D04: with a chat active, Quit asks first (in the console) instead of ending the app.
    let quit = tray.layout().await.find("Quit").expect("a Quit item").id;
    tray.click(quit).await;
    assert!(
        tokio::time::timeout(Duration::from_secs(2), app.child.wait())
            .await
            .is_err(),
        "Quit with a chat active must ask before ending the app"
    );

    // Once nothing is active, Quit ends the app at once. The core learns of the end through its
    // event stream, so click again until it has (bounded by the UI timeout).
    visitor.leave().await;
    let deadline = tokio::time::Instant::now() + UI_TIMEOUT;
    let status = loop {
        let quit = tray.layout().await.find("Quit").expect("a Quit item").id;
        tray.click(quit).await;
        match tokio::time::timeout(Duration::from_secs(1), app.child.wait()).await {
            Ok(status) => break status.expect("the app's exit status"),
            Err(_) => assert!(
                tokio::time::Instant::now() < deadline,
                "Quit with no chat active ends the app"
            ),
        }
    };
    assert!(status.success(), "Quit is a clean exit, not {status}");
}

/// B02 and D04: muting from the tray is server-side (another device of the same operator sees
/// the request move to Awaiting), "Mute all ringing requests" mutes every one, and a screenshot
/// of the app while ringing is kept next to the build output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b02_muting_from_the_tray_moves_requests_to_awaiting_on_the_server() {
    assert!(
        std::env::var_os("DISPLAY").is_some()
            && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "the tray test needs a display and a D-Bus session: run it through `cargo xtask test`"
    );
    install_tls_provider();
    let server = TestServer::start().await;
    let data_dir = tempfile::tempdir().expect("temporary app data folder");
    let app = AppProcess::start(&server.url(), data_dir.path());
    let bus = zbus::Connection::session().await.expect("the session bus");
    let tray = TrayMenu::find(&bus, app.pid()).await;
    tray.wait_for("the signed-in idle tray", |menu| {
        menu.status() == Some("nothing waiting")
    })
    .await;
    // The same operator on another device: it sees what the server decided.
    let mut other_device = TestOperator::sign_in(&server.url(), ANN, DEMO_PASSWORD).await;

    let mut visitor = TestVisitor::connect(&server.url(), "demo").await;
    let muted = visitor.start_chat("Mia Mute", "Mute me please").await.id;
    let menu = tray
        .wait_for("the ringing request in the menu", |menu| {
            menu.find_prefix("Ringing: Mia Mute: Mute me please")
                .is_some()
        })
        .await;
    // The whole display: WebKit draws through GL, so a capture of the window alone comes out
    // black. Windows of tests running alongside may cover this app's.
    let screenshot = workspace_root().join("target/desktop-ringing.png");
    let shot = Command::new("import")
        .args(["-window", "root"])
        .arg(&screenshot)
        .status();
    assert!(
        shot.is_ok_and(|status| status.success()),
        "a screenshot while ringing (imagemagick's import)"
    );
    let mute = menu
        .find_prefix("Ringing: Mia Mute: Mute me please")
        .and_then(|request| {
            request
                .children
                .iter()
                .find(|item| item.label == "Mute this request")
        })
        .expect("the ringing request offers Mute")
        .id;
    tray.click(mute).await;
    other_device
        .wait_for("the server to mute the request", |event| {
            matches!(event, OperatorEvent::RingStopped { chat, reason: RingStopReason::Muted }
                if *chat == muted)
        })
        .await;
    tray.wait_for("the muted request to leave the menu", |menu| {
        menu.find_prefix("Ringing: Mia Mute").is_none()
    })
    .await;

    let mut first = TestVisitor::connect(&server.url(), "demo").await;
    let mut second = TestVisitor::connect(&server.url(), "demo").await;
    let one = first.start_chat("Ona", "first").await.id;
    let two = second.start_chat("Tim", "second").await.id;
    let menu = tray
        .wait_for("both requests in the menu", |menu| {
            menu.find_prefix("Ringing: Ona").is_some() && menu.find_prefix("Ringing: Tim").is_some()
        })
        .await;
    let mute_all = menu
        .find("Mute all ringing requests")
        .expect("a Mute all ringing requests item")
        .id;
    tray.click(mute_all).await;
    let mut waiting = vec![one, two];
    while !waiting.is_empty() {
        let event = other_device
            .wait_for("the server to mute every request", |event| {
                matches!(
                    event,
                    OperatorEvent::RingStopped {
                        reason: RingStopReason::Muted,
                        ..
                    }
                )
            })
            .await;
        if let OperatorEvent::RingStopped { chat, .. } = event {
            waiting.retain(|waiting| *waiting != chat);
        }
    }
    tray.wait_for("an idle tray again", |menu| {
        menu.status()
            .is_some_and(|status| !status.contains("ringing"))
    })
    .await;
}

/// D07: a second launch on the same data folder exits at once and brings the first one's
/// window to the front (the first was started hidden in the tray, as autostart does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d07_a_second_launch_exits_and_brings_the_first_to_the_front() {
    assert!(
        std::env::var_os("DISPLAY").is_some()
            && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "the single-instance test needs a display and a D-Bus session: run it through `cargo xtask test`"
    );
    install_tls_provider();
    let server = TestServer::start().await;
    let data_dir = tempfile::tempdir().expect("temporary app data folder");
    let mut first = AppProcess::start_with(&server.url(), data_dir.path(), &["--minimised"]);
    let bus = zbus::Connection::session().await.expect("the session bus");
    // The tray being up means setup ran, so the window has been hidden if it ever will be.
    TrayMenu::find(&bus, first.pid()).await;
    let first_pid = first.pid();
    wait_for_window(
        first_pid,
        "the first window hidden in the tray",
        |viewable| !viewable,
    )
    .await;

    let mut second = AppProcess::start(&server.url(), data_dir.path());
    let status = tokio::time::timeout(UI_TIMEOUT, second.child.wait())
        .await
        .expect("the second launch exits by itself")
        .expect("its exit status");
    assert!(
        status.success(),
        "the second launch exits cleanly, not {status}"
    );
    wait_for_window(first_pid, "the first window shown", |viewable| viewable).await;
    assert!(
        first
            .child
            .try_wait()
            .expect("the first app's status")
            .is_none(),
        "the first app keeps running"
    );
}

/// D05 through a real D-Bus notification server (this test owns
/// `org.freedesktop.Notifications`): a ringing request is notified once while the window is
/// hidden, with Accept; "Accept" on the notification accepts the chat, and clicking another
/// request's notification brings the window up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d05_notifications_accept_and_open_from_the_notification_server() {
    assert!(
        std::env::var_os("DISPLAY").is_some()
            && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "the notification test needs a display and a D-Bus session: run it through `cargo xtask test`"
    );
    install_tls_provider();
    // A private session bus: on the shared one, another test's app may already have had the
    // bus start dunst as the notification server.
    let private_bus = PrivateBus::start();
    let (shown, mut notifications) = tokio::sync::mpsc::unbounded_channel();
    let notification_server = zbus::connection::Builder::address(private_bus.address.as_str())
        .expect("the private bus address")
        .name("org.freedesktop.Notifications")
        .expect("a valid name")
        .serve_at(
            "/org/freedesktop/Notifications",
            NotificationServer { shown, next_id: 0 },
        )
        .expect("a valid path")
        .build()
        .await
        .expect("this test is the session's notification server");

    let server = TestServer::start().await;
    let data_dir = tempfile::tempdir().expect("temporary app data folder");
    // Hidden in the tray, so the window is not focused and requests are notified.
    let app = AppProcess::start_on_bus(
        &server.url(),
        data_dir.path(),
        &["--minimised"],
        Some(&private_bus.address),
    );
    let bus = zbus::connection::Builder::address(private_bus.address.as_str())
        .expect("the private bus address")
        .build()
        .await
        .expect("the private bus");
    let tray = TrayMenu::find(&bus, app.pid()).await;
    tray.wait_for("the signed-in idle tray", |menu| {
        menu.status() == Some("nothing waiting")
    })
    .await;
    wait_for_window(app.pid(), "the window hidden in the tray", |viewable| {
        !viewable
    })
    .await;

    let mut nina = TestVisitor::connect(&server.url(), "demo").await;
    let nina_chat = nina.start_chat("Nina Note", "notify me").await.id;
    let mut otto = TestVisitor::connect(&server.url(), "demo").await;
    otto.start_chat("Otto Open", "open me").await;
    let mut nina_notification = None;
    let mut otto_notification = None;
    let deadline = Instant::now() + UI_TIMEOUT;
    while nina_notification.is_none() || otto_notification.is_none() {
        let shown = tokio::time::timeout_at(deadline.into(), notifications.recv())
            .await
            .expect("both requests are notified in time")
            .expect("the notification server runs");
        if shown.summary == "Nina Note – notify me" {
            assert!(nina_notification.is_none(), "one notification per request");
            assert!(
                shown.actions.chunks(2).any(|pair| pair[0] == "accept"),
                "a ringing request offers Accept: {:?}",
                shown.actions
            );
            nina_notification = Some(shown.id);
        } else if shown.summary == "Otto Open – open me" {
            otto_notification = Some(shown.id);
        }
    }
    let invoke = |id: u32, action: &'static str| {
        let connection = notification_server.clone();
        async move {
            connection
                .emit_signal(
                    None::<()>,
                    "/org/freedesktop/Notifications",
                    "org.freedesktop.Notifications",
                    "ActionInvoked",
                    &(id, action),
                )
                .await
                .expect("the signal goes out");
        }
    };
    invoke(nina_notification.expect("seen above"), "accept").await;
    nina.wait_for("the chat to be accepted from its notification", |event| {
        matches!(event, VisitorEvent::ChatUpdated { chat }
            if chat.id == nina_chat && chat.state == ChatState::Active)
    })
    .await;
    invoke(otto_notification.expect("seen above"), "default").await;
    wait_for_window(
        app.pid(),
        "the window brought up by the click",
        |viewable| viewable,
    )
    .await;
}

/// A session bus of the test's own, ended when dropped.
struct PrivateBus {
    child: Child,
    address: String,
}

impl PrivateBus {
    fn start() -> PrivateBus {
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let stdout = child.stdout.take().expect("its address output");
        let mut address = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut address)
            .expect("dbus-daemon prints its address");
        PrivateBus {
            child,
            address: address.trim().to_owned(),
        }
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A notification the app showed.
#[derive(Debug)]
struct ShownNotification {
    id: u32,
    summary: String,
    actions: Vec<String>,
}

/// Just enough of the freedesktop notification server for the app to talk to.
struct NotificationServer {
    shown: tokio::sync::mpsc::UnboundedSender<ShownNotification>,
    next_id: u32,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl NotificationServer {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        _body: String,
        actions: Vec<String>,
        _hints: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        self.next_id += 1;
        let _ = self.shown.send(ShownNotification {
            id: self.next_id,
            summary,
            actions,
        });
        self.next_id
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".to_owned(), "body".to_owned()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "switchboard-test".to_owned(),
            "switchboard".to_owned(),
            "1".to_owned(),
            "1.2".to_owned(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

/// Whether the app with `pid` has a viewable top-level window, read from the X server:
/// `None` while it has none.
fn window_viewable(pid: u32) -> Option<bool> {
    app_windows(pid)
        .into_iter()
        .map(|(_, viewable)| viewable)
        .reduce(|any, viewable| any || viewable)
}

/// The app's top-level windows (X ids) and whether each is viewable.
fn app_windows(pid: u32) -> Vec<(String, bool)> {
    let Ok(tree) = Command::new("xwininfo").args(["-root", "-tree"]).output() else {
        return Vec::new();
    };
    let tree = String::from_utf8_lossy(&tree.stdout);
    let mut windows = Vec::new();
    for line in tree.lines().filter(|line| line.contains("\"Switchboard\"")) {
        let Some(window) = line.split_whitespace().next() else {
            continue;
        };
        let Ok(owner) = Command::new("xprop")
            .args(["-id", window, "_NET_WM_PID"])
            .output()
        else {
            continue;
        };
        let owner = String::from_utf8_lossy(&owner.stdout);
        if owner.trim().rsplit(' ').next() != Some(pid.to_string().as_str()) {
            continue;
        }
        let Ok(info) = Command::new("xwininfo").args(["-id", window]).output() else {
            continue;
        };
        let viewable = String::from_utf8_lossy(&info.stdout).contains("IsViewable");
        windows.push((window.to_owned(), viewable));
    }
    windows
}

async fn wait_for_window(pid: u32, what: &str, accept: impl Fn(bool) -> bool) {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let state = window_viewable(pid);
        if state.is_some_and(&accept) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; the window is {state:?} (viewable)"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The app started directly (no WebDriver), signed in at start, in a process group of its own.
struct AppProcess {
    child: tokio::process::Child,
}

impl AppProcess {
    fn start(server_url: &str, data_dir: &Path) -> AppProcess {
        AppProcess::start_with(server_url, data_dir, &[])
    }

    fn start_with(server_url: &str, data_dir: &Path, arguments: &[&str]) -> AppProcess {
        AppProcess::start_on_bus(server_url, data_dir, arguments, None)
    }

    /// `bus`: a session bus address other than the test's own.
    fn start_on_bus(
        server_url: &str,
        data_dir: &Path,
        arguments: &[&str],
        bus: Option<&str>,
    ) -> AppProcess {
        let mut command = tokio::process::Command::new(app_binary());
        if let Some(bus) = bus {
            command.env("DBUS_SESSION_BUS_ADDRESS", bus);
        }
        let child = command
            .args(arguments)
            .env("SWITCHBOARD_SERVER_URL", server_url)
            .env("SWITCHBOARD_DATA_DIR", data_dir)
            .env("SWITCHBOARD_CREDENTIALS", "memory")
            .env("SWITCHBOARD_AUDIO", "off")
            .env("SWITCHBOARD_EMAIL", "ann@example.com")
            .env("SWITCHBOARD_PASSWORD", "switchboard")
            .stdin(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("the app starts");
        AppProcess { child }
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("the app is running")
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        // WebKit's helper processes share the group: end them with the app.
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
        }
    }
}

/// One item of a dbusmenu layout.
#[derive(Debug)]
struct TrayItem {
    id: i32,
    label: String,
    toggle: Option<i32>,
    enabled: bool,
    children: Vec<TrayItem>,
}

impl TrayItem {
    /// A child: a variant holding `(ia{sv}av)`.
    fn parse(value: &zbus::zvariant::Value<'_>) -> TrayItem {
        use zbus::zvariant::Value;
        let value = match value {
            Value::Value(inner) => inner.as_ref(),
            other => other,
        };
        let Value::Structure(structure) = value else {
            panic!("a dbusmenu item is a structure, not {value:?}");
        };
        let fields = structure.fields();
        let Value::I32(id) = fields[0] else {
            panic!("a dbusmenu item id is an i32");
        };
        let mut properties = Vec::new();
        if let Value::Dict(dict) = &fields[1] {
            for (key, value) in dict.iter() {
                if let Value::Str(key) = key {
                    properties.push((key.as_str().to_owned(), value));
                }
            }
        }
        let children: Vec<&Value<'_>> = match &fields[2] {
            Value::Array(children) => children.iter().collect(),
            _ => Vec::new(),
        };
        TrayItem::build(id, properties, children)
    }

    fn build<'v>(
        id: i32,
        properties: Vec<(String, &'v zbus::zvariant::Value<'v>)>,
        children: Vec<&'v zbus::zvariant::Value<'v>>,
    ) -> TrayItem {
        use zbus::zvariant::Value;
        let mut item = TrayItem {
            id,
            label: String::new(),
            toggle: None,
            enabled: true,
            children: children.into_iter().map(TrayItem::parse).collect(),
        };
        for (key, value) in properties {
            let value = match value {
                Value::Value(inner) => inner.as_ref(),
                other => other,
            };
            match (key.as_str(), value) {
                ("label", Value::Str(label)) => item.label = label.as_str().to_owned(),
                ("toggle-state", Value::I32(state)) => item.toggle = Some(*state),
                ("enabled", Value::Bool(enabled)) => item.enabled = *enabled,
                _ => {}
            }
        }
        item
    }

    fn find(&self, label: &str) -> Option<&TrayItem> {
        if self.label == label {
            return Some(self);
        }
        self.children.iter().find_map(|child| child.find(label))
    }

    /// The first item whose label starts with `prefix`: ringing requests count their seconds.
    fn find_prefix(&self, prefix: &str) -> Option<&TrayItem> {
        if self.label.starts_with(prefix) {
            return Some(self);
        }
        self.children
            .iter()
            .find_map(|child| child.find_prefix(prefix))
    }

    /// The first, disabled item: the counters in words.
    fn status(&self) -> Option<&str> {
        self.children
            .first()
            .filter(|item| !item.enabled)
            .map(|item| item.label.as_str())
    }
}

/// The app's tray menu on the session bus.
struct TrayMenu {
    bus: zbus::Connection,
    owner: String,
    path: String,
}

impl TrayMenu {
    /// Finds the StatusNotifierItem the app with `pid` exports.
    async fn find(bus: &zbus::Connection, pid: u32) -> TrayMenu {
        let dbus = zbus::fdo::DBusProxy::new(bus)
            .await
            .expect("the bus daemon");
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            for name in dbus.list_names().await.expect("bus names") {
                if !name.starts_with(':') {
                    continue;
                }
                let owner = zbus::names::BusName::from(name.clone());
                let owner_pid =
                    tokio::time::timeout(DBUS_CALL, dbus.get_connection_unix_process_id(owner))
                        .await;
                if !matches!(owner_pid, Ok(Ok(owner_pid)) if owner_pid == pid) {
                    continue;
                }
                if let Some(node) = notification_item_node(bus, name.as_str()).await {
                    return TrayMenu {
                        bus: bus.clone(),
                        owner: name.to_string(),
                        path: format!("/org/ayatana/NotificationItem/{node}/Menu"),
                    };
                }
            }
            assert!(
                Instant::now() < deadline,
                "the app exported no tray icon on D-Bus"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    async fn layout(&self) -> TrayItem {
        let reply = self
            .bus
            .call_method(
                Some(self.owner.as_str()),
                self.path.as_str(),
                Some("com.canonical.dbusmenu"),
                "GetLayout",
                &(0i32, -1i32, Vec::<String>::new()),
            )
            .await
            .expect("GetLayout answers");
        let body = reply.body();
        type Properties = std::collections::HashMap<String, zbus::zvariant::OwnedValue>;
        let (_revision, (id, properties, children)): (
            u32,
            (i32, Properties, Vec<zbus::zvariant::OwnedValue>),
        ) = body.deserialize().expect("a dbusmenu layout");
        TrayItem::build(
            id,
            properties
                .iter()
                .map(|(key, value)| (key.clone(), &**value))
                .collect(),
            children.iter().map(|child| &**child).collect(),
        )
    }

    /// Polls the menu: dbusmenu has a LayoutUpdated signal, but item property changes come
    /// separately, and a bounded poll reads the same state a tray host would.
    async fn wait_for(&self, what: &str, accept: impl Fn(&TrayItem) -> bool) -> TrayItem {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let layout = self.layout().await;
            if accept(&layout) {
                return layout;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the tray menu is {layout:#?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks an item the way a tray host does.
    async fn click(&self, id: i32) {
        self.bus
            .call_method(
                Some(self.owner.as_str()),
                self.path.as_str(),
                Some("com.canonical.dbusmenu"),
                "Event",
                &(id, "clicked", zbus::zvariant::Value::from(""), 0u32),
            )
            .await
            .expect("the menu takes the click");
    }
}

/// The child node of `/org/ayatana/NotificationItem` a connection exports, if any.
async fn notification_item_node(bus: &zbus::Connection, owner: &str) -> Option<String> {
    let call = bus.call_method(
        Some(owner),
        "/org/ayatana/NotificationItem",
        Some("org.freedesktop.DBus.Introspectable"),
        "Introspect",
        &(),
    );
    let reply = tokio::time::timeout(DBUS_CALL, call).await.ok()?.ok()?;
    let xml: String = reply.body().deserialize().ok()?;
    let start = xml.find("<node name=\"")? + "<node name=\"".len();
    let end = start + xml[start..].find('"')?;
    Some(xml[start..end].to_owned())
}
