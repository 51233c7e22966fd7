//! Unread escalation (B12) and subscriptions (B13). The responsible operator gets the real-time
//! alerts; when a visitor message stays unread by them for the configured time, every member of
//! the live chat who did not unsubscribe from the chat gets one `UnreadEscalation` with the
//! unseen messages. Each batch escalates once (`escalated_up_to`).
//!
//! Nothing is kept in memory: the deadline follows from stored rows (message times, read and
//! escalation marks), so the routing timer task picks it up again after a restart.

use rusqlite::{Connection, OptionalExtension};
use switchboard_protocol::{
    Ack, ApiError, ChatId, ChatState, MarkRead, OperatorEvent, OperatorId, SubscribeChat,
    Timestamp, UnsubscribeChat,
};

use crate::hub::{Effects, Hub};
use crate::storage::{self, StoreError, StoreResult};

/// The default of `unread_escalation_seconds`.
pub const DEFAULT_ESCALATION_MS: i64 = 600_000;

/// Visitor messages that can still escalate: in active chats with a responsible operator, unread
/// by them and not escalated yet.
const PENDING: &str = "FROM messages m JOIN chats c ON c.id = m.chat_id
     WHERE c.state = 'active' AND c.responsible_id IS NOT NULL AND m.author_kind = 'visitor'
       AND m.id > c.read_up_to AND m.id > c.escalated_up_to";

/// When the oldest pending message escalates.
pub(crate) fn next_deadline(database: &Connection, escalation_ms: i64) -> Option<Timestamp> {
    // Asked after every change: a cached statement skips parsing the SQL each time.
    let oldest: Option<i64> = database
        .prepare_cached(&format!("SELECT MIN(m.sent_at) {PENDING}"))
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
        .optional()
        .ok()
        .flatten()
        .flatten();
    oldest.map(|sent_at| Timestamp(sent_at + escalation_ms))
}

/// Sends the escalations that are due.
pub(crate) fn expire(effects: &mut Effects<'_>, escalation_ms: i64) -> StoreResult<()> {
    let due_before = effects.now.0 - escalation_ms;
    let chats = {
        let mut statement = effects.database.prepare_cached(&format!(
            "SELECT DISTINCT c.id, c.live_chat_id {PENDING} AND m.sent_at <= ?1"
        ))?;
        statement
            .query_map([due_before], |row| {
                Ok((ChatId(row.get(0)?), row.get::<_, i64>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?
    };
    for (chat, live_chat) in chats {
        // Everything the responsible operator has not read: the batch that came due and any
        // older unread message escalated before, so the alert shows the whole unseen thread.
        let messages = storage::messages_where(
            effects.database,
            "m.chat_id = ?1 AND m.author_kind = 'visitor' AND m.id > c.read_up_to",
            chat.0,
        )?;
        let Some(last) = messages.last().map(|message| message.id) else {
            continue;
        };
        effects.database.execute(
            "UPDATE chats SET escalated_up_to = ?2 WHERE id = ?1",
            (chat.0, last.0),
        )?;
        let unsubscribed = unsubscribed(effects.database, chat)?;
        let event = OperatorEvent::UnreadEscalation { chat, messages };
        for member in storage::members(
            effects.database,
            switchboard_protocol::LiveChatId(live_chat),
        )? {
            if !unsubscribed.contains(&member) {
                effects.notify_operator(member, &event)?;
            }
        }
    }
    Ok(())
}

/// B12: accepting shows the operator the request with the visitor's question, so what was
/// posted until then counts as read and only later messages can escalate.
pub(crate) fn read_on_accept(database: &Connection, chat: ChatId) -> StoreResult<()> {
    database.execute(
        "UPDATE chats SET read_up_to = MAX(read_up_to,
             (SELECT COALESCE(MAX(id), 0) FROM messages WHERE chat_id = ?1))
         WHERE id = ?1",
        [chat.0],
    )?;
    Ok(())
}

fn unsubscribed(database: &Connection, chat: ChatId) -> StoreResult<Vec<OperatorId>> {
    let mut statement = database
        .prepare_cached("SELECT operator_id FROM chat_unsubscriptions WHERE chat_id = ?1")?;
    let operators = statement
        .query_map([chat.0], |row| Ok(OperatorId(row.get(0)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(operators)
}

impl Hub {
    /// B12: the responsible operator read the chat up to a message; reads only move forward.
    pub(crate) fn mark_read(
        &mut self,
        operator: OperatorId,
        command: MarkRead,
    ) -> Result<Ack, ApiError> {
        self.transact(|effects| {
            let chat = Hub::member_chat(effects.database, operator, command.chat)?;
            // Only the responsible operator's reading stops an escalation; a colleague or a
            // monitoring supervisor reading must not silence it (B21 reads mark nothing).
            if chat.responsible == Some(operator) && chat.state == ChatState::Active {
                let moved = effects
                    .database
                    .execute(
                        "UPDATE chats SET read_up_to = ?2 WHERE id = ?1 AND read_up_to < ?2",
                        (chat.id.0, command.up_to.0),
                    )
                    .map_err(StoreError::from)?;
                // The visitor's "Seen": only when reading moved on, and only naming their own
                // message, so a note's id never reaches them.
                if moved > 0
                    && let Some(up_to) = crate::presence::visitor_read_mark(
                        effects.database,
                        chat.id,
                        command.up_to,
                    )?
                {
                    effects.notify_visitor(
                        chat.visitor,
                        &switchboard_protocol::VisitorEvent::Read { up_to },
                    )?;
                }
            }
            Ok(Ack {})
        })
    }

    /// B13: receive this chat's escalations again.
    pub(crate) fn subscribe(
        &mut self,
        operator: OperatorId,
        command: SubscribeChat,
    ) -> Result<Ack, ApiError> {
        self.transact(|effects| {
            let chat = Hub::member_chat(effects.database, operator, command.chat)?;
            effects
                .database
                .execute(
                    "DELETE FROM chat_unsubscriptions WHERE chat_id = ?1 AND operator_id = ?2",
                    (chat.id.0, operator.0),
                )
                .map_err(StoreError::from)?;
            Ok(Ack {})
        })
    }

    /// B13: stop this chat's escalations for this operator.
    pub(crate) fn unsubscribe(
        &mut self,
        operator: OperatorId,
        command: UnsubscribeChat,
    ) -> Result<Ack, ApiError> {
        self.transact(|effects| {
            let chat = Hub::member_chat(effects.database, operator, command.chat)?;
            effects.database.execute(
                "INSERT OR IGNORE INTO chat_unsubscriptions (chat_id, operator_id) VALUES (?1, ?2)",
                (chat.id.0, operator.0),
            )
            .map_err(StoreError::from)?;
            Ok(Ack {})
        })
    }
}
