-- How far each chat's visitor has read the staff's messages ("Seen"), kept so it survives an
-- app restart. A table of its own rather than a column of `chats`: a snapshot rebuilds `chats`,
-- but read state only ever moves forward and stays true across snapshots.
CREATE TABLE visitor_reads (
    chat INTEGER PRIMARY KEY,
    up_to INTEGER NOT NULL
);
