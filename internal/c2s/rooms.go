package c2s

import (
	"context"

	"github.com/parley-chat/parley/internal/chat"
)

// notifyOccupantsRemoved sends the kick presence. Not built yet (issue 11).
func (e *Engine) notifyOccupantsRemoved(ctx context.Context, d *chat.Dialog, users []int64) {}
