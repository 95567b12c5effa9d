-- Issue 10: who may come back into a group dialog.
--
-- Subscribing to a group dialog (REST.md §5.6) is a per-application
-- setting: allowed unless the operator created the app with
-- --no-group-subscribe.
ALTER TABLE apps ADD COLUMN group_subscribe INTEGER NOT NULL DEFAULT 1;

-- A user the owner removed from a group (pull_all) may not subscribe to it
-- again until an owner or admin adds them back; the mark is that row. A
-- user who left by themselves has none. Its member row is gone, so the
-- mark lives beside it rather than in it.
CREATE TABLE group_removals (
    dialog_id TEXT   NOT NULL REFERENCES dialogs(id) ON DELETE CASCADE,
    user_id   BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (dialog_id, user_id)
) WITHOUT ROWID;
