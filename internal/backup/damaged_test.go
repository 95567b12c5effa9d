package backup_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/backup"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// readArchive returns a plain tar backup's entries in order.
func readArchive(t *testing.T, file string) (names []string, bodies map[string][]byte) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bodies = map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		bodies[h.Name] = b
	}
}

// writeArchive writes entries as a backup, with a manifest that matches
// them (so that only the databases' own checks can find a fault).
func writeArchive(t *testing.T, file string, names []string, bodies map[string][]byte) {
	t.Helper()
	var m backup.Manifest
	if err := json.Unmarshal(bodies[backup.ManifestName], &m); err != nil {
		t.Fatal(err)
	}
	m.Files = nil
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	put := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range names {
		if name == backup.ManifestName {
			continue
		}
		sum := sha256.Sum256(bodies[name])
		m.Files = append(m.Files, backup.File{Name: name, Size: int64(len(bodies[name])), SHA256: hex.EncodeToString(sum[:])})
		put(name, bodies[name])
	}
	raw, _ := json.Marshal(m)
	put(backup.ManifestName, raw)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedBackupRefused: a flipped byte, a cut-short file and a
// corrupt database under a matching manifest are each refused, and the
// data dir gets no store.
func TestDamagedBackupRefused(t *testing.T) {
	ctx := context.Background()
	_, _, file := backupOf(t)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	names, bodies := readArchive(t, file)
	if names[len(names)-1] != backup.ManifestName {
		t.Fatalf("archive entries %v: manifest not last", names)
	}

	flipped := bytes.Clone(good)
	flipped[512+len(bodies[sqlite.FileName])/2] ^= 0x40 // inside parley.db, the first entry
	corruptDB := bytes.Clone(bodies[sqlite.FileName])
	page := 4096
	if len(corruptDB) < 6*page {
		t.Fatalf("parley.db is %d bytes: too small to corrupt a middle page", len(corruptDB))
	}
	for i := 3*page + 8; i < 3*page+page/2; i++ {
		corruptDB[i] = 0xA5 // a b-tree page's cells, header page intact
	}
	rebuilt := filepath.Join(t.TempDir(), "corrupt-db.tar")
	bodies[sqlite.FileName] = corruptDB
	writeArchive(t, rebuilt, names, bodies)

	cases := map[string]string{
		"flipped byte": writeFile(t, flipped),
		"cut short":    writeFile(t, good[:len(good)/2]),
		"not a backup": writeFile(t, []byte("hello, this is not a tar file at all")),
		"corrupt db":   rebuilt,
	}
	for name, from := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			_, err := backup.Restore(ctx, backup.RestoreOptions{From: from, DataDir: dir})
			if !errors.Is(err, backup.ErrDamaged) {
				t.Fatalf("restore: %v; want ErrDamaged", err)
			}
			t.Logf("refused: %v", err)
			if name == "corrupt db" && !strings.Contains(err.Error(), sqlite.FileName) {
				t.Fatalf("error %q does not name %s", err, sqlite.FileName)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "serve.lock" {
					t.Fatalf("refused restore left %s in the data dir", e.Name())
				}
			}
		})
	}
}

func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "backup.tar")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
