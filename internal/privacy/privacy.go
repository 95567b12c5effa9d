// Package privacy is the block-list domain (REALTIME.md §18): users' named
// privacy lists (XEP-0016), their default list, and the one question every
// front end asks before it delivers a stanza: does this user's effective
// list refuse it? The rules live here; the chat domain applies them to
// messages, the presence domain to last activity and status streaming, and
// the XMPP front end only translates IQs to calls of Service.
//
// It imports only internal/apperr and internal/xmpp (to parse item JIDs).
package privacy

// Kind is what a stanza is, as privacy items see it: the child elements
// of an item (XEP-0016 §2.1) plus MessageOut, the owner's own outgoing
// messages, which only an item without children (ConnectyCube's "mutual"
// block, REALTIME.md §18.3) covers.
type Kind uint8

const (
	Message     Kind = 1 << iota // messages to the owner
	IQ                           // IQs to the owner (last activity queries)
	PresenceIn                   // presences to the owner (occupant presences)
	PresenceOut                  // the owner's presence to others (occupant presences, status streaming)
	MessageOut                   // the owner's messages to others: mutual blocks only

	// AllKinds is what an item without child elements covers.
	AllKinds = Message | IQ | PresenceIn | PresenceOut | MessageOut
)

// Scope is which JID of the other user a stanza carries, which decides the
// items that can match it (REALTIME.md §18.3): Direct stanzas carry the
// user JID {id}-{app}@{domain} (1-1 messages, IQs, status streaming) and
// are matched by user-JID items; Room stanzas carry the occupant JID
// {app}_{dialog}@muc.{domain}/{id} (group messages, typing, occupant
// presences) and are matched by muc.{domain}/{id} items.
type Scope uint8

const (
	Direct Scope = iota
	Room
)

// Item is one privacy list item as the client sent it.
type Item struct {
	Type   string // "jid", "subscription", or "" (matches everyone)
	Value  string
	Action string // "allow" or "deny"
	Order  uint32
	// Kinds is the stanza kinds of the item's child elements (Message,
	// IQ, PresenceIn, PresenceOut); 0 when it has none, which covers
	// AllKinds.
	Kinds Kind
}

// List is a named privacy list, its items in ascending order.
type List struct {
	Name  string
	Items []Item
}

// Names is a user's lists (REALTIME.md §18.6).
type Names struct {
	Default string   // "" when the user has no default list
	Lists   []string // in creation order
}
