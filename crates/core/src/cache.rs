//! The local SQLite cache: chats, messages, the ringing and awaiting sets, unread counts, the
//! operator profile and the stream cursor. The console renders from here, so it works before
//! (and without) the network. The session token is never stored here.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_protocol::{
    ApiError, Article, Author, Availability, CannedResponse, ChatHistory, ChatId, ChatRating,
    ChatState, ChatSummary, Message, MessageId, OperatorEvent, OperatorProfile, OperatorRef,
    RingStopReason,
};

use crate::error::CoreError;
use crate::state::CachedChat;
use crate::store::{Applied, Found, QueuedCommand, Store};

/// Numbered migrations; `PRAGMA user_version` is the number applied. Append only.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_initial.sql"),
    include_str!("../migrations/002_outbox_state_and_search.sql"),
    include_str!("../migrations/003_message_search.sql"),
    include_str!("../migrations/004_visitor_read.sql"),
    include_str!("../migrations/005_chat_ratings.sql"),
];

/// Most search results returned per kind; the console shows a short list.
const SEARCH_LIMIT: usize = 50;

/// Query words up to this many characters are matched through the FTS5 prefix index
/// (`prefix = '1 2 3'` in migration 003).
const INDEXED_PREFIX_CHARACTERS: usize = 3;

/// Most exact terms a longer prefix is expanded into; beyond that FTS5's own prefix query is
/// used (it merges every matching doclist first, so it is the slow path, kept for correctness).
const PREFIX_EXPANSION_LIMIT: usize = 64;

/// Words longer than this are indexed but not kept in `search_terms` (pasted hashes and junk
/// would only bloat it); a prefix that expands to nothing falls back to FTS5's prefix query.
const LONGEST_TERM_CHARACTERS: usize = 64;

/// Query words looked up in message history; the rest of a pasted paragraph is ignored, so
/// its cost stays bounded (each word is a term lookup and a doclist to intersect).
const MOST_QUERY_WORDS: usize = 16;

/// File name of the cache inside the data folder.
pub const CACHE_FILE_NAME: &str = "cache.sqlite3";

const OPERATOR_KEY: &str = "operator";
const CURSOR_KEY: &str = "cursor";
const AVAILABILITY_KEY: &str = "availability";
/// The last canned responses fetched (B30), for the picker offline.
const CANNED_KEY: &str = "canned_responses";
/// The last knowledge base results (B31), for the picker offline.
const ARTICLES_KEY: &str = "last_articles";
/// The colleagues to @mention (B26), for notes offline.
const COLLEAGUES_KEY: &str = "colleagues";
/// Invitations, transfers, reply locks and unsubscriptions (issue 7).
const COLLABORATION_KEY: &str = "collaboration";

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

    /// Stores whole chats with their messages in one transaction (benchmark set-up).
    pub(crate) fn bulk_load(
        &mut self,
        chats: &[(ChatSummary, Vec<Message>)],
    ) -> Result<(), CoreError> {
        let transaction = self.connection.transaction()?;
        for (chat, messages) in chats {
            upsert_chat(&transaction, chat)?;
            for message in messages {
                insert_message(&transaction, message)?;
            }
        }
        transaction.commit()?;
        Ok(())
    }

    /// Folds the write-ahead log into the database file, so its size is the cache's size.
    pub(crate) fn checkpoint(&mut self) -> Result<(), CoreError> {
        self.connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    #[cfg(test)]
    pub(crate) fn schema_version(&self) -> i64 {
        self.connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap_or(-1)
    }

    /// The newest messages matching every word of `query` (each as a prefix), in `chat` or in
    /// every chat. The cost follows the rows returned: FTS5 walks the doclists newest first
    /// and stops at the limit, and no step merges or ranks every match.
    fn search_messages(
        &self,
        query: &str,
        chat: Option<ChatId>,
    ) -> Result<Vec<Message>, CoreError> {
        let mut words = folded_words(query);
        words.truncate(MOST_QUERY_WORDS);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut parts = Vec::with_capacity(words.len() + 1);
        if let Some(chat) = chat {
            parts.push(format!("chat : \"{}\"", chat_token(chat)));
        }
        for word in &words {
            parts.push(format!("body : {}", self.word_expression(word)?));
        }
        let expression = parts.join(" AND ");
        let mut statement = self.connection.prepare_cached(
            "SELECT message FROM messages WHERE id IN (
                 SELECT rowid FROM messages_search WHERE messages_search MATCH ?1
                 ORDER BY rowid DESC LIMIT ?2
             ) ORDER BY id DESC",
        )?;
        let limit = i64::try_from(SEARCH_LIMIT).unwrap_or(i64::MAX);
        let rows =
            statement.query_map(params![expression, limit], |row| row.get::<_, String>(0))?;
        let mut messages = Vec::new();
        for row in rows {
            if let Ok(message) = serde_json::from_str(&row?) {
                messages.push(message);
            }
        }
        Ok(messages)
    }

    /// One folded query word as an FTS5 expression matching the words it starts. Short words
    /// use the prefix index; longer ones become an OR of the exact terms they start, so FTS5
    /// can stop early instead of merging every matching doclist first.
    fn word_expression(&self, word: &str) -> Result<String, CoreError> {
        if word.chars().count() <= INDEXED_PREFIX_CHARACTERS {
            return Ok(format!("{}*", quoted(word)));
        }
        let mut statement = self.connection.prepare_cached(
            "SELECT term FROM search_terms WHERE term >= ?1 AND term < ?2 LIMIT ?3",
        )?;
        // Every term starting with `word` sorts below `word` followed by the largest scalar.
        let above = format!("{word}{}", char::MAX);
        let limit = i64::try_from(PREFIX_EXPANSION_LIMIT + 1).unwrap_or(i64::MAX);
        let terms = statement
            .query_map(params![word, above, limit], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        if terms.is_empty() || terms.len() > PREFIX_EXPANSION_LIMIT {
            return Ok(format!("{}*", quoted(word)));
        }
        let alternatives: Vec<String> = terms.iter().map(|term| quoted(term)).collect();
        Ok(format!("({})", alternatives.join(" OR ")))
    }

    fn id_set(&self, query: &str) -> Result<HashSet<i64>, CoreError> {
        let mut statement = self.connection.prepare(query)?;
        let rows = statement.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Store for Cache {
    fn canned_responses(&self) -> Option<Vec<CannedResponse>> {
        read_meta(&self.connection, CANNED_KEY)
    }

    fn store_canned_responses(&mut self, canned: &[CannedResponse]) -> Result<(), CoreError> {
        write_meta(&self.connection, CANNED_KEY, &canned)
    }

    fn last_articles(&self) -> Option<Vec<Article>> {
        read_meta(&self.connection, ARTICLES_KEY)
    }

    fn store_last_articles(&mut self, articles: &[Article]) -> Result<(), CoreError> {
        write_meta(&self.connection, ARTICLES_KEY, &articles)
    }

    fn colleagues(&self) -> Option<Vec<OperatorRef>> {
        read_meta(&self.connection, COLLEAGUES_KEY)
    }

    fn store_colleagues(&mut self, colleagues: &[OperatorRef]) -> Result<(), CoreError> {
        write_meta(&self.connection, COLLEAGUES_KEY, &colleagues)
    }

    fn collaboration(&self) -> Option<crate::supervision::Collaboration> {
        read_meta(&self.connection, COLLABORATION_KEY)
    }

    fn store_collaboration(
        &mut self,
        collaboration: &crate::supervision::Collaboration,
    ) -> Result<(), CoreError> {
        write_meta(&self.connection, COLLABORATION_KEY, collaboration)
    }

    fn operator(&self) -> Option<OperatorProfile> {
        read_meta(&self.connection, OPERATOR_KEY)
    }

    fn availability(&self) -> Option<Availability> {
        read_meta(&self.connection, AVAILABILITY_KEY)
    }

    fn cursor(&self) -> Option<u64> {
        read_meta(&self.connection, CURSOR_KEY)
    }

    fn clear_cursor(&mut self) -> Result<(), CoreError> {
        self.connection
            .execute("DELETE FROM meta WHERE key = ?1", [CURSOR_KEY])?;
        Ok(())
    }

    fn set_operator(&mut self, operator: &OperatorProfile) -> Result<(), CoreError> {
        if self
            .operator()
            .is_some_and(|cached| cached.id != operator.id)
        {
            self.clear()?;
        }
        write_meta(&self.connection, OPERATOR_KEY, operator)
    }

    fn clear(&mut self) -> Result<(), CoreError> {
        self.connection.execute_batch(
            "DELETE FROM meta; DELETE FROM chats; DELETE FROM messages;
             DELETE FROM ringing; DELETE FROM awaiting; DELETE FROM loaded_histories;
             DELETE FROM outbox; DELETE FROM chats_search; DELETE FROM visitor_reads;
             DELETE FROM chat_ratings;
             INSERT INTO messages_search (messages_search) VALUES ('delete-all');
             DELETE FROM search_terms;",
        )?;
        Ok(())
    }

    fn chats(&self) -> Result<Vec<CachedChat>, CoreError> {
        let ringing = self.id_set("SELECT chat FROM ringing")?;
        let awaiting = self.id_set("SELECT chat FROM awaiting")?;
        let mut statement = self.connection.prepare(
            "SELECT chats.summary, chats.unread, visitor_reads.up_to, chat_ratings.rating
                 FROM chats LEFT JOIN visitor_reads ON visitor_reads.chat = chats.id
                 LEFT JOIN chat_ratings ON chat_ratings.chat = chats.id
                 ORDER BY chats.updated_at DESC, chats.id DESC",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, u32>(1)?,
                row.get::<_, Option<i64>>(2)?,
                row.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut chats = Vec::new();
        for row in rows {
            let (summary, unread, visitor_read, rating) = row?;
            let Ok(summary) = serde_json::from_str::<ChatSummary>(&summary) else {
                continue;
            };
            chats.push(CachedChat {
                ringing: ringing.contains(&summary.id.0),
                awaiting: awaiting.contains(&summary.id.0),
                summary,
                unread,
                visitor_read_up_to: visitor_read.map(MessageId),
                rating: parse_rating(rating),
            });
        }
        Ok(chats)
    }

    fn ringing_count(&self) -> Result<usize, CoreError> {
        let count: i64 = self
            .connection
            .query_row("SELECT COUNT(*) FROM ringing", [], |row| row.get(0))?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    fn messages(&self, chat: ChatId) -> Result<Vec<Message>, CoreError> {
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

    fn store_history(&mut self, history: &ChatHistory) -> Result<(), CoreError> {
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

    fn outbox_add(&mut self, id: &str, frame: &str, at: i64) -> Result<(), CoreError> {
        self.connection.execute(
            "INSERT OR IGNORE INTO outbox (id, frame, created_at) VALUES (?1, ?2, ?3)",
            params![id, frame, at],
        )?;
        Ok(())
    }

    fn outbox_remove(&mut self, id: &str) -> Result<bool, CoreError> {
        let removed = self
            .connection
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(removed > 0)
    }

    fn outbox_fail(&mut self, id: &str, failure: &ApiError) -> Result<bool, CoreError> {
        let failure = serde_json::to_string(failure)
            .map_err(|error| CoreError::Protocol(error.to_string()))?;
        let changed = self.connection.execute(
            "UPDATE outbox SET failure = ?2 WHERE id = ?1",
            params![id, failure],
        )?;
        Ok(changed > 0)
    }

    fn outbox_retry(&mut self, id: &str) -> Result<Option<QueuedCommand>, CoreError> {
        self.connection
            .execute("UPDATE outbox SET failure = NULL WHERE id = ?1", [id])?;
        Ok(self.outbox()?.into_iter().find(|queued| queued.id == id))
    }

    fn outbox(&self) -> Result<Vec<QueuedCommand>, CoreError> {
        let mut statement = self.connection.prepare(
            "SELECT id, frame, created_at, failure FROM outbox ORDER BY created_at, rowid",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(QueuedCommand {
                id: row.get(0)?,
                frame: row.get(1)?,
                created_at: row.get(2)?,
                failure: row
                    .get::<_, Option<String>>(3)?
                    .and_then(|failure| serde_json::from_str(&failure).ok()),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn search(&self, query: &str, chat: Option<ChatId>) -> Result<Found, CoreError> {
        let Some(expression) = match_expression(query) else {
            return Ok(Found::default());
        };
        let limit = i64::try_from(SEARCH_LIMIT).unwrap_or(i64::MAX);
        // The chat rows come with the search hits, so a search never reads the whole list.
        const CHAT_COLUMNS: &str = "SELECT chats.summary, chats.unread,
                EXISTS (SELECT 1 FROM ringing WHERE ringing.chat = chats.id),
                EXISTS (SELECT 1 FROM awaiting WHERE awaiting.chat = chats.id),
                (SELECT up_to FROM visitor_reads WHERE visitor_reads.chat = chats.id),
                (SELECT rating FROM chat_ratings WHERE chat_ratings.chat = chats.id)
             FROM chats_search JOIN chats ON chats.id = chats_search.rowid
             WHERE chats_search MATCH ?1";
        let mut statement = match chat {
            Some(_) => self.connection.prepare_cached(&format!(
                "{CHAT_COLUMNS} AND chats_search.rowid = ?2 LIMIT ?3"
            ))?,
            None => self.connection.prepare_cached(&format!(
                "{CHAT_COLUMNS} AND ?2 IS NULL ORDER BY rank LIMIT ?3"
            ))?,
        };
        let rows =
            statement.query_map(params![expression, chat.map(|chat| chat.0), limit], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, u32>(1)?,
                    row.get::<_, bool>(2)?,
                    row.get::<_, bool>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                ))
            })?;
        let mut chats = Vec::new();
        for row in rows {
            let (summary, unread, ringing, awaiting, visitor_read, rating) = row?;
            if let Ok(summary) = serde_json::from_str::<ChatSummary>(&summary) {
                chats.push(CachedChat {
                    summary,
                    unread,
                    ringing,
                    awaiting,
                    visitor_read_up_to: visitor_read.map(MessageId),
                    rating: parse_rating(rating),
                });
            }
        }
        let messages = self.search_messages(query, chat)?;
        Ok(Found { chats, messages })
    }

    fn history_loaded(&self, chat: ChatId) -> Result<bool, CoreError> {
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

    fn last_message(&self, chat: ChatId) -> Result<Option<MessageId>, CoreError> {
        let last: Option<i64> = self.connection.query_row(
            "SELECT MAX(id) FROM messages WHERE chat = ?1",
            [chat.0],
            |row| row.get(0),
        )?;
        Ok(last.map(MessageId))
    }

    fn mark_read(&mut self, chat: ChatId) -> Result<bool, CoreError> {
        let changed = self.connection.execute(
            "UPDATE chats SET unread = 0 WHERE id = ?1 AND unread <> 0",
            [chat.0],
        )?;
        Ok(changed > 0)
    }

    fn apply_summary(&mut self, chat: &ChatSummary) -> Result<bool, CoreError> {
        let transaction = self.connection.transaction()?;
        let changed = upsert_chat(&transaction, chat)?;
        transaction.commit()?;
        Ok(changed)
    }

    fn apply_message(&mut self, message: &Message) -> Result<bool, CoreError> {
        let transaction = self.connection.transaction()?;
        let new = insert_message(&transaction, message)?;
        transaction.commit()?;
        Ok(new)
    }

    fn set_availability(&mut self, availability: Availability) -> Result<(), CoreError> {
        write_meta(&self.connection, AVAILABILITY_KEY, &availability)
    }

    fn apply(&mut self, seq: u64, event: &OperatorEvent) -> Result<Applied, CoreError> {
        let me = self.operator().map(|operator| operator.id);
        let transaction = self.connection.transaction()?;
        let applied = apply_event(&transaction, event, me)?;
        write_meta(&transaction, CURSOR_KEY, &seq)?;
        transaction.commit()?;
        Ok(applied)
    }

    fn apply_all(&mut self, events: &[(u64, OperatorEvent)]) -> Result<Vec<Applied>, CoreError> {
        let Some((last, _)) = events.last() else {
            return Ok(Vec::new());
        };
        let me = self.operator().map(|operator| operator.id);
        let transaction = self.connection.transaction()?;
        let applied = events
            .iter()
            .map(|(_, event)| apply_event(&transaction, event, me))
            .collect::<Result<Vec<_>, _>>()?;
        write_meta(&transaction, CURSOR_KEY, last)?;
        transaction.commit()?;
        Ok(applied)
    }

    fn apply_local(&mut self, event: &OperatorEvent) -> Result<Applied, CoreError> {
        let me = self.operator().map(|operator| operator.id);
        let transaction = self.connection.transaction()?;
        let applied = apply_event(&transaction, event, me)?;
        transaction.commit()?;
        Ok(applied)
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
            // A snapshot carries no messages: whatever was posted while this cache was not
            // listening is only in the server's history, so every history is fetched again
            // (once, when next opened) rather than trusted.
            transaction.execute_batch(
                "DELETE FROM chats; DELETE FROM chats_search; DELETE FROM ringing;
                 DELETE FROM awaiting; DELETE FROM loaded_histories;",
            )?;
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
        // The ring of an offer arrives as its own RingStarted, and the console does not show
        // the routing switch yet; neither changes the cache.
        OperatorEvent::Offered { .. } | OperatorEvent::RoutingChanged { .. } => {}
        // Invitations, transfers and reply locks (issue 7) are not shown by the console yet.
        OperatorEvent::Invited { .. }
        | OperatorEvent::InvitationAnswered { .. }
        | OperatorEvent::ReplyLockChanged { .. }
        | OperatorEvent::InvitationExpired { .. }
        | OperatorEvent::OpenInvitations { .. }
        | OperatorEvent::ColleaguesChanged { .. }
        | OperatorEvent::ColleagueChanged { .. } => {}
        // Teams (issue 3) are for transfer-to-team; the cache does not keep them yet.
        OperatorEvent::TeamsChanged { .. } => {}
        OperatorEvent::ChatRated { rating } => {
            applied.chats_changed |= store_rating(transaction, rating)?;
        }
        OperatorEvent::StaffEmojiChanged { live_chat, enabled } => {
            // The switch lives in the profile the console reads (`staffEmoji`), so it changes
            // there; the next sign-in brings the same value from the server.
            if let Some(mut operator) = read_meta::<OperatorProfile>(transaction, OPERATOR_KEY) {
                let mut changed = false;
                for live in &mut operator.live_chats {
                    if live.id == *live_chat && live.staff_emoji != *enabled {
                        live.staff_emoji = *enabled;
                        changed = true;
                    }
                }
                if changed {
                    write_meta(transaction, OPERATOR_KEY, &operator)?;
                    applied.operator = Some(operator);
                }
            }
        }
        // The escalated messages arrived before as MessagePosted; only attention reacts (B12).
        OperatorEvent::UnreadEscalation { .. } => {}
        OperatorEvent::MessageEdited { message } => {
            let json = serde_json::to_string(message)
                .map_err(|error| CoreError::Protocol(error.to_string()))?;
            // Only a message this cache holds is replaced; an unknown one arrives with the
            // chat's history later, already edited.
            let updated = transaction.execute(
                "UPDATE messages SET message = ?2 WHERE id = ?1",
                params![message.id.0, json],
            )?;
            if updated > 0 {
                unindex_message(transaction, message.id)?;
                index_message(transaction, message)?;
                applied.edited_message = Some(message.clone());
            }
        }
        // Typing only arrives in transient frames (never logged).
        OperatorEvent::VisitorTyping { .. } => {}
        // Visitors on site (B50) are presence: transient frames only, never cached.
        OperatorEvent::VisitorsOnSite { .. }
        | OperatorEvent::VisitorArrived { .. }
        | OperatorEvent::VisitorUpdated { .. }
        | OperatorEvent::VisitorLeft { .. } => {}
        OperatorEvent::VisitorRead { chat, up_to } => {
            // Read state only moves forward; a replayed older event changes nothing.
            let changed = transaction.execute(
                "INSERT INTO visitor_reads (chat, up_to) VALUES (?1, ?2)
                 ON CONFLICT (chat) DO UPDATE SET up_to = excluded.up_to
                 WHERE excluded.up_to > visitor_reads.up_to",
                params![chat.0, up_to.0],
            )?;
            if changed > 0 {
                applied.visitor_read = Some((*chat, *up_to));
            }
        }
        OperatorEvent::MessageDeleted { chat, message } => {
            let deleted = transaction.execute("DELETE FROM messages WHERE id = ?1", [message.0])?;
            if deleted > 0 {
                unindex_message(transaction, *message)?;
            }
            applied.deleted_message = Some((*chat, *message));
        }
    }
    Ok(applied)
}

/// Keeps a chat's rating (B33). The newest rating wins; a replayed older one, or the same one
/// again, changes nothing. Returns whether the cache changed.
fn store_rating(transaction: &Transaction<'_>, rating: &ChatRating) -> Result<bool, CoreError> {
    let json =
        serde_json::to_string(rating).map_err(|error| CoreError::Protocol(error.to_string()))?;
    let changed = transaction.execute(
        "INSERT INTO chat_ratings (chat, rated_at, rating) VALUES (?1, ?2, ?3)
         ON CONFLICT (chat) DO UPDATE SET rated_at = excluded.rated_at,
             rating = excluded.rating
         WHERE excluded.rated_at >= chat_ratings.rated_at AND excluded.rating != chat_ratings.rating",
        params![rating.chat.0, rating.rated_at.0, json],
    )?;
    Ok(changed > 0)
}

/// A cached rating (B33); one written by another version that no longer parses is no rating.
fn parse_rating(json: Option<String>) -> Option<ChatRating> {
    json.and_then(|json| serde_json::from_str(&json).ok())
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
    // B33: a rating in the summary (snapshot, history) reaches the badge even when this cache
    // never saw the `ChatRated` event; the newest rating wins whichever way it came.
    let rated = match &chat.rating {
        Some(rating) => store_rating(transaction, rating)?,
        None => false,
    };
    if let Some(cached) = read_summary(transaction, chat.id)?
        && (cached.updated_at > chat.updated_at || cached == *chat)
    {
        return Ok(rated);
    }
    let json =
        serde_json::to_string(chat).map_err(|error| CoreError::Protocol(error.to_string()))?;
    transaction.execute(
        "INSERT INTO chats (id, summary, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET summary = excluded.summary, updated_at = excluded.updated_at",
        params![chat.id.0, json, chat.updated_at.0],
    )?;
    transaction.execute("DELETE FROM chats_search WHERE rowid = ?1", [chat.id.0])?;
    transaction.execute(
        "INSERT INTO chats_search (rowid, name, subject) VALUES (?1, ?2, ?3)",
        params![chat.id.0, chat.visitor.name, chat.subject],
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
    if inserted > 0 {
        index_message(transaction, message)?;
    }
    Ok(inserted > 0)
}

/// Adds a message's text to the search index (B42) and its words to `search_terms`.
fn index_message(transaction: &Transaction<'_>, message: &Message) -> Result<(), CoreError> {
    transaction
        .prepare_cached("INSERT INTO messages_search (rowid, body, chat) VALUES (?1, ?2, ?3)")?
        .execute(params![
            message.id.0,
            message.body,
            chat_token(message.chat)
        ])?;
    let mut words = folded_words(&message.body);
    words.sort_unstable();
    words.dedup();
    let mut statement =
        transaction.prepare_cached("INSERT OR IGNORE INTO search_terms (term) VALUES (?1)")?;
    for word in words
        .iter()
        .filter(|word| word.chars().count() <= LONGEST_TERM_CHARACTERS)
    {
        statement.execute([word])?;
    }
    Ok(())
}

/// Removes a message's text from the search index (contentless: no old text needed).
fn unindex_message(transaction: &Transaction<'_>, message: MessageId) -> Result<(), CoreError> {
    transaction
        .prepare_cached("DELETE FROM messages_search WHERE rowid = ?1")?
        .execute([message.0])?;
    Ok(())
}

/// The one token in a message's `chat` column that scopes a search to that chat.
fn chat_token(chat: ChatId) -> String {
    format!("c{}", chat.0)
}

/// An FTS5 string: whatever it holds is text, never query syntax.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Lower-case words with accents removed, split where FTS5's `unicode61` tokenizer splits
/// (anything not a letter or digit): the words `search_terms` holds and queries look up. The
/// expanded terms go back through the tokenizer, so a fold it does differently still matches.
fn folded_words(text: &str) -> Vec<String> {
    text.split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            word.chars()
                .flat_map(char::to_lowercase)
                .map(fold_accent)
                .collect()
        })
        .collect()
}

/// The base letter of a lower-case Latin letter with a diacritic; others unchanged.
fn fold_accent(character: char) -> char {
    const FOLDS: &[(&str, char)] = &[
        ("àáâãäåāăą", 'a'),
        ("çćĉċč", 'c'),
        ("ďđ", 'd'),
        ("èéêëēĕėęě", 'e'),
        ("ĝğġģ", 'g'),
        ("ìíîïĩīĭįı", 'i'),
        ("ñńņňŉ", 'n'),
        ("òóôõöøōŏő", 'o'),
        ("ŕŗř", 'r'),
        ("śŝşš", 's'),
        ("ţťŧ", 't'),
        ("ùúûüũūŭůűų", 'u'),
        ("ýÿŷ", 'y'),
        ("źżž", 'z'),
        ("ł", 'l'),
    ];
    FOLDS
        .iter()
        .find(|(accented, _)| accented.contains(character))
        .map_or(character, |(_, base)| *base)
}

/// Turns what a person typed into an FTS5 expression: each word quoted (so `"`, `*`, `NEAR`,
/// `-` and column filters in the input are plain text) and matched as a prefix; all must match.
fn match_expression(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split_whitespace()
        .take(MOST_QUERY_WORDS)
        .map(|word| format!("{}*", quoted(word)))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::{MessageId, OperatorId, Timestamp, Visibility};

    const ME: OperatorId = OperatorId(1);

    /// Chat 7 of live chat 1, Maria's "Help", in `state` with `responsible`.
    fn maria_chat(state: ChatState, responsible: Option<OperatorRef>) -> ChatSummary {
        ChatSummary {
            id: ChatId(7),
            live_chat: switchboard_protocol::LiveChatId(1),
            state,
            channel: switchboard_protocol::Channel::Web,
            visitor: switchboard_protocol::VisitorProfile {
                id: switchboard_protocol::VisitorId(3),
                name: "Maria".to_owned(),
                email: None,
                page_url: None,
                location: None,
                country: None,
                language: None,
                time_zone: None,
                topic: None,
            },
            subject: "Help".to_owned(),
            responsible,
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
            rating: None,
        }
    }

    fn profile() -> OperatorProfile {
        OperatorProfile {
            id: ME,
            name: "Ann Operator".to_owned(),
            email: "ann@example.com".to_owned(),
            live_chats: Vec::new(),
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
            attachments: Vec::new(),
            edited_at: None,
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
    fn b32_the_staff_emoji_switch_updates_the_cached_profile() {
        let mut cache = Cache::in_memory().unwrap();
        let live = |id: i64| switchboard_protocol::LiveChatSummary {
            id: switchboard_protocol::LiveChatId(id),
            name: format!("Live chat {id}"),
            supervisor: false,
            staff_emoji: true,
        };
        cache
            .set_operator(&OperatorProfile {
                live_chats: vec![live(1), live(2)],
                ..profile()
            })
            .unwrap();
        let switch = |enabled: bool| OperatorEvent::StaffEmojiChanged {
            live_chat: switchboard_protocol::LiveChatId(2),
            enabled,
        };
        let applied = cache.apply(1, &switch(false)).unwrap();
        let operator = applied.operator.expect("the console is told");
        assert_eq!(
            operator
                .live_chats
                .iter()
                .map(|live| live.staff_emoji)
                .collect::<Vec<_>>(),
            [true, false],
            "only that live chat changes"
        );
        assert_eq!(cache.operator(), Some(operator));
        assert_eq!(
            cache.apply(2, &switch(false)).unwrap().operator,
            None,
            "the same value again changes nothing"
        );
    }

    #[test]
    fn visitor_read_and_edit_time_survive_a_restart_and_a_snapshot() {
        let folder = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(folder.path()).unwrap();
        cache.set_operator(&profile()).unwrap();
        let summary = maria_chat(
            ChatState::Active,
            Some(OperatorRef {
                id: ME,
                name: "Ann Operator".to_owned(),
            }),
        );
        cache
            .apply(
                1,
                &OperatorEvent::ChatUpserted {
                    chat: summary.clone(),
                },
            )
            .unwrap();
        cache
            .apply(
                2,
                &OperatorEvent::MessagePosted {
                    message: visitor_message(42, 7),
                },
            )
            .unwrap();
        let edited = Message {
            body: "fixed".to_owned(),
            edited_at: Some(Timestamp(20)),
            ..visitor_message(42, 7)
        };
        cache
            .apply(3, &OperatorEvent::MessageEdited { message: edited })
            .unwrap();
        let read = |up_to: i64| OperatorEvent::VisitorRead {
            chat: ChatId(7),
            up_to: MessageId(up_to),
        };
        assert_eq!(
            cache.apply(4, &read(42)).unwrap().visitor_read,
            Some((ChatId(7), MessageId(42)))
        );
        // A replayed older read moves nothing back and tells the console nothing.
        assert_eq!(cache.apply(5, &read(41)).unwrap().visitor_read, None);
        drop(cache);

        let mut reopened = Cache::open(folder.path()).unwrap();
        assert_eq!(
            reopened.chats().unwrap()[0].visitor_read_up_to,
            Some(MessageId(42))
        );
        assert_eq!(
            reopened.messages(ChatId(7)).unwrap()[0].edited_at,
            Some(Timestamp(20))
        );
        // A snapshot rebuilds the chat list but keeps what the visitor has seen.
        reopened
            .apply(
                6,
                &OperatorEvent::Snapshot {
                    chats: vec![summary],
                    ringing: Vec::new(),
                    availability: Availability::Online,
                },
            )
            .unwrap();
        assert_eq!(
            reopened.chats().unwrap()[0].visitor_read_up_to,
            Some(MessageId(42))
        );
        assert_eq!(
            reopened.search("maria", None).unwrap().chats[0].visitor_read_up_to,
            Some(MessageId(42))
        );
        // Signing out forgets it with everything else.
        reopened.clear().unwrap();
        let left: i64 = reopened
            .connection
            .query_row("SELECT COUNT(*) FROM visitor_reads", [], |row| row.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn b33_a_rating_is_cached_with_the_chat_and_survives_a_restart_and_a_snapshot() {
        let folder = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(folder.path()).unwrap();
        cache.set_operator(&profile()).unwrap();
        let summary = maria_chat(ChatState::Closed, None);
        let upsert = OperatorEvent::ChatUpserted {
            chat: summary.clone(),
        };
        cache.apply(1, &upsert).unwrap();
        let rating = |score, at: i64| ChatRating {
            chat: ChatId(7),
            score,
            comment: Some("<script>alert(1)</script>".to_owned()),
            rated_at: Timestamp(at),
        };
        let rated = |rating| OperatorEvent::ChatRated { rating };
        let good = rating(switchboard_protocol::RatingScore::Good, 10);
        let bad = rating(switchboard_protocol::RatingScore::Bad, 20);
        assert!(cache.apply(2, &rated(good.clone())).unwrap().chats_changed);
        assert!(cache.apply(3, &rated(bad.clone())).unwrap().chats_changed);
        // A replayed older rating does not undo the visitor's later change.
        assert!(!cache.apply(4, &rated(good)).unwrap().chats_changed);
        drop(cache);

        let mut reopened = Cache::open(folder.path()).unwrap();
        assert_eq!(reopened.chats().unwrap()[0].rating, Some(bad.clone()));
        reopened
            .apply(
                5,
                &OperatorEvent::Snapshot {
                    chats: vec![summary],
                    ringing: Vec::new(),
                    availability: Availability::Online,
                },
            )
            .unwrap();
        assert_eq!(reopened.chats().unwrap()[0].rating, Some(bad.clone()));
        assert_eq!(
            reopened.search("maria", None).unwrap().chats[0].rating,
            Some(bad)
        );
        reopened.clear().unwrap();
        let left: i64 = reopened
            .connection
            .query_row("SELECT COUNT(*) FROM chat_ratings", [], |row| row.get(0))
            .unwrap();
        assert_eq!(left, 0, "signing out forgets ratings");
    }

    #[test]
    fn b33_a_rating_in_a_snapshot_or_history_reaches_a_cache_that_missed_chat_rated() {
        let folder = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(folder.path()).unwrap();
        cache.set_operator(&profile()).unwrap();
        let rating = |score, at: i64| ChatRating {
            chat: ChatId(7),
            score,
            comment: None,
            rated_at: Timestamp(at),
        };
        let good = rating(switchboard_protocol::RatingScore::Good, 10);
        let bad = rating(switchboard_protocol::RatingScore::Bad, 20);
        let summary = |rating: Option<ChatRating>| ChatSummary {
            id: ChatId(7),
            live_chat: switchboard_protocol::LiveChatId(1),
            state: ChatState::Closed,
            channel: switchboard_protocol::Channel::Web,
            visitor: switchboard_protocol::VisitorProfile {
                id: switchboard_protocol::VisitorId(3),
                name: "Maria".to_owned(),
                email: None,
                page_url: None,
                location: None,
                country: None,
                language: None,
                time_zone: None,
                topic: None,
            },
            subject: "Help".to_owned(),
            responsible: None,
            created_at: Timestamp(1),
            updated_at: Timestamp(1),
            rating,
        };
        let snapshot = |rating| OperatorEvent::Snapshot {
            chats: vec![summary(rating)],
            ringing: Vec::new(),
            availability: Availability::Online,
        };
        cache.apply(1, &snapshot(Some(good.clone()))).unwrap();
        assert_eq!(cache.chats().unwrap()[0].rating, Some(good.clone()));

        // The history of the same chat, rated again since, is news even with an unchanged
        // `updatedAt`.
        cache
            .store_history(&ChatHistory {
                chat: summary(Some(bad.clone())),
                messages: Vec::new(),
            })
            .unwrap();
        assert_eq!(cache.chats().unwrap()[0].rating, Some(bad.clone()));

        // An older summary (a stale snapshot) does not undo the later rating, and a summary
        // without one does not erase it.
        cache.apply(2, &snapshot(Some(good))).unwrap();
        assert_eq!(cache.chats().unwrap()[0].rating, Some(bad.clone()));
        cache.apply(3, &snapshot(None)).unwrap();
        assert_eq!(cache.chats().unwrap()[0].rating, Some(bad));
    }

    /// A database as schema version `version` left it: the migrations up to it (append-only,
    /// so they rebuild that exact schema) plus the frozen fixture of data that version wrote.
    fn database_at_version(folder: &Path, version: usize) {
        let fixture = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/cache-v{version}.sql")),
        )
        .unwrap_or_else(|_| panic!("fixtures/cache-v{version}.sql: add one per schema version"));
        let connection = Connection::open(folder.join(CACHE_FILE_NAME)).unwrap();
        for migration in &MIGRATIONS[..version] {
            connection.execute_batch(migration).unwrap();
        }
        connection.execute_batch(&fixture).unwrap();
        connection
            .pragma_update(None, "user_version", version as i64)
            .unwrap();
    }

    #[test]
    fn d01_a_cache_from_every_earlier_schema_version_opens_with_its_data() {
        for version in 1..=MIGRATIONS.len() {
            let folder = tempfile::tempdir().unwrap();
            database_at_version(folder.path(), version);
            let mut cache = Cache::open(folder.path()).unwrap();
            let context = format!("from version {version}");
            assert_eq!(cache.schema_version(), MIGRATIONS.len() as i64, "{context}");
            assert_eq!(
                cache.operator().map(|o| o.id),
                Some(OperatorId(2)),
                "{context}"
            );
            assert_eq!(cache.cursor(), Some(41), "{context}");
            let chats = cache.chats().unwrap();
            assert_eq!(
                chats.iter().map(|c| c.summary.id.0).collect::<Vec<_>>(),
                vec![8, 7],
                "{context}: every chat still parses"
            );
            assert!(chats[0].ringing && chats[1].unread == 1, "{context}");
            let seen = (version >= 4).then_some(MessageId(43));
            assert_eq!(chats[1].visitor_read_up_to, seen, "{context}");
            let rated = chats[1].rating.as_ref().map(|rating| rating.score);
            let expected = (version >= 5).then_some(switchboard_protocol::RatingScore::Good);
            assert_eq!(rated, expected, "{context}");
            let bodies: Vec<String> = cache
                .messages(ChatId(7))
                .unwrap()
                .into_iter()
                .map(|m| m.body)
                .collect();
            assert_eq!(
                bodies,
                [
                    "How much is the annual plan?",
                    "The annual plan is 120 euros"
                ],
                "{context}"
            );
            assert!(cache.history_loaded(ChatId(7)).unwrap(), "{context}");
            let outbox = cache.outbox().unwrap();
            assert_eq!(outbox[0].id, "queued-1", "{context}");
            assert_eq!(outbox[0].failure, None, "{context}");
            // Data written before the search index existed is searchable after migrating.
            let found = cache.search("annual", Some(ChatId(7))).unwrap();
            assert_eq!(found.messages.len(), 2, "{context}");
            assert_eq!(
                cache.search("canada", None).unwrap().chat_ids(),
                vec![ChatId(8)]
            );
            assert_eq!(
                cache.search("maria", None).unwrap().chat_ids(),
                vec![ChatId(7)]
            );
            // Messages written before the message index existed are found in every chat, by
            // prefixes longer than the prefix index too (their words were listed on migrating).
            let found = cache.search("shipp", None).unwrap();
            assert_eq!(found.chat_ids(), vec![ChatId(8)], "{context}");
            assert!(found.messages.is_empty(), "{context}");
            let found = cache.search("ship cana", None).unwrap();
            assert_eq!(
                found.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
                vec![MessageId(44)],
                "{context}"
            );
            assert_eq!(
                cache.search("annu", None).unwrap().messages.len(),
                2,
                "{context}"
            );
            // And the migrated cache keeps working.
            cache
                .apply(
                    42,
                    &OperatorEvent::MessagePosted {
                        message: visitor_message(45, 7),
                    },
                )
                .unwrap();
            assert_eq!(
                cache
                    .search("script", Some(ChatId(7)))
                    .unwrap()
                    .messages
                    .len(),
                1
            );
        }
    }
}
