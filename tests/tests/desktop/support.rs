use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// Generous: the first WebKit start on a loaded 2-core machine can take many seconds.
pub(crate) const UI_TIMEOUT: Duration = Duration::from_secs(60);
pub(crate) const POLL: Duration = Duration::from_millis(200);
/// A D-Bus peer that does not answer within this is not the one we look for.
pub(crate) const DBUS_CALL: Duration = Duration::from_secs(5);

/// reqwest (the server's test clients) needs a process-wide TLS provider in this workspace,
/// even for plain HTTP.
pub(crate) fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

pub(crate) fn app_binary() -> PathBuf {
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

pub(crate) fn tauri_driver() -> PathBuf {
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

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// tauri-driver and everything it starts (WebKitWebDriver, the app), in a process group of its
/// own so they all end together, also when the test panics.
pub(crate) struct Driver {
    child: Child,
    port: u16,
    session: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Driver {
    pub(crate) fn start(server_url: &str, data_dir: &Path) -> Driver {
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

    /// tauri-driver's process id: the app it starts runs below it.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Opens a W3C session on the app, retrying while tauri-driver is still starting.
    pub(crate) async fn session(&self, application: &Path) -> Browser {
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
pub(crate) fn delete_session_blocking(port: u16, session: &str) {
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
pub(crate) struct Browser {
    http: reqwest::Client,
    url: String,
    session: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

/// The W3C key of an element reference.
pub(crate) const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    pub(crate) async fn call(
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

    pub(crate) async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub(crate) async fn execute(&self, script: &str) -> Result<Value, String> {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    pub(crate) async fn execute_async(&self, script: &str) -> Result<Value, String> {
        self.post("/execute/async", json!({ "script": script, "args": [] }))
            .await
    }

    pub(crate) async fn try_find(&self, css: &str) -> Result<String, String> {
        let found = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await?;
        found[ELEMENT_KEY]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no element reference in {found}"))
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        self.try_find(css)
            .await
            .unwrap_or_else(|error| panic!("{css} is on screen: {error}"))
    }

    pub(crate) async fn text(&self, element: &str) -> Result<String, String> {
        let text = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{element}/text"),
                None,
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    pub(crate) async fn click(&self, element: &str) {
        self.post(&format!("/element/{element}/click"), json!({}))
            .await
            .unwrap_or_else(|error| panic!("click: {error}"));
    }

    pub(crate) async fn type_into(&self, element: &str, text: &str) {
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
    pub(crate) async fn poll<T, F, Fut>(&self, what: &str, check: F) -> T
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

    pub(crate) async fn wait_for_script(&self, what: &str, script: &str) {
        self.poll(what, || async {
            Ok((self.execute(script).await? == Value::Bool(true)).then_some(()))
        })
        .await;
    }

    pub(crate) async fn wait_for_element(&self, css: &str) -> String {
        self.poll(css, || async { self.try_find(css).await.map(Some) })
            .await
    }

    pub(crate) async fn wait_for_text(&self, css: &str, accept: impl Fn(&str) -> bool) -> String {
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
    /// Waits for the console to load and signs in through its form with the demo password, as
    /// an operator would; returns once the header shows `name`.
    pub(crate) async fn sign_in(&self, email: &str, name: &str) {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "the desktop test needs a display: run it through `cargo xtask test` (Xvfb + D-Bus)"
        );
        self.wait_for_script(
            "the console document to load",
            "return document.readyState === 'complete'",
        )
        .await;
        let field = self.wait_for_element("[data-testid='sign-in-email']").await;
        self.type_into(&field, email).await;
        let password = self.find("[data-testid='sign-in-password']").await;
        self.type_into(&password, "switchboard").await;
        let submit = self.find("[data-testid='sign-in-submit']").await;
        self.click(&submit).await;
        self.wait_for_text("[data-testid='operator-name']", |text| text.contains(name))
            .await;
    }

    pub(crate) async fn screenshot(&self, path: &Path) {
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
    pub(crate) async fn end(self) {
        let held = self.session.lock().expect("session lock").take();
        if held.is_some() {
            self.call(reqwest::Method::DELETE, "", None)
                .await
                .unwrap_or_else(|error| panic!("deleting the session: {error}"));
        }
    }
}
