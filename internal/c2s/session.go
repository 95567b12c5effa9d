package c2s

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/limit"
	"github.com/parley-chat/parley/internal/router"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Conn is a transport: it reads one top-level element at a time and writes
// encoded ones. Implementations: transport/ws, transport/tcp.
type Conn interface {
	// Read returns the next element, or an error (a *xmpp.Error for bad
	// XML, which the engine answers with a stream error).
	Read(ctx context.Context) (*xmpp.Element, error)
	// Write sends one encoded element.
	Write(ctx context.Context, frame []byte) error
	// Close ends the transport. It returns nil only when the peer
	// confirmed the close after reading everything written before it (the
	// WebSocket closing handshake); then stanzas the client has not
	// acknowledged yet count as delivered.
	Close() error
}

// BatchConn is a transport that can send several encoded elements in one
// write (TCP); others get one Write each.
type BatchConn interface {
	WriteBatch(ctx context.Context, frames [][]byte) error
}

// StreamConn is a transport with a stream that can be secured and
// restarted (TCP). WebSocket connections are secured by their HTTP layer
// and restart by <open/>, so they do not implement it.
type StreamConn interface {
	CanStartTLS() bool
	Secure() bool
	StartTLS() error
	RestartStream()
}

// Authenticator checks chat credentials: a user's password or a live
// session token of that user (REST.md §3.7). The auth service implements
// it. It returns the credential used, an opaque key that ending it later
// names (revoke.go).
type Authenticator interface {
	CheckChatPassword(ctx context.Context, appID, userID int64, password, addr string) ([]byte, error)
}

// Config is the engine's settings.
type Config struct {
	Domain string
	Limits xmpp.Limits
	// OutQueue is how many encoded stanzas may wait for a slow client
	// before its session is closed with a policy-violation stream error.
	OutQueue int
	// OutQueueBytes bounds the stanza bytes a session holds (queued and
	// unacknowledged); OutQueueTotalBytes bounds them over every session
	// (see memory.go).
	OutQueueBytes      int64
	OutQueueTotalBytes int64
	// AuthTimeout closes a connection that has not authenticated in time.
	AuthTimeout time.Duration
	// OfflineMax and OfflineMaxAge bound what is kept per offline user.
	OfflineMax    int
	OfflineMaxAge time.Duration
	// Now is the clock offline messages are stamped and aged by (nil:
	// time.Now).
	Now func() time.Time
	// MaxConnsPerIP and MaxConnsPerUser cap concurrent connections
	// (0: no cap).
	MaxConnsPerIP   int
	MaxConnsPerUser int
	// ResumeTimeout is how long a session that enabled stream resumption
	// waits for its client after the connection is lost.
	ResumeTimeout time.Duration
	// StanzaRate limits the stanzas of one session (zero: no limit).
	StanzaRate limit.Rate
	// MaxWatched is how many users one session may watch (status.go).
	MaxWatched int
}

// Engine runs sessions.
type Engine struct {
	cfg     Config
	auth    Authenticator
	chat    Chat
	offline chat.OfflineStore
	privacy Privacy // privacy lists (privacy.go); nil: service-unavailable
	router  *router.Local
	log     *slog.Logger
	seq     atomic.Uint64
	live    sync.WaitGroup // running connections and detached sessions
	mem     budget
	// offlineRefused counts messages not kept because their recipient
	// had OfflineMax kept already.
	offlineRefused atomic.Int64
	// routed, slowQueue and slowMemory are counts for Stats (stats.go).
	routed, slowQueue, slowMemory atomic.Int64

	mu        sync.Mutex // guards the maps below
	perIP     map[string]int
	perUsr    map[int64]int
	bound     int                 // bound sessions: the sum of perUsr
	conns     map[string]int      // open connections by transport (stats.go)
	resumable map[string]*Session // stream management id → session
	offlineBy map[int64]*Session  // user → the session delivering its offline messages

	creds credIndex // authenticated sessions by user (revoke.go)
	rooms roomIndex // who joined which room (rooms.go)

	// presence is the presence domain (availability.go), status its
	// watcher index (status.go).
	presence Presence
	status   statusIndex
}

// Wait blocks until every session has ended (after their context did).
func (e *Engine) Wait() { e.live.Wait() }

// NewEngine returns an engine; zero config fields get defaults.
func NewEngine(cfg Config, auth Authenticator, chatSvc Chat, offline chat.OfflineStore, r *router.Local, log *slog.Logger) *Engine {
	if cfg.OutQueue <= 0 {
		cfg.OutQueue = 1024
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = 60 * time.Second
	}
	if cfg.OutQueueBytes <= 0 {
		cfg.OutQueueBytes = 1 << 20
	}
	if cfg.OutQueueTotalBytes <= 0 {
		cfg.OutQueueTotalBytes = 512 << 20
	}
	if cfg.OfflineMax <= 0 {
		cfg.OfflineMax = 1000
	}
	if cfg.OfflineMaxAge <= 0 {
		cfg.OfflineMaxAge = 30 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ResumeTimeout <= 0 {
		cfg.ResumeTimeout = 5 * time.Minute
	}
	if cfg.MaxWatched <= 0 {
		cfg.MaxWatched = DefaultMaxWatched
	}
	e := &Engine{cfg: cfg, auth: auth, chat: chatSvc, offline: offline, router: r, log: log.With("component", "c2s"),
		perIP: map[string]int{}, perUsr: map[int64]int{}, conns: map[string]int{}, resumable: map[string]*Session{}, offlineBy: map[int64]*Session{}}
	e.mem.max = cfg.OutQueueTotalBytes
	return e
}

type state int

const (
	stateOpen   state = iota // waiting for <open>
	stateSASL                // features sent, waiting for <auth>
	stateReopen              // authenticated, waiting for the restart <open>
	stateBind                // waiting for the bind iq (or an SM resume)
	stateBound               // bound: stanzas
)

// Session is one client session: usually one connection, but with stream
// management resumption (XEP-0198) a session outlives a lost connection
// and continues on the next one.
type Session struct {
	e   *Engine
	log *slog.Logger

	// Only the goroutines of the current connection use these (a resume
	// replaces the connection while none is running).
	conn     Conn
	state    state
	userID   int64
	appID    int64
	jid      xmpp.JID
	smOn     bool   // stream management enabled (reader side)
	handled  uint32 // XEP-0198 h: stanzas handled from the client
	pipe     pipeline
	resumeID string // set when the client enabled resumption
	lim      sessionLimits

	authed    atomic.Bool
	available atomic.Bool
	carbons   atomic.Bool
	inactive  atomic.Bool // client state (clientstate.go)

	flushed chan struct{} // the writer reached a flush marker

	out outbox
	off offlineCursor // offline delivery in progress (reader side)

	killOnce sync.Once
	kill     chan struct{} // closed when the session must end now (overflow)

	rev sessionCred // what it authenticated with (revoke.go)

	pres sessionPresence // availability and activity (availability.go)
}

// link is one connection serving a session.
type link struct {
	conn     Conn
	stop     chan struct{} // closed to end the connection
	stopOnce sync.Once
	cancel   context.CancelFunc // interrupts a blocked read
	final    atomic.Bool        // the stream ended on purpose: no resumption
	// closing is set by whoever queues this server's closing element
	// first: a stream ends once. A second </close> (the answer to the
	// client's own, racing a revoke) reaches a client that has already
	// torn its parser down, and the SDK's XMPP library throws on it.
	closing atomic.Bool
	writer  sync.WaitGroup
	done    chan struct{} // closed once the session parked or finished after it
}

func (l *link) close() {
	l.stopOnce.Do(func() {
		close(l.stop)
		l.cancel()
	})
}

// JID is the bound full JID.
func (s *Session) JID() xmpp.JID { return s.jid }

// Available reports whether initial presence was processed.
func (s *Session) Available() bool { return s.available.Load() }

// Send queues an encoded stanza from elsewhere (a delivery). It never
// blocks: a client that stopped reading fills its queue, and then its
// session is ended rather than left to grow; what it did not get is kept
// for the user's next connection. False means the session is gone.
func (s *Session) Send(frame []byte) bool {
	ok, overflow, overBudget := s.out.push(frame, kindStanza)
	if overflow {
		s.log.Warn("outbound queue full; closing session", "limit_stanzas", s.e.cfg.OutQueue, "limit_bytes", s.e.cfg.OutQueueBytes)
		s.e.slowQueue.Add(1)
		s.endNow()
	}
	if overBudget {
		s.e.reclaim()
	}
	return ok
}

// write encodes and queues an element the session itself answers with,
// waiting for room in the queue; false when the connection or the session
// is gone.
func (s *Session) write(el *xmpp.Element) bool {
	kind := kindNonza
	switch el.Name {
	case "message", "presence", "iq":
		kind = kindStanza
	case "close":
		kind = kindClose
	}
	l := s.out.currentLink()
	if l == nil {
		return false
	}
	return s.out.pushWait(el.Encode(), kind, l.stop)
}

// endNow ends the session without resumption: the connection closes, or a
// detached session expires at once.
func (s *Session) endNow() {
	s.killOnce.Do(func() { close(s.kill) })
	if l := s.out.currentLink(); l != nil {
		l.close()
	}
}

func (s *Session) killed() bool {
	select {
	case <-s.kill:
		return true
	default:
		return false
	}
}

// Admit counts a new connection from ip and reports whether it is within
// the per-IP cap; every admitted connection must be released with Release.
func (e *Engine) Admit(ip string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cfg.MaxConnsPerIP > 0 && e.perIP[ip] >= e.cfg.MaxConnsPerIP {
		return false
	}
	e.perIP[ip]++
	return true
}

// Release ends what Admit counted.
func (e *Engine) Release(ip string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.perIP[ip]--; e.perIP[ip] <= 0 {
		delete(e.perIP, ip)
	}
}

// claimUser counts a bound session of user against the per-user cap.
func (e *Engine) claimUser(user int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cfg.MaxConnsPerUser > 0 && e.perUsr[user] >= e.cfg.MaxConnsPerUser {
		return false
	}
	e.perUsr[user]++
	e.bound++
	return true
}

func (e *Engine) releaseUser(user int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.bound--
	if e.perUsr[user]--; e.perUsr[user] <= 0 {
		delete(e.perUsr, user)
	}
}

// Serve runs sessions on conn until the client closes, the stream fails
// or ctx ends. It returns when the connection is done; a resumable session
// may live on, detached, waiting for its client to come back.
func (e *Engine) Serve(ctx context.Context, conn Conn) {
	e.live.Add(1)
	defer e.live.Done()
	t := transportOf(conn)
	e.connOpened(t)
	defer e.connClosed(t)
	s := &Session{e: e, kill: make(chan struct{}), flushed: make(chan struct{}, 1),
		log: e.log.With("session", e.seq.Add(1))}
	s.out.init(e.cfg.OutQueue, e.cfg.OutQueueBytes, &e.mem)
	for s != nil {
		s = s.serveConn(ctx, conn)
	}
}

// serveConn runs the session on one connection. It returns the session to
// continue with on the same connection when the client resumed an earlier
// one, else nil (and the connection is closed).
func (s *Session) serveConn(ctx context.Context, conn Conn) *Session {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := &link{conn: conn, stop: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	defer close(l.done)
	s.conn = conn
	s.out.attach(l)
	l.writer.Add(1)
	go func() { // the writer: the only goroutine that writes to conn
		defer l.writer.Done()
		s.writeLoop(l)
	}()
	var authDeadline *time.Timer
	if !s.authed.Load() {
		authDeadline = time.AfterFunc(s.e.cfg.AuthTimeout, func() {
			if !s.authed.Load() {
				s.streamError("connection-timeout", "")
			}
		})
	}
	resumed := s.readLoop(rctx, l)
	if authDeadline != nil {
		authDeadline.Stop()
	}
	if resumed != nil {
		// The client took up an earlier session on this connection:
		// everything this one wrote is on the wire; hand the connection
		// over.
		s.flush()
		l.close()
		l.writer.Wait()
		s.out.detach()
		return resumed
	}
	l.close()
	l.writer.Wait()
	if s.detachable(ctx, l) {
		conn.Close()
		s.park(ctx)
		return nil
	}
	confirmed := conn.Close() == nil
	s.finish(confirmed)
	return nil
}

// keepUndelivered stores a frame this session could not deliver for the
// user's next connection, when it is a 1-1 content message (group members
// read the history instead).
func (s *Session) keepUndelivered(frame []byte) {
	el, err := xmpp.ParseElement(frame, s.e.cfg.Limits)
	if err != nil || el.Name != "message" || el.Attr("type") != "chat" || !isContent(el) {
		return
	}
	s.keepOffline(s.userID, frame)
}

// finish ends the session for good: it leaves the router, and every
// message it could not deliver is kept for the user's next connection,
// including those its client did not acknowledge unless the connection
// closed with the client confirming it read everything.
func (s *Session) finish(delivered bool) {
	s.e.forgetResumable(s)
	s.leaveRooms()
	s.presenceEnded()
	if s.jid.Local != "" {
		s.e.router.Remove(s)
		s.e.releaseUser(s.userID)
	}
	undelivered, offDone := s.out.end(delivered)
	for _, f := range undelivered {
		if !s.rev.deleted.Load() {
			s.keepUndelivered(f)
		}
	}
	s.endOffline(offDone)
	s.e.untrack(s)
}

// writeTimeout bounds one write to a client that stopped reading.
const writeTimeout = 10 * time.Second

func (s *Session) writeOne(l *link, f []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return l.conn.Write(ctx, f)
}

// writeLoop writes what is queued until the connection stops; when the
// stream ends on purpose it first writes what is left (a stream error, the
// closing element).
func (s *Session) writeLoop(l *link) {
	for {
		select {
		case <-s.out.wake:
			if !s.writeQueued(l) {
				l.close()
				return
			}
		case <-l.stop:
			if l.final.Load() {
				s.writeQueued(l)
			}
			return
		}
	}
}

// writeQueued writes every queued frame; false when the connection failed
// (the unwritten frames stay queued).
func (s *Session) writeQueued(l *link) bool {
	for {
		batch := s.out.take()
		if len(batch) == 0 {
			if s.out.askNow() && s.writeOne(l, ackRequest) != nil {
				return false
			}
			return true
		}
		if !s.writeFrames(l, batch) {
			return false
		}
	}
}

// maxRun bounds the stanzas one batched write carries, so that one write
// deadline covers a bounded amount of data, as for a single stanza.
const maxRun = 64

// writeFrames writes a batch taken from the queue: each run of stanzas up
// to a flush marker (at most maxRun) in one write where the transport
// allows, each write within writeTimeout. Stanzas are counted before they
// are on the wire (a fast client may acknowledge them before the write
// returns) and uncounted when the write fails.
func (s *Session) writeFrames(l *link, batch []frame) bool {
	bc, _ := l.conn.(BatchConn)
	var run [][]byte
	for i := 0; i < len(batch); {
		if batch[i].kind == kindFlush {
			select {
			case s.flushed <- struct{}{}:
			default:
			}
			i++
			continue
		}
		j, overflow, closing := i, false, false
		run = run[:0]
		for j < len(batch) && batch[j].kind != kindFlush && !overflow && !closing && len(run) < maxRun {
			overflow = s.out.written(batch[j])
			closing = batch[j].kind == kindClose
			run = append(run, batch[j].b)
			j++
		}
		// sent: how many of the run are known to be on the wire (none when a
		// batched write fails part-way: all go back, at least once).
		var err error
		sent := 0
		if bc != nil && len(run) > 1 {
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			if err = bc.WriteBatch(ctx, run); err == nil {
				sent = len(run)
			}
			cancel()
		} else {
			for _, b := range run {
				if err = s.writeOne(l, b); err != nil {
					break
				}
				sent++
			}
		}
		if err != nil {
			for k := j - 1; k >= i+sent; k-- {
				s.out.unwritten(batch[k])
			}
			s.out.putBack(batch[i+sent:])
			return false
		}
		if overflow {
			s.out.putBack(batch[j:])
			s.log.Warn("client leaves stanzas unacknowledged; closing session")
			s.e.slowQueue.Add(1)
			s.endNow()
			return false
		}
		if closing {
			// The stream is over: what was queued after the closing element
			// stays undelivered (kept for the user's next connection as any
			// undelivered stanza), and no ack request follows it.
			s.out.putBack(batch[j:])
			return false
		}
		i = j
	}
	return true
}

var ackRequest = []byte(`<r xmlns="urn:xmpp:sm:3"/>`)

// readLoop reads and handles elements until the connection ends. It
// returns the session a resume on this connection took up, else nil.
func (s *Session) readLoop(ctx context.Context, l *link) *Session {
	// What the reader started completes before the session parks, ends or
	// is taken over, so its count (handled) is settled then.
	defer s.pipe.drain()
	for {
		el, err := l.conn.Read(ctx)
		if err != nil {
			if cond := xmpp.StreamErrorCondition(err); cond != "" {
				s.streamError(cond, "")
			}
			return nil
		}
		done, resumed := s.handle(ctx, el)
		if resumed != nil {
			return resumed
		}
		if done {
			l.final.Store(true)
			return nil
		}
		select {
		case <-l.stop:
			return nil
		default:
		}
	}
}

// flush puts a marker in the queue and waits until the writer reaches it,
// so that everything written before is on the wire (before a TLS upgrade);
// false when the connection stopped or it took too long.
func (s *Session) flush() bool {
	l := s.out.currentLink()
	if l == nil {
		return false
	}
	select {
	case <-s.flushed:
	default:
	}
	s.out.pushWait(nil, kindFlush, l.stop)
	select {
	case <-s.flushed:
		return true
	case <-l.stop:
		return false
	case <-time.After(writeTimeout):
		return false
	}
}

// streamError sends a stream error and the closing element, then ends the
// connection.
func (s *Session) streamError(cond, text string) {
	l := s.out.currentLink()
	if l == nil || !l.closing.Swap(true) {
		s.write(xmpp.StreamError(cond, text, true))
		s.write(xmpp.NewElement("close", "xmlns", xmpp.NSFraming))
	}
	if l != nil {
		l.final.Store(true)
		l.close()
	}
}

func (s *Session) openReply() *xmpp.Element {
	return xmpp.NewElement("open", "xmlns", xmpp.NSFraming, "from", s.e.cfg.Domain,
		"id", "c2s-"+randomString(12), "version", "1.0", "xml:lang", "en")
}

// handle processes one element; done ends the stream, resumed is an
// earlier session the client took up on this connection.
func (s *Session) handle(ctx context.Context, el *xmpp.Element) (done bool, resumed *Session) {
	if s.state == stateBound && !s.admitStanza(el) {
		return s.refuseStanza(el), nil
	}
	if s.state == stateBound {
		s.noteActivity(el)
	}
	if s.state == stateBound && el.Name == "message" {
		step, later := s.message(ctx, el)
		s.pipe.run(later, func() {
			if step != nil {
				step()
			}
			s.handled++ // counted after handling: an ack means "processed"
		})
		return false, nil
	}
	// Everything else takes effect after the messages before it.
	s.pipe.drain()
	if el.Name == "close" && el.Attr("xmlns") == xmpp.NSFraming {
		if l := s.out.currentLink(); l == nil || !l.closing.Swap(true) {
			s.write(xmpp.NewElement("close", "xmlns", xmpp.NSFraming))
		}
		return true, nil
	}
	switch s.state {
	case stateOpen, stateReopen:
		if el.Name != "open" || el.Attr("xmlns") != xmpp.NSFraming {
			s.streamError("not-authorized", "")
			return true, nil
		}
		s.write(s.openReply())
		features := xmpp.NewElement("stream:features", "xmlns:stream", xmpp.NSStream)
		if s.state == stateOpen {
			if sc, ok := s.conn.(StreamConn); ok && sc.CanStartTLS() {
				// PLAIN only once the stream is encrypted (REALTIME.md §1.2).
				features.AppendChild(xmpp.NewElement("starttls", "xmlns", xmpp.NSTLS)).
					AppendChild(xmpp.NewElement("required"))
			} else {
				mechs := features.AppendChild(xmpp.NewElement("mechanisms", "xmlns", xmpp.NSSASL))
				mechs.AppendChild(xmpp.NewElement("mechanism")).AppendText("PLAIN")
			}
			s.state = stateSASL
		} else {
			features.AppendChild(xmpp.NewElement("bind", "xmlns", xmpp.NSBind))
			features.AppendChild(xmpp.NewElement("sm", "xmlns", xmpp.NSSM))
			features.AppendChild(xmpp.NewElement("csi", "xmlns", nsCSI)) // clients send CSI only when offered
			s.state = stateBind
		}
		s.write(features)
	case stateSASL:
		if sc, ok := s.conn.(StreamConn); ok && el.Name == "starttls" && el.Attr("xmlns") == xmpp.NSTLS && sc.CanStartTLS() {
			s.write(xmpp.NewElement("proceed", "xmlns", xmpp.NSTLS))
			if !s.flush() {
				return true, nil
			}
			if err := sc.StartTLS(); err != nil {
				s.log.Info("starttls failed", "err", err)
				return true, nil
			}
			s.state = stateOpen
			return false, nil
		}
		if sc, ok := s.conn.(StreamConn); ok && sc.CanStartTLS() {
			s.streamError("policy-violation", "STARTTLS is required")
			return true, nil
		}
		if el.Name != "auth" || el.Attr("xmlns") != xmpp.NSSASL {
			s.streamError("not-authorized", "")
			return true, nil
		}
		s.authenticate(ctx, el)
	case stateBind:
		if el.Name == "iq" && el.Attr("type") == "set" && el.Child("bind", xmpp.NSBind) != nil {
			s.bind(el)
			return false, nil
		}
		if el.Name == "resume" && el.Attr("xmlns") == xmpp.NSSM {
			return false, s.resume(el)
		}
		s.streamError("not-authorized", "")
		return true, nil
	case stateBound:
		return s.stanza(ctx, el), nil
	}
	return false, nil
}

// saslFailure answers a failed authentication; the stream stays open for
// another attempt (REALTIME.md §1.3).
func (s *Session) saslFailure(cond, text string) {
	f := xmpp.NewElement("failure", "xmlns", xmpp.NSSASL)
	f.AppendChild(xmpp.NewElement(cond))
	if text != "" {
		f.AppendChild(xmpp.NewElement("text", "xml:lang", "en")).AppendText(text)
	}
	s.write(f)
}

// authenticate is SASL PLAIN (REALTIME.md §2.4): authzid empty or the bare
// JID, authcid {userId}-{appId}, password or a live session token.
func (s *Session) authenticate(ctx context.Context, el *xmpp.Element) {
	if el.Attr("mechanism") != "PLAIN" {
		s.saslFailure("invalid-mechanism", "")
		return
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(el.Text()))
	if err != nil {
		s.saslFailure("malformed-request", "")
		return
	}
	parts := bytes.SplitN(raw, []byte{0}, 3)
	if len(parts) != 3 {
		s.saslFailure("malformed-request", "")
		return
	}
	authzid, authcid, password := string(parts[0]), string(parts[1]), string(parts[2])
	userID, appID, ok := xmpp.ParseUserLocal(authcid)
	if !ok {
		s.saslFailure("not-authorized", "Password not verified")
		return
	}
	if authzid != "" && authzid != xmpp.UserJID(userID, appID, s.e.cfg.Domain).String() {
		s.saslFailure("invalid-authzid", "")
		return
	}
	if err := s.login(ctx, appID, userID, password, peerAddr(s.conn)); err != nil {
		s.authFailed(err)
		return
	}
	s.userID, s.appID = userID, appID
	s.authed.Store(true)
	s.write(xmpp.NewElement("success", "xmlns", xmpp.NSSASL))
	if sc, ok := s.conn.(StreamConn); ok {
		sc.RestartStream()
	}
	s.state = stateReopen
}

// bind gives the session a random resource of 20 characters (REALTIME.md
// §2.6: the SDK drops messages whose from contains its own resource, so it
// must be long and random).
func (s *Session) bind(iq *xmpp.Element) {
	if !s.e.claimUser(s.userID) {
		s.write(xmpp.StanzaError(iq, "resource-constraint", "too many sessions for this user"))
		s.streamError("policy-violation", "too many sessions for this user")
		return
	}
	s.jid = xmpp.UserJID(s.userID, s.appID, s.e.cfg.Domain)
	s.jid.Resource = randomString(20)
	s.e.router.Add(s)
	res := xmpp.NewElement("iq", "xmlns", xmpp.NSClient, "type", "result", "id", iq.Attr("id"), "to", s.jid.String())
	res.AppendChild(xmpp.NewElement("bind", "xmlns", xmpp.NSBind)).AppendChild(xmpp.NewElement("jid")).AppendText(s.jid.String())
	s.write(res)
	s.state = stateBound
	s.log = s.log.With("user", s.userID, "app", s.appID)
}

// stanza handles the elements of a bound stream; true ends the session.
func (s *Session) stanza(ctx context.Context, el *xmpp.Element) bool {
	if el.Attr("xmlns") == xmpp.NSSM {
		return s.smElement(el)
	}
	if s.clientStateNonza(el) {
		return false
	}
	switch el.Name {
	case "iq":
		s.iq(ctx, el)
	case "presence":
		s.presence(ctx, el)
	default:
		s.streamError("unsupported-stanza-type", "")
		return true
	}
	s.handled++ // counted after handling: an ack means "processed"
	return false
}

func (s *Session) presence(ctx context.Context, el *xmpp.Element) {
	if s.roomPresence(ctx, el) {
		return
	}
	if el.Attr("to") == "" && (el.Attr("type") == "" || el.Attr("type") == "available") {
		if !s.available.Swap(true) {
			s.arrive()
			s.deliverOffline(ctx)
		}
		return
	}
	if el.Attr("to") == "" && el.Attr("type") == "unavailable" {
		s.available.Store(false)
		s.depart()
	}
}

func (s *Session) iq(ctx context.Context, el *xmpp.Element) {
	typ := el.Attr("type")
	if typ == "result" || typ == "error" || s.roomIQ(ctx, el) {
		return
	}
	to := el.Attr("to")
	result := func() *xmpp.Element {
		r := xmpp.NewElement("iq", "xmlns", xmpp.NSClient, "type", "result", "id", el.Attr("id"), "to", s.jid.String())
		if to != "" {
			r.SetAttr("from", to)
		}
		return r
	}
	if s.clientIQ(el, result) || s.serviceIQ(ctx, el) {
		return
	}
	switch {
	case typ == "get" && el.Child("ping", xmpp.NSPing) != nil:
		s.write(result())
	case typ == "set" && el.Child("enable", xmpp.NSCarbons) != nil:
		s.carbons.Store(true)
		s.write(result())
	case typ == "set" && el.Child("disable", xmpp.NSCarbons) != nil:
		s.carbons.Store(false)
		s.write(result())
	case typ == "set" && el.Child("session", xmpp.NSSession) != nil:
		s.write(result())
	default:
		s.write(xmpp.StanzaError(el, "service-unavailable", ""))
	}
}

const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("c2s: crypto/rand: " + err.Error())
	}
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// onFreshStack runs f on a short-lived goroutine and waits for it. The
// store's calls need deep stacks; run on a connection's goroutine they
// would grow it for the connection's whole life, and an idle connection's
// memory is mostly its goroutines' stacks.
func onFreshStack(f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	return <-done
}
