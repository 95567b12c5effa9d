package chat

import (
	"context"
	"time"
)

// Marker is a chat marker for RecordTogether.
type Marker struct {
	By        Caller
	DialogID  string
	MessageID string
	Read      bool
}

// RecordTogether records markers in one group commit, in their order, as
// the committer does with those queued at once.
func (s *Service) RecordTogether(ctx context.Context, markers ...Marker) error {
	marks := make([]*markReq, len(markers))
	for i, m := range markers {
		marks[i] = &markReq{c: m.By, dialogID: m.DialogID, messageID: m.MessageID, read: m.Read}
	}
	_, _, _, err := s.storeBatch(ctx, nil, marks, nil, nil)
	return err
}

// SetMessageIDs replaces the maker of server ids; call it before posting.
func (s *Service) SetMessageIDs(f func(time.Time) string) { s.newMessageID = f }
