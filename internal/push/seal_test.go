package push_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/push"
)

func TestSealerRoundTripAndKeyFile(t *testing.T) {
	dir := t.TempDir()
	s1, err := push.OpenSealer(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, push.KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	sealed, err := s1.Seal([]byte("secret"))
	if err != nil || bytes.Contains(sealed, []byte("secret")) {
		t.Fatalf("Seal: %q, %v", sealed, err)
	}
	again, _ := s1.Seal([]byte("secret"))
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one text are equal: the nonce is not random")
	}
	// A second opener reads the same key.
	s2, err := push.OpenSealer(dir)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := s2.Open(sealed); err != nil || string(plain) != "secret" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s2.Open(sealed); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
	// Another data directory's key does not open it.
	other, _ := push.OpenSealer(t.TempDir())
	if _, err := other.Open(again); err == nil {
		t.Fatal("another key opened it")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, push.KeyFile+".*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestSealerBadKeyFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, push.KeyFile), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := push.OpenSealer(dir)
	if err == nil || !strings.Contains(err.Error(), "5 bytes, want 32") {
		t.Fatalf("OpenSealer on a 5-byte key: %v", err)
	}
}
