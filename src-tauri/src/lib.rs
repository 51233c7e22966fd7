//! The Switchboard operator desktop app: a thin Tauri shell over [`switchboard_core::Core`].
//!
//! It starts the core from environment settings ([`config`]), exposes the core's calls as
//! commands ([`commands`]), forwards every [`CoreEvent`] to the console as [`CORE_EVENT`], and
//! keeps the tray ([`tray`]) in step. Closing the window hides it; the app lives on in the tray
//! until "Quit".

pub mod attachments;
pub mod commands;
pub mod config;
pub mod error;
pub mod notify;
pub mod rating;
pub mod supervision;
pub mod tray;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_core::{Core, CoreEvent, CoreState};
use tauri::{AppHandle, Emitter, Manager, RunEvent, UserAttentionType, Window, WindowEvent, Wry};
use tauri_plugin_autostart::MacosLauncher;
use tokio::sync::broadcast::error::RecvError;

use crate::config::Settings;
use crate::error::StartError;
use crate::tray::Tray;

/// The event name every [`CoreEvent`] reaches the console under.
pub const CORE_EVENT: &str = "core://event";
/// The console window's label (see `tauri.conf.json` and `capabilities/main.json`).
pub const MAIN_WINDOW: &str = "main";

/// The argument autostart launches the app with: start hidden in the tray (D07).
pub const START_MINIMISED_ARG: &str = "--minimised";

/// How long quitting waits for the core to close its connection before exiting anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Builds and runs the app until it quits; returns the process exit code.
pub fn run() -> Result<i32, StartError> {
    // Settings first: a typo in the environment is reported before any window opens.
    let settings = Settings::from_env()?;
    let setup_error: Arc<Mutex<Option<StartError>>> = Arc::default();
    let failed_in_setup = setup_error.clone();
    let app = tauri::Builder::default()
        // First, so a second launch exits before doing anything else (D07): the first
        // instance comes to the front instead.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance_id(settings.data_dir.as_deref()))
                .callback(|app, _arguments, _folder| show_main_window(app))
                .build(),
        )
        // D07: size and position come back; visibility does not (the tray and the
        // `--minimised` start decide that).
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all()
                        - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        )
        .plugin(tauri_plugin_autostart::init(
            MacosLauncher::LaunchAgent,
            Some(vec![START_MINIMISED_ARG]),
        ))
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(tauri::generate_handler![
            commands::core_state,
            commands::sign_in,
            commands::sign_out,
            commands::chat_messages,
            commands::accept_chat,
            commands::send_message,
            commands::edit_message,
            commands::delete_message,
            commands::end_chat,
            commands::mute_chat,
            commands::mark_read,
            commands::set_typing,
            commands::chat_customer,
            commands::create_customer,
            commands::set_subscribed,
            commands::set_availability,
            commands::set_ringer_muted,
            commands::search,
            commands::retry_outbox,
            commands::discard_outbox,
            commands::canned_responses,
            commands::search_articles,
            commands::colleagues,
            supervision::monitor_chat,
            supervision::join_chat,
            supervision::take_over_chat,
            supervision::tickets,
            supervision::update_ticket,
            supervision::reassign_chat,
            supervision::invite_operator,
            supervision::transfer_chat,
            supervision::answer_invitation,
            supervision::lock_replies,
            supervision::leave_chat,
            supervision::audit_log,
            supervision::ticket,
            supervision::email_transcript,
            supervision::collaboration,
            supervision::dismiss_sent,
            supervision::transfer_to_team,
            supervision::teams,
            commands::accept_oldest_ringing,
            commands::mute_oldest_ringing,
            commands::autostart_enabled,
            commands::set_autostart,
            commands::sound_settings,
            commands::set_sound_settings,
            commands::sound_status,
            commands::test_sound,
            commands::quit,
            attachments::upload_attachment,
            attachments::attachment_bytes,
            attachments::queued_uploads,
            rating::rating_settings,
            rating::set_rating_settings,
        ])
        .setup(move |app| {
            // A setup error would make Tauri panic: keep it, leave the loop, and return it.
            if let Err(error) = setup(app.handle(), settings) {
                *lock(&failed_in_setup) = Some(error);
                app.handle().exit(1);
            }
            Ok(())
        })
        .on_window_event(on_window_event)
        .build(tauri::generate_context!("../tauri.conf.json"))
        .map_err(StartError::Tauri)?;
    let code = app.run_return(|app, event| {
        if let RunEvent::Exit = event {
            // Both ways out (tray "Quit", closing the window when there is no tray) pass here,
            // so the connection is closed and the ringer stopped exactly once.
            if let Some(core) = app.try_state::<Core>() {
                let core = core.inner().clone();
                // The timer must be created inside the runtime, hence the async block.
                let closed = tauri::async_runtime::block_on(async move {
                    tokio::time::timeout(SHUTDOWN_GRACE, core.shutdown()).await
                });
                if closed.is_err() {
                    tracing::warn!("the core did not shut down in time");
                }
            }
        }
    });
    match lock(&setup_error).take() {
        Some(error) => Err(error),
        None => Ok(code),
    }
}

/// The product identifier the single-instance lock is named after (`tauri.conf.json`).
const IDENTIFIER: &str = "app.switchboard.desktop";

/// One instance per data folder: two apps on one cache would fight over it, while apps on
/// different folders (tests, a second server) are independent. The default folder keeps the
/// plain product identifier.
pub fn instance_id(data_dir: Option<&std::path::Path>) -> String {
    match data_dir {
        None => IDENTIFIER.to_owned(),
        Some(folder) => {
            // FNV-1a: stable across runs and builds, unlike the standard library's hasher.
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for byte in folder.as_os_str().as_encoded_bytes() {
                hash ^= u64::from(*byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
            // A D-Bus name element must not start with a digit.
            format!("{IDENTIFIER}.d{hash:016x}")
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn setup(app: &AppHandle<Wry>, settings: Settings) -> Result<(), StartError> {
    let config = settings.core_config(|| app.path().app_data_dir().map_err(StartError::DataDir))?;
    tracing::info!(server = %config.server_url, data = %config.data_dir.display(), "starting");
    let core = tauri::async_runtime::block_on(Core::start(config))?;
    // Subscribe before reading the state so no change falls between the two.
    let events = core.subscribe();
    let state = core.state();
    app.manage(core.clone());

    match Tray::create(app, &state) {
        Ok(tray) => {
            app.manage(tray);
        }
        // Linux without a session bus has no tray host: the app still works, the window just
        // closes the app instead of hiding into a tray nobody can see.
        Err(error) => tracing::warn!(%error, "no tray icon; closing the window will quit"),
    }

    tauri::async_runtime::spawn(forward_events(app.clone(), core.clone(), events));
    if let Some(tray) = app.try_state::<Tray>() {
        tray.start_animation(app);
    }

    let minimised = std::env::args().any(|argument| argument == START_MINIMISED_ARG);
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        if minimised
            && app.try_state::<Tray>().is_some()
            && let Err(error) = window.hide()
        {
            tracing::warn!(%error, "could not start hidden in the tray");
        }
        core.set_window_focused(window.is_focused().unwrap_or(false));
    }

    if let Some(auto) = settings.auto_sign_in
        && state.operator.is_none()
    {
        tauri::async_runtime::spawn(async move {
            if let Err(error) = core.sign_in(&auto.email, auto.password.expose()).await {
                tracing::warn!(%error, email = %auto.email, "signing in at start failed");
            }
        });
    }
    Ok(())
}

/// Relays core events to the console and the tray until the core goes away.
async fn forward_events(
    app: AppHandle<Wry>,
    core: Core,
    mut events: tokio::sync::broadcast::Receiver<CoreEvent>,
) {
    loop {
        match events.recv().await {
            Ok(event) => deliver(&app, &event),
            Err(RecvError::Lagged(missed)) => {
                // Events were dropped: resend the whole state so console and tray are current.
                tracing::warn!(missed, "console fell behind core events; resending state");
                for event in state_events(core.state()) {
                    deliver(&app, &event);
                }
            }
            Err(RecvError::Closed) => break,
        }
    }
}

fn deliver(app: &AppHandle<Wry>, event: &CoreEvent) {
    if let Some(tray) = app.try_state::<Tray>() {
        tray.apply(app, event);
    }
    match event {
        CoreEvent::Notify { notification } => notify::show(app, notification),
        CoreEvent::UserAttention { wanted } => request_user_attention(app, *wanted),
        _ => {}
    }
    if let Err(error) = app.emit(CORE_EVENT, event) {
        tracing::warn!(%error, "could not forward a core event to the console");
    }
}

/// The events that together carry a whole [`CoreState`].
pub fn state_events(state: CoreState) -> Vec<CoreEvent> {
    vec![
        CoreEvent::Connection {
            state: state.connection,
        },
        CoreEvent::Session {
            operator: state.operator,
            keychain: state.keychain,
        },
        CoreEvent::Availability {
            availability: state.availability,
        },
        CoreEvent::Chats {
            chats: state.chats,
            counters: state.counters,
        },
        CoreEvent::Ringer {
            state: state.ringer,
            muted: state.ringer_muted,
        },
        CoreEvent::Outbox {
            items: state.outbox,
        },
        CoreEvent::Sync {
            progress: state.sync,
        },
    ]
}

/// Flashes the taskbar entry while requests ring and the window is not focused.
fn request_user_attention(app: &AppHandle<Wry>, wanted: bool) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else {
        return;
    };
    let request = wanted.then_some(UserAttentionType::Critical);
    if let Err(error) = window.request_user_attention(request) {
        tracing::info!(%error, "could not request the user's attention");
    }
}

fn on_window_event(window: &Window<Wry>, event: &WindowEvent) {
    if let WindowEvent::Focused(focused) = event
        && window.label() == MAIN_WINDOW
        && let Some(core) = window.app_handle().try_state::<Core>()
    {
        core.set_window_focused(*focused);
    }
    if let WindowEvent::CloseRequested { api, .. } = event
        && window.label() == MAIN_WINDOW
        && window.app_handle().try_state::<Tray>().is_some()
    {
        // D04: closing the window keeps the app (and its ringing) alive in the tray.
        api.prevent_close();
        if let Err(error) = window.hide() {
            tracing::warn!(%error, "could not hide the window");
        }
    }
}

/// Shows, restores and focuses the console window.
pub fn show_main_window(app: &AppHandle<Wry>) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else {
        return;
    };
    let shown = window
        .show()
        .and_then(|()| window.unminimize())
        .and_then(|()| window.set_focus());
    if let Err(error) = shown {
        tracing::warn!(%error, "could not show the window");
    }
}

/// Ends the app; the core is shut down on the way out (see [`run`]).
pub fn quit(app: &AppHandle<Wry>) {
    app.exit(0);
}

/// The console asks the operator to confirm quitting on this event; it answers with the
/// `quit` command.
pub const CONFIRM_QUIT_EVENT: &str = "app://confirm-quit";

/// The tray's "Quit" (D04): with active chats the console asks first, so visitors are not left
/// by a stray click; with nothing active the app quits at once.
pub fn request_quit(app: &AppHandle<Wry>) {
    let asks = app
        .try_state::<Core>()
        .is_some_and(|core| switchboard_core::quit_needs_confirmation(&core.state().counters));
    if !asks {
        quit(app);
        return;
    }
    show_main_window(app);
    if let Err(error) = app.emit_to(MAIN_WINDOW, CONFIRM_QUIT_EVENT, ()) {
        tracing::warn!(%error, "could not ask the console to confirm quitting; quitting");
        quit(app);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d07_one_instance_per_data_folder() {
        assert_eq!(instance_id(None), IDENTIFIER);
        let first = instance_id(Some(std::path::Path::new("/tmp/a")));
        assert_eq!(first, instance_id(Some(std::path::Path::new("/tmp/a"))));
        assert_ne!(first, instance_id(Some(std::path::Path::new("/tmp/b"))));
        assert!(first.starts_with("app.switchboard.desktop.d"), "{first}");
    }
}
