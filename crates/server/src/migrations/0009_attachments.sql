-- Files attached to messages (B32). The bytes live on disk in the attachments folder next to
-- the database, named by the random id; this table holds what authorises and serves them.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX attachments_by_message ON attachments(message_id);

-- Emoji switches per live chat (B32): the staff's picker and the visitor's, separately.
ALTER TABLE live_chats ADD COLUMN staff_emoji INTEGER NOT NULL DEFAULT 1;
ALTER TABLE live_chats ADD COLUMN visitor_emoji INTEGER NOT NULL DEFAULT 1;
