package cli

import "testing"

// The server runs on one Go processor more than Go would choose, unless
// --procs or GOMAXPROCS says otherwise.
func TestProcs(t *testing.T) {
	cases := []struct {
		set       int
		fromEnv   bool
		goDefault int
		want      int
	}{
		{0, false, 2, 3},
		{0, false, 1, 2},
		{0, true, 2, 2},
		{4, false, 2, 4},
		{4, true, 2, 4},
	}
	for _, c := range cases {
		if got := procs(c.set, c.fromEnv, c.goDefault); got != c.want {
			t.Errorf("procs(%d, %v, %d) = %d, want %d", c.set, c.fromEnv, c.goDefault, got, c.want)
		}
	}
}
