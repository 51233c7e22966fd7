//! Supervision (issue 7): a supervisor monitors a chat invisibly (B21), joins it visibly (B20)
//! or takes it over; every such step lands in the live chat's audit log.
//!
//! Invisibility is structural: monitoring writes an audit row and reads the history, and emits
//! no event at all, so no visitor-side path can mention the monitor. Only staff who joined are
//! participants, and only participants are listed to the visitor.

use rusqlite::{Connection, OptionalExtension, params};
use switchboard_protocol::{
    Ack, AnswerInvitation, ApiError, AuditAction, AuditEntry, Availability, ChatHistory, ChatId,
    ChatState, ChatSummary, ErrorCode, Invitation, InvitationKind, InviteOperator, JoinChat,
    LiveChatId, LockReplies, Message, MonitorChat, OperatorEvent, OperatorId, OperatorRef,
    ReassignChat, StaffLeaveChat, TakeOverChat, Timestamp, TransferChat, Visibility, VisitorEvent,
};

use crate::hub::{Effects, Hub};
use crate::storage::{self, ChatRow, NewAuthor, StoreError, StoreResult};
use switchboard_protocol::{
    DECIDED_INVITATIONS_KEPT_MS, DecidedInvitation, DismissInvitationOutcomes, InvitationOutcome,
    OutgoingInvitation, TeamId, TransferToTeam,
};

/// Whether `operator` joined `chat` visibly (and has not become responsible since).
pub fn is_participant(
    connection: &Connection,
    chat: ChatId,
    operator: OperatorId,
) -> StoreResult<bool> {
    let count: i64 = connection.query_row(
        "SELECT COUNT(*) FROM chat_participants WHERE chat_id = ?1 AND operator_id = ?2",
        [chat.0, operator.0],
        |row| row.get(0),
    )?;
    Ok(count > 0)
}

/// Display names of the staff who joined `chat` besides its responsible operator, in join order.
pub fn participant_names(connection: &Connection, chat: ChatId) -> StoreResult<Vec<String>> {
    let mut statement = connection.prepare(
        "SELECT o.name FROM chat_participants p JOIN operators o ON o.id = p.operator_id
         WHERE p.chat_id = ?1 ORDER BY p.joined_at, p.rowid",
    )?;
    let names = statement
        .query_map([chat.0], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

fn add_participant(
    connection: &Connection,
    chat: ChatId,
    operator: OperatorId,
    now: Timestamp,
) -> StoreResult<()> {
    connection.execute(
        "INSERT OR IGNORE INTO chat_participants (chat_id, operator_id, joined_at) VALUES (?1, ?2, ?3)",
        params![chat.0, operator.0, now.0],
    )?;
    Ok(())
}

fn remove_participant(
    connection: &Connection,
    chat: ChatId,
    operator: OperatorId,
) -> StoreResult<()> {
    connection.execute(
        "DELETE FROM chat_participants WHERE chat_id = ?1 AND operator_id = ?2",
        [chat.0, operator.0],
    )?;
    Ok(())
}

fn action_name(action: AuditAction) -> &'static str {
    match action {
        AuditAction::Monitored => "monitored",
        AuditAction::Joined => "joined",
        AuditAction::TookOver => "tookOver",
        AuditAction::Reassigned => "reassigned",
        AuditAction::Invited => "invited",
        AuditAction::Transferred => "transferred",
        AuditAction::Rated => "rated",
    }
}

fn parse_action(name: &str) -> StoreResult<AuditAction> {
    match name {
        "monitored" => Ok(AuditAction::Monitored),
        "joined" => Ok(AuditAction::Joined),
        "tookOver" => Ok(AuditAction::TookOver),
        "reassigned" => Ok(AuditAction::Reassigned),
        "invited" => Ok(AuditAction::Invited),
        "transferred" => Ok(AuditAction::Transferred),
        "rated" => Ok(AuditAction::Rated),
        other => Err(StoreError::Invalid(format!("unknown audit action {other}"))),
    }
}

/// Writes the audit row for `operator` taking `action` on `chat` now.
pub(crate) fn record(
    effects: &Effects<'_>,
    chat: &ChatRow,
    operator: OperatorId,
    action: AuditAction,
    previous: Option<OperatorId>,
) -> StoreResult<()> {
    effects.database.execute(
        "INSERT INTO audit_log (live_chat_id, chat_id, operator_id, action, previous_operator_id, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            chat.live_chat.0,
            chat.id.0,
            operator.0,
            action_name(action),
            previous.map(|previous| previous.0),
            effects.now.0
        ],
    )?;
    Ok(())
}

fn audit_entries(connection: &Connection, live_chat: LiveChatId) -> StoreResult<Vec<AuditEntry>> {
    let mut statement = connection.prepare(
        "SELECT chat_id, action, operator_id, previous_operator_id, at FROM audit_log
         WHERE live_chat_id = ?1 ORDER BY id",
    )?;
    let rows = statement
        .query_map([live_chat.0], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(chat, action, actor, previous, at)| {
            Ok(AuditEntry {
                chat: ChatId(chat),
                action: parse_action(&action)?,
                actor: storage::operator_ref(connection, OperatorId(actor))?,
                previous: previous
                    .map(|previous| storage::operator_ref(connection, OperatorId(previous)))
                    .transpose()?,
                at: Timestamp(at),
            })
        })
        .collect()
}

/// The chat, when `operator` supervises its live chat. Non-members get NotFound (the chat is
/// invisible to them), members who do not supervise get Forbidden.
fn supervised_chat(
    connection: &Connection,
    operator: OperatorId,
    chat: ChatId,
) -> Result<ChatRow, ApiError> {
    let row = Hub::member_chat(connection, operator, chat)?;
    if !storage::is_supervisor(connection, operator, row.live_chat)? {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "Only a supervisor of this chat's live chat can monitor, join or take it over.",
        ));
    }
    Ok(row)
}

fn summary(connection: &Connection, chat: ChatId) -> Result<ChatSummary, ApiError> {
    storage::chat_summary(connection, chat)?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "There is no such chat."))
}

fn not_active() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "Only an active chat can be joined or taken over; accept a waiting one instead.",
    )
}

/// Posts a public system line (joins, departures, hand-overs) to the chat.
fn post_system_message(effects: &Effects<'_>, chat: &ChatRow, body: &str) -> StoreResult<Message> {
    storage::insert_message(
        effects.database,
        chat.id,
        NewAuthor::System,
        Visibility::Public,
        body,
        None,
        effects.now,
    )
}

/// Posts "<name> joined" and tells the visitor who joined.
fn announce_joined(
    effects: &mut Effects<'_>,
    chat: &ChatRow,
    name: String,
) -> StoreResult<Message> {
    let joined = post_system_message(effects, chat, &format!("{name} joined"))?;
    effects.notify_visitor(chat.visitor, &VisitorEvent::OperatorJoined { name })?;
    Ok(joined)
}

/// Posts "<name> left" and tells the visitor who left.
fn announce_left(effects: &mut Effects<'_>, chat: &ChatRow, name: String) -> StoreResult<Message> {
    let left = post_system_message(effects, chat, &format!("{name} left"))?;
    effects.notify_visitor(chat.visitor, &VisitorEvent::OperatorLeft { name })?;
    Ok(left)
}

/// Makes `operator` responsible for the active chat; the responsible operator is never also
/// listed as a participant.
fn make_responsible(effects: &Effects<'_>, chat: ChatId, operator: OperatorId) -> StoreResult<()> {
    remove_participant(effects.database, chat, operator)?;
    storage::update_chat(
        effects.database,
        chat,
        ChatState::Active,
        Some(operator),
        effects.now,
    )
}

/// The chat moves from `from`'s capacity to `to`'s; the router's decisions are carried out.
fn move_capacity(
    effects: &mut Effects<'_>,
    chat: ChatId,
    from: OperatorId,
    to: OperatorId,
) -> StoreResult<()> {
    let mut decisions = effects.router.accepted(chat, to, effects.now);
    decisions.extend(effects.router.active_chat_finished(from, effects.now));
    effects.apply(decisions)
}

/// Tells the staff the chat changed, then shows them its new messages; returns its summary.
fn publish(
    effects: &mut Effects<'_>,
    chat: &ChatRow,
    messages: &[Message],
) -> Result<ChatSummary, ApiError> {
    let summary = effects.chat_changed(chat)?;
    for message in messages {
        effects.message_posted(chat, message)?;
    }
    Ok(summary)
}

impl Hub {
    /// B21: opens an active or pending chat invisibly. Emits nothing: the only trace is the
    /// audit row.
    pub(crate) fn monitor(
        &mut self,
        operator: OperatorId,
        command: MonitorChat,
    ) -> Result<ChatHistory, ApiError> {
        self.transact(|effects| {
            let chat = supervised_chat(effects.database, operator, command.chat)?;
            if !matches!(chat.state, ChatState::Pending | ChatState::Active) {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "This chat has ended; there is nothing live to monitor.",
                ));
            }
            record(effects, &chat, operator, AuditAction::Monitored, None)?;
            Ok(ChatHistory {
                chat: summary(effects.database, chat.id)?,
                messages: storage::chat_messages(effects.database, chat.id)?,
            })
        })
    }

    /// B20: joins an active chat visibly; the visitor sees "<name> joined" and the joiner may
    /// reply from now on.
    pub(crate) fn join(
        &mut self,
        operator: OperatorId,
        command: JoinChat,
    ) -> Result<ChatSummary, ApiError> {
        self.transact(|effects| {
            let chat = supervised_chat(effects.database, operator, command.chat)?;
            if chat.state != ChatState::Active {
                return Err(not_active());
            }
            if chat.responsible == Some(operator)
                || is_participant(effects.database, chat.id, operator)?
            {
                return summary(effects.database, chat.id);
            }
            let joiner = storage::operator_ref(effects.database, operator)?;
            add_participant(effects.database, chat.id, operator, effects.now)?;
            record(effects, &chat, operator, AuditAction::Joined, None)?;
            let joined = announce_joined(effects, &chat, joiner.name)?;
            publish(effects, &chat, &[joined])
        })
    }

    /// Takes over an active chat: the supervisor becomes responsible; the previous operator
    /// stays as a participant or leaves. The visitor is told either way.
    pub(crate) fn take_over(
        &mut self,
        operator: OperatorId,
        command: TakeOverChat,
    ) -> Result<ChatSummary, ApiError> {
        self.transact(|effects| {
            let chat = supervised_chat(effects.database, operator, command.chat)?;
            let (ChatState::Active, Some(previous)) = (chat.state, chat.responsible) else {
                return Err(not_active());
            };
            if previous == operator {
                return summary(effects.database, chat.id);
            }
            let taker = storage::operator_ref(effects.database, operator)?;
            let before = storage::operator_ref(effects.database, previous)?;
            let already_in = is_participant(effects.database, chat.id, operator)?;
            make_responsible(effects, chat.id, operator)?;
            record(
                effects,
                &chat,
                operator,
                AuditAction::TookOver,
                Some(previous),
            )?;
            let mut messages = vec![post_system_message(
                effects,
                &chat,
                &format!("{} took over the chat from {}", taker.name, before.name),
            )?];
            // The visitor already saw a participant join; only a newcomer is announced.
            if !already_in {
                effects.notify_visitor(
                    chat.visitor,
                    &VisitorEvent::OperatorJoined { name: taker.name },
                )?;
            }
            if command.previous_stays {
                add_participant(effects.database, chat.id, previous, effects.now)?;
            } else {
                messages.push(announce_left(effects, &chat, before.name)?);
            }
            move_capacity(effects, chat.id, previous, operator)?;
            publish(effects, &chat, &messages)
        })
    }

    /// The live chat's audit log, for its supervisors (the only administrative role).
    pub fn audit_log(
        &self,
        operator: OperatorId,
        live_chat: LiveChatId,
    ) -> Result<Vec<AuditEntry>, ApiError> {
        if !storage::is_supervisor(self.database(), operator, live_chat)? {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only a supervisor of this live chat can read its audit log.",
            ));
        }
        Ok(audit_entries(self.database(), live_chat)?)
    }
}

// ----- collaboration: reassign (B27), invite (B23), transfer (B22), reply lock (B15) -----

fn kind_name(kind: InvitationKind) -> &'static str {
    match kind {
        InvitationKind::Invite => "invite",
        InvitationKind::Transfer => "transfer",
    }
}

fn parse_kind(name: &str) -> StoreResult<InvitationKind> {
    match name {
        "invite" => Ok(InvitationKind::Invite),
        "transfer" => Ok(InvitationKind::Transfer),
        other => Err(StoreError::Invalid(format!(
            "unknown invitation kind {other}"
        ))),
    }
}

/// An open invitation: its kind and sender.
struct OpenInvitation {
    kind: InvitationKind,
    from: OperatorId,
    /// Set when the invitation is one of a transfer to a team.
    team: Option<TeamId>,
}

fn take_invitation(
    connection: &Connection,
    chat: ChatId,
    operator: OperatorId,
) -> StoreResult<Option<OpenInvitation>> {
    let found = connection
        .query_row(
            "SELECT kind, from_operator_id, team_id FROM chat_invitations
             WHERE chat_id = ?1 AND operator_id = ?2",
            [chat.0, operator.0],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, Option<i64>>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((kind, from, team)) = found else {
        return Ok(None);
    };
    connection.execute(
        "DELETE FROM chat_invitations WHERE chat_id = ?1 AND operator_id = ?2",
        [chat.0, operator.0],
    )?;
    Ok(Some(OpenInvitation {
        kind: parse_kind(&kind)?,
        from: OperatorId(from),
        team: team.map(TeamId),
    }))
}

fn set_reply_lock(
    connection: &Connection,
    chat: ChatId,
    holder: Option<OperatorId>,
) -> StoreResult<()> {
    match holder {
        Some(holder) => connection.execute(
            "INSERT OR REPLACE INTO chat_reply_locks (chat_id, operator_id) VALUES (?1, ?2)",
            [chat.0, holder.0],
        )?,
        None => connection.execute("DELETE FROM chat_reply_locks WHERE chat_id = ?1", [chat.0])?,
    };
    Ok(())
}

/// Who locked public replies to a chat (B15), if anyone.
pub fn reply_lock(connection: &Connection, chat: ChatId) -> StoreResult<Option<OperatorId>> {
    Ok(connection
        .query_row(
            "SELECT operator_id FROM chat_reply_locks WHERE chat_id = ?1",
            [chat.0],
            |row| row.get::<_, i64>(0),
        )
        .optional()?
        .map(OperatorId))
}

/// Refuses a public reply while someone else holds the chat's reply lock (B15).
pub fn check_reply_lock(
    connection: &Connection,
    chat: ChatId,
    operator: OperatorId,
) -> Result<(), ApiError> {
    match reply_lock(connection, chat)? {
        Some(holder) if holder != operator => {
            let name = storage::operator_name(connection, holder)?;
            Err(ApiError::new(
                ErrorCode::Conflict,
                format!("{name} has locked replies to this chat. Write a note instead."),
            ))
        }
        _ => Ok(()),
    }
}

/// Whether `operator` may speak to the visitor in this chat: responsible or joined.
fn in_chat(connection: &Connection, chat: &ChatRow, operator: OperatorId) -> StoreResult<bool> {
    Ok(chat.responsible == Some(operator) || is_participant(connection, chat.id, operator)?)
}

/// Refuses with `refusal` unless `operator` is responsible for the chat or supervises its live
/// chat.
fn require_responsible_or_supervisor(
    connection: &Connection,
    chat: &ChatRow,
    operator: OperatorId,
    refusal: &str,
) -> Result<(), ApiError> {
    if chat.responsible != Some(operator)
        && !storage::is_supervisor(connection, operator, chat.live_chat)?
    {
        return Err(ApiError::new(ErrorCode::Forbidden, refusal));
    }
    Ok(())
}

/// Refuses with `refusal` unless `operator` is in the chat or supervises its live chat; says
/// whether they supervise it.
fn require_in_chat_or_supervisor(
    connection: &Connection,
    chat: &ChatRow,
    operator: OperatorId,
    refusal: &str,
) -> Result<bool, ApiError> {
    let supervisor = storage::is_supervisor(connection, operator, chat.live_chat)?;
    if !supervisor && !in_chat(connection, chat, operator)? {
        return Err(ApiError::new(ErrorCode::Forbidden, refusal));
    }
    Ok(supervisor)
}

/// Drops the chat's reply lock when `operator` holds it, as they are leaving the chat.
fn release_reply_lock(
    connection: &Connection,
    chat: ChatId,
    operator: OperatorId,
) -> StoreResult<()> {
    if reply_lock(connection, chat)? == Some(operator) {
        set_reply_lock(connection, chat, None)?;
    }
    Ok(())
}

fn active_member_target(
    connection: &Connection,
    chat: &ChatRow,
    target: OperatorId,
) -> Result<OperatorRef, ApiError> {
    if chat.state != ChatState::Active {
        return Err(not_active());
    }
    if !storage::is_member(connection, target, chat.live_chat)? {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "That operator does not work in this chat's live chat.",
        ));
    }
    Ok(storage::operator_ref(connection, target)?)
}

/// The sender's side of an invitation (B23) or a transfer (B22), to a colleague or a team: the
/// sender may send it (anyone in the chat invites; the responsible operator transfers; a
/// supervisor does both) and the chat is active. Returns the chat.
fn sendable_chat(
    connection: &Connection,
    operator: OperatorId,
    chat: ChatId,
    kind: InvitationKind,
) -> Result<ChatRow, ApiError> {
    let chat = Hub::member_chat(connection, operator, chat)?;
    match kind {
        InvitationKind::Invite => {
            require_in_chat_or_supervisor(
                connection,
                &chat,
                operator,
                "Join the chat before inviting someone into it.",
            )?;
        }
        InvitationKind::Transfer => require_responsible_or_supervisor(
            connection,
            &chat,
            operator,
            "Only the operator responsible for this chat or a supervisor can transfer it.",
        )?,
    }
    if chat.state != ChatState::Active {
        return Err(not_active());
    }
    Ok(chat)
}

/// The checks an invitation (B23) and a transfer (B22) to one colleague share: those of
/// [`sendable_chat`], and the target is a member not already where it would put them (and, to
/// take the chat over, online). Returns the chat.
fn checked_invitation(
    connection: &Connection,
    operator: OperatorId,
    chat: ChatId,
    target: OperatorId,
    kind: InvitationKind,
) -> Result<ChatRow, ApiError> {
    let chat = sendable_chat(connection, operator, chat, kind)?;
    let target_ref = active_member_target(connection, &chat, target)?;
    let already = match kind {
        InvitationKind::Invite => {
            in_chat(connection, &chat, target)?.then_some("That operator is already in this chat.")
        }
        InvitationKind::Transfer => (chat.responsible == Some(target))
            .then_some("That operator is already responsible for this chat."),
    };
    if let Some(refusal) = already {
        return Err(ApiError::new(ErrorCode::Conflict, refusal));
    }
    if kind == InvitationKind::Transfer
        && storage::availability(connection, target)? != Availability::Online
    {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("{} is not online.", target_ref.name),
        ));
    }
    Ok(chat)
}

impl Hub {
    /// B27: the responsible operator or a supervisor hands the chat to another member, who is
    /// responsible at once; the previous operator leaves. The visitor is told both.
    pub(crate) fn reassign(
        &mut self,
        operator: OperatorId,
        command: ReassignChat,
    ) -> Result<ChatSummary, ApiError> {
        self.transact(|effects| {
            let chat = Hub::member_chat(effects.database, operator, command.chat)?;
            require_responsible_or_supervisor(
                effects.database,
                &chat,
                operator,
                "Only the operator responsible for this chat or a supervisor can reassign it.",
            )?;
            active_member_target(effects.database, &chat, command.operator)?;
            let Some(previous) = chat.responsible else {
                return Err(not_active());
            };
            if previous == command.operator {
                return summary(effects.database, chat.id);
            }
            record(
                effects,
                &chat,
                operator,
                AuditAction::Reassigned,
                Some(previous),
            )?;
            hand_over(effects, &chat, previous, command.operator)
        })
    }

    /// B23: anyone in the chat (or a supervisor) invites a member; they get an invitation to
    /// accept or decline.
    pub(crate) fn invite(
        &mut self,
        operator: OperatorId,
        command: InviteOperator,
    ) -> Result<Ack, ApiError> {
        self.transact(|effects| {
            let chat = checked_invitation(
                effects.database,
                operator,
                command.chat,
                command.operator,
                InvitationKind::Invite,
            )?;
            record(effects, &chat, operator, AuditAction::Invited, None)?;
            send_invitation(
                effects,
                &chat,
                operator,
                command.operator,
                InvitationKind::Invite,
                None,
                None,
            )?;
            Ok(Ack {})
        })
    }

    /// B22: the responsible operator (or a supervisor) transfers the chat to an online member,
    /// with a staff-only note. Nothing changes until the target accepts.
    pub(crate) fn transfer(
        &mut self,
        operator: OperatorId,
        command: TransferChat,
    ) -> Result<Ack, ApiError> {
        check_transfer_note(&command.note)?;
        self.transact(|effects| {
            let chat = checked_invitation(
                effects.database,
                operator,
                command.chat,
                command.operator,
                InvitationKind::Transfer,
            )?;
            let note = command.note.trim();
            send_invitation(
                effects,
                &chat,
                operator,
                command.operator,
                InvitationKind::Transfer,
                (!note.is_empty()).then_some(note),
                None,
            )?;
            Ok(Ack {})
        })
    }

    /// B22, B23: the invited operator accepts (joins, or becomes responsible for a transfer)
    /// or declines; the sender is told either way.
    pub(crate) fn answer_invitation(
        &mut self,
        operator: OperatorId,
        command: AnswerInvitation,
    ) -> Result<ChatSummary, ApiError> {
        self.transact(|effects| {
            let chat = Hub::member_chat(effects.database, operator, command.chat)?;
            let invitation =
                take_invitation(effects.database, chat.id, operator)?.ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::NotFound,
                        "There is no open invitation to this chat for you.",
                    )
                })?;
            let answerer = storage::operator_ref(effects.database, operator)?;
            let outcome = if command.accept {
                InvitationOutcome::Accepted {
                    by: answerer.clone(),
                }
            } else {
                InvitationOutcome::Declined
            };
            record_outcome(
                effects,
                chat.id,
                operator,
                invitation.kind,
                invitation.from,
                invitation.team,
                &outcome,
            )?;
            if let Some(team) = invitation.team {
                // One of a team transfer: the first acceptance withdraws the colleagues'
                // invitations; a decline only goes back to the sender once nobody is left.
                let others = team_invitations(effects.database, chat.id, team)?;
                if !command.accept && !others.is_empty() {
                    return summary(effects.database, chat.id);
                }
                if command.accept {
                    withdraw_team_invitations(
                        effects,
                        chat.id,
                        team,
                        &others,
                        &invitation,
                        &answerer,
                    )?;
                }
            }
            effects.notify_operator(
                invitation.from,
                &OperatorEvent::InvitationAnswered {
                    chat: chat.id,
                    kind: invitation.kind,
                    operator: answerer.clone(),
                    accepted: command.accept,
                },
            )?;
            if !command.accept {
                return summary(effects.database, chat.id);
            }
            if chat.state != ChatState::Active {
                return Err(not_active());
            }
            match invitation.kind {
                InvitationKind::Invite => {
                    if in_chat(effects.database, &chat, operator)? {
                        return summary(effects.database, chat.id);
                    }
                    add_participant(effects.database, chat.id, operator, effects.now)?;
                    let joined = announce_joined(effects, &chat, answerer.name)?;
                    publish(effects, &chat, &[joined])
                }
                InvitationKind::Transfer => {
                    let Some(previous) = chat.responsible else {
                        return Err(not_active());
                    };
                    if previous == operator {
                        return summary(effects.database, chat.id);
                    }
                    record(
                        effects,
                        &chat,
                        operator,
                        AuditAction::Transferred,
                        Some(previous),
                    )?;
                    hand_over(effects, &chat, previous, operator)
                }
            }
        })
    }

    /// B15: someone who may reply locks (or unlocks) public replies for everyone else.
    pub(crate) fn lock_replies(
        &mut self,
        operator: OperatorId,
        command: LockReplies,
    ) -> Result<Ack, ApiError> {
        self.transact(|effects| {
            let chat = Hub::member_chat(effects.database, operator, command.chat)?;
            let supervisor = require_in_chat_or_supervisor(
                effects.database,
                &chat,
                operator,
                "Join the chat before locking its replies.",
            )?;
            let holder = reply_lock(effects.database, chat.id)?;
            if let Some(holder) = holder
                && holder != operator
                && !supervisor
            {
                let name = storage::operator_name(effects.database, holder)?;
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!("{name} holds the reply lock."),
                ));
            }
            let locked_by = if command.locked {
                set_reply_lock(effects.database, chat.id, Some(operator))?;
                Some(storage::operator_ref(effects.database, operator)?)
            } else {
                set_reply_lock(effects.database, chat.id, None)?;
                None
            };
            effects.notify_members(
                chat.live_chat,
                &OperatorEvent::ReplyLockChanged {
                    chat: chat.id,
                    locked_by,
                },
            )?;
            Ok(Ack {})
        })
    }
}

fn send_invitation(
    effects: &mut Effects<'_>,
    chat: &ChatRow,
    from: OperatorId,
    to: OperatorId,
    kind: InvitationKind,
    note: Option<&str>,
    team: Option<TeamId>,
) -> Result<(), ApiError> {
    effects
        .database
        .execute(
            "INSERT OR REPLACE INTO chat_invitations
             (chat_id, operator_id, kind, from_operator_id, note, created_at, team_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                chat.id.0,
                to.0,
                kind_name(kind),
                from.0,
                note,
                effects.now.0,
                team.map(|team| team.0)
            ],
        )
        .map_err(StoreError::from)?;
    let invitation = Invitation {
        chat: chat.id,
        kind,
        from: storage::operator_ref(effects.database, from)?,
        note: note.map(str::to_owned),
        subject: summary(effects.database, chat.id)?.subject,
        team: team_name(effects.database, team)?,
    };
    effects.notify_operator(to, &OperatorEvent::Invited { invitation })?;
    Ok(())
}

/// The name the invitee sees in "via team Billing" (B22).
fn team_name(connection: &Connection, team: Option<TeamId>) -> StoreResult<Option<String>> {
    let Some(team) = team else {
        return Ok(None);
    };
    Ok(crate::teams::team(connection, team)?.map(|team| team.name))
}

/// Every open invitation and transfer to and from `operator` (B22, B23), oldest first: what a
/// snapshot cannot carry, sent right after it so a reconnect after a long gap loses none.
pub(crate) fn open_invitations(
    connection: &Connection,
    operator: OperatorId,
    now: Timestamp,
) -> StoreResult<OperatorEvent> {
    let mut statement = connection.prepare_cached(
        "SELECT chat_id, operator_id, kind, from_operator_id, note, team_id
         FROM chat_invitations WHERE operator_id = ?1 OR from_operator_id = ?1
         ORDER BY created_at, chat_id, operator_id",
    )?;
    let rows = statement
        .query_map([operator.0], |row| {
            Ok((
                ChatId(row.get(0)?),
                OperatorId(row.get(1)?),
                row.get::<_, String>(2)?,
                OperatorId(row.get(3)?),
                row.get::<_, Option<String>>(4)?,
                row.get::<_, Option<i64>>(5)?.map(TeamId),
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut received = Vec::new();
    let mut sent = Vec::new();
    for (chat, to, kind, from, note, team) in rows {
        let kind = parse_kind(&kind)?;
        // One whose chat ended is no longer open, though its row waits for the timer to
        // record it as "chat ended".
        let Some(chat_summary) = storage::chat_summary(connection, chat)?
            .filter(|summary| summary.state == ChatState::Active)
        else {
            continue;
        };
        if to == operator {
            received.push(Invitation {
                chat,
                kind,
                from: storage::operator_ref(connection, from)?,
                note,
                subject: chat_summary.subject,
                team: team_name(connection, team)?,
            });
        }
        if from == operator {
            sent.push(OutgoingInvitation {
                chat,
                kind,
                to: storage::operator_ref(connection, to)?,
                team,
            });
        }
    }
    Ok(OperatorEvent::OpenInvitations {
        received,
        sent,
        decided: Some(decided_invitations(connection, operator, now)?),
    })
}

/// Makes `to` responsible instead of `from`, who leaves; the visitor is told both.
fn hand_over(
    effects: &mut Effects<'_>,
    chat: &ChatRow,
    from: OperatorId,
    to: OperatorId,
) -> Result<ChatSummary, ApiError> {
    let leaver = storage::operator_ref(effects.database, from)?;
    let joiner = storage::operator_ref(effects.database, to)?;
    let already_in = is_participant(effects.database, chat.id, to)?;
    withdraw_invitations_from(effects, chat.id, &leaver)?;
    remove_participant(effects.database, chat.id, from)?;
    release_reply_lock(effects.database, chat.id, from)?;
    make_responsible(effects, chat.id, to)?;
    let mut messages = vec![announce_left(effects, chat, leaver.name)?];
    if !already_in {
        messages.push(announce_joined(effects, chat, joiner.name)?);
    }
    move_capacity(effects, chat.id, from, to)?;
    publish(effects, chat, &messages)
}

fn first_participant(connection: &Connection, chat: ChatId) -> StoreResult<Option<OperatorId>> {
    Ok(connection
        .query_row(
            "SELECT operator_id FROM chat_participants WHERE chat_id = ?1
             ORDER BY joined_at, rowid LIMIT 1",
            [chat.0],
            |row| row.get::<_, i64>(0),
        )
        .optional()?
        .map(OperatorId))
}

impl Hub {
    /// B24: a staff member leaves. A participant just goes; the responsible operator hands the
    /// chat to the first colleague who joined; the last staff member's leaving ends the chat and
    /// opens its ticket.
    pub(crate) fn staff_leave(
        &mut self,
        operator: OperatorId,
        command: StaffLeaveChat,
    ) -> Result<ChatSummary, ApiError> {
        self.transact(|effects| {
            let chat = Hub::member_chat(effects.database, operator, command.chat)?;
            if chat.state != ChatState::Active || !in_chat(effects.database, &chat, operator)? {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "You are not in this chat.",
                ));
            }
            let leaver = storage::operator_ref(effects.database, operator)?;
            withdraw_invitations_from(effects, chat.id, &leaver)?;
            remove_participant(effects.database, chat.id, operator)?;
            release_reply_lock(effects.database, chat.id, operator)?;
            let mut decisions = Vec::new();
            if chat.responsible == Some(operator) {
                decisions.extend(effects.router.active_chat_finished(operator, effects.now));
                match first_participant(effects.database, chat.id)? {
                    Some(successor) => {
                        make_responsible(effects, chat.id, successor)?;
                        decisions.extend(effects.router.accepted(chat.id, successor, effects.now));
                    }
                    None => {
                        storage::update_chat(
                            effects.database,
                            chat.id,
                            ChatState::Closed,
                            Some(operator),
                            effects.now,
                        )?;
                        crate::tickets::create_for_chat(effects.database, chat.id, effects.now)?;
                    }
                }
            }
            let left = announce_left(effects, &chat, leaver.name)?;
            effects.apply(decisions)?;
            publish(effects, &chat, &[left])
        })
    }
}

// ----- invitation and transfer timeouts (B22, B23) -----

/// The default of `invitation_timeout_seconds`.
pub const DEFAULT_INVITATION_TIMEOUT_MS: i64 = 60_000;

/// When the oldest open invitation or transfer runs out. Derived from stored rows only, so a
/// restarted server resumes the countdown where it was.
pub(crate) fn next_invitation_deadline(
    database: &Connection,
    timeout_ms: i64,
) -> Option<Timestamp> {
    let oldest: Option<i64> = database
        .query_row("SELECT MIN(created_at) FROM chat_invitations", [], |row| {
            row.get(0)
        })
        .optional()
        .ok()
        .flatten()
        .flatten();
    oldest.map(|created_at| Timestamp(created_at + timeout_ms))
}

/// Withdraws the invitations and transfers nobody answered in time: the sender gets the chat
/// back with the reason, the invited operator's invitation disappears.
pub(crate) fn expire_invitations(effects: &mut Effects<'_>, timeout_ms: i64) -> StoreResult<()> {
    let cutoff = effects.now.0 - timeout_ms;
    let expired = {
        let mut statement = effects.database.prepare_cached(
            "SELECT chat_id, operator_id, kind, from_operator_id, team_id FROM chat_invitations
             WHERE created_at <= ?1 ORDER BY created_at, chat_id, operator_id",
        )?;
        statement
            .query_map([cutoff], |row| {
                Ok((
                    ChatId(row.get(0)?),
                    OperatorId(row.get(1)?),
                    row.get::<_, String>(2)?,
                    OperatorId(row.get(3)?),
                    row.get::<_, Option<i64>>(4)?.map(TeamId),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?
    };
    effects.database.execute(
        "DELETE FROM chat_invitations WHERE created_at <= ?1",
        [cutoff],
    )?;
    for (chat, invited, kind, from, team) in expired {
        let kind = parse_kind(&kind)?;
        // An invitation to a chat that ended meanwhile did not time out: both saw the chat end
        // (its `ChatUpserted`), so only the invitee's console needs it withdrawn.
        let live = storage::chat_summary(effects.database, chat)?
            .is_some_and(|summary| summary.state == ChatState::Active);
        let outcome = if live {
            InvitationOutcome::TimedOut
        } else {
            InvitationOutcome::ChatEnded
        };
        record_outcome(effects, chat, invited, kind, from, team, &outcome)?;
        let event = OperatorEvent::InvitationExpired {
            chat,
            kind,
            operator: storage::operator_ref(effects.database, invited)?,
            outcome: Some(outcome),
        };
        if live {
            effects.notify_operator(from, &event)?;
        }
        effects.notify_operator(invited, &event)?;
    }
    Ok(())
}

// ----- transfer to a team (B22) -----

/// The other members who still have an open invitation of this team transfer.
fn team_invitations(
    connection: &Connection,
    chat: ChatId,
    team: TeamId,
) -> StoreResult<Vec<OperatorId>> {
    let mut statement = connection.prepare_cached(
        "SELECT operator_id FROM chat_invitations WHERE chat_id = ?1 AND team_id = ?2
         ORDER BY operator_id",
    )?;
    let operators = statement
        .query_map([chat.0, team.0], |row| Ok(OperatorId(row.get(0)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(operators)
}

/// A colleague accepted the team transfer: the others' invitations give way to "taken by
/// <name>" in their consoles.
fn withdraw_team_invitations(
    effects: &mut Effects<'_>,
    chat: ChatId,
    team: TeamId,
    others: &[OperatorId],
    accepted: &OpenInvitation,
    taker: &OperatorRef,
) -> StoreResult<()> {
    effects.database.execute(
        "DELETE FROM chat_invitations WHERE chat_id = ?1 AND team_id = ?2",
        [chat.0, team.0],
    )?;
    for other in others {
        // The others see "taken by <name>", now or after a snapshot if they were away.
        let outcome = InvitationOutcome::Accepted { by: taker.clone() };
        record_outcome(
            effects,
            chat,
            *other,
            accepted.kind,
            accepted.from,
            Some(team),
            &outcome,
        )?;
        let event = OperatorEvent::InvitationExpired {
            chat,
            kind: InvitationKind::Transfer,
            operator: storage::operator_ref(effects.database, *other)?,
            outcome: Some(outcome),
        };
        effects.notify_operator(*other, &event)?;
    }
    Ok(())
}

impl Hub {
    /// B22: the responsible operator (or a supervisor) transfers the chat to a team of its live
    /// chat: every online member except the current one gets the transfer with the note.
    pub(crate) fn transfer_to_team(
        &mut self,
        operator: OperatorId,
        command: TransferToTeam,
    ) -> Result<Ack, ApiError> {
        check_transfer_note(&command.note)?;
        self.transact(|effects| {
            let chat = sendable_chat(
                effects.database,
                operator,
                command.chat,
                InvitationKind::Transfer,
            )?;
            let team = crate::teams::team(effects.database, command.team)?
                .filter(|team| team.live_chat == chat.live_chat)
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::NotFound,
                        "There is no such team in this chat's live chat.",
                    )
                })?;
            let mut targets = Vec::new();
            for member in crate::teams::team_members(effects.database, team.id)? {
                if Some(member) != chat.responsible
                    && member != operator
                    && storage::is_member(effects.database, member, chat.live_chat)?
                    && storage::availability(effects.database, member)? == Availability::Online
                {
                    targets.push(member);
                }
            }
            if targets.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!("Nobody in {} is online to take this chat.", team.name),
                ));
            }
            let note = command.note.trim();
            for target in targets {
                send_invitation(
                    effects,
                    &chat,
                    operator,
                    target,
                    InvitationKind::Transfer,
                    (!note.is_empty()).then_some(note),
                    Some(team.id),
                )?;
            }
            Ok(Ack {})
        })
    }
}

/// A transfer note (B22), to a colleague or a team, is at most as long as a message.
fn check_transfer_note(note: &str) -> Result<(), ApiError> {
    if note.chars().count() > switchboard_protocol::MAX_MESSAGE_CHARS {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "A transfer note is at most as long as a message.",
        ));
    }
    Ok(())
}

// ----- outcomes of invitations and transfers (B22, B23) -----

fn outcome_name(outcome: &InvitationOutcome) -> (&'static str, Option<OperatorId>) {
    match outcome {
        InvitationOutcome::Accepted { by } => ("accepted", Some(by.id)),
        InvitationOutcome::Declined => ("declined", None),
        InvitationOutcome::TimedOut => ("timedOut", None),
        InvitationOutcome::Withdrawn { by } => ("withdrawn", Some(by.id)),
        InvitationOutcome::ChatEnded => ("chatEnded", None),
    }
}

fn parse_outcome(
    connection: &Connection,
    name: &str,
    by: Option<OperatorId>,
) -> StoreResult<InvitationOutcome> {
    let by_ref = |by: Option<OperatorId>| -> StoreResult<OperatorRef> {
        let by = by.ok_or_else(|| StoreError::Invalid(format!("outcome {name} names nobody")))?;
        storage::operator_ref(connection, by)
    };
    Ok(match name {
        "accepted" => InvitationOutcome::Accepted { by: by_ref(by)? },
        "declined" => InvitationOutcome::Declined,
        "timedOut" => InvitationOutcome::TimedOut,
        "withdrawn" => InvitationOutcome::Withdrawn { by: by_ref(by)? },
        "chatEnded" => InvitationOutcome::ChatEnded,
        other => {
            return Err(StoreError::Invalid(format!(
                "unknown invitation outcome {other}"
            )));
        }
    })
}

/// Stores how one invitation ended, so a snapshot can still say why; outcomes older than the
/// time they are listed go at the same time, keeping the table small.
fn record_outcome(
    effects: &Effects<'_>,
    chat: ChatId,
    invited: OperatorId,
    kind: InvitationKind,
    from: OperatorId,
    team: Option<TeamId>,
    outcome: &InvitationOutcome,
) -> StoreResult<()> {
    let (name, by) = outcome_name(outcome);
    effects.database.execute(
        "DELETE FROM invitation_outcomes WHERE decided_at <= ?1",
        [effects.now.0 - DECIDED_INVITATIONS_KEPT_MS],
    )?;
    effects.database.execute(
        "INSERT INTO invitation_outcomes
             (chat_id, operator_id, from_operator_id, kind, team_id, outcome, by_operator_id,
              decided_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            chat.0,
            invited.0,
            from.0,
            kind_name(kind),
            team.map(|team| team.0),
            name,
            by.map(|by| by.0),
            effects.now.0
        ],
    )?;
    Ok(())
}

/// The sender left the chat or handed it on: what they still had open there no longer stands.
/// The invitees' consoles say "<name> withdrew" at once, or after a snapshot if they were away.
fn withdraw_invitations_from(
    effects: &mut Effects<'_>,
    chat: ChatId,
    sender: &OperatorRef,
) -> StoreResult<()> {
    let open = {
        let mut statement = effects.database.prepare_cached(
            "SELECT operator_id, kind, team_id FROM chat_invitations
             WHERE chat_id = ?1 AND from_operator_id = ?2 ORDER BY operator_id",
        )?;
        statement
            .query_map([chat.0, sender.id.0], |row| {
                Ok((
                    OperatorId(row.get(0)?),
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<i64>>(2)?.map(TeamId),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?
    };
    effects.database.execute(
        "DELETE FROM chat_invitations WHERE chat_id = ?1 AND from_operator_id = ?2",
        [chat.0, sender.id.0],
    )?;
    for (invited, kind, team) in open {
        let kind = parse_kind(&kind)?;
        let outcome = InvitationOutcome::Withdrawn { by: sender.clone() };
        record_outcome(effects, chat, invited, kind, sender.id, team, &outcome)?;
        let event = OperatorEvent::InvitationExpired {
            chat,
            kind,
            operator: storage::operator_ref(effects.database, invited)?,
            outcome: Some(outcome),
        };
        effects.notify_operator(invited, &event)?;
    }
    Ok(())
}

/// The invitations and transfers to and from `operator` decided in the last day and not
/// dismissed, oldest first. Of those sent to them, their own answers are left out: they know.
fn decided_invitations(
    connection: &Connection,
    operator: OperatorId,
    now: Timestamp,
) -> StoreResult<Vec<DecidedInvitation>> {
    let mut statement = connection.prepare_cached(
        "SELECT chat_id, operator_id, from_operator_id, kind, team_id, outcome, by_operator_id,
                decided_at
         FROM invitation_outcomes AS outcome
         WHERE decided_at > ?2
           AND (from_operator_id = ?1
                OR (operator_id = ?1 AND outcome <> 'declined'
                    AND NOT (outcome = 'accepted' AND by_operator_id = ?1)))
           AND NOT EXISTS (SELECT 1 FROM invitation_outcome_dismissals AS dismissal
                           WHERE dismissal.outcome_id = outcome.id AND dismissal.operator_id = ?1)
         ORDER BY decided_at, id",
    )?;
    let rows = statement
        .query_map([operator.0, now.0 - DECIDED_INVITATIONS_KEPT_MS], |row| {
            Ok((
                ChatId(row.get(0)?),
                OperatorId(row.get(1)?),
                OperatorId(row.get(2)?),
                row.get::<_, String>(3)?,
                row.get::<_, Option<i64>>(4)?.map(TeamId),
                row.get::<_, String>(5)?,
                row.get::<_, Option<i64>>(6)?.map(OperatorId),
                Timestamp(row.get(7)?),
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut decided = Vec::with_capacity(rows.len());
    for (chat, to, from, kind, team, outcome, by, decided_at) in rows {
        decided.push(DecidedInvitation {
            chat,
            kind: parse_kind(&kind)?,
            from: storage::operator_ref(connection, from)?,
            to: storage::operator_ref(connection, to)?,
            team,
            outcome: parse_outcome(connection, &outcome, by)?,
            decided_at,
        });
    }
    Ok(decided)
}

impl Hub {
    /// B22, B23: the operator has seen how the invitations and transfers of a chat to and from
    /// them ended; they stay hidden after the next snapshot. Touches nobody else's list.
    pub(crate) fn dismiss_invitation_outcomes(
        &mut self,
        operator: OperatorId,
        command: DismissInvitationOutcomes,
    ) -> Result<Ack, ApiError> {
        self.transact(|effects| {
            effects
                .database
                .execute(
                    "INSERT OR IGNORE INTO invitation_outcome_dismissals (outcome_id, operator_id)
                     SELECT id, ?2 FROM invitation_outcomes
                     WHERE chat_id = ?1 AND (operator_id = ?2 OR from_operator_id = ?2)",
                    [command.chat.0, operator.0],
                )
                .map_err(StoreError::from)?;
            Ok(Ack {})
        })
    }
}
