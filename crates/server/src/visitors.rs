//! Visitors on site (B50): who is on a page with the widget right now, for the staff of that
//! live chat.
//!
//! This is presence, not history: the set lives in memory (a restart forgets it, and the
//! widgets' reconnects rebuild it within seconds), its events travel in `Transient` frames that
//! bypass the event log, and every operator connect gets the whole list (`VisitorsOnSite`) after
//! its snapshot or replay, so resuming from `since` stays exact and a missed frame is repaired by
//! the next connect. A visitor is one entry however many tabs they have open; they leave when
//! their last widget socket has been gone for the grace period, so a reload (or moving to another
//! page of the site) is a page view, not "left" and "arrived".
//!
//! Everything a page view carries came from the visitor's browser: it is cut to
//! [`MAX_PAGE_TEXT_CHARS`] and only ever shown as text; the time zone is only a lookup key for
//! the approximate location (`routing/location.rs`).

use std::collections::HashMap;

use serde::Serialize;
use switchboard_protocol::{
    Ack, ApiError, ChatId, LiveChatId, MAX_PAGE_TEXT_CHARS, OperatorEvent, OperatorId, SiteVisitor,
    Timestamp, VisitorId, VisitorPageView,
};

use crate::hub::{Hub, Stream};
use crate::routing::{context, location};
use crate::storage::{self, StoreError};

/// How long after a visitor's last widget page closed they still count as on site.
pub const DEFAULT_LEAVE_GRACE_MS: i64 = 30_000;

/// One visitor on site, as the server keeps it.
#[derive(Debug)]
struct OnSite {
    live_chat: LiveChatId,
    /// Open widget sockets (tabs).
    connections: usize,
    first_seen: Timestamp,
    pages_viewed: u32,
    page_url: Option<String>,
    page_title: Option<String>,
    referrer: Option<String>,
    location: Option<String>,
    /// Staff were told of this visitor: only after the first page view, so an entry without a
    /// page is never shown.
    announced: bool,
    /// When the visitor leaves unless a socket comes back first.
    leave_at: Option<Timestamp>,
}

/// The in-memory set of visitors on site.
#[derive(Debug)]
pub struct SiteVisitors {
    visitors: HashMap<VisitorId, OnSite>,
    leave_grace_ms: i64,
}

impl Default for SiteVisitors {
    fn default() -> Self {
        Self {
            visitors: HashMap::new(),
            leave_grace_ms: DEFAULT_LEAVE_GRACE_MS,
        }
    }
}

impl SiteVisitors {
    /// The earliest pending departure.
    pub(crate) fn next_deadline(&self) -> Option<Timestamp> {
        self.visitors
            .values()
            .filter_map(|visitor| visitor.leave_at)
            .min()
    }
}

/// Cuts browser-supplied text to a bounded, single-line string; empty means absent.
fn page_text(value: Option<&str>) -> Option<String> {
    let text: String = value?
        .trim()
        .chars()
        .filter(|character| !character.is_control())
        .take(MAX_PAGE_TEXT_CHARS)
        .collect();
    (!text.is_empty()).then_some(text)
}

/// An ephemeral frame, same shape serde gives `ServerFrame::Transient`.
fn transient_frame<E: Serialize>(event: &E) -> Result<String, StoreError> {
    let payload = serde_json::to_string(event)
        .map_err(|error| StoreError::Invalid(format!("event does not serialise: {error}")))?;
    Ok(format!(r#"{{"type":"transient","event":{payload}}}"#))
}

fn visitor_name(
    database: &rusqlite::Connection,
    visitor: VisitorId,
) -> Result<Option<String>, StoreError> {
    let name: Option<String> = database
        .query_row(
            "SELECT name FROM visitors WHERE id = ?1",
            [visitor.0],
            |row| row.get(0),
        )
        .map_err(StoreError::from)?;
    Ok(name.filter(|name| !name.trim().is_empty()))
}

/// The live chats this operator is staff of.
fn member_live_chats(
    database: &rusqlite::Connection,
    operator: OperatorId,
) -> Result<Vec<LiveChatId>, StoreError> {
    let mut statement =
        database.prepare_cached("SELECT live_chat_id FROM memberships WHERE operator_id = ?1")?;
    let live_chats = statement
        .query_map([operator.0], |row| Ok(LiveChatId(row.get(0)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(live_chats)
}

impl Hub {
    /// Sets how long a visitor whose last widget page closed still counts as on site.
    pub fn set_visitor_leave_grace_ms(&mut self, milliseconds: i64) {
        self.site_visitors.leave_grace_ms = milliseconds.max(0);
    }

    /// What staff see of a visitor on site; name and chat state are read fresh.
    fn site_visitor(&self, visitor: VisitorId, entry: &OnSite) -> Result<SiteVisitor, StoreError> {
        let database = self.database();
        Ok(SiteVisitor {
            visitor,
            live_chat: entry.live_chat,
            name: visitor_name(database, visitor)?,
            page_url: entry.page_url.clone(),
            page_title: entry.page_title.clone(),
            referrer: entry.referrer.clone(),
            location: entry.location.clone(),
            first_seen: entry.first_seen,
            pages_viewed: entry.pages_viewed,
            in_chat: storage::open_chat_of_visitor(database, visitor)?.is_some(),
        })
    }

    /// Sends `event` to every member of the live chat (operators and supervisors), as a
    /// transient frame.
    fn tell_staff(&mut self, live_chat: LiveChatId, event: &OperatorEvent) {
        let frames = storage::members(self.database(), live_chat).and_then(|members| {
            let frame = transient_frame(event)?;
            Ok(members
                .into_iter()
                .map(|member| (Stream::Operator(member), frame.clone()))
                .collect::<Vec<_>>())
        });
        match frames {
            Ok(frames) => self.deliver(frames),
            Err(error) => tracing::error!(%live_chat, %error, "failed to tell staff of a visitor"),
        }
    }

    /// A widget socket of this visitor opened: a returning tab cancels their departure.
    pub(crate) fn site_visitor_connected(&mut self, visitor: VisitorId, live_chat: LiveChatId) {
        let now = storage::now();
        let entry = self
            .site_visitors
            .visitors
            .entry(visitor)
            .or_insert_with(|| OnSite {
                live_chat,
                connections: 0,
                first_seen: now,
                pages_viewed: 0,
                page_url: None,
                page_title: None,
                referrer: None,
                location: None,
                announced: false,
                leave_at: None,
            });
        entry.connections += 1;
        entry.leave_at = None;
    }

    /// A widget socket of this visitor closed: the last one starts the grace period. Returns
    /// whether a departure is now pending, so the caller wakes the timer task.
    pub(crate) fn site_visitor_disconnected(&mut self, visitor: VisitorId) -> bool {
        let grace = self.site_visitors.leave_grace_ms;
        let Some(entry) = self.site_visitors.visitors.get_mut(&visitor) else {
            return false;
        };
        entry.connections = entry.connections.saturating_sub(1);
        if entry.connections > 0 {
            return false;
        }
        entry.leave_at = Some(Timestamp(storage::now().0 + grace));
        true
    }

    /// The visitor's browser shows a page: staff learn of the arrival or of the move.
    pub(crate) fn page_view(
        &mut self,
        visitor: VisitorId,
        live_chat: LiveChatId,
        command: VisitorPageView,
    ) -> Result<Ack, ApiError> {
        let proxy_country = context::proxy_country(self.database(), visitor)?;
        let place = location::locate(proxy_country.as_deref(), command.time_zone.as_deref());
        if !self.site_visitors.visitors.contains_key(&visitor) {
            // A page view can only come over a connected socket; count it as one.
            self.site_visitor_connected(visitor, live_chat);
        }
        let Some(entry) = self.site_visitors.visitors.get_mut(&visitor) else {
            return Ok(Ack {});
        };
        entry.page_url = page_text(Some(&command.url));
        entry.page_title = page_text(command.title.as_deref());
        entry.referrer = page_text(command.referrer.as_deref());
        if let Some(place) = place {
            entry.location = Some(place.describe());
        }
        entry.pages_viewed = entry.pages_viewed.saturating_add(1);
        let arrived = !entry.announced;
        entry.announced = true;
        self.site_visitor_changed(visitor, arrived)?;
        Ok(Ack {})
    }

    /// Tells staff the visitor's current state (after a page view, or their chat started or
    /// ended). Nothing for a visitor not announced yet.
    pub(crate) fn site_visitor_changed(
        &mut self,
        visitor: VisitorId,
        arrived: bool,
    ) -> Result<(), ApiError> {
        let Some(entry) = self.site_visitors.visitors.get(&visitor) else {
            return Ok(());
        };
        if !entry.announced {
            return Ok(());
        }
        let live_chat = entry.live_chat;
        let visitor = self.site_visitor(visitor, entry)?;
        let event = if arrived {
            OperatorEvent::VisitorArrived { visitor }
        } else {
            OperatorEvent::VisitorUpdated { visitor }
        };
        self.tell_staff(live_chat, &event);
        Ok(())
    }

    /// A chat ended by staff: its visitor, if on site, is no longer in chat.
    pub(crate) fn site_visitor_chat_ended(&mut self, chat: ChatId) -> Result<(), ApiError> {
        let Some(row) = storage::chat_row(self.database(), chat)? else {
            return Ok(());
        };
        if self.site_visitors.visitors.contains_key(&row.visitor) {
            self.site_visitor_changed(row.visitor, false)?;
        }
        Ok(())
    }

    /// Everyone on the sites of this operator's live chats, to one operator (after a connect).
    pub(crate) fn send_visitors_on_site(&mut self, operator: OperatorId) -> Result<(), ApiError> {
        let live_chats = member_live_chats(self.database(), operator)?;
        let mut visitors = Vec::new();
        for (&visitor, entry) in &self.site_visitors.visitors {
            if entry.announced && live_chats.contains(&entry.live_chat) {
                visitors.push(self.site_visitor(visitor, entry)?);
            }
        }
        visitors.sort_by_key(|visitor| (visitor.first_seen, visitor.visitor));
        let frame = transient_frame(&OperatorEvent::VisitorsOnSite { visitors })?;
        self.deliver(vec![(Stream::Operator(operator), frame)]);
        Ok(())
    }

    /// Visitors whose grace period ran out leave.
    pub(crate) fn expire_site_visitors(&mut self, now: Timestamp) {
        let gone: Vec<VisitorId> = self
            .site_visitors
            .visitors
            .iter()
            .filter(|(_, entry)| entry.leave_at.is_some_and(|at| at <= now))
            .map(|(&visitor, _)| visitor)
            .collect();
        for visitor in gone {
            if let Some(entry) = self.site_visitors.visitors.remove(&visitor)
                && entry.announced
            {
                self.tell_staff(
                    entry.live_chat,
                    &OperatorEvent::VisitorLeft {
                        live_chat: entry.live_chat,
                        visitor,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b50_page_text_is_bounded_single_line_text() {
        assert_eq!(page_text(None), None);
        assert_eq!(page_text(Some("   ")), None);
        assert_eq!(
            page_text(Some(" <b>Pricing</b>\n")),
            Some("<b>Pricing</b>".to_owned())
        );
        assert_eq!(
            page_text(Some("a\u{0}b\u{1b}[31mc")),
            Some("ab[31mc".to_owned())
        );
        let long = "x".repeat(MAX_PAGE_TEXT_CHARS * 3);
        assert_eq!(
            page_text(Some(&long)).map(|text| text.chars().count()),
            Some(MAX_PAGE_TEXT_CHARS)
        );
    }
}
