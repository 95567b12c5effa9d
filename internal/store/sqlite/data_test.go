package sqlite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/data"
)

// A class's indexed fields are read through its partial index: an
// equality filter and a sort on one; a field without an index scans the
// class in id order.
func TestDataIndexesUsed(t *testing.T) {
	db := open(t, t.TempDir())
	ctx := context.Background()
	app := &auth.App{Name: "a", AuthKey: "k", AuthSecret: "s", CreatedAt: time.Now()}
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	fs, _ := data.ParseFields("score:Integer,reason:String,who:Integer")
	c := &data.Class{AppID: app.ID, Name: "R", Fields: fs, Perms: data.DefaultClassPerms(), Indexes: []string{"score", "who"}}
	if err := db.CreateClass(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := db.Class(ctx, app.ID, "R")
	if err != nil || strings.Join(got.Indexes, ",") != "score,who" {
		t.Fatalf("class read back: %+v %v", got, err)
	}
	v := &data.Viewer{UserID: 1, Tags: []string{"mods"}}
	for _, tc := range []struct {
		q    data.Query
		want string
	}{
		{data.Query{Limit: 10, Conds: []data.Cond{{Field: "who", Op: "eq", Values: []any{int64(4)}}}}, "USING INDEX data_c1_who"},
		{data.Query{Limit: 10, Conds: []data.Cond{{Field: "who", Op: "in", Values: []any{int64(4), int64(5)}}}}, "USING INDEX data_c1_who"},
		{data.Query{Limit: 10, Sort: data.Sort{Field: "score", Desc: true}, Conds: []data.Cond{{Field: "score", Op: "gt", Values: []any{int64(4)}}}}, "USING INDEX data_c1_score"},
		{data.Query{Limit: 10, Sort: data.Sort{Field: "score"}}, "USING INDEX data_c1_score"},
		{data.Query{Limit: 10, Conds: []data.Cond{{Field: "score", Op: "gt", Values: []any{int64(4)}}}}, "PRIMARY KEY"},
		{data.Query{Limit: 10, Conds: []data.Cond{{Field: "reason", Op: "eq", Values: []any{"x"}}}}, "PRIMARY KEY"},
	} {
		tc.q.Indexed = c.Indexes
		plan, err := db.DataPlan(ctx, c.ID, tc.q, v)
		if err != nil {
			t.Fatal(err)
		}
		if p := strings.Join(plan, " | "); !strings.Contains(p, tc.want) {
			t.Errorf("plan for %+v = %s; want it to use %s", tc.q, p, tc.want)
		}
	}
}
