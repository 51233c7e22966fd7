-- Foundation schema. Timestamps are milliseconds since the Unix epoch, UTC.

CREATE TABLE operators (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    availability TEXT NOT NULL DEFAULT 'online' CHECK (availability IN ('online', 'away', 'offline'))
);

CREATE TABLE live_chats (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    embed_key TEXT NOT NULL UNIQUE
);

CREATE TABLE memberships (
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    live_chat_id INTEGER NOT NULL REFERENCES live_chats(id) ON DELETE CASCADE,
    supervisor INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (operator_id, live_chat_id)
);
CREATE INDEX memberships_by_live_chat ON memberships(live_chat_id);

-- Only SHA-256 hashes of tokens are stored; a stolen database yields no usable token.
CREATE TABLE operator_tokens (
    token_hash TEXT PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE visitors (
    id INTEGER PRIMARY KEY,
    live_chat_id INTEGER NOT NULL REFERENCES live_chats(id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    email TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE visitor_tokens (
    token_hash TEXT PRIMARY KEY,
    visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE chats (
    id INTEGER PRIMARY KEY,
    live_chat_id INTEGER NOT NULL REFERENCES live_chats(id) ON DELETE CASCADE,
    visitor_id INTEGER NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'closed', 'abandoned')),
    subject TEXT NOT NULL,
    page_url TEXT,
    responsible_id INTEGER REFERENCES operators(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- A visitor has at most one open chat per live chat; the server relies on this to make a second
-- StartChat return the open chat.
CREATE UNIQUE INDEX chats_one_open_per_visitor ON chats(visitor_id, live_chat_id)
    WHERE state IN ('pending', 'active');
CREATE INDEX chats_by_live_chat ON chats(live_chat_id, state, updated_at);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    author_kind TEXT NOT NULL CHECK (author_kind IN ('visitor', 'operator', 'system')),
    author_operator_id INTEGER REFERENCES operators(id) ON DELETE SET NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'note')),
    body TEXT NOT NULL,
    client_id TEXT,
    sent_at INTEGER NOT NULL
);
CREATE INDEX messages_by_chat ON messages(chat_id, id);

CREATE TABLE chat_mutes (
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, operator_id)
);

-- Per-stream event log ("operator:<id>", "visitor:<id>"), so a reconnecting client can resume.
CREATE TABLE events (
    stream TEXT NOT NULL,
    seq INTEGER NOT NULL,
    payload TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;

-- Outcomes of commands by (actor, client id): a resent command gets its first outcome back.
CREATE TABLE command_log (
    actor TEXT NOT NULL,
    client_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (actor, client_id)
) WITHOUT ROWID;
