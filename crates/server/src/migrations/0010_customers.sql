-- Customer records (B34): a visitor staff chose to remember, with staff-only notes. The visitor
-- row points at its record, so their later chats (same visitor id) show it.

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    live_chat_id INTEGER NOT NULL REFERENCES live_chats(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT,
    notes TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES operators(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX customers_by_live_chat ON customers(live_chat_id);

ALTER TABLE visitors ADD COLUMN customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL;
