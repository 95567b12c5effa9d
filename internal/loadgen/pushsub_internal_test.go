package loadgen

import (
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"testing"
)

// The subscription body is the SDK's for a browser (REST.md §10.1): a web
// channel, a per-user device and endpoint under the sink, and keys a push
// service would accept: p256dh a real uncompressed P-256 point, auth 16
// bytes, both base64url; two users get different keys.
func TestWebSubscriptionBody(t *testing.T) {
	type body struct {
		Channel string `json:"notification_channel"`
		Device  struct {
			Platform string `json:"platform"`
			UDID     string `json:"udid"`
		} `json:"device"`
		Token struct {
			Environment string `json:"environment"`
			Endpoint    string `json:"web_endpoint"`
			Auth        string `json:"web_auth"`
			P256dh      string `json:"web_p256dh"`
		} `json:"push_token"`
	}
	var got [2]body
	for i, id := range []int64{42, 43} {
		b, err := webSubscription("http://127.0.0.1:9", id)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &got[i]); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	g := got[0]
	if g.Channel != "web" || g.Device.Platform != "web" || g.Device.UDID != "bench-42" ||
		g.Token.Environment != "development" || g.Token.Endpoint != "http://127.0.0.1:9/42" {
		t.Errorf("body %+v", g)
	}
	auth, err := base64.RawURLEncoding.DecodeString(g.Token.Auth)
	if err != nil || len(auth) != 16 {
		t.Errorf("web_auth %q: %d bytes, %v; want 16 bytes of base64url", g.Token.Auth, len(auth), err)
	}
	p, err := base64.RawURLEncoding.DecodeString(g.Token.P256dh)
	if err != nil || len(p) != 65 || p[0] != 4 {
		t.Fatalf("web_p256dh %q: %d bytes, %v; want an uncompressed point, base64url", g.Token.P256dh, len(p), err)
	}
	if _, err := ecdh.P256().NewPublicKey(p); err != nil {
		t.Errorf("web_p256dh is not a P-256 point: %v", err)
	}
	if got[1].Token.P256dh == g.Token.P256dh || got[1].Token.Auth == g.Token.Auth || got[1].Token.Endpoint != "http://127.0.0.1:9/43" {
		t.Errorf("two users share keys or endpoints: %+v, %+v", g, got[1])
	}
}
