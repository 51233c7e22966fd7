-- Local search (B42) over message history in every chat, bounded by the results returned rather
-- than by the matches: the query asks for the newest rows first (`ORDER BY rowid DESC LIMIT n`),
-- which FTS5 answers by walking its doclists backwards and stopping early.
--
-- Contentless (the text lives in `messages`) with `contentless_delete` so edits and deletions
-- remove their old tokens without the old text. The rowid is the message id. `chat` holds one
-- token per message ("c" and the chat id), so a search inside the open chat intersects with
-- that chat's short doclist instead of filtering every match. `prefix` keeps 1-3 character
-- type-ahead prefixes as single doclists; longer prefixes are expanded through
-- `search_terms` into a few exact terms (FTS5 would otherwise merge every matching doclist
-- before returning the first row).
CREATE VIRTUAL TABLE messages_search USING fts5(
    body,
    chat,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

-- Every word ever indexed in a message body, folded like the tokenizer folds it. Only looked
-- up by prefix range; a word no message holds any more just expands to a term matching nothing.
CREATE TABLE search_terms (
    term TEXT PRIMARY KEY
) WITHOUT ROWID;

INSERT INTO messages_search (rowid, body, chat)
    SELECT id, json_extract(message, '$.body'), 'c' || chat FROM messages;

-- The tokenizer's own terms of the history indexed above.
CREATE VIRTUAL TABLE temp.messages_search_vocabulary USING fts5vocab(main, messages_search, 'col');
INSERT OR IGNORE INTO search_terms (term)
    SELECT term FROM temp.messages_search_vocabulary WHERE col = 'body';
DROP TABLE temp.messages_search_vocabulary;
