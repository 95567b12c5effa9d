-- When each user's last available XMPP session went away (REALTIME.md
-- §16.2, §20.6), so that "last seen" survives a restart. Written behind
-- (internal/presence.Local): a batch every second and at shutdown; a row
-- is also written when a user comes online, so that after a crash a user
-- who was online is seen last at their latest arrival.
CREATE TABLE last_seen (
    app_id  BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    at      BIGINT NOT NULL, -- Unix microseconds
    PRIMARY KEY (user_id, app_id)
) WITHOUT ROWID;
