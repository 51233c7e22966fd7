//! Installing what is missing, building, checking, and running the demo.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::shell::{self, Failure, Guard, Progress, cargo, root, target_dir};

/// Debian packages the build and the demo need (Tauri/webkit2gtk, ALSA for rodio, Secret Service for
/// keyring, a virtual display and session bus for headless machines).
const RUN_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    "libssl-dev",
    "libasound2-dev",
    "build-essential",
    "pkg-config",
    "file",
    "xvfb",
    "dbus-x11",
    "gnome-keyring",
    "libsecret-tools",
    "imagemagick",
];

/// Extra packages for the end-to-end suites: WebKit's WebDriver, Chromium, sox to measure sound,
/// D-Bus bindings and a notification daemon for tray and notification checks.
const TEST_PACKAGES: &[&str] = &[
    "webkit2gtk-driver",
    "sox",
    "chromium",
    "python3-dbus",
    "dunst",
    // xwininfo and xprop: the single-instance and notification tests find the app's window.
    "x11-utils",
];

/// The ring-audio benchmark's real-time sound path: a private PulseAudio with a null sink, its
/// recorder (`parec`), and ALSA's `pulse` plugin so rodio plays into it.
pub const AUDIO_BENCH_PACKAGES: &[&str] = &["pulseaudio", "pulseaudio-utils", "libasound2-plugins"];

/// Installs what `cargo xtask bench ring-audio` needs, skipping what is present.
pub fn install_audio_bench_packages() -> Result<(), Failure> {
    install_system_packages(AUDIO_BENCH_PACKAGES)
}

/// The demo password for every demo account (printed by the server's `--demo` too).
pub const DEMO_PASSWORD: &str = "switchboard";
pub const DEMO_OPERATOR: &str = "ann@example.com";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Run,
    Test,
}

/// Everything that must be on the machine before building: system packages, tauri-driver (tests),
/// and the npm packages of the console and the widget.
pub fn prepare(progress: &mut Progress, purpose: Purpose) -> Result<(), Failure> {
    progress.step("System packages");
    let mut wanted: Vec<&str> = RUN_PACKAGES.to_vec();
    if purpose == Purpose::Test {
        wanted.extend_from_slice(TEST_PACKAGES);
        wanted.extend_from_slice(AUDIO_BENCH_PACKAGES);
    }
    install_system_packages(&wanted)?;
    check_node()?;

    if purpose == Purpose::Test {
        progress.step("tauri-driver (WebDriver bridge for the desktop app)");
        if tauri_driver().is_some() {
            println!("    already installed");
        } else {
            shell::run(cargo().args(["install", "tauri-driver", "--locked"]))?;
        }
    }

    progress.step("npm packages (console and widget)");
    for package in ["ui", "widget"] {
        npm_ci(&root().join(package))?;
    }
    Ok(())
}

fn install_system_packages(wanted: &[&str]) -> Result<(), Failure> {
    if !cfg!(target_os = "linux") || shell::which("dpkg").is_none() {
        println!(
            "    not a Debian/Ubuntu system: skipping system packages. See README.md for the \
             macOS and Windows prerequisites."
        );
        return Ok(());
    }
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|package| !dpkg_installed(package))
        .collect();
    if missing.is_empty() {
        println!("    all {} present", wanted.len());
        return Ok(());
    }
    println!("    missing: {}", missing.join(" "));
    let sudo = if is_root() {
        None
    } else if shell::which("sudo").is_some() {
        Some("sudo")
    } else {
        return Err(Failure::new(format!(
            "these packages are missing and I am neither root nor able to sudo: {}\n\
             install them with: apt-get install {}",
            missing.join(" "),
            missing.join(" ")
        )));
    };
    let apt = |args: &[&str]| {
        let mut command = match sudo {
            Some(sudo) => {
                let mut command = Command::new(sudo);
                command.arg("apt-get");
                command
            }
            None => Command::new("apt-get"),
        };
        command.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        command
    };
    shell::run(&mut apt(&["update", "-q"]))?;
    let mut install = apt(&["install", "-y", "-q"]);
    install.args(&missing);
    shell::run(&mut install)
}

fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(Stdio::null())
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    shell::output(Command::new("id").arg("-u"))
        .map(|uid| uid.trim() == "0")
        .unwrap_or(false)
}

fn check_node() -> Result<(), Failure> {
    let version = shell::output(Command::new("node").arg("--version")).map_err(|_| {
        Failure::new("Node.js 20.19 or newer is needed (with npm): install it, then run me again")
    })?;
    let major: u32 = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        return Err(Failure::new(format!(
            "Node.js {} is too old: 20.19 or newer is needed",
            version.trim()
        )));
    }
    Ok(())
}

/// `npm ci`, skipped when node_modules is already in step with the lock file.
fn npm_ci(dir: &Path) -> Result<(), Failure> {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let fresh = match (modified(&lock), modified(&installed)) {
        (Some(lock), Some(installed)) => installed >= lock,
        _ => false,
    };
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    if fresh {
        println!("    {name}: node_modules up to date");
        return Ok(());
    }
    shell::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir),
    )
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).ok()?.modified().ok()
}

pub fn tauri_driver() -> Option<PathBuf> {
    shell::which("tauri-driver").or_else(|| {
        let home = std::env::var_os("HOME")?;
        let candidate = Path::new(&home).join(".cargo/bin/tauri-driver");
        candidate.is_file().then_some(candidate)
    })
}

fn npm(dir: &str, script: &str) -> Result<(), Failure> {
    shell::run(
        Command::new("npm")
            .args(["run", "--silent", script])
            .current_dir(root().join(dir)),
    )
}

/// Builds the widget bundle, the console, the server and the desktop app.
pub fn build_apps(progress: &mut Progress) -> Result<(), Failure> {
    progress.step("Building the widget and the console");
    npm("widget", "build")?;
    npm("ui", "build")?;
    progress
        .step("Building the server and the desktop app (the first build takes several minutes)");
    shell::run(cargo().args([
        "build",
        "-p",
        "switchboard-server",
        "-p",
        "switchboard-desktop",
    ]))
}

/// `cargo xtask test`: every check, in the order that fails fastest.
pub fn check_everything(progress: &mut Progress) -> Result<(), Failure> {
    progress.step("Formatting (cargo fmt --check)");
    shell::run(cargo().args(["fmt", "--all", "--check"]))?;

    progress.step("Widget: typecheck, unit tests, bundle");
    npm("widget", "check")?;
    npm("widget", "test")?;
    npm("widget", "build")?;

    progress.step("Console: svelte-check, unit tests, accessibility (axe-core in Chromium), build");
    npm("ui", "check")?;
    npm("ui", "test")?;
    npm("ui", "a11y")?;
    npm("ui", "build")?;

    progress.step("Building every crate and test (the first build takes several minutes)");
    shell::run(cargo().args(["build", "--workspace", "--all-targets"]))?;
    shell::run(cargo().args(["build", "-p", "switchboard-e2e", "--test", "desktop"]))?;

    progress.step("Cargo tests (server, core, protocol, in-process end to end)");
    shell::run(cargo().args(["test", "--workspace", "--no-fail-fast"]))?;

    progress.step("Clippy (-D warnings)");
    shell::run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    shell::run(cargo().args([
        "clippy",
        "-p",
        "switchboard-e2e",
        "--test",
        "desktop",
        "--",
        "-D",
        "warnings",
    ]))?;

    progress.step("End to end: the desktop app under Xvfb through tauri-driver");
    let display = VirtualDisplay::start()?;
    let mut desktop = in_session_bus(&[
        "cargo",
        "test",
        "-p",
        "switchboard-e2e",
        "--test",
        "desktop",
    ]);
    desktop
        .env("DISPLAY", &display.name)
        .env("SWITCHBOARD_APP", target_dir().join("debug/switchboard"));
    shell::run(&mut desktop)?;
    drop(display);

    progress.step("End to end: the widget in Chromium");
    shell::run(
        Command::new("npm")
            .args(["run", "--silent", "e2e"])
            .env(
                "SWITCHBOARD_SERVER_BIN",
                target_dir().join("debug/switchboard-server"),
            )
            .current_dir(root().join("widget")),
    )?;
    Ok(())
}

/// A command run inside a private D-Bus session with an unlocked gnome-keyring, so the tray and the
/// OS keychain (Secret Service) work on a headless machine exactly as on a desktop.
pub fn in_session_bus(program_and_args: &[&str]) -> Command {
    // gnome-keyring keeps its keyrings under XDG_DATA_HOME. A keyring left in the user's home by
    // an earlier run with another password makes the unlock fail and the daemon show a password
    // prompt nobody answers, so each session gets a fresh, private keyring folder.
    let keyrings = target_dir()
        .join("session-bus")
        .join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&keyrings);
    let _ = std::fs::create_dir_all(&keyrings);
    let mut command = Command::new("dbus-run-session");
    command.env("XDG_DATA_HOME", &keyrings);
    command.args([
        "--",
        "sh",
        "-c",
        "echo -n switchboard | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec \"$@\"",
        "sh",
    ]);
    command.args(program_and_args);
    command.current_dir(root());
    command
}

/// An Xvfb server on a free display number, stopped when dropped.
pub struct VirtualDisplay {
    pub name: String,
    _server: Guard,
}

impl VirtualDisplay {
    pub fn start() -> Result<Self, Failure> {
        let number = (90..140)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .ok_or_else(|| Failure::new("no free X display number between :90 and :139"))?;
        let name = format!(":{number}");
        let server = Guard::spawn(
            "Xvfb",
            Command::new("Xvfb")
                .args([
                    name.as_str(),
                    "-screen",
                    "0",
                    "1280x800x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )?;
        let socket = format!("/tmp/.X11-unix/X{number}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !Path::new(&socket).exists() {
            if Instant::now() > deadline {
                return Err(Failure::new("Xvfb did not start within 20 s"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        println!("    virtual display {name} is up");
        Ok(Self {
            name,
            _server: server,
        })
    }
}

/// A running demo server: its URL and the process.
pub struct DemoServer {
    pub url: String,
    pub process: Guard,
}

/// Starts `switchboard-server --demo` on `bind` with its database under target/demo, and waits for
/// its "listening" line.
pub fn start_demo_server(bind: &str, database: &Path) -> Result<DemoServer, Failure> {
    start_server(bind, database, None)
}

/// [`start_demo_server`], writing transcript emails as `.eml` files into `mail_dir` when given
/// (the demo has no SMTP server).
fn start_server(
    bind: &str,
    database: &Path,
    mail_dir: Option<&Path>,
) -> Result<DemoServer, Failure> {
    if let Some(parent) = database.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut command = Command::new(target_dir().join("debug/switchboard-server"));
    command
        .args(["--demo", "--bind", bind, "--database"])
        .arg(database)
        .arg("--widget-dir")
        .arg(root().join("widget/dist"))
        .stdout(Stdio::piped());
    if let Some(mail_dir) = mail_dir {
        command.arg("--mail-dir").arg(mail_dir);
    }
    let mut process = Guard::spawn("switchboard-server", &mut command)?;
    let stdout = process
        .child
        .stdout
        .take()
        .ok_or_else(|| Failure::new("server stdout unavailable"))?;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sender = Some(sender);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("    server | {line}");
            if let Some(url) = line.strip_prefix("switchboard-server listening on ")
                && let Some(sender) = sender.take()
            {
                let _ = sender.send(url.trim().to_string());
            }
        }
    });
    let url = receiver
        .recv_timeout(Duration::from_secs(60))
        .map_err(|_| Failure::new("the server did not report that it is listening within 60 s"))?;
    Ok(DemoServer { url, process })
}

fn has_display() -> bool {
    !cfg!(target_os = "linux")
        || std::env::var_os("DISPLAY").is_some_and(|value| !value.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|value| !value.is_empty())
}

/// The desktop app, pointed at the demo server and signed in as the demo operator.
pub fn desktop_app(server_url: &str, data_dir: &Path) -> Command {
    let mut command = Command::new(target_dir().join("debug/switchboard"));
    command
        .env("SWITCHBOARD_SERVER_URL", server_url)
        .env("SWITCHBOARD_DATA_DIR", data_dir)
        .env("SWITCHBOARD_EMAIL", DEMO_OPERATOR)
        .env("SWITCHBOARD_PASSWORD", DEMO_PASSWORD);
    command
}

/// `cargo xtask run` after the build: server, demo page, and the app signed in.
pub fn run_demo(progress: &mut Progress, port: u16, xvfb: bool) -> Result<(), Failure> {
    progress.step("Starting the server with the demo organisation");
    let demo_dir = target_dir().join("demo");
    let mail_dir = demo_dir.join("mail");
    let server = start_server(
        &format!("127.0.0.1:{port}"),
        &demo_dir.join("server.sqlite3"),
        Some(&mail_dir),
    )?;
    println!(
        "\n    Demo page (open it, start a chat, and the app rings): {}/demo\n    \
         Emails (transcripts) are written to {}\n    \
         Sign-ins: ann@example.com, bob@example.com (operators), sue@example.com (supervisor); \
         password: {DEMO_PASSWORD}",
        server.url,
        mail_dir.display()
    );

    progress.step("Opening the desktop app signed in as Ann Operator");
    let app_data = demo_dir.join("app");
    if xvfb {
        let display = VirtualDisplay::start()?;
        let app_path = target_dir().join("debug/switchboard");
        let app_path = app_path.to_string_lossy();
        let mut command = in_session_bus(&[app_path.as_ref()]);
        command
            .env("DISPLAY", &display.name)
            .env("SWITCHBOARD_SERVER_URL", &server.url)
            .env("SWITCHBOARD_DATA_DIR", &app_data)
            .env("SWITCHBOARD_EMAIL", DEMO_OPERATOR)
            .env("SWITCHBOARD_PASSWORD", DEMO_PASSWORD);
        let mut app = Guard::spawn("switchboard", &mut command)?;
        std::thread::sleep(Duration::from_secs(8));
        let shots = target_dir().join("screenshots");
        std::fs::create_dir_all(&shots)?;
        let shot = shots.join("run.png");
        shell::run(
            Command::new("import")
                .args(["-window", "root"])
                .arg(&shot)
                .env("DISPLAY", &display.name),
        )?;
        println!(
            "    the app runs on virtual display {}; screenshot: {}\n    press Ctrl-C to stop",
            display.name,
            shot.display()
        );
        let _ = app.child.wait();
        return Ok(());
    }
    if !has_display() {
        println!(
            "    No display here (DISPLAY and WAYLAND_DISPLAY are unset), so the app cannot open a \
             window.\n    The server and the demo page keep running. To see the app on a virtual \
             display (and a screenshot of it), run: cargo xtask run --xvfb\n    Press Ctrl-C to stop."
        );
        let mut server = server;
        let _ = server.process.child.wait();
        return Ok(());
    }
    let mut app = Guard::spawn("switchboard", &mut desktop_app(&server.url, &app_data))?;
    println!(
        "    the app is open (it stays in the tray when its window is closed); Ctrl-C stops everything"
    );
    let _ = app.child.wait();
    drop(server);
    Ok(())
}
