//! The SQLite store: opening (WAL, numbered migrations tracked by `PRAGMA user_version`), the demo
//! seed, and every query the server runs. Functions take a `&Connection` so they run the same
//! inside or outside a transaction.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use switchboard_protocol::{
    Author, Availability, Channel, ChatId, ChatState, ChatSummary, ClientId, LiveChatId,
    LiveChatSummary, Message, MessageId, OperatorId, OperatorProfile, OperatorRef, RoutingAction,
    RoutingHistoryEntry, Timestamp, Visibility, VisitorChat, VisitorId, VisitorMessage,
    VisitorProfile, VisitorSideAuthor,
};

use crate::credentials::{self, CredentialError};

/// Schema migrations, in order. Entry `n` moves a database from `user_version` n to n + 1; never
/// edit a released entry, append a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_routing.sql"),
    include_str!("migrations/0003_reply_library.sql"),
    include_str!("migrations/0004_supervision.sql"),
    include_str!("migrations/0005_escalation.sql"),
    include_str!("migrations/0006_message_edits.sql"),
    include_str!("migrations/0007_shared_event_log.sql"),
    include_str!("migrations/0008_routing_features.sql"),
    include_str!("migrations/0009_attachments.sql"),
    include_str!("migrations/0010_customers.sql"),
    include_str!("migrations/0011_team_transfers.sql"),
    include_str!("migrations/0012_visitor_retention.sql"),
    include_str!("migrations/0013_chat_ratings.sql"),
    include_str!("migrations/0014_invitation_outcomes.sql"),
];

/// Events kept per stream; older ones are trimmed, and a client behind them gets a snapshot.
pub const EVENTS_KEPT_PER_STREAM: u64 = 10_000;
/// Closed chats included in an operator snapshot.
const RECENT_CLOSED_CHATS: i64 = 100;

pub const DEMO_LIVE_CHAT_NAME: &str = "Acme website";
pub const DEMO_EMBED_KEY: &str = "demo";
pub const DEMO_PASSWORD: &str = "switchboard";
/// The demo staff: email, display name, supervisor.
pub const DEMO_OPERATORS: &[(&str, &str, bool)] = &[
    ("ann@example.com", "Ann Operator", false),
    ("bob@example.com", "Bob Operator", false),
    ("sue@example.com", "Sue Supervisor", true),
];

/// A storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] rusqlite::Error),
    #[error("database at version {found} is newer than this server ({known} migrations)")]
    TooNew { found: i64, known: usize },
    #[error("credential error")]
    Credential(#[from] CredentialError),
    #[error("stored data is invalid: {0}")]
    Invalid(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Opens (creating when missing) and migrates the database.
pub fn open(path: &Path) -> StoreResult<Connection> {
    let mut connection = Connection::open(path)?;
    // WAL lets readers (other tools, backups) proceed while the server writes; NORMAL sync is
    // durable across process crashes, which is what a chat server needs.
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    migrate(&mut connection)?;
    Ok(connection)
}

/// Applies the migrations the database has not seen yet, each in its own transaction.
pub fn migrate(connection: &mut Connection) -> StoreResult<()> {
    let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version < 0 || version as usize > MIGRATIONS.len() {
        return Err(StoreError::TooNew {
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", (index + 1) as i64)?;
        transaction.commit()?;
        tracing::info!(version = index + 1, "applied database migration");
    }
    Ok(())
}

/// The schema version of an open database.
pub fn schema_version(connection: &Connection) -> StoreResult<i64> {
    Ok(connection.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Creates the demo organisation unless it exists; running it again adds nothing.
pub fn seed_demo(connection: &mut Connection) -> StoreResult<()> {
    let transaction = connection.transaction()?;
    let live_chat = match live_chat_by_embed_key(&transaction, DEMO_EMBED_KEY)? {
        Some((id, _)) => id,
        None => {
            transaction.execute(
                "INSERT INTO live_chats (name, embed_key) VALUES (?1, ?2)",
                params![DEMO_LIVE_CHAT_NAME, DEMO_EMBED_KEY],
            )?;
            LiveChatId(transaction.last_insert_rowid())
        }
    };
    for (email, name, supervisor) in DEMO_OPERATORS {
        let operator = match operator_credentials(&transaction, email)? {
            Some((id, _)) => id,
            None => {
                let hash = credentials::hash_password(DEMO_PASSWORD)?;
                insert_operator(&transaction, email, name, &hash)?
            }
        };
        add_membership(&transaction, operator, live_chat, *supervisor)?;
    }
    crate::canned::seed_demo(&transaction, live_chat)?;
    crate::articles::seed_demo(&transaction, live_chat)?;
    transaction.commit()?;
    Ok(())
}

pub fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0);
    Timestamp(millis)
}

// ----- operators and live chats -----

pub fn insert_operator(
    connection: &Connection,
    email: &str,
    name: &str,
    password_hash: &str,
) -> StoreResult<OperatorId> {
    connection.execute(
        "INSERT INTO operators (email, name, password_hash) VALUES (?1, ?2, ?3)",
        params![email, name, password_hash],
    )?;
    Ok(OperatorId(connection.last_insert_rowid()))
}

pub fn add_membership(
    connection: &Connection,
    operator: OperatorId,
    live_chat: LiveChatId,
    supervisor: bool,
) -> StoreResult<()> {
    connection.execute(
        "INSERT OR IGNORE INTO memberships (operator_id, live_chat_id, supervisor) VALUES (?1, ?2, ?3)",
        params![operator.0, live_chat.0, supervisor],
    )?;
    Ok(())
}

/// The operator's id and password hash, by email (case-insensitive).
pub fn operator_credentials(
    connection: &Connection,
    email: &str,
) -> StoreResult<Option<(OperatorId, String)>> {
    Ok(connection
        .query_row(
            "SELECT id, password_hash FROM operators WHERE email = ?1",
            [email],
            |row| Ok((OperatorId(row.get(0)?), row.get(1)?)),
        )
        .optional()?)
}

pub fn operator_name(connection: &Connection, operator: OperatorId) -> StoreResult<String> {
    Ok(connection.query_row(
        "SELECT name FROM operators WHERE id = ?1",
        [operator.0],
        |row| row.get(0),
    )?)
}

pub fn operator_ref(connection: &Connection, operator: OperatorId) -> StoreResult<OperatorRef> {
    Ok(OperatorRef {
        id: operator,
        name: operator_name(connection, operator)?,
    })
}

pub fn operator_profile(
    connection: &Connection,
    operator: OperatorId,
) -> StoreResult<Option<OperatorProfile>> {
    let Some((name, email)) = connection
        .query_row(
            "SELECT name, email FROM operators WHERE id = ?1",
            [operator.0],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let mut statement = connection.prepare(
        "SELECT l.id, l.name, m.supervisor, l.staff_emoji FROM memberships m JOIN live_chats l ON l.id = m.live_chat_id
         WHERE m.operator_id = ?1 ORDER BY l.id",
    )?;
    let live_chats = statement
        .query_map([operator.0], |row| {
            Ok(LiveChatSummary {
                id: LiveChatId(row.get(0)?),
                name: row.get(1)?,
                supervisor: row.get(2)?,
                staff_emoji: row.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(OperatorProfile {
        id: operator,
        name,
        email,
        live_chats,
    }))
}

pub fn availability(connection: &Connection, operator: OperatorId) -> StoreResult<Availability> {
    let text: String = connection.query_row(
        "SELECT availability FROM operators WHERE id = ?1",
        [operator.0],
        |row| row.get(0),
    )?;
    parse_availability(&text)
}

pub fn set_availability(
    connection: &Connection,
    operator: OperatorId,
    availability: Availability,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE operators SET availability = ?2 WHERE id = ?1",
        params![operator.0, availability_name(availability)],
    )?;
    Ok(())
}

pub fn is_member(
    connection: &Connection,
    operator: OperatorId,
    live_chat: LiveChatId,
) -> StoreResult<bool> {
    Ok(connection
        .query_row(
            "SELECT 1 FROM memberships WHERE operator_id = ?1 AND live_chat_id = ?2",
            [operator.0, live_chat.0],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

pub fn members(connection: &Connection, live_chat: LiveChatId) -> StoreResult<Vec<OperatorId>> {
    let mut statement = connection.prepare_cached(
        "SELECT operator_id FROM memberships WHERE live_chat_id = ?1 ORDER BY operator_id",
    )?;
    let members = statement
        .query_map([live_chat.0], |row| Ok(OperatorId(row.get(0)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(members)
}

/// Every operator with their availability and live chats, for the routing state at start-up.
pub fn all_operators(
    connection: &Connection,
) -> StoreResult<Vec<(OperatorId, Availability, Vec<LiveChatId>)>> {
    let mut statement = connection.prepare("SELECT id, availability FROM operators ORDER BY id")?;
    let operators = statement
        .query_map([], |row| {
            Ok((OperatorId(row.get(0)?), row.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut membership = connection.prepare(
        "SELECT live_chat_id FROM memberships WHERE operator_id = ?1 ORDER BY live_chat_id",
    )?;
    let mut result = Vec::with_capacity(operators.len());
    for (operator, availability) in operators {
        let live_chats = membership
            .query_map([operator.0], |row| Ok(LiveChatId(row.get(0)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        result.push((operator, parse_availability(&availability)?, live_chats));
    }
    Ok(result)
}

pub fn live_chat_by_embed_key(
    connection: &Connection,
    embed_key: &str,
) -> StoreResult<Option<(LiveChatId, String)>> {
    Ok(connection
        .query_row(
            "SELECT id, name FROM live_chats WHERE embed_key = ?1",
            [embed_key],
            |row| Ok((LiveChatId(row.get(0)?), row.get(1)?)),
        )
        .optional()?)
}

// ----- routing -----

/// An operator as the router needs them at start-up.
pub struct RoutingOperator {
    pub id: OperatorId,
    pub availability: Availability,
    pub routing: bool,
    pub offline_at: Option<Timestamp>,
    pub live_chats: Vec<LiveChatId>,
    pub active_chats: usize,
}

pub fn routing_operators(connection: &Connection) -> StoreResult<Vec<RoutingOperator>> {
    let mut statement = connection.prepare(
        "SELECT o.id, o.availability, o.routing, o.offline_at,
                (SELECT COUNT(*) FROM chats c WHERE c.responsible_id = o.id AND c.state = 'active')
         FROM operators o ORDER BY o.id",
    )?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                OperatorId(row.get(0)?),
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut membership = connection.prepare(
        "SELECT live_chat_id FROM memberships WHERE operator_id = ?1 ORDER BY live_chat_id",
    )?;
    let mut result = Vec::with_capacity(rows.len());
    for (id, availability, routing, offline_at, active) in rows {
        let live_chats = membership
            .query_map([id.0], |row| Ok(LiveChatId(row.get(0)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        result.push(RoutingOperator {
            id,
            availability: parse_availability(&availability)?,
            routing,
            offline_at: offline_at.map(Timestamp),
            live_chats,
            active_chats: active.max(0) as usize,
        });
    }
    Ok(result)
}

/// A pending chat as the router needs it at start-up.
pub struct RoutingChat {
    pub id: ChatId,
    pub live_chat: LiveChatId,
    pub page_url: Option<String>,
    pub muted_by: Vec<OperatorId>,
    pub offer: Option<(OperatorId, Timestamp)>,
    pub abandon_at: Option<Timestamp>,
}

pub fn routing_chats(connection: &Connection) -> StoreResult<Vec<RoutingChat>> {
    let mut statement = connection.prepare(
        "SELECT id, live_chat_id, page_url, offer_operator_id, offer_deadline, abandon_at
         FROM chats WHERE state = 'pending' ORDER BY id",
    )?;
    let rows = statement
        .query_map([], |row| {
            Ok((
                ChatId(row.get(0)?),
                LiveChatId(row.get(1)?),
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, Option<i64>>(4)?,
                row.get::<_, Option<i64>>(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut mutes = connection.prepare("SELECT operator_id FROM chat_mutes WHERE chat_id = ?1")?;
    let mut result = Vec::with_capacity(rows.len());
    for (id, live_chat, page_url, offer_operator, offer_deadline, abandon_at) in rows {
        let muted_by = mutes
            .query_map([id.0], |row| Ok(OperatorId(row.get(0)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let offer = match (offer_operator, offer_deadline) {
            (Some(operator), Some(deadline)) => Some((OperatorId(operator), Timestamp(deadline))),
            _ => None,
        };
        result.push(RoutingChat {
            id,
            live_chat,
            page_url,
            muted_by,
            offer,
            abandon_at: abandon_at.map(Timestamp),
        });
    }
    Ok(result)
}

pub fn live_chats(connection: &Connection) -> StoreResult<Vec<(LiveChatId, String)>> {
    let mut statement = connection.prepare("SELECT id, name FROM live_chats ORDER BY id")?;
    let rows = statement
        .query_map([], |row| Ok((LiveChatId(row.get(0)?), row.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn live_chat_name(connection: &Connection, live_chat: LiveChatId) -> StoreResult<String> {
    Ok(connection.query_row(
        "SELECT name FROM live_chats WHERE id = ?1",
        [live_chat.0],
        |row| row.get(0),
    )?)
}

pub fn is_supervisor(
    connection: &Connection,
    operator: OperatorId,
    live_chat: LiveChatId,
) -> StoreResult<bool> {
    Ok(connection
        .query_row(
            "SELECT supervisor FROM memberships WHERE operator_id = ?1 AND live_chat_id = ?2",
            [operator.0, live_chat.0],
            |row| row.get::<_, bool>(0),
        )
        .optional()?
        .unwrap_or(false))
}

/// Whether `supervisor` supervises a live chat `operator` is a member of.
pub fn supervises(
    connection: &Connection,
    supervisor: OperatorId,
    operator: OperatorId,
) -> StoreResult<bool> {
    Ok(connection
        .query_row(
            "SELECT 1 FROM memberships s JOIN memberships m ON m.live_chat_id = s.live_chat_id
             WHERE s.operator_id = ?1 AND s.supervisor = 1 AND m.operator_id = ?2",
            [supervisor.0, operator.0],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The stored settings JSON of a live chat, if any were saved.
pub fn routing_settings(
    connection: &Connection,
    live_chat: LiveChatId,
) -> StoreResult<Option<String>> {
    Ok(connection
        .query_row(
            "SELECT settings FROM routing_settings WHERE live_chat_id = ?1",
            [live_chat.0],
            |row| row.get(0),
        )
        .optional()?)
}

pub fn save_routing_settings(
    connection: &Connection,
    live_chat: LiveChatId,
    settings: &str,
) -> StoreResult<()> {
    connection.execute(
        "INSERT INTO routing_settings (live_chat_id, settings) VALUES (?1, ?2)
         ON CONFLICT (live_chat_id) DO UPDATE SET settings = excluded.settings",
        params![live_chat.0, settings],
    )?;
    Ok(())
}

pub fn routing_switch(connection: &Connection, operator: OperatorId) -> StoreResult<bool> {
    Ok(connection.query_row(
        "SELECT routing FROM operators WHERE id = ?1",
        [operator.0],
        |row| row.get(0),
    )?)
}

pub fn set_routing_switch(
    connection: &Connection,
    operator: OperatorId,
    routing: bool,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE operators SET routing = ?2 WHERE id = ?1",
        params![operator.0, routing],
    )?;
    Ok(())
}

/// Remembers the availability a grace period took away, so a reconnect can restore it.
pub fn set_availability_before_grace(
    connection: &Connection,
    operator: OperatorId,
    availability: Option<Availability>,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE operators SET availability_before_grace = ?2 WHERE id = ?1",
        params![operator.0, availability.map(availability_name)],
    )?;
    Ok(())
}

/// The availability a grace period took away, cleared as it is read.
pub fn take_availability_before_grace(
    connection: &Connection,
    operator: OperatorId,
) -> StoreResult<Option<Availability>> {
    let stored: Option<String> = connection
        .query_row(
            "SELECT availability_before_grace FROM operators WHERE id = ?1",
            [operator.0],
            |row| row.get(0),
        )
        .optional()?
        .flatten();
    let Some(stored) = stored else {
        return Ok(None);
    };
    set_availability_before_grace(connection, operator, None)?;
    parse_availability(&stored).map(Some)
}

pub fn set_offline_at(
    connection: &Connection,
    operator: OperatorId,
    at: Option<Timestamp>,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE operators SET offline_at = ?2 WHERE id = ?1",
        params![operator.0, at.map(|at| at.0)],
    )?;
    Ok(())
}

pub fn set_offer(
    connection: &Connection,
    chat: ChatId,
    offer: Option<(OperatorId, Timestamp)>,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE chats SET offer_operator_id = ?2, offer_deadline = ?3 WHERE id = ?1",
        params![
            chat.0,
            offer.map(|(operator, _)| operator.0),
            offer.map(|(_, deadline)| deadline.0)
        ],
    )?;
    Ok(())
}

/// Clears the chat's offer if it is the one made to `operator`.
pub fn clear_offer_of(
    connection: &Connection,
    chat: ChatId,
    operator: OperatorId,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE chats SET offer_operator_id = NULL, offer_deadline = NULL
         WHERE id = ?1 AND offer_operator_id = ?2",
        [chat.0, operator.0],
    )?;
    Ok(())
}

/// The current offer of a pending chat.
pub fn offer(
    connection: &Connection,
    chat: ChatId,
) -> StoreResult<Option<(OperatorId, Timestamp)>> {
    Ok(connection
        .query_row(
            "SELECT offer_operator_id, offer_deadline FROM chats WHERE id = ?1
             AND offer_operator_id IS NOT NULL AND offer_deadline IS NOT NULL",
            [chat.0],
            |row| Ok((OperatorId(row.get(0)?), Timestamp(row.get(1)?))),
        )
        .optional()?)
}

pub fn set_abandon_at(
    connection: &Connection,
    chat: ChatId,
    at: Option<Timestamp>,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE chats SET abandon_at = ?2 WHERE id = ?1",
        params![chat.0, at.map(|at| at.0)],
    )?;
    Ok(())
}

pub fn clear_mutes(connection: &Connection, chat: ChatId) -> StoreResult<()> {
    connection.execute("DELETE FROM chat_mutes WHERE chat_id = ?1", [chat.0])?;
    Ok(())
}

pub fn insert_routing_history(
    connection: &Connection,
    chat: ChatId,
    operator: Option<OperatorId>,
    action: RoutingAction,
    at: Timestamp,
) -> StoreResult<()> {
    connection.execute(
        "INSERT INTO routing_history (chat_id, operator_id, action, at) VALUES (?1, ?2, ?3, ?4)",
        params![
            chat.0,
            operator.map(|id| id.0),
            routing_action_name(action),
            at.0
        ],
    )?;
    Ok(())
}

pub fn routing_history(
    connection: &Connection,
    chat: ChatId,
) -> StoreResult<Vec<RoutingHistoryEntry>> {
    let mut statement = connection.prepare(
        "SELECT h.action, h.operator_id, o.name, h.at FROM routing_history h
         LEFT JOIN operators o ON o.id = h.operator_id WHERE h.chat_id = ?1 ORDER BY h.id",
    )?;
    let rows = statement
        .query_map([chat.0], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, Option<String>>(2)?,
                Timestamp(row.get(3)?),
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(action, id, name, at)| {
            Ok(RoutingHistoryEntry {
                action: parse_routing_action(&action)?,
                operator: match (id, name) {
                    (Some(id), Some(name)) => Some(OperatorRef {
                        id: OperatorId(id),
                        name,
                    }),
                    _ => None,
                },
                at,
            })
        })
        .collect()
}

const ROUTING_ACTIONS: &[(RoutingAction, &str)] = &[
    (RoutingAction::Queued, "queued"),
    (RoutingAction::Offered, "offered"),
    (RoutingAction::Declined, "declined"),
    (RoutingAction::TimedOut, "timed_out"),
    (RoutingAction::Muted, "muted"),
    (RoutingAction::Accepted, "accepted"),
    (RoutingAction::Released, "released"),
    (RoutingAction::Abandoned, "abandoned"),
];

fn routing_action_name(action: RoutingAction) -> &'static str {
    ROUTING_ACTIONS
        .iter()
        .find(|(known, _)| *known == action)
        .map_or("unknown", |(_, name)| name)
}

fn parse_routing_action(text: &str) -> StoreResult<RoutingAction> {
    ROUTING_ACTIONS
        .iter()
        .find(|(_, name)| *name == text)
        .map(|(action, _)| *action)
        .ok_or_else(|| StoreError::Invalid(format!("unknown routing action {text:?}")))
}

// ----- tokens and visitors -----

pub fn insert_operator_token(
    connection: &Connection,
    token_hash: &str,
    operator: OperatorId,
    now: Timestamp,
    expires_at: Timestamp,
) -> StoreResult<()> {
    connection.execute(
        "INSERT INTO operator_tokens (token_hash, operator_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, operator.0, now.0, expires_at.0],
    )?;
    Ok(())
}

pub fn operator_for_token(
    connection: &Connection,
    token_hash: &str,
    now: Timestamp,
) -> StoreResult<Option<OperatorId>> {
    Ok(connection
        .query_row(
            "SELECT operator_id FROM operator_tokens WHERE token_hash = ?1 AND expires_at > ?2",
            params![token_hash, now.0],
            |row| Ok(OperatorId(row.get(0)?)),
        )
        .optional()?)
}

pub fn delete_operator_token(connection: &Connection, token_hash: &str) -> StoreResult<bool> {
    Ok(connection.execute(
        "DELETE FROM operator_tokens WHERE token_hash = ?1",
        [token_hash],
    )? > 0)
}

pub fn insert_visitor(
    connection: &Connection,
    live_chat: LiveChatId,
    now: Timestamp,
) -> StoreResult<VisitorId> {
    connection.execute(
        "INSERT INTO visitors (live_chat_id, created_at, last_seen_at) VALUES (?1, ?2, ?2)",
        params![live_chat.0, now.0],
    )?;
    Ok(VisitorId(connection.last_insert_rowid()))
}

pub fn insert_visitor_token(
    connection: &Connection,
    token_hash: &str,
    visitor: VisitorId,
    now: Timestamp,
    expires_at: Timestamp,
) -> StoreResult<()> {
    connection.execute(
        "INSERT INTO visitor_tokens (token_hash, visitor_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, visitor.0, now.0, expires_at.0],
    )?;
    Ok(())
}

/// The visitor and their live chat for a valid, unexpired visitor token.
pub fn visitor_for_token(
    connection: &Connection,
    token_hash: &str,
    now: Timestamp,
) -> StoreResult<Option<(VisitorId, LiveChatId)>> {
    Ok(connection
        .query_row(
            "SELECT v.id, v.live_chat_id FROM visitor_tokens t JOIN visitors v ON v.id = t.visitor_id
             WHERE t.token_hash = ?1 AND t.expires_at > ?2",
            params![token_hash, now.0],
            |row| Ok((VisitorId(row.get(0)?), LiveChatId(row.get(1)?))),
        )
        .optional()?)
}

pub fn update_visitor_contact(
    connection: &Connection,
    visitor: VisitorId,
    name: &str,
    email: Option<&str>,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE visitors SET name = ?2, email = ?3 WHERE id = ?1",
        params![visitor.0, name, email],
    )?;
    Ok(())
}

// ----- chats -----

/// The columns of a chat the server decides on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatRow {
    pub id: ChatId,
    pub live_chat: LiveChatId,
    pub visitor: VisitorId,
    pub state: ChatState,
    pub responsible: Option<OperatorId>,
}

pub fn chat_row(connection: &Connection, chat: ChatId) -> StoreResult<Option<ChatRow>> {
    let row = connection
        .query_row(
            "SELECT id, live_chat_id, visitor_id, state, responsible_id FROM chats WHERE id = ?1",
            [chat.0],
            |row| {
                Ok((
                    ChatId(row.get(0)?),
                    LiveChatId(row.get(1)?),
                    VisitorId(row.get(2)?),
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                ))
            },
        )
        .optional()?;
    row.map(|(id, live_chat, visitor, state, responsible)| {
        Ok(ChatRow {
            id,
            live_chat,
            visitor,
            state: parse_state(&state)?,
            responsible: responsible.map(OperatorId),
        })
    })
    .transpose()
}

pub fn insert_chat(
    connection: &Connection,
    live_chat: LiveChatId,
    visitor: VisitorId,
    subject: &str,
    page_url: Option<&str>,
    now: Timestamp,
) -> StoreResult<ChatId> {
    connection.execute(
        "INSERT INTO chats (live_chat_id, visitor_id, state, subject, page_url, created_at, updated_at)
         VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?5)",
        params![live_chat.0, visitor.0, subject, page_url, now.0],
    )?;
    Ok(ChatId(connection.last_insert_rowid()))
}

pub fn update_chat(
    connection: &Connection,
    chat: ChatId,
    state: ChatState,
    responsible: Option<OperatorId>,
    now: Timestamp,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE chats SET state = ?2, responsible_id = ?3, updated_at = ?4 WHERE id = ?1",
        params![chat.0, state_name(state), responsible.map(|id| id.0), now.0],
    )?;
    Ok(())
}

/// The visitor's open (pending or active) chat.
pub fn open_chat_of_visitor(
    connection: &Connection,
    visitor: VisitorId,
) -> StoreResult<Option<ChatId>> {
    Ok(connection
        .query_row(
            "SELECT id FROM chats WHERE visitor_id = ?1 AND state IN ('pending', 'active')
             ORDER BY id DESC LIMIT 1",
            [visitor.0],
            |row| Ok(ChatId(row.get(0)?)),
        )
        .optional()?)
}

/// The visitor's open chat, else their most recent one.
pub fn current_chat_of_visitor(
    connection: &Connection,
    visitor: VisitorId,
) -> StoreResult<Option<ChatId>> {
    if let Some(open) = open_chat_of_visitor(connection, visitor)? {
        return Ok(Some(open));
    }
    Ok(connection
        .query_row(
            "SELECT id FROM chats WHERE visitor_id = ?1 ORDER BY id DESC LIMIT 1",
            [visitor.0],
            |row| Ok(ChatId(row.get(0)?)),
        )
        .optional()?)
}

const CHAT_SUMMARY_SELECT: &str = "SELECT c.id, c.live_chat_id, c.state, c.subject, c.page_url,
        c.created_at, c.updated_at, v.id, v.name, v.email, o.id, o.name,
        c.location, c.country, c.language, c.time_zone, c.topic, r.score, r.comment, r.rated_at
    FROM chats c JOIN visitors v ON v.id = c.visitor_id LEFT JOIN operators o ON o.id = c.responsible_id
        LEFT JOIN chat_ratings r ON r.chat_id = c.id";

fn chat_summary_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(ChatSummary, String)> {
    let responsible = match (
        row.get::<_, Option<i64>>(10)?,
        row.get::<_, Option<String>>(11)?,
    ) {
        (Some(id), Some(name)) => Some(OperatorRef {
            id: OperatorId(id),
            name,
        }),
        _ => None,
    };
    let summary = ChatSummary {
        id: ChatId(row.get(0)?),
        live_chat: LiveChatId(row.get(1)?),
        // Parsed by the caller, which can report a bad value as a store error.
        state: ChatState::Pending,
        channel: Channel::Web,
        visitor: VisitorProfile {
            id: VisitorId(row.get(7)?),
            name: row.get(8)?,
            email: row.get(9)?,
            page_url: row.get(4)?,
            location: row.get(12)?,
            country: row.get(13)?,
            language: row.get(14)?,
            time_zone: row.get(15)?,
            topic: row.get(16)?,
        },
        subject: row.get(3)?,
        responsible,
        created_at: Timestamp(row.get(5)?),
        updated_at: Timestamp(row.get(6)?),
        // B33: staff see the rating with the chat, so a fresh sign-in shows it too.
        rating: crate::rating::rating_from_columns(
            ChatId(row.get(0)?),
            row.get(17)?,
            row.get(18)?,
            row.get(19)?,
        ),
    };
    Ok((summary, row.get(2)?))
}

fn finish_summary((mut summary, state): (ChatSummary, String)) -> StoreResult<ChatSummary> {
    summary.state = parse_state(&state)?;
    Ok(summary)
}

pub fn chat_summary(connection: &Connection, chat: ChatId) -> StoreResult<Option<ChatSummary>> {
    let sql = format!("{CHAT_SUMMARY_SELECT} WHERE c.id = ?1");
    connection
        .query_row(&sql, [chat.0], chat_summary_from_row)
        .optional()?
        .map(finish_summary)
        .transpose()
}

/// The chats an operator's snapshot holds: open chats of their live chats, plus the most
/// recently closed ones.
pub fn snapshot_chats(
    connection: &Connection,
    operator: OperatorId,
) -> StoreResult<Vec<ChatSummary>> {
    let sql = format!(
        "{CHAT_SUMMARY_SELECT} WHERE c.live_chat_id IN (SELECT live_chat_id FROM memberships WHERE operator_id = ?1)
           AND c.state IN ('pending', 'active')
         UNION ALL
         SELECT * FROM ({CHAT_SUMMARY_SELECT}
           WHERE c.live_chat_id IN (SELECT live_chat_id FROM memberships WHERE operator_id = ?1)
             AND c.state IN ('closed', 'abandoned')
           ORDER BY c.updated_at DESC LIMIT ?2)"
    );
    let mut statement = connection.prepare(&sql)?;
    let rows = statement
        .query_map(
            params![operator.0, RECENT_CLOSED_CHATS],
            chat_summary_from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(finish_summary).collect()
}

/// Pending chats with the operators who muted each, for the routing state at start-up.
pub fn pending_chats(
    connection: &Connection,
) -> StoreResult<Vec<(ChatId, LiveChatId, Vec<OperatorId>)>> {
    let mut statement = connection
        .prepare("SELECT id, live_chat_id FROM chats WHERE state = 'pending' ORDER BY id")?;
    let chats = statement
        .query_map([], |row| Ok((ChatId(row.get(0)?), LiveChatId(row.get(1)?))))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut mutes = connection.prepare("SELECT operator_id FROM chat_mutes WHERE chat_id = ?1")?;
    let mut result = Vec::with_capacity(chats.len());
    for (chat, live_chat) in chats {
        let muted = mutes
            .query_map([chat.0], |row| Ok(OperatorId(row.get(0)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        result.push((chat, live_chat, muted));
    }
    Ok(result)
}

pub fn insert_mute(connection: &Connection, chat: ChatId, operator: OperatorId) -> StoreResult<()> {
    connection.execute(
        "INSERT OR IGNORE INTO chat_mutes (chat_id, operator_id) VALUES (?1, ?2)",
        [chat.0, operator.0],
    )?;
    Ok(())
}

/// The chat as its visitor sees it.
pub fn visitor_chat(connection: &Connection, chat: ChatId) -> StoreResult<Option<VisitorChat>> {
    let Some(summary) = chat_summary(connection, chat)? else {
        return Ok(None);
    };
    // Foundation: the responsible operator is the one staff member in an active chat.
    let mut operators = match (summary.state, summary.responsible) {
        (ChatState::Active, Some(responsible)) => vec![responsible.name],
        _ => Vec::new(),
    };
    // Staff who joined visibly (B20); a monitor is never a participant, so never listed (B21).
    if summary.state == ChatState::Active {
        operators.extend(crate::supervision::participant_names(connection, chat)?);
    }
    let emoji_enabled = connection.query_row(
        "SELECT visitor_emoji FROM live_chats WHERE id = ?1",
        [summary.live_chat.0],
        |row| row.get(0),
    )?;
    Ok(Some(VisitorChat {
        id: summary.id,
        state: summary.state,
        subject: summary.subject,
        operators,
        created_at: summary.created_at,
        emoji_enabled,
        rating_enabled: crate::rating::rating_enabled(connection, summary.live_chat)?,
    }))
}

// ----- messages -----

/// Who writes a new message.
#[derive(Clone, Copy, Debug)]
pub enum NewAuthor {
    Visitor,
    Operator(OperatorId),
    System,
}

pub fn insert_message(
    connection: &Connection,
    chat: ChatId,
    author: NewAuthor,
    visibility: Visibility,
    body: &str,
    client_id: Option<&ClientId>,
    now: Timestamp,
) -> StoreResult<Message> {
    let (kind, operator) = match author {
        NewAuthor::Visitor => ("visitor", None),
        NewAuthor::Operator(operator) => ("operator", Some(operator.0)),
        NewAuthor::System => ("system", None),
    };
    connection.execute(
        "INSERT INTO messages (chat_id, author_kind, author_operator_id, visibility, body, client_id, sent_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            chat.0,
            kind,
            operator,
            visibility_name(visibility),
            body,
            client_id.map(|id| id.0.as_str()),
            now.0
        ],
    )?;
    let id = MessageId(connection.last_insert_rowid());
    let mut messages = messages_where(connection, "m.id = ?1", id.0)?;
    messages
        .pop()
        .ok_or_else(|| StoreError::Invalid(format!("message {id} vanished after insert")))
}

/// Every message of a chat, notes included: for staff only. Deleted messages are left out.
pub fn chat_messages(connection: &Connection, chat: ChatId) -> StoreResult<Vec<Message>> {
    messages_where(
        connection,
        "m.chat_id = ?1 AND m.deleted_at IS NULL",
        chat.0,
    )
}

/// One message that has not been deleted, notes included: for staff only.
pub fn live_message(connection: &Connection, message: MessageId) -> StoreResult<Option<Message>> {
    Ok(messages_where(connection, "m.id = ?1 AND m.deleted_at IS NULL", message.0)?.pop())
}

/// Replaces the text of a message (B16).
pub fn edit_message(
    connection: &Connection,
    message: MessageId,
    body: &str,
    now: Timestamp,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE messages SET body = ?2, edited_at = ?3 WHERE id = ?1",
        params![message.0, body, now.0],
    )?;
    Ok(())
}

/// Deletes a message (B16): its text is wiped, the row stays so ids remain stable.
pub fn delete_message(
    connection: &Connection,
    message: MessageId,
    now: Timestamp,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE messages SET body = '', deleted_at = ?2 WHERE id = ?1",
        params![message.0, now.0],
    )?;
    Ok(())
}

/// The messages of a chat a visitor may read. Notes are filtered out by
/// [`visitor_message`], the one gate between staff messages and the visitor.
pub fn visitor_messages(connection: &Connection, chat: ChatId) -> StoreResult<Vec<VisitorMessage>> {
    Ok(chat_messages(connection, chat)?
        .iter()
        .filter_map(visitor_message)
        .collect())
}

/// The visitor's history of a chat for a snapshot: [`visitor_messages`] plus each deleted public
/// message as an empty placeholder with its `deleted_at` (B16), so "Message deleted" stays in
/// place after a reload. A deleted message keeps neither its text nor its files.
pub fn visitor_history(connection: &Connection, chat: ChatId) -> StoreResult<Vec<VisitorMessage>> {
    let mut statement = connection.prepare_cached(
        "SELECT id, deleted_at FROM messages WHERE chat_id = ?1 AND deleted_at IS NOT NULL",
    )?;
    let deleted = statement
        .query_map([chat.0], |row| {
            Ok((MessageId(row.get(0)?), Timestamp(row.get(1)?)))
        })?
        .collect::<Result<std::collections::HashMap<_, _>, _>>()?;
    Ok(messages_where(connection, "m.chat_id = ?1", chat.0)?
        .iter()
        .filter_map(|message| {
            // The same gate as every other path: a deleted note stays invisible.
            let visible = visitor_message(message)?;
            Some(match deleted.get(&message.id) {
                Some(&deleted_at) => VisitorMessage {
                    body: String::new(),
                    attachments: Vec::new(),
                    edited_at: None,
                    deleted_at: Some(deleted_at),
                    ..visible
                },
                None => visible,
            })
        })
        .collect())
}

/// The visitor's view of a message; `None` for a note, which must never reach a visitor.
pub fn visitor_message(message: &Message) -> Option<VisitorMessage> {
    if message.visibility != Visibility::Public {
        return None;
    }
    let from = match &message.author {
        Author::Visitor { .. } => VisitorSideAuthor::Me,
        Author::Operator { name, .. } => VisitorSideAuthor::Operator { name: name.clone() },
        Author::System => VisitorSideAuthor::System,
    };
    Some(VisitorMessage {
        id: message.id,
        client_id: message.client_id.clone(),
        from,
        body: message.body.clone(),
        sent_at: message.sent_at,
        attachments: message.attachments.clone(),
        edited_at: message.edited_at,
        deleted_at: None,
    })
}

pub(crate) fn messages_where(
    connection: &Connection,
    condition: &str,
    value: i64,
) -> StoreResult<Vec<Message>> {
    let sql = format!(
        "SELECT m.id, m.chat_id, m.client_id, m.author_kind, m.author_operator_id, o.name, v.name,
                m.visibility, m.body, m.sent_at, m.edited_at
         FROM messages m JOIN chats c ON c.id = m.chat_id JOIN visitors v ON v.id = c.visitor_id
         LEFT JOIN operators o ON o.id = m.author_operator_id
         WHERE {condition} ORDER BY m.id"
    );
    let mut statement = connection.prepare_cached(&sql)?;
    let rows = statement
        .query_map([value], |row| {
            Ok((
                MessageId(row.get(0)?),
                ChatId(row.get(1)?),
                row.get::<_, Option<String>>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<i64>>(4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, String>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, String>(8)?,
                Timestamp(row.get(9)?),
                row.get::<_, Option<i64>>(10)?.map(Timestamp),
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(
            |(
                id,
                chat,
                client_id,
                kind,
                operator,
                operator_name,
                visitor_name,
                visibility,
                body,
                sent_at,
                edited_at,
            )| {
                let author = match kind.as_str() {
                    "visitor" => Author::Visitor { name: visitor_name },
                    "operator" => Author::Operator {
                        id: OperatorId(operator.unwrap_or_default()),
                        name: operator_name.unwrap_or_default(),
                    },
                    "system" => Author::System,
                    other => return Err(StoreError::Invalid(format!("author kind {other:?}"))),
                };
                Ok(Message {
                    id,
                    chat,
                    client_id: client_id.map(ClientId),
                    author,
                    visibility: parse_visibility(&visibility)?,
                    body,
                    sent_at,
                    attachments: crate::attachments::of_message(connection, id)?,
                    edited_at,
                })
            },
        )
        .collect()
}

// ----- event log -----

/// Appends an event to a stream and returns its sequence number; trims the stream to its last
/// [`EVENTS_KEPT_PER_STREAM`] events.
pub fn append_event(
    connection: &Connection,
    stream: &str,
    payload: &str,
    now: Timestamp,
) -> StoreResult<u64> {
    let seq = stream_head(connection, stream)? + 1;
    connection
        .prepare_cached("INSERT INTO events (stream, seq, payload, at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![stream, seq as i64, payload, now.0])?;
    if seq > EVENTS_KEPT_PER_STREAM {
        connection
            .prepare_cached("DELETE FROM events WHERE stream = ?1 AND seq <= ?2")?
            .execute(params![stream, (seq - EVENTS_KEPT_PER_STREAM) as i64])?;
    }
    Ok(seq)
}

/// The stream's latest sequence number (0 when it never had an event).
pub fn stream_head(connection: &Connection, stream: &str) -> StoreResult<u64> {
    let head: i64 = connection
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events WHERE stream = ?1")?
        .query_row([stream], |row| row.get(0))?;
    Ok(head as u64)
}

/// The events after `since`, or `None` when the log no longer holds all of them (or `since` is
/// from another history), in which case the client needs a snapshot.
pub fn events_after(
    connection: &Connection,
    stream: &str,
    since: u64,
) -> StoreResult<Option<Vec<(u64, String)>>> {
    let head = stream_head(connection, stream)?;
    if since > head {
        return Ok(None);
    }
    let mut statement = connection.prepare_cached(
        "SELECT seq, payload FROM events WHERE stream = ?1 AND seq > ?2 ORDER BY seq",
    )?;
    let events = statement
        .query_map(params![stream, since as i64], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let complete = match events.first() {
        Some((first, _)) => *first == since + 1,
        None => since == head,
    };
    Ok(complete.then_some(events))
}

// ----- shared operator event log -----

/// Events kept in the shared operator log (all live chats together); older ones are trimmed,
/// and a client behind them gets a snapshot.
pub const OPERATOR_EVENTS_KEPT: u64 = 200_000;
/// Trimming runs once per this many appended events, so it costs nothing per event.
const OPERATOR_TRIM_EVERY: u64 = 1_024;

/// Who an operator event is stored for: one operator, or every member of a live chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    Operator(OperatorId),
    LiveChat(LiveChatId),
}

impl Audience {
    fn key(self) -> String {
        match self {
            Audience::Operator(id) => format!("operator:{id}"),
            Audience::LiveChat(id) => format!("live_chat:{id}"),
        }
    }
}

/// `,3,5,8,`: a membership test is then a substring search for `,<id>,`.
fn recipients_text(recipients: &[OperatorId]) -> String {
    let mut text = String::with_capacity(recipients.len() * 6 + 1);
    text.push(',');
    for recipient in recipients {
        text.push_str(&recipient.0.to_string());
        text.push(',');
    }
    text
}

fn is_recipient(recipients: Option<&str>, operator: OperatorId) -> bool {
    recipients.is_none_or(|list| list.contains(&format!(",{},", operator.0)))
}

/// Stores an operator event once for its whole audience (narrowed to `recipients` when only some
/// members get it) and returns its id, the sequence number every recipient sees.
pub fn append_operator_event(
    connection: &Connection,
    audience: Audience,
    recipients: Option<&[OperatorId]>,
    payload: &str,
    now: Timestamp,
) -> StoreResult<u64> {
    connection
        .prepare_cached(
            "INSERT INTO operator_events (audience, recipients, payload, at) \
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            audience.key(),
            recipients.map(recipients_text),
            payload,
            now.0
        ])?;
    let id = connection.last_insert_rowid() as u64;
    if id.is_multiple_of(OPERATOR_TRIM_EVERY) && id > OPERATOR_EVENTS_KEPT {
        let through = id - OPERATOR_EVENTS_KEPT;
        connection
            .prepare_cached("DELETE FROM operator_events WHERE id <= ?1")?
            .execute([through as i64])?;
        connection
            .prepare_cached(
                "UPDATE operator_event_log SET trimmed_through = MAX(trimmed_through, ?1)",
            )?
            .execute([through as i64])?;
    }
    Ok(id)
}

/// The audiences whose events make up an operator's stream: their own and their live chats'.
fn operator_audiences(connection: &Connection, operator: OperatorId) -> StoreResult<Vec<String>> {
    let mut audiences = vec![Audience::Operator(operator).key()];
    let mut statement =
        connection.prepare_cached("SELECT live_chat_id FROM memberships WHERE operator_id = ?1")?;
    for live_chat in statement.query_map([operator.0], |row| row.get::<_, i64>(0))? {
        audiences.push(Audience::LiveChat(LiveChatId(live_chat?)).key());
    }
    Ok(audiences)
}

/// The id of the last event in the operator's stream before `before` (0 when there is none).
pub fn operator_stream_head(
    connection: &Connection,
    operator: OperatorId,
    before: Option<u64>,
) -> StoreResult<u64> {
    let before = before.map_or(i64::MAX, |before| before as i64);
    let mut head = 0;
    let mut statement = connection.prepare_cached(
        "SELECT id, recipients FROM operator_events WHERE audience = ?1 AND id < ?2 \
         ORDER BY id DESC",
    )?;
    for audience in operator_audiences(connection, operator)? {
        let mut rows = statement.query(params![audience, before])?;
        // Newest first: the first row this operator receives is the audience's last for them.
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if (id as u64) <= head {
                break;
            }
            if is_recipient(row.get::<_, Option<String>>(1)?.as_deref(), operator) {
                head = id as u64;
                break;
            }
        }
    }
    Ok(head)
}

/// The operator's events after `since` up to `head` (their stream's last id), oldest first, or
/// `None` when the log no longer holds all of them or `since` is from another history.
pub fn operator_events_after(
    connection: &Connection,
    operator: OperatorId,
    since: u64,
    head: u64,
) -> StoreResult<Option<Vec<(u64, String)>>> {
    let trimmed_through: i64 = connection
        .prepare_cached("SELECT trimmed_through FROM operator_event_log")?
        .query_row([], |row| row.get(0))
        .optional()?
        .unwrap_or(0);
    if since > head || since < trimmed_through as u64 {
        return Ok(None);
    }
    let mut statement = connection.prepare_cached(
        "SELECT id, recipients, payload FROM operator_events \
         WHERE audience = ?1 AND id > ?2 AND id <= ?3 ORDER BY id",
    )?;
    let mut events = Vec::new();
    for audience in operator_audiences(connection, operator)? {
        let mut rows = statement.query(params![audience, since as i64, head as i64])?;
        while let Some(row) = rows.next()? {
            if is_recipient(row.get::<_, Option<String>>(1)?.as_deref(), operator) {
                events.push((row.get::<_, i64>(0)? as u64, row.get::<_, String>(2)?));
            }
        }
    }
    events.sort_unstable_by_key(|(id, _)| *id);
    Ok(Some(events))
}

// ----- checkpoints -----

/// Leaves WAL checkpoints to [`checkpoint`] on another connection. A checkpoint copies pages
/// into the database file and syncs it; run by a commit, it held the hub lock for seconds when
/// the disk was busy (issue 3).
pub fn defer_checkpoints(connection: &Connection) -> StoreResult<()> {
    connection.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(())
}

/// Copies committed WAL pages into the database file, waiting for and blocking no one.
pub fn checkpoint(connection: &Connection) -> StoreResult<()> {
    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    Ok(())
}

// ----- command log -----

pub fn command_outcome(
    connection: &Connection,
    actor: &str,
    client_id: &ClientId,
) -> StoreResult<Option<String>> {
    Ok(connection
        .prepare_cached("SELECT outcome FROM command_log WHERE actor = ?1 AND client_id = ?2")?
        .query_row(params![actor, client_id.0], |row| row.get(0))
        .optional()?)
}

pub fn store_command_outcome(
    connection: &Connection,
    actor: &str,
    client_id: &ClientId,
    outcome: &str,
    now: Timestamp,
) -> StoreResult<()> {
    connection
        .prepare_cached("INSERT OR REPLACE INTO command_log (actor, client_id, outcome, at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![actor, client_id.0, outcome, now.0])?;
    Ok(())
}

// ----- enum mapping -----

pub fn state_name(state: ChatState) -> &'static str {
    match state {
        ChatState::Pending => "pending",
        ChatState::Active => "active",
        ChatState::Closed => "closed",
        ChatState::Abandoned => "abandoned",
    }
}

fn parse_state(text: &str) -> StoreResult<ChatState> {
    match text {
        "pending" => Ok(ChatState::Pending),
        "active" => Ok(ChatState::Active),
        "closed" => Ok(ChatState::Closed),
        "abandoned" => Ok(ChatState::Abandoned),
        other => Err(StoreError::Invalid(format!("chat state {other:?}"))),
    }
}

fn availability_name(availability: Availability) -> &'static str {
    match availability {
        Availability::Online => "online",
        Availability::Away => "away",
        Availability::Offline => "offline",
    }
}

fn parse_availability(text: &str) -> StoreResult<Availability> {
    match text {
        "online" => Ok(Availability::Online),
        "away" => Ok(Availability::Away),
        "offline" => Ok(Availability::Offline),
        other => Err(StoreError::Invalid(format!("availability {other:?}"))),
    }
}

fn visibility_name(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Public => "public",
        Visibility::Note => "note",
    }
}

fn parse_visibility(text: &str) -> StoreResult<Visibility> {
    match text {
        "public" => Ok(Visibility::Public),
        "note" => Ok(Visibility::Note),
        other => Err(StoreError::Invalid(format!("visibility {other:?}"))),
    }
}

/// The live chat's pending and active chats with their visitors: the widgets that are open.
pub(crate) fn open_chats(
    connection: &Connection,
    live_chat: LiveChatId,
) -> StoreResult<Vec<(ChatId, VisitorId)>> {
    let mut statement = connection.prepare_cached(
        "SELECT id, visitor_id FROM chats WHERE live_chat_id = ?1 AND state IN ('pending', 'active')",
    )?;
    let chats = statement
        .query_map([live_chat.0], |row| {
            Ok((ChatId(row.get(0)?), VisitorId(row.get(1)?)))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(chats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(connection: &Connection, table: &str) -> i64 {
        connection
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .expect("count rows")
    }

    #[test]
    fn opening_twice_reruns_no_migration() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("server.sqlite3");
        let first = open(&path).expect("first open migrates");
        assert_eq!(
            schema_version(&first).expect("version"),
            MIGRATIONS.len() as i64
        );
        let journal: String = first
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .expect("journal mode");
        assert_eq!(journal, "wal");
        drop(first);
        let second = open(&path).expect("second open is a no-op");
        assert_eq!(
            schema_version(&second).expect("version"),
            MIGRATIONS.len() as i64
        );
    }

    #[test]
    fn a_database_from_a_newer_server_is_refused() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("server.sqlite3");
        let connection = open(&path).expect("open");
        connection
            .pragma_update(None, "user_version", 99)
            .expect("set version");
        drop(connection);
        assert!(matches!(
            open(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }

    #[test]
    fn demo_seed_twice_adds_nothing_the_second_time() {
        let directory = tempfile::tempdir().expect("temp dir");
        let mut connection = open(&directory.path().join("server.sqlite3")).expect("open");
        seed_demo(&mut connection).expect("first seed");
        seed_demo(&mut connection).expect("second seed");
        assert_eq!(count(&connection, "live_chats"), 1);
        assert_eq!(count(&connection, "operators"), 3);
        assert_eq!(count(&connection, "memberships"), 3);
        let (sue, hash) = operator_credentials(&connection, "sue@example.com")
            .expect("query")
            .expect("sue exists");
        assert!(credentials::verify_password(DEMO_PASSWORD, &hash));
        let profile = operator_profile(&connection, sue)
            .expect("query")
            .expect("profile");
        assert_eq!(profile.name, "Sue Supervisor");
        assert!(
            profile.live_chats[0].supervisor,
            "Sue supervises the demo live chat"
        );
    }

    #[test]
    fn one_visitor_has_at_most_one_open_chat() {
        let directory = tempfile::tempdir().expect("temp dir");
        let mut connection = open(&directory.path().join("server.sqlite3")).expect("open");
        seed_demo(&mut connection).expect("seed");
        let (live_chat, _) = live_chat_by_embed_key(&connection, DEMO_EMBED_KEY)
            .expect("query")
            .expect("demo live chat");
        let visitor = insert_visitor(&connection, live_chat, now()).expect("visitor");
        insert_chat(&connection, live_chat, visitor, "Hi", None, now()).expect("first chat");
        assert!(
            insert_chat(&connection, live_chat, visitor, "Again", None, now()).is_err(),
            "the partial unique index refuses a second open chat"
        );
    }

    #[test]
    fn the_event_log_resumes_only_without_gaps() {
        let directory = tempfile::tempdir().expect("temp dir");
        let connection = open(&directory.path().join("server.sqlite3")).expect("open");
        for index in 0..5 {
            append_event(&connection, "operator:1", &format!("{index}"), now()).expect("append");
        }
        assert_eq!(stream_head(&connection, "operator:1").expect("head"), 5);
        let replay = events_after(&connection, "operator:1", 3)
            .expect("query")
            .expect("resumable");
        assert_eq!(
            replay.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
            vec![4, 5]
        );
        assert_eq!(
            events_after(&connection, "operator:1", 5).expect("query"),
            Some(Vec::new())
        );
        assert_eq!(
            events_after(&connection, "operator:1", 9).expect("query"),
            None
        );
        connection
            .execute("DELETE FROM events WHERE seq <= 2", [])
            .expect("simulate trimming");
        assert_eq!(
            events_after(&connection, "operator:1", 1).expect("query"),
            None
        );
        assert!(
            events_after(&connection, "operator:1", 2)
                .expect("query")
                .is_some()
        );
    }

    #[test]
    fn each_stream_keeps_its_last_ten_thousand_events() {
        let directory = tempfile::tempdir().expect("temp dir");
        let mut connection = open(&directory.path().join("server.sqlite3")).expect("open");
        let transaction = connection.transaction().expect("transaction");
        for _ in 0..EVENTS_KEPT_PER_STREAM + 5 {
            append_event(&transaction, "visitor:1", "{}", now()).expect("append");
        }
        append_event(&transaction, "visitor:2", "{}", now()).expect("append");
        transaction.commit().expect("commit");
        let kept: i64 = connection
            .query_row(
                "SELECT COUNT(*) FROM events WHERE stream = 'visitor:1'",
                [],
                |row| row.get(0),
            )
            .expect("count");
        assert_eq!(kept as u64, EVENTS_KEPT_PER_STREAM);
        assert_eq!(
            stream_head(&connection, "visitor:1").expect("head"),
            EVENTS_KEPT_PER_STREAM + 5
        );
        assert_eq!(
            events_after(&connection, "visitor:1", 4).expect("query"),
            None,
            "trimmed events cannot be replayed"
        );
        assert!(
            events_after(&connection, "visitor:1", 5)
                .expect("query")
                .is_some()
        );
        assert_eq!(
            stream_head(&connection, "visitor:2").expect("head"),
            1,
            "streams are independent"
        );
    }

    /// The demo live chat with Ann, Bob and Sue as members.
    fn demo_members(connection: &mut Connection) -> (LiveChatId, Vec<OperatorId>) {
        seed_demo(connection).expect("seed");
        let live_chat = live_chat_by_embed_key(connection, DEMO_EMBED_KEY)
            .expect("query")
            .expect("the demo live chat")
            .0;
        (live_chat, members(connection, live_chat).expect("members"))
    }

    #[test]
    fn an_operator_stream_merges_its_own_and_its_live_chats_events() {
        let directory = tempfile::tempdir().expect("temp dir");
        let mut connection = open(&directory.path().join("server.sqlite3")).expect("open");
        let (live_chat, members) = demo_members(&mut connection);
        let [ann, bob, sue] = members[..] else {
            panic!("three demo members: {members:?}");
        };
        let everyone = Audience::LiveChat(live_chat);
        let all = append_operator_event(&connection, everyone, None, "1", now()).expect("append");
        let own = append_operator_event(&connection, Audience::Operator(bob), None, "2", now())
            .expect("append");
        let some = append_operator_event(&connection, everyone, Some(&[ann, sue]), "3", now())
            .expect("append");
        let payloads = |operator, since| {
            let head = operator_stream_head(&connection, operator, None).expect("head");
            operator_events_after(&connection, operator, since, head)
                .expect("query")
                .expect("complete")
        };
        assert_eq!(
            payloads(ann, 0),
            [(all, "1".to_owned()), (some, "3".to_owned())]
        );
        assert_eq!(
            payloads(bob, 0),
            [(all, "1".to_owned()), (own, "2".to_owned())]
        );
        assert_eq!(payloads(sue, all), [(some, "3".to_owned())]);
        assert_eq!(
            operator_stream_head(&connection, bob, None).expect("head"),
            own
        );
        assert_eq!(
            operator_stream_head(&connection, ann, Some(some)).expect("head"),
            all,
            "the head before an event is its predecessor in the stream"
        );
        assert_eq!(
            operator_events_after(&connection, ann, some + 1, some).expect("query"),
            None,
            "a cursor beyond the head is from another history"
        );
    }

    #[test]
    fn the_shared_operator_log_trims_its_oldest_events() {
        let directory = tempfile::tempdir().expect("temp dir");
        let mut connection = open(&directory.path().join("server.sqlite3")).expect("open");
        let (live_chat, members) = demo_members(&mut connection);
        let transaction = connection.transaction().expect("transaction");
        // Trimming runs on multiples of OPERATOR_TRIM_EVERY: end on one.
        let total = (OPERATOR_EVENTS_KEPT / OPERATOR_TRIM_EVERY + 2) * OPERATOR_TRIM_EVERY;
        let trimmed_through = total - OPERATOR_EVENTS_KEPT;
        for _ in 0..total {
            append_operator_event(
                &transaction,
                Audience::LiveChat(live_chat),
                None,
                "{}",
                now(),
            )
            .expect("append");
        }
        transaction.commit().expect("commit");
        let kept: i64 = connection
            .query_row("SELECT COUNT(*) FROM operator_events", [], |row| row.get(0))
            .expect("count");
        assert_eq!(kept as u64, OPERATOR_EVENTS_KEPT);
        let head = operator_stream_head(&connection, members[0], None).expect("head");
        assert_eq!(head, total);
        assert_eq!(
            operator_events_after(&connection, members[0], trimmed_through - 1, head)
                .expect("query"),
            None,
            "trimmed events cannot be replayed"
        );
        let replay = operator_events_after(&connection, members[0], trimmed_through, head)
            .expect("query")
            .expect("the kept events replay");
        assert_eq!(replay.len() as u64, OPERATOR_EVENTS_KEPT);
    }
}
