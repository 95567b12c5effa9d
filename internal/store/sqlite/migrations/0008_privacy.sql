-- Issue 12: privacy lists (REALTIME.md §18, XEP-0016).
--
-- A user's named lists; id gives their creation order (getNames lists
-- them so), and a replaced list keeps its row and so its place. At most
-- one list of a user is their default (the partial unique index).
CREATE TABLE privacy_lists (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     BIGINT  NOT NULL,
    user_id    BIGINT  NOT NULL,
    name       TEXT    NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    UNIQUE (app_id, user_id, name)
);
CREATE UNIQUE INDEX privacy_lists_default ON privacy_lists(app_id, user_id) WHERE is_default = 1;

-- A list's items as the client sent them; kinds is the bit set of the
-- item's child elements (privacy.Kind), 0 when it has none.
CREATE TABLE privacy_items (
    list_id BIGINT  NOT NULL REFERENCES privacy_lists(id) ON DELETE CASCADE,
    ord     BIGINT  NOT NULL,
    type    TEXT    NOT NULL,
    value   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    kinds   INTEGER NOT NULL,
    PRIMARY KEY (list_id, ord)
) WITHOUT ROWID;
