// Command ncruces-fts5 opens github.com/ncruces/go-sqlite3 with the FTS5
// extension registered on every connection (FTS5 is not built in as of
// v0.37.0), checks that fts5 works and prints the SQLite version. Used to
// measure build time and binary size.
package main

import (
	"fmt"
	"log"

	"github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"
)

func main() {
	db, err := driver.Open(":memory:", fts5.Register)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE VIRTUAL TABLE t USING fts5(body)"); err != nil {
		log.Fatal(err)
	}
	var v string
	if err := db.QueryRow("SELECT sqlite_version()").Scan(&v); err != nil {
		log.Fatal(err)
	}
	fmt.Println("github.com/ncruces/go-sqlite3 + ext/fts5: SQLite", v)
}
