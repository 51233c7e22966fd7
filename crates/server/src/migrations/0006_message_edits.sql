-- Edit and delete sent messages (B16). A deleted message keeps its row (so ids and event
-- order stay stable) but loses its text, and no history or snapshot lists it again.

ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
