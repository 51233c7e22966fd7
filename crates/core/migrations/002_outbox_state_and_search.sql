-- Every command the operator issues goes through the outbox now (replies, notes, accept, mute,
-- end), not only replies. A command the server refused for good keeps its row with the
-- server's reason, so the console can offer "retry" or "discard" instead of losing it.
ALTER TABLE outbox ADD COLUMN failure TEXT;

-- Local search (B42) over chat names, with no network. The rowid is the chat id; the table
-- keeps its own copy of the text since a row is rewritten on every chat update. (A chat's
-- message history is searched by scanning that chat: see `Cache::search`.)
CREATE VIRTUAL TABLE chats_search USING fts5(
    name,
    subject,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO chats_search (rowid, name, subject)
    SELECT id, json_extract(summary, '$.visitor.name'), json_extract(summary, '$.subject')
    FROM chats;
