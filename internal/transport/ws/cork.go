package ws

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// cork sits between the WebSocket library's buffered writer and the
// socket. The library flushes after every message, one system call per
// stanza; under load a session's queue holds several stanzas at once (a
// group commit delivers a burst), so while a batch is written the cork
// holds what the library flushes and sends it in one write when the batch
// ends. Outside a batch it passes writes straight through.
//
// The library serialises its own frames (a pong from the reading side
// cannot split one of ours), so held bytes are always whole frames in the
// order the library wrote them.
type cork struct {
	nc   net.Conn
	mu   sync.Mutex
	held *[]byte // non-nil while a batch is being written
}

// maxHeld is how much a batch may hold before it is written out early:
// a run of large stanzas goes out in a few writes rather than in one
// buffer of up to the run's size.
const maxHeld = 64 << 10

var heldBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func (c *cork) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil {
		return c.nc.Write(p)
	}
	if len(*c.held)+len(p) > maxHeld {
		if err := c.writeHeld(); err != nil {
			return 0, err
		}
		if len(p) > maxHeld {
			return c.nc.Write(p)
		}
	}
	*c.held = append(*c.held, p...)
	return len(p), nil
}

// hold starts a batch: until release, writes are collected. The deadline
// bounds every write to the socket until then.
func (c *cork) hold(deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = heldBuffers.Get().(*[]byte)
	c.nc.SetWriteDeadline(deadline)
}

// release ends the batch, writing what it collected in one write, or,
// with send false (the batch failed part-way: its stanzas go back to the
// queue), dropping it.
func (c *cork) release(send bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if send {
		err = c.writeHeld()
	}
	c.nc.SetWriteDeadline(time.Time{})
	if cap(*c.held) <= maxHeld {
		*c.held = (*c.held)[:0]
		heldBuffers.Put(c.held)
	}
	c.held = nil
	return err
}

func (c *cork) writeHeld() error {
	b := *c.held
	*c.held = b[:0]
	if len(b) == 0 {
		return nil
	}
	_, err := c.nc.Write(b)
	return err
}

// corkingWriter wraps the ResponseWriter of an upgrade so that the
// connection it hijacks writes through a cork, which it hands to the
// WebSocket handler once the library has taken the connection over.
type corkingWriter struct {
	http.ResponseWriter
	cork *cork
}

func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	// The upgrade response is on the wire by now (both net/http and
	// upgradeWriter write it before handing the connection over), so the
	// hijacked writer holds nothing: it is replaced by one over the cork.
	w.cork = &cork{nc: nc}
	return nc, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(w.cork, writeBufferSize)), nil
}

// Unwrap gives http.ResponseController the wrapped writer.
func (w *corkingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
