//! Editing and deleting sent messages (B16). Only the author may change a message; staff see
//! every change, the visitor only changes to public messages (a note's edit or deletion goes
//! through the same gate as the note itself, [`storage::visitor_message`], and never reaches them).

use switchboard_protocol::{
    Ack, ApiError, Author, DeleteMessage, EditMessage, ErrorCode, Message, OperatorEvent,
    OperatorId, Visibility, VisitorEvent,
};

use crate::hub::{Hub, check_body};
use crate::storage::{self, ChatRow};

fn not_found_message() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "There is no such message.")
}

impl Hub {
    /// The message and its chat, if the operator wrote it and it has not been deleted.
    fn own_message(
        database: &rusqlite::Connection,
        operator: OperatorId,
        message: switchboard_protocol::MessageId,
    ) -> Result<(Message, ChatRow), ApiError> {
        let message = storage::live_message(database, message)?.ok_or_else(not_found_message)?;
        // A chat outside the operator's live chats hides the message entirely.
        let chat =
            Self::member_chat(database, operator, message.chat).map_err(|_| not_found_message())?;
        match &message.author {
            Author::Operator { id, .. } if *id == operator => Ok((message, chat)),
            _ => Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only the author of a message can edit or delete it.",
            )),
        }
    }

    pub(crate) fn edit_message(
        &mut self,
        operator: OperatorId,
        command: EditMessage,
    ) -> Result<Message, ApiError> {
        check_body(&command.body)?;
        self.transact(|effects| {
            let (message, chat) = Self::own_message(effects.database, operator, command.message)?;
            if message.body == command.body {
                return Ok(message);
            }
            storage::edit_message(effects.database, message.id, &command.body, effects.now)?;
            let edited = Message {
                body: command.body,
                edited_at: Some(effects.now),
                ..message
            };
            effects.notify_members(
                chat.live_chat,
                &OperatorEvent::MessageEdited {
                    message: edited.clone(),
                },
            )?;
            if let Some(visible) = storage::visitor_message(&edited) {
                effects.notify_visitor(
                    chat.visitor,
                    &VisitorEvent::MessageEdited { message: visible },
                )?;
            }
            Ok(edited)
        })
    }

    pub(crate) fn delete_message(
        &mut self,
        operator: OperatorId,
        command: DeleteMessage,
    ) -> Result<Ack, ApiError> {
        let removed = self.transact(|effects| {
            let (message, chat) = Self::own_message(effects.database, operator, command.message)?;
            storage::delete_message(effects.database, message.id, effects.now)?;
            let files = crate::attachments::delete_of_message(effects.database, message.id)?;
            effects.notify_members(
                chat.live_chat,
                &OperatorEvent::MessageDeleted {
                    chat: chat.id,
                    message: message.id,
                },
            )?;
            if message.visibility == Visibility::Public {
                effects.notify_visitor(
                    chat.visitor,
                    &VisitorEvent::MessageDeleted {
                        message: message.id,
                    },
                )?;
            }
            Ok(files)
        })?;
        // After the commit: a crash before this leaves orphan files, swept at the next start.
        if !removed.is_empty()
            && let Some(folder) = crate::attachments::folder_of(self.database())
        {
            crate::attachments::remove_files(&folder, &removed);
        }
        Ok(Ack {})
    }
}
