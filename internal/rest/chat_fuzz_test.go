package rest

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/rest/form"
)

// chatQuerySeeds are query strings as the connectycube 6.1.2 SDK writes them
// (REST.md §1.4: keys percent-encoded, values with encodeURIComponent,
// arrays sorted and comma-joined or expanded as k[]) for the dialog and
// message list calls, plus the docs' forms and a few near misses.
var chatQuerySeeds = []string{
	"",
	"limit=10&skip=0&sort_desc=last_message_date_sent&type%5Bin%5D=2%2C3&updated_at%5Bgt%5D=1700000000",
	"updated_at%5Bgt%5D=1700000000",
	"updated_at%5Bgt%5D=1705311705.250",
	"updated_at%5Bgte%5D=2024-01-15T09%3A41%3A45.000Z",
	"updated_at%5Blt%5D=Fri%20Nov%2010%202017%2000%3A00%3A00%20GMT%2B0000%20(Coordinated%20Universal%20Time)",
	"occupants_ids[]=100&occupants_ids[]=20&occupants_ids[]=3",
	"occupants_ids%5Ball%5D=10%2C5",
	"occupants_ids=29086",
	"_id=65a1f0c2e4b0a1b2c3d4e5f6%2C65a1f0c2e4b0a1b2c3d4e5f7&name%5Bctn%5D=x",
	"_id=5356c64ab35c12bd3b108a41",
	"_id%5Bin%5D=5356c64ab35c12bd3b108a41,5356c64ab35c12bd3b108a42",
	"_id%5Bnin%5D%5B%5D=5356c64ab35c12bd3b108a41",
	"name%5Bctn%5D=party",
	"extensions%5Blocation%5D=Sun%20bar",
	"extensions%5Blocation%5D%5Bne%5D=Sun%20bar",
	"user_id=29085&type=2",
	"count=1",
	"sort_asc=date_sent&limit=100&skip=0",
	"sort_desc=_id",
	"type%5Bnin%5D=1%2C4&last_message_date_sent%5Blte%5D=1705311705",
	"chat_dialog_id=65a1f0c2e4b0a1b2c3d4e5f6&sort_desc=date_sent&limit=100&skip=0",
	"chat_dialog_id=65a1f0c2e4b0a1b2c3d4e5f6&date_sent%5Bgt%5D=1705311705",
	"chat_dialog_id=65a1f0c2e4b0a1b2c3d4e5f6&date_sent%5Blt%5D=1705311705&limit=50",
	"chat_dialog_id=65a1f0c2e4b0a1b2c3d4e5f6&mark_as_read=0",
	"chat_dialog_id=65a1f0c2e4b0a1b2c3d4e5f6&preview=1",
	"chat_dialog_id=65a1f0c2e4b0a1b2c3d4e5f6&attachments.type=photo",
	"chat_dialog_id=65a1f0c2e4b0a1b2c3d4e5f6&attachments%5Btype%5D=image",
	"sender_id%5Bin%5D%5B%5D=1&sender_id%5Bin%5D%5B%5D=2",
	"message%5Bctn%5D=hello&recipient_id=0",
	"b=true&n=null&u=undefined",
	"name%5Bregex%5D=x",
	"foo=1",
	"limit=101",
	"limit=-1&skip=-5",
	"sort_asc=name&sort_desc=name",
	"sort_desc=nope",
	"_id=XYZ",
	"updated_at%5Bgt%5D=yesterday",
	"type%5Ball%5D=2",
	"extensions%5B%5D=1",
	"extensions=1",
	"extensions%5Ba%5D%5Bb%5D%5Bc%5D=1",
	"attachments%5Btype%5D%5Bin%5D=a,b",
	"limit=1&limit=2",
	"sort_desc%5Bx%5D=1",
	"created_at%5Bgt%5D=1e309",
	"date_sent%5Bgt%5D=99999999999999999999",
}

// FuzzChatQuery feeds the dialog and message filter parser: it must never
// panic, every error must be a domain error of kind Invalid (422) or
// Malformed (400), and every accepted query must be one the store can run.
func FuzzChatQuery(f *testing.F) {
	for _, s := range chatQuerySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tree, err := form.ParseQuery(raw)
		if err != nil {
			return // form has its own fuzz target; its errors are ErrMalformed
		}
		for _, c := range []struct {
			name     string
			fields   map[string]chat.Kind
			sorts    map[string]string
			reserved map[string]bool
			def, max int64
		}{
			{"dialogs", chat.DialogFields, chat.DialogSorts, dialogReserved, chat.MaxPageSize, chat.MaxPageSize},
			{"messages", chat.MessageFields, chat.MessageSorts, messageReserved, chat.DefaultMessagePage, chat.MaxMessagePage},
		} {
			q, err := chatQuery(params(tree), c.fields, c.sorts, c.reserved, c.def, c.max)
			if err != nil {
				e, ok := apperr.As(err)
				if !ok {
					t.Fatalf("%s: %q: error %v (%T) is not an *apperr.Error", c.name, raw, err, err)
				}
				if e.Kind != apperr.KindInvalid && e.Kind != apperr.KindMalformed {
					t.Fatalf("%s: %q: error %v has kind %d, want Invalid or Malformed", c.name, raw, err, e.Kind)
				}
				continue
			}
			checkQuery(t, c.name, raw, q, c.fields, c.sorts, c.max)
		}
	})
}

// checkQuery asserts the invariants the stores rely on.
func checkQuery(t *testing.T, name, raw string, q chat.Query, fields map[string]chat.Kind, sorts map[string]string, max int64) {
	t.Helper()
	if q.Skip < 0 || q.Limit < 0 || int64(q.Limit) > max {
		t.Fatalf("%s: %q: skip %d limit %d out of range", name, raw, q.Skip, q.Limit)
	}
	if q.Sort != "" {
		found := false
		for _, f := range sorts {
			found = found || f == q.Sort
		}
		if !found {
			t.Fatalf("%s: %q: sort %q is not a sort field", name, raw, q.Sort)
		}
	}
	for _, c := range q.Conds {
		kind, ok := fields[c.Field]
		if !ok {
			ext, isExt := strings.CutPrefix(c.Field, "extensions.")
			extKind, anyExt := fields["extensions.*"]
			if !isExt || !anyExt || extKind != chat.KindString || !validExtName(ext) {
				t.Fatalf("%s: %q: condition on unknown field %q", name, raw, c.Field)
			}
			kind = chat.KindString
		}
		if !chat.Operators[c.Op] {
			t.Fatalf("%s: %q: unknown operator %q", name, raw, c.Op)
		}
		if len(c.Values) == 0 {
			t.Fatalf("%s: %q: condition %s[%s] without values", name, raw, c.Field, c.Op)
		}
		for _, v := range c.Values {
			switch kind {
			case chat.KindInt, chat.KindIntList:
				_, ok = v.(int64)
			case chat.KindTime:
				_, ok = v.(time.Time)
			case chat.KindID:
				var s string
				s, ok = v.(string)
				ok = ok && chat.ValidID(s)
			default:
				_, ok = v.(string)
			}
			if !ok {
				t.Fatalf("%s: %q: value %#v of %s does not fit its kind %d", name, raw, v, c.Field, kind)
			}
		}
	}
}
