//! Visitors on site (B50): the list of visitors on this operator's live chats' pages, kept in
//! memory from the server's transient frames and sent whole to the console as
//! `CoreEvent::VisitorsOnSite`. Presence, not history: nothing is cached, the server repeats the
//! whole list after every (re)connect, and no replay ever carries an arrival, so the new-visitor
//! cue (in `attention.rs`) can only follow a live arrival.

use switchboard_protocol::{OperatorEvent, SiteVisitor};

use crate::state::CoreEvent;
use crate::{Core, Inner, lock};

/// The visitors on site, oldest visit first.
#[derive(Debug, Default)]
pub(crate) struct SiteVisitorList {
    visitors: Vec<SiteVisitor>,
}

impl SiteVisitorList {
    /// Applies a presence event; returns whether the list changed.
    pub(crate) fn apply(&mut self, event: &OperatorEvent) -> bool {
        match event {
            OperatorEvent::VisitorsOnSite { visitors } => {
                self.visitors = visitors.clone();
            }
            OperatorEvent::VisitorArrived { visitor }
            | OperatorEvent::VisitorUpdated { visitor } => {
                match self
                    .visitors
                    .iter_mut()
                    .find(|known| known.visitor == visitor.visitor)
                {
                    Some(known) => *known = visitor.clone(),
                    None => self.visitors.push(visitor.clone()),
                }
            }
            OperatorEvent::VisitorLeft { visitor, .. } => {
                self.visitors.retain(|known| known.visitor != *visitor);
            }
            _ => return false,
        }
        true
    }

    pub(crate) fn visitors(&self) -> Vec<SiteVisitor> {
        self.visitors.clone()
    }

    pub(crate) fn clear(&mut self) {
        self.visitors.clear();
    }
}

impl Core {
    /// Everyone on the pages of my live chats right now (B50).
    pub fn visitors_on_site(&self) -> Vec<SiteVisitor> {
        lock(&self.inner.site_visitors).visitors()
    }
}

impl Inner {
    /// A presence event from a `Transient` frame: updates the list, tells the console, and lets
    /// the attention logic cue a live arrival.
    pub(crate) fn apply_site_visitors(&self, event: &OperatorEvent) {
        let visitors = {
            let mut list = lock(&self.site_visitors);
            if !list.apply(event) {
                return;
            }
            list.visitors()
        };
        self.emit(CoreEvent::VisitorsOnSite { visitors });
        if matches!(event, OperatorEvent::VisitorArrived { .. }) {
            self.observe(event);
        }
    }

    /// Signed out: nobody's visitors are shown.
    pub(crate) fn clear_site_visitors(&self) {
        lock(&self.site_visitors).clear();
        self.emit(CoreEvent::VisitorsOnSite {
            visitors: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use switchboard_protocol::{LiveChatId, Timestamp, VisitorId};

    use super::*;

    fn visitor(id: i64, page: &str) -> SiteVisitor {
        SiteVisitor {
            visitor: VisitorId(id),
            live_chat: LiveChatId(1),
            name: None,
            page_url: Some(page.to_owned()),
            page_title: None,
            referrer: None,
            location: None,
            first_seen: Timestamp(id),
            pages_viewed: 1,
            in_chat: false,
        }
    }

    #[test]
    fn b50_the_list_follows_arrivals_moves_departures_and_the_full_list() {
        let mut list = SiteVisitorList::default();
        assert!(list.apply(&OperatorEvent::VisitorArrived {
            visitor: visitor(1, "/a"),
        }));
        assert!(list.apply(&OperatorEvent::VisitorArrived {
            visitor: visitor(2, "/b"),
        }));
        assert!(list.apply(&OperatorEvent::VisitorUpdated {
            visitor: visitor(1, "/c"),
        }));
        assert_eq!(list.visitors(), vec![visitor(1, "/c"), visitor(2, "/b")]);
        assert!(list.apply(&OperatorEvent::VisitorLeft {
            live_chat: LiveChatId(1),
            visitor: VisitorId(1),
        }));
        assert_eq!(list.visitors(), vec![visitor(2, "/b")]);
        assert!(list.apply(&OperatorEvent::VisitorsOnSite {
            visitors: vec![visitor(3, "/d")],
        }));
        assert_eq!(list.visitors(), vec![visitor(3, "/d")]);
        assert!(!list.apply(&OperatorEvent::RoutingChanged { routing: true }));
    }
}
