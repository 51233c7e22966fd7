//! Chat ratings (B33): the visitor rates their chat thumbs up or down with an optional comment,
//! during the chat or after it ended. One rating per chat; a later one within
//! [`RATING_CHANGE_WINDOW_MS`] of the first replaces it, after that the rating stands.
//!
//! The chat's staff (responsible operator, participants, the live chat's supervisors) get
//! `ChatRated`; every member sees it in the chat's history as a staff-only system note, which
//! also puts it on the ended chat's ticket. Nothing here is sent to any visitor: the rater already
//! has their reply, and other visitors have no path to it. Each rating lands in the audit log.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use rusqlite::{Connection, OptionalExtension, params};
use switchboard_protocol::{
    ApiError, AuditAction, ChatId, ChatRating, ChatState, ErrorCode, LiveChatId,
    MAX_RATING_COMMENT_CHARS, OperatorEvent, OperatorId, RATING_CHANGE_WINDOW_MS, RateChat,
    RatingScore, RatingSettings, Timestamp, Visibility, VisitorId,
};

use crate::http::{AppState, HttpResult, authenticated_operator, json_body, path_id, with_hub};
use crate::hub::{Effects, Hub};
use crate::storage::{self, NewAuthor, StoreError, StoreResult};

fn score_name(score: RatingScore) -> &'static str {
    match score {
        RatingScore::Good => "good",
        RatingScore::Bad => "bad",
    }
}

/// Whether the live chat asks its visitors for ratings.
pub fn rating_enabled(connection: &Connection, live_chat: LiveChatId) -> StoreResult<bool> {
    Ok(connection.query_row(
        "SELECT rating_enabled FROM live_chats WHERE id = ?1",
        [live_chat.0],
        |row| row.get(0),
    )?)
}

/// A stored rating from its `chat_ratings` columns; a score this version does not know (or no
/// row at all) is no rating.
pub(crate) fn rating_from_columns(
    chat: ChatId,
    score: Option<String>,
    comment: Option<String>,
    rated_at: Option<i64>,
) -> Option<ChatRating> {
    let score = match score.as_deref()? {
        "good" => RatingScore::Good,
        "bad" => RatingScore::Bad,
        _ => return None,
    };
    Some(ChatRating {
        chat,
        score,
        comment,
        rated_at: Timestamp(rated_at?),
    })
}

/// The chat's current rating, if its visitor rated it.
pub fn chat_rating(connection: &Connection, chat: ChatId) -> StoreResult<Option<ChatRating>> {
    let columns = connection
        .query_row(
            "SELECT score, comment, rated_at FROM chat_ratings WHERE chat_id = ?1",
            [chat.0],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    Ok(columns
        .and_then(|(score, comment, rated_at)| rating_from_columns(chat, score, comment, rated_at)))
}

/// The text of the staff-only system note, e.g. "Visitor rated: 👍 good — Quick help".
pub fn rating_note(rating: &ChatRating, replaced: bool) -> String {
    let verdict = match rating.score {
        RatingScore::Good => "👍 good",
        RatingScore::Bad => "👎 bad",
    };
    let lead = if replaced {
        "Visitor changed the rating to"
    } else {
        "Visitor rated:"
    };
    match &rating.comment {
        Some(comment) => format!("{lead} {verdict} — {comment}"),
        None => format!("{lead} {verdict}"),
    }
}

/// The comment as stored: trimmed, empty means none, too long is refused.
fn clean_comment(comment: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(comment) = comment else {
        return Ok(None);
    };
    let comment = comment.trim();
    if comment.chars().count() > MAX_RATING_COMMENT_CHARS {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            format!("A rating comment can be at most {MAX_RATING_COMMENT_CHARS} characters long."),
        ));
    }
    Ok((!comment.is_empty()).then(|| comment.to_owned()))
}

/// Who hears of a rating: the responsible operator, the staff who joined, and the live chat's
/// supervisors, each once.
fn chat_staff(
    connection: &Connection,
    chat: ChatId,
    live_chat: LiveChatId,
    responsible: Option<OperatorId>,
) -> StoreResult<Vec<OperatorId>> {
    let mut statement = connection.prepare(
        "SELECT operator_id FROM chat_participants WHERE chat_id = ?1
         UNION SELECT operator_id FROM memberships WHERE live_chat_id = ?2 AND supervisor = 1",
    )?;
    let mut staff = statement
        .query_map(params![chat.0, live_chat.0], |row| {
            row.get::<_, i64>(0).map(OperatorId)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    staff.extend(responsible);
    staff.sort_unstable();
    staff.dedup();
    Ok(staff)
}

fn not_your_chat() -> ApiError {
    // The same answer for a chat that does not exist and another visitor's: a visitor learns
    // nothing about chats that are not theirs.
    ApiError::new(
        ErrorCode::NotFound,
        "There is no such chat of yours to rate.",
    )
}

fn store_rating(
    effects: &mut Effects<'_>,
    visitor: VisitorId,
    command: RateChat,
) -> Result<ChatRating, ApiError> {
    let comment = clean_comment(command.comment)?;
    let chat = storage::chat_row(effects.database, command.chat)?
        .filter(|chat| chat.visitor == visitor)
        .ok_or_else(not_your_chat)?;
    if !rating_enabled(effects.database, chat.live_chat)? {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "This live chat does not take ratings.",
        ));
    }
    if matches!(chat.state, ChatState::Pending | ChatState::Abandoned) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "You can rate the chat once someone has answered it.",
        ));
    }
    let first_rated_at: Option<i64> = effects
        .database
        .query_row(
            "SELECT first_rated_at FROM chat_ratings WHERE chat_id = ?1",
            [chat.id.0],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::from)?;
    if let Some(first) = first_rated_at
        && effects.now.0 - first > RATING_CHANGE_WINDOW_MS
    {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "This chat was rated more than 24 hours ago; that rating stands.",
        ));
    }
    effects
        .database
        .execute(
            "INSERT INTO chat_ratings (chat_id, score, comment, first_rated_at, rated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (chat_id) DO UPDATE SET score = ?2, comment = ?3, rated_at = ?4",
            params![chat.id.0, score_name(command.score), comment, effects.now.0],
        )
        .map_err(StoreError::from)?;
    let rating = ChatRating {
        chat: chat.id,
        score: command.score,
        comment,
        rated_at: effects.now,
    };
    // The audit row names the operator the rating is about; a chat nobody took has none.
    if let Some(responsible) = chat.responsible {
        crate::supervision::record(effects, &chat, responsible, AuditAction::Rated, None)?;
    }
    // A staff-only system note keeps the rating in the chat's history and on its ticket; as a
    // note it can never reach a visitor.
    let note = storage::insert_message(
        effects.database,
        chat.id,
        NewAuthor::System,
        Visibility::Note,
        &rating_note(&rating, first_rated_at.is_some()),
        None,
        effects.now,
    )?;
    effects.message_posted(&chat, &note)?;
    let event = OperatorEvent::ChatRated {
        rating: rating.clone(),
    };
    for operator in chat_staff(effects.database, chat.id, chat.live_chat, chat.responsible)? {
        effects.notify_operator(operator, &event)?;
    }
    Ok(rating)
}

impl Hub {
    /// `VisitorCommand::Rate`: the visitor rates their own chat (B33).
    pub(crate) fn rate_chat(
        &mut self,
        visitor: VisitorId,
        command: RateChat,
    ) -> Result<ChatRating, ApiError> {
        self.transact(|effects| store_rating(effects, visitor, command))
    }

    fn member_rating_settings(
        &self,
        operator: OperatorId,
        live_chat: LiveChatId,
    ) -> Result<RatingSettings, ApiError> {
        if !storage::is_member(self.database(), operator, live_chat)? {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "You are not a member of this live chat.",
            ));
        }
        Ok(RatingSettings {
            enabled: rating_enabled(self.database(), live_chat)?,
        })
    }

    fn save_rating_settings(
        &mut self,
        operator: OperatorId,
        live_chat: LiveChatId,
        settings: RatingSettings,
    ) -> Result<RatingSettings, ApiError> {
        if !storage::is_supervisor(self.database(), operator, live_chat)? {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only a supervisor of this live chat can change its rating settings.",
            ));
        }
        self.transact(|effects| {
            let before = rating_enabled(effects.database, live_chat)?;
            effects
                .database
                .execute(
                    "UPDATE live_chats SET rating_enabled = ?2 WHERE id = ?1",
                    params![live_chat.0, settings.enabled],
                )
                .map_err(StoreError::from)?;
            // Widgets of open chats show or hide "Rate this chat" at once. The switch travels in
            // the chat itself (logged `ChatUpdated`), so a resume or a snapshot says the same;
            // an unchanged switch sends nothing.
            if before != settings.enabled {
                effects.resend_open_chats(live_chat)?;
            }
            Ok(RatingSettings {
                enabled: rating_enabled(effects.database, live_chat)?,
            })
        })
    }
}

/// `GET /api/v1/live-chats/{id}/rating` (member).
pub(crate) async fn get_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(live_chat): Path<String>,
) -> HttpResult<RatingSettings> {
    let operator = authenticated_operator(&state, &headers).await?;
    let live_chat = LiveChatId(path_id(&live_chat, "live chat")?);
    with_hub(&state, move |hub| {
        hub.lock().member_rating_settings(operator, live_chat)
    })
    .await
    .map(axum::Json)
}

/// `POST /api/v1/live-chats/{id}/rating` (supervisor).
pub(crate) async fn save_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(live_chat): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> HttpResult<RatingSettings> {
    let operator = authenticated_operator(&state, &headers).await?;
    let live_chat = LiveChatId(path_id(&live_chat, "live chat")?);
    let settings: RatingSettings = json_body(body)?;
    with_hub(&state, move |hub| {
        hub.lock()
            .save_rating_settings(operator, live_chat, settings)
    })
    .await
    .map(axum::Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_trimmed_emptied_and_limited() {
        assert_eq!(clean_comment(None), Ok(None));
        assert_eq!(clean_comment(Some("   ".into())), Ok(None));
        assert_eq!(
            clean_comment(Some("  thanks \n".into())),
            Ok(Some("thanks".into()))
        );
        let long = "x".repeat(MAX_RATING_COMMENT_CHARS + 1);
        assert_eq!(
            clean_comment(Some(long)).map_err(|error| error.code),
            Err(ErrorCode::TooLarge)
        );
    }

    #[test]
    fn the_note_names_the_verdict_and_the_comment() {
        let rating = ChatRating {
            chat: ChatId(1),
            score: RatingScore::Good,
            comment: Some("Quick".into()),
            rated_at: switchboard_protocol::Timestamp(0),
        };
        assert_eq!(
            rating_note(&rating, false),
            "Visitor rated: 👍 good — Quick"
        );
        let changed = ChatRating {
            score: RatingScore::Bad,
            comment: None,
            ..rating
        };
        assert_eq!(
            rating_note(&changed, true),
            "Visitor changed the rating to 👎 bad"
        );
    }
}
