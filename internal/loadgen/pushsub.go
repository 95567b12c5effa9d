package loadgen

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// webSubscription is the body of POST {api}/subscriptions.json (REST.md
// §10.1) that a browser's Web Push subscription becomes in the SDK: the
// endpoint is the sink's, one path per user; the keys are real (a P-256
// point and 16 random bytes), so the server encrypts every alert exactly
// as for a browser, though the sink never decrypts it.
func webSubscription(sinkURL string, userID int64) ([]byte, error) {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	auth := make([]byte, 16)
	if _, err := rand.Read(auth); err != nil {
		return nil, err
	}
	id := strconv.FormatInt(userID, 10)
	return json.Marshal(map[string]any{
		"notification_channel": "web",
		"device":               map[string]any{"platform": "web", "udid": "bench-" + id},
		"push_token": map[string]any{
			"environment":  "development",
			"web_endpoint": sinkURL + "/" + id,
			"web_auth":     base64.RawURLEncoding.EncodeToString(auth),
			"web_p256dh":   base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()),
		},
	})
}

// subscribeAll gives every account (users the load tool signed up) a Web
// Push subscription to the sink, each over REST with the user's own
// session token, LoginConcurrency at a time; it stops at the first
// failure.
func subscribeAll(ctx context.Context, cfg *XMPPConfig, accounts []Account, sinkURL string, progress io.Writer) error {
	client := &http.Client{Timeout: cfg.LoginTimeout}
	return inParallel(ctx, cfg.LoginConcurrency, len(accounts), "push subs", progress, func(ctx context.Context, i int) error {
		a := accounts[i]
		var sess struct {
			Session struct{ Token string } `json:"session"`
		}
		login, _ := json.Marshal(map[string]any{"application_id": cfg.AppID, "auth_key": cfg.AuthKey,
			"user": map[string]any{"login": a.Login, "password": a.Password}})
		if err := postJSON(ctx, client, cfg.APIURL+"/session.json", "", login, &sess); err != nil {
			return fmt.Errorf("push subscription of %s: %w", a.Login, err)
		}
		body, err := webSubscription(sinkURL, a.ID)
		if err != nil {
			return err
		}
		if err := postJSON(ctx, client, cfg.APIURL+"/subscriptions.json", sess.Session.Token, body, nil); err != nil {
			return fmt.Errorf("push subscription of %s: %w", a.Login, err)
		}
		return nil
	})
}

// postJSON posts body, expects 201 Created and decodes the answer into
// out (when not nil).
func postJSON(ctx context.Context, client *http.Client, url, token string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("CB-Token", token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("POST %s: status %d %s", req.URL.Path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// awaitPushes waits, at most wait, until the sink has counted want
// requests (the alerts still queued when the chat ended reach it after),
// and returns its count then.
func awaitPushes(ctx context.Context, sink *PushSink, want int64, wait time.Duration) int64 {
	deadline := time.Now().Add(wait)
	for sink.Requests() < want && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	return sink.Requests()
}
