//! Supervision, collaboration and ticket commands (B20-B27, B15, B25 tickets). Like `commands.rs`, each
//! one calls the core and nothing else.

use switchboard_core::protocol::{
    AuditEntry, ChatHistory, ChatId, ChatSummary, LiveChatId, OperatorId, Team, Ticket,
    TicketDetail, TicketUpdate, TranscriptSent,
};
use switchboard_core::{Collaboration, Core};
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

/// Hands an active chat to another operator at once (B27).
#[tauri::command]
pub async fn reassign_chat(
    core: State<'_, Core>,
    chat: ChatId,
    operator: OperatorId,
) -> CommandResult<ChatSummary> {
    Ok(core.reassign(chat, operator).await?)
}

/// Invites a colleague into a chat (B23); they get a ringing invitation.
#[tauri::command]
pub async fn invite_operator(
    core: State<'_, Core>,
    chat: ChatId,
    operator: OperatorId,
) -> CommandResult<()> {
    Ok(core.invite(chat, operator).await?)
}

/// Transfers a chat to a colleague with a staff-only note (B22); the sender stays responsible
/// until it is accepted.
#[tauri::command]
pub async fn transfer_chat(
    core: State<'_, Core>,
    chat: ChatId,
    operator: OperatorId,
    note: String,
) -> CommandResult<()> {
    Ok(core.transfer(chat, operator, note).await?)
}

/// Accepts or declines this operator's invitation or transfer of a chat (B22, B23).
#[tauri::command]
pub async fn answer_invitation(
    core: State<'_, Core>,
    chat: ChatId,
    accept: bool,
) -> CommandResult<ChatSummary> {
    Ok(core.answer_invitation(chat, accept).await?)
}

/// Locks or unlocks public replies for colleagues (B15).
#[tauri::command]
pub async fn lock_replies(core: State<'_, Core>, chat: ChatId, locked: bool) -> CommandResult<()> {
    Ok(core.lock_replies(chat, locked).await?)
}

/// Leaves a chat (B24); the last staff member leaving ends it and opens its ticket.
#[tauri::command]
pub async fn leave_chat(core: State<'_, Core>, chat: ChatId) -> CommandResult<ChatSummary> {
    Ok(core.leave_chat(chat).await?)
}

/// The supervision audit log of a live chat this person supervises.
#[tauri::command]
pub async fn audit_log(
    core: State<'_, Core>,
    live_chat: LiveChatId,
) -> CommandResult<Vec<AuditEntry>> {
    Ok(core.audit_log(live_chat).await?)
}

/// One ticket with its staff transcript.
#[tauri::command]
pub async fn ticket(core: State<'_, Core>, id: i64) -> CommandResult<TicketDetail> {
    Ok(core.ticket(id).await?)
}

/// Emails the visitor the public transcript of a ticket's chat (B25).
#[tauri::command]
pub async fn email_transcript(core: State<'_, Core>, id: i64) -> CommandResult<TranscriptSent> {
    Ok(core.email_transcript(id).await?)
}

/// Invitations, transfers, reply locks and unsubscriptions as last known.
#[tauri::command]
pub fn collaboration(core: State<'_, Core>) -> Collaboration {
    core.collaboration()
}

/// Hides how the invitations and transfers of a chat to and from this operator ended; the
/// server remembers it, so they do not come back after a snapshot (B22, B23).
#[tauri::command]
pub async fn dismiss_sent(core: State<'_, Core>, chat: ChatId) -> Result<(), String> {
    core.dismiss_outcomes(chat).await;
    Ok(())
}

/// Transfers a chat to a team with a staff-only note (B22).
#[tauri::command]
pub async fn transfer_to_team(
    core: State<'_, Core>,
    chat: ChatId,
    team: Team,
    note: String,
) -> CommandResult<()> {
    Ok(core.transfer_to_team(chat, team, note).await?)
}

/// The teams of this person's live chats (transfer targets).
#[tauri::command]
pub async fn teams(core: State<'_, Core>) -> CommandResult<Vec<Team>> {
    Ok(core.teams().await?)
}
