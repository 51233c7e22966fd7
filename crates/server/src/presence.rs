//! Typing indicators and read state ("Seen") between the visitor and the staff in a chat.
//!
//! Typing is ephemeral: it travels in `Transient` frames that bypass the event log, so it is
//! never replayed on resume and never becomes history (resume stays exact: sequence numbers only
//! count logged events). Commands that set it skip the idempotency log too: a resend merely
//! refreshes the indicator. Only staff who are in the chat (responsible or joined) and typing a
//! public reply are shown to the visitor; a note being written or a monitoring supervisor never
//! reaches them (B21).
//!
//! Read state is lasting and logged: the visitor learns the responsible operator read their
//! messages (`VisitorEvent::Read`, from `MarkRead`, see `escalation.rs`), and staff learn the
//! visitor saw their replies (`OperatorEvent::VisitorRead`). Both sides' marks are stored with
//! the chat (`read_up_to`, `visitor_read_up_to`), so a restart never repeats one.

use std::collections::HashMap;

use serde::Serialize;
use switchboard_protocol::{
    Ack, ApiError, ChatId, ChatState, ErrorCode, MessageId, OperatorEvent, OperatorId, SetTyping,
    TYPING_REFRESH_MS, Timestamp, Visibility, VisitorEvent, VisitorId, VisitorMarkRead,
    VisitorTyping,
};

use crate::hub::{Hub, Stream};
use crate::storage::{self, ChatRow, StoreError};
use crate::supervision;

/// A hostile or buggy client repeating `typing: true` faster than this is not forwarded more
/// often; honest clients refresh every [`TYPING_REFRESH_MS`].
const TYPING_FORWARD_INTERVAL_MS: i64 = TYPING_REFRESH_MS / 2;

/// In-memory presence state: lost on restart, which only costs one repeated indicator.
#[derive(Debug, Default)]
pub struct Presence {
    /// Per typist and chat: when `typing: true` was last forwarded and the state forwarded.
    typing: HashMap<(Stream, ChatId), (Timestamp, bool)>,
}

impl Presence {
    /// Whether a typing change from `typist` in `chat` is news worth a frame.
    fn should_forward(
        &mut self,
        typist: Stream,
        chat: ChatId,
        typing: bool,
        now: Timestamp,
    ) -> bool {
        let key = (typist, chat);
        let forward = match self.typing.get(&key) {
            None => typing,
            Some(&(at, was_typing)) => {
                if typing {
                    !was_typing || now.0 - at.0 >= TYPING_FORWARD_INTERVAL_MS
                } else {
                    was_typing
                }
            }
        };
        if forward {
            if typing {
                self.typing.insert(key, (now, true));
            } else {
                self.typing.remove(&key);
            }
        }
        forward
    }
}

/// An ephemeral frame, same shape serde gives `ServerFrame::Transient`.
fn transient_frame<E: Serialize>(event: &E) -> Result<String, ApiError> {
    let payload = serde_json::to_string(event)
        .map_err(|error| StoreError::Invalid(format!("event does not serialise: {error}")))?;
    Ok(format!(r#"{{"type":"transient","event":{payload}}}"#))
}

fn visitor_open_chat(
    database: &rusqlite::Connection,
    visitor: VisitorId,
) -> Result<ChatRow, ApiError> {
    let chat = storage::open_chat_of_visitor(database, visitor)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "You have no open chat. Start one first.",
        )
    })?;
    storage::chat_row(database, chat)?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "There is no such chat."))
}

impl Hub {
    /// An operator typing in a chat's composer: forwarded to the visitor only for public replies
    /// of staff who are in the chat.
    pub(crate) fn operator_typing(
        &mut self,
        operator: OperatorId,
        command: SetTyping,
    ) -> Result<Ack, ApiError> {
        let chat = Self::member_chat(self.database(), operator, command.chat)?;
        if command.visibility == Visibility::Note || chat.state != ChatState::Active {
            return Ok(Ack {});
        }
        let in_chat = chat.responsible == Some(operator)
            || supervision::is_participant(self.database(), chat.id, operator)?;
        if !in_chat {
            // A colleague looking on or a supervisor monitoring (B21): the visitor must not know.
            return Ok(Ack {});
        }
        let now = storage::now();
        if !self
            .presence
            .should_forward(Stream::Operator(operator), chat.id, command.typing, now)
        {
            return Ok(Ack {});
        }
        let name = storage::operator_name(self.database(), operator)?;
        let frame = transient_frame(&VisitorEvent::OperatorTyping {
            name,
            typing: command.typing,
        })?;
        self.deliver(vec![(Stream::Visitor(chat.visitor), frame)]);
        Ok(Ack {})
    }

    /// The visitor typing: every member of the live chat who has the chat open may show it.
    pub(crate) fn visitor_typing(
        &mut self,
        visitor: VisitorId,
        command: VisitorTyping,
    ) -> Result<Ack, ApiError> {
        let chat = visitor_open_chat(self.database(), visitor)?;
        let now = storage::now();
        if !self
            .presence
            .should_forward(Stream::Visitor(visitor), chat.id, command.typing, now)
        {
            return Ok(Ack {});
        }
        let frame = transient_frame(&OperatorEvent::VisitorTyping {
            chat: chat.id,
            typing: command.typing,
        })?;
        let frames = storage::members(self.database(), chat.live_chat)?
            .into_iter()
            .map(|member| (Stream::Operator(member), frame.clone()))
            .collect();
        self.deliver(frames);
        Ok(Ack {})
    }

    /// The visitor saw the staff's messages up to a message of their chat: staff are told once
    /// per step forward.
    pub(crate) fn visitor_mark_read(
        &mut self,
        visitor: VisitorId,
        command: VisitorMarkRead,
    ) -> Result<Ack, ApiError> {
        let chat = visitor_open_chat(self.database(), visitor)?;
        // Only a message the visitor can see counts, so a note's id cannot be probed for.
        let visible = storage::live_message(self.database(), command.up_to)?
            .filter(|message| message.chat == chat.id && message.visibility == Visibility::Public);
        if visible.is_none() {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                "There is no such message.",
            ));
        }
        self.transact(|effects| {
            // The mark is stored with the chat and compared in the same transaction, so only
            // progress is announced, across restarts too.
            let moved = effects
                .database
                .prepare_cached(
                    "UPDATE chats SET visitor_read_up_to = ?2
                     WHERE id = ?1 AND visitor_read_up_to < ?2",
                )
                .and_then(|mut statement| statement.execute((chat.id.0, command.up_to.0)))
                .map_err(StoreError::from)?;
            if moved > 0 {
                effects.notify_members(
                    chat.live_chat,
                    &OperatorEvent::VisitorRead {
                        chat: chat.id,
                        up_to: command.up_to,
                    },
                )?;
            }
            Ok(())
        })?;
        Ok(Ack {})
    }
}

/// After the responsible operator read up to `up_to`: the visitor's newest own message at or
/// before it, so "Seen" never names a staff message or a note.
pub(crate) fn visitor_read_mark(
    database: &rusqlite::Connection,
    chat: ChatId,
    up_to: MessageId,
) -> Result<Option<MessageId>, StoreError> {
    let newest: Option<i64> = database.query_row(
        "SELECT MAX(id) FROM messages WHERE chat_id = ?1 AND author_kind = 'visitor' AND id <= ?2",
        (chat.0, up_to.0),
        |row| row.get(0),
    )?;
    Ok(newest.map(MessageId))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_is_forwarded_on_change_and_refresh_only() {
        let mut presence = Presence::default();
        let typist = Stream::Visitor(VisitorId(1));
        let chat = ChatId(2);
        assert!(!presence.should_forward(typist, chat, false, Timestamp(0)));
        assert!(presence.should_forward(typist, chat, true, Timestamp(0)));
        assert!(!presence.should_forward(typist, chat, true, Timestamp(500)));
        assert!(presence.should_forward(typist, chat, true, Timestamp(1_000)));
        assert!(presence.should_forward(typist, chat, false, Timestamp(1_100)));
        assert!(!presence.should_forward(typist, chat, false, Timestamp(1_200)));
        assert!(presence.should_forward(typist, chat, true, Timestamp(1_300)));
    }
}
