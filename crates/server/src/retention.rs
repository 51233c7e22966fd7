//! Visitor retention (B50). The widget opens a visitor session on every page load, so visitor
//! rows, their tokens and their logs grow with site traffic. A visitor with no chat, no customer
//! record and no activity for `visitor_retention_days` is deleted with everything of theirs; a
//! visitor with a chat is history and is never deleted here.
//!
//! Pruning runs in small batches, each its own short transaction under the hub lock, so chats
//! never wait long behind it. Activity is `visitors.last_seen_at`: the session's creation, and
//! each time the visitor's WebSocket connects or its last one closes.

use rusqlite::{Connection, params};
use switchboard_protocol::{Timestamp, VisitorId};

use crate::hub::{Hub, Stream};
use crate::storage::StoreResult;

/// Visitors deleted per transaction: small enough that the hub lock is held for milliseconds.
pub const BATCH: usize = 200;

const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

/// The moment before which a visitor's last activity makes them expire; `None` when
/// `retention_days` is 0 or less (keep forever).
pub fn cutoff(now: Timestamp, retention_days: i64) -> Option<Timestamp> {
    (retention_days > 0).then(|| Timestamp(now.0.saturating_sub(retention_days * MILLIS_PER_DAY)))
}

/// Records activity of a visitor (a connection opened or closed).
pub(crate) fn touch(
    connection: &Connection,
    visitor: VisitorId,
    now: Timestamp,
) -> StoreResult<()> {
    connection
        .prepare_cached("UPDATE visitors SET last_seen_at = MAX(last_seen_at, ?2) WHERE id = ?1")?
        .execute(params![visitor.0, now.0])?;
    Ok(())
}

/// Up to `limit` expired visitors, least recently seen first: no chat, no customer record, last
/// seen before `cutoff`.
pub fn expired_visitors(
    connection: &Connection,
    cutoff: Timestamp,
    limit: usize,
) -> StoreResult<Vec<VisitorId>> {
    let mut statement = connection.prepare_cached(
        "SELECT v.id FROM visitors v
         WHERE v.last_seen_at < ?1 AND v.customer_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.visitor_id = v.id)
         ORDER BY v.last_seen_at LIMIT ?2",
    )?;
    let visitors = statement
        .query_map(
            params![cutoff.0, i64::try_from(limit).unwrap_or(i64::MAX)],
            |row| Ok(VisitorId(row.get(0)?)),
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(visitors)
}

/// Deletes one visitor and what only they own: tokens (by cascade), their event stream and the
/// outcomes of their commands. Refuses (returns `false`) once the visitor has a chat, so a chat
/// started between the query and the delete is never lost.
pub fn delete_visitor(connection: &Connection, visitor: VisitorId) -> StoreResult<bool> {
    let has_chat: bool = connection
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM chats WHERE visitor_id = ?1)")?
        .query_row([visitor.0], |row| row.get(0))?;
    if has_chat {
        return Ok(false);
    }
    let stream = Stream::Visitor(visitor).key();
    connection
        .prepare_cached("DELETE FROM events WHERE stream = ?1")?
        .execute([&stream])?;
    connection
        .prepare_cached("DELETE FROM command_log WHERE actor = ?1")?
        .execute([&stream])?;
    let deleted = connection
        .prepare_cached("DELETE FROM visitors WHERE id = ?1")?
        .execute([visitor.0])?;
    Ok(deleted > 0)
}

/// One batch on a plain connection (tests and tools): deletes up to `limit` expired visitors
/// for which `keep` says no, in one transaction; returns how many went.
pub fn prune_batch(
    connection: &mut Connection,
    cutoff: Timestamp,
    limit: usize,
    keep: impl Fn(VisitorId) -> bool,
) -> StoreResult<usize> {
    let transaction = connection.transaction()?;
    let deleted = prune_in(&transaction, cutoff, limit, keep)?;
    transaction.commit()?;
    Ok(deleted)
}

fn prune_in(
    connection: &Connection,
    cutoff: Timestamp,
    limit: usize,
    keep: impl Fn(VisitorId) -> bool,
) -> StoreResult<usize> {
    delete_all_but(
        connection,
        &expired_visitors(connection, cutoff, limit)?,
        keep,
    )
}

/// Deletes each of `visitors` for which `keep` says no; returns how many went.
fn delete_all_but(
    connection: &Connection,
    visitors: &[VisitorId],
    keep: impl Fn(VisitorId) -> bool,
) -> StoreResult<usize> {
    let mut deleted = 0;
    for visitor in visitors.iter().copied() {
        if !keep(visitor) && delete_visitor(connection, visitor)? {
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// What one batch did: how many went, and whether more may be waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    pub deleted: usize,
    pub more: bool,
}

impl Hub {
    /// One retention batch. A visitor still connected stays whatever their row says (a page
    /// left open for weeks); one who left lately was touched when their last socket closed.
    pub fn prune_visitors(&mut self, cutoff: Timestamp, limit: usize) -> StoreResult<Batch> {
        let candidates = expired_visitors(self.database(), cutoff, limit)?;
        let more = candidates.len() == limit;
        let present: Vec<VisitorId> = candidates
            .iter()
            .copied()
            .filter(|visitor| self.visitor_connected(*visitor))
            .collect();
        let deleted = self
            .transact(|effects| {
                Ok(delete_all_but(effects.database, &candidates, |visitor| {
                    present.contains(&visitor)
                })?)
            })
            .map_err(|error| crate::storage::StoreError::Invalid(error.message))?;
        // A batch made only of present visitors would come back forever: stop there.
        Ok(Batch {
            deleted,
            more: more && deleted > 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_days_keeps_forever_and_the_cutoff_is_days_before_now() {
        assert_eq!(cutoff(Timestamp(10 * MILLIS_PER_DAY), 0), None);
        assert_eq!(cutoff(Timestamp(10 * MILLIS_PER_DAY), -1), None);
        assert_eq!(
            cutoff(Timestamp(10 * MILLIS_PER_DAY), 3),
            Some(Timestamp(7 * MILLIS_PER_DAY))
        );
    }
}
