//! Editing and deleting this operator's own sent messages (B16). The server checks that this
//! operator wrote the message; the core applies the confirmed change to its cache at once (the
//! server's event applies it again, harmlessly) and tells the console.

use switchboard_protocol::{ChatId, DeleteMessage, EditMessage, Message, MessageId, OperatorEvent};

use crate::{Core, CoreError, lock};

impl Core {
    /// Replaces the text of a message this operator sent; the visitor sees the change when the
    /// message is public, colleagues always.
    pub async fn edit_message(
        &self,
        message: MessageId,
        body: String,
    ) -> Result<Message, CoreError> {
        let edited = self.inner.request(EditMessage { message, body }).await?;
        let event = OperatorEvent::MessageEdited {
            message: edited.clone(),
        };
        let applied = lock(&self.inner.cache).apply_local(&event)?;
        self.inner.after_apply(applied);
        Ok(edited)
    }

    /// Deletes a message this operator sent; everyone who saw it sees "message deleted".
    pub async fn delete_message(&self, chat: ChatId, message: MessageId) -> Result<(), CoreError> {
        self.inner.request(DeleteMessage { message }).await?;
        let event = OperatorEvent::MessageDeleted { chat, message };
        let applied = lock(&self.inner.cache).apply_local(&event)?;
        self.inner.after_apply(applied);
        Ok(())
    }
}
