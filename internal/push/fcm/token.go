package fcm

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"golang.org/x/oauth2/jwt"
)

const scope = "https://www.googleapis.com/auth/firebase.messaging"

// tokens caches one token source per service-account key, keyed by a
// hash of the key JSON, so an access token is reused by every send until
// it expires. A changed key is a new entry; the old one is simply unused.
type tokens struct {
	client *http.Client
	mu     sync.Mutex
	byKey  map[[32]byte]*tokenSource
}

// tokenSource is one key's token source. oauth2.ReuseTokenSource is not
// used because it binds one context for every later fetch: a fetch could
// then not be bounded by the send that needs it, nor could a token FCM
// refused (401) be dropped.
type tokenSource struct {
	conf    *jwt.Config
	project string
	// fetching is a one-slot semaphore: one fetch per key at a time, and
	// a waiter gives up at its own deadline.
	fetching chan struct{}
	mu       sync.Mutex
	tok      *oauth2.Token
}

func newTokens(client *http.Client) *tokens {
	return &tokens{client: client, byKey: map[[32]byte]*tokenSource{}}
}

// source gives the key's token source, parsing the key the first time.
func (t *tokens) source(key []byte) (*tokenSource, error) {
	h := sha256.Sum256(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.byKey[h]; ok {
		return s, nil
	}
	conf, err := google.JWTConfigFromJSON(key, scope)
	if err != nil {
		// The parser's message names fields, never the key's content.
		return nil, fmt.Errorf("fcm: service account key: %w", err)
	}
	var f struct {
		ProjectID string `json:"project_id"`
	}
	if err := json.Unmarshal(key, &f); err != nil || f.ProjectID == "" {
		return nil, errors.New("fcm: service account key has no project_id")
	}
	if !parsablePrivateKey(conf.PrivateKey) {
		// Checked here so a bad key is a final error, not one that looks
		// like a failed fetch.
		return nil, errors.New("fcm: service account key: private_key is not a PEM RSA key")
	}
	s := &tokenSource{conf: conf, project: f.ProjectID, fetching: make(chan struct{}, 1)}
	t.byKey[h] = s
	return s, nil
}

func parsablePrivateKey(b []byte) bool {
	block, _ := pem.Decode(b)
	if block == nil {
		return false
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		_, ok := k.(*rsa.PrivateKey)
		return ok
	}
	_, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	return err == nil
}

// token gives a valid access token, fetching one when none is cached.
func (s *tokenSource) token(ctx context.Context, client *http.Client) (*oauth2.Token, error) {
	if tok := s.cached(); tok != nil {
		return tok, nil
	}
	select {
	case s.fetching <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.fetching }()
	if tok := s.cached(); tok != nil { // fetched while this one waited
		return tok, nil
	}
	// jwt's fetch takes its client from the context and does not pass
	// the context to the request itself; boundClient does, through
	// cfg.Client.
	fctx := context.WithValue(ctx, oauth2.HTTPClient, boundClient(ctx, client))
	tok, err := s.conf.TokenSource(fctx).Token()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.tok = tok
	s.mu.Unlock()
	return tok, nil
}

func (s *tokenSource) cached() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.Valid() {
		return s.tok
	}
	return nil
}

// drop forgets tok after FCM refused it (401), unless a newer token has
// replaced it already.
func (s *tokenSource) drop(tok *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == tok {
		s.tok = nil
	}
}

// boundClient is an http.Client that sends through client with ctx
// attached to every request.
func boundClient(ctx context.Context, client *http.Client) *http.Client {
	return &http.Client{Transport: ctxRoundTripper{ctx: ctx, client: client}}
}

type ctxRoundTripper struct {
	ctx    context.Context
	client *http.Client
}

func (rt ctxRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	return rt.client.Do(r.WithContext(rt.ctx))
}
