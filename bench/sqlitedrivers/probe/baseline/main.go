// Command baseline links database/sql without any SQLite driver. It is the
// reference point for the build-time and binary-size measurements (see
// ../../measure_build.sh).
package main

import (
	"database/sql"
	"fmt"
)

func main() {
	fmt.Println("drivers:", sql.Drivers())
}
