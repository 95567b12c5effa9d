package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// Full-text indexing runs beside message storage, not inside it: indexing
// a message in its own transaction cost about a fifth of storing it (FTS5
// flushes and merges its segments at commit), and a batch indexed later in
// one statement costs far less per message. A message is searchable once
// the indexer has passed it: at most ftsEvery after it was stored, and at
// once for the next search, which flushes first.
const (
	ftsEvery = 250 * time.Millisecond
	ftsBatch = 2000 // messages indexed per transaction
)

type ftsIndexer struct {
	db   *DB
	mu   sync.Mutex // one indexing pass at a time
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newFTSIndexer(db *DB) *ftsIndexer {
	f := &ftsIndexer{db: db, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go f.loop()
	return f
}

// poke tells the indexer there is work, without waiting.
func (f *ftsIndexer) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *ftsIndexer) loop() {
	defer close(f.done)
	t := time.NewTicker(ftsEvery)
	defer t.Stop()
	pending := false
	for {
		select {
		case <-f.stop:
			return
		case <-f.wake:
			pending = true
		case <-t.C:
			if !pending {
				continue
			}
			pending = false
			if err := f.flush(context.Background()); err != nil {
				slog.Default().Warn("sqlite: full-text indexing failed; retrying", "err", err)
				pending = true
			}
		}
	}
}

// flush indexes every stored message above the mark.
func (f *ftsIndexer) flush(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		var upto, top int64
		if err := f.db.r.QueryRowContext(ctx, `SELECT (SELECT upto FROM fts_state WHERE id = 1),
			COALESCE((SELECT MAX(seq) FROM messages), 0)`).Scan(&upto, &top); err != nil {
			return err
		}
		if top <= upto {
			return nil
		}
		end := min(top, upto+ftsBatch)
		err := f.db.tx(ctx, func(tx *sql.Tx) error {
			// Re-read the mark under the write lock: another pass may have
			// moved it.
			var cur int64
			if err := tx.QueryRowContext(ctx, `SELECT upto FROM fts_state WHERE id = 1`).Scan(&cur); err != nil {
				return err
			}
			if cur >= end {
				return nil
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO messages_fts(rowid, body)
				SELECT seq, body FROM messages WHERE seq > ? AND seq <= ?`, cur, end); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE fts_state SET upto = ? WHERE id = 1`, end)
			return err
		})
		if err != nil {
			return err
		}
	}
}

func (f *ftsIndexer) close() {
	f.once.Do(func() { close(f.stop) })
	<-f.done
}
