//go:build !(sqlite_fts5 || fts5)

package sqlitedrivers

// mattnFTS5Tag reports whether github.com/mattn/go-sqlite3 was compiled with
// SQLITE_ENABLE_FTS5 (build tag sqlite_fts5 or fts5).
const mattnFTS5Tag = false
