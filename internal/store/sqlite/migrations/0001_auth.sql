-- Apps, users and sessions. Times are Unix microseconds (BIGINT) so that
-- filters compare at sub-second precision on every backend.
CREATE TABLE apps (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL,
    auth_key          TEXT    NOT NULL UNIQUE,
    auth_secret       TEXT    NOT NULL,
    dialog_extensions TEXT    NOT NULL DEFAULT '',
    created_at        BIGINT  NOT NULL
);

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
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
CREATE UNIQUE INDEX users_app_login ON users(app_id, login);
CREATE UNIQUE INDEX users_app_email ON users(app_id, email);
CREATE INDEX users_app_external_user_id ON users(app_id, external_user_id);
CREATE INDEX users_app_external_id ON users(app_id, external_id);
CREATE INDEX users_app_facebook_id ON users(app_id, facebook_id);
CREATE INDEX users_app_twitter_id ON users(app_id, twitter_id);
CREATE INDEX users_app_phone ON users(app_id, phone);
CREATE INDEX users_app_full_name ON users(app_id, full_name);

CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    app_id     BIGINT  NOT NULL REFERENCES apps(id),
    user_id    BIGINT,
    token_hash BLOB    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);
