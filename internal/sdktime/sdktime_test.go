package sdktime

import "testing"

func TestParse(t *testing.T) {
	cases := map[string]int64{ // input → Unix micros
		"1700000000":                  1700000000_000000,
		"1700000000.25":               1700000000_250000,
		"2024-01-12T09:41:07Z":        1705052467_000000,
		"2024-01-12T09:41:07.5+01:00": 1705048867_500000,
		"Fri Nov 10 2017 00:00:00 GMT+0000 (Coordinated Universal Time)": 1510272000_000000,
		"Fri Nov 10 2017 02:00:00 GMT+0200":                              1510272000_000000,
	}
	for in, want := range cases {
		got, ok := Parse(in)
		if !ok || got.UnixMicro() != want {
			t.Errorf("Parse(%q) = %v, %v; want %d", in, got.UnixMicro(), ok, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "NaN", "1e400", "2024-13-01"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
