//! The pure routing core, without sockets, storage or a clock: time is a number passed in.

use switchboard_protocol::{CapacityOverride, RoutingSettings};

use super::*;

const SITE: LiveChatId = LiveChatId(1);
const OTHER_SITE: LiveChatId = LiveChatId(2);
const ANN: OperatorId = OperatorId(1);
const BOB: OperatorId = OperatorId(2);
const SUE: OperatorId = OperatorId(3);
const CHAT: ChatId = ChatId(10);
const SECOND_CHAT: ChatId = ChatId(11);
const GRACES: Graces = Graces {
    operator_ms: 60_000,
    visitor_ms: 120_000,
};
const START: Timestamp = Timestamp(1_000_000);

fn at(seconds: i64) -> Timestamp {
    Timestamp(START.0 + seconds * 1000)
}

fn member_of(live_chats: &[LiveChatId]) -> OperatorFacts {
    OperatorFacts {
        live_chats: live_chats.iter().copied().collect(),
        connections: 1,
        ..OperatorFacts::default()
    }
}

/// Ann and Bob, connected and online members of SITE, in the given mode.
fn router(mode: RoutingMode) -> Router {
    let mut router = Router::new(GRACES);
    router.set_policy(
        SITE,
        Policy {
            mode,
            ..Policy::default()
        },
    );
    router.set_operator(ANN, member_of(&[SITE]));
    router.set_operator(BOB, member_of(&[SITE]));
    router
}

fn ring(operator: OperatorId, chat: ChatId) -> Decision {
    Decision::Ring { operator, chat }
}

fn stop(operator: OperatorId, chat: ChatId, cause: StopCause) -> Decision {
    Decision::Stop {
        operator,
        chat,
        cause,
    }
}

fn offer(operator: OperatorId, chat: ChatId, deadline: Timestamp) -> Decision {
    Decision::Offer {
        operator,
        chat,
        deadline,
    }
}

#[test]
fn b01_a_new_chat_rings_every_eligible_operator_until_one_accepts() {
    let mut router = router(RoutingMode::RingAll);
    let decisions = router.chat_queued(CHAT, PendingChat::new(SITE), START);
    assert_eq!(decisions, vec![ring(ANN, CHAT), ring(BOB, CHAT)]);
    let decisions = router.accepted(CHAT, ANN, at(1));
    assert_eq!(
        decisions,
        vec![
            stop(ANN, CHAT, StopCause::Accepted(ANN)),
            stop(BOB, CHAT, StopCause::Accepted(ANN)),
        ]
    );
    assert!(
        router.ringing_for(BOB).is_empty(),
        "an accepted chat rings for nobody"
    );
}

#[test]
fn b01_abandoning_stops_every_ring() {
    let mut router = router(RoutingMode::RingAll);
    router.chat_queued(CHAT, PendingChat::new(SITE), START);
    assert_eq!(
        router.abandoned(CHAT),
        vec![
            stop(ANN, CHAT, StopCause::Abandoned),
            stop(BOB, CHAT, StopCause::Abandoned),
        ]
    );
}

#[test]
fn b01_non_members_away_offline_and_routing_off_operators_do_not_ring() {
    let mut router = router(RoutingMode::RingAll);
    router.set_operator(SUE, member_of(&[OTHER_SITE]));
    router.availability_changed(BOB, Availability::Away, START);
    router.set_operator(
        OperatorId(4),
        OperatorFacts {
            routing: false,
            ..member_of(&[SITE])
        },
    );
    router.set_operator(
        OperatorId(5),
        OperatorFacts {
            availability: Availability::Offline,
            ..member_of(&[SITE])
        },
    );
    let decisions = router.chat_queued(CHAT, PendingChat::new(SITE), START);
    assert_eq!(decisions, vec![ring(ANN, CHAT)]);
}

#[test]
fn b02_mute_stops_only_the_muter_and_a_reconnect_does_not_ring_it_again() {
    let mut router = router(RoutingMode::RingAll);
    router.chat_queued(CHAT, PendingChat::new(SITE), START);
    assert_eq!(
        router.muted(ANN, CHAT, at(1)),
        vec![stop(ANN, CHAT, StopCause::Muted)]
    );
    assert_eq!(router.ringing_operators(CHAT), BTreeSet::from([BOB]));
    router.disconnected(ANN, at(2));
    router.connected(ANN);
    assert_eq!(
        router.availability_changed(ANN, Availability::Online, at(3)),
        vec![]
    );
    assert_eq!(router.ringing_operators(CHAT), BTreeSet::from([BOB]));
}

#[test]
fn b03_an_operator_coming_online_or_freeing_a_slot_starts_ringing() {
    let mut router = router(RoutingMode::RingAll);
    router.availability_changed(BOB, Availability::Away, START);
    router.chat_queued(CHAT, PendingChat::new(SITE), START);
    assert_eq!(
        router.availability_changed(BOB, Availability::Online, at(1)),
        vec![ring(BOB, CHAT)]
    );
    assert_eq!(
        router.routing_changed(BOB, false, at(2)),
        vec![stop(BOB, CHAT, StopCause::Unavailable)]
    );
    assert_eq!(
        router.routing_changed(BOB, true, at(3)),
        vec![ring(BOB, CHAT)]
    );
}

#[test]
fn b06_full_operators_are_not_rung_until_a_chat_finishes() {
    let mut router = router(RoutingMode::RingAll);
    router.set_policy(
        SITE,
        Policy {
            capacity: Some(1),
            capacity_overrides: BTreeMap::from([(BOB, Some(2))]),
            ..Policy::default()
        },
    );
    router.chat_queued(CHAT, PendingChat::new(SITE), START);
    router.accepted(CHAT, ANN, at(1));
    let decisions = router.chat_queued(SECOND_CHAT, PendingChat::new(SITE), at(2));
    assert_eq!(
        decisions,
        vec![ring(BOB, SECOND_CHAT)],
        "Ann is full at 1; Bob's override allows 2"
    );
    assert_eq!(
        router.active_chat_finished(ANN, at(3)),
        vec![ring(ANN, SECOND_CHAT)],
        "a freed slot rings for the waiting chat (B03)"
    );
}

#[test]
fn b06_accepting_the_last_slot_stops_the_other_rings_of_that_operator() {
    let mut router = router(RoutingMode::RingAll);
    router.set_policy(
        SITE,
        Policy {
            capacity: Some(1),
            ..Policy::default()
        },
    );
    router.chat_queued(CHAT, PendingChat::new(SITE), START);
    router.chat_queued(SECOND_CHAT, PendingChat::new(SITE), START);
    let decisions = router.accepted(CHAT, ANN, at(1));
    assert!(decisions.contains(&stop(ANN, SECOND_CHAT, StopCause::Unavailable)));
    assert_eq!(router.ringing_operators(SECOND_CHAT), BTreeSet::from([BOB]));
}

#[test]
fn b05_offers_go_to_one_operator_at_a_time_and_move_on_when_declined() {
    let mut router = router(RoutingMode::Offer);
    let deadline = at(30);
    assert_eq!(
        router.chat_queued(CHAT, PendingChat::new(SITE), START),
        vec![offer(ANN, CHAT, deadline)],
        "the default countdown is 30 s"
    );
    assert_eq!(router.ringing_operators(CHAT), BTreeSet::from([ANN]));
    assert_eq!(
        router.declined(BOB, CHAT, at(1)),
        vec![],
        "only Ann can decline"
    );
    assert_eq!(
        router.declined(ANN, CHAT, at(2)),
        vec![
            stop(ANN, CHAT, StopCause::Declined),
            Decision::RoutingOff { operator: ANN },
            offer(BOB, CHAT, at(32)),
        ]
    );
    assert!(!router.operator(ANN).expect("Ann").routing);
}

#[test]
fn b05_an_ignored_offer_times_out_turns_routing_off_and_cycles_until_accepted() {
    let mut router = router(RoutingMode::Offer);
    router.chat_queued(CHAT, PendingChat::new(SITE), START);
    assert_eq!(router.next_deadline(), Some(at(30)));
    assert_eq!(
        router.expire(at(29)),
        vec![],
        "nothing is due before the deadline"
    );
    assert_eq!(
        router.expire(at(30)),
        vec![
            stop(ANN, CHAT, StopCause::TimedOut),
            Decision::RoutingOff { operator: ANN },
            offer(BOB, CHAT, at(60)),
        ]
    );
    // Bob ignores it too: nobody is left, the chat waits.
    assert_eq!(
        router.expire(at(60)),
        vec![
            stop(BOB, CHAT, StopCause::TimedOut),
            Decision::RoutingOff { operator: BOB },
        ]
    );
    // Ann switches routing back on: the cycle resumes with her.
    assert_eq!(
        router.routing_changed(ANN, true, at(61)),
        vec![offer(ANN, CHAT, at(91))]
    );
    assert_eq!(
        router.accepted(CHAT, ANN, at(62)),
        vec![stop(ANN, CHAT, StopCause::Accepted(ANN))]
    );
    assert_eq!(router.next_deadline(), None);
}

#[test]
fn b05_the_next_operator_is_the_least_recently_offered_then_the_least_busy() {
    let mut router = router(RoutingMode::Offer);
    router.set_operator(SUE, member_of(&[SITE]));
    router.chat_queued(ChatId(1), PendingChat::new(SITE), START);
    router.accepted(ChatId(1), ANN, at(1));
    // Ann has been offered once and holds a chat; Bob and Sue have never been offered.
    assert_eq!(
        router.chat_queued(ChatId(2), PendingChat::new(SITE), at(2)),
        vec![offer(BOB, ChatId(2), at(32))]
    );
    assert_eq!(
        router.chat_queued(ChatId(3), PendingChat::new(SITE), at(3)),
        vec![offer(SUE, ChatId(3), at(33))],
        "Bob holds an offer already; Sue was never offered"
    );
    assert_eq!(
        router.chat_queued(ChatId(4), PendingChat::new(SITE), at(4)),
        vec![offer(ANN, ChatId(4), at(34))]
    );
}

#[test]
fn b05_offers_keep_their_order_when_the_clock_steps_back_or_stands_still() {
    let mut router = router(RoutingMode::Offer);
    router.chat_queued(ChatId(1), PendingChat::new(SITE), at(10));
    router.accepted(ChatId(1), ANN, at(11));
    router.active_chat_finished(ANN, at(12));
    // The wall clock was corrected backwards before Bob's offer.
    assert_eq!(
        router.chat_queued(ChatId(2), PendingChat::new(SITE), at(5)),
        vec![offer(BOB, ChatId(2), at(35))]
    );
    router.accepted(ChatId(2), BOB, at(5));
    router.active_chat_finished(BOB, at(5));
    // Bob was offered after Ann, whatever the clock said: Ann is next.
    assert_eq!(
        router.chat_queued(ChatId(3), PendingChat::new(SITE), at(5)),
        vec![offer(ANN, ChatId(3), at(35))]
    );
}

#[test]
fn b05_an_offered_operator_going_away_moves_the_offer_on_without_turning_routing_off() {
    let mut router = router(RoutingMode::Offer);
    router.chat_queued(CHAT, PendingChat::new(SITE), START);
    assert_eq!(
        router.availability_changed(ANN, Availability::Away, at(1)),
        vec![
            stop(ANN, CHAT, StopCause::Unavailable),
            offer(BOB, CHAT, at(31)),
        ]
    );
    assert!(router.operator(ANN).expect("Ann").routing);
}

#[test]
fn b07_a_disconnect_keeps_rings_until_the_grace_period_ends() {
    let mut router = router(RoutingMode::RingAll);
    router.chat_queued(CHAT, PendingChat::new(SITE), START);
    assert_eq!(router.disconnected(ANN, at(1)), Some(at(61)));
    assert_eq!(router.ringing_operators(CHAT), BTreeSet::from([ANN, BOB]));
    assert_eq!(router.next_deadline(), Some(at(61)));
    assert_eq!(router.expire(at(60)), vec![]);
    assert_eq!(
        router.expire(at(61)),
        vec![
            Decision::WentOffline { operator: ANN },
            stop(ANN, CHAT, StopCause::Unavailable),
        ]
    );
    // Back within the grace period: nothing happens.
    router.disconnected(BOB, at(62));
    router.connected(BOB);
    assert_eq!(router.expire(at(200)), vec![]);
    assert_eq!(router.ringing_operators(CHAT), BTreeSet::from([BOB]));
}

#[test]
fn visitors_who_stay_away_abandon_their_pending_chat() {
    let mut router = router(RoutingMode::RingAll);
    router.chat_queued(CHAT, PendingChat::new(SITE), START);
    router.chat_queued(SECOND_CHAT, PendingChat::new(SITE), START);
    assert_eq!(router.visitor_away(CHAT, at(1)), Some(at(121)));
    router.visitor_away(SECOND_CHAT, at(1));
    assert!(router.visitor_back(SECOND_CHAT));
    assert_eq!(
        router.expire(at(121)),
        vec![
            stop(ANN, CHAT, StopCause::Abandoned),
            stop(BOB, CHAT, StopCause::Abandoned),
            Decision::Abandon { chat: CHAT },
        ]
    );
    assert!(router.pending(SECOND_CHAT).is_some());
}

#[test]
fn b08_a_router_rebuilt_from_stored_state_keeps_the_offer_and_its_deadline() {
    let mut router = router(RoutingMode::Offer);
    router.add_pending(
        CHAT,
        PendingChat {
            offer: Some((ANN, at(30))),
            ..PendingChat::new(SITE)
        },
    );
    router.adopt_current_rings();
    assert_eq!(
        router.reconcile_all(at(5)),
        vec![],
        "the stored offer stands"
    );
    assert_eq!(router.ringing_for(ANN), vec![CHAT]);
    assert_eq!(router.next_deadline(), Some(at(30)));
    assert_eq!(
        router.expire(at(31)),
        vec![
            stop(ANN, CHAT, StopCause::TimedOut),
            Decision::RoutingOff { operator: ANN },
            offer(BOB, CHAT, at(61)),
        ]
    );
}

#[test]
fn b08_rings_announced_before_a_restart_are_not_announced_twice() {
    let mut router = router(RoutingMode::RingAll);
    router.add_pending(CHAT, PendingChat::new(SITE));
    router.adopt_current_rings();
    assert_eq!(router.reconcile_all(START), vec![]);
    assert_eq!(router.ringing_operators(CHAT), BTreeSet::from([ANN, BOB]));
}

fn rule(
    conditions: Vec<RuleCondition>,
    operators: &[OperatorId],
    fallback: RuleFallback,
) -> RoutingRule {
    RoutingRule {
        name: "rule".into(),
        conditions,
        operators: operators.to_vec(),
        teams: Vec::new(),
        fallback,
    }
}

fn condition(field: RuleField, matching: RuleMatch, value: &str) -> RuleCondition {
    RuleCondition {
        field,
        matching,
        value: value.into(),
    }
}

fn compiled(rules: &[RoutingRule]) -> Vec<CompiledRule> {
    rules
        .iter()
        .map(|rule| CompiledRule::compile(rule).expect("rule compiles"))
        .collect()
}

fn page(url: &str) -> ChatFacts {
    ChatFacts {
        page_url: Some(url.into()),
        channel: Some(Channel::Web),
        ..ChatFacts::default()
    }
}

#[test]
fn b04_the_first_matching_rule_decides_and_conditions_compare_as_documented() {
    let rules = compiled(&[
        rule(
            vec![condition(
                RuleField::PageUrl,
                RuleMatch::Regex,
                r"/billing/\d+$",
            )],
            &[ANN],
            RuleFallback::Wait,
        ),
        rule(
            vec![
                condition(RuleField::PageUrl, RuleMatch::Prefix, "https://SHOP."),
                condition(RuleField::Channel, RuleMatch::Equals, "web"),
            ],
            &[BOB],
            RuleFallback::Wait,
        ),
        rule(
            vec![condition(
                RuleField::PageUrl,
                RuleMatch::Contains,
                "pricing",
            )],
            &[SUE],
            RuleFallback::WidenToAll,
        ),
    ]);
    let target = |url| route(&rules, &page(url)).map(|target| target.operators);
    assert_eq!(
        target("https://shop.example.com/billing/42"),
        Some(BTreeSet::from([ANN]))
    );
    assert_eq!(
        target("https://shop.example.com/cart"),
        Some(BTreeSet::from([BOB]))
    );
    assert_eq!(
        target("https://www.example.com/Pricing"),
        Some(BTreeSet::from([SUE]))
    );
    assert_eq!(target("https://www.example.com/"), None);
    let unknown_country = compiled(&[rule(
        vec![condition(RuleField::Country, RuleMatch::Equals, "DE")],
        &[ANN],
        RuleFallback::Wait,
    )]);
    assert_eq!(
        route(&unknown_country, &page("https://x")),
        None,
        "unknown facts never match"
    );
}

#[test]
fn b04_only_routed_operators_ring_and_the_fallback_waits_or_widens() {
    let mut router = router(RoutingMode::RingAll);
    router.set_operator(SUE, member_of(&[SITE]));
    let waiting = Target {
        operators: BTreeSet::from([SUE]),
        fallback: RuleFallback::Wait,
    };
    let widening = Target {
        fallback: RuleFallback::WidenToAll,
        ..waiting.clone()
    };
    let pending = |target: &Target| PendingChat {
        target: Some(target.clone()),
        ..PendingChat::new(SITE)
    };
    assert_eq!(
        router.chat_queued(CHAT, pending(&waiting), START),
        vec![ring(SUE, CHAT)]
    );
    assert_eq!(
        router.chat_queued(SECOND_CHAT, pending(&widening), START),
        vec![ring(SUE, SECOND_CHAT)]
    );
    let decisions = router.availability_changed(SUE, Availability::Away, at(1));
    assert!(decisions.contains(&stop(SUE, CHAT, StopCause::Unavailable)));
    assert!(
        !decisions
            .iter()
            .any(|decision| matches!(decision, Decision::Ring { chat, .. } if *chat == CHAT)),
        "a waiting rule rings nobody else"
    );
    assert!(
        decisions.contains(&ring(ANN, SECOND_CHAT)),
        "a widening rule rings everyone"
    );
    assert!(decisions.contains(&ring(BOB, SECOND_CHAT)));
    let decisions = router.availability_changed(SUE, Availability::Online, at(2));
    assert!(decisions.contains(&ring(SUE, CHAT)));
    assert!(
        decisions.contains(&stop(ANN, SECOND_CHAT, StopCause::Unavailable)),
        "narrows again"
    );
}

#[test]
fn settings_are_validated_with_errors_that_name_the_field() {
    let members = BTreeSet::from([ANN, BOB]);
    let teams = crate::teams::TeamMembership::new();
    let valid = RoutingSettings {
        mode: RoutingMode::Offer,
        offer_timeout_seconds: 30,
        capacity: Some(2),
        capacity_overrides: vec![CapacityOverride {
            operator: BOB,
            capacity: None,
        }],
        rules: vec![rule(
            vec![condition(
                RuleField::PageUrl,
                RuleMatch::Contains,
                "billing",
            )],
            &[ANN],
            RuleFallback::Wait,
        )],
        topics: vec!["Billing".into()],
    };
    assert!(crate::settings::validate(&valid, &members, &teams).is_ok());
    let error = |settings: RoutingSettings| {
        crate::settings::validate(&settings, &members, &teams)
            .expect_err("invalid settings are refused")
            .message
    };
    assert!(
        error(RoutingSettings {
            offer_timeout_seconds: 0,
            ..valid.clone()
        })
        .contains("offerTimeoutSeconds")
    );
    let mut bad_regex = valid.clone();
    bad_regex.rules[0].conditions[0] = condition(RuleField::PageUrl, RuleMatch::Regex, "(unclosed");
    assert!(error(bad_regex).contains("rules[0]"));
    let mut stranger = valid.clone();
    stranger.rules[0].operators = vec![SUE];
    assert!(error(stranger).contains("not a member"));
    let mut no_conditions = valid.clone();
    no_conditions.rules[0].conditions.clear();
    assert!(error(no_conditions).contains("conditions"));
    let mut channel = valid.clone();
    channel.rules[0].conditions[0] = condition(RuleField::Channel, RuleMatch::Equals, "fax");
    assert!(error(channel).contains("channel"));
}

/// A small deterministic generator, so a failing sequence can be replayed from its seed.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

#[test]
fn routing_invariants_hold_under_random_operators_visitors_and_timers() {
    // How often each kind of decision happened, so the run provably exercised every path.
    let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut policy_changes = 0;
    for seed in 1..=40_u64 {
        let mut random = Sequence(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut router = Router::new(Graces {
            operator_ms: 5_000,
            visitor_ms: 7_000,
        });
        let operators: Vec<OperatorId> = (1..=6).map(OperatorId).collect();
        for live_chat in [SITE, OTHER_SITE] {
            router.set_policy(
                live_chat,
                Policy {
                    mode: if (seed + live_chat.0 as u64).is_multiple_of(2) {
                        RoutingMode::Offer
                    } else {
                        RoutingMode::RingAll
                    },
                    offer_timeout_ms: 3_000,
                    capacity: Some(2),
                    ..Policy::default()
                },
            );
        }
        for operator in &operators {
            let live_chats = match operator.0 % 3 {
                0 => vec![SITE],
                1 => vec![OTHER_SITE],
                _ => vec![SITE, OTHER_SITE],
            };
            router.set_operator(*operator, member_of(&live_chats));
        }
        let mut now = START;
        let mut next_chat = 1;
        let mut active: Vec<(ChatId, OperatorId)> = Vec::new();
        for step in 0..400 {
            now = Timestamp(now.0 + random.below(1_500) as i64);
            let operator = operators[random.below(operators.len() as u64) as usize];
            let pending: Vec<ChatId> = router.pending.keys().copied().collect();
            let some_pending =
                (!pending.is_empty()).then(|| pending[random.below(pending.len() as u64) as usize]);
            let decisions = match random.below(12) {
                0 | 1 => {
                    let live_chat = if random.below(2) == 0 {
                        SITE
                    } else {
                        OTHER_SITE
                    };
                    let mut chat = PendingChat::new(live_chat);
                    if random.below(4) == 0 {
                        chat.target = Some(Target {
                            operators: BTreeSet::from([operator]),
                            fallback: if random.below(2) == 0 {
                                RuleFallback::Wait
                            } else {
                                RuleFallback::WidenToAll
                            },
                        });
                    }
                    next_chat += 1;
                    router.chat_queued(ChatId(next_chat), chat, now)
                }
                2 => match some_pending {
                    Some(chat)
                        if router.pending.get(&chat).is_some_and(|pending| {
                            router
                                .operators
                                .get(&operator)
                                .is_some_and(|facts| facts.live_chats.contains(&pending.live_chat))
                        }) =>
                    {
                        active.push((chat, operator));
                        router.accepted(chat, operator, now)
                    }
                    _ => Vec::new(),
                },
                3 => some_pending.map_or_else(Vec::new, |chat| router.muted(operator, chat, now)),
                4 => {
                    some_pending.map_or_else(Vec::new, |chat| router.declined(operator, chat, now))
                }
                5 => some_pending.map_or_else(Vec::new, |chat| router.abandoned(chat)),
                6 => {
                    let availability = match random.below(3) {
                        0 => Availability::Online,
                        1 => Availability::Away,
                        _ => Availability::Offline,
                    };
                    router.availability_changed(operator, availability, now)
                }
                7 => router.routing_changed(operator, random.below(3) != 0, now),
                8 => {
                    if router.operators[&operator].connections > 0 {
                        router.disconnected(operator, now);
                    } else {
                        router.connected(operator);
                    }
                    Vec::new()
                }
                9 => {
                    if let Some(chat) = some_pending {
                        if random.below(2) == 0 {
                            router.visitor_away(chat, now);
                        } else {
                            router.visitor_back(chat);
                        }
                    }
                    Vec::new()
                }
                10 if !active.is_empty() => {
                    let (_, responsible) =
                        active.swap_remove(random.below(active.len() as u64) as usize);
                    router.active_chat_finished(responsible, now)
                }
                11 => {
                    // A team's membership or the rules changed: pending chats get new targets
                    // (a team of one or two operators, or none) and the mode may flip.
                    policy_changes += 1;
                    let live_chat = if random.below(2) == 0 {
                        SITE
                    } else {
                        OTHER_SITE
                    };
                    let mut policy = router.policy(live_chat).cloned().unwrap_or_default();
                    if random.below(3) == 0 {
                        policy.mode = match policy.mode {
                            RoutingMode::Offer => RoutingMode::RingAll,
                            RoutingMode::RingAll => RoutingMode::Offer,
                        };
                    }
                    let targets = router
                        .pending_of(live_chat)
                        .into_iter()
                        .map(|chat| {
                            let team = (random.below(3) != 0).then(|| Target {
                                operators: (0..=random.below(2))
                                    .map(|_| {
                                        operators[random.below(operators.len() as u64) as usize]
                                    })
                                    .collect(),
                                fallback: if random.below(2) == 0 {
                                    RuleFallback::Wait
                                } else {
                                    RuleFallback::WidenToAll
                                },
                            });
                            (chat, team)
                        })
                        .collect();
                    router.policy_changed(live_chat, policy, targets, now)
                }
                _ => Vec::new(),
            };
            // Timers fire at (or after) their deadline, as the runtime does.
            let mut fired = router.expire(now);
            fired.extend(decisions);
            for decision in &fired {
                if let Decision::Offer { deadline, .. } = decision {
                    assert!(
                        *deadline > now,
                        "seed {seed} step {step}: an offer born expired"
                    );
                }
                let kind = match decision {
                    Decision::Ring { .. } => "ring",
                    Decision::Offer { .. } => "offer",
                    Decision::Stop {
                        cause: StopCause::TimedOut,
                        ..
                    } => "timeout",
                    Decision::Stop { .. } => "stop",
                    Decision::RoutingOff { .. } => "routing off",
                    Decision::WentOffline { .. } => "offline",
                    Decision::Abandon { .. } => "abandon",
                };
                *seen.entry(kind).or_default() += 1;
            }
            for (chat, _) in router.pending.iter() {
                assert!(
                    !active.iter().any(|(accepted, _)| accepted == chat),
                    "seed {seed} step {step}: an accepted chat is pending again"
                );
            }
            if let Err(broken) = router.check_invariants(now) {
                panic!("seed {seed} step {step}: {broken}");
            }
        }
    }
    for kind in [
        "ring",
        "offer",
        "timeout",
        "stop",
        "routing off",
        "offline",
        "abandon",
    ] {
        assert!(
            seen.get(kind).is_some_and(|count| *count > 10),
            "the random walk rarely produced {kind}: {seen:?}"
        );
    }
    assert!(
        policy_changes > 10,
        "the random walk rarely changed teams or rules"
    );
}

#[test]
fn b04_a_rule_routing_to_a_team_rings_the_team_members_as_compiled() {
    let team = switchboard_protocol::TeamId(9);
    let teams = crate::teams::TeamMembership::from([(team, BTreeSet::from([BOB, SUE]))]);
    let members = BTreeSet::from([ANN, BOB, SUE]);
    let mut to_team = rule(
        vec![condition(RuleField::Topic, RuleMatch::Equals, "billing")],
        &[],
        RuleFallback::Wait,
    );
    to_team.teams = vec![team];
    let settings = RoutingSettings {
        mode: RoutingMode::RingAll,
        offer_timeout_seconds: 30,
        capacity: None,
        capacity_overrides: Vec::new(),
        rules: vec![to_team.clone()],
        topics: vec!["Billing".into()],
    };
    let policy = crate::settings::validate(&settings, &members, &teams).expect("valid");
    let facts = ChatFacts {
        topic: Some("Billing".into()),
        ..ChatFacts::default()
    };
    let target = route(&policy.rules, &facts).expect("the rule matches");
    assert_eq!(target.operators, BTreeSet::from([BOB, SUE]));
    // Without the team (deleted, or not of this live chat) the rule is refused on save.
    let error = crate::settings::validate(&settings, &members, &Default::default())
        .expect_err("unknown team");
    assert!(error.message.contains("team 9"), "{}", error.message);
    // Duplicate topics are refused, whatever their case.
    let mut twice = settings.clone();
    twice.topics = vec!["Billing".into(), "billing".into()];
    let error = crate::settings::validate(&twice, &members, &teams).expect_err("duplicate");
    assert!(error.message.contains("topics[1]"), "{}", error.message);
}
