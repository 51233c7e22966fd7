//! Who an operator can @mention in a note (B26): the other members of their live chats.

use rusqlite::Connection;
use switchboard_protocol::{OperatorId, OperatorRef};

use crate::storage::StoreResult;

/// The other staff of the operator's live chats, each once, by name.
pub fn colleagues(connection: &Connection, operator: OperatorId) -> StoreResult<Vec<OperatorRef>> {
    let mut statement = connection.prepare_cached(
        "SELECT DISTINCT operators.id, operators.name FROM operators
         JOIN memberships ON memberships.operator_id = operators.id
         WHERE memberships.live_chat_id IN
                   (SELECT live_chat_id FROM memberships WHERE operator_id = ?1)
           AND operators.id <> ?1
         ORDER BY operators.name COLLATE NOCASE, operators.id",
    )?;
    let rows = statement.query_map([operator.0], |row| {
        Ok(OperatorRef {
            id: OperatorId(row.get(0)?),
            name: row.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
