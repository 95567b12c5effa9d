package c2s

import (
	"context"
	"hash/maphash"
	"slices"
	"strconv"
	"sync"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/xmpp"
)

// Rooms (REALTIME.md §15): who has joined which dialog's room, the
// presences that tell them, and the kick. Joining is optional for
// messaging (group messages go to the dialog's members, joined or not,
// §7.2), so this index is only read by presences and disco#items, never by
// the group message path. Joined state belongs to a session: it ends with
// a leave, a kick or the session's end (rooms_presence.go).
//
// The index is sharded by room so that joins of unrelated rooms do not
// contend; everything a change to a room sends is queued under its shard's
// lock (Session.Send never blocks), so every occupant sees a room's joins
// and leaves in the order they happened.

// roomShards is how many locks the rooms are spread over.
const roomShards = 32

// maxRoomsPerSession bounds what one session may hold joined: a client
// that joins every public dialog of its app cannot grow the index without
// end.
const maxRoomsPerSession = 1000

type roomKey struct {
	app    int64
	dialog string
}

// occupant is one user in a room: the sessions of theirs that joined it,
// and their affiliation as their first join found it (informational: the
// SDK does not read it).
type occupant struct {
	affiliation, role string
	sessions          map[*Session]struct{}
}

type roomShard struct {
	mu    sync.Mutex
	rooms map[roomKey]map[int64]*occupant // room → user → occupant
	kicks uint64                          // kicks in this shard so far (see Session.join)
}

// roomIndex is the engine's occupant index. Its zero value is ready.
type roomIndex struct {
	seed   maphash.Seed
	once   sync.Once
	shards [roomShards]roomShard

	mu     sync.Mutex // guards joined; taken after a shard's lock, never before
	joined map[*Session]map[roomKey]struct{}
}

func (x *roomIndex) shard(k roomKey) *roomShard {
	x.once.Do(func() { x.seed = maphash.MakeSeed() })
	return &x.shards[maphash.String(x.seed, k.dialog)%roomShards]
}

// track records that s joined k; false when s holds maxRoomsPerSession
// rooms already.
func (x *roomIndex) track(s *Session, k roomKey) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.joined == nil {
		x.joined = map[*Session]map[roomKey]struct{}{}
	}
	set := x.joined[s]
	if len(set) >= maxRoomsPerSession {
		return false
	}
	if set == nil {
		set = map[roomKey]struct{}{}
		x.joined[s] = set
	}
	set[k] = struct{}{}
	return true
}

func (x *roomIndex) untrack(s *Session, k roomKey) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if set := x.joined[s]; set != nil {
		delete(set, k)
		if len(set) == 0 {
			delete(x.joined, s)
		}
	}
}

// take forgets every room s joined and returns them.
func (x *roomIndex) take(s *Session) []roomKey {
	x.mu.Lock()
	defer x.mu.Unlock()
	set := x.joined[s]
	delete(x.joined, s)
	keys := make([]roomKey, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	return keys
}

// RoomsJoined is how many (session, room) pairs the occupant index holds:
// what stays flat however often a client joins and leaves.
func (e *Engine) RoomsJoined() int { return e.rooms.size() }

func (x *roomIndex) size() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for _, set := range x.joined {
		n += len(set)
	}
	return n
}

// remove takes s out of room (under sh's lock) and reports whether its
// user has no other session left there: then the others are told.
func (x *roomIndex) remove(sh *roomShard, k roomKey, s *Session) (occ *occupant, gone bool) {
	room := sh.rooms[k]
	occ = room[s.userID]
	if occ == nil {
		return nil, false
	}
	if _, ok := occ.sessions[s]; !ok {
		return nil, false
	}
	delete(occ.sessions, s)
	x.untrack(s, k)
	if len(occ.sessions) > 0 {
		return occ, false
	}
	delete(room, s.userID)
	if len(room) == 0 {
		delete(sh.rooms, k)
	}
	return occ, true
}

// roomAddr is a room's bare JID and the prefix of its occupants' JIDs.
func (e *Engine) roomAddr(k roomKey) string {
	return xmpp.RoomJID(k.app, k.dialog, e.cfg.Domain).String()
}

// occupantPresence is what others see of user in a room: the muc#user
// <x> with an <item/> and nothing else (no <xmlns> element, or the SDK
// stops reporting it as a join or leave, §15.2), unavailable when leaving.
func occupantPresence(room string, user int64, occ *occupant, to string, leaving bool) []byte {
	p := xmpp.NewElement("presence", "xmlns", xmpp.NSClient, "from", room+"/"+strconv.FormatInt(user, 10), "to", to)
	role := occ.role
	if leaving {
		p.SetAttr("type", "unavailable")
		role = "none"
	}
	p.AppendChild(xmpp.NewElement("x", "xmlns", xmpp.NSMUCUser)).
		AppendChild(xmpp.NewElement("item", "affiliation", occ.affiliation, "role", role))
	return p.Encode()
}

// statusFor appends the two status forms of code to a muc#user <x>: the
// standard <status code/> and the <xmlns><code/></xmlns> element that the
// SDK reads instead (§15.2, §21 items 1 and 2).
func statusFor(x *xmpp.Element, code string) {
	x.AppendChild(xmpp.NewElement("status", "code", code))
	x.AppendChild(xmpp.NewElement("xmlns")).AppendChild(xmpp.NewElement("code")).AppendText(code)
}

// tellOthers sends what others see of user (joining or leaving) to every
// session joined to the room but user's own, and but those of users who
// may not see user's presence by either's block list (REALTIME.md §18.9,
// the domain's SeesPresence, answered from memory). Called under the
// room's lock.
func (e *Engine) tellOthers(app int64, room string, members map[int64]*occupant, user int64, occ *occupant, leaving bool) {
	for uid, o := range members {
		if uid == user || !e.chat.SeesPresence(context.Background(), app, uid, user) {
			continue
		}
		for sess := range o.sessions {
			sess.Send(occupantPresence(room, user, occ, sess.jid.String(), leaving))
		}
	}
}

// notifyOccupantsRemoved is the kick of REALTIME.md §15.5: the owner
// removed users from a group (REST pull_all, after the commit). Every
// available session of a removed user gets the 301 presence, joined or not
// (the SDK fires onKickOccupant for it whatever it joined); their joined
// state in the room ends, and the room's other occupants see them leave.
// Their group messages had already stopped: the fan-out reads the members
// after the commit.
func (e *Engine) notifyOccupantsRemoved(ctx context.Context, d *chat.Dialog, users []int64) {
	k := roomKey{app: d.AppID, dialog: d.ID}
	room := e.roomAddr(k)
	sh := e.rooms.shard(k)
	sh.mu.Lock()
	sh.kicks++
	members := sh.rooms[k]
	for _, u := range users {
		occ := members[u]
		if occ == nil {
			continue
		}
		delete(members, u)
		for sess := range occ.sessions {
			e.rooms.untrack(sess, k)
		}
		e.tellOthers(d.AppID, room, members, u, occ, true)
	}
	if members != nil && len(members) == 0 {
		delete(sh.rooms, k)
	}
	sh.mu.Unlock()

	actor := xmpp.UserJID(d.OwnerID, d.AppID, e.cfg.Domain).String()
	for _, u := range users {
		for _, sess := range e.router.Sessions(xmpp.UserJID(u, d.AppID, e.cfg.Domain)) {
			sess.Send(kickPresence(room, u, actor, sess.JID().String()))
		}
	}
}

// kickPresence is §15.5's: the SDK reads the actor from the <item> that is
// a direct child of <presence>; the copy inside <x> keeps it standard.
func kickPresence(room string, user int64, actor, to string) []byte {
	p := xmpp.NewElement("presence", "xmlns", xmpp.NSClient, "type", "unavailable",
		"from", room+"/"+strconv.FormatInt(user, 10), "to", to)
	item := func() *xmpp.Element {
		it := xmpp.NewElement("item", "affiliation", "none", "role", "none")
		it.AppendChild(xmpp.NewElement("actor", "jid", actor))
		return it
	}
	p.AppendChild(item())
	x := p.AppendChild(xmpp.NewElement("x", "xmlns", xmpp.NSMUCUser))
	x.AppendChild(item())
	statusFor(x, "301")
	return p.Encode()
}

// joinedUsers lists the distinct users joined to a room, in order.
func (e *Engine) joinedUsers(k roomKey) []int64 {
	sh := e.rooms.shard(k)
	sh.mu.Lock()
	users := make([]int64, 0, len(sh.rooms[k]))
	for u := range sh.rooms[k] {
		users = append(users, u)
	}
	sh.mu.Unlock()
	slices.Sort(users)
	return users
}
