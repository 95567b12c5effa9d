-- A user id is never handed out again (REST.md §4.6). Under a plain
-- INTEGER PRIMARY KEY SQLite gives the next user max(id)+1, so deleting the
-- newest user freed its id, and whatever still named that id (member rows,
-- messages, offline copies, a client's cached session) passed to the next
-- sign-up. AUTOINCREMENT remembers the highest id ever used in
-- sqlite_sequence. SQLite cannot add it to an existing table, so the table
-- is rebuilt with the same columns, rows and indexes. Nothing references
-- users(id) with a foreign key, so dropping the old table cascades nowhere.
CREATE TABLE users_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id           BIGINT  NOT NULL REFERENCES apps(id),
    login            TEXT,
    email            TEXT,
    full_name        TEXT,
    phone            TEXT,
    website          TEXT,
    custom_data      TEXT,
    external_user_id BIGINT,
    external_id      TEXT,
    facebook_id      TEXT,
    twitter_id       TEXT,
    blob_id          BIGINT,
    avatar           TEXT,
    user_tags        TEXT,
    timezone         INTEGER,
    password_hash    TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    last_request_at  BIGINT
);
INSERT INTO users_new (id, app_id, login, email, full_name, phone, website, custom_data, external_user_id,
    external_id, facebook_id, twitter_id, blob_id, avatar, user_tags, timezone, password_hash,
    created_at, updated_at, last_request_at)
SELECT id, app_id, login, email, full_name, phone, website, custom_data, external_user_id,
    external_id, facebook_id, twitter_id, blob_id, avatar, user_tags, timezone, password_hash,
    created_at, updated_at, last_request_at
FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_app_login ON users(app_id, login);
CREATE UNIQUE INDEX users_app_email ON users(app_id, email);
CREATE INDEX users_app_external_user_id ON users(app_id, external_user_id);
CREATE INDEX users_app_external_id ON users(app_id, external_id);
CREATE INDEX users_app_facebook_id ON users(app_id, facebook_id);
CREATE INDEX users_app_twitter_id ON users(app_id, twitter_id);
CREATE INDEX users_app_phone ON users(app_id, phone);
CREATE INDEX users_app_full_name ON users(app_id, full_name);

-- The copy set the sequence to the highest id still present. Users deleted
-- before this migration may have been newer and may have left their id
-- behind in member rows, dialogs, sessions or offline copies: start above
-- every id still named anywhere (each maximum is read from an index, except
-- dialogs.owner_id, a scan of the dialogs only).
DELETE FROM sqlite_sequence WHERE name IN ('users', 'users_new');
INSERT INTO sqlite_sequence (name, seq) SELECT 'users', MAX(
    (SELECT COALESCE(MAX(id), 0) FROM users),
    (SELECT COALESCE(MAX(user_id), 0) FROM members),
    (SELECT COALESCE(MAX(user_id), 0) FROM sessions),
    (SELECT COALESCE(MAX(user_id), 0) FROM offline),
    (SELECT COALESCE(MAX(owner_id), 0) FROM dialogs));
