-- The visitor's rating of each chat (B33), as the last `ChatRated` said. A table of its own like
-- `visitor_reads`: a snapshot rebuilds `chats`, but a rating stays true across snapshots.
CREATE TABLE chat_ratings (
    chat INTEGER PRIMARY KEY,
    rated_at INTEGER NOT NULL,
    rating TEXT NOT NULL
);
