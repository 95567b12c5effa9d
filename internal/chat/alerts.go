package chat

import "time"

// AlertRow is a chat alert as the store queues it (REALTIME.md §20.4): one
// message, one push per subscription of each recipient the domain chose.
// It is written in the transaction that stores the message, so an
// acknowledged message's alerts survive a crash before they are sent.
type AlertRow struct {
	AppID     int64
	DialogID  string // "" for a 1-1 message with no dialog
	MessageID string
	SenderID  int64
	Body      string // "" for an attachment
	At        time.Time
}
