-- Visitor retention (B50): the widget opens a visitor session on every page load, so visitors
-- who never chat are pruned after `visitor_retention_days` without activity.
ALTER TABLE visitors ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE visitors SET last_seen_at = MAX(created_at, COALESCE(
    (SELECT MAX(created_at) FROM visitor_tokens WHERE visitor_id = visitors.id), 0));
-- The pruning query walks visitors oldest activity first and skips those with a chat.
CREATE INDEX visitors_by_last_seen ON visitors(last_seen_at);
CREATE INDEX chats_by_visitor ON chats(visitor_id);
-- Deleting a visitor cascades to their tokens; without this each delete scans the table.
CREATE INDEX visitor_tokens_by_visitor ON visitor_tokens(visitor_id);

-- Read state: how far each chat's visitor was last reported to have read, so staff are told
-- once per step forward even across a restart (the operator side is `chats.read_up_to`).
ALTER TABLE chats ADD COLUMN visitor_read_up_to INTEGER NOT NULL DEFAULT 0;
