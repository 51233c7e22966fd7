//! Typing indicators both ways. Typing is ephemeral on the wire (`Transient` frames, never in
//! the event log or the cache): the core passes the visitor's typing to the console as it comes
//! and sends this operator's typing without the outbox, since a stale "typing" is worse than
//! a lost one.

use switchboard_protocol::{ChatId, OperatorEvent, SetTyping, Visibility};

use crate::state::CoreEvent;
use crate::{Core, CoreError, Inner};

impl Core {
    /// Tells the server this operator started or stopped typing in a chat's composer. The
    /// visitor sees it only for public replies of staff in the chat; notes stay invisible.
    pub async fn set_typing(
        &self,
        chat: ChatId,
        typing: bool,
        visibility: Visibility,
    ) -> Result<(), CoreError> {
        self.inner
            .request(SetTyping {
                chat,
                typing,
                visibility,
            })
            .await?;
        Ok(())
    }
}

impl Inner {
    /// An event from a `Transient` frame: shown, never applied to the cache.
    pub(crate) fn apply_transient(&self, event: &OperatorEvent) {
        self.apply_site_visitors(event);
        if let OperatorEvent::VisitorTyping { chat, typing } = event {
            self.emit(CoreEvent::VisitorTyping {
                chat: *chat,
                typing: *typing,
            });
        }
    }
}
