-- Issue 13: blobs (REST.md §8). Times are Unix microseconds like every
-- other table. The content lives outside the database (blob.Content),
-- under content_key: the uid and a suffix of its own for each upload, so
-- that an upload never overwrites bytes a complete blob serves.
CREATE TABLE blobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a stale id names nothing
    app_id        BIGINT  NOT NULL REFERENCES apps(id),
    owner_id      BIGINT  NOT NULL,
    uid           TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    public        INTEGER NOT NULL DEFAULT 0,
    content_key   TEXT UNIQUE,     -- the last upload's content; NULL until an upload
    uploaded_size BIGINT,          -- its size in bytes
    size          BIGINT,          -- declared by complete (§8.3); NULL until then
    completed_at  BIGINT,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX blobs_owner ON blobs (app_id, owner_id, id);

-- Per-application blob limits, set by `parley app update`: the largest
-- blob in bytes (0: the default, 100 MiB) and the allowed content types
-- (comma-separated; empty: all).
ALTER TABLE apps ADD COLUMN blob_max_size BIGINT NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN blob_content_types TEXT NOT NULL DEFAULT '';
