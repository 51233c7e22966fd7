//! Unread escalation through the core (B12, B13): tell the server how far the operator has read
//! a chat, and subscribe to or unsubscribe from a chat's escalations. The server decides who
//! is alerted; the attention logic turns its `UnreadEscalation` events into notifications.

use switchboard_protocol::{ChatId, MarkRead, SubscribeChat, UnsubscribeChat};

use crate::{ConnectionState, Core, CoreError, lock};

impl Core {
    /// B12: reports the chat read up to its newest cached message, so it stops escalating.
    /// Only while connected: a read mark is not worth a queued command, and the next opening of
    /// the chat reports it again.
    pub(crate) async fn report_read(&self, chat: ChatId) {
        if *self.inner.connection.borrow() != ConnectionState::Connected {
            return;
        }
        let up_to = match lock(&self.inner.cache).last_message(chat) {
            Ok(Some(up_to)) => up_to,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, "could not read the cache for a read mark");
                return;
            }
        };
        if let Err(error) = self.inner.request(MarkRead { chat, up_to }).await {
            tracing::info!(%error, "could not report the chat read");
        }
    }

    /// B13: receive (`true`) or stop receiving (`false`) this chat's unread escalations.
    pub async fn set_subscribed(&self, chat: ChatId, subscribed: bool) -> Result<(), CoreError> {
        if subscribed {
            self.inner.request(SubscribeChat { chat }).await?;
        } else {
            self.inner.request(UnsubscribeChat { chat }).await?;
        }
        self.remember_subscription(chat, subscribed);
        Ok(())
    }
}
