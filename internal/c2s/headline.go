package c2s

import "context"

// notifySystemMessage delivers a system message created through REST. Not
// built yet (issue 11).
func (e *Engine) notifySystemMessage(ctx context.Context, appID, from, to int64, id string, params map[string]any) {
}
