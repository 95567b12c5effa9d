package chat

import "time"

// Type is a dialog type, numbered as on the wire (REST.md §5.0).
type Type int

const (
	Broadcast Type = 1
	Group     Type = 2
	Private   Type = 3
	Public    Type = 4
)

// Valid reports whether t is one of the four dialog types.
func (t Type) Valid() bool { return t >= Broadcast && t <= Public }

// counted reports whether the type keeps unread counters (groups and 1-1).
func (t Type) counted() bool { return t == Group || t == Private }

// Dialog is a conversation. Members and roles are in Occupants/Admins;
// per-user state is in Member.
type Dialog struct {
	ID           string
	AppID        int64
	Type         Type
	Name         string
	Description  string
	Photo        string
	OwnerID      int64
	AllowPreview bool
	Pair         string  // type 3: PairKey of the two participants
	Occupants    []int64 // types 2 and 3, in order of joining
	Admins       []int64 // in order of promotion
	Pinned       []string
	Subscribers  int // type 4
	Extensions   map[string]string
	Last         *LastMessage
	LastSeq      int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// LastMessage is the newest stored message of a dialog.
type LastMessage struct {
	ID       string
	Body     string
	UserID   int64
	DateSent int64
}

// Member is one user's state in one dialog.
type Member struct {
	DialogID      string
	UserID        int64
	IsMember      bool  // occupant (types 2, 3) or subscriber (type 4)
	MemberSince   int64 // Unix micros; orders "longest-standing"
	AdminSince    int64 // Unix micros; 0 when not an admin
	Hidden        bool
	ClearedSeq    int64 // messages with Seq <= ClearedSeq are hidden for the user
	Unread        int
	Notifications bool
}

// View is a dialog as one user sees it.
type View struct {
	*Dialog
	Unread     *int   // nil for types 1 and 4
	LastStatus string // "", "sent", "delivered" or "read"
	// Title is the name the caller sees: the dialog's own, or for a
	// private dialog (which has none) the other participant's display
	// name; "" when that user is gone (see views).
	Title string
}

// Attachment is one <attachment/>: every attribute as a string.
type Attachment map[string]string

// Message is a stored history entry.
type Message struct {
	Seq         int64
	ID          string
	AppID       int64
	DialogID    string
	DialogType  Type
	SenderID    int64
	RecipientID int64
	Body        string
	DateSent    int64 // Unix seconds
	Attachments []Attachment
	Custom      map[string]any // custom keys: string leaves, nested objects
	CreatedAt   time.Time
	UpdatedAt   time.Time

	// Alert is who gets a chat alert of the message (alerts.go), stored
	// with it for the push dispatcher to expand; written, never read back.
	Alert []int64

	// Loaded with the message for output.
	ReadIDs      []int64 // other users who read it (the sender is implied)
	DeliveredIDs []int64 // other users it reached (the sender is implied)
	Reactions    map[string][]int64
}

// Receipt records that a user received or read a message.
type Receipt struct {
	MessageID string
	UserID    int64
	Read      bool
}
