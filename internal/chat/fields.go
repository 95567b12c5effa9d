package chat

import "github.com/parley-chat/parley/internal/apperr"

// Kind is how a filter field's values are typed.
type Kind int

const (
	KindString Kind = iota
	KindInt
	KindTime
	KindID      // a dialog or message id: 24 lowercase hex
	KindIntList // an array field: eq means "contains"
)

// DialogFields are the dialog fields that may be filtered (REST.md §5.1);
// "extensions.<name>" fields are strings too.
var DialogFields = map[string]Kind{
	"_id":                    KindID,
	"type":                   KindInt,
	"name":                   KindString,
	"last_message_date_sent": KindInt,
	"created_at":             KindTime,
	"updated_at":             KindTime,
	"user_id":                KindInt,
	"occupants_ids":          KindIntList,
	"extensions.*":           KindString, // marker: extensions[<name>] filters
}

// DialogSorts maps the accepted sort keys to fields; date_sent is the alias
// the docs and ConnectyCube's helper library use.
var DialogSorts = map[string]string{
	"last_message_date_sent": "last_message_date_sent",
	"date_sent":              "last_message_date_sent",
	"created_at":             "created_at",
	"updated_at":             "updated_at",
	"_id":                    "_id",
	"name":                   "name",
	"type":                   "type",
}

// MessageFields are the message fields that may be filtered (REST.md §6.1).
var MessageFields = map[string]Kind{
	"_id":              KindID,
	"message":          KindString,
	"date_sent":        KindInt,
	"sender_id":        KindInt,
	"recipient_id":     KindInt,
	"created_at":       KindTime,
	"updated_at":       KindTime,
	"attachments.type": KindString,
}

// MessageSorts are the accepted message sort keys.
var MessageSorts = map[string]string{
	"date_sent":  "date_sent",
	"_id":        "_id",
	"created_at": "created_at",
	"updated_at": "updated_at",
}

// Operators lists the filter operators of REST.md §1.11 that dialogs and
// messages accept.
var Operators = map[string]bool{
	"eq": true, "ne": true, "lt": true, "lte": true, "gt": true, "gte": true,
	"in": true, "nin": true, "all": true, "ctn": true,
}

// Limits of the chat API, documented in the README.
const (
	MaxPageSize        = 100  // dialogs per page
	MaxMessagePage     = 1000 // messages per page (REST.md §6.1 recommends 1000)
	DefaultMessagePage = 100
	PreviewMessages    = 20
	MaxAdmins          = 5
	MaxNameLen         = 255
	MaxDescriptionLen  = 2048
	MaxPhotoLen        = 2048
	MaxExtensionLen    = 1024
	MaxBodyLen         = 64 * 1024 // characters of a message body
	MaxOccupants       = 1000      // occupants of a group dialog
	MaxAttachments     = 20
	MaxCustomBytes     = 16 * 1024 // JSON size of a message's custom keys
	MaxIDsPerRequest   = 100       // ids in one path or list parameter
	MaxPinned          = 100
	MinSearchLen       = 5
	MaxSearchDialogs   = 10
	MaxReactionLen     = 64
)

// checkConds refuses a filter list longer than MaxIDsPerRequest: every value
// is a term of the store's statement, which has a size limit of its own
// (the REST layer names the parameter first; this keeps the rule whole).
func checkConds(q Query) error {
	for _, c := range q.Conds {
		if len(c.Values) > MaxIDsPerRequest {
			return apperr.Invalid(c.Field, "is too long (maximum is %d values)", MaxIDsPerRequest)
		}
	}
	return nil
}
