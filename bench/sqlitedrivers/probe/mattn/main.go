// Command mattn opens github.com/mattn/go-sqlite3 (cgo) through database/sql
// and prints the SQLite version. Used to measure build time and binary size,
// with and without -tags sqlite_fts5.
package main

import (
	"database/sql"
	"fmt"
	"log"

	_ "github.com/mattn/go-sqlite3"
)

func main() {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow("SELECT sqlite_version()").Scan(&v); err != nil {
		log.Fatal(err)
	}
	fmt.Println("github.com/mattn/go-sqlite3: SQLite", v)
}
