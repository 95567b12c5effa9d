package c2s

import (
	"context"

	"github.com/parley-chat/parley/internal/chat"
)

// notifyMessageCreated delivers a message created through REST with
// send_to_chat=1. Not built yet (issue 11).
func (e *Engine) notifyMessageCreated(ctx context.Context, d *chat.Dialog, m *chat.Message) {}

// notifyReactionsChanged sends the reactions notice. Not built yet (issue 11).
func (e *Engine) notifyReactionsChanged(ctx context.Context, d *chat.Dialog, m *chat.Message, by int64, add, remove string) {
}
