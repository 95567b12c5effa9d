// Package sqlite is the embedded store: SQLite in WAL mode through the pure-Go
// modernc.org/sqlite driver (see bench/sqlitedrivers for why), one writer
// connection and a pool of readers, schema migrations embedded and applied at
// Open.
//
// It implements the Store interfaces the domain packages declare (auth.Store)
// and holds only SQL; rules live in the domain.
package sqlite
