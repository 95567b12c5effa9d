package c2s

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/router"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Conn is a transport: it reads one top-level element at a time and writes
// encoded ones. Implementations: transport/ws.
type Conn interface {
	// Read returns the next element, or an error (a *xmpp.Error for bad
	// XML, which the engine answers with a stream error).
	Read(ctx context.Context) (*xmpp.Element, error)
	// Write sends one encoded element.
	Write(ctx context.Context, frame []byte) error
	// Close ends the transport.
	Close() error
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
// it.
type Authenticator interface {
	CheckChatPassword(ctx context.Context, appID, userID int64, password string) error
}

// Config is the engine's settings.
type Config struct {
	Domain string
	Limits xmpp.Limits
	// OutQueue is how many encoded stanzas may wait for a slow client
	// before its session is closed with a policy-violation stream error.
	OutQueue int
	// AuthTimeout closes a connection that has not authenticated in time.
	AuthTimeout time.Duration
	// OfflineMax and OfflineMaxAge bound what is kept per offline user.
	OfflineMax    int
	OfflineMaxAge time.Duration
	// MaxConnsPerIP and MaxConnsPerUser cap concurrent connections
	// (0: no cap).
	MaxConnsPerIP   int
	MaxConnsPerUser int
}

// Alert is a chat message for a recipient with no available resource: the
// input of a push notification (REALTIME.md §20.4).
type Alert struct {
	AppID, UserID, SenderID int64
	DialogID, MessageID     string
	Body                    string
}

// Alerter receives alerts; the push subsystem implements it. The engine has
// already applied the rules that are the chat domain's: the message was
// not silent, and the recipient has notifications on for the dialog.
type Alerter interface {
	ChatAlert(ctx context.Context, a Alert)
}

// SetAlerter attaches the push side (none by default).
func (e *Engine) SetAlerter(a Alerter) { e.alerts = a }

// Engine runs sessions.
type Engine struct {
	cfg     Config
	auth    Authenticator
	chat    Chat
	offline chat.OfflineStore
	alerts  Alerter
	router  *router.Local
	log     *slog.Logger
	seq     atomic.Uint64
	live    sync.WaitGroup // running sessions

	mu     sync.Mutex // guards the connection counts
	perIP  map[string]int
	perUsr map[int64]int
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
	if cfg.OfflineMax <= 0 {
		cfg.OfflineMax = 1000
	}
	if cfg.OfflineMaxAge <= 0 {
		cfg.OfflineMaxAge = 30 * 24 * time.Hour
	}
	return &Engine{cfg: cfg, auth: auth, chat: chatSvc, offline: offline, router: r, log: log.With("component", "c2s"),
		perIP: map[string]int{}, perUsr: map[int64]int{}}
}

type state int

const (
	stateOpen   state = iota // waiting for <open>
	stateSASL                // features sent, waiting for <auth>
	stateReopen              // authenticated, waiting for the restart <open>
	stateBind                // waiting for the bind iq
	stateBound               // bound: stanzas
)

// Session is one client connection.
type Session struct {
	e      *Engine
	conn   Conn
	log    *slog.Logger
	state  state
	userID int64
	appID  int64
	jid    xmpp.JID

	available atomic.Bool
	out       chan []byte
	closed    chan struct{}
	closeOnce sync.Once

	smEnabled bool
	handled   uint32 // XEP-0198 h: stanzas handled
	carbons   atomic.Bool

	flushed chan struct{} // the writer reached a flush marker

	overflowed atomic.Bool // closed because its queue filled up
	asideMu    sync.Mutex
	aside      [][]byte // frames for an overflowed session, kept at its end
	asideDone  bool
}

// JID is the bound full JID.
func (s *Session) JID() xmpp.JID { return s.jid }

// Available reports whether initial presence was processed.
func (s *Session) Available() bool { return s.available.Load() }

// Send queues an encoded stanza. A full queue means the client stopped
// reading: the session is closed rather than left to grow, and the stanza
// (with every later one until the session is gone) is set aside, behind
// what is still queued, to be kept for the user's next connection.
func (s *Session) Send(frame []byte) bool {
	select {
	case <-s.closed:
		return s.setAside(frame)
	default:
	}
	select {
	case s.out <- frame:
		return true
	default:
		s.log.Warn("outbound queue full; closing session")
		s.overflowed.Store(true)
		s.shutdown()
		return s.setAside(frame)
	}
}

// setAside holds a frame of a session closed for overflow until Serve keeps
// it (in order, after the queue); false once the session is gone.
func (s *Session) setAside(frame []byte) bool {
	if !s.overflowed.Load() {
		return false
	}
	s.asideMu.Lock()
	defer s.asideMu.Unlock()
	if s.asideDone {
		return false
	}
	s.aside = append(s.aside, frame)
	return true
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

func (s *Session) shutdown() {
	s.closeOnce.Do(func() { close(s.closed) })
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
	return true
}

func (e *Engine) releaseUser(user int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.perUsr[user]--; e.perUsr[user] <= 0 {
		delete(e.perUsr, user)
	}
}

// Serve runs a session on conn until the client closes, the stream fails
// or ctx ends. It returns when the connection is done.
func (e *Engine) Serve(ctx context.Context, conn Conn) {
	e.live.Add(1)
	defer e.live.Done()
	s := &Session{e: e, conn: conn, out: make(chan []byte, e.cfg.OutQueue), closed: make(chan struct{}), flushed: make(chan struct{}, 1),
		log: e.log.With("session", e.seq.Add(1))}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the writer: the only goroutine that writes to conn
		defer wg.Done()
		s.writeLoop()
	}()
	authDeadline := time.AfterFunc(e.cfg.AuthTimeout, func() {
		if s.userID == 0 {
			s.streamError("connection-timeout", "")
		}
	})
	s.readLoop(ctx)
	authDeadline.Stop()
	if s.jid.Local != "" {
		e.router.Remove(s)
		e.releaseUser(s.userID)
	}
	// Let the writer flush what is queued (a <close/>, a stream error),
	// each write bounded, then drop the connection. Whatever it could not
	// write is kept for the user's next connection.
	s.shutdown()
	wg.Wait()
	for {
		select {
		case f := <-s.out:
			s.keepUndelivered(f)
			continue
		default:
		}
		break
	}
	s.asideMu.Lock()
	aside := s.aside
	s.aside, s.asideDone = nil, true
	s.asideMu.Unlock()
	for _, f := range aside {
		s.keepUndelivered(f)
	}
	conn.Close()
}

// writeTimeout bounds one write to a client that stopped reading.
const writeTimeout = 10 * time.Second

func (s *Session) writeOne(f []byte) error {
	if f == nil { // a flush marker
		select {
		case s.flushed <- struct{}{}:
		default:
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return s.conn.Write(ctx, f)
}

func (s *Session) writeLoop() {
	for {
		select {
		case f := <-s.out:
			if err := s.writeOne(f); err != nil {
				s.keepUndelivered(f)
				s.shutdown()
				return
			}
		case <-s.closed:
			for {
				select {
				case f := <-s.out:
					if s.writeOne(f) != nil {
						s.keepUndelivered(f)
						return
					}
				default:
					return
				}
			}
		}
	}
}

func (s *Session) readLoop(ctx context.Context) {
	// A session closed from elsewhere (queue overflow, auth timeout) must
	// stop its blocked read too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		el, err := s.conn.Read(ctx)
		if err != nil {
			if cond := xmpp.StreamErrorCondition(err); cond != "" {
				s.streamError(cond, "")
			}
			return
		}
		if done := s.handle(ctx, el); done {
			return
		}
		select {
		case <-s.closed:
			return
		default:
		}
	}
}

// write encodes and queues an element the session itself answers with.
// Unlike Send (deliveries from other sessions), it waits for room in the
// queue: a client that does not read its answers slows only its own
// stream. It reports false when the session closed first.
func (s *Session) write(el *xmpp.Element) bool {
	frame := el.AppendXML(nil)
	select {
	case s.out <- frame:
		return true
	case <-s.closed:
		return false
	}
}

// flush puts a marker in the queue and waits until the writer reaches it,
// so that everything written before is on the wire (before a TLS upgrade);
// false when the session closed or it took too long.
func (s *Session) flush() bool {
	select {
	case s.out <- nil:
	case <-s.closed:
		return false
	}
	select {
	case <-s.flushed:
		return true
	case <-s.closed:
		return false
	case <-time.After(writeTimeout):
		return false
	}
}

// streamError sends a stream error and the closing element, then ends the
// session.
func (s *Session) streamError(cond, text string) {
	s.write(xmpp.StreamError(cond, text, true))
	s.write(xmpp.NewElement("close", "xmlns", xmpp.NSFraming))
	s.shutdown()
}

func (s *Session) openReply() *xmpp.Element {
	return xmpp.NewElement("open", "xmlns", xmpp.NSFraming, "from", s.e.cfg.Domain,
		"id", "c2s-"+randomString(12), "version", "1.0", "xml:lang", "en")
}

// handle processes one element; true ends the session.
func (s *Session) handle(ctx context.Context, el *xmpp.Element) bool {
	if el.Name == "close" && el.Attr("xmlns") == xmpp.NSFraming {
		s.write(xmpp.NewElement("close", "xmlns", xmpp.NSFraming))
		return true
	}
	switch s.state {
	case stateOpen, stateReopen:
		if el.Name != "open" || el.Attr("xmlns") != xmpp.NSFraming {
			s.streamError("not-authorized", "")
			return true
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
			s.state = stateBind
		}
		s.write(features)
	case stateSASL:
		if sc, ok := s.conn.(StreamConn); ok && el.Name == "starttls" && el.Attr("xmlns") == xmpp.NSTLS && sc.CanStartTLS() {
			s.write(xmpp.NewElement("proceed", "xmlns", xmpp.NSTLS))
			if !s.flush() {
				return true
			}
			if err := sc.StartTLS(); err != nil {
				s.log.Info("starttls failed", "err", err)
				return true
			}
			s.state = stateOpen
			return false
		}
		if sc, ok := s.conn.(StreamConn); ok && sc.CanStartTLS() {
			s.streamError("policy-violation", "STARTTLS is required")
			return true
		}
		if el.Name != "auth" || el.Attr("xmlns") != xmpp.NSSASL {
			s.streamError("not-authorized", "")
			return true
		}
		s.authenticate(ctx, el)
	case stateBind:
		if el.Name == "iq" && el.Attr("type") == "set" && el.Child("bind", xmpp.NSBind) != nil {
			s.bind(el)
			return false
		}
		s.streamError("not-authorized", "")
		return true
	case stateBound:
		return s.stanza(ctx, el)
	}
	return false
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
	if err := s.e.auth.CheckChatPassword(ctx, appID, userID, password); err != nil {
		s.saslFailure("not-authorized", "Password not verified")
		return
	}
	s.userID, s.appID = userID, appID
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
		switch el.Name {
		case "enable":
			// h counts the stanzas handled since enable (XEP-0198); a
			// stanza is counted after it was processed, so an ack for a
			// saved message means it is stored.
			s.smEnabled, s.handled = true, 0
			s.write(xmpp.NewElement("enabled", "xmlns", xmpp.NSSM))
		case "r":
			s.write(xmpp.NewElement("a", "xmlns", xmpp.NSSM, "h", strconv.FormatUint(uint64(s.handled), 10)))
		case "a":
		default:
			s.write(xmpp.NewElement("failed", "xmlns", xmpp.NSSM))
		}
		return false
	}
	switch el.Name {
	case "iq":
		s.iq(el)
	case "presence":
		s.presence(ctx, el)
	case "message":
		s.message(ctx, el)
	default:
		s.streamError("unsupported-stanza-type", "")
		return true
	}
	s.handled++ // counted after handling: an ack means "processed"
	return false
}

func (s *Session) presence(ctx context.Context, el *xmpp.Element) {
	if el.Attr("to") == "" && (el.Attr("type") == "" || el.Attr("type") == "available") {
		if !s.available.Swap(true) {
			s.deliverOffline(ctx)
		}
		return
	}
	if el.Attr("to") == "" && el.Attr("type") == "unavailable" {
		s.available.Store(false)
	}
}

func (s *Session) iq(el *xmpp.Element) {
	typ := el.Attr("type")
	if typ == "result" || typ == "error" {
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
