//! Supervision and ticket commands (B20, B21, take over, B25 tickets). Like `commands.rs`, each
//! one calls the core and nothing else.

use switchboard_core::Core;
use switchboard_core::protocol::{ChatHistory, ChatId, ChatSummary, Ticket, TicketUpdate};
use tauri::State;

use crate::error::CommandResult;

/// Opens a chat invisibly (B21): nobody is told and nothing is marked read.
#[tauri::command]
pub async fn monitor_chat(core: State<'_, Core>, chat: ChatId) -> CommandResult<ChatHistory> {
    Ok(core.monitor(chat).await?)
}

/// Joins a chat visibly (B20): everyone, the visitor included, sees "<name> joined".
#[tauri::command]
pub async fn join_chat(core: State<'_, Core>, chat: ChatId) -> CommandResult<ChatSummary> {
    Ok(core.join(chat).await?)
}

/// Takes a chat over; the previous operator stays as a participant or leaves.
#[tauri::command]
pub async fn take_over_chat(
    core: State<'_, Core>,
    chat: ChatId,
    previous_stays: bool,
) -> CommandResult<ChatSummary> {
    Ok(core.take_over(chat, previous_stays).await?)
}

/// Tickets of the live chats this person works in.
#[tauri::command]
pub async fn tickets(core: State<'_, Core>) -> CommandResult<Vec<Ticket>> {
    Ok(core.tickets().await?)
}

/// Sets a ticket's subject, status or assignee (the end dialog's choices, B25).
#[tauri::command]
pub async fn update_ticket(
    core: State<'_, Core>,
    id: i64,
    update: TicketUpdate,
) -> CommandResult<Ticket> {
    Ok(core.update_ticket(id, update).await?)
}
