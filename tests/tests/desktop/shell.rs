use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use switchboard_protocol::{ChatState, OperatorEvent, RingStopReason, VisitorEvent};
use switchboard_server::test_support::{ANN, DEMO_PASSWORD, TestOperator, TestServer, TestVisitor};

use super::support::*;

/// D04 through the tray exactly as a Linux desktop sees it: the app's StatusNotifierItem menu
/// over D-Bus (libayatana-appindicator's `com.canonical.dbusmenu`). Needs the session bus that
/// `cargo xtask test` provides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d04_tray_lists_a_ringing_request_mutes_accepts_and_quits() {
    let mut setup = TraySetup::start().await;
    let (server, tray) = (&setup.server, &setup.tray);

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
        tokio::time::timeout(Duration::from_secs(2), setup.app.child.wait())
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
        match tokio::time::timeout(Duration::from_secs(1), setup.app.child.wait()).await {
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
    let setup = TraySetup::start().await;
    let (server, tray) = (&setup.server, &setup.tray);
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

/// D04: the tray icon itself, as a Linux tray host reads it over D-Bus (the StatusNotifierItem's
/// `IconName` is the PNG the app wrote; its pixels are compared with `icons/tray*.png`): idle,
/// alternating ringing/idle frames while a request rings, with the ringing count as the label
/// next to the icon; muted when ringing is muted or the operator is away (do not disturb);
/// offline when the server is gone. The counters in words are the menu's first item (the Linux
/// tray has no tooltips).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d04_tray_icon_alternates_while_ringing_and_shows_muted_away_and_offline() {
    let setup = TraySetup::start().await;
    let (server, tray) = (&setup.server, &setup.tray);
    let looks = TrayLooks::load();
    tray.wait_for_look(&looks, "the idle icon", &[Look::Idle])
        .await;
    assert_eq!(tray.label().await, "", "no badge while nothing rings");

    let mut visitor = TestVisitor::connect(&server.url(), "demo").await;
    visitor.start_chat("Ivy Icon", "Does it blink?").await;
    // Ringing alternates the ringing icon with the idle one, once a second.
    let seen = tray
        .wait_for_look(
            &looks,
            "the icon to alternate while ringing",
            &[Look::Ringing, Look::Idle, Look::Ringing],
        )
        .await;
    eprintln!("tray icons seen while ringing: {seen:?}");
    assert_eq!(
        tray.label().await,
        "1",
        "the badge counts the ringing request"
    );
    let menu = tray
        .wait_for("the ringing request in the menu", |menu| {
            menu.status()
                .is_some_and(|status| status.contains("1 ringing"))
                && menu.find_prefix("Ringing: Ivy Icon").is_some()
        })
        .await;
    let mute_all = menu.find("Mute ringing").expect("a Mute ringing item").id;
    tray.click(mute_all).await;
    // Muting silences the sound only: the request still rings, so the icon still alternates.
    tray.wait_for("the global mute to show", |menu| {
        menu.status()
            .is_some_and(|status| status.contains("ringing muted"))
    })
    .await;
    let mute_request = menu
        .find_prefix("Ringing: Ivy Icon")
        .and_then(|request| {
            request
                .children
                .iter()
                .find(|item| item.label == "Mute this request")
        })
        .expect("the ringing request offers Mute")
        .id;
    tray.click(mute_request).await;
    tray.wait_for_look(&looks, "the muted icon once nothing rings", &[Look::Muted])
        .await;
    assert_eq!(tray.label().await, "", "no badge once nothing rings");
    // Unmute: idle again.
    let menu = tray.layout().await;
    tray.click(menu.find("Mute ringing").expect("Mute ringing").id)
        .await;
    tray.wait_for_look(&looks, "the idle icon after unmuting", &[Look::Idle])
        .await;

    // Away is do-not-disturb: the muted look, and the status says so.
    let away = menu.find("Away").expect("an Away item").id;
    tray.click(away).await;
    tray.wait_for("away in the status", |menu| {
        menu.status()
            .is_some_and(|status| status.contains("away (do not disturb)"))
    })
    .await;
    tray.wait_for_look(&looks, "the muted icon while away", &[Look::Muted])
        .await;
    let online = menu.find("Online").expect("an Online item").id;
    tray.click(online).await;
    tray.wait_for_look(&looks, "the idle icon when back online", &[Look::Idle])
        .await;

    // The server goes away: offline.
    setup.server.stop().await;
    tray.wait_for_look(&looks, "the offline icon", &[Look::Offline])
        .await;
    drop(visitor);
}

/// B02 in the real console: a request rings, the console shows it (screenshot kept in
/// target/e2e-artifacts), it is muted from the tray menu, and the console lists it under
/// Awaiting, no longer under Unassigned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b02_a_request_muted_from_the_tray_shows_under_awaiting_in_the_console() {
    require_display_and_session_bus("the tray test");
    install_tls_provider();
    let server = TestServer::start().await;
    let data_dir = tempfile::tempdir().expect("temporary app data folder");
    let artifacts = workspace_root().join("target/e2e-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifact folder");
    let driver = Driver::start(&server.url(), data_dir.path());
    let browser = driver.session(&app_binary()).await;
    browser.sign_in("ann@example.com", "Ann").await;

    let app_pid = app_below(driver.pid()).await;
    let bus = zbus::Connection::session().await.expect("the session bus");
    let tray = TrayMenu::find(&bus, app_pid).await;

    let mut visitor = TestVisitor::connect(&server.url(), "demo").await;
    let chat = visitor.start_chat("Mia Mute", "Mute me please").await.id;
    let row = format!("[data-testid='chat-list'] [data-testid='chat-row-{chat}']");
    let unassigned = browser.find("[data-testid='group-unassigned']").await;
    browser.click(&unassigned).await;
    browser
        .wait_for_element("[data-testid='group-unassigned'][aria-current='page']")
        .await;
    browser.wait_for_element(&row).await;
    browser
        .wait_for_element("[data-testid='ringing-indicator']")
        .await;
    let menu = tray
        .wait_for("the ringing request in the menu", |menu| {
            menu.find_prefix("Ringing: Mia Mute: Mute me please")
                .is_some()
        })
        .await;
    browser
        .screenshot(&artifacts.join("b02-console-ringing.png"))
        .await;

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
    browser
        .wait_for_text("[data-testid='counter-awaiting']", |text| {
            text.trim() == "1"
        })
        .await;
    browser
        .wait_for_script(
            "the request to leave Unassigned",
            &format!(
                "return document.querySelector(\"[data-testid='chat-list'] [data-testid='chat-row-{chat}']\") === null"
            ),
        )
        .await;
    let awaiting = browser.find("[data-testid='group-awaiting']").await;
    browser.click(&awaiting).await;
    browser
        .wait_for_element("[data-testid='group-awaiting'][aria-current='page']")
        .await;
    browser.wait_for_element(&row).await;
    browser
        .wait_for_script(
            "the ringing indicator to go",
            "return document.querySelector(\"[data-testid='ringing-indicator']\") === null",
        )
        .await;
    browser
        .screenshot(&artifacts.join("b02-console-awaiting.png"))
        .await;
    browser.end().await;
    drop(driver);
}

/// D07: a second launch on the same data folder exits at once and brings the first one's
/// window to the front (the first was started hidden in the tray, as autostart does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d07_a_second_launch_exits_and_brings_the_first_to_the_front() {
    require_display_and_session_bus("the single-instance test");
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
    require_display_and_session_bus("the notification test");
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

/// Fails with a clear message outside the session `cargo xtask test` provides.
fn require_display_and_session_bus(test: &str) {
    assert!(
        std::env::var_os("DISPLAY").is_some()
            && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "{test} needs a display and a D-Bus session: run it through `cargo xtask test`"
    );
}

/// What every tray test starts from: a server, the app started directly and signed in as Ann,
/// and its tray found on the session bus and showing the signed-in idle status.
struct TraySetup {
    server: TestServer,
    app: AppProcess,
    tray: TrayMenu,
    /// The app's data folder, held only to be deleted when the test ends. Fields drop in
    /// order: the app ends before its folder goes.
    _data_dir: tempfile::TempDir,
}

impl TraySetup {
    async fn start() -> TraySetup {
        require_display_and_session_bus("the tray test");
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
        TraySetup {
            server,
            app,
            tray,
            _data_dir: data_dir,
        }
    }
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

/// What the tray icon shows, told apart by the icon files' pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Look {
    Idle,
    Ringing,
    Muted,
    Offline,
}

/// The pixel signature (imagemagick's `%#`, a hash of the decoded pixels, so re-encoding by the
/// tray library does not change it) of each icon file.
struct TrayLooks {
    signatures: Vec<(Look, String)>,
}

impl TrayLooks {
    fn load() -> TrayLooks {
        let icons = workspace_root().join("icons");
        let signatures = [
            (Look::Idle, "tray.png"),
            (Look::Ringing, "tray-ringing.png"),
            (Look::Muted, "tray-muted.png"),
            (Look::Offline, "tray-offline.png"),
        ]
        .into_iter()
        .map(|(look, file)| {
            let signature = pixel_signature(&icons.join(file))
                .unwrap_or_else(|| panic!("imagemagick reads icons/{file}"));
            (look, signature)
        })
        .collect::<Vec<_>>();
        for (index, (look, signature)) in signatures.iter().enumerate() {
            assert!(
                signatures[index + 1..]
                    .iter()
                    .all(|(_, other)| other != signature),
                "the {look:?} icon must differ from the others"
            );
        }
        TrayLooks { signatures }
    }

    fn look_of(&self, file: &Path) -> Option<Look> {
        let signature = pixel_signature(file)?;
        self.signatures
            .iter()
            .find(|(_, known)| *known == signature)
            .map(|(look, _)| *look)
    }
}

fn pixel_signature(file: &Path) -> Option<String> {
    let output = Command::new("identify")
        .args(["-format", "%#"])
        .arg(file)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let signature = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !signature.is_empty()).then_some(signature)
}

impl TrayMenu {
    /// The StatusNotifierItem's own path (the menu hangs below it).
    fn item_path(&self) -> &str {
        self.path.trim_end_matches("/Menu")
    }

    async fn item_property(&self, name: &str) -> Option<zbus::zvariant::OwnedValue> {
        let arguments = ("org.kde.StatusNotifierItem", name);
        let call = self.bus.call_method(
            Some(self.owner.as_str()),
            self.item_path(),
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &arguments,
        );
        let reply = tokio::time::timeout(DBUS_CALL, call).await.ok()?.ok()?;
        let value: zbus::zvariant::OwnedValue = reply.body().deserialize().ok()?;
        Some(value)
    }

    async fn string_property(&self, name: &str) -> Option<String> {
        let value = self.item_property(name).await?;
        String::try_from(value).ok()
    }

    /// The text next to the icon (ayatana's label): the ringing count, or empty.
    async fn label(&self) -> String {
        self.string_property("XAyatanaLabel")
            .await
            .unwrap_or_default()
    }

    /// The icon file shown now: `IconName` is a full path, or a name in `IconThemePath`.
    async fn icon_file(&self) -> Option<std::path::PathBuf> {
        let name = self.string_property("IconName").await?;
        let path = std::path::PathBuf::from(&name);
        if path.is_absolute() {
            return Some(path);
        }
        let theme = self.string_property("IconThemePath").await?;
        Some(Path::new(&theme).join(format!("{name}.png")))
    }

    /// Polls the icon until the looks seen, in order (repeats collapsed), end with `wanted`;
    /// returns everything seen. The icon file is replaced at every change, so a read that
    /// loses the race is simply retried.
    async fn wait_for_look(&self, looks: &TrayLooks, what: &str, wanted: &[Look]) -> Vec<Look> {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut seen: Vec<Look> = Vec::new();
        loop {
            if let Some(file) = self.icon_file().await
                && let Some(look) = looks.look_of(&file)
                && seen.last() != Some(&look)
            {
                seen.push(look);
            }
            if seen.ends_with(wanted) {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: the icon showed {seen:?}, now {:?}",
                self.icon_file().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The app tauri-driver started below `root` (the process named `switchboard`).
async fn app_below(root: u32) -> u32 {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let mut frontier = vec![root];
        let mut found = None;
        let processes: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                let (open, close) = (stat.find('(')?, stat.rfind(')')?);
                let parent = stat[close + 1..].split_whitespace().nth(1)?.parse().ok()?;
                Some((pid, parent, stat[open + 1..close].to_owned()))
            })
            .collect();
        while let Some(parent) = frontier.pop() {
            for (pid, ppid, name) in &processes {
                if *ppid == parent {
                    if name == "switchboard" {
                        found = Some(*pid);
                    }
                    frontier.push(*pid);
                }
            }
        }
        if let Some(pid) = found {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "no switchboard process below tauri-driver"
        );
        tokio::time::sleep(POLL).await;
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
