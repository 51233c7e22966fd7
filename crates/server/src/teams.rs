//! Teams (B04, B22): named groups of operators of one live chat. Routing rules route to a team
//! (its members at routing time ring), and a chat can be transferred to a team. Supervisors of
//! the live chat manage them over REST; every member of the live chat gets the new list as a
//! `TeamsChanged` event, and the live chat's pending chats are routed afresh because a rule's
//! target may have changed.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, OptionalExtension, params};
use switchboard_protocol::{
    Ack, ApiError, ErrorCode, LiveChatId, OperatorEvent, OperatorId, Team, TeamId, TeamRequest,
};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;

use crate::http::{AppState, HttpResult, authenticated_operator, json_body, path_id, with_hub};
use crate::hub::{Effects, Hub};
use crate::storage::{self, StoreResult};

pub const MAX_TEAM_NAME_CHARS: usize = 100;
pub const MAX_TEAMS_PER_LIVE_CHAT: usize = 100;

/// Team members by team, for compiling a live chat's routing rules.
pub type TeamMembership = BTreeMap<TeamId, BTreeSet<OperatorId>>;

/// The members of a team, ascending; empty when the team does not exist.
pub fn team_members(connection: &Connection, team: TeamId) -> StoreResult<Vec<OperatorId>> {
    let mut statement = connection.prepare_cached(
        "SELECT operator_id FROM team_members WHERE team_id = ?1 ORDER BY operator_id",
    )?;
    let members = statement
        .query_map([team.0], |row| Ok(OperatorId(row.get(0)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(members)
}

/// One team with its members.
pub fn team(connection: &Connection, team: TeamId) -> StoreResult<Option<Team>> {
    let row = connection
        .query_row(
            "SELECT live_chat_id, name FROM teams WHERE id = ?1",
            [team.0],
            |row| Ok((LiveChatId(row.get(0)?), row.get::<_, String>(1)?)),
        )
        .optional()?;
    let Some((live_chat, name)) = row else {
        return Ok(None);
    };
    Ok(Some(Team {
        id: team,
        live_chat,
        name,
        members: team_members(connection, team)?,
    }))
}

fn teams_where(connection: &Connection, filter: &str, value: i64) -> StoreResult<Vec<Team>> {
    let sql = format!(
        "SELECT id FROM teams WHERE {filter} ORDER BY live_chat_id, name COLLATE NOCASE, id"
    );
    let mut statement = connection.prepare(&sql)?;
    let ids = statement
        .query_map([value], |row| Ok(TeamId(row.get(0)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut teams = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(found) = team(connection, id)? {
            teams.push(found);
        }
    }
    Ok(teams)
}

/// The teams of one live chat, by name.
pub fn teams_of_live_chat(
    connection: &Connection,
    live_chat: LiveChatId,
) -> StoreResult<Vec<Team>> {
    teams_where(connection, "live_chat_id = ?1", live_chat.0)
}

/// The teams of every live chat the operator belongs to, by live chat and name.
pub fn teams_of_operator(connection: &Connection, operator: OperatorId) -> StoreResult<Vec<Team>> {
    teams_where(
        connection,
        "live_chat_id IN (SELECT live_chat_id FROM memberships WHERE operator_id = ?1)",
        operator.0,
    )
}

/// Every team of a live chat with its members, as routing rules resolve them.
pub fn membership(connection: &Connection, live_chat: LiveChatId) -> StoreResult<TeamMembership> {
    Ok(teams_of_live_chat(connection, live_chat)?
        .into_iter()
        .map(|team| (team.id, team.members.into_iter().collect()))
        .collect())
}

fn bad_request(message: String) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, message)
}

fn not_found_team() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "There is no such team.")
}

/// Checks a team request against the live chat; returns the trimmed name and sorted members.
fn validate(
    connection: &Connection,
    live_chat: LiveChatId,
    request: &TeamRequest,
    renaming: Option<TeamId>,
) -> Result<(String, BTreeSet<OperatorId>), ApiError> {
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > MAX_TEAM_NAME_CHARS {
        return Err(bad_request(format!(
            "name: a team needs a name of 1 to {MAX_TEAM_NAME_CHARS} characters."
        )));
    }
    let live_chat_members: BTreeSet<OperatorId> = storage::members(connection, live_chat)?
        .into_iter()
        .collect();
    let mut members = BTreeSet::new();
    for (index, operator) in request.members.iter().enumerate() {
        if !live_chat_members.contains(operator) {
            return Err(bad_request(format!(
                "members[{index}]: operator {operator} is not a member of this live chat."
            )));
        }
        if !members.insert(*operator) {
            return Err(bad_request(format!(
                "members[{index}]: operator {operator} is listed twice."
            )));
        }
    }
    let clash: Option<i64> = connection
        .query_row(
            "SELECT id FROM teams WHERE live_chat_id = ?1 AND name = ?2 COLLATE NOCASE AND id IS NOT ?3",
            params![live_chat.0, name, renaming.map(|team| team.0)],
            |row| row.get(0),
        )
        .optional()
        .map_err(storage::StoreError::from)?;
    if clash.is_some() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("This live chat already has a team called \"{name}\"."),
        ));
    }
    Ok((name.to_owned(), members))
}

fn insert_team(connection: &Connection, live_chat: LiveChatId, name: &str) -> StoreResult<TeamId> {
    connection.execute(
        "INSERT INTO teams (live_chat_id, name) VALUES (?1, ?2)",
        params![live_chat.0, name],
    )?;
    Ok(TeamId(connection.last_insert_rowid()))
}

fn rename_team(connection: &Connection, team: TeamId, name: &str) -> StoreResult<()> {
    connection.execute(
        "UPDATE teams SET name = ?2 WHERE id = ?1",
        params![team.0, name],
    )?;
    Ok(())
}

fn delete_team_row(connection: &Connection, team: TeamId) -> StoreResult<()> {
    connection.execute("DELETE FROM teams WHERE id = ?1", [team.0])?;
    Ok(())
}

fn replace_members(
    connection: &Connection,
    team: TeamId,
    members: &BTreeSet<OperatorId>,
) -> StoreResult<()> {
    connection.execute("DELETE FROM team_members WHERE team_id = ?1", [team.0])?;
    let mut insert =
        connection.prepare("INSERT INTO team_members (team_id, operator_id) VALUES (?1, ?2)")?;
    for operator in members {
        insert.execute([team.0, operator.0])?;
    }
    Ok(())
}

/// After a team of `live_chat` changed: every member hears the new list, and the pending chats
/// are routed again under the recompiled rules.
fn teams_changed(effects: &mut Effects<'_>, live_chat: LiveChatId) -> Result<(), ApiError> {
    for member in storage::members(effects.database, live_chat)? {
        let teams = teams_of_operator(effects.database, member)?;
        effects.notify_operator(member, &OperatorEvent::TeamsChanged { teams })?;
    }
    crate::settings::reroute(effects, live_chat)?;
    Ok(())
}

impl Hub {
    fn check_team_admin(
        &self,
        operator: OperatorId,
        live_chat: LiveChatId,
    ) -> Result<(), ApiError> {
        if storage::is_supervisor(self.database(), operator, live_chat)? {
            return Ok(());
        }
        if storage::is_member(self.database(), operator, live_chat)? {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only a supervisor of this live chat can change its teams.",
            ));
        }
        Err(ApiError::new(
            ErrorCode::NotFound,
            "There is no such live chat.",
        ))
    }

    /// The teams of the operator's live chats (`GET /api/v1/teams`).
    pub fn teams(&self, operator: OperatorId) -> Result<Vec<Team>, ApiError> {
        Ok(teams_of_operator(self.database(), operator)?)
    }

    /// Creates a team in a live chat the operator supervises.
    pub fn create_team(
        &mut self,
        operator: OperatorId,
        live_chat: LiveChatId,
        request: TeamRequest,
    ) -> Result<Team, ApiError> {
        self.check_team_admin(operator, live_chat)?;
        if teams_of_live_chat(self.database(), live_chat)?.len() >= MAX_TEAMS_PER_LIVE_CHAT {
            return Err(bad_request(format!(
                "A live chat can have at most {MAX_TEAMS_PER_LIVE_CHAT} teams."
            )));
        }
        let (name, members) = validate(self.database(), live_chat, &request, None)?;
        self.transact(|effects| {
            let id = insert_team(effects.database, live_chat, &name)?;
            replace_members(effects.database, id, &members)?;
            teams_changed(effects, live_chat)?;
            team(effects.database, id)?.ok_or_else(not_found_team)
        })
    }

    /// Renames a team and replaces its members.
    pub fn update_team(
        &mut self,
        operator: OperatorId,
        team_id: TeamId,
        request: TeamRequest,
    ) -> Result<Team, ApiError> {
        let existing = team(self.database(), team_id)?.ok_or_else(not_found_team)?;
        self.check_team_admin(operator, existing.live_chat)
            .map_err(|error| match error.code {
                ErrorCode::NotFound => not_found_team(),
                _ => error,
            })?;
        let (name, members) =
            validate(self.database(), existing.live_chat, &request, Some(team_id))?;
        self.transact(|effects| {
            rename_team(effects.database, team_id, &name)?;
            replace_members(effects.database, team_id, &members)?;
            teams_changed(effects, existing.live_chat)?;
            team(effects.database, team_id)?.ok_or_else(not_found_team)
        })
    }

    /// Deletes a team no routing rule names any more.
    pub fn delete_team(&mut self, operator: OperatorId, team_id: TeamId) -> Result<Ack, ApiError> {
        let existing = team(self.database(), team_id)?.ok_or_else(not_found_team)?;
        self.check_team_admin(operator, existing.live_chat)
            .map_err(|error| match error.code {
                ErrorCode::NotFound => not_found_team(),
                _ => error,
            })?;
        let settings = crate::settings::load(self.database(), existing.live_chat)?;
        if let Some((index, rule)) = settings
            .rules
            .iter()
            .enumerate()
            .find(|(_, rule)| rule.teams.contains(&team_id))
        {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "The routing rule rules[{index}] ({}) routes to this team; change the rule first.",
                    rule.name
                ),
            ));
        }
        self.transact(|effects| {
            delete_team_row(effects.database, team_id)?;
            teams_changed(effects, existing.live_chat)?;
            Ok(Ack {})
        })
    }
}

// ----- REST (routes in http.rs) -----

pub(crate) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> HttpResult<Vec<Team>> {
    let operator = authenticated_operator(&state, &headers).await?;
    with_hub(&state, move |hub| hub.lock().teams(operator))
        .await
        .map(axum::Json)
}

pub(crate) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(live_chat): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> HttpResult<Team> {
    let operator = authenticated_operator(&state, &headers).await?;
    let live_chat = LiveChatId(path_id(&live_chat, "live chat")?);
    let request: TeamRequest = json_body(body)?;
    with_hub(&state, move |hub| {
        hub.lock().create_team(operator, live_chat, request)
    })
    .await
    .map(axum::Json)
}

pub(crate) async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(team): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> HttpResult<Team> {
    let operator = authenticated_operator(&state, &headers).await?;
    let team = TeamId(path_id(&team, "team")?);
    let request: TeamRequest = json_body(body)?;
    with_hub(&state, move |hub| {
        hub.lock().update_team(operator, team, request)
    })
    .await
    .map(axum::Json)
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(team): Path<String>,
) -> HttpResult<Ack> {
    let operator = authenticated_operator(&state, &headers).await?;
    let team = TeamId(path_id(&team, "team")?);
    with_hub(&state, move |hub| hub.lock().delete_team(operator, team))
        .await
        .map(axum::Json)
}
