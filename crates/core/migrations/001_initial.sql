-- The operator's local cache: enough to draw the console before the network answers (D01).
-- Rows hold the wire types as JSON so a protocol addition needs no migration.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE chats (
    id INTEGER PRIMARY KEY,
    summary TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    unread INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    chat INTEGER NOT NULL,
    message TEXT NOT NULL,
    sent_at INTEGER NOT NULL
);
CREATE INDEX messages_by_chat ON messages (chat, id);

-- Chats ringing for this operator right now.
CREATE TABLE ringing (
    chat INTEGER PRIMARY KEY
);

-- Pending chats this operator muted (B02): their Awaiting list.
CREATE TABLE awaiting (
    chat INTEGER PRIMARY KEY
);

-- Chats whose full history was fetched once; later messages arrive as events.
CREATE TABLE loaded_histories (
    chat INTEGER PRIMARY KEY
);

-- Replies not yet confirmed by the server, resent under the same command id (the server's
-- idempotency key) until they are: delivered exactly once, even across restarts (D01).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    frame TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
