//! The local SQLite cache: chats, messages, the ringing and awaiting sets, unread counts, the
//! operator profile and the stream cursor. The console renders from here, so it works before
//! (and without) the network. The session token is never stored here.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_protocol::{
    Author, Availability, ChatHistory, ChatId, ChatState, ChatSummary, Message, OperatorEvent,
    OperatorProfile, RingStopReason,
};

use crate::error::CoreError;
use crate::state::CachedChat;

/// Numbered migrations; `PRAGMA user_version` is the number applied. Append only.
const MIGRATIONS: &[&str] = &[include_str!("../migrations/001_initial.sql")];

/// File name of the cache inside the data folder.
pub const CACHE_FILE_NAME: &str = "cache.sqlite3";

const OPERATOR_KEY: &str = "operator";
const CURSOR_KEY: &str = "cursor";
const AVAILABILITY_KEY: &str = "availability";

/// What one applied event changed, so the core knows what to tell the console.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    pub chats_changed: bool,
    pub new_message: Option<Message>,
    pub availability: Option<Availability>,
}

pub(crate) struct Cache {
    connection: Connection,
}

impl Cache {
    pub(crate) fn open(data_dir: &Path) -> Result<Cache, CoreError> {
        std::fs::create_dir_all(data_dir)?;
        let connection = Connection::open(data_dir.join(CACHE_FILE_NAME))?;
        Self::prepare(connection)
    }

    #[cfg(test)]
    pub(crate) fn in_memory() -> Result<Cache, CoreError> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(connection: Connection) -> Result<Cache, CoreError> {
        // WAL keeps console reads from waiting on event writes.
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        let mut cache = Cache { connection };
        cache.migrate()?;
        Ok(cache)
    }

    fn migrate(&mut self) -> Result<(), CoreError> {
        let applied: i64 = self
            .connection
            .pragma_query_value(None, "user_version", |row| row.get(0))?;
        let applied = usize::try_from(applied).unwrap_or(0);
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            let transaction = self.connection.transaction()?;
            transaction.execute_batch(migration)?;
            transaction.pragma_update(
                None,
                "user_version",
                i64::try_from(index + 1).unwrap_or(i64::MAX),
            )?;
            transaction.commit()?;
        }
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn schema_version(&self) -> i64 {
        self.connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap_or(-1)
    }

    pub(crate) fn operator(&self) -> Option<OperatorProfile> {
        read_meta(&self.connection, OPERATOR_KEY)
    }

    pub(crate) fn availability(&self) -> Option<Availability> {
        read_meta(&self.connection, AVAILABILITY_KEY)
    }

    pub(crate) fn cursor(&self) -> Option<u64> {
        read_meta(&self.connection, CURSOR_KEY)
    }

    pub(crate) fn clear_cursor(&mut self) -> Result<(), CoreError> {
        self.connection
            .execute("DELETE FROM meta WHERE key = ?1", [CURSOR_KEY])?;
        Ok(())
    }

    /// Records the signed-in operator. A different operator than the cached one starts from an
    /// empty cache, so nobody sees the previous person's chats.
    pub(crate) fn set_operator(&mut self, operator: &OperatorProfile) -> Result<(), CoreError> {
        if self
            .operator()
            .is_some_and(|cached| cached.id != operator.id)
        {
            self.clear()?;
        }
        write_meta(&self.connection, OPERATOR_KEY, operator)
    }

    /// Forgets everything (sign-out).
    pub(crate) fn clear(&mut self) -> Result<(), CoreError> {
        self.connection.execute_batch(
            "DELETE FROM meta; DELETE FROM chats; DELETE FROM messages;
             DELETE FROM ringing; DELETE FROM awaiting; DELETE FROM loaded_histories;
             DELETE FROM outbox;",
        )?;
        Ok(())
    }

    pub(crate) fn chats(&self) -> Result<Vec<CachedChat>, CoreError> {
        let ringing = self.id_set("SELECT chat FROM ringing")?;
        let awaiting = self.id_set("SELECT chat FROM awaiting")?;
        let mut statement = self
            .connection
            .prepare("SELECT summary, unread FROM chats ORDER BY updated_at DESC, id DESC")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?))
        })?;
        let mut chats = Vec::new();
        for row in rows {
            let (summary, unread) = row?;
            let Ok(summary) = serde_json::from_str::<ChatSummary>(&summary) else {
                continue;
            };
            chats.push(CachedChat {
                ringing: ringing.contains(&summary.id.0),
                awaiting: awaiting.contains(&summary.id.0),
                summary,
                unread,
            });
        }
        Ok(chats)
    }

    /// How many chats ring for this operator right now. Only pending chats are ever in the
    /// set: a chat leaving `pending` leaves it in the same transaction.
    pub(crate) fn ringing_count(&self) -> Result<usize, CoreError> {
        let count: i64 = self
            .connection
            .query_row("SELECT COUNT(*) FROM ringing", [], |row| row.get(0))?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    pub(crate) fn messages(&self, chat: ChatId) -> Result<Vec<Message>, CoreError> {
        let mut statement = self
            .connection
            .prepare("SELECT message FROM messages WHERE chat = ?1 ORDER BY id")?;
        let rows = statement.query_map([chat.0], |row| row.get::<_, String>(0))?;
        let mut messages = Vec::new();
        for row in rows {
            if let Ok(message) = serde_json::from_str(&row?) {
                messages.push(message);
            }
        }
        Ok(messages)
    }

    /// Stores a chat's full history fetched over REST.
    pub(crate) fn store_history(&mut self, history: &ChatHistory) -> Result<(), CoreError> {
        let transaction = self.connection.transaction()?;
        upsert_chat(&transaction, &history.chat)?;
        for message in &history.messages {
            insert_message(&transaction, message)?;
        }
        transaction.execute(
            "INSERT OR IGNORE INTO loaded_histories (chat) VALUES (?1)",
            [history.chat.id.0],
        )?;
        transaction.commit()?;
        Ok(())
    }

    /// Keeps a command frame until the server confirms it.
    pub(crate) fn outbox_add(&mut self, id: &str, frame: &str, at: i64) -> Result<(), CoreError> {
        self.connection.execute(
            "INSERT OR IGNORE INTO outbox (id, frame, created_at) VALUES (?1, ?2, ?3)",
            params![id, frame, at],
        )?;
        Ok(())
    }

    pub(crate) fn outbox_remove(&mut self, id: &str) -> Result<(), CoreError> {
        self.connection
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Unconfirmed command frames, oldest first, as `(id, frame)`.
    pub(crate) fn outbox(&self) -> Result<Vec<(String, String)>, CoreError> {
        let mut statement = self
            .connection
            .prepare("SELECT id, frame FROM outbox ORDER BY created_at, rowid")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether the chat's full history is here (else only what arrived as events).
    pub(crate) fn history_loaded(&self, chat: ChatId) -> Result<bool, CoreError> {
        let loaded: Option<i64> = self
            .connection
            .query_row(
                "SELECT chat FROM loaded_histories WHERE chat = ?1",
                [chat.0],
                |row| row.get(0),
            )
            .optional()?;
        Ok(loaded.is_some())
    }

    pub(crate) fn mark_read(&mut self, chat: ChatId) -> Result<bool, CoreError> {
        let changed = self.connection.execute(
            "UPDATE chats SET unread = 0 WHERE id = ?1 AND unread <> 0",
            [chat.0],
        )?;
        Ok(changed > 0)
    }

    /// Applies a chat summary the server returned for a command; older than the cached one is
    /// ignored, so a late reply never undoes a newer event.
    pub(crate) fn apply_summary(&mut self, chat: &ChatSummary) -> Result<bool, CoreError> {
        let transaction = self.connection.transaction()?;
        let changed = upsert_chat(&transaction, chat)?;
        transaction.commit()?;
        Ok(changed)
    }

    /// Stores a message the server returned for a command. Returns whether it was new.
    pub(crate) fn apply_message(&mut self, message: &Message) -> Result<bool, CoreError> {
        let transaction = self.connection.transaction()?;
        let new = insert_message(&transaction, message)?;
        transaction.commit()?;
        Ok(new)
    }

    pub(crate) fn set_availability(&mut self, availability: Availability) -> Result<(), CoreError> {
        write_meta(&self.connection, AVAILABILITY_KEY, &availability)
    }

    /// Applies one stream event and moves the cursor to `seq`, atomically.
    pub(crate) fn apply(&mut self, seq: u64, event: &OperatorEvent) -> Result<Applied, CoreError> {
        let me = self.operator().map(|operator| operator.id);
        let transaction = self.connection.transaction()?;
        let applied = apply_event(&transaction, event, me)?;
        write_meta(&transaction, CURSOR_KEY, &seq)?;
        transaction.commit()?;
        Ok(applied)
    }

    /// Applies what a command's success implies before the server's event says so (the event
    /// applies the same change again, harmlessly). The cursor does not move.
    pub(crate) fn apply_local(&mut self, event: &OperatorEvent) -> Result<Applied, CoreError> {
        let me = self.operator().map(|operator| operator.id);
        let transaction = self.connection.transaction()?;
        let applied = apply_event(&transaction, event, me)?;
        transaction.commit()?;
        Ok(applied)
    }

    fn id_set(&self, query: &str) -> Result<HashSet<i64>, CoreError> {
        let mut statement = self.connection.prepare(query)?;
        let rows = statement.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn apply_event(
    transaction: &Transaction<'_>,
    event: &OperatorEvent,
    me: Option<switchboard_protocol::OperatorId>,
) -> Result<Applied, CoreError> {
    let mut applied = Applied::default();
    match event {
        OperatorEvent::Snapshot {
            chats,
            ringing,
            availability,
        } => {
            let unread: HashMap<i64, u32> = {
                let mut statement = transaction.prepare("SELECT id, unread FROM chats")?;
                let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let awaiting: HashSet<i64> = {
                let mut statement = transaction.prepare("SELECT chat FROM awaiting")?;
                let rows = statement.query_map([], |row| row.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            transaction
                .execute_batch("DELETE FROM chats; DELETE FROM ringing; DELETE FROM awaiting;")?;
            let ringing: HashSet<i64> = ringing.iter().map(|chat| chat.0).collect();
            for chat in chats {
                upsert_chat(transaction, chat)?;
                let unread = unread.get(&chat.id.0).copied().unwrap_or(0);
                transaction.execute(
                    "UPDATE chats SET unread = ?2 WHERE id = ?1",
                    params![chat.id.0, unread],
                )?;
                let pending = chat.state == ChatState::Pending;
                if pending && ringing.contains(&chat.id.0) {
                    transaction.execute("INSERT INTO ringing (chat) VALUES (?1)", [chat.id.0])?;
                } else if pending && awaiting.contains(&chat.id.0) {
                    // The snapshot does not say who muted what; a muted chat that is still
                    // pending and not ringing again stays in Awaiting.
                    transaction.execute("INSERT INTO awaiting (chat) VALUES (?1)", [chat.id.0])?;
                }
            }
            write_meta(transaction, AVAILABILITY_KEY, availability)?;
            applied.chats_changed = true;
            applied.availability = Some(*availability);
        }
        OperatorEvent::ChatUpserted { chat } => {
            applied.chats_changed = upsert_chat(transaction, chat)?;
        }
        OperatorEvent::MessagePosted { message } => {
            if insert_message(transaction, message)? {
                let from_visitor = matches!(message.author, Author::Visitor { .. });
                let responsible = read_summary(transaction, message.chat)?
                    .and_then(|chat| chat.responsible)
                    .map(|operator| operator.id);
                // B12: new visitor messages alert the responsible operator only.
                if from_visitor && responsible.is_some() && responsible == me {
                    transaction.execute(
                        "UPDATE chats SET unread = unread + 1 WHERE id = ?1",
                        [message.chat.0],
                    )?;
                    applied.chats_changed = true;
                }
                applied.new_message = Some(message.clone());
            }
        }
        OperatorEvent::RingStarted { chat } => {
            // A ring for a chat that is no longer pending (a late event) is ignored.
            let pending = read_summary(transaction, *chat)?
                .is_none_or(|summary| summary.state == ChatState::Pending);
            if pending {
                transaction
                    .execute("INSERT OR IGNORE INTO ringing (chat) VALUES (?1)", [chat.0])?;
            }
            transaction.execute("DELETE FROM awaiting WHERE chat = ?1", [chat.0])?;
            applied.chats_changed = true;
        }
        OperatorEvent::RingStopped { chat, reason } => {
            transaction.execute("DELETE FROM ringing WHERE chat = ?1", [chat.0])?;
            if *reason == RingStopReason::Muted {
                transaction.execute(
                    "INSERT OR IGNORE INTO awaiting (chat) VALUES (?1)",
                    [chat.0],
                )?;
            }
            applied.chats_changed = true;
        }
        OperatorEvent::AvailabilityChanged { availability } => {
            write_meta(transaction, AVAILABILITY_KEY, availability)?;
            applied.availability = Some(*availability);
        }
    }
    Ok(applied)
}

fn read_meta<T: DeserializeOwned>(connection: &Connection, key: &str) -> Option<T> {
    let value: Option<String> = connection
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()
        .ok()
        .flatten();
    value.and_then(|value| serde_json::from_str(&value).ok())
}

fn write_meta<T: Serialize>(
    connection: &Connection,
    key: &str,
    value: &T,
) -> Result<(), CoreError> {
    let value =
        serde_json::to_string(value).map_err(|error| CoreError::Protocol(error.to_string()))?;
    connection.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

fn read_summary(
    transaction: &Transaction<'_>,
    chat: ChatId,
) -> Result<Option<ChatSummary>, CoreError> {
    let summary: Option<String> = transaction
        .query_row("SELECT summary FROM chats WHERE id = ?1", [chat.0], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(summary.and_then(|summary| serde_json::from_str(&summary).ok()))
}

/// Inserts or updates a chat unless the cached copy is newer. Returns whether anything changed.
fn upsert_chat(transaction: &Transaction<'_>, chat: &ChatSummary) -> Result<bool, CoreError> {
    if let Some(cached) = read_summary(transaction, chat.id)?
        && (cached.updated_at > chat.updated_at || cached == *chat)
    {
        return Ok(false);
    }
    let json =
        serde_json::to_string(chat).map_err(|error| CoreError::Protocol(error.to_string()))?;
    transaction.execute(
        "INSERT INTO chats (id, summary, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET summary = excluded.summary, updated_at = excluded.updated_at",
        params![chat.id.0, json, chat.updated_at.0],
    )?;
    if chat.state != ChatState::Pending {
        // Only pending chats ring or wait in Awaiting.
        transaction.execute("DELETE FROM ringing WHERE chat = ?1", [chat.id.0])?;
        transaction.execute("DELETE FROM awaiting WHERE chat = ?1", [chat.id.0])?;
    }
    Ok(true)
}

/// Inserts a message once. Returns whether it was new.
fn insert_message(transaction: &Transaction<'_>, message: &Message) -> Result<bool, CoreError> {
    let json =
        serde_json::to_string(message).map_err(|error| CoreError::Protocol(error.to_string()))?;
    let inserted = transaction.execute(
        "INSERT OR IGNORE INTO messages (id, chat, message, sent_at) VALUES (?1, ?2, ?3, ?4)",
        params![message.id.0, message.chat.0, json, message.sent_at.0],
    )?;
    Ok(inserted > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::{
        Channel, LiveChatId, MessageId, OperatorId, OperatorRef, Timestamp, Visibility, VisitorId,
        VisitorProfile,
    };

    const ME: OperatorId = OperatorId(1);

    fn profile() -> OperatorProfile {
        OperatorProfile {
            id: ME,
            name: "Ann Operator".to_owned(),
            email: "ann@example.com".to_owned(),
            live_chats: Vec::new(),
        }
    }

    fn chat(id: i64, state: ChatState, responsible: Option<OperatorId>, at: i64) -> ChatSummary {
        ChatSummary {
            id: ChatId(id),
            live_chat: LiveChatId(1),
            state,
            channel: Channel::Web,
            visitor: VisitorProfile {
                id: VisitorId(id),
                name: format!("Visitor {id}"),
                email: None,
                page_url: None,
            },
            subject: "Help".to_owned(),
            responsible: responsible.map(|id| OperatorRef {
                id,
                name: format!("Operator {id}"),
            }),
            created_at: Timestamp(at),
            updated_at: Timestamp(at),
        }
    }

    fn visitor_message(id: i64, chat: i64) -> Message {
        Message {
            id: MessageId(id),
            chat: ChatId(chat),
            client_id: None,
            author: Author::Visitor {
                name: "Visitor".to_owned(),
            },
            visibility: Visibility::Public,
            body: "<script>alert(1)</script>".to_owned(),
            sent_at: Timestamp(10),
        }
    }

    #[test]
    fn migrates_an_empty_file_and_reopens_without_migrating_again() {
        let folder = tempfile::tempdir().unwrap();
        let cache = Cache::open(folder.path()).unwrap();
        assert_eq!(cache.schema_version(), MIGRATIONS.len() as i64);
        assert_eq!(cache.cursor(), None);
        assert!(cache.chats().unwrap().is_empty());
        drop(cache);
        let mut reopened = Cache::open(folder.path()).unwrap();
        assert_eq!(reopened.schema_version(), MIGRATIONS.len() as i64);
        reopened.set_operator(&profile()).unwrap();
        drop(reopened);
        assert_eq!(
            Cache::open(folder.path()).unwrap().operator(),
            Some(profile())
        );
        let journal: String = Connection::open(folder.path().join(CACHE_FILE_NAME))
            .unwrap()
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();
        assert_eq!(journal, "wal");
    }

    #[test]
    fn events_move_chats_through_ringing_awaiting_and_unread() {
        let mut cache = Cache::in_memory().unwrap();
        cache.set_operator(&profile()).unwrap();
        let snapshot = OperatorEvent::Snapshot {
            chats: vec![
                chat(1, ChatState::Pending, None, 1),
                chat(2, ChatState::Pending, None, 2),
            ],
            ringing: vec![ChatId(1), ChatId(2)],
            availability: Availability::Online,
        };
        cache.apply(5, &snapshot).unwrap();
        assert_eq!(cache.cursor(), Some(5));
        assert_eq!(cache.ringing_count().unwrap(), 2);
        assert_eq!(cache.availability(), Some(Availability::Online));

        let muted = OperatorEvent::RingStopped {
            chat: ChatId(2),
            reason: RingStopReason::Muted,
        };
        cache.apply(6, &muted).unwrap();
        assert_eq!(cache.ringing_count().unwrap(), 1);
        let awaiting: Vec<_> = cache
            .chats()
            .unwrap()
            .into_iter()
            .filter(|c| c.awaiting)
            .collect();
        assert_eq!(awaiting.len(), 1);
        assert_eq!(awaiting[0].summary.id, ChatId(2));

        // Accepted by me: it stops ringing even before the RingStopped event arrives.
        cache
            .apply(
                7,
                &OperatorEvent::ChatUpserted {
                    chat: chat(1, ChatState::Active, Some(ME), 3),
                },
            )
            .unwrap();
        assert_eq!(cache.ringing_count().unwrap(), 0);

        let applied = cache
            .apply(
                8,
                &OperatorEvent::MessagePosted {
                    message: visitor_message(100, 1),
                },
            )
            .unwrap();
        assert!(applied.chats_changed);
        assert_eq!(applied.new_message.map(|m| m.id), Some(MessageId(100)));
        // A replayed event changes nothing.
        let again = cache
            .apply(
                8,
                &OperatorEvent::MessagePosted {
                    message: visitor_message(100, 1),
                },
            )
            .unwrap();
        assert_eq!(again, Applied::default());
        let unread = |cache: &Cache, id: i64| {
            cache
                .chats()
                .unwrap()
                .into_iter()
                .find(|c| c.summary.id == ChatId(id))
                .unwrap()
                .unread
        };
        assert_eq!(unread(&cache, 1), 1);
        // A message in a chat I am not responsible for does not count (B12).
        cache
            .apply(
                9,
                &OperatorEvent::MessagePosted {
                    message: visitor_message(101, 2),
                },
            )
            .unwrap();
        assert_eq!(unread(&cache, 2), 0);
        assert_eq!(cache.messages(ChatId(1)).unwrap().len(), 1);

        // A later snapshot keeps unread counts and the still-pending muted chat in Awaiting.
        let resnapshot = OperatorEvent::Snapshot {
            chats: vec![
                chat(1, ChatState::Active, Some(ME), 3),
                chat(2, ChatState::Pending, None, 2),
            ],
            ringing: vec![],
            availability: Availability::Away,
        };
        cache.apply(20, &resnapshot).unwrap();
        assert_eq!(unread(&cache, 1), 1);
        assert!(
            cache
                .chats()
                .unwrap()
                .iter()
                .any(|c| c.summary.id == ChatId(2) && c.awaiting)
        );
        assert!(cache.mark_read(ChatId(1)).unwrap());
        assert_eq!(unread(&cache, 1), 0);
        assert_eq!(cache.cursor(), Some(20));
    }

    #[test]
    fn an_older_summary_never_overwrites_a_newer_one() {
        let mut cache = Cache::in_memory().unwrap();
        cache
            .apply_summary(&chat(1, ChatState::Closed, Some(ME), 50))
            .unwrap();
        assert!(
            !cache
                .apply_summary(&chat(1, ChatState::Active, Some(ME), 40))
                .unwrap()
        );
        assert_eq!(cache.chats().unwrap()[0].summary.state, ChatState::Closed);
    }

    #[test]
    fn another_operator_signing_in_starts_from_an_empty_cache() {
        let mut cache = Cache::in_memory().unwrap();
        cache.set_operator(&profile()).unwrap();
        cache
            .apply_summary(&chat(1, ChatState::Pending, None, 1))
            .unwrap();
        let mut bob = profile();
        bob.id = OperatorId(2);
        cache.set_operator(&bob).unwrap();
        assert!(
            cache.chats().unwrap().is_empty(),
            "Bob must not see Ann's cache"
        );
        assert_eq!(cache.operator().map(|o| o.id), Some(OperatorId(2)));
    }
}
