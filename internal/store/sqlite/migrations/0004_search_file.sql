-- The full-text index moves to its own database file (search.db, see
-- store/sqlite/search.go), so that indexing never holds this file's single
-- writer: indexing a batch of messages held it for tens of milliseconds,
-- and every message being stored meanwhile waited.
--
-- This file keeps what the index must catch up with: the messages above
-- the index's mark, and a log of the bodies that changed or went away
-- below it (fts_changes, written by the triggers in the same transaction
-- as the change). AUTOINCREMENT: the indexer remembers the last change it
-- applied, so an id is never handed out twice.
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;
DROP TABLE fts_state;
CREATE TABLE fts_changes (
    id  INTEGER PRIMARY KEY AUTOINCREMENT,
    seq BIGINT NOT NULL
);
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO fts_changes (seq) VALUES (old.seq);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO fts_changes (seq) VALUES (new.seq);
END;
