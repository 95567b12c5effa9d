package backup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/backup"
	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/datadir"
	"github.com/parley-chat/parley/internal/servertest"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// startOn runs a server on dataDir for the rest of the test.
func startOn(t *testing.T, dataDir string) *servertest.Env {
	t.Helper()
	return servertest.Start(t, func(c *config.Config) { c.DataDir = dataDir })
}

// privateDialog makes a's private dialog with b and returns its id.
func privateDialog(t *testing.T, env *servertest.Env, a, b *servertest.User) string {
	t.Helper()
	resp := env.Do(t, servertest.Req{Method: "POST", Path: "/chat/Dialog.json", Token: a.Token,
		Body: map[string]any{"type": 3, "occupants_ids": b.ID}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("create dialog: %d %s", resp.Status, resp.Raw)
	}
	return resp.JSON["_id"].(string)
}

// post stores a message through REST; it runs in sender goroutines, so it
// returns errors instead of failing the test.
func post(client *http.Client, url, token, dialog, body string) (string, error) {
	raw, _ := json.Marshal(map[string]any{"chat_dialog_id": dialog, "message": body})
	req, err := http.NewRequest("POST", url+"/chat/Message.json", bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("CB-Token", token)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("POST /chat/Message.json: %d %s", resp.StatusCode, out)
	}
	var m struct {
		ID string `json:"_id"`
	}
	if err := json.Unmarshal(out, &m); err != nil || m.ID == "" {
		return "", fmt.Errorf("POST /chat/Message.json: answer %s", out)
	}
	return m.ID, nil
}

// messageIDs lists every message of the dialog, as u sees it.
func messageIDs(t *testing.T, env *servertest.Env, token, dialog string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for skip := 0; ; skip += 1000 {
		resp := env.Do(t, servertest.Req{Method: "GET", Token: token,
			Path: fmt.Sprintf("/chat/Message.json?mark_as_read=0&limit=1000&skip=%d&chat_dialog_id=%s", skip, dialog)})
		if resp.Status != http.StatusOK {
			t.Fatalf("list messages: %d %s", resp.Status, resp.Raw)
		}
		items := resp.JSON["items"].([]any)
		for _, it := range items {
			out[it.(map[string]any)["_id"].(string)] = true
		}
		if len(items) < 1000 {
			return out
		}
	}
}

// TestBackupUnderLoadRestores takes a backup while senders store messages
// through REST, restores it into a new data dir, starts a server there,
// and finds every message whose 201 arrived before the backup started.
func TestBackupUnderLoadRestores(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	env := startOn(t, dir)
	a, b := env.NewUser(t), env.NewUser(t)
	dialog := privateDialog(t, env, a, b)
	blobData := bytes.Repeat([]byte("parley blob "), 5000)
	blobUID := uploadBlob(t, env, a, blobData)
	if _, err := post(env.Client, env.URL, a.Token, dialog, "findable needle before the backup"); err != nil {
		t.Fatal(err)
	}

	var (
		mu      sync.Mutex
		acked   []string
		stop    atomic.Bool
		wg      sync.WaitGroup
		sendErr = make(chan error, 8)
	)
	const senders = 4
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token := a.Token
			if s%2 == 1 {
				token = b.Token
			}
			for i := 0; !stop.Load(); i++ {
				id, err := post(env.Client, env.URL, token, dialog, fmt.Sprintf("sender %d message %d", s, i))
				if err != nil {
					sendErr <- err
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}()
	}
	t.Cleanup(func() { stop.Store(true); wg.Wait() })
	servertest.Eventually(t, 30*time.Second, "200 messages stored", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 200
	})

	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	file := filepath.Join(t.TempDir(), "parley-backup.tar.gz")
	m, err := backup.Create(ctx, backup.CreateOptions{DataDir: dir, To: file, Version: "test"})
	if err != nil {
		t.Fatalf("backup under load: %v", err)
	}
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	stop.Store(true)
	wg.Wait()
	select {
	case err := <-sendErr:
		t.Fatalf("sender: %v", err)
	default:
	}
	if during == 0 {
		t.Fatalf("no message was stored while the backup ran: not a backup under load")
	}
	t.Logf("%d messages acknowledged before the backup, %d while it ran; search.db in backup: %v (%s)", len(before), during, m.SearchIndex, m.SearchNote)
	if m.Blobs != 1 {
		t.Fatalf("manifest: %d blobs, want the one uploaded", m.Blobs)
	}
	if m.LastMessageSeq < int64(len(before)) {
		t.Fatalf("manifest: last message seq %d < %d acknowledged", m.LastMessageSeq, len(before))
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if _, err := backup.Restore(ctx, backup.RestoreOptions{From: file, DataDir: restored}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	for _, name := range []string{sqlite.FileName, "push.key", "blob-ticket.key"} {
		want, err1 := os.ReadFile(filepath.Join(dir, name))
		got, err2 := os.ReadFile(filepath.Join(restored, name))
		if name != sqlite.FileName && (err1 != nil || err2 != nil || !bytes.Equal(want, got)) {
			t.Fatalf("%s not restored as it was: %v %v", name, err1, err2)
		}
		if err2 != nil {
			t.Fatalf("restored %s: %v", name, err2)
		}
	}

	env2 := startOn(t, restored)
	if env2.App.ID != env.App.ID || env2.App.AuthKey != env.App.AuthKey {
		t.Fatalf("restored default app %d/%s, want %d/%s", env2.App.ID, env2.App.AuthKey, env.App.ID, env.App.AuthKey)
	}
	token := env2.Login(t, a.Login, a.Password)
	got := messageIDs(t, env2, token, dialog)
	missing := 0
	for _, id := range before {
		if !got[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d messages acknowledged before the backup are missing after restore", missing, len(before))
	}
	if _, err := sqlite.CheckCopy(ctx, restored); err != nil {
		t.Fatalf("restored store beside its server: %v", err)
	}
	resp := env2.Do(t, servertest.Req{Method: "GET", Path: "/blobs/" + blobUID + "?token=" + token})
	if resp.Status != http.StatusOK || !bytes.Equal(resp.Raw, blobData) {
		t.Fatalf("restored blob: %d, %d bytes; want 200 and the %d uploaded", resp.Status, len(resp.Raw), len(blobData))
	}
	// Search works on the restored index (or the one rebuilt from the
	// messages when the backup left search.db out).
	resp = env2.Do(t, servertest.Req{Method: "GET", Path: "/chat/search.json?search_text=findable+needle", Token: token})
	if resp.Status != http.StatusOK {
		t.Fatalf("search: %d %s", resp.Status, resp.Raw)
	}
	if found := resp.JSON["results"].(map[string]any)["messages"].([]any); len(found) != 1 {
		t.Fatalf("search after restore found %d messages, want 1: %s", len(found), resp.Raw)
	}
}

// backupOf starts a server on a new data dir, stores a message and
// returns the data dir, the server and a backup of it (plain tar).
func backupOf(t *testing.T) (string, *servertest.Env, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	env := startOn(t, dir)
	a, b := env.NewUser(t), env.NewUser(t)
	if _, err := post(env.Client, env.URL, a.Token, privateDialog(t, env, a, b), "hello"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "b.tar")
	if _, err := backup.Create(context.Background(), backup.CreateOptions{DataDir: dir, To: file}); err != nil {
		t.Fatal(err)
	}
	return dir, env, file
}

// TestRestoreRefusals: a data dir a server holds, a data dir with files
// (unless --force), and an existing backup file (unless --force).
func TestRestoreRefusals(t *testing.T) {
	ctx := context.Background()
	dir, _, file := backupOf(t)

	_, err := backup.Restore(ctx, backup.RestoreOptions{From: file, DataDir: dir, Force: true})
	if !errors.Is(err, datadir.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("process %d", os.Getpid())) || !strings.Contains(err.Error(), "stop the server") {
		t.Fatalf("restore into the running server's data dir: %v; want ErrLocked naming this process", err)
	}

	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Restore(ctx, backup.RestoreOptions{From: file, DataDir: other}); !errors.Is(err, backup.ErrNotEmpty) {
		t.Fatalf("restore into a non-empty dir: %v; want ErrNotEmpty", err)
	}
	if _, err := os.Stat(filepath.Join(other, sqlite.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refused restore left %s: %v", sqlite.FileName, err)
	}
	// A stale WAL beside the old store must not survive a forced restore.
	if err := os.WriteFile(filepath.Join(other, sqlite.FileName+"-wal"), []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Restore(ctx, backup.RestoreOptions{From: file, DataDir: other, Force: true}); err != nil {
		t.Fatalf("forced restore: %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, sqlite.FileName+"-wal")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale WAL kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, "notes.txt")); err != nil {
		t.Fatalf("forced restore removed a file that is not Parley's: %v", err)
	}

	if _, err := backup.Create(ctx, backup.CreateOptions{DataDir: dir, To: file}); !errors.Is(err, backup.ErrExists) {
		t.Fatalf("backup over an existing file: %v; want ErrExists", err)
	}
	if _, err := backup.Create(ctx, backup.CreateOptions{DataDir: dir, To: file, Force: true}); err != nil {
		t.Fatalf("backup --force: %v", err)
	}
}
