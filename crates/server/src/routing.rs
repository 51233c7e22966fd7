//! Routing decisions: which operator rings for which pending chat. Pure state, no I/O: the hub
//! feeds it facts (connections, availability, chats, mutes) and turns the returned changes into
//! events. Foundation scope is ring-all (B01) with per-operator mute (B02); offers, capacity and
//! timers grow here later.

use std::collections::{BTreeMap, BTreeSet};

use switchboard_protocol::{Availability, ChatId, LiveChatId, OperatorId};

/// What the router knows about one operator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorFacts {
    pub live_chats: BTreeSet<LiveChatId>,
    pub online: bool,
    /// Open operator connections; ringing needs at least one, or nobody would hear it.
    pub connections: usize,
}

/// A chat waiting for an operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingChat {
    pub live_chat: LiveChatId,
    pub muted_by: BTreeSet<OperatorId>,
}

/// A change of who rings for what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RingChange {
    Start {
        operator: OperatorId,
        chat: ChatId,
    },
    /// Stopped because the operator is no longer eligible (away, offline, disconnected).
    StopUnavailable {
        operator: OperatorId,
        chat: ChatId,
    },
}

/// The routing state: facts plus the rings currently sounding.
#[derive(Clone, Debug, Default)]
pub struct Router {
    operators: BTreeMap<OperatorId, OperatorFacts>,
    pending: BTreeMap<ChatId, PendingChat>,
    ringing: BTreeMap<ChatId, BTreeSet<OperatorId>>,
}

impl Router {
    /// Records an operator (new, or with changed memberships/availability) without reconciling.
    pub fn set_operator(
        &mut self,
        operator: OperatorId,
        live_chats: BTreeSet<LiveChatId>,
        availability: Availability,
    ) {
        let facts = self.operators.entry(operator).or_default();
        facts.live_chats = live_chats;
        facts.online = availability == Availability::Online;
    }

    /// Records a pending chat (at start-up, or a new one) without reconciling.
    pub fn add_pending(
        &mut self,
        chat: ChatId,
        live_chat: LiveChatId,
        muted_by: BTreeSet<OperatorId>,
    ) {
        self.pending.insert(
            chat,
            PendingChat {
                live_chat,
                muted_by,
            },
        );
    }

    /// Whether `operator` should ring for `chat` right now (B01 eligibility).
    pub fn is_eligible(&self, operator: OperatorId, chat: ChatId) -> bool {
        let (Some(facts), Some(pending)) = (self.operators.get(&operator), self.pending.get(&chat))
        else {
            return false;
        };
        facts.online
            && facts.connections > 0
            && facts.live_chats.contains(&pending.live_chat)
            && !pending.muted_by.contains(&operator)
    }

    /// The chats ringing for this operator.
    pub fn ringing_for(&self, operator: OperatorId) -> Vec<ChatId> {
        self.ringing
            .iter()
            .filter(|(_, operators)| operators.contains(&operator))
            .map(|(chat, _)| *chat)
            .collect()
    }

    /// The operators this chat rings for.
    #[cfg(test)]
    pub fn ringing_operators(&self, chat: ChatId) -> BTreeSet<OperatorId> {
        self.ringing.get(&chat).cloned().unwrap_or_default()
    }

    pub fn connected(&mut self, operator: OperatorId) -> Vec<RingChange> {
        self.operators.entry(operator).or_default().connections += 1;
        self.reconcile()
    }

    pub fn disconnected(&mut self, operator: OperatorId) -> Vec<RingChange> {
        if let Some(facts) = self.operators.get_mut(&operator) {
            facts.connections = facts.connections.saturating_sub(1);
        }
        self.reconcile()
    }

    pub fn availability_changed(
        &mut self,
        operator: OperatorId,
        availability: Availability,
    ) -> Vec<RingChange> {
        self.operators.entry(operator).or_default().online = availability == Availability::Online;
        self.reconcile()
    }

    /// A new pending chat: it rings for every eligible operator.
    pub fn chat_started(&mut self, chat: ChatId, live_chat: LiveChatId) -> Vec<RingChange> {
        self.add_pending(chat, live_chat, BTreeSet::new());
        self.reconcile()
    }

    /// The chat left the pending state (accepted, abandoned, ended); returns who it was ringing
    /// for, so each can be told why it stopped.
    pub fn chat_resolved(&mut self, chat: ChatId) -> BTreeSet<OperatorId> {
        self.pending.remove(&chat);
        self.ringing.remove(&chat).unwrap_or_default()
    }

    /// The operator muted the chat (B02); returns whether it was ringing for them. It keeps
    /// ringing for everyone else.
    pub fn muted(&mut self, operator: OperatorId, chat: ChatId) -> bool {
        if let Some(pending) = self.pending.get_mut(&chat) {
            pending.muted_by.insert(operator);
        }
        self.ringing
            .get_mut(&chat)
            .map(|operators| operators.remove(&operator))
            .unwrap_or(false)
    }

    /// Brings `ringing` in line with eligibility and returns the differences.
    pub fn reconcile(&mut self) -> Vec<RingChange> {
        let mut changes = Vec::new();
        let chats: Vec<ChatId> = self.pending.keys().copied().collect();
        let operators: Vec<OperatorId> = self.operators.keys().copied().collect();
        for chat in chats {
            for &operator in &operators {
                let eligible = self.is_eligible(operator, chat);
                let ringing = self.ringing.entry(chat).or_default();
                if eligible && ringing.insert(operator) {
                    changes.push(RingChange::Start { operator, chat });
                } else if !eligible && ringing.remove(&operator) {
                    changes.push(RingChange::StopUnavailable { operator, chat });
                }
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: LiveChatId = LiveChatId(1);
    const OTHER_SITE: LiveChatId = LiveChatId(2);
    const ANN: OperatorId = OperatorId(1);
    const BOB: OperatorId = OperatorId(2);
    const CHAT: ChatId = ChatId(10);

    fn router_with_two_connected_operators() -> Router {
        let mut router = Router::default();
        router.set_operator(ANN, BTreeSet::from([SITE]), Availability::Online);
        router.set_operator(BOB, BTreeSet::from([SITE]), Availability::Online);
        assert!(router.connected(ANN).is_empty());
        assert!(router.connected(BOB).is_empty());
        router
    }

    #[test]
    fn b01_a_new_chat_rings_every_eligible_operator() {
        let mut router = router_with_two_connected_operators();
        let changes = router.chat_started(CHAT, SITE);
        assert_eq!(
            changes,
            vec![
                RingChange::Start {
                    operator: ANN,
                    chat: CHAT
                },
                RingChange::Start {
                    operator: BOB,
                    chat: CHAT
                }
            ]
        );
        assert_eq!(router.chat_resolved(CHAT), BTreeSet::from([ANN, BOB]));
        assert!(
            router.ringing_for(ANN).is_empty(),
            "a resolved chat rings for nobody"
        );
    }

    #[test]
    fn b01_non_members_away_and_disconnected_operators_do_not_ring() {
        let mut router = router_with_two_connected_operators();
        router.set_operator(
            OperatorId(3),
            BTreeSet::from([OTHER_SITE]),
            Availability::Online,
        );
        router.connected(OperatorId(3));
        router.availability_changed(BOB, Availability::Away);
        router.set_operator(OperatorId(4), BTreeSet::from([SITE]), Availability::Online);
        let changes = router.chat_started(CHAT, SITE);
        assert_eq!(
            changes,
            vec![RingChange::Start {
                operator: ANN,
                chat: CHAT
            }]
        );
    }

    #[test]
    fn b02_mute_stops_only_the_muter_and_survives_reconnects() {
        let mut router = router_with_two_connected_operators();
        router.chat_started(CHAT, SITE);
        assert!(router.muted(ANN, CHAT));
        assert_eq!(router.ringing_operators(CHAT), BTreeSet::from([BOB]));
        router.disconnected(ANN);
        assert!(
            router.connected(ANN).is_empty(),
            "a muted chat does not ring again"
        );
    }

    #[test]
    fn b03_an_operator_coming_online_starts_ringing_and_going_away_stops() {
        let mut router = router_with_two_connected_operators();
        router.availability_changed(BOB, Availability::Away);
        router.chat_started(CHAT, SITE);
        assert_eq!(
            router.availability_changed(BOB, Availability::Online),
            vec![RingChange::Start {
                operator: BOB,
                chat: CHAT
            }]
        );
        assert_eq!(
            router.disconnected(BOB),
            vec![RingChange::StopUnavailable {
                operator: BOB,
                chat: CHAT
            }]
        );
    }
}
