package chat_test

import (
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/metrics"
)

// The benchmarks of post_bench_test.go measure posting with the commit
// metrics attached, as a server with --metrics-addr runs it.
func init() {
	benchObserve = func(s *chat.Service) { s.SetCommitObserver(metrics.New()) }
}
