package rest_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/data"
	"github.com/parley-chat/parley/internal/servertest"
)

// BenchmarkDataList lists /data with a filter over a class of 100,000
// records through the real server (loopback HTTP, authentication, SQLite,
// JSON), one request at a time, and reports each request's latency at
// p50 and p99. Figures and the command are in the README.
func BenchmarkDataList(b *testing.B) {
	const n = 100_000
	env := servertest.Start(b)
	newClass(b, env, "Reports", "score:Integer,reason:String,reportedUserId:Integer")
	newClass(b, env, "IndexedReports", "score:Integer,reason:String,reportedUserId:Integer", func(c *data.Class) {
		c.Indexes = []string{"score", "reportedUserId"}
	})
	u := env.NewUser(b)
	ctx := context.Background()
	caller := data.Caller{AppID: env.App.ID, UserID: u.ID}
	for _, class := range []string{"Reports", "IndexedReports"} {
		batch := make([]map[string]any, 0, data.MaxRecordsPerMulti)
		for i := range n {
			reason := fmt.Sprintf("report %d: spam and bad words", i)
			if i%1000 == 7 {
				reason = fmt.Sprintf("report %d: phishing link", i) // 100 records
			}
			batch = append(batch, map[string]any{"score": int64(i), "reason": reason, "reportedUserId": int64(i % 500)})
			if len(batch) == cap(batch) {
				if _, err := env.Server.Data.Create(ctx, caller, class, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	for _, class := range []string{"Reports", "IndexedReports"} {
		for _, q := range []struct{ name, query string }{
			{"lt_first_page", "score[lt]=50000"},                      // the first 100 records match
			{"gt_last_99", "score[gt]=99900"},                         // 99 match, the last of the class
			{"gt_sorted", "score[gt]=99000&sort_desc=score&limit=10"}, // a sort on the filtered field
			{"eq_200", "reportedUserId=42"},                           // 200 match, spread over the class
			{"ctn_100", "reason[ctn]=phishing"},                       // 100 match, spread over the class
			{"count_half", "count=1&score[gt]=50000"},                 // counts 49,999
		} {
			b.Run(class+"/"+q.name, func(b *testing.B) {
				url := env.URL + "/data/" + class + ".json?" + q.query
				lat := make([]time.Duration, 0, b.N)
				for b.Loop() {
					start := time.Now()
					get(b, env, url, u.Token)
					lat = append(lat, time.Since(start))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			})
		}
	}
}
