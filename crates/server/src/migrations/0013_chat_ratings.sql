-- Chat ratings (B33): the live chat's switch, one rating per chat, and 'rated' in the audit log.

ALTER TABLE live_chats ADD COLUMN rating_enabled INTEGER NOT NULL DEFAULT 1;

CREATE TABLE chat_ratings (
    chat_id INTEGER PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
    score TEXT NOT NULL CHECK (score IN ('good', 'bad')),
    comment TEXT,
    -- The first rating opens the window in which a later one may replace it.
    first_rated_at INTEGER NOT NULL,
    rated_at INTEGER NOT NULL
);

-- SQLite cannot change a CHECK constraint in place: the audit log is rebuilt with 'rated'.
CREATE TABLE audit_log_with_ratings (
    id INTEGER PRIMARY KEY,
    live_chat_id INTEGER NOT NULL REFERENCES live_chats(id) ON DELETE CASCADE,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('monitored', 'joined', 'tookOver', 'reassigned', 'invited', 'transferred', 'rated')),
    previous_operator_id INTEGER REFERENCES operators(id) ON DELETE SET NULL,
    at INTEGER NOT NULL
);
INSERT INTO audit_log_with_ratings (id, live_chat_id, chat_id, operator_id, action, previous_operator_id, at)
    SELECT id, live_chat_id, chat_id, operator_id, action, previous_operator_id, at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_with_ratings RENAME TO audit_log;
CREATE INDEX audit_log_by_live_chat ON audit_log(live_chat_id, id);
