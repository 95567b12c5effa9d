package backup_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
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

// TestDamagedBackupRefused: a flipped byte, a cut-short file, a file that
// is no backup, a corrupt database under a matching manifest, and a
// database with a schema migration this binary does not know are each
// refused, and the data dir gets no store.
func TestDamagedBackupRefused(t *testing.T) {
	ctx := context.Background()
	_, _, file := backupOf(t)
	whole, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	names, bodies := readArchive(t, file)
	if names[len(names)-1] != backup.ManifestName {
		t.Fatalf("archive entries %v: manifest not last", names)
	}

	flipped := bytes.Clone(whole)
	flipped[512+len(bodies[sqlite.FileName])/2] ^= 0x40 // inside parley.db, the first entry
	corruptDB := bytes.Clone(bodies[sqlite.FileName])
	page := 4096
	if len(corruptDB) < 6*page {
		t.Fatalf("parley.db is %d bytes: too small to corrupt a middle page", len(corruptDB))
	}
	for i := 3*page + 8; i < 3*page+page/2; i++ {
		corruptDB[i] = 0xA5 // a b-tree page's cells, header page intact
	}
	newer := filepath.Join(t.TempDir(), "newer.tar")
	good := bodies[sqlite.FileName]
	bodies[sqlite.FileName] = withMigration(t, good, 9999)
	writeArchive(t, newer, names, bodies)
	rebuilt := filepath.Join(t.TempDir(), "corrupt-db.tar")
	bodies[sqlite.FileName] = corruptDB
	writeArchive(t, rebuilt, names, bodies)

	cases := map[string]string{
		"flipped byte": writeFile(t, flipped),
		"cut short":    writeFile(t, whole[:len(whole)/2]),
		"newer schema": newer,
		"not a backup": writeFile(t, []byte("hello, this is not a tar file at all")),
		"corrupt db":   rebuilt,
	}
	for name, from := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			_, err := backup.Restore(ctx, backup.RestoreOptions{From: from, DataDir: dir})
			want := backup.ErrDamaged
			if name == "newer schema" {
				want = backup.ErrTooNew
			}
			if !errors.Is(err, want) {
				t.Fatalf("restore: %v; want %v", err, want)
			}
			t.Logf("refused: %v", err)
			if name == "corrupt db" && !strings.Contains(err.Error(), "integrity_check") {
				t.Fatalf("error %q does not name the integrity check", err)
			}
			if name == "newer schema" && !strings.Contains(err.Error(), "migration 9999") {
				t.Fatalf("error %q does not name the unknown migration", err)
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

// withMigration returns a copy of the database db with one more applied
// migration, number v, as a newer parley would leave it.
func withMigration(t *testing.T, db []byte, v int) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "newer.db")
	if err := os.WriteFile(p, db, 0o600); err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)`, v); err != nil {
		t.Fatal(err)
	}
	// Back out of WAL mode so that everything is in the one file.
	if _, err := conn.Exec(`PRAGMA journal_mode = DELETE`); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "backup.tar")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
