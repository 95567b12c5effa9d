package chat

import "time"

// CommitObserver is told about every group commit (post.go), from the
// committer goroutine, once per batch: never per message, and never under
// a lock. internal/server turns it into metrics; the domain knows nothing
// of how they are exported.
type CommitObserver interface {
	// Committed reports a batch of size requests (posts, receipts, edits,
	// alerts) of which stored messages were stored, and how long its
	// transaction took. A batch that failed in the store stored none.
	Committed(size, stored int, took time.Duration)
}

type noCommitObserver struct{}

func (noCommitObserver) Committed(int, int, time.Duration) {}

// SetCommitObserver attaches o; call it before the first post (the
// committer reads it without synchronisation beyond the queue's).
func (s *Service) SetCommitObserver(o CommitObserver) {
	if o == nil {
		o = noCommitObserver{}
	}
	s.commit.observe = o
}
