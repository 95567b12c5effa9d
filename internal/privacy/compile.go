package privacy

import (
	"math/bits"

	"github.com/parley-chat/parley/internal/xmpp"
)

// A default list is read on every message to its owner, so it is
// compiled once into what Denies needs: for each other user named by an
// item, and for the items that match everyone, the first deciding item
// per stanza kind. Denies is then two map lookups (the cache, the user)
// and a comparison of orders.

// numKinds is the number of Kind bits.
const numKinds = 5

// decision is the first item (lowest order) that applies to one kind.
type decision struct {
	order uint32
	set   bool
	deny  bool
}

// verdicts holds one decision per Kind bit.
type verdicts [numKinds]decision

// add records an item for the kinds it applies to, unless an item of
// lower order already decides them. Items arrive in ascending order.
func (v *verdicts) add(it Item) {
	k := it.Kinds
	if k == 0 {
		k = AllKinds
	}
	for b := range numKinds {
		if k&(1<<b) != 0 && !v[b].set {
			v[b] = decision{order: it.Order, set: true, deny: it.Action == "deny"}
		}
	}
}

// compiled is one default list, ready for Denies.
type compiled struct {
	direct, room       map[int64]*verdicts // items naming one user, by scope
	directAll, roomAll verdicts            // items matching everyone, by scope
	items              int                 // of the list, to bound the cache
}

// weight is what an entry counts against the cache's bound.
func (c *compiled) weight() int {
	if c == nil {
		return 1
	}
	return 1 + c.items
}

// compile builds the lookup of l, a list of appID's user already
// validated (items in ascending order).
func (s *Service) compile(appID int64, l List) *compiled {
	c := &compiled{direct: map[int64]*verdicts{}, room: map[int64]*verdicts{}, items: len(l.Items)}
	muc := "muc." + s.domain
	one := func(m map[int64]*verdicts, id int64, it Item) {
		v := m[id]
		if v == nil {
			v = new(verdicts)
			m[id] = v
		}
		v.add(it)
	}
	for _, it := range l.Items {
		switch it.Type {
		case "":
			c.directAll.add(it)
			c.roomAll.add(it)
		case "subscription":
			// Parley has no rosters: every pair's subscription is "none",
			// which "none" matches and to/from/both never do.
			if it.Value == "none" {
				c.directAll.add(it)
				c.roomAll.add(it)
			}
		case "jid":
			j, err := xmpp.ParseJID(it.Value)
			if err != nil {
				continue // validated on Put; a stored bad value matches nothing
			}
			switch {
			case j.Domain == s.domain && j.Local != "":
				// A user JID, bare or full: XEP-0016 matches the full JID
				// of the sender, then its bare JID, so a full item matches
				// only that resource; Parley decides per user, and a user's
				// resources are random, so any resource counts as the user.
				if id, app, ok := xmpp.ParseUserLocal(j.Local); ok && app == appID {
					one(c.direct, id, it)
				}
			case j.Domain == s.domain && j.Resource == "":
				c.directAll.add(it) // the bare domain: every user
			case j.Domain == muc && j.Local == "" && j.Resource != "":
				if id, ok := parseOccupant(j.Resource); ok {
					one(c.room, id, it)
				}
			case j.Domain == muc && j.Local == "" && j.Resource == "":
				c.roomAll.add(it) // every occupant of every room
			}
			// Anything else (another domain, one room's JID, one occupant
			// of one room) matches nothing: Denies is not told the room.
		}
	}
	return c
}

// denies answers Denies for a compiled list; a nil list denies nothing.
func (c *compiled) denies(other int64, scope Scope, kind Kind) bool {
	if c == nil {
		return false
	}
	all, m := &c.directAll, c.direct
	if scope == Room {
		all, m = &c.roomAll, c.room
	}
	one := m[other]
	for k := uint(kind & AllKinds); k != 0; k &= k - 1 {
		b := bits.TrailingZeros(k)
		d := all[b]
		if one != nil && one[b].set && (!d.set || one[b].order < d.order) {
			d = one[b]
		}
		if d.set && d.deny {
			return true
		}
	}
	return false
}
