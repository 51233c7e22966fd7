-- Routing engine (issue 3): routing switch, durable timers, per-live-chat settings, audit trail.

-- B07: the routing on/off switch, and when the grace period after the last disconnect ends.
ALTER TABLE operators ADD COLUMN routing INTEGER NOT NULL DEFAULT 1;
ALTER TABLE operators ADD COLUMN offline_at INTEGER;
-- What the grace period took away (online or away), restored when the operator reconnects.
ALTER TABLE operators ADD COLUMN availability_before_grace TEXT;

-- B05/B08: the current offer and its deadline, and when a pending chat whose visitor went away
-- is abandoned. Stored so a restart resumes the timers.
ALTER TABLE chats ADD COLUMN offer_operator_id INTEGER REFERENCES operators(id) ON DELETE SET NULL;
ALTER TABLE chats ADD COLUMN offer_deadline INTEGER;
ALTER TABLE chats ADD COLUMN abandon_at INTEGER;

-- B04/B05/B06: a live chat's routing settings (mode, countdown, capacity, rules) as validated
-- JSON (`RoutingSettings`); a live chat without a row uses the defaults.
CREATE TABLE routing_settings (
    live_chat_id INTEGER PRIMARY KEY REFERENCES live_chats(id) ON DELETE CASCADE,
    settings TEXT NOT NULL
);

-- Each chat's routing history for supervisors and analytics.
CREATE TABLE routing_history (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    operator_id INTEGER REFERENCES operators(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX routing_history_by_chat ON routing_history(chat_id, id);
