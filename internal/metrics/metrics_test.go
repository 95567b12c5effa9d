package metrics_test

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/metrics"
)

// What the hot paths pay: one group commit observed, one REST request
// counted, one failed login counted.
func BenchmarkCommitted(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	for b.Loop() {
		m.Committed(16, 15, 3*time.Millisecond)
	}
}

func BenchmarkRequest(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	for b.Loop() {
		m.Request("GET /chat/Dialog/{id}", 200, 2*time.Millisecond)
	}
}

func BenchmarkRequestParallel(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Request("GET /chat/Dialog/{id}", 200, 2*time.Millisecond)
		}
	})
}
