-- Dialogs, per-user dialog state, messages, receipts and search.
-- Times are Unix microseconds; date_sent is Unix seconds (the wire's unit).
CREATE TABLE dialogs (
    id                     TEXT    PRIMARY KEY,          -- 24 lowercase hex, at least one letter
    app_id                 BIGINT  NOT NULL REFERENCES apps(id),
    type                   INTEGER NOT NULL,
    name                   TEXT,
    description            TEXT,
    photo                  TEXT,
    owner_id               BIGINT  NOT NULL,
    allow_preview          INTEGER NOT NULL DEFAULT 0,
    pair_key               TEXT,                         -- type 3: "lowId:highId", unique per app
    subscribers            INTEGER NOT NULL DEFAULT 0,   -- type 4: number of subscribers
    last_message           TEXT,
    last_message_id        TEXT,
    last_message_user_id   BIGINT,
    last_message_date_sent BIGINT,
    last_seq               BIGINT  NOT NULL DEFAULT 0,   -- seq of the newest message
    created_at             BIGINT  NOT NULL,
    updated_at             BIGINT  NOT NULL
);
CREATE UNIQUE INDEX dialogs_app_pair ON dialogs(app_id, pair_key);
CREATE INDEX dialogs_app_type ON dialogs(app_id, type);

-- One row per (dialog, user) that has any state: occupants of types 2 and 3,
-- subscribers of type 4 (member = 1), admins, and users who hid, cleared or
-- muted a dialog they see without membership (type 1).
CREATE TABLE members (
    dialog_id     TEXT    NOT NULL REFERENCES dialogs(id) ON DELETE CASCADE,
    user_id       BIGINT  NOT NULL,
    member        INTEGER NOT NULL DEFAULT 0,
    member_since  BIGINT  NOT NULL DEFAULT 0,
    admin_since   BIGINT,
    hidden        INTEGER NOT NULL DEFAULT 0,
    cleared_seq   BIGINT  NOT NULL DEFAULT 0,  -- messages with seq <= this are hidden for the user
    unread        INTEGER NOT NULL DEFAULT 0,
    notifications INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (dialog_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members(user_id, dialog_id);

CREATE TABLE dialog_extensions (
    dialog_id TEXT NOT NULL REFERENCES dialogs(id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (dialog_id, name)
) WITHOUT ROWID;

CREATE TABLE dialog_pins (
    dialog_id  TEXT   NOT NULL REFERENCES dialogs(id) ON DELETE CASCADE,
    message_id TEXT   NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (dialog_id, message_id)
) WITHOUT ROWID;

-- seq orders messages by arrival across the whole store; it is also the
-- full-text index's rowid. AUTOINCREMENT: a seq is never handed out again,
-- even after the newest message is deleted, because cleared-history marks
-- (members.cleared_seq) compare against it.
CREATE TABLE messages (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    app_id       BIGINT  NOT NULL,
    dialog_id    TEXT    NOT NULL REFERENCES dialogs(id) ON DELETE CASCADE,
    sender_id    BIGINT  NOT NULL,
    recipient_id BIGINT  NOT NULL DEFAULT 0,
    body         TEXT    NOT NULL DEFAULT '',
    date_sent    BIGINT  NOT NULL,
    attachments  TEXT,                       -- JSON array, NULL when none
    custom       TEXT,                       -- JSON object of custom keys, NULL when none
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX messages_dialog_date ON messages(dialog_id, date_sent, id);

-- Delivery and read receipts of users other than the sender (the sender is
-- in read_ids and delivered_ids implicitly). read = 1 implies delivered.
CREATE TABLE receipts (
    message_id TEXT    NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id    BIGINT  NOT NULL,
    read       INTEGER NOT NULL DEFAULT 0,
    at         BIGINT  NOT NULL,
    PRIMARY KEY (message_id, user_id)
) WITHOUT ROWID;

-- Messages deleted "for me".
CREATE TABLE hidden_messages (
    user_id    BIGINT NOT NULL,
    message_id TEXT   NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, message_id)
) WITHOUT ROWID;
CREATE INDEX hidden_messages_message ON hidden_messages(message_id);

CREATE TABLE reactions (
    message_id TEXT   NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL,
    reaction   TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id, reaction)
) WITHOUT ROWID;

-- Case-sensitive substring search over message bodies (trigram tokenizer:
-- MATCH finds any substring of three or more characters). New messages are
-- indexed by the store's indexer in bulk, after their own transaction
-- (fts.go); fts_state.upto is the highest seq indexed. The triggers keep the
-- index right for rows already in it, and leave rows above the mark alone.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content='messages', content_rowid='seq', tokenize='trigram case_sensitive 1'
);
CREATE TABLE fts_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    upto BIGINT  NOT NULL
);
INSERT INTO fts_state (id, upto) VALUES (1, 0);
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.seq <= (SELECT upto FROM fts_state WHERE id = 1) BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
WHEN old.seq <= (SELECT upto FROM fts_state WHERE id = 1) BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
    INSERT INTO messages_fts(rowid, body) VALUES (new.seq, new.body);
END;
