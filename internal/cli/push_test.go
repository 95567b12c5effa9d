package cli_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func serviceAccountFile(t *testing.T) (path string, privPEM []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	privPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "parley-test",
		"client_email": "fcm@parley-test.iam.gserviceaccount.com", "private_key": string(privPEM)})
	return writeFile(t, "sa.json", b), privPEM
}

func p8File(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return writeFile(t, "AuthKey.p8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestAppUpdatePushSettings(t *testing.T) {
	dir := t.TempDir()
	app := parseCreated(t, run(t, nil, "app", "create", "--data-dir", dir, "--name", "A"))
	id := strconv.FormatInt(app.ID, 10)
	if a := listApps(t, dir)[0]; !a.ChatAlerts || a.VAPIDPublicKey != "" {
		t.Fatalf("new app: %+v; want chat alerts on and no VAPID key", a)
	}
	sa, saKey := serviceAccountFile(t)
	r := run(t, nil, "app", "update", "--data-dir", dir, "--id", id, "--chat-alerts=false", "--push-template", "{sender} in {dialog}: {body}",
		"--vapid-generate", "--vapid-subject", "mailto:ops@example.com", "--fcm-service-account", sa, "--apns-key", p8File(t),
		"--apns-key-id", "ABC123DEFG", "--apns-team-id", "TEAM123456", "--apns-topic", "com.example.chat")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("app update: exit %d, stderr %q", r.code, r.stderr)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("output %q: %v", r.stdout, err)
	}
	want := map[string]any{"id": float64(app.ID), "chat_alerts": false, "push_template": "{sender} in {dialog}: {body}",
		"vapid_subject": "mailto:ops@example.com", "fcm": true, "fcm_project": "parley-test", "apns": true,
		"apns_key_id": "ABC123DEFG", "apns_team_id": "TEAM123456", "apns_topic": "com.example.chat"}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("%s = %v, want %v (output %s)", k, out[k], v, r.stdout)
		}
	}
	pub, _ := out["vapid_public_key"].(string)
	if raw, err := base64.RawURLEncoding.DecodeString(pub); err != nil || len(raw) != 65 {
		t.Fatalf("vapid_public_key %q", pub)
	}
	if strings.Contains(r.stdout, "PRIVATE") || strings.Contains(r.stdout, "private") {
		t.Fatalf("the output shows a secret: %s", r.stdout)
	}
	// The secrets are sealed in the database, the key beside it.
	if fi, err := os.Stat(filepath.Join(dir, push.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("push.key: %v %v", fi, err)
	}
	db, err := os.ReadFile(filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(dir, sqlite.FileName+"-wal"))
	body := strings.TrimSpace(strings.Split(string(saKey), "\n")[1])
	if strings.Contains(string(db), body) || strings.Contains(string(wal), body) {
		t.Fatal("the FCM private key is stored in the clear")
	}
	if a := listApps(t, dir)[0]; a.ChatAlerts || a.VAPIDPublicKey != pub {
		t.Fatalf("app list after update: %+v", a)
	}
	// Blob and push flags together; what is not named stays.
	r = run(t, nil, "app", "update", "--data-dir", dir, "--id", id, "--blob-max-size", "2048", "--chat-alerts=true")
	if r.code != 0 || !strings.Contains(r.stdout, `"blob_max_size":2048`) || !strings.Contains(r.stdout, `"chat_alerts":true`) ||
		!strings.Contains(r.stdout, `"vapid_public_key":"`+pub+`"`) || !strings.Contains(r.stdout, `"fcm":true`) {
		t.Fatalf("second update: exit %d, stdout %s, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestAppUpdatePushRefusals(t *testing.T) {
	dir := t.TempDir()
	app := parseCreated(t, run(t, nil, "app", "create", "--data-dir", dir, "--name", "A"))
	id := strconv.FormatInt(app.ID, 10)
	notSA := writeFile(t, "user.json", []byte(`{"type":"authorized_user","client_id":"x","refresh_token":"y"}`))
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--push-template", "{sender}: {text}", "--chat-alerts=false"}, "--push-template"},
		{[]string{"--fcm-service-account", notSA, "--vapid-generate"}, "--fcm-service-account"},
		{[]string{"--fcm-service-account", filepath.Join(t.TempDir(), "missing.json")}, "--fcm-service-account"},
		{[]string{"--apns-key", notSA}, "--apns-key"},
		{[]string{"--apns-key-id", "short"}, "--apns-key-id"},
		{[]string{"--vapid-subject", "ops@example.com"}, "--vapid-subject"},
		{[]string{"--chat-alerts=maybe"}, "chat-alerts"},
	} {
		r := run(t, nil, append([]string{"app", "update", "--data-dir", dir, "--id", id}, tc.args...)...)
		if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, tc.flag) {
			t.Errorf("app update %q: exit %d, stdout %q, stderr %q; want a refusal naming %s", tc.args, r.code, r.stdout, r.stderr, tc.flag)
		}
	}
	if a := listApps(t, dir)[0]; !a.ChatAlerts || a.VAPIDPublicKey != "" {
		t.Fatalf("refused updates changed the app: %+v", a)
	}
	r := run(t, nil, "app", "update", "--data-dir", dir, "--id", "999", "--chat-alerts=false")
	if r.code == 0 || !strings.Contains(r.stderr, "no application 999") {
		t.Errorf("unknown app: exit %d, stderr %q", r.code, r.stderr)
	}
	r = run(t, nil, "app", "update", "--data-dir", dir, "--id", id)
	wantUsageError(t, r, "nothing to change", "--blob-max-size", "--chat-alerts", "--push-template", "--vapid-generate",
		"--vapid-subject", "--fcm-service-account", "--apns-key", "--apns-key-id", "--apns-team-id", "--apns-topic")
}

func TestPushStatus(t *testing.T) {
	dir := t.TempDir()
	r := run(t, nil, "push", "status", "--data-dir", dir)
	ls := lines(t, "stdout", r.stdout)
	if r.code != 0 || len(ls) != 6 || !strings.Contains(ls[0], "QUEUED") || !strings.Contains(ls[0], "OLDEST QUEUED") ||
		ls[5] != "messages whose chat alerts are not queued yet: 0" {
		t.Fatalf("empty status: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for i, ch := range push.Channels {
		if f := strings.Fields(ls[i+1]); len(f) != 8 || f[0] != string(ch) || f[1] != "0" || f[7] != "-" {
			t.Errorf("line %q: want %s with zeros and no age", ls[i+1], ch)
		}
	}
	// Two pushes queued an hour ago, one of them sent.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &auth.App{Name: "A", AuthKey: "k", AuthSecret: "s", CreatedAt: time.Now()}
	if err := db.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	u := &auth.User{AppID: a.ID, Login: "u", PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for _, udid := range []string{"1", "2"} {
		if err := db.PutSubscription(ctx, &push.Subscription{AppID: a.ID, UserID: u.ID, Channel: push.GCM, Platform: "android",
			UDID: udid, Environment: push.Development, Token: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	hourAgo := time.Now().Add(-time.Hour)
	if _, err := db.CreateEvent(ctx, &push.Event{AppID: a.ID, UserID: u.ID, Environment: push.Development, Message: "e30=", CreatedAt: hourAgo},
		push.Selector{IDs: []int64{u.ID}}, []push.Channel{push.GCM}); err != nil {
		t.Fatal(err)
	}
	items, err := db.ClaimDue(ctx, push.GCM, time.Now(), time.Minute, 1)
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %v %v", items, err)
	}
	if err := db.Finish(ctx, []push.Outcome{{ID: items[0].ID, State: push.Sent, Tries: 1, At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	r = run(t, nil, "push", "status", "--data-dir", dir, "--json")
	ls = lines(t, "stdout", r.stdout)
	if r.code != 0 || len(ls) != len(push.Channels)+1 || ls[len(ls)-1] != `{"pending_chat_alerts":0}` {
		t.Fatalf("status --json: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	var gcm map[string]any
	for _, l := range ls[:len(ls)-1] {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if m["channel"] == "gcm" {
			gcm = m
		} else if m["queued"] != float64(0) || m["oldest_queued_age_seconds"] != nil {
			t.Errorf("idle channel: %s", l)
		}
	}
	age, _ := gcm["oldest_queued_age_seconds"].(float64)
	if gcm["queued"] != float64(1) || gcm["due"] != float64(1) || gcm["sent"] != float64(1) || gcm["dead"] != float64(0) || age < 3600 || age > 3600+600 {
		t.Fatalf("gcm: %v", gcm)
	}
	r = run(t, nil, "push", "status", "--data-dir", dir)
	if !strings.Contains(r.stdout, "1h0m") {
		t.Errorf("table does not show the hour-old push's age:\n%s", r.stdout)
	}
	wantUsageError(t, run(t, nil, "push", "frob"), "frob")
}
