//! Routing decisions: who rings, who is offered what, and when timers fire. This is the pure
//! core: no I/O and no clock. The hub feeds it facts and events with the current time and turns
//! the returned [`Decision`]s into stored state and operator events; the timer task asks for
//! [`Router::next_deadline`] and calls [`Router::expire`] when it passes.
//!
//! Eligibility (B01, B06, B07): a member of the chat's live chat, `online`, routing switch on,
//! under capacity, and not having muted the chat. Connections do not count: an operator whose
//! last connection dropped stays eligible (their rings wait in their event stream) until the
//! grace period runs out and they go offline, so a network blip loses nothing.
//!
//! Offer mode (B05) picks the next operator fairly: the one offered least recently (never
//! offered first), then the one with fewest active chats, then the lowest id. An operator holds
//! at most one offer at a time.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use switchboard_protocol::{
    Availability, Channel, ChatId, LiveChatId, OperatorId, RoutingMode, RoutingRule, RuleCondition,
    RuleFallback, RuleField, RuleMatch, Timestamp,
};

/// Why a ring (or an offer) stopped for one operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopCause {
    /// No longer eligible (away, offline, routing off, full, or the rule moved away).
    Unavailable,
    Muted,
    Declined,
    TimedOut,
    Accepted(OperatorId),
    Abandoned,
}

/// What the hub must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start ringing (ring-all).
    Ring { operator: OperatorId, chat: ChatId },
    /// Offer the chat to this operator alone until `deadline`; it rings for them.
    Offer {
        operator: OperatorId,
        chat: ChatId,
        deadline: Timestamp,
    },
    Stop {
        operator: OperatorId,
        chat: ChatId,
        cause: StopCause,
    },
    /// The operator's routing switch went off (after a declined or ignored offer).
    RoutingOff { operator: OperatorId },
    /// The operator's grace period ran out with no connection: they are offline now.
    WentOffline { operator: OperatorId },
    /// The visitor stayed away past their grace period: the pending chat is abandoned.
    Abandon { chat: ChatId },
}

/// Routing settings of one live chat, compiled for use.
#[derive(Clone, Debug)]
pub struct Policy {
    pub mode: RoutingMode,
    pub offer_timeout_ms: i64,
    pub capacity: Option<u32>,
    pub capacity_overrides: BTreeMap<OperatorId, Option<u32>>,
    pub rules: Vec<CompiledRule>,
    /// The pre-chat topics the widget offers, kept here so a new chat checks its topic without
    /// reading the stored settings.
    pub topics: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            mode: RoutingMode::RingAll,
            offer_timeout_ms: i64::from(switchboard_protocol::DEFAULT_OFFER_TIMEOUT_SECONDS) * 1000,
            capacity: None,
            capacity_overrides: BTreeMap::new(),
            rules: Vec::new(),
            topics: Vec::new(),
        }
    }
}

/// A rule with its regular expressions compiled.
#[derive(Clone, Debug)]
pub struct CompiledRule {
    conditions: Vec<(RuleCondition, Option<Regex>)>,
    target: Target,
}

/// Who a rule routes a chat to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub operators: BTreeSet<OperatorId>,
    pub fallback: RuleFallback,
}

/// What rules can look at in a chat (B04). Fields the server does not know yet are `None`.
#[derive(Clone, Debug, Default)]
pub struct ChatFacts {
    pub page_url: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub topic: Option<String>,
    pub channel: Option<Channel>,
}

impl CompiledRule {
    /// Compiles a rule that passed validation; `Err` names the condition that does not compile.
    pub fn compile(rule: &RoutingRule) -> Result<Self, String> {
        let mut conditions = Vec::with_capacity(rule.conditions.len());
        for condition in &rule.conditions {
            let regex = match condition.matching {
                RuleMatch::Regex => Some(
                    regex::RegexBuilder::new(&condition.value)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|error| error.to_string())?,
                ),
                _ => None,
            };
            conditions.push((condition.clone(), regex));
        }
        Ok(Self {
            conditions,
            target: Target {
                operators: rule.operators.iter().copied().collect(),
                fallback: rule.fallback,
            },
        })
    }

    /// Adds operators to the rule's target: a team's members, resolved when the policy is
    /// compiled.
    pub fn add_operators(&mut self, operators: impl IntoIterator<Item = OperatorId>) {
        self.target.operators.extend(operators);
    }

    fn matches(&self, facts: &ChatFacts) -> bool {
        self.conditions.iter().all(|(condition, regex)| {
            let value = match condition.field {
                RuleField::PageUrl => facts.page_url.clone(),
                RuleField::Country => facts.country.clone(),
                RuleField::Language => facts.language.clone(),
                RuleField::Topic => facts.topic.clone(),
                RuleField::Channel => facts.channel.map(|channel| match channel {
                    Channel::Web => "web".to_owned(),
                }),
            };
            let Some(value) = value else {
                return false;
            };
            let (value_lower, wanted) = (value.to_lowercase(), condition.value.to_lowercase());
            match condition.matching {
                RuleMatch::Equals => value_lower == wanted,
                RuleMatch::Contains => value_lower.contains(&wanted),
                RuleMatch::Prefix => value_lower.starts_with(&wanted),
                RuleMatch::Regex => regex.as_ref().is_some_and(|regex| regex.is_match(&value)),
            }
        })
    }
}

/// The first matching rule's target, if any rule matches (B04).
pub fn route(rules: &[CompiledRule], facts: &ChatFacts) -> Option<Target> {
    rules
        .iter()
        .find(|rule| rule.matches(facts))
        .map(|rule| rule.target.clone())
}

/// What the router knows about one operator.
#[derive(Clone, Debug)]
pub struct OperatorFacts {
    pub live_chats: BTreeSet<LiveChatId>,
    pub availability: Availability,
    pub routing: bool,
    pub connections: usize,
    pub active_chats: usize,
    pub last_offered: Option<Timestamp>,
    /// When the grace period after the last disconnect ends (B07).
    pub offline_at: Option<Timestamp>,
}

impl Default for OperatorFacts {
    fn default() -> Self {
        Self {
            live_chats: BTreeSet::new(),
            availability: Availability::Online,
            routing: true,
            connections: 0,
            active_chats: 0,
            last_offered: None,
            offline_at: None,
        }
    }
}

/// A chat waiting for an operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingChat {
    pub live_chat: LiveChatId,
    pub muted_by: BTreeSet<OperatorId>,
    /// Set when a rule routed the chat (B04).
    pub target: Option<Target>,
    /// The operator the chat is offered to and until when (B05).
    pub offer: Option<(OperatorId, Timestamp)>,
    /// When the chat is abandoned because its visitor stayed away.
    pub abandon_at: Option<Timestamp>,
}

impl PendingChat {
    pub fn new(live_chat: LiveChatId) -> Self {
        Self {
            live_chat,
            muted_by: BTreeSet::new(),
            target: None,
            offer: None,
            abandon_at: None,
        }
    }
}

/// Grace periods, in milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Graces {
    pub operator_ms: i64,
    pub visitor_ms: i64,
}

/// The routing state: facts plus the rings currently sounding.
#[derive(Clone, Debug)]
pub struct Router {
    operators: BTreeMap<OperatorId, OperatorFacts>,
    members: BTreeMap<LiveChatId, BTreeSet<OperatorId>>,
    policies: BTreeMap<LiveChatId, Policy>,
    pending: BTreeMap<ChatId, PendingChat>,
    ringing: BTreeMap<ChatId, BTreeSet<OperatorId>>,
    graces: Graces,
}

impl Router {
    pub fn new(graces: Graces) -> Self {
        Self {
            operators: BTreeMap::new(),
            members: BTreeMap::new(),
            policies: BTreeMap::new(),
            pending: BTreeMap::new(),
            ringing: BTreeMap::new(),
            graces,
        }
    }

    // ----- loading facts (no reconciling) -----

    /// Records an operator (new, or with changed facts) without reconciling.
    pub fn set_operator(&mut self, operator: OperatorId, facts: OperatorFacts) {
        if let Some(old) = self.operators.get(&operator) {
            for live_chat in &old.live_chats {
                if let Some(members) = self.members.get_mut(live_chat) {
                    members.remove(&operator);
                }
            }
        }
        for live_chat in &facts.live_chats {
            self.members.entry(*live_chat).or_default().insert(operator);
        }
        self.operators.insert(operator, facts);
    }

    pub fn set_policy(&mut self, live_chat: LiveChatId, policy: Policy) {
        self.policies.insert(live_chat, policy);
    }

    pub fn policy(&self, live_chat: LiveChatId) -> Option<&Policy> {
        self.policies.get(&live_chat)
    }

    /// Records a pending chat as stored (at start-up) without reconciling.
    pub fn add_pending(&mut self, chat: ChatId, pending: PendingChat) {
        if let Some((operator, _)) = pending.offer {
            self.ringing.entry(chat).or_default().insert(operator);
        }
        self.pending.insert(chat, pending);
    }

    /// Marks every ring the reconcile would start as already sounding: at start-up the rings
    /// were announced before the restart, so they are not announced twice.
    pub fn adopt_current_rings(&mut self) {
        let chats: Vec<ChatId> = self.pending.keys().copied().collect();
        for chat in chats {
            if self.mode(chat) == RoutingMode::RingAll {
                let eligible = self.eligible_for_chat(chat);
                self.ringing.insert(chat, eligible);
            }
        }
    }

    // ----- queries -----

    #[cfg(test)]
    pub fn operator(&self, operator: OperatorId) -> Option<&OperatorFacts> {
        self.operators.get(&operator)
    }

    #[cfg(test)]
    pub fn pending(&self, chat: ChatId) -> Option<&PendingChat> {
        self.pending.get(&chat)
    }

    /// The chats ringing (or offered) for this operator.
    pub fn ringing_for(&self, operator: OperatorId) -> Vec<ChatId> {
        self.ringing
            .iter()
            .filter(|(_, operators)| operators.contains(&operator))
            .map(|(chat, _)| *chat)
            .collect()
    }

    /// The chats offered to this operator, with their deadlines.
    pub fn offers_of(&self, operator: OperatorId) -> Vec<(ChatId, Timestamp)> {
        self.pending
            .iter()
            .filter_map(|(chat, pending)| match pending.offer {
                Some((offered, deadline)) if offered == operator => Some((*chat, deadline)),
                _ => None,
            })
            .collect()
    }

    /// The operators this chat rings for.
    pub fn ringing_operators(&self, chat: ChatId) -> BTreeSet<OperatorId> {
        self.ringing.get(&chat).cloned().unwrap_or_default()
    }

    fn mode(&self, chat: ChatId) -> RoutingMode {
        self.pending
            .get(&chat)
            .and_then(|pending| self.policies.get(&pending.live_chat))
            .map_or(RoutingMode::RingAll, |policy| policy.mode)
    }

    fn capacity(&self, operator: OperatorId, live_chat: LiveChatId) -> Option<u32> {
        let policy = self.policies.get(&live_chat)?;
        match policy.capacity_overrides.get(&operator) {
            Some(capacity) => *capacity,
            None => policy.capacity,
        }
    }

    /// Whether the operator can take chats of this live chat at all (ignoring mutes and rules).
    pub fn is_available(&self, operator: OperatorId, live_chat: LiveChatId) -> bool {
        let Some(facts) = self.operators.get(&operator) else {
            return false;
        };
        facts.availability == Availability::Online
            && facts.routing
            && facts.live_chats.contains(&live_chat)
            && self
                .capacity(operator, live_chat)
                .is_none_or(|capacity| facts.active_chats < capacity as usize)
    }

    /// Whether the chat may ring for (or be offered to) this operator right now.
    pub fn is_eligible(&self, operator: OperatorId, chat: ChatId) -> bool {
        let Some(pending) = self.pending.get(&chat) else {
            return false;
        };
        if !self.is_available(operator, pending.live_chat) || pending.muted_by.contains(&operator) {
            return false;
        }
        match &pending.target {
            None => true,
            Some(target) if target.operators.contains(&operator) => true,
            Some(target) => {
                target.fallback == RuleFallback::WidenToAll
                    && !target
                        .operators
                        .iter()
                        .any(|routed| self.is_available(*routed, pending.live_chat))
            }
        }
    }

    fn eligible_for_chat(&self, chat: ChatId) -> BTreeSet<OperatorId> {
        let Some(pending) = self.pending.get(&chat) else {
            return BTreeSet::new();
        };
        self.members
            .get(&pending.live_chat)
            .into_iter()
            .flatten()
            .copied()
            .filter(|operator| self.is_eligible(*operator, chat))
            .collect()
    }

    /// The earliest timer: an offer's deadline, a grace period's end, an abandonment.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let offers = self
            .pending
            .values()
            .filter_map(|pending| pending.offer.map(|(_, deadline)| deadline));
        let abandons = self
            .pending
            .values()
            .filter_map(|pending| pending.abandon_at);
        let graces = self.operators.values().filter_map(|facts| facts.offline_at);
        offers.chain(abandons).chain(graces).min()
    }

    // ----- events -----

    /// A new chat (or one released back to the queue): it rings, or is offered.
    pub fn chat_queued(
        &mut self,
        chat: ChatId,
        pending: PendingChat,
        now: Timestamp,
    ) -> Vec<Decision> {
        self.pending.insert(chat, pending);
        let mut decisions = Vec::new();
        self.reconcile_chat(chat, now, &mut decisions);
        decisions
    }

    /// The operator accepted the chat: every ring stops, and the acceptor may now be full.
    pub fn accepted(
        &mut self,
        chat: ChatId,
        operator: OperatorId,
        now: Timestamp,
    ) -> Vec<Decision> {
        let mut decisions = self.resolve(chat, StopCause::Accepted(operator));
        if let Some(facts) = self.operators.get_mut(&operator) {
            facts.active_chats += 1;
        }
        self.reconcile_operator(operator, now, &mut decisions);
        decisions
    }

    /// The visitor left (or the chat ended) while pending.
    pub fn abandoned(&mut self, chat: ChatId) -> Vec<Decision> {
        self.resolve(chat, StopCause::Abandoned)
    }

    /// An active chat of this operator ended or was released: a slot frees up (B03, B06).
    pub fn active_chat_finished(&mut self, operator: OperatorId, now: Timestamp) -> Vec<Decision> {
        if let Some(facts) = self.operators.get_mut(&operator) {
            facts.active_chats = facts.active_chats.saturating_sub(1);
        }
        let mut decisions = Vec::new();
        self.reconcile_operator(operator, now, &mut decisions);
        decisions
    }

    fn resolve(&mut self, chat: ChatId, cause: StopCause) -> Vec<Decision> {
        self.pending.remove(&chat);
        self.ringing
            .remove(&chat)
            .unwrap_or_default()
            .into_iter()
            .map(|operator| Decision::Stop {
                operator,
                chat,
                cause,
            })
            .collect()
    }

    /// The operator muted the chat (B02): it keeps ringing for everyone else. In offer mode a
    /// mute moves the offer on without turning the operator's routing off.
    pub fn muted(&mut self, operator: OperatorId, chat: ChatId, now: Timestamp) -> Vec<Decision> {
        let mut decisions = Vec::new();
        let Some(pending) = self.pending.get_mut(&chat) else {
            return decisions;
        };
        pending.muted_by.insert(operator);
        if pending
            .offer
            .is_some_and(|(offered, _)| offered == operator)
        {
            pending.offer = None;
        }
        if self
            .ringing
            .get_mut(&chat)
            .is_some_and(|operators| operators.remove(&operator))
        {
            decisions.push(Decision::Stop {
                operator,
                chat,
                cause: StopCause::Muted,
            });
        }
        self.reconcile_chat(chat, now, &mut decisions);
        decisions
    }

    /// The operator declined the offer (B05): routing off for them, the chat moves on.
    /// Returns no decisions when the chat is not offered to them.
    pub fn declined(
        &mut self,
        operator: OperatorId,
        chat: ChatId,
        now: Timestamp,
    ) -> Vec<Decision> {
        let offered = self
            .pending
            .get(&chat)
            .and_then(|pending| pending.offer)
            .is_some_and(|(offered, _)| offered == operator);
        if !offered {
            return Vec::new();
        }
        self.end_offer(chat, operator, StopCause::Declined, now)
    }

    fn end_offer(
        &mut self,
        chat: ChatId,
        operator: OperatorId,
        cause: StopCause,
        now: Timestamp,
    ) -> Vec<Decision> {
        let mut decisions = Vec::new();
        if let Some(pending) = self.pending.get_mut(&chat) {
            pending.offer = None;
        }
        if let Some(ringing) = self.ringing.get_mut(&chat) {
            ringing.remove(&operator);
        }
        decisions.push(Decision::Stop {
            operator,
            chat,
            cause,
        });
        if let Some(facts) = self.operators.get_mut(&operator)
            && facts.routing
        {
            facts.routing = false;
            decisions.push(Decision::RoutingOff { operator });
        }
        self.reconcile_operator(operator, now, &mut decisions);
        self.reconcile_chat(chat, now, &mut decisions);
        decisions
    }

    pub fn availability_changed(
        &mut self,
        operator: OperatorId,
        availability: Availability,
        now: Timestamp,
    ) -> Vec<Decision> {
        self.operators.entry(operator).or_default().availability = availability;
        let mut decisions = Vec::new();
        self.reconcile_operator(operator, now, &mut decisions);
        decisions
    }

    pub fn routing_changed(
        &mut self,
        operator: OperatorId,
        routing: bool,
        now: Timestamp,
    ) -> Vec<Decision> {
        self.operators.entry(operator).or_default().routing = routing;
        let mut decisions = Vec::new();
        self.reconcile_operator(operator, now, &mut decisions);
        decisions
    }

    /// A connection opened: the grace period (if running) is cancelled.
    pub fn connected(&mut self, operator: OperatorId) {
        let facts = self.operators.entry(operator).or_default();
        facts.connections += 1;
        facts.offline_at = None;
    }

    /// A connection closed; the last one starts the grace period. Returns its end, if started.
    pub fn disconnected(&mut self, operator: OperatorId, now: Timestamp) -> Option<Timestamp> {
        let grace = self.graces.operator_ms;
        let facts = self.operators.get_mut(&operator)?;
        facts.connections = facts.connections.saturating_sub(1);
        if facts.connections == 0 && facts.availability != Availability::Offline {
            let end = Timestamp(now.0 + grace);
            facts.offline_at = Some(end);
            return Some(end);
        }
        None
    }

    /// Starts the grace period of a pending chat's visitor (their last connection closed).
    pub fn visitor_away(&mut self, chat: ChatId, now: Timestamp) -> Option<Timestamp> {
        let grace = self.graces.visitor_ms;
        let pending = self.pending.get_mut(&chat)?;
        let end = Timestamp(now.0 + grace);
        pending.abandon_at = Some(end);
        Some(end)
    }

    /// The visitor is back: no abandonment.
    pub fn visitor_back(&mut self, chat: ChatId) -> bool {
        self.pending
            .get_mut(&chat)
            .is_some_and(|pending| pending.abandon_at.take().is_some())
    }

    /// Fires every timer due at `now`: offers time out (routing off, next operator), grace
    /// periods end (offline), visitors who stayed away abandon.
    pub fn expire(&mut self, now: Timestamp) -> Vec<Decision> {
        let mut decisions = Vec::new();
        let abandoned: Vec<ChatId> = self
            .pending
            .iter()
            .filter(|(_, pending)| pending.abandon_at.is_some_and(|at| at <= now))
            .map(|(chat, _)| *chat)
            .collect();
        for chat in abandoned {
            decisions.extend(self.resolve(chat, StopCause::Abandoned));
            decisions.push(Decision::Abandon { chat });
        }
        let timed_out: Vec<(ChatId, OperatorId)> = self
            .pending
            .iter()
            .filter_map(|(chat, pending)| match pending.offer {
                Some((operator, deadline)) if deadline <= now => Some((*chat, operator)),
                _ => None,
            })
            .collect();
        for (chat, operator) in timed_out {
            decisions.extend(self.end_offer(chat, operator, StopCause::TimedOut, now));
        }
        let gone: Vec<OperatorId> = self
            .operators
            .iter()
            .filter(|(_, facts)| facts.offline_at.is_some_and(|at| at <= now))
            .map(|(operator, _)| *operator)
            .collect();
        for operator in gone {
            if let Some(facts) = self.operators.get_mut(&operator) {
                facts.offline_at = None;
                facts.availability = Availability::Offline;
            }
            decisions.push(Decision::WentOffline { operator });
            self.reconcile_operator(operator, now, &mut decisions);
        }
        decisions
    }

    pub fn graces(&self) -> Graces {
        self.graces
    }

    /// Re-routes after an operator's facts were replaced with [`Router::set_operator`].
    pub fn operator_changed(&mut self, operator: OperatorId, now: Timestamp) -> Vec<Decision> {
        let mut decisions = Vec::new();
        self.reconcile_operator(operator, now, &mut decisions);
        decisions
    }

    /// Re-routes every pending chat (at start-up).
    pub fn reconcile_all(&mut self, now: Timestamp) -> Vec<Decision> {
        let mut decisions = Vec::new();
        let chats: Vec<ChatId> = self.pending.keys().copied().collect();
        for chat in chats {
            self.reconcile_chat(chat, now, &mut decisions);
        }
        decisions
    }

    /// New settings for a live chat: its pending chats are routed afresh under them.
    pub fn policy_changed(
        &mut self,
        live_chat: LiveChatId,
        policy: Policy,
        targets: BTreeMap<ChatId, Option<Target>>,
        now: Timestamp,
    ) -> Vec<Decision> {
        self.policies.insert(live_chat, policy);
        let mut decisions = Vec::new();
        for (chat, target) in targets {
            let Some(pending) = self.pending.get_mut(&chat) else {
                continue;
            };
            pending.target = target;
            pending.offer = None;
            for operator in self.ringing.remove(&chat).unwrap_or_default() {
                decisions.push(Decision::Stop {
                    operator,
                    chat,
                    cause: StopCause::Unavailable,
                });
            }
            self.reconcile_chat(chat, now, &mut decisions);
        }
        decisions
    }

    /// The pending chats of a live chat, with what rules see of them.
    pub fn pending_of(&self, live_chat: LiveChatId) -> Vec<ChatId> {
        self.pending
            .iter()
            .filter(|(_, pending)| pending.live_chat == live_chat)
            .map(|(chat, _)| *chat)
            .collect()
    }

    // ----- reconciling -----

    /// Brings one operator's rings and offers in line with the facts.
    fn reconcile_operator(
        &mut self,
        operator: OperatorId,
        now: Timestamp,
        decisions: &mut Vec<Decision>,
    ) {
        let chats: Vec<ChatId> = self.pending.keys().copied().collect();
        for chat in chats {
            let simple = self.mode(chat) == RoutingMode::RingAll
                && self
                    .pending
                    .get(&chat)
                    .is_some_and(|pending| pending.target.is_none());
            if simple {
                self.reconcile_pair(operator, chat, decisions);
            } else {
                // Rules and offers depend on other operators too.
                self.reconcile_chat(chat, now, decisions);
            }
        }
    }

    fn reconcile_pair(
        &mut self,
        operator: OperatorId,
        chat: ChatId,
        decisions: &mut Vec<Decision>,
    ) {
        let eligible = self.is_eligible(operator, chat);
        let ringing = self.ringing.entry(chat).or_default();
        if eligible && ringing.insert(operator) {
            decisions.push(Decision::Ring { operator, chat });
        } else if !eligible && ringing.remove(&operator) {
            decisions.push(Decision::Stop {
                operator,
                chat,
                cause: StopCause::Unavailable,
            });
        }
    }

    /// Brings one chat's rings (ring-all) or offer (offer mode) in line with the facts.
    fn reconcile_chat(&mut self, chat: ChatId, now: Timestamp, decisions: &mut Vec<Decision>) {
        let Some(pending) = self.pending.get(&chat) else {
            return;
        };
        let live_chat = pending.live_chat;
        match self.mode(chat) {
            RoutingMode::RingAll => {
                let members: Vec<OperatorId> = self
                    .members
                    .get(&live_chat)
                    .into_iter()
                    .flatten()
                    .copied()
                    .collect();
                let ringing: Vec<OperatorId> = self.ringing_operators(chat).into_iter().collect();
                for operator in members.into_iter().chain(ringing) {
                    self.reconcile_pair(operator, chat, decisions);
                }
            }
            RoutingMode::Offer => {
                if let Some((offered, _)) = pending.offer
                    && !self.is_eligible(offered, chat)
                {
                    if let Some(pending) = self.pending.get_mut(&chat) {
                        pending.offer = None;
                    }
                    if let Some(ringing) = self.ringing.get_mut(&chat) {
                        ringing.remove(&offered);
                    }
                    decisions.push(Decision::Stop {
                        operator: offered,
                        chat,
                        cause: StopCause::Unavailable,
                    });
                }
                let offered = self.pending.get(&chat).and_then(|pending| pending.offer);
                if offered.is_some() {
                    return;
                }
                let Some(next) = self.next_for_offer(chat) else {
                    return;
                };
                let timeout = self
                    .policies
                    .get(&live_chat)
                    .map_or(Policy::default().offer_timeout_ms, |policy| {
                        policy.offer_timeout_ms
                    });
                let deadline = Timestamp(now.0 + timeout);
                if let Some(pending) = self.pending.get_mut(&chat) {
                    pending.offer = Some((next, deadline));
                }
                self.ringing.entry(chat).or_default().insert(next);
                let stamp = self.next_offer_stamp(now);
                if let Some(facts) = self.operators.get_mut(&next) {
                    facts.last_offered = Some(stamp);
                }
                decisions.push(Decision::Offer {
                    operator: next,
                    chat,
                    deadline,
                });
            }
        }
    }

    /// The "last offered" stamp of a new offer (B05): the time, but always later than every
    /// earlier stamp, so offers stay in the order they were made even when two fall in one
    /// millisecond or the wall clock steps back (a loaded VM's clock gets corrected). The
    /// stored stamp follows the same rule (`routing::context::set_last_offered`).
    fn next_offer_stamp(&self, now: Timestamp) -> Timestamp {
        self.operators
            .values()
            .filter_map(|facts| facts.last_offered)
            .max()
            .map_or(now, |latest| Timestamp(now.0.max(latest.0 + 1)))
    }

    fn holds_offer(&self, operator: OperatorId) -> bool {
        self.pending.values().any(|pending| {
            pending
                .offer
                .is_some_and(|(offered, _)| offered == operator)
        })
    }

    fn next_for_offer(&self, chat: ChatId) -> Option<OperatorId> {
        let pending = self.pending.get(&chat)?;
        self.members
            .get(&pending.live_chat)?
            .iter()
            .copied()
            .filter(|operator| self.is_eligible(*operator, chat) && !self.holds_offer(*operator))
            .min_by_key(|operator| {
                let facts = &self.operators[operator];
                (facts.last_offered, facts.active_chats, *operator)
            })
    }

    /// Checks the routing invariants; used by tests after every step.
    #[cfg(test)]
    pub fn check_invariants(&self, now: Timestamp) -> Result<(), String> {
        for (chat, operators) in &self.ringing {
            for operator in operators {
                if !self.is_eligible(*operator, *chat) {
                    return Err(format!(
                        "chat {chat} rings for ineligible operator {operator}"
                    ));
                }
            }
            if !operators.is_empty() && !self.pending.contains_key(chat) {
                return Err(format!("chat {chat} rings but is not pending"));
            }
        }
        for (chat, pending) in &self.pending {
            match self.mode(*chat) {
                RoutingMode::RingAll => {
                    let eligible = self.eligible_for_chat(*chat);
                    if eligible != self.ringing_operators(*chat) {
                        return Err(format!(
                            "chat {chat} rings for {:?}, eligible are {eligible:?}",
                            self.ringing_operators(*chat)
                        ));
                    }
                }
                RoutingMode::Offer => {
                    if let Some((_, deadline)) = pending.offer
                        && deadline <= now
                    {
                        return Err(format!("chat {chat} has an offer past its deadline"));
                    }
                    if self.ringing_operators(*chat).len() > 1 {
                        return Err(format!("offered chat {chat} rings for several operators"));
                    }
                }
            }
        }
        Ok(())
    }
}

pub mod context;
pub mod location;

#[cfg(test)]
mod tests;
