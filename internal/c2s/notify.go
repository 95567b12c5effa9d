package c2s

import (
	"context"

	"github.com/parley-chat/parley/internal/chat"
)

// Notifier is the chat domain's way to the connected clients
// (chat.Notifier): what REST (or any other non-stream caller) changed is
// told live here, after the change committed. Each kind of notice is built
// in the file of its XMPP area; this type only dispatches, so the domain
// has one notifier and each area keeps its stanzas to itself.
func (e *Engine) Notifier() chat.Notifier { return notifier{e} }

type notifier struct{ e *Engine }

// MessageCreated: a message created through REST with send_to_chat=1
// (REST.md §6.2), delivered as if its sender had sent it live (notify_messages.go).
func (n notifier) MessageCreated(ctx context.Context, d *chat.Dialog, m *chat.Message) {
	n.e.notifyMessageCreated(ctx, d, m)
}

// MessagesDeleted: the delete notices of REALTIME.md §11.3 (edits.go).
func (n notifier) MessagesDeleted(ctx context.Context, d *chat.Dialog, msgs []*chat.Message, by int64) {
	n.e.notifyMessagesDeleted(ctx, d, msgs, by)
}

// OccupantsRemoved: the kick presence of REALTIME.md §15.5 (rooms.go).
func (n notifier) OccupantsRemoved(ctx context.Context, d *chat.Dialog, users []int64) {
	n.e.notifyOccupantsRemoved(ctx, d, users)
}

// ReactionsChanged: the reactions notice of REALTIME.md §12 (notify_messages.go).
func (n notifier) ReactionsChanged(ctx context.Context, d *chat.Dialog, m *chat.Message, by int64, add, remove string) {
	n.e.notifyReactionsChanged(ctx, d, m, by, add, remove)
}

// SystemMessage: a system message created through REST (REALTIME.md
// §13.3), delivered like a live one (headline.go).
func (n notifier) SystemMessage(ctx context.Context, appID, from, to int64, id string, params map[string]any) {
	n.e.notifySystemMessage(ctx, appID, from, to, id, params)
}
