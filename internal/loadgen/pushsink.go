package loadgen

import (
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// PushSink is the Web Push service of the push-alerts scenario: an HTTP
// server on loopback that answers every POST with 201 Created, as a push
// service accepting a message does (RFC 8030 §5), and counts the requests
// and their body bytes. It decrypts and checks nothing: it shares the load
// tool's one core, and every cycle it spends is taken from the senders,
// so it does the least a push service can. A delay, when set, holds each
// answer that long (a slow provider), which is what shows whether the
// chat path waits on providers.
type PushSink struct {
	delay    time.Duration
	ln       net.Listener
	srv      *http.Server
	served   sync.WaitGroup
	requests atomic.Int64
	bytes    atomic.Int64
	stop     chan struct{} // closed by Close: ends the held answers
	once     sync.Once
}

// StartPushSink listens on 127.0.0.1:0 and serves until Close.
func StartPushSink(delay time.Duration) (*PushSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &PushSink{delay: delay, ln: ln, stop: make(chan struct{})}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.served.Add(1)
	go func() {
		defer s.served.Done()
		s.srv.Serve(ln) // returns when Close closes the listener
	}()
	return s, nil
}

// URL is the sink's base URL, http://127.0.0.1:PORT (no trailing slash);
// every path under it is a valid endpoint.
func (s *PushSink) URL() string { return "http://" + s.ln.Addr().String() }

// Requests is the number of POSTs answered (or being held) so far.
func (s *PushSink) Requests() int64 { return s.requests.Load() }

// Bytes is the body bytes of those POSTs: the encrypted payloads.
func (s *PushSink) Bytes() int64 { return s.bytes.Load() }

func (s *PushSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	n, _ := io.Copy(io.Discard, r.Body)
	s.requests.Add(1)
	s.bytes.Add(n)
	if s.delay > 0 {
		t := time.NewTimer(s.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-s.stop:
		}
		t.Stop()
	}
	w.WriteHeader(http.StatusCreated)
}

// Close stops the sink: held answers are released, open connections
// closed, and the serving goroutine has ended when it returns.
func (s *PushSink) Close() {
	s.once.Do(func() {
		close(s.stop)
		s.srv.Close()
		s.served.Wait()
	})
}
