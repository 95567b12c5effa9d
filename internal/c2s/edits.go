package c2s

import (
	"context"

	"github.com/parley-chat/parley/internal/chat"
)

// notifyMessagesDeleted sends the delete notices. Not built yet (issue 11).
func (e *Engine) notifyMessagesDeleted(ctx context.Context, d *chat.Dialog, msgs []*chat.Message, by int64) {
}
