package rest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/parley-chat/parley/internal/servertest"
)

// These benchmarks go through the real server over loopback HTTP: client,
// routing, authentication, the SQLite store and JSON encoding. Figures are
// in the README.

func BenchmarkCreateUserSession(b *testing.B) {
	env := servertest.Start(b)
	u := env.NewUser(b)
	body, _ := json.Marshal(map[string]any{"application_id": env.App.ID, "auth_key": env.App.AuthKey,
		"user": map[string]any{"login": u.Login, "password": u.Password}})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			post(b, env, "/session.json", body, http.StatusCreated)
		}
	})
}

func BenchmarkGetUser(b *testing.B) {
	env := servertest.Start(b)
	u := env.NewUser(b)
	path := fmt.Sprintf("%s/users/%d.json", env.URL, u.ID)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			get(b, env, path, u.Token)
		}
	})
}

func post(b *testing.B, env *servertest.Env, path string, body []byte, want int) {
	resp, err := env.Client.Post(env.URL+path, "application/json;charset=utf-8", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
}

func get(b *testing.B, env *servertest.Env, url, token string) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("CB-Token", token)
	resp, err := env.Client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
}
