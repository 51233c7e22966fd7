//! A live chat's routing settings (B04, B05, B06): defaults, validation on save with errors a
//! supervisor can act on, and compiling them into the router's [`Policy`].

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;
use switchboard_protocol::{
    ApiError, DEFAULT_OFFER_TIMEOUT_SECONDS, ErrorCode, LiveChatId, OperatorId, RoutingMode,
    RoutingSettings, RuleField, RuleMatch,
};

use crate::hub::Effects;
use crate::routing::{self, CompiledRule, Policy};
use crate::storage::{self, StoreError, StoreResult};
use crate::teams::{self, TeamMembership};

pub const MIN_OFFER_TIMEOUT_SECONDS: u32 = 1;
pub const MAX_OFFER_TIMEOUT_SECONDS: u32 = 600;
const MAX_RULES: usize = 100;
const MAX_CONDITIONS: usize = 20;
const MAX_RULE_NAME_CHARS: usize = 100;
const MAX_CONDITION_VALUE_CHARS: usize = 500;
const MAX_TOPICS: usize = 50;
const MAX_TOPIC_CHARS: usize = 100;

pub fn defaults() -> RoutingSettings {
    RoutingSettings {
        mode: RoutingMode::RingAll,
        offer_timeout_seconds: DEFAULT_OFFER_TIMEOUT_SECONDS,
        capacity: None,
        capacity_overrides: Vec::new(),
        rules: Vec::new(),
        topics: Vec::new(),
    }
}

/// The stored settings of a live chat, or the defaults.
pub fn load(connection: &Connection, live_chat: LiveChatId) -> StoreResult<RoutingSettings> {
    match storage::routing_settings(connection, live_chat)? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|error| StoreError::Invalid(format!("routing settings: {error}"))),
        None => Ok(defaults()),
    }
}

/// The stored settings of a live chat compiled with its current teams, for the router.
pub fn load_policy(connection: &Connection, live_chat: LiveChatId) -> StoreResult<Policy> {
    let settings = load(connection, live_chat)?;
    let teams = teams::membership(connection, live_chat)?;
    policy(&settings, &teams)
        .map_err(|error| StoreError::Invalid(format!("stored routing settings: {error}")))
}

/// Routes the pending chats of a live chat afresh under its stored settings and current teams
/// (after either changed).
pub fn reroute(effects: &mut Effects<'_>, live_chat: LiveChatId) -> StoreResult<()> {
    let policy = load_policy(effects.database, live_chat)?;
    let mut targets = BTreeMap::new();
    for chat in effects.router.pending_of(live_chat) {
        let facts = routing::context::chat_facts(effects.database, chat)?;
        targets.insert(chat, routing::route(&policy.rules, &facts));
    }
    let decisions = effects
        .router
        .policy_changed(live_chat, policy, targets, effects.now);
    effects.apply(decisions)
}

/// Compiles settings that were valid when saved; a rule's teams contribute their members as
/// they are now (a team deleted since contributes nobody).
pub fn policy(settings: &RoutingSettings, teams: &TeamMembership) -> Result<Policy, String> {
    let rules = settings
        .rules
        .iter()
        .map(|rule| {
            let mut compiled = CompiledRule::compile(rule)?;
            compiled.add_operators(
                rule.teams
                    .iter()
                    .filter_map(|team| teams.get(team))
                    .flatten()
                    .copied(),
            );
            Ok(compiled)
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Policy {
        mode: settings.mode,
        offer_timeout_ms: i64::from(settings.offer_timeout_seconds) * 1000,
        capacity: settings.capacity,
        capacity_overrides: settings
            .capacity_overrides
            .iter()
            .map(|entry| (entry.operator, entry.capacity))
            .collect(),
        rules,
        topics: settings.topics.clone(),
    })
}

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, message)
}

/// Checks settings before they are stored; the error names the first problem. `members` are
/// the live chat's operators and `teams` its teams: rules and overrides may only name them.
pub fn validate(
    settings: &RoutingSettings,
    members: &BTreeSet<OperatorId>,
    teams: &TeamMembership,
) -> Result<Policy, ApiError> {
    if !(MIN_OFFER_TIMEOUT_SECONDS..=MAX_OFFER_TIMEOUT_SECONDS)
        .contains(&settings.offer_timeout_seconds)
    {
        return Err(invalid(format!(
            "offerTimeoutSeconds must be between {MIN_OFFER_TIMEOUT_SECONDS} and {MAX_OFFER_TIMEOUT_SECONDS}."
        )));
    }
    if settings.capacity == Some(0) {
        return Err(invalid(
            "capacity must be at least 1 (or null for unlimited).".to_owned(),
        ));
    }
    let mut seen = BTreeSet::new();
    for (index, entry) in settings.capacity_overrides.iter().enumerate() {
        if !members.contains(&entry.operator) {
            return Err(invalid(format!(
                "capacityOverrides[{index}]: operator {} is not a member of this live chat.",
                entry.operator
            )));
        }
        if !seen.insert(entry.operator) {
            return Err(invalid(format!(
                "capacityOverrides[{index}]: operator {} is listed twice.",
                entry.operator
            )));
        }
        if entry.capacity == Some(0) {
            return Err(invalid(format!(
                "capacityOverrides[{index}]: capacity must be at least 1 (or null for unlimited)."
            )));
        }
    }
    if settings.rules.len() > MAX_RULES {
        return Err(invalid(format!("At most {MAX_RULES} rules are allowed.")));
    }
    for (index, rule) in settings.rules.iter().enumerate() {
        let at = format!("rules[{index}]");
        let name = rule.name.trim();
        if name.is_empty() || name.chars().count() > MAX_RULE_NAME_CHARS {
            return Err(invalid(format!(
                "{at}: a rule needs a name of 1 to {MAX_RULE_NAME_CHARS} characters."
            )));
        }
        if rule.conditions.is_empty() || rule.conditions.len() > MAX_CONDITIONS {
            return Err(invalid(format!(
                "{at} ({name}): a rule needs 1 to {MAX_CONDITIONS} conditions."
            )));
        }
        for (position, condition) in rule.conditions.iter().enumerate() {
            let at = format!("{at}.conditions[{position}]");
            let value = condition.value.trim();
            if value.is_empty() || value.chars().count() > MAX_CONDITION_VALUE_CHARS {
                return Err(invalid(format!(
                    "{at}: the value must have 1 to {MAX_CONDITION_VALUE_CHARS} characters."
                )));
            }
            if condition.field == RuleField::Channel
                && !(condition.matching == RuleMatch::Equals && value.eq_ignore_ascii_case("web"))
            {
                return Err(invalid(format!(
                    "{at}: the channel condition must be \"equals\" one of: web."
                )));
            }
        }
        if let Err(error) = CompiledRule::compile(rule) {
            return Err(invalid(format!(
                "{at} ({name}): the regular expression does not compile: {error}"
            )));
        }
        if rule.operators.is_empty() && rule.teams.is_empty() {
            return Err(invalid(format!(
                "{at} ({name}): route to at least one operator or team."
            )));
        }
        if let Some(unknown) = rule.teams.iter().find(|team| !teams.contains_key(team)) {
            return Err(invalid(format!(
                "{at} ({name}): team {unknown} is not a team of this live chat."
            )));
        }
        if let Some(stranger) = rule
            .operators
            .iter()
            .find(|operator| !members.contains(operator))
        {
            return Err(invalid(format!(
                "{at} ({name}): operator {stranger} is not a member of this live chat."
            )));
        }
    }
    if settings.topics.len() > MAX_TOPICS {
        return Err(invalid(format!("At most {MAX_TOPICS} topics are allowed.")));
    }
    let mut topics = BTreeSet::new();
    for (index, topic) in settings.topics.iter().enumerate() {
        let trimmed = topic.trim();
        if trimmed.is_empty() || trimmed != topic || topic.chars().count() > MAX_TOPIC_CHARS {
            return Err(invalid(format!(
                "topics[{index}]: a topic needs 1 to {MAX_TOPIC_CHARS} characters, without surrounding spaces."
            )));
        }
        if !topics.insert(topic.to_lowercase()) {
            return Err(invalid(format!(
                "topics[{index}]: \"{topic}\" is listed twice."
            )));
        }
    }
    policy(settings, teams).map_err(invalid)
}
