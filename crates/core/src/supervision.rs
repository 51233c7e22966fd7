//! Supervision through the core (issue 7): monitor a chat invisibly (B21), join it visibly
//! (B20), take it over, and read a live chat's audit log. The server decides who may; the core
//! only asks and applies what comes back.

use serde::{Deserialize, Serialize};
use switchboard_protocol::OutgoingInvitation;
use switchboard_protocol::{
    AnswerInvitation, AuditEntry, ChatHistory, ChatId, ChatState, ChatSummary, EmailTranscript,
    Endpoint, ErrorCode, GetAuditLog, GetTicket, GetTickets, Invitation, InvitationKind,
    InviteOperator, JoinChat, LiveChatId, LockReplies, MonitorChat, OperatorEvent, OperatorId,
    OperatorRef, ReassignChat, StaffLeaveChat, TakeOverChat, Ticket, TicketDetail, TicketUpdate,
    TranscriptSent, TransferChat, UpdateTicket,
};
use switchboard_protocol::{
    Colleague, DecidedInvitation, DismissInvitationOutcomes, GetTeams, InvitationOutcome, Team,
    TeamId, TransferToTeam,
};
use ts_rs::TS;

use crate::{Core, CoreError, CoreEvent, Inner, lock};

/// What became of an invitation or transfer this operator sent (B22, B23).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SentState {
    /// Waiting for the answer; the sender stays responsible meanwhile.
    Waiting,
    Accepted,
    Declined,
    /// Nobody answered within the server's invitation timeout.
    TimedOut,
    /// The chat ended before an answer came.
    ChatEnded,
    /// Answered (or run out) while this operator was away, and the server keeps no outcomes
    /// (one older than this core), so it cannot say which; the chat is still with this
    /// operator. A transfer found taken by its colleague is `Accepted` instead.
    AnsweredWhileAway,
}

/// An invitation or transfer this operator sent, shown in its chat until dismissed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SentInvitation {
    pub chat: ChatId,
    pub kind: InvitationKind,
    /// Who it went to, by display name: the colleague, or the team (then, once accepted, the
    /// colleague who took it).
    pub to: String,
    /// The colleague it went to; `null` for a team.
    pub operator: Option<OperatorId>,
    /// The team it went to (B22).
    pub team: Option<TeamId>,
    pub state: SentState,
}

/// An invitation or transfer to this operator that ended without their answer (B22, B23), live
/// or while they were away, shown with why until dismissed: "Ann withdrew", "timed out", "chat
/// ended", "taken by Bob".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EndedInvitation {
    pub chat: ChatId,
    pub kind: InvitationKind,
    pub from: OperatorRef,
    /// The visitor's pre-chat question.
    pub subject: String,
    /// The team's name when it was one of a transfer to a team.
    pub team: Option<String>,
    pub outcome: InvitationOutcome,
}

/// Who holds a chat's reply lock (B15).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReplyLock {
    pub chat: ChatId,
    pub locked_by: OperatorRef,
}

/// Collaboration facts the console shows (issue 7). Kept in the cache so they survive an app
/// restart; the server's events keep them current.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Collaboration {
    /// Invitations and transfers waiting for this operator's answer, oldest first.
    pub invitations: Vec<Invitation>,
    /// Invitations and transfers this operator sent, with their fate.
    pub sent: Vec<SentInvitation>,
    pub reply_locks: Vec<ReplyLock>,
    /// Chats whose unread escalations this operator stopped (B13).
    pub unsubscribed: Vec<ChatId>,
    /// The other staff of this operator's live chats with their availability and routing
    /// switch, for the invite and transfer picker (B22, B23). Empty in caches written before.
    #[serde(default)]
    pub colleagues: Vec<Colleague>,
    /// Invitations and transfers to this operator that ended without their answer (live or
    /// while they were away), with why, until dismissed. Empty in caches written before.
    #[serde(default)]
    pub ended: Vec<EndedInvitation>,
}

impl Collaboration {
    /// Forgets everything about a chat that is no longer live, except why what this operator
    /// sent got no answer and why an invitation to them ended: those stay until dismissed (or
    /// the next snapshot).
    fn forget_chat(&mut self, chat: ChatId) {
        // An invitation to it says "chat ended", as it would after a snapshot.
        self.close_invitations(
            |invitation| invitation.chat == chat,
            Some(&InvitationOutcome::ChatEnded),
        );
        self.sent.retain_mut(|sent| {
            if sent.chat != chat {
                return true;
            }
            if sent.state == SentState::Waiting {
                sent.state = SentState::ChatEnded;
            }
            sent.state == SentState::ChatEnded
        });
        // Why an invitation ended while away stays until dismissed, like a sent one's fate.
        self.reply_locks.retain(|lock| lock.chat != chat);
        self.unsubscribed
            .retain(|unsubscribed| *unsubscribed != chat);
    }

    fn set_sent_state(
        &mut self,
        chat: ChatId,
        kind: InvitationKind,
        to: &OperatorRef,
        state: SentState,
    ) {
        if let Some(sent) = self.sent.iter_mut().find(|sent| {
            sent.chat == chat
                && sent.kind == kind
                && (sent.team.is_some() || sent.operator == Some(to.id))
        }) {
            // A team's decline or timeout is the team's; an acceptance names who took it.
            if sent.team.is_none() || state == SentState::Accepted {
                sent.to = to.name.clone();
                sent.operator = Some(to.id);
            }
            sent.state = state;
        }
    }

    /// Applies one server event; says whether anything changed.
    pub(crate) fn apply(&mut self, event: &OperatorEvent, me: Option<OperatorId>) -> bool {
        let before = self.clone();
        match event {
            OperatorEvent::Snapshot { chats, .. } => {
                let live: Vec<ChatId> = chats
                    .iter()
                    .filter(|chat| matches!(chat.state, ChatState::Active | ChatState::Pending))
                    .map(|chat| chat.id)
                    .collect();
                // An invitation whose chat ended while away says so; the open invitations that
                // follow the snapshot may name a more precise reason.
                self.close_invitations(
                    |invitation| !live.contains(&invitation.chat),
                    Some(&InvitationOutcome::ChatEnded),
                );
                self.reply_locks.retain(|lock| live.contains(&lock.chat));
                // Outcomes already shown of chats no longer live go; what still waited was
                // decided while this operator was away (the log no longer reaches back, or
                // there would be no snapshot), and the snapshot shows how where it can.
                self.sent
                    .retain(|sent| live.contains(&sent.chat) || sent.state == SentState::Waiting);
                for sent in &mut self.sent {
                    if sent.state == SentState::Waiting {
                        settle_from_snapshot(sent, chats, me);
                    }
                }
            }
            OperatorEvent::ChatUpserted { chat }
                if matches!(chat.state, ChatState::Closed | ChatState::Abandoned) =>
            {
                self.forget_chat(chat.id);
            }
            OperatorEvent::Invited { invitation } => {
                self.invitations.retain(|open| open.chat != invitation.chat);
                self.invitations.push(invitation.clone());
            }
            OperatorEvent::InvitationAnswered {
                chat,
                kind,
                operator,
                accepted,
            } => {
                let state = if *accepted {
                    SentState::Accepted
                } else {
                    SentState::Declined
                };
                self.set_sent_state(*chat, *kind, operator, state);
            }
            OperatorEvent::InvitationExpired {
                chat,
                kind,
                operator,
                outcome,
            } => {
                if Some(operator.id) == me {
                    // Why it ended shows at once, like after a snapshot; an older server that
                    // sends no reason only takes it away. A replay finds it gone: no change.
                    self.close_invitations(|invitation| invitation.chat == *chat, outcome.as_ref());
                } else {
                    let state = match outcome {
                        Some(InvitationOutcome::ChatEnded) => SentState::ChatEnded,
                        _ => SentState::TimedOut,
                    };
                    self.set_sent_state(*chat, *kind, operator, state);
                }
            }
            OperatorEvent::OpenInvitations {
                received,
                sent,
                decided: Some(decided),
            } => self.settle_from_outcomes(received, sent, decided, me),
            OperatorEvent::OpenInvitations {
                received,
                sent,
                decided: None,
            } => {
                self.invitations = received.clone();
                // What is still waiting per the server stays waiting; a waiting one it no longer
                // lists was answered or ran out, and this (older) server keeps no outcome to
                // tell which: it says so until dismissed, like every settled one.
                for mine in &mut self.sent {
                    let open = sent.iter().any(|open| {
                        open.chat == mine.chat
                            && open.kind == mine.kind
                            && match mine.team {
                                Some(team) => open.team == Some(team),
                                None => mine.operator == Some(open.to.id),
                            }
                    });
                    if mine.state == SentState::Waiting && !open {
                        mine.state = SentState::AnsweredWhileAway;
                    }
                }
                self.learn_sent(sent);
            }
            OperatorEvent::ColleaguesChanged { colleagues } => {
                self.colleagues = colleagues.clone();
            }
            OperatorEvent::ColleagueChanged { colleague } => {
                match self
                    .colleagues
                    .iter_mut()
                    .find(|known| known.id == colleague.id)
                {
                    Some(known) => *known = colleague.clone(),
                    None => self.colleagues.push(colleague.clone()),
                }
            }
            OperatorEvent::ReplyLockChanged { chat, locked_by } => {
                self.reply_locks.retain(|lock| lock.chat != *chat);
                if let Some(locked_by) = locked_by {
                    self.reply_locks.push(ReplyLock {
                        chat: *chat,
                        locked_by: locked_by.clone(),
                    });
                }
            }
            _ => {}
        }
        *self != before
    }
}

impl Collaboration {
    /// Takes the open invitations `closes` picks off the list; with an `outcome` they move to
    /// `ended` and say it, without one they are only gone.
    fn close_invitations(
        &mut self,
        closes: impl Fn(&Invitation) -> bool,
        outcome: Option<&InvitationOutcome>,
    ) {
        let (closed, open): (Vec<Invitation>, Vec<Invitation>) = self
            .invitations
            .drain(..)
            .partition(|invitation| closes(invitation));
        self.invitations = open;
        if let Some(outcome) = outcome {
            for invitation in closed {
                self.push_ended(invitation, outcome.clone());
            }
        }
    }

    fn push_ended(&mut self, invitation: Invitation, outcome: InvitationOutcome) {
        self.ended.retain(|ended| ended.chat != invitation.chat);
        self.ended.push(EndedInvitation {
            chat: invitation.chat,
            kind: invitation.kind,
            from: invitation.from,
            subject: invitation.subject,
            team: invitation.team,
            outcome,
        });
    }

    /// Sent from another device (or before the cache was reset): learn what still waits.
    fn learn_sent(&mut self, sent: &[OutgoingInvitation]) {
        for open in sent {
            if self.sent.iter().all(|mine| mine.chat != open.chat) {
                self.sent.push(SentInvitation {
                    chat: open.chat,
                    kind: open.kind,
                    to: open.to.name.clone(),
                    operator: open.team.is_none().then_some(open.to.id),
                    team: open.team,
                    state: SentState::Waiting,
                });
            }
        }
    }

    /// The open invitations after a snapshot from a server that stores outcomes: what I was
    /// invited to and is no longer open ended while I was away, and what I sent and no longer
    /// waits was decided; the server says how for both.
    fn settle_from_outcomes(
        &mut self,
        received: &[Invitation],
        sent: &[OutgoingInvitation],
        decided: &[DecidedInvitation],
        me: Option<OperatorId>,
    ) {
        let to_me = |chat: ChatId, kind: InvitationKind| {
            decided
                .iter()
                .rev()
                .find(|decided| {
                    decided.chat == chat && decided.kind == kind && Some(decided.to.id) == me
                })
                .map(|decided| decided.outcome.clone())
        };
        let previous = std::mem::replace(&mut self.invitations, received.to_vec());
        for invitation in previous {
            if received.iter().any(|open| open.chat == invitation.chat) {
                continue;
            }
            // Not listed: I answered it elsewhere (or dismissed it there): nothing to say.
            if let Some(outcome) = to_me(invitation.chat, invitation.kind) {
                self.push_ended(invitation, outcome);
            }
        }
        // Ended ones the snapshot guessed ("chat ended") take the stored reason.
        for ended in &mut self.ended {
            if let Some(outcome) = to_me(ended.chat, ended.kind) {
                ended.outcome = outcome;
            }
        }
        self.sent.retain_mut(|mine| {
            let open = sent.iter().any(|open| {
                open.chat == mine.chat
                    && open.kind == mine.kind
                    && match mine.team {
                        Some(team) => open.team == Some(team),
                        None => mine.operator == Some(open.to.id),
                    }
            });
            if mine.state != SentState::Waiting || open {
                return true;
            }
            let mut mine_decided = decided.iter().filter(|decided| {
                decided.chat == mine.chat
                    && decided.kind == mine.kind
                    && match mine.team {
                        Some(team) => decided.team == Some(team),
                        None => mine.operator == Some(decided.to.id) && decided.team.is_none(),
                    }
            });
            // A team's transfer was taken if anyone took it; otherwise its last answer counts.
            let outcome = mine_decided
                .clone()
                .find(|decided| matches!(decided.outcome, InvitationOutcome::Accepted { .. }))
                .or_else(|| mine_decided.next_back())
                .map(|decided| decided.outcome.clone());
            match outcome {
                Some(InvitationOutcome::Accepted { by }) => {
                    mine.to = by.name;
                    mine.operator = Some(by.id);
                    mine.state = SentState::Accepted;
                    true
                }
                Some(InvitationOutcome::Declined) => {
                    mine.state = SentState::Declined;
                    true
                }
                Some(InvitationOutcome::TimedOut) => {
                    mine.state = SentState::TimedOut;
                    true
                }
                Some(InvitationOutcome::ChatEnded) => {
                    mine.state = SentState::ChatEnded;
                    true
                }
                // Withdrawn by my leaving the chat, or dismissed from another device: nothing
                // left to tell.
                Some(InvitationOutcome::Withdrawn { .. }) | None => false,
            }
        });
        self.learn_sent(sent);
    }
}

/// Settles a sent invitation that still waited when a snapshot came, from what the snapshot
/// shows: its chat ended, or a transfer's chat now has the colleague (or, for a team, a member)
/// responsible. Anything else waits for the open invitations that follow the snapshot.
fn settle_from_snapshot(sent: &mut SentInvitation, chats: &[ChatSummary], me: Option<OperatorId>) {
    let Some(chat) = chats.iter().find(|chat| chat.id == sent.chat) else {
        sent.state = SentState::ChatEnded;
        return;
    };
    match chat.state {
        ChatState::Closed | ChatState::Abandoned => sent.state = SentState::ChatEnded,
        ChatState::Active if sent.kind == InvitationKind::Transfer => {
            if let Some(responsible) = &chat.responsible
                && Some(responsible.id) != me
                && (sent.team.is_some() || sent.operator == Some(responsible.id))
            {
                sent.state = SentState::Accepted;
                sent.to = responsible.name.clone();
                sent.operator = Some(responsible.id);
            }
        }
        ChatState::Active | ChatState::Pending => {}
    }
}

impl Inner {
    /// Changes the stored collaboration state and tells the console when it changed.
    pub(crate) fn update_collaboration(&self, change: impl FnOnce(&mut Collaboration) -> bool) {
        let changed = {
            let mut cache = lock(&self.cache);
            let mut collaboration = cache.collaboration().unwrap_or_default();
            if !change(&mut collaboration) {
                return;
            }
            if let Err(error) = cache.store_collaboration(&collaboration) {
                tracing::warn!(%error, "could not store the collaboration state");
            }
            collaboration
        };
        self.emit(CoreEvent::Collaboration {
            collaboration: changed,
        });
    }

    /// Keeps invitations, transfers and reply locks current from the server's events.
    pub(crate) fn observe_collaboration(&self, event: &OperatorEvent) {
        if !matches!(
            event,
            OperatorEvent::Snapshot { .. }
                | OperatorEvent::ChatUpserted { .. }
                | OperatorEvent::Invited { .. }
                | OperatorEvent::InvitationAnswered { .. }
                | OperatorEvent::InvitationExpired { .. }
                | OperatorEvent::ReplyLockChanged { .. }
                | OperatorEvent::OpenInvitations { .. }
                | OperatorEvent::ColleaguesChanged { .. }
                | OperatorEvent::ColleagueChanged { .. }
        ) {
            return;
        }
        let me = lock(&self.cache).operator().map(|operator| operator.id);
        self.update_collaboration(|collaboration| collaboration.apply(event, me));
    }

    /// Notes an invitation or transfer just sent to a colleague, waiting for its answer.
    fn record_sent(&self, chat: ChatId, kind: InvitationKind, operator: OperatorId) {
        let name = lock(&self.cache)
            .colleagues()
            .unwrap_or_default()
            .into_iter()
            .find(|colleague| colleague.id == operator)
            .map_or_else(|| format!("#{operator}"), |colleague| colleague.name);
        self.push_sent(SentInvitation {
            chat,
            kind,
            to: name,
            operator: Some(operator),
            team: None,
            state: SentState::Waiting,
        });
    }

    fn push_sent(&self, sent: SentInvitation) {
        self.update_collaboration(|collaboration| {
            collaboration.sent.retain(|open| open.chat != sent.chat);
            collaboration.sent.push(sent);
            true
        });
    }
}

impl Core {
    /// Opens a chat of one of this supervisor's live chats invisibly (B21) and returns its
    /// history. Nobody is told; the history goes into the cache without touching unread counts,
    /// so monitoring marks nothing read. Replies stay refused until [`Core::join`] or
    /// [`Core::take_over`]; notes are allowed.
    pub async fn monitor(&self, chat: ChatId) -> Result<ChatHistory, CoreError> {
        let history = self.inner.request(MonitorChat { chat }).await?;
        lock(&self.inner.cache).store_history(&history)?;
        Ok(history)
    }

    /// Joins a chat visibly (B20): the visitor sees "<name> joined" and this operator may reply.
    pub async fn join(&self, chat: ChatId) -> Result<ChatSummary, CoreError> {
        let summary = self.inner.request(JoinChat { chat }).await?;
        self.inner.apply_summary(&summary);
        Ok(summary)
    }

    /// Takes a chat over: this supervisor becomes responsible; the previous operator stays as a
    /// participant when `previous_stays`, else leaves.
    pub async fn take_over(
        &self,
        chat: ChatId,
        previous_stays: bool,
    ) -> Result<ChatSummary, CoreError> {
        let summary = self
            .inner
            .request(TakeOverChat {
                chat,
                previous_stays,
            })
            .await?;
        self.inner.apply_summary(&summary);
        Ok(summary)
    }

    /// Hands an active chat to another operator at once (B27).
    pub async fn reassign(
        &self,
        chat: ChatId,
        operator: OperatorId,
    ) -> Result<ChatSummary, CoreError> {
        let summary = self.inner.request(ReassignChat { chat, operator }).await?;
        self.inner.apply_summary(&summary);
        Ok(summary)
    }

    /// Invites a colleague into a chat (B23); they answer with [`Core::answer_invitation`].
    pub async fn invite(&self, chat: ChatId, operator: OperatorId) -> Result<(), CoreError> {
        self.inner
            .request(InviteOperator { chat, operator })
            .await?;
        self.inner
            .record_sent(chat, InvitationKind::Invite, operator);
        Ok(())
    }

    /// Transfers a chat to an online colleague with a staff-only note (B22); this operator
    /// stays responsible until they accept.
    pub async fn transfer(
        &self,
        chat: ChatId,
        operator: OperatorId,
        note: String,
    ) -> Result<(), CoreError> {
        self.inner
            .request(TransferChat {
                chat,
                operator,
                note,
            })
            .await?;
        self.inner
            .record_sent(chat, InvitationKind::Transfer, operator);
        Ok(())
    }

    /// Accepts or declines this operator's invitation or transfer of a chat (B22, B23).
    pub async fn answer_invitation(
        &self,
        chat: ChatId,
        accept: bool,
    ) -> Result<ChatSummary, CoreError> {
        let answered = self.inner.request(AnswerInvitation { chat, accept }).await;
        // Answered, or gone (expired, or answered from another device): either way it is no
        // longer open here.
        if answered.is_ok()
            || matches!(&answered, Err(CoreError::Api(error)) if error.code == ErrorCode::NotFound)
        {
            self.inner.update_collaboration(|collaboration| {
                let before = collaboration.invitations.len();
                collaboration
                    .invitations
                    .retain(|invitation| invitation.chat != chat);
                collaboration.invitations.len() != before
            });
        }
        let summary = answered?;
        self.inner.apply_summary(&summary);
        Ok(summary)
    }

    /// Locks or unlocks public replies to a chat for colleagues (B15).
    pub async fn lock_replies(&self, chat: ChatId, locked: bool) -> Result<(), CoreError> {
        self.inner.request(LockReplies { chat, locked }).await?;
        Ok(())
    }

    /// Leaves a chat (B24): a colleague who joined takes over, or, when this operator was the
    /// last staff member, the chat ends and a ticket is opened.
    pub async fn leave_chat(&self, chat: ChatId) -> Result<ChatSummary, CoreError> {
        let summary = self.inner.request(StaffLeaveChat { chat }).await?;
        self.inner.apply_summary(&summary);
        Ok(summary)
    }

    /// The supervision audit log of a live chat this operator supervises.
    pub async fn audit_log(&self, live_chat: LiveChatId) -> Result<Vec<AuditEntry>, CoreError> {
        let token = self.inner.token().ok_or(CoreError::SignedOut)?;
        let path = GetAuditLog::PATH.replace("{id}", &live_chat.to_string());
        self.inner
            .rest::<GetAuditLog>(&path, Some(&token), None::<&()>)
            .await
    }

    /// Tickets of this operator's live chats (B24, B25), newest first.
    pub async fn tickets(&self) -> Result<Vec<Ticket>, CoreError> {
        let token = self.inner.token().ok_or(CoreError::SignedOut)?;
        self.inner
            .rest::<GetTickets>(GetTickets::PATH, Some(&token), None::<&()>)
            .await
    }

    /// One ticket with its transcript (notes included: staff only).
    pub async fn ticket(&self, id: i64) -> Result<TicketDetail, CoreError> {
        let token = self.inner.token().ok_or(CoreError::SignedOut)?;
        let path = GetTicket::PATH.replace("{id}", &id.to_string());
        self.inner
            .rest::<GetTicket>(&path, Some(&token), None::<&()>)
            .await
    }

    /// The end dialog's choices (B25): subject, status and assignee.
    pub async fn update_ticket(&self, id: i64, update: TicketUpdate) -> Result<Ticket, CoreError> {
        let token = self.inner.token().ok_or(CoreError::SignedOut)?;
        let path = UpdateTicket::PATH.replace("{id}", &id.to_string());
        self.inner
            .rest::<UpdateTicket>(&path, Some(&token), Some(&update))
            .await
    }

    /// Emails the visitor the public transcript of a ticket's chat (B25).
    pub async fn email_transcript(&self, id: i64) -> Result<TranscriptSent, CoreError> {
        let token = self.inner.token().ok_or(CoreError::SignedOut)?;
        let path = EmailTranscript::PATH.replace("{id}", &id.to_string());
        self.inner
            .rest::<EmailTranscript>(&path, Some(&token), Some(&()))
            .await
    }
}

impl Core {
    /// Transfers a chat to a team with a staff-only note (B22): it rings for the team's online
    /// members; this operator stays responsible until one accepts.
    pub async fn transfer_to_team(
        &self,
        chat: ChatId,
        team: Team,
        note: String,
    ) -> Result<(), CoreError> {
        self.inner
            .request(TransferToTeam {
                chat,
                team: team.id,
                note,
            })
            .await?;
        self.inner.push_sent(SentInvitation {
            chat,
            kind: InvitationKind::Transfer,
            to: team.name,
            operator: None,
            team: Some(team.id),
            state: SentState::Waiting,
        });
        Ok(())
    }

    /// The teams of this operator's live chats (B22 transfer targets).
    pub async fn teams(&self) -> Result<Vec<Team>, CoreError> {
        let token = self.inner.token().ok_or(CoreError::SignedOut)?;
        self.inner
            .rest::<GetTeams>(GetTeams::PATH, Some(&token), None::<&()>)
            .await
    }

    /// Invitations, transfers, reply locks and unsubscriptions as last known (issue 7).
    pub fn collaboration(&self) -> Collaboration {
        lock(&self.inner.cache).collaboration().unwrap_or_default()
    }

    /// Hides the outcome of a sent invitation or transfer, and why an invitation to this
    /// operator ended, once the operator has seen it. Local only: see
    /// [`Core::dismiss_outcomes`], which also tells the server.
    pub fn dismiss_sent(&self, chat: ChatId) {
        self.inner.update_collaboration(|collaboration| {
            let before = (collaboration.sent.len(), collaboration.ended.len());
            collaboration
                .sent
                .retain(|sent| sent.chat != chat || sent.state == SentState::Waiting);
            collaboration.ended.retain(|ended| ended.chat != chat);
            (collaboration.sent.len(), collaboration.ended.len()) != before
        });
    }

    /// [`Core::dismiss_sent`], and the server stores the dismissal so the outcomes of that
    /// chat are not listed again after the next snapshot (B22, B23). Offline, the local
    /// dismissal still stands; the server may list them again once, after a snapshot.
    pub async fn dismiss_outcomes(&self, chat: ChatId) {
        self.dismiss_sent(chat);
        if let Err(error) = self.inner.request(DismissInvitationOutcomes { chat }).await {
            tracing::info!(%error, "the server did not store the dismissal");
        }
    }

    /// Remembers this operator's B13 choice locally, so the console shows it after a restart.
    pub(crate) fn remember_subscription(&self, chat: ChatId, subscribed: bool) {
        self.inner.update_collaboration(|collaboration| {
            let before = collaboration.unsubscribed.clone();
            collaboration
                .unsubscribed
                .retain(|unsubscribed| *unsubscribed != chat);
            if !subscribed {
                collaboration.unsubscribed.push(chat);
            }
            collaboration.unsubscribed != before
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::Availability;

    const ME: OperatorId = OperatorId(2);

    fn ann() -> OperatorRef {
        OperatorRef {
            id: OperatorId(1),
            name: "Ann Operator".to_owned(),
        }
    }

    fn me() -> OperatorRef {
        OperatorRef {
            id: ME,
            name: "Bob Operator".to_owned(),
        }
    }

    #[test]
    fn b22_b23_expiry_withdraws_my_invitation_and_times_out_what_i_sent() {
        let mut state = Collaboration::default();
        assert!(state.apply(
            &OperatorEvent::Invited {
                invitation: Invitation {
                    chat: ChatId(7),
                    kind: InvitationKind::Transfer,
                    from: ann(),
                    note: None,
                    subject: "Anvil".to_owned(),
                    team: None,
                },
            },
            Some(ME),
        ));
        state.sent.push(SentInvitation {
            chat: ChatId(8),
            kind: InvitationKind::Invite,
            to: ann().name,
            operator: Some(ann().id),
            team: None,
            state: SentState::Waiting,
        });
        let mine_expired = OperatorEvent::InvitationExpired {
            chat: ChatId(7),
            kind: InvitationKind::Transfer,
            operator: me(),
            outcome: Some(InvitationOutcome::TimedOut),
        };
        assert!(state.apply(&mine_expired, Some(ME)));
        assert!(
            state.invitations.is_empty(),
            "my expired invitation is gone"
        );
        assert_eq!(state.ended.len(), 1, "and says why");
        assert_eq!(state.ended[0].outcome, InvitationOutcome::TimedOut);
        let sent_expired = OperatorEvent::InvitationExpired {
            chat: ChatId(8),
            kind: InvitationKind::Invite,
            operator: ann(),
            outcome: Some(InvitationOutcome::TimedOut),
        };
        assert!(state.apply(&sent_expired, Some(ME)));
        assert_eq!(state.sent[0].state, SentState::TimedOut);
        assert_eq!(state.sent[0].to, "Ann Operator");
        assert_eq!(state.ended.len(), 1, "what I sent is no invitation to me");
        // Replayed after a reconnect: nothing changes.
        assert!(!state.apply(&sent_expired, Some(ME)));
        assert!(!state.apply(&mine_expired, Some(ME)));
    }

    fn invited(chat: i64, team: Option<&str>) -> OperatorEvent {
        OperatorEvent::Invited {
            invitation: Invitation {
                chat: ChatId(chat),
                kind: InvitationKind::Transfer,
                from: ann(),
                note: None,
                subject: "Anvil".to_owned(),
                team: team.map(str::to_owned),
            },
        }
    }

    #[test]
    fn b22_b23_an_invitation_withdrawn_live_says_why() {
        let sue = OperatorRef {
            id: OperatorId(3),
            name: "Sue Supervisor".to_owned(),
        };
        let mut state = Collaboration::default();
        for chat in [1, 2] {
            assert!(state.apply(&invited(chat, None), Some(ME)));
        }
        assert!(state.apply(&invited(3, Some("Billing")), Some(ME)));
        let expired = |chat: i64, outcome| OperatorEvent::InvitationExpired {
            chat: ChatId(chat),
            kind: InvitationKind::Transfer,
            operator: me(),
            outcome,
        };
        assert!(state.apply(
            &expired(1, Some(InvitationOutcome::Withdrawn { by: ann() })),
            Some(ME)
        ));
        assert!(state.apply(
            &expired(3, Some(InvitationOutcome::Accepted { by: sue.clone() })),
            Some(ME)
        ));
        // From a server that keeps no outcomes: it only goes away.
        assert!(state.apply(&expired(2, None), Some(ME)));
        assert!(state.invitations.is_empty(), "none is open any more");
        let shown: Vec<(i64, InvitationOutcome, Option<&str>)> = state
            .ended
            .iter()
            .map(|ended| (ended.chat.0, ended.outcome.clone(), ended.team.as_deref()))
            .collect();
        assert_eq!(
            shown,
            vec![
                (1, InvitationOutcome::Withdrawn { by: ann() }, None),
                (3, InvitationOutcome::Accepted { by: sue }, Some("Billing")),
            ]
        );
        assert_eq!(state.ended[0].from, ann());
        assert_eq!(state.ended[0].subject, "Anvil");
    }

    #[test]
    fn b22_b23_an_invitation_whose_chat_ends_live_says_chat_ended() {
        let mut state = Collaboration::default();
        assert!(state.apply(&invited(4, None), Some(ME)));
        use switchboard_protocol::{Channel, Timestamp, VisitorId, VisitorProfile};
        let summary = ChatSummary {
            id: ChatId(4),
            live_chat: LiveChatId(1),
            state: ChatState::Closed,
            channel: Channel::Web,
            visitor: VisitorProfile {
                id: VisitorId(4),
                name: "Wile E.".to_owned(),
                email: None,
                page_url: None,
                location: None,
                country: None,
                language: None,
                time_zone: None,
                topic: None,
            },
            subject: "Anvil".to_owned(),
            responsible: None,
            created_at: Timestamp(4),
            updated_at: Timestamp(4),
            rating: None,
        };
        assert!(state.apply(&OperatorEvent::ChatUpserted { chat: summary }, Some(ME)));
        assert!(state.invitations.is_empty());
        assert_eq!(state.ended.len(), 1);
        assert_eq!(state.ended[0].outcome, InvitationOutcome::ChatEnded);
        // The server's expiry of it later changes nothing.
        assert!(!state.apply(
            &OperatorEvent::InvitationExpired {
                chat: ChatId(4),
                kind: InvitationKind::Transfer,
                operator: me(),
                outcome: Some(InvitationOutcome::ChatEnded),
            },
            Some(ME),
        ));
    }

    #[test]
    fn b22_a_team_transfer_keeps_the_team_name_until_someone_accepts() {
        let mut state = Collaboration::default();
        state.sent.push(SentInvitation {
            chat: ChatId(9),
            kind: InvitationKind::Transfer,
            to: "Billing".to_owned(),
            operator: None,
            team: Some(TeamId(3)),
            state: SentState::Waiting,
        });
        let answered = |accepted| OperatorEvent::InvitationAnswered {
            chat: ChatId(9),
            kind: InvitationKind::Transfer,
            operator: ann(),
            accepted,
        };
        assert!(state.apply(&answered(false), Some(ME)));
        assert_eq!(state.sent[0].state, SentState::Declined);
        assert_eq!(state.sent[0].to, "Billing", "the team declined");
        assert!(state.apply(&answered(true), Some(ME)));
        assert_eq!(state.sent[0].state, SentState::Accepted);
        assert_eq!(state.sent[0].to, "Ann Operator", "who took it");
    }

    #[test]
    fn b22_b23_colleagues_availability_is_replaced_after_a_snapshot_and_updated_live() {
        let mut state = Collaboration::default();
        let bob = |availability, routing| Colleague {
            id: OperatorId(2),
            name: "Bob Operator".to_owned(),
            availability,
            routing,
        };
        assert!(state.apply(
            &OperatorEvent::ColleaguesChanged {
                colleagues: vec![bob(Availability::Online, true)],
            },
            Some(ME),
        ));
        assert!(state.apply(
            &OperatorEvent::ColleagueChanged {
                colleague: bob(Availability::Offline, false),
            },
            Some(ME),
        ));
        assert_eq!(state.colleagues, vec![bob(Availability::Offline, false)]);
        assert!(
            !state.apply(
                &OperatorEvent::ColleagueChanged {
                    colleague: bob(Availability::Offline, false),
                },
                Some(ME),
            ),
            "a replay changes nothing"
        );
    }

    #[test]
    fn b22_b23_open_invitations_after_a_snapshot_replace_what_the_cache_knew() {
        let mut state = Collaboration::default();
        let waiting = |chat: i64| SentInvitation {
            chat: ChatId(chat),
            kind: InvitationKind::Invite,
            to: ann().name,
            operator: Some(ann().id),
            team: None,
            state: SentState::Waiting,
        };
        // Still open on the server, answered meanwhile, and settled before the gap.
        state.sent.push(waiting(1));
        state.sent.push(waiting(2));
        state.sent.push(SentInvitation {
            state: SentState::Declined,
            ..waiting(3)
        });
        let received = Invitation {
            chat: ChatId(7),
            kind: InvitationKind::Transfer,
            from: ann(),
            note: Some("VIP".to_owned()),
            subject: "Anvil".to_owned(),
            team: Some("Billing".to_owned()),
        };
        assert!(state.apply(
            &OperatorEvent::OpenInvitations {
                received: vec![received.clone()],
                sent: vec![
                    OutgoingInvitation {
                        chat: ChatId(1),
                        kind: InvitationKind::Invite,
                        to: ann(),
                        team: None,
                    },
                    OutgoingInvitation {
                        chat: ChatId(4),
                        kind: InvitationKind::Transfer,
                        to: ann(),
                        team: Some(TeamId(3)),
                    },
                ],
                decided: None,
            },
            Some(ME),
        ));
        assert_eq!(state.invitations, vec![received]);
        let chats: Vec<(i64, SentState)> = state
            .sent
            .iter()
            .map(|sent| (sent.chat.0, sent.state))
            .collect();
        assert_eq!(
            chats,
            vec![
                (1, SentState::Waiting),
                // Answered while away: it stays, saying so, until dismissed.
                (2, SentState::AnsweredWhileAway),
                (3, SentState::Declined),
                (4, SentState::Waiting)
            ]
        );
        assert_eq!(state.sent[3].team, Some(TeamId(3)));
        assert_eq!(state.sent[3].operator, None);
    }

    #[test]
    fn b22_b23_stored_outcomes_settle_what_i_sent_after_a_snapshot() {
        use switchboard_protocol::Timestamp;
        let mut state = Collaboration::default();
        let waiting = |chat: i64, team: Option<TeamId>| SentInvitation {
            chat: ChatId(chat),
            kind: InvitationKind::Transfer,
            to: if team.is_some() {
                "Billing".to_owned()
            } else {
                ann().name
            },
            operator: team.is_none().then_some(ann().id),
            team,
            state: SentState::Waiting,
        };
        for chat in 1..=4 {
            state.sent.push(waiting(chat, None));
        }
        state.sent.push(waiting(5, Some(TeamId(3))));
        let sue = OperatorRef {
            id: OperatorId(3),
            name: "Sue Supervisor".to_owned(),
        };
        let decided = |chat: i64, to: OperatorRef, team, outcome| DecidedInvitation {
            chat: ChatId(chat),
            kind: InvitationKind::Transfer,
            from: me(),
            to,
            team,
            outcome,
            decided_at: Timestamp(chat),
        };
        assert!(state.apply(
            &OperatorEvent::OpenInvitations {
                received: Vec::new(),
                sent: Vec::new(),
                decided: Some(vec![
                    decided(1, ann(), None, InvitationOutcome::Declined),
                    decided(2, ann(), None, InvitationOutcome::TimedOut),
                    decided(3, ann(), None, InvitationOutcome::Withdrawn { by: me() }),
                    // Chat 4: dismissed from another device, so not listed.
                    decided(5, ann(), Some(TeamId(3)), InvitationOutcome::Declined),
                    decided(
                        5,
                        sue.clone(),
                        Some(TeamId(3)),
                        InvitationOutcome::Accepted { by: sue.clone() },
                    ),
                ]),
            },
            Some(ME),
        ));
        let shown: Vec<(i64, SentState, &str)> = state
            .sent
            .iter()
            .map(|sent| (sent.chat.0, sent.state, sent.to.as_str()))
            .collect();
        assert_eq!(
            shown,
            vec![
                (1, SentState::Declined, "Ann Operator"),
                (2, SentState::TimedOut, "Ann Operator"),
                (5, SentState::Accepted, "Sue Supervisor"),
            ],
            "no guess: withdrawn by me and dismissed ones go"
        );
    }
}
