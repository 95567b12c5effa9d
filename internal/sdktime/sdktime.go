// Package sdktime reads the dates the ConnectyCube SDK and REST.md §1.10
// allow: Unix seconds (integer or decimal), ISO 8601, or JavaScript's
// Date.toString(). The REST decoder and the custom-data domain both read
// them; neither imports the other.
package sdktime

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// jsDateLayout is JavaScript's Date.prototype.toString without the trailing
// "(zone name)", which the SDK sends for Date values (REST.md §1.4).
const jsDateLayout = "Mon Jan 02 2006 15:04:05 GMT-0700"

// Parse reads a date in any form REST.md §1.10 allows: Unix seconds
// (integer or decimal), ISO 8601, or JavaScript's Date.toString().
func Parse(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f < -62135596800 || f > 253402300799 {
			return time.Time{}, false
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	if i := strings.Index(s, " ("); i > 0 {
		s = s[:i]
	}
	if t, err := time.Parse(jsDateLayout, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}
