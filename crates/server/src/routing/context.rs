//! What routing rules see of a chat beyond its page (B04) and what the router must remember
//! across restarts (B05): the visitor's pre-chat topic, browser language and time zone, the
//! approximate location derived from them, and when each operator was last offered a chat.
//!
//! Everything here came from a visitor's browser and is hostile until checked: a topic must be
//! one the live chat offers, a language a short language tag, a time zone a short IANA name.
//! Values that fail those checks are dropped (a visitor is not refused a chat because of an odd
//! browser), except a topic not on the list, which the pre-chat form can never send.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use switchboard_protocol::{
    ApiError, Channel, ChatId, ErrorCode, OperatorId, StartChat, Timestamp, VisitorId,
};

use crate::routing::ChatFacts;
use crate::routing::location;
use crate::storage::StoreResult;

const MAX_LANGUAGE_CHARS: usize = 35;
const MAX_TIME_ZONE_CHARS: usize = 64;

/// What a new chat's visitor told us or their browser did, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VisitorContext {
    pub topic: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub country: Option<String>,
    pub location: Option<String>,
}

/// A language tag such as `de-DE` or `zh-Hant-TW`.
fn language_tag(value: &str) -> Option<String> {
    let value = value.trim();
    let valid = !value.is_empty()
        && value.len() <= MAX_LANGUAGE_CHARS
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
        && value.as_bytes()[0].is_ascii_alphabetic();
    valid.then(|| value.replace('_', "-"))
}

/// An IANA time zone name such as `America/Argentina/Buenos_Aires` or `Etc/GMT+2`.
fn time_zone_name(value: &str) -> Option<String> {
    let value = value.trim();
    let valid = !value.is_empty()
        && value.len() <= MAX_TIME_ZONE_CHARS
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"/_+-".contains(&byte));
    valid.then(|| value.to_owned())
}

/// Checks what a `StartChat` brings besides name and question. `topics` are the live chat's
/// pre-chat topics; `proxy_country` what a trusted proxy reported for this visitor.
pub fn from_start(
    start: &StartChat,
    topics: &[String],
    proxy_country: Option<&str>,
) -> Result<VisitorContext, ApiError> {
    let topic = match start.topic.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(chosen) => Some(
            topics
                .iter()
                .find(|offered| offered.eq_ignore_ascii_case(chosen))
                .cloned()
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::BadRequest,
                        "Please choose one of the topics offered.",
                    )
                })?,
        ),
    };
    let time_zone = start.time_zone.as_deref().and_then(time_zone_name);
    let place = location::locate(proxy_country, time_zone.as_deref());
    Ok(VisitorContext {
        topic,
        language: start.language.as_deref().and_then(language_tag),
        country: place.as_ref().map(|place| place.country_code.clone()),
        location: place.as_ref().map(location::Place::describe),
        time_zone,
    })
}

impl VisitorContext {
    /// What routing rules see of a new chat with this context.
    pub fn facts(&self, page_url: Option<&str>) -> ChatFacts {
        ChatFacts {
            page_url: page_url.map(str::to_owned),
            country: self.country.clone(),
            language: self.language.clone(),
            topic: self.topic.clone(),
            channel: Some(Channel::Web),
        }
    }
}

/// Stores a new chat's context next to it.
pub fn store(connection: &Connection, chat: ChatId, context: &VisitorContext) -> StoreResult<()> {
    connection.execute(
        "UPDATE chats SET topic = ?2, language = ?3, time_zone = ?4, country = ?5, location = ?6
         WHERE id = ?1",
        params![
            chat.0,
            context.topic,
            context.language,
            context.time_zone,
            context.country,
            context.location
        ],
    )?;
    Ok(())
}

/// What routing rules see of a stored chat.
pub fn chat_facts(connection: &Connection, chat: ChatId) -> StoreResult<ChatFacts> {
    let facts = connection.query_row(
        "SELECT page_url, country, language, topic FROM chats WHERE id = ?1",
        [chat.0],
        |row| {
            Ok(ChatFacts {
                page_url: row.get(0)?,
                country: row.get(1)?,
                language: row.get(2)?,
                topic: row.get(3)?,
                channel: Some(Channel::Web),
            })
        },
    )?;
    Ok(facts)
}

/// Remembers the country a trusted proxy reported when the visitor's session opened.
pub fn set_proxy_country(
    connection: &Connection,
    visitor: VisitorId,
    country: Option<&str>,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE visitors SET proxy_country = ?2 WHERE id = ?1",
        params![visitor.0, country],
    )?;
    Ok(())
}

pub fn proxy_country(connection: &Connection, visitor: VisitorId) -> StoreResult<Option<String>> {
    Ok(connection.query_row(
        "SELECT proxy_country FROM visitors WHERE id = ?1",
        [visitor.0],
        |row| row.get(0),
    )?)
}

/// B05 fairness: when the operator was last offered a chat. Like the router's stamp, always
/// later than every stored one, so the order of offers survives a restart even when the wall
/// clock stepped back between them.
pub fn set_last_offered(
    connection: &Connection,
    operator: OperatorId,
    at: Timestamp,
) -> StoreResult<()> {
    connection.execute(
        "UPDATE operators SET last_offered_at =
             MAX(?2, (SELECT COALESCE(MAX(last_offered_at) + 1, ?2) FROM operators))
         WHERE id = ?1",
        params![operator.0, at.0],
    )?;
    Ok(())
}

/// B05 fairness after a restart: every operator's last offer time.
pub fn last_offered(connection: &Connection) -> StoreResult<BTreeMap<OperatorId, Timestamp>> {
    let mut statement = connection
        .prepare("SELECT id, last_offered_at FROM operators WHERE last_offered_at IS NOT NULL")?;
    let rows = statement
        .query_map([], |row| {
            Ok((OperatorId(row.get(0)?), Timestamp(row.get(1)?)))
        })?
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(topic: Option<&str>, language: Option<&str>, time_zone: Option<&str>) -> StartChat {
        StartChat {
            name: "Maria".into(),
            email: None,
            question: "Hi".into(),
            page_url: None,
            topic: topic.map(Into::into),
            language: language.map(Into::into),
            time_zone: time_zone.map(Into::into),
        }
    }

    #[test]
    fn b04_hostile_context_is_dropped_and_unknown_topics_are_refused() {
        let topics = vec!["Billing".to_owned()];
        let context = from_start(
            &start(
                Some("billing"),
                Some("<img src=x>"),
                Some("Europe/Berlin\"; DROP"),
            ),
            &topics,
            None,
        )
        .expect("valid topic");
        assert_eq!(
            context.topic.as_deref(),
            Some("Billing"),
            "stored as offered"
        );
        assert_eq!(context.language, None);
        assert_eq!(context.time_zone, None);
        assert_eq!(context.location, None);
        let refused = from_start(&start(Some("Sales"), None, None), &topics, None)
            .expect_err("a topic not offered");
        assert_eq!(refused.code, ErrorCode::BadRequest);
        let context = from_start(
            &start(None, Some("de-DE"), Some("Europe/Berlin")),
            &[],
            None,
        )
        .expect("context");
        assert_eq!(context.language.as_deref(), Some("de-DE"));
        assert_eq!(context.country.as_deref(), Some("DE"));
        assert_eq!(context.location.as_deref(), Some("Berlin, Germany"));
    }
}
