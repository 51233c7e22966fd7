//! Supervision through the core (issue 7): monitor a chat invisibly (B21), join it visibly
//! (B20), take it over, and read a live chat's audit log. The server decides who may; the core
//! only asks and applies what comes back.

use switchboard_protocol::{
    AnswerInvitation, AuditEntry, ChatHistory, ChatId, ChatSummary, EmailTranscript, Endpoint,
    GetAuditLog, GetTicket, GetTickets, InviteOperator, JoinChat, LiveChatId, LockReplies,
    MonitorChat, OperatorId, ReassignChat, StaffLeaveChat, TakeOverChat, Ticket, TicketDetail,
    TicketUpdate, TranscriptSent, TransferChat, UpdateTicket,
};

use crate::{Core, CoreError, lock};

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
        Ok(())
    }

    /// Accepts or declines this operator's invitation or transfer of a chat (B22, B23).
    pub async fn answer_invitation(
        &self,
        chat: ChatId,
        accept: bool,
    ) -> Result<ChatSummary, CoreError> {
        let summary = self
            .inner
            .request(AnswerInvitation { chat, accept })
            .await?;
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
