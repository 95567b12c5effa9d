package auth

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/limit"
)

// Password guessing is slowed down here, once, for every way in: POST
// /session with a user, POST /login and SASL PLAIN all go through
// guard.begin before a password is verified. Three counts:
//
//   - failures in a row of one account from one address: a few are free,
//     then each further attempt waits a window that doubles up to a cap.
//     This is the brake on one address guessing one account, and it is
//     keyed by the pair so that an attacker's failures make only the
//     attacker wait, not the account's owner logging in from elsewhere;
//   - failures in a row of one account from any address, with many more
//     free failures (accountFreeFactor times as many): the brake on
//     guessing one account from many addresses. Tripping it does make the
//     owner wait too, so only the free failures of each address count
//     toward it: one address alone can never trip it, it takes
//     accountFreeFactor addresses (IPv6 /64s) at least;
//   - failed logins per address, a token bucket over all accounts: the
//     brake on one address trying one password on many accounts, which no
//     per-account count sees. It is a sustained rate, not a growing
//     lockout, because many honest users can share an address (a NAT, a
//     carrier's gateway, a reverse proxy: the address is the connection's
//     peer, X-Forwarded-For is not trusted), and they should at worst
//     share a rate, never a quarter-hour ban.
//
// Refused attempts are not verified and count nowhere: hammering a backed
// off account costs the server nothing and does not extend the window,
// and an address over its rate cannot push any account's count further.
// Attempts are counted as account failures before the password is
// verified and forgiven on success, so that concurrent guesses cannot all
// pass one check; the address is charged after a failure, and may go into
// debt when several were checked at once. A success resets both account
// counts.

// accountFreeFactor is how many times more free failures an account has
// from all addresses together than from one.
const accountFreeFactor = 20

// accountKey names an account: by user id once the user is known (so REST
// and XMPP share one count), else by the login or email that was tried.
type accountKey struct {
	app  int64
	name string
}

type pairKey struct {
	account accountKey
	addr    string
}

type guard struct {
	mu      sync.Mutex // makes checking and counting both backoffs one step
	pair    *limit.Failures[pairKey]
	account *limit.Failures[accountKey]
	perAddr *limit.Keyed[string] // failed logins per address
	appSess *limit.Keyed[string] // application sessions per address
	free    int                  // free failures of a pair
	log     *slog.Logger
	observe LoginObserver // observe.go; never nil
}

func newGuard(cfg Config, log *slog.Logger, now func() time.Time) *guard {
	pair := limit.Backoff{Free: cfg.LoginFreeFailures, Base: time.Second, Max: cfg.LoginBackoffMax}
	acct := pair
	acct.Free *= accountFreeFactor
	return &guard{
		observe: noLoginObserver{},
		pair:    limit.NewFailures[pairKey](pair, 0, now),
		account: limit.NewFailures[accountKey](acct, 0, now),
		perAddr: limit.NewKeyed[string](limit.PerMinute(cfg.LoginFailuresPerIP), 0, now),
		appSess: limit.NewKeyed[string](limit.PerMinute(cfg.AppSessionsPerIP), 0, now),
		free:    cfg.LoginFreeFailures,
		log:     log,
	}
}

// attempt is one login to be checked.
type attempt struct {
	account accountKey
	who     slog.Attr // the login, email or user id, for the log
	addr    string    // the client's address as given (host or host:port)
	via     string    // "rest" or "xmpp"
	// tokenLike: the secret has a session token's shape (a chat login
	// with a token, REALTIME §2.4). Such an attempt is not held back by,
	// and does not count toward, the account's backoff, only the
	// address's rate. Guessing 160 random bits is hopeless, while a
	// token that has expired or was ended is an everyday failure: an
	// SDK left connected with one retries it after every reconnect (the
	// server closes the unauthenticated stream after --auth-timeout),
	// and counted against the account, those retries would put the
	// user's own password logins from that device into a backoff of up
	// to --login-backoff-max. A live token is proof enough to pass an
	// account's backoff too.
	tokenLike bool
}

// ticket is an admitted attempt; done reports how it went.
type ticket struct {
	g       *guard
	a       attempt
	host    string
	pair    pairKey
	addrKey string
	backoff time.Duration // what a failure makes the next attempt wait
}

// begin admits a, or refuses it with a rate-limited error naming the wait.
func (g *guard) begin(ctx context.Context, a attempt) (*ticket, error) {
	host, key := addrKey(a.addr)
	if wait := g.perAddr.Wait(key); wait > 0 {
		g.refused(ctx, a, host, "too many failures from this address", wait)
		return nil, loginLimited(wait)
	}
	pk := pairKey{account: a.account, addr: key}
	if a.tokenLike {
		return &ticket{g: g, a: a, host: host, pair: pk, addrKey: key}, nil
	}
	g.mu.Lock()
	if w := max(g.pair.Wait(pk), g.account.Wait(a.account)); w > 0 {
		g.mu.Unlock()
		g.refused(ctx, a, host, "backing off after failures", w)
		return nil, loginLimited(w)
	}
	// Only an address's free failures count toward the account: one
	// address alone can never trip the account-wide backoff, however long
	// it keeps guessing.
	var acctWait time.Duration
	if g.pair.Count(pk) < g.free {
		acctWait = g.account.Fail(a.account)
	}
	backoff := max(g.pair.Fail(pk), acctWait)
	g.mu.Unlock()
	return &ticket{g: g, a: a, host: host, pair: pk, addrKey: key, backoff: backoff}, nil
}

// done settles the attempt: a success forgives it and resets the account's
// counts; a failure (already counted) is logged, never with the password.
func (t *ticket) done(ctx context.Context, ok bool, reason string) {
	if ok && t.a.tokenLike {
		return // a token proves nothing about the password's guessers
	}
	if ok {
		t.g.mu.Lock()
		t.g.pair.Reset(t.pair)
		t.g.account.Reset(t.a.account)
		t.g.mu.Unlock()
		return
	}
	t.g.perAddr.Charge(t.addrKey)
	t.g.observe.LoginFailed(t.a.via, strings.ReplaceAll(reason, " ", "_"))
	attrs := []slog.Attr{slog.Int64("app", t.a.account.app), t.a.who, slog.String("addr", t.host),
		slog.String("via", t.a.via), slog.String("reason", reason)}
	if t.backoff > 0 {
		attrs = append(attrs, slog.Duration("backoff", t.backoff))
	}
	t.g.log.LogAttrs(ctx, slog.LevelWarn, "login failed", attrs...)
}

// refused logs an attempt turned away unverified. At info, not warn: a
// flood of them is the attacker's, and the failures that started the
// backoff were logged at warn already.
func (g *guard) refused(ctx context.Context, a attempt, host, reason string, wait time.Duration) {
	g.observe.LoginFailed(a.via, "limited")
	g.log.LogAttrs(ctx, slog.LevelInfo, "login refused", slog.Int64("app", a.account.app), a.who,
		slog.String("addr", host), slog.String("via", a.via), slog.String("reason", reason),
		slog.Duration("retry_after", wait))
}

// appSession admits the creation of an application session from addr:
// they take no password, but each is a stored row for the session's
// lifetime, so one address may not create them without bound.
func (g *guard) appSession(ctx context.Context, app int64, addr string) error {
	host, key := addrKey(addr)
	if ok, wait := g.appSess.Allow(key); !ok {
		g.log.LogAttrs(ctx, slog.LevelInfo, "application session refused", slog.Int64("app", app),
			slog.String("addr", host), slog.Duration("retry_after", wait))
		return apperr.RateLimited(wait, "Too many sessions created from this address, retry in %d seconds", apperr.RetrySeconds(wait))
	}
	return nil
}

func loginLimited(wait time.Duration) error {
	return apperr.RateLimited(wait, "Too many failed login attempts, retry in %d seconds", apperr.RetrySeconds(wait))
}

// addrKey returns the host of addr (host or host:port) and the key it is
// counted under: the address itself for IPv4, its /64 for IPv6, since one
// host usually has a whole /64 to pick addresses from.
func addrKey(addr string) (host, key string) {
	host = addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host, host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.WithZone("").Prefix(64); err == nil {
			return host, p.String()
		}
	}
	return host, ip.String()
}

// userAttr names the account in log lines by user id.
func userAttr(id int64) slog.Attr { return slog.String("user", strconv.FormatInt(id, 10)) }
