-- Operator events stored once, however many operators receive them (issue 3). One ring-all chat
-- used to write a row per member and event (about 1,500 rows for 500 operators); now an event
-- every member of a live chat gets is one row with audience 'live_chat:<id>', an operator's own
-- event has audience 'operator:<id>', and a ring that sounds for only some members lists them in
-- `recipients` (',3,5,8,'). An operator's stream is the merge, in id order, of their own audience
-- and their live chats' audiences; the id is the `seq` on the wire, so it is not dense per
-- operator and each frame names the previous event of the recipient's stream (`prev`).
CREATE TABLE operator_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    audience TEXT NOT NULL,
    recipients TEXT,
    payload TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX operator_events_by_audience ON operator_events(audience, id);

-- Events up to `trimmed_through` may have been trimmed: a client behind it gets a snapshot.
CREATE TABLE operator_event_log (
    trimmed_through INTEGER NOT NULL
);

-- The per-operator streams of the old log end here. The new ids start above every old sequence
-- number, and an old cursor below that point cannot resume (it gets a snapshot).
INSERT INTO operator_event_log (trimmed_through)
    SELECT COALESCE(MAX(seq), 0) FROM events WHERE stream LIKE 'operator:%';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'operator_events', trimmed_through FROM operator_event_log;
DELETE FROM events WHERE stream LIKE 'operator:%';

-- The routing timer asks after every change when the next unread escalation is due (only active
-- chats can escalate); without this index that query scanned every message ever posted, under
-- the hub lock, growing with the history (issue 3).
CREATE INDEX chats_by_state ON chats(state);
