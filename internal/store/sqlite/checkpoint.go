package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// A WAL checkpoint (copying committed pages from the WAL back into the
// database file, with an fsync of each) run by the writer, after the commit
// that pushed the WAL past wal_autocheckpoint pages, makes that commit wait
// for the copy and both fsyncs, and every writer queued behind it. A
// PASSIVE checkpoint needs no lock that writers or readers hold, so under
// sustained writes one runs from its own connection, on another CPU. The
// writer's automatic checkpoint still finishes the job: it finds the pages
// already copied, so it is short, and only a checkpoint that has copied the
// whole WAL lets the next transaction start the WAL over from its
// beginning.
//
// Each checkpoint syncs the WAL and the database file, so the background
// one runs only under sustained writes: at least ckptMinCommits commits
// since the last one, looked at every ckptEvery. Below that rate the
// writer's own checkpoint does all the work.
const (
	ckptEvery      = 100 * time.Millisecond
	ckptMinCommits = 32
)

type checkpointer struct {
	conn    *sql.DB
	log     *slog.Logger
	commits atomic.Int64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func newCheckpointer(conn *sql.DB, log *slog.Logger) *checkpointer {
	c := &checkpointer{conn: conn, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// poke counts a commit, without waiting.
func (c *checkpointer) poke() { c.commits.Add(1) }

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(ckptEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if c.commits.Load() < ckptMinCommits {
				continue
			}
			c.commits.Store(0)
			var busy, frames, copied int
			if err := c.conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
				// Nothing is lost: the writer's own checkpoint still runs.
				c.log.Warn("sqlite: background checkpoint failed", "err", err)
			}
		}
	}
}

func (c *checkpointer) close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}
