package rest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
)

// One log line per request with method, path, status and duration; never a
// password, a token or a message body, even at debug level.
func TestRequestLogHasNoSecrets(t *testing.T) {
	var logs servertest.Log
	env := servertest.StartLogged(t, &logs)
	u := env.NewUser(t)
	g := env.Do(t, req{Method: "POST", Path: "/chat/Dialog.json", Token: u.Token,
		Body: map[string]any{"type": 4, "name": "logs"}}).JSON["_id"].(string)
	wantStatus(t, env.Do(t, req{Method: "POST", Path: "/chat/Message.json", Token: u.Token,
		Body: map[string]any{"chat_dialog_id": g, "message": "secret-body-text"}}), 201)
	wantStatus(t, env.Do(t, req{Method: "GET", Path: "/users/999999.json?token=" + u.Token, Token: u.Token}), 404)

	out := logs.String()
	for _, secret := range []string{u.Password, u.Token, "secret-body-text"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log contains %q:\n%s", secret, out)
		}
	}
	var requests int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] != "request" {
			continue
		}
		requests++
		for _, k := range []string{"method", "path", "status", "duration"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("request line lacks %q: %s", k, line)
			}
		}
	}
	// sign-up, session, dialog, message, the 404: one line each.
	if requests != 5 {
		t.Fatalf("%d request lines, want 5:\n%s", requests, out)
	}
}
