-- Issue 14: a stored message's chat alerts are a column of its own row.
--
-- The recipients the chat domain chose to alert (REALTIME.md §20.4; those
-- who muted the dialog already left out) are written with the message, in
-- the INSERT that stores it, as a JSON array of user ids (NULL: none). The push dispatcher later expands them
-- into push_outbox rows, one per subscription, in a transaction that also
-- moves push_alert_mark past them (and drops lists longer than about 8
-- ids, which a group message would otherwise carry for good): every alerting message with a seq
-- above the mark is still to expand. Message seqs are assigned by the one
-- writer in commit order, so a reader never sees a seq above one it has
-- not seen yet.
--
-- Why not write the outbox rows in the message's transaction, as before:
-- that INSERT ... SELECT cost about as much writer time as the message
-- itself (12 µs against 6 µs), and the single writer is what bounds the
-- chat's throughput. Alerts of messages that are not stored (no history)
-- still go to push_outbox directly.
ALTER TABLE messages ADD COLUMN alert_to TEXT;

CREATE TABLE push_alert_mark (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT  NOT NULL
);
INSERT INTO push_alert_mark (id, seq) SELECT 1, coalesce(max(seq), 0) FROM messages;
