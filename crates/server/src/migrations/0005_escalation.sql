-- Unread escalation (B12, B13): how far the responsible operator has read a chat's messages,
-- how far its messages were already escalated (once per batch), and who opted out. Members are
-- subscribed by default, so only the opt-outs are stored.
ALTER TABLE chats ADD COLUMN read_up_to INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN escalated_up_to INTEGER NOT NULL DEFAULT 0;

CREATE TABLE chat_unsubscriptions (
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, operator_id)
);
