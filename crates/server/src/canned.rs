//! Canned responses (B30): reply templates an operator inserts from the console's picker. A
//! personal one belongs to its owner; a shared one to every member of its live chat. The server
//! only stores and lists them; filling `{{ visitor.name }}`-style variables is the console's job.

use rusqlite::{Connection, params};
use switchboard_protocol::{CannedResponse, LiveChatId, OperatorId};

use crate::storage::StoreResult;

/// The operator's personal canned responses and those of the live chats they belong to, by
/// title. Nothing of a live chat they are not a member of.
pub fn canned_responses(
    connection: &Connection,
    operator: OperatorId,
) -> StoreResult<Vec<CannedResponse>> {
    let mut statement = connection.prepare_cached(
        "SELECT id, title, body, live_chat_id FROM canned_responses
         WHERE owner_id = ?1
            OR live_chat_id IN (SELECT live_chat_id FROM memberships WHERE operator_id = ?1)
         ORDER BY title COLLATE NOCASE, id",
    )?;
    let rows = statement.query_map([operator.0], |row| {
        Ok(CannedResponse {
            id: row.get(0)?,
            title: row.get(1)?,
            body: row.get(2)?,
            live_chat: row.get::<_, Option<i64>>(3)?.map(LiveChatId),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Adds a canned response: personal when `live_chat` is `None`, shared otherwise.
pub fn insert_canned_response(
    connection: &Connection,
    owner: OperatorId,
    live_chat: Option<LiveChatId>,
    title: &str,
    body: &str,
) -> StoreResult<i64> {
    let owner = match live_chat {
        Some(_) => None,
        None => Some(owner.0),
    };
    connection.execute(
        "INSERT INTO canned_responses (owner_id, live_chat_id, title, body) VALUES (?1, ?2, ?3, ?4)",
        params![owner, live_chat.map(|live| live.0), title, body],
    )?;
    Ok(connection.last_insert_rowid())
}

/// The demo live chat's shared canned responses, added once.
pub fn seed_demo(connection: &Connection, live_chat: LiveChatId) -> StoreResult<()> {
    let existing: i64 = connection.query_row(
        "SELECT COUNT(*) FROM canned_responses WHERE live_chat_id = ?1",
        [live_chat.0],
        |row| row.get(0),
    )?;
    if existing > 0 {
        return Ok(());
    }
    for (title, body) in DEMO_CANNED_RESPONSES {
        connection.execute(
            "INSERT INTO canned_responses (live_chat_id, title, body) VALUES (?1, ?2, ?3)",
            params![live_chat.0, title, body],
        )?;
    }
    Ok(())
}

const DEMO_CANNED_RESPONSES: &[(&str, &str)] = &[
    (
        "Greeting",
        "Hi {{ visitor.name }}, this is {{ operator.name }}. How can I help?",
    ),
    (
        "Follow up by email",
        "I will email the details to {{ visitor.email }}.",
    ),
    (
        "Goodbye",
        "Thanks for chatting with {{ liveChat.name }}. Have a good day!",
    ),
];
