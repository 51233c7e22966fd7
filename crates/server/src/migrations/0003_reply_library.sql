-- The reply library. Canned responses (B30): personal (owner set) or shared by a live chat's
-- staff (live chat set). Knowledge base articles (B31): published per live chat.
CREATE TABLE canned_responses (
    id INTEGER PRIMARY KEY,
    owner_id INTEGER REFERENCES operators(id) ON DELETE CASCADE,
    live_chat_id INTEGER REFERENCES live_chats(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    CHECK ((owner_id IS NULL) <> (live_chat_id IS NULL))
);
CREATE INDEX canned_responses_by_owner ON canned_responses(owner_id);
CREATE INDEX canned_responses_by_live_chat ON canned_responses(live_chat_id);

CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    live_chat_id INTEGER NOT NULL REFERENCES live_chats(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX articles_by_live_chat ON articles(live_chat_id);
