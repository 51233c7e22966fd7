//! Tickets (B24, B25): what is left to do after a chat ends. One per chat, created when it
//! ends; staff of its live chat list, read and update them, and email the visitor the
//! transcript. The transcript is built from the visitor's view of the messages, so a note can
//! never be in it.

use rusqlite::{Connection, OptionalExtension, params};
use switchboard_protocol::{
    ApiError, ChatId, ChatState, ErrorCode, OperatorId, Ticket, TicketDetail, TicketStatus,
    TicketUpdate, Timestamp, Visibility, VisitorId, VisitorSideAuthor,
};

use crate::hub::Hub;
use crate::mail::Email;
use crate::storage::{self, NewAuthor, StoreError, StoreResult};

const MAX_SUBJECT_CHARS: usize = 200;

fn status_name(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::Open => "open",
        TicketStatus::Pending => "pending",
        TicketStatus::Solved => "solved",
    }
}

fn parse_status(name: &str) -> StoreResult<TicketStatus> {
    match name {
        "open" => Ok(TicketStatus::Open),
        "pending" => Ok(TicketStatus::Pending),
        "solved" => Ok(TicketStatus::Solved),
        other => Err(StoreError::Invalid(format!(
            "unknown ticket status {other}"
        ))),
    }
}

/// Opens the ticket of a chat that just ended: subject = the pre-chat question, assigned to the
/// responsible operator. A chat has one ticket; ending it again changes nothing.
pub fn create_for_chat(connection: &Connection, chat: ChatId, now: Timestamp) -> StoreResult<()> {
    connection.execute(
        "INSERT OR IGNORE INTO tickets (chat_id, subject, status, assignee_id, created_at, updated_at)
         SELECT id, subject, 'open', responsible_id, ?2, ?2 FROM chats WHERE id = ?1",
        params![chat.0, now.0],
    )?;
    Ok(())
}

fn ticket(connection: &Connection, id: i64) -> StoreResult<Option<Ticket>> {
    let row = connection
        .query_row(
            "SELECT chat_id, subject, status, assignee_id, created_at, updated_at
             FROM tickets WHERE id = ?1",
            [id],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<i64>>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((chat, subject, status, assignee, created_at, updated_at)) = row else {
        return Ok(None);
    };
    let Some(summary) = storage::chat_summary(connection, ChatId(chat))? else {
        return Ok(None);
    };
    Ok(Some(Ticket {
        id,
        chat: ChatId(chat),
        live_chat: summary.live_chat,
        subject,
        status: parse_status(&status)?,
        assignee: assignee
            .map(|assignee| storage::operator_ref(connection, OperatorId(assignee)))
            .transpose()?,
        visitor: summary.visitor,
        created_at: Timestamp(created_at),
        updated_at: Timestamp(updated_at),
    }))
}

fn ticket_ids_of(connection: &Connection, operator: OperatorId) -> StoreResult<Vec<i64>> {
    let mut statement = connection.prepare(
        "SELECT t.id FROM tickets t JOIN chats c ON c.id = t.chat_id
         JOIN memberships m ON m.live_chat_id = c.live_chat_id AND m.operator_id = ?1
         ORDER BY t.updated_at DESC, t.id DESC",
    )?;
    let ids = statement
        .query_map([operator.0], |row| row.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "There is no such ticket.")
}

impl Hub {
    /// The ticket, when `operator` works in its live chat; otherwise it does not exist for them.
    fn visible_ticket(&self, operator: OperatorId, id: i64) -> Result<Ticket, ApiError> {
        let ticket = ticket(self.database(), id)?.ok_or_else(not_found)?;
        if !storage::is_member(self.database(), operator, ticket.live_chat)? {
            return Err(not_found());
        }
        Ok(ticket)
    }

    /// Tickets of the operator's live chats, most recently changed first.
    pub fn tickets(&self, operator: OperatorId) -> Result<Vec<Ticket>, ApiError> {
        let mut tickets = Vec::new();
        for id in ticket_ids_of(self.database(), operator)? {
            if let Some(found) = ticket(self.database(), id)? {
                tickets.push(found);
            }
        }
        Ok(tickets)
    }

    /// A ticket with its staff transcript (notes included: staff only).
    pub fn ticket_detail(&self, operator: OperatorId, id: i64) -> Result<TicketDetail, ApiError> {
        let ticket = self.visible_ticket(operator, id)?;
        let messages = storage::chat_messages(self.database(), ticket.chat)?;
        // B33: the ticket shows how the visitor rated the chat (staff only, like the notes).
        let rating = crate::rating::chat_rating(self.database(), ticket.chat)?;
        Ok(TicketDetail {
            ticket,
            messages,
            rating,
        })
    }

    /// The end dialog's choices (B25): subject, status, assignee (a member of the live chat).
    pub fn update_ticket(
        &mut self,
        operator: OperatorId,
        id: i64,
        update: TicketUpdate,
    ) -> Result<Ticket, ApiError> {
        let ticket = self.visible_ticket(operator, id)?;
        let subject = update.subject.trim();
        if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("A ticket subject has 1 to {MAX_SUBJECT_CHARS} characters."),
            ));
        }
        if let Some(assignee) = update.assignee
            && !storage::is_member(self.database(), assignee, ticket.live_chat)?
        {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "A ticket can only be assigned to staff of its live chat.",
            ));
        }
        self.database()
            .execute(
                "UPDATE tickets SET subject = ?2, status = ?3, assignee_id = ?4, updated_at = ?5
                 WHERE id = ?1",
                params![
                    id,
                    subject,
                    status_name(update.status),
                    update.assignee.map(|assignee| assignee.0),
                    storage::now().0
                ],
            )
            .map_err(StoreError::from)?;
        self.visible_ticket(operator, id)
    }

    /// The transcript email for the visitor of a ticket's chat. Built only from what the
    /// visitor could see (`visitor_messages` drops notes); no staff-only data goes in.
    pub fn transcript_email(&self, operator: OperatorId, id: i64) -> Result<Email, ApiError> {
        let ticket = self.visible_ticket(operator, id)?;
        let to = ticket.visitor.email.clone().ok_or_else(|| {
            ApiError::new(
                ErrorCode::BadRequest,
                "The visitor left no email address to send the transcript to.",
            )
        })?;
        let live_chat = storage::live_chat_name(self.database(), ticket.live_chat)?;
        let mut body = format!(
            "Hello {},\n\nHere is the transcript of your chat with {live_chat}.\n\nSubject: {}\n\n",
            ticket.visitor.name, ticket.subject
        );
        for message in storage::visitor_messages(self.database(), ticket.chat)? {
            let author = match message.from {
                VisitorSideAuthor::Me => ticket.visitor.name.clone(),
                VisitorSideAuthor::Operator { name } => name,
                VisitorSideAuthor::System => "Notice".to_owned(),
            };
            body.push_str(&format!("{author}: {}\n", message.body));
            // Files are named, never embedded: the email stays small and plain text, and the
            // visitor downloads them from the chat if they still want them.
            for attachment in &message.attachments {
                body.push_str(&format!("  [attachment: {}]\n", attachment.name));
            }
        }
        Ok(Email {
            to,
            subject: format!("Your chat with {live_chat}: {}", ticket.subject),
            body,
        })
    }
}

/// The visitor's last connection closed: their active chat starts its inactivity countdown.
pub fn mark_visitor_away(
    connection: &Connection,
    visitor: VisitorId,
    now: Timestamp,
) -> StoreResult<()> {
    connection.execute(
        "INSERT OR IGNORE INTO visitor_away (chat_id, since)
         SELECT id, ?2 FROM chats WHERE visitor_id = ?1 AND state = 'active'",
        params![visitor.0, now.0],
    )?;
    Ok(())
}

/// The visitor is back (a reload, a network blip): the countdown stops.
pub fn mark_visitor_back(connection: &Connection, visitor: VisitorId) -> StoreResult<()> {
    connection.execute(
        "DELETE FROM visitor_away WHERE chat_id IN (SELECT id FROM chats WHERE visitor_id = ?1)",
        [visitor.0],
    )?;
    Ok(())
}

impl Hub {
    /// B25: ends the active chats whose visitor has been gone for `timeout_ms`, as if they had
    /// left, and opens their tickets. Returns how many ended.
    pub fn close_inactive_chats(&mut self, timeout_ms: i64) -> Result<usize, ApiError> {
        self.transact(|effects| {
            let cutoff = effects.now.0 - timeout_ms;
            let chats: Vec<i64> = {
                let mut statement = effects
                    .database
                    .prepare(
                        "SELECT a.chat_id FROM visitor_away a JOIN chats c ON c.id = a.chat_id
                         WHERE a.since <= ?1 AND c.state = 'active' ORDER BY a.chat_id",
                    )
                    .map_err(StoreError::from)?;
                statement
                    .query_map([cutoff], |row| row.get(0))
                    .map_err(StoreError::from)?
                    .collect::<Result<_, _>>()
                    .map_err(StoreError::from)?
            };
            effects
                .database
                .execute("DELETE FROM visitor_away WHERE since <= ?1", [cutoff])
                .map_err(StoreError::from)?;
            for chat in &chats {
                let Some(row) = storage::chat_row(effects.database, ChatId(*chat))? else {
                    continue;
                };
                storage::update_chat(
                    effects.database,
                    row.id,
                    ChatState::Closed,
                    row.responsible,
                    effects.now,
                )?;
                create_for_chat(effects.database, row.id, effects.now)?;
                let left = storage::insert_message(
                    effects.database,
                    row.id,
                    NewAuthor::System,
                    Visibility::Public,
                    "The visitor left",
                    None,
                    effects.now,
                )?;
                if let Some(responsible) = row.responsible {
                    let decisions = effects
                        .router
                        .active_chat_finished(responsible, effects.now);
                    effects.apply(decisions)?;
                }
                effects.chat_changed(&row)?;
                effects.message_posted(&row, &left)?;
            }
            Ok(chats.len())
        })
    }
}
