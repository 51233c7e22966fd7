//! Native notifications (D05): the core decides what to notify and deduplicates it; this shows
//! it and turns a click into "open that chat".
//!
//! On Linux the notification goes straight to `org.freedesktop.Notifications` through
//! notify-rust, because the notification plugin cannot report clicks on desktop platforms and a
//! click must open the chat (and Accept / Mute act on a ringing request). Elsewhere the
//! notification plugin shows it, without click handling.

use serde::Serialize;
use switchboard_core::protocol::ChatId;
use switchboard_core::{Core, Notification};
use tauri::{AppHandle, Emitter, Manager, Wry};

/// Tells the console to open a chat: the payload is [`OpenChat`].
pub const OPEN_CHAT_EVENT: &str = "app://open-chat";

/// The payload of [`OPEN_CHAT_EVENT`].
#[derive(Clone, Copy, Debug, Serialize)]
pub struct OpenChat {
    pub chat: ChatId,
}

/// Brings the window up and asks the console to open `chat`.
pub fn open_chat(app: &AppHandle<Wry>, chat: ChatId) {
    crate::show_main_window(app);
    if let Err(error) = app.emit(OPEN_CHAT_EVENT, OpenChat { chat }) {
        tracing::warn!(%error, "could not ask the console to open a chat");
    }
}

/// Notification servers may render a subset of HTML in the body: visitor text must stay text.
pub fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Shows one notification; never blocks the caller.
pub fn show(app: &AppHandle<Wry>, notification: &Notification) {
    show_native(app, notification);
}

#[cfg(target_os = "linux")]
fn show_native(app: &AppHandle<Wry>, notification: &Notification) {
    use switchboard_core::NotificationKind;

    const OPEN: &str = "default";
    const ACCEPT: &str = "accept";
    const MUTE: &str = "mute";
    const DECLINE: &str = "decline";

    let app = app.clone();
    let notification = notification.clone();
    // Waiting for the click blocks until the notification closes: one short-lived thread each.
    let spawned = std::thread::Builder::new()
        .name("switchboard-notification".to_owned())
        .spawn(move || {
            let mut native = notify_rust::Notification::new();
            native
                .appname("Switchboard")
                .summary(&notification.title)
                .body(&escape_markup(&notification.body))
                .action(OPEN, "Open");
            let invitation = matches!(
                notification.kind,
                NotificationKind::Invitation | NotificationKind::Transfer
            );
            if notification.kind == NotificationKind::Ringing {
                native.action(ACCEPT, "Accept").action(MUTE, "Mute");
            } else if invitation {
                native.action(ACCEPT, "Accept").action(DECLINE, "Decline");
            }
            let handle = match native.show() {
                Ok(handle) => handle,
                Err(error) => {
                    tracing::info!(%error, "no notification server; skipping the notification");
                    return;
                }
            };
            let chat = notification.chat;
            handle.wait_for_action(|action| match action {
                OPEN => open_chat(&app, chat),
                ACCEPT if invitation => answer_invitation(&app, chat, true),
                DECLINE => answer_invitation(&app, chat, false),
                ACCEPT => {
                    open_chat(&app, chat);
                    let core = app.state::<Core>().inner().clone();
                    tauri::async_runtime::spawn(async move {
                        if let Err(error) = core.accept(chat).await {
                            tracing::warn!(%error, "accepting from the notification failed");
                        }
                    });
                }
                MUTE => {
                    let core = app.state::<Core>().inner().clone();
                    tauri::async_runtime::spawn(async move {
                        if let Err(error) = core.mute(chat).await {
                            tracing::warn!(%error, "muting from the notification failed");
                        }
                    });
                }
                _ => {}
            });
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "could not start a notification thread");
    }
}

/// Accepts or declines an invitation or transfer from its notification (B22, B23); accepting
/// opens the chat.
#[cfg(target_os = "linux")]
fn answer_invitation(app: &AppHandle<Wry>, chat: ChatId, accept: bool) {
    if accept {
        open_chat(app, chat);
    }
    let core = app.state::<Core>().inner().clone();
    tauri::async_runtime::spawn(async move {
        if let Err(error) = core.answer_invitation(chat, accept).await {
            tracing::warn!(%error, "answering the invitation from the notification failed");
        }
    });
}

#[cfg(not(target_os = "linux"))]
fn show_native(app: &AppHandle<Wry>, notification: &Notification) {
    use tauri_plugin_notification::NotificationExt;

    let shown = app
        .notification()
        .builder()
        .title(&notification.title)
        .body(&notification.body)
        .show();
    if let Err(error) = shown {
        tracing::warn!(%error, "could not show a notification");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d05_visitor_text_cannot_inject_markup_into_a_notification() {
        assert_eq!(
            escape_markup("<a href=\"x\">click</a> & 'more'"),
            "&lt;a href=&quot;x&quot;&gt;click&lt;/a&gt; &amp; &#39;more&#39;"
        );
        assert_eq!(escape_markup("plain"), "plain");
    }
}
