package push

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Directory is what a chat alert's text needs from the rest of the
// server: names and the recipient's unread count.
type Directory interface {
	// UserName is a user's full name, else their login.
	UserName(ctx context.Context, appID, userID int64) (string, error)
	// DialogName is a dialog's name as viewer sees it.
	DialogName(ctx context.Context, appID int64, dialogID string, viewer int64) (string, error)
	// UnreadTotal is the user's unread messages over all dialogs (REST.md
	// §6.5): the badge.
	UnreadTotal(ctx context.Context, appID, userID int64) (int, error)
}

// nameTTL is how long a rendered name is reused: a burst of alerts from
// one sender or in one dialog reads it once; a rename shows within it.
const nameTTL = 10 * time.Second

// renderer turns a chat alert row into its universal payload (REST.md
// §10.5), caching names briefly.
type renderer struct {
	dir Directory
	now func() time.Time
	mu  sync.Mutex
	tab map[string]cachedName
}

type cachedName struct {
	name string
	at   time.Time
}

func newRenderer(dir Directory, now func() time.Time) *renderer {
	return &renderer{dir: dir, now: now, tab: map[string]cachedName{}}
}

// alert renders it for its recipient (the subscription's user): the
// template's text, the ids, and the badge, read at send time so that it is
// the count the user has when the push arrives.
func (r *renderer) alert(ctx context.Context, it Item, t *Template) (Notification, error) {
	app, a := it.AppID, it.Alert
	sender, err := r.cached(ctx, "u"+strconv.FormatInt(app, 10)+":"+strconv.FormatInt(a.SenderID, 10), func() (string, error) {
		return r.dir.UserName(ctx, app, a.SenderID)
	})
	if err != nil {
		return nil, err
	}
	dialog := ""
	if a.DialogID != "" && t.Uses("dialog") {
		viewer := it.Sub.UserID
		dialog, err = r.cached(ctx, "d"+a.DialogID+":"+strconv.FormatInt(viewer, 10), func() (string, error) {
			return r.dir.DialogName(ctx, app, a.DialogID, viewer)
		})
		if err != nil {
			return nil, err
		}
	}
	badge, err := r.dir.UnreadTotal(ctx, app, it.Sub.UserID)
	if err != nil {
		return nil, err
	}
	n := Notification{
		"message":    t.Render(sender, dialog, a.Body), // "Attachment" for an empty body
		"message_id": a.MessageID,
		"user_id":    strconv.FormatInt(a.SenderID, 10),
		"ios_badge":  badge,
		"ios_sound":  "default",
	}
	if a.DialogID != "" {
		n["dialog_id"] = a.DialogID
	}
	return n, nil
}

func (r *renderer) cached(ctx context.Context, key string, load func() (string, error)) (string, error) {
	now := r.now()
	r.mu.Lock()
	c, ok := r.tab[key]
	r.mu.Unlock()
	if ok && now.Sub(c.at) < nameTTL {
		return c.name, nil
	}
	name, err := load()
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	if len(r.tab) >= 10_000 {
		clear(r.tab) // a burst over many names: start over rather than grow
	}
	r.tab[key] = cachedName{name, now}
	r.mu.Unlock()
	return name, nil
}
