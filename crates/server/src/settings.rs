//! A live chat's routing settings (B04, B05, B06): defaults, validation on save with errors a
//! supervisor can act on, and compiling them into the router's [`Policy`].

use std::collections::BTreeSet;

use rusqlite::Connection;
use switchboard_protocol::{
    ApiError, DEFAULT_OFFER_TIMEOUT_SECONDS, ErrorCode, LiveChatId, OperatorId, RoutingMode,
    RoutingSettings, RuleField, RuleMatch,
};

use crate::routing::{CompiledRule, Policy};
use crate::storage::{self, StoreError, StoreResult};

pub const MIN_OFFER_TIMEOUT_SECONDS: u32 = 1;
pub const MAX_OFFER_TIMEOUT_SECONDS: u32 = 600;
const MAX_RULES: usize = 100;
const MAX_CONDITIONS: usize = 20;
const MAX_RULE_NAME_CHARS: usize = 100;
const MAX_CONDITION_VALUE_CHARS: usize = 500;

pub fn defaults() -> RoutingSettings {
    RoutingSettings {
        mode: RoutingMode::RingAll,
        offer_timeout_seconds: DEFAULT_OFFER_TIMEOUT_SECONDS,
        capacity: None,
        capacity_overrides: Vec::new(),
        rules: Vec::new(),
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

/// Compiles settings that were valid when saved.
pub fn policy(settings: &RoutingSettings) -> Result<Policy, String> {
    let rules = settings
        .rules
        .iter()
        .map(CompiledRule::compile)
        .collect::<Result<Vec<_>, _>>()?;
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
    })
}

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, message)
}

/// Checks settings before they are stored; the error names the first problem. `members` are
/// the live chat's operators: rules and overrides may only name them.
pub fn validate(
    settings: &RoutingSettings,
    members: &BTreeSet<OperatorId>,
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
        if rule.operators.is_empty() {
            return Err(invalid(format!(
                "{at} ({name}): route to at least one operator."
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
    policy(settings).map_err(invalid)
}
