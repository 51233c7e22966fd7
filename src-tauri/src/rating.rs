//! The live chat's rating switch (B33). Like `commands.rs`, each command calls the core and
//! nothing else; the server decides who may change it.

use switchboard_core::Core;
use switchboard_core::protocol::{LiveChatId, RatingSettings};
use tauri::State;

use crate::error::CommandResult;

/// Whether the live chat asks its visitors for ratings (any member may read it).
#[tauri::command]
pub async fn rating_settings(
    core: State<'_, Core>,
    live_chat: LiveChatId,
) -> CommandResult<RatingSettings> {
    Ok(core.rating_settings(live_chat).await?)
}

/// Switches rating prompts on or off; open widgets follow at once (supervisors only).
#[tauri::command]
pub async fn set_rating_settings(
    core: State<'_, Core>,
    live_chat: LiveChatId,
    enabled: bool,
) -> CommandResult<RatingSettings> {
    Ok(core
        .set_rating_settings(live_chat, RatingSettings { enabled })
        .await?)
}
