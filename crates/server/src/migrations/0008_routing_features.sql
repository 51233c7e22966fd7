-- Routing features (issue 3, session 2): teams, what rules can see of a visitor, and fairness
-- that survives a restart.

-- B04/B22: teams of a live chat; rules route to them, chats are transferred to them.
CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    live_chat_id INTEGER NOT NULL REFERENCES live_chats(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (live_chat_id, name COLLATE NOCASE)
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, operator_id)
);
CREATE INDEX team_members_by_operator ON team_members(operator_id);

-- B04/B05: what the visitor told us (topic) or their browser did (language, time zone), and the
-- approximate location derived from them, per chat: rules match on them and the offer shows them.
ALTER TABLE chats ADD COLUMN topic TEXT;
ALTER TABLE chats ADD COLUMN language TEXT;
ALTER TABLE chats ADD COLUMN time_zone TEXT;
ALTER TABLE chats ADD COLUMN country TEXT;
ALTER TABLE chats ADD COLUMN location TEXT;

-- The country a trusted reverse proxy reported (e.g. CF-IPCountry) when the visitor session was
-- opened; it takes precedence over the time zone guess.
ALTER TABLE visitors ADD COLUMN proxy_country TEXT;

-- B05: when each operator was last offered a chat, so "least recently offered" survives a restart.
ALTER TABLE operators ADD COLUMN last_offered_at INTEGER;
