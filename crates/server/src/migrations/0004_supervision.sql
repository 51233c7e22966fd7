-- Supervision (issue 7): staff who joined a chat visibly besides its responsible operator, and
-- the audit log of monitoring, joining and taking over.

CREATE TABLE chat_participants (
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (chat_id, operator_id)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    live_chat_id INTEGER NOT NULL REFERENCES live_chats(id) ON DELETE CASCADE,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('monitored', 'joined', 'tookOver', 'reassigned', 'invited', 'transferred')),
    previous_operator_id INTEGER REFERENCES operators(id) ON DELETE SET NULL,
    at INTEGER NOT NULL
);
CREATE INDEX audit_log_by_live_chat ON audit_log(live_chat_id, id);

-- Open invitations (B23) and transfers (B22): one per chat and invited operator.
CREATE TABLE chat_invitations (
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('invite', 'transfer')),
    from_operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    note TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (chat_id, operator_id)
);

-- Reply lock (B15): who locked public replies to a chat.
CREATE TABLE chat_reply_locks (
    chat_id INTEGER PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE
);

-- Tickets (B24, B25): one per chat, created when it ends.
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL UNIQUE REFERENCES chats(id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'pending', 'solved')),
    assignee_id INTEGER REFERENCES operators(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Active chats whose visitor has no open connection, since when (B25: closing the page ends the
-- chat after an inactivity timeout).
CREATE TABLE visitor_away (
    chat_id INTEGER PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
    since INTEGER NOT NULL
);
