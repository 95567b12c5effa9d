// Command ncruces opens github.com/ncruces/go-sqlite3 through its
// database/sql driver and prints the SQLite version. Used to measure build
// time and binary size (without FTS5; see ../ncruces-fts5).
package main

import (
	"database/sql"
	"fmt"
	"log"

	_ "github.com/ncruces/go-sqlite3/driver"
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
	fmt.Println("github.com/ncruces/go-sqlite3: SQLite", v)
}
