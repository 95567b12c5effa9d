-- Issue 13: custom objects (REST.md §9).
--
-- A class is an operator-made schema of one application: its fields and
-- permissions are JSON ([{"name","type"}], {"create": {...}, ...}), read
-- whole whenever a request names the class. Names are unique per app
-- without regard to case, so UserReports and userreports never both exist.
-- indexes lists the fields the operator had indexed (--index): each is a
-- partial index data_c<class id>_<field> on data_records.
CREATE TABLE data_classes (
    id         INTEGER PRIMARY KEY,
    app_id     BIGINT  NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    fields     TEXT    NOT NULL,
    perms      TEXT    NOT NULL,
    indexes    TEXT    NOT NULL DEFAULT '[]',
    created_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX data_classes_name ON data_classes (app_id, name COLLATE NOCASE);

-- A record: its class's fields as one JSONB document (doc), filtered with
-- json_extract (JSONB needs no parsing: a filter that reads every record
-- of a class took half the time it took on JSON text); the record's own
-- fields and its permissions as columns.
-- Clustered by (class, id): a listing walks one class in id (creation)
-- order and stops at the page's end. Each permission is an access and,
-- for open_for_users_ids and open_for_groups, a JSON array of user ids or
-- group names (NULL otherwise).
CREATE TABLE data_records (
    class_id   INTEGER NOT NULL REFERENCES data_classes(id) ON DELETE CASCADE,
    id         TEXT    NOT NULL,
    app_id     BIGINT  NOT NULL,
    parent_id  TEXT,
    user_id    BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL, -- Unix microseconds
    updated_at BIGINT  NOT NULL,
    doc        BLOB    NOT NULL,
    r_access   TEXT    NOT NULL,
    r_list     TEXT,
    u_access   TEXT    NOT NULL,
    u_list     TEXT,
    d_access   TEXT    NOT NULL,
    d_list     TEXT,
    PRIMARY KEY (class_id, id)
) WITHOUT ROWID;
-- Deleting a record deletes its children, in any class of the app.
CREATE INDEX data_records_parent ON data_records (app_id, parent_id) WHERE parent_id IS NOT NULL;
