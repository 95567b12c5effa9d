-- Issue 14: push notifications (REST.md §10, REALTIME.md §20.4).
--
-- A device subscription: (app, user, udid, channel) is unique, a second
-- create replaces the token (REST.md §10.1). token is the device token
-- (apns, apns_voip, gcm) or the Web Push endpoint (web), whose keys are
-- web_auth and web_p256dh (base64url, as the browser gives them).
CREATE TABLE push_subscriptions (
    id          INTEGER PRIMARY KEY,
    app_id      BIGINT  NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id     BIGINT  NOT NULL,
    channel     TEXT    NOT NULL,
    platform    TEXT    NOT NULL,
    udid        TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    token       TEXT    NOT NULL,
    bundle      TEXT    NOT NULL DEFAULT '',
    web_auth    TEXT    NOT NULL DEFAULT '',
    web_p256dh  TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE UNIQUE INDEX push_subscriptions_device ON push_subscriptions (app_id, user_id, udid, channel);

-- An event made with POST /events (REST.md §10.4): what the API answers
-- about it; its deliveries are outbox rows.
CREATE TABLE push_events (
    id          INTEGER PRIMARY KEY,
    app_id      BIGINT  NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id     BIGINT  NOT NULL,           -- who made it
    push_type   TEXT    NOT NULL DEFAULT '', -- '' universal, else the channel
    environment TEXT    NOT NULL,
    message     TEXT    NOT NULL,           -- as sent: base64 (universal) or the platform payload
    created_at  BIGINT  NOT NULL
);

-- The outbox: one row per push to one subscription, written in the
-- transaction that caused it (a chat message's, an event's). state 0 is
-- queued (due at next_at, unless leased until lease_until by a
-- dispatcher), 1 sent (the provider accepted it), 2 dead (refused for
-- good, or tries ran out). kind 1 is a chat alert (the alert_* columns),
-- 2 an event's delivery (event_id). Times are Unix milliseconds.
-- channel is copied from the subscription so a dispatcher claims per
-- provider without a join.
CREATE TABLE push_outbox (
    id              INTEGER PRIMARY KEY,
    app_id          BIGINT  NOT NULL,
    subscription_id BIGINT  NOT NULL,
    channel         TEXT    NOT NULL,
    kind            INTEGER NOT NULL,
    event_id        BIGINT,
    alert_dialog    TEXT,
    alert_message   TEXT,
    alert_sender    BIGINT,
    alert_body      TEXT,
    state           INTEGER NOT NULL DEFAULT 0,
    tries           INTEGER NOT NULL DEFAULT 0,
    next_at         BIGINT  NOT NULL,
    lease_until     BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    done_at         BIGINT,
    last_error      TEXT
);
CREATE INDEX push_outbox_due ON push_outbox (channel, next_at) WHERE state = 0;
CREATE INDEX push_outbox_done ON push_outbox (state, done_at) WHERE state <> 0;

-- An application's push settings (parley app update): chat alerts on or
-- off, the alert template, and the provider credentials sealed with the
-- data dir's key (secrets: AES-GCM of a JSON document, never returned by
-- an API). The VAPID public key is public: web clients fetch it.
CREATE TABLE push_apps (
    app_id       BIGINT  PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    alerts       INTEGER NOT NULL DEFAULT 1,
    template     TEXT    NOT NULL DEFAULT '',
    vapid_public TEXT    NOT NULL DEFAULT '',
    secrets      BLOB
);
