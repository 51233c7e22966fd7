//! Colleagues: who an operator can @mention in a note (B26), and whom the invite and transfer
//! picker offers (B22, B23) with their availability, kept current by events.

use rusqlite::Connection;
use switchboard_protocol::{Colleague, OperatorEvent, OperatorId, OperatorRef};

use crate::hub::Effects;
use crate::storage::{self, StoreResult};

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

/// One staff member with their availability and routing switch.
fn colleague(connection: &Connection, operator: OperatorRef) -> StoreResult<Colleague> {
    let routing: bool = connection.query_row(
        "SELECT routing FROM operators WHERE id = ?1",
        [operator.id.0],
        |row| row.get(0),
    )?;
    Ok(Colleague {
        availability: storage::availability(connection, operator.id)?,
        id: operator.id,
        name: operator.name,
        routing,
    })
}

/// What follows a snapshot: every colleague with their availability.
pub(crate) fn colleagues_changed(
    connection: &Connection,
    operator: OperatorId,
) -> StoreResult<OperatorEvent> {
    let colleagues = colleagues(connection, operator)?
        .into_iter()
        .map(|colleague_ref| colleague(connection, colleague_ref))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(OperatorEvent::ColleaguesChanged { colleagues })
}

/// Tells the staff of every live chat `operator` belongs to that their availability or routing
/// switch changed, so pickers grey them out (or in) without asking again.
pub(crate) fn announce(effects: &mut Effects<'_>, operator: OperatorId) -> StoreResult<()> {
    let changed = colleague(
        effects.database,
        storage::operator_ref(effects.database, operator)?,
    )?;
    let event = OperatorEvent::ColleagueChanged { colleague: changed };
    for colleague_ref in colleagues(effects.database, operator)? {
        effects.notify_operator(colleague_ref.id, &event)?;
    }
    Ok(())
}
