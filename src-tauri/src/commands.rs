//! The commands the console invokes. Each one calls the core and nothing else; `build.rs` lists
//! them so each gets an `allow-*` permission.

use switchboard_core::protocol::{
    ApiError, Article, Availability, CannedResponse, ChatId, ChatSummary, ErrorCode, Message,
    MessageId, OperatorProfile, OperatorRef, Visibility,
};
use switchboard_core::{Core, CoreState, SearchResults, SoundSettings};
use tauri::{AppHandle, State, Wry};
use tauri_plugin_autostart::ManagerExt;

use crate::error::CommandResult;

#[tauri::command]
pub fn core_state(core: State<'_, Core>) -> CoreState {
    core.state()
}

#[tauri::command]
pub async fn sign_in(
    core: State<'_, Core>,
    email: String,
    password: String,
) -> CommandResult<OperatorProfile> {
    Ok(core.sign_in(&email, &password).await?)
}

#[tauri::command]
pub async fn sign_out(core: State<'_, Core>) -> CommandResult<()> {
    Ok(core.sign_out().await?)
}

#[tauri::command]
pub async fn chat_messages(core: State<'_, Core>, chat: ChatId) -> CommandResult<Vec<Message>> {
    Ok(core.messages(chat).await?)
}

#[tauri::command]
pub async fn accept_chat(core: State<'_, Core>, chat: ChatId) -> CommandResult<ChatSummary> {
    Ok(core.accept(chat).await?)
}

#[tauri::command]
pub async fn send_message(
    core: State<'_, Core>,
    chat: ChatId,
    body: String,
    visibility: Visibility,
) -> CommandResult<Message> {
    Ok(core.send(chat, body, visibility).await?)
}

/// B16: change the text of a message this operator sent.
#[tauri::command]
pub async fn edit_message(
    core: State<'_, Core>,
    message: MessageId,
    body: String,
) -> CommandResult<Message> {
    Ok(core.edit_message(message, body).await?)
}

/// B16: delete a message this operator sent.
#[tauri::command]
pub async fn delete_message(
    core: State<'_, Core>,
    chat: ChatId,
    message: MessageId,
) -> CommandResult<()> {
    Ok(core.delete_message(chat, message).await?)
}

#[tauri::command]
pub async fn end_chat(core: State<'_, Core>, chat: ChatId) -> CommandResult<ChatSummary> {
    Ok(core.end_chat(chat).await?)
}

#[tauri::command]
pub async fn mute_chat(core: State<'_, Core>, chat: ChatId) -> CommandResult<()> {
    Ok(core.mute(chat).await?)
}

#[tauri::command]
pub async fn mark_read(core: State<'_, Core>, chat: ChatId) -> CommandResult<()> {
    Ok(core.mark_read(chat).await?)
}

/// B34: the customer record of the chat's visitor, or `null`.
#[tauri::command]
pub async fn chat_customer(
    core: State<'_, Core>,
    chat: ChatId,
) -> CommandResult<Option<switchboard_core::protocol::Customer>> {
    Ok(core.chat_customer(chat).await?)
}

/// B34: creates a customer record for the chat's visitor.
#[tauri::command]
pub async fn create_customer(
    core: State<'_, Core>,
    request: switchboard_core::protocol::CreateCustomerRequest,
) -> CommandResult<switchboard_core::protocol::Customer> {
    Ok(core.create_customer(request).await?)
}

/// Typing indicator: the visitor sees it only for public replies of staff in the chat.
#[tauri::command]
pub async fn set_typing(
    core: State<'_, Core>,
    chat: ChatId,
    typing: bool,
    visibility: Visibility,
) -> CommandResult<()> {
    Ok(core.set_typing(chat, typing, visibility).await?)
}

/// B13: receive or stop receiving a chat's unread escalations (B12).
#[tauri::command]
pub async fn set_subscribed(
    core: State<'_, Core>,
    chat: ChatId,
    subscribed: bool,
) -> CommandResult<()> {
    Ok(core.set_subscribed(chat, subscribed).await?)
}

#[tauri::command]
pub async fn set_availability(
    core: State<'_, Core>,
    availability: Availability,
) -> CommandResult<()> {
    Ok(core.set_availability(availability).await?)
}

#[tauri::command]
pub fn set_ringer_muted(core: State<'_, Core>, muted: bool) {
    core.set_ringer_muted(muted);
}

/// The app-wide shortcut: accept the oldest ringing request. `null` when nothing rings.
#[tauri::command]
pub async fn accept_oldest_ringing(core: State<'_, Core>) -> CommandResult<Option<ChatSummary>> {
    Ok(core.accept_oldest_ringing().await?)
}

/// The app-wide shortcut: mute the oldest ringing request. Returns the muted chat, if any.
#[tauri::command]
pub async fn mute_oldest_ringing(core: State<'_, Core>) -> CommandResult<Option<ChatId>> {
    Ok(core.mute_oldest_ringing().await?)
}

/// The sound settings (D03): volume and, per event, built-in, off or the operator's own file.
#[tauri::command]
pub fn sound_settings(core: State<'_, Core>) -> SoundSettings {
    core.sound_settings()
}

#[tauri::command]
pub async fn set_sound_settings(
    core: State<'_, Core>,
    settings: SoundSettings,
) -> CommandResult<()> {
    Ok(core.set_sound_settings(settings).await?)
}

/// Why sound is unavailable, the output devices to choose from, and whether the chosen device
/// is gone (D03).
#[tauri::command]
pub async fn sound_status(core: State<'_, Core>) -> CommandResult<switchboard_core::SoundStatus> {
    Ok(core.sound_status().await)
}

/// The settings' "test" button: plays `sound` once as the (unsaved) `settings` would.
#[tauri::command]
pub async fn test_sound(
    core: State<'_, Core>,
    settings: SoundSettings,
    sound: switchboard_core::Sound,
) -> CommandResult<()> {
    Ok(core.test_sound(settings, sound).await?)
}

/// Whether the app starts with the session (D07; started hidden in the tray).
#[tauri::command]
pub fn autostart_enabled(app: AppHandle<Wry>) -> bool {
    app.autolaunch().is_enabled().unwrap_or(false)
}

#[tauri::command]
pub fn set_autostart(app: AppHandle<Wry>, enabled: bool) -> CommandResult<()> {
    let launcher = app.autolaunch();
    let changed = if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    };
    changed.map_err(|error| {
        ApiError::new(
            ErrorCode::Internal,
            format!("Could not change starting with the session: {error}"),
        )
    })
}

/// Local search over the cache (B42): `chat` narrows it to that chat's messages.
#[tauri::command]
pub fn search(
    core: State<'_, Core>,
    query: String,
    chat: Option<ChatId>,
) -> CommandResult<SearchResults> {
    Ok(core.search(&query, chat)?)
}

/// Puts a refused outbox command back in line.
#[tauri::command]
pub fn retry_outbox(core: State<'_, Core>, id: String) -> CommandResult<()> {
    Ok(core.retry(&id)?)
}

/// Drops a refused outbox command.
#[tauri::command]
pub fn discard_outbox(core: State<'_, Core>, id: String) -> CommandResult<()> {
    Ok(core.discard(&id)?)
}

/// Canned responses for the composer's picker (B30): personal and per live chat, cached offline.
#[tauri::command]
pub async fn canned_responses(core: State<'_, Core>) -> CommandResult<Vec<CannedResponse>> {
    Ok(core.canned_responses().await?)
}

/// Knowledge-base article search on the server (B31); the last results are cached.
#[tauri::command]
pub async fn search_articles(core: State<'_, Core>, query: String) -> CommandResult<Vec<Article>> {
    Ok(core.search_articles(&query).await?)
}

/// Colleagues to @mention in notes (B26).
#[tauri::command]
pub async fn colleagues(core: State<'_, Core>) -> CommandResult<Vec<OperatorRef>> {
    Ok(core.colleagues().await?)
}

/// The operator confirmed quitting in the console (D04, after `app://confirm-quit`).
#[tauri::command]
pub fn quit(app: AppHandle<Wry>) {
    crate::quit(&app);
}
