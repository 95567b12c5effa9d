package chat

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/limit"
)

// Apps tells the domain an application's settings; the auth service
// implements it.
type Apps interface {
	// DialogExtensions returns the dialog extensions fields the app allows
	// (empty: any, at most MaxExtensions).
	DialogExtensions(ctx context.Context, appID int64) ([]string, error)
	// GroupSubscribe reports whether users may subscribe to group dialogs
	// they are not in (REST.md §5.6: a per-application switch).
	GroupSubscribe(ctx context.Context, appID int64) (bool, error)
	// UserNames returns the display names (full name, else login) of the
	// users of app among ids; ids that are no user are absent.
	UserNames(ctx context.Context, appID int64, ids []int64) (map[int64]string, error)
}

// Notifier is how the domain reaches connected clients. The real-time
// front end implements it; until one is attached every call is a no-op.
// Calls happen after the change is committed.
type Notifier interface {
	// MessageCreated delivers a message created through REST with
	// send_to_chat=1 exactly as if the sender had sent it live.
	MessageCreated(ctx context.Context, d *Dialog, m *Message)
	// MessagesDeleted sends the delete notice of each message deleted for
	// everyone to the dialog's members.
	MessagesDeleted(ctx context.Context, d *Dialog, msgs []*Message, by int64)
	// OccupantsRemoved sends the kick presence to users the owner removed.
	OccupantsRemoved(ctx context.Context, d *Dialog, users []int64)
	// ReactionsChanged sends the reactions notice of a message.
	ReactionsChanged(ctx context.Context, d *Dialog, m *Message, by int64, add, remove string)
	// SystemMessage delivers a system message from one user to another.
	SystemMessage(ctx context.Context, appID, from, to int64, id string, params map[string]any)
}

// MaxExtensions is how many extensions fields a dialog may carry.
const MaxExtensions = 3

// Service implements the chat domain over a Store.
type Service struct {
	store    Store
	apps     Apps
	notifier Notifier
	// attention says who is away, for chat alerts (alerts.go); never nil
	attention Attention
	blocks    Blocks // block lists (blocks.go); never nil
	log       *slog.Logger
	now       func() time.Time
	commit    *committer
	pairs     *pairCache
	// newMessageID makes the ids of messages whose client chose none
	// (NewMessageID; a test makes it clash on purpose).
	newMessageID func(time.Time) string
	// The per-user limits (limits.go); none until SetLimits.
	maxJoined int
	creates   *limit.Keyed[Caller]
	searches  *limit.Keyed[Caller] // nil: no search rate limit
}

// NewService returns the domain service. notifier may be nil.
func NewService(store Store, apps Apps, notifier Notifier, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if notifier == nil {
		notifier = noNotifier{}
	}
	s := &Service{store: store, apps: apps, notifier: notifier, blocks: noBlocks{}, attention: nobodyAway{}, log: log, now: now,
		pairs: newPairCache(), newMessageID: NewMessageID}
	s.commit = newCommitter(s)
	return s
}

// Close stops the message committer after storing what it has queued.
// Posting after Close fails.
func (s *Service) Close() { s.commit.close() }

// SetNotifier attaches the real-time front end once it exists.
func (s *Service) SetNotifier(n Notifier) { s.notifier = n }

type noNotifier struct{}

func (noNotifier) MessageCreated(context.Context, *Dialog, *Message)                          {}
func (noNotifier) MessagesDeleted(context.Context, *Dialog, []*Message, int64)                {}
func (noNotifier) OccupantsRemoved(context.Context, *Dialog, []int64)                         {}
func (noNotifier) ReactionsChanged(context.Context, *Dialog, *Message, int64, string, string) {}
func (noNotifier) SystemMessage(context.Context, int64, int64, int64, string, map[string]any) {}

// checkID refuses a malformed dialog or message id (400) before any lookup.
func checkID(id string) error {
	if !ValidID(id) {
		return apperr.Malformed("Invalid id: %s", id)
	}
	return nil
}

// load returns a dialog and the caller's member row (nil without one),
// answering 404 for unknown ids; visibility is the caller's to check.
func load(ctx context.Context, r Reader, c Caller, id string) (*Dialog, *Member, error) {
	if err := checkID(id); err != nil {
		return nil, nil, err
	}
	d, err := r.Dialog(ctx, c.AppID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, errNoDialog()
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := r.Member(ctx, id, c.UserID)
	if errors.Is(err, ErrNotFound) {
		return d, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return d, m, nil
}

// loadVisible is load plus the visibility rule: an invisible dialog is
// answered exactly like an unknown one.
func loadVisible(ctx context.Context, r Reader, c Caller, id string) (*Dialog, *Member, role, error) {
	d, m, err := load(ctx, r, c, id)
	if err != nil {
		return nil, nil, role{}, err
	}
	ro := role{d: d, m: m, user: c.UserID}
	if !ro.visible() {
		return nil, nil, role{}, errNoDialog()
	}
	return d, m, ro, nil
}

// view builds the caller's view of one dialog.
func (s *Service) view(ctx context.Context, r Reader, c Caller, d *Dialog, m *Member) (*View, error) {
	views, err := s.views(ctx, r, c, []*Dialog{d}, []*Member{m})
	if err != nil {
		return nil, err
	}
	return &views[0], nil
}

// views fills the per-caller fields: title, unread count and last message
// status. r is the store, or the transaction whose writes the views must
// see.
//
// A private dialog has no name of its own: creating one ignores `name`
// (ConnectyCube's server docs: "Ignored for private chats (type 3)"), and
// the platform's admin API, which answers for no user, shows null. Yet
// ConnectyCube's chat widget creates 1-1 dialogs without a name and shows
// `dialog.name` as their title with no fallback, so the platform names
// them for the user who asks: after the other participant. The title is
// per viewer; filters and sorts on `name` see the stored one (empty).
func (s *Service) views(ctx context.Context, r Reader, c Caller, ds []*Dialog, ms []*Member) ([]View, error) {
	out := make([]View, len(ds))
	if err := s.title(ctx, c, ds, out); err != nil {
		return nil, err
	}
	var own []string
	for i, d := range ds {
		out[i].Dialog = d
		if d.Type.counted() {
			n := 0
			if ms[i] != nil && ms[i].IsMember {
				n = ms[i].Unread
			}
			out[i].Unread = &n
		}
		if d.Last != nil && d.Last.UserID == c.UserID {
			own = append(own, d.Last.ID)
		}
	}
	if len(own) == 0 {
		return out, nil
	}
	states, err := r.ReceiptState(ctx, own, c.UserID)
	if err != nil {
		return nil, err
	}
	for i := range out {
		d := out[i].Dialog
		if d.Last == nil || d.Last.UserID != c.UserID {
			continue
		}
		st, ok := states[d.Last.ID]
		switch {
		case ok && st.Read:
			out[i].LastStatus = "read"
		case ok:
			out[i].LastStatus = "delivered"
		default:
			out[i].LastStatus = "sent"
		}
	}
	return out, nil
}

// title sets each view's Title (see views), with one users lookup for all
// the private dialogs.
func (s *Service) title(ctx context.Context, c Caller, ds []*Dialog, out []View) error {
	other := make([]int64, len(ds))
	var ids []int64
	for i, d := range ds {
		out[i].Title = d.Name
		if d.Type != Private {
			continue
		}
		for _, u := range d.Occupants {
			if u != c.UserID {
				other[i] = u
				ids = append(ids, u)
				break
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	names, err := s.apps.UserNames(ctx, c.AppID, ids)
	if err != nil {
		return err
	}
	for i, u := range other {
		if u != 0 {
			out[i].Title = names[u]
		}
	}
	return nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

// reloadView re-reads a dialog and the caller's member row inside tx after
// a change, and builds the caller's view of it.
func (s *Service) reloadView(ctx context.Context, tx Tx, c Caller, id string) (*View, error) {
	d, err := tx.Dialog(ctx, c.AppID, id)
	if err != nil {
		return nil, err
	}
	m, err := tx.Member(ctx, id, c.UserID)
	if errors.Is(err, ErrNotFound) {
		m = nil
	} else if err != nil {
		return nil, err
	}
	return s.view(ctx, tx, c, d, m)
}
