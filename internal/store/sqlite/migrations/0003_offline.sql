-- Messages kept for users who were offline when they were routed
-- (REALTIME.md §20.5): the encoded copy, delivered once on the next initial
-- presence, in order.
CREATE TABLE offline (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    stanza     BLOB   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX offline_user ON offline(user_id, id);
