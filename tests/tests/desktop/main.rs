//! The real desktop app, driven through WebDriver (tauri-driver + WebKitWebDriver) and read over
//! D-Bus (tray, notifications) against the real server in-process.
//!
//! Needs a display, a D-Bus session with an unlocked keyring, `tauri-driver` and a built
//! `target/debug/switchboard`: run it with `cargo xtask test`, which sets all of that up. The
//! app binary can be overridden with `SWITCHBOARD_APP`.
//!
//! One module per area; `support` holds the WebDriver client and the app launcher they share.

mod attachments;
mod console;
mod console_flows;
mod shell;
mod supervision;
mod support;
