package c2s

import (
	"context"
	"strconv"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/xmpp"
)

// roomPresence is the one dispatch point of presences addressed to a
// room (REALTIME.md §15.1-§15.4); false when el is not one. It runs on the
// reader after the messages before it took effect (session.go), so a join
// is ordered with the session's messages.
func (s *Session) roomPresence(ctx context.Context, el *xmpp.Element) bool {
	to := el.Attr("to")
	if to == "" {
		return false
	}
	typ := el.Attr("type")
	j, err := xmpp.ParseJID(to)
	if err != nil {
		// Nothing can be addressed by it; a join must still be answered
		// or the SDK's promise never settles (it has no timeout).
		if typ == "" {
			s.write(joinError(el, s.jid, xmpp.JIDMalformed, "Malformed room address"))
		}
		return true
	}
	if j.Domain != "muc."+s.e.cfg.Domain {
		return false
	}
	switch typ {
	case "":
		s.join(ctx, el, j)
	case "unavailable":
		s.leave(el, j)
	}
	// Other types (error, probe, subscriptions) mean nothing to a room.
	return true
}

// joinError is a refused join (§15.3): the SDK hands an error presence to
// the pending join only when its first <x> has the muc namespace exactly.
func joinError(el *xmpp.Element, jid xmpp.JID, cond, text string) *xmpp.Element {
	reply := xmpp.StanzaError(el, cond, text)
	reply.SetAttr("xmlns", xmpp.NSClient)
	reply.SetAttr("to", jid.String())
	return withMUC(reply)
}

// roomRefusal gives the error answering a refused stanza (the stanza
// rate) the shape of a join error when the stanza was a join, so that the
// SDK's muc.join() rejects instead of waiting for ever.
func roomRefusal(el, reply *xmpp.Element) *xmpp.Element {
	if el.Name == "presence" && el.Attr("type") == "" && el.Child("x", xmpp.NSMUC) != nil {
		return withMUC(reply)
	}
	return reply
}

// withMUC puts the <x xmlns="…muc"/> first in an error presence: the SDK
// hands an error to the pending join only when the presence's first <x>
// has that namespace exactly (§15.3).
func withMUC(reply *xmpp.Element) *xmpp.Element {
	reply.Children = append([]xmpp.Node{{Elem: xmpp.NewElement("x", "xmlns", xmpp.NSMUC)}}, reply.Children...)
	return reply
}

// roomOf reads a room JID of the session's app; false for a malformed one
// or another app's, which are answered alike as unknown rooms.
func (s *Session) roomOf(j xmpp.JID) (roomKey, bool) {
	appID, dialogID, ok := xmpp.ParseRoomLocal(j.Local)
	if !ok || appID != s.appID {
		return roomKey{}, false
	}
	return roomKey{app: appID, dialog: dialogID}, true
}

// join handles a join (§15.1, §15.2): the domain decides who may
// (chat.Service.CanJoin, one read); then, under the room's lock, the
// joiner gets one presence per user already there and its self-presence,
// and the others get the joiner's presence when its user was not there
// yet. Joining again is answered again but holds nothing more.
func (s *Session) join(ctx context.Context, el *xmpp.Element, j xmpp.JID) {
	k, ok := s.roomOf(j)
	if !ok {
		s.write(joinError(el, s.jid, xmpp.ItemNotFound, "Dialog not found"))
		return
	}
	if j.Resource != strconv.FormatInt(s.userID, 10) {
		// The nickname is the user's id; the SDK always sends it.
		s.write(joinError(el, s.jid, xmpp.NotAcceptable, "The nickname must be your user id"))
		return
	}
	// The decision is read before the room is locked; a kick in between
	// (the owner removed this user after the read) would leave a
	// non-member joined, so a kick in the shard since the read means
	// reading again (kicks are rare; the common path reads once).
	sh := s.e.rooms.shard(k)
	var r *chat.Room
	for {
		sh.mu.Lock()
		kicks := sh.kicks
		sh.mu.Unlock()
		var err error
		if r, err = s.e.chat.CanJoin(ctx, chat.Caller{AppID: s.appID, UserID: s.userID}, k.dialog); err != nil {
			cond, text := joinCondition(s, err)
			s.write(joinError(el, s.jid, cond, text))
			return
		}
		sh.mu.Lock()
		if sh.kicks == kicks {
			break // still locked
		}
		sh.mu.Unlock()
	}
	defer sh.mu.Unlock()
	occ := &occupant{affiliation: "none", role: "visitor"}
	switch {
	case r.Dialog.OwnerID == s.userID:
		occ.affiliation, occ.role = "owner", "moderator"
	case r.Member:
		occ.affiliation, occ.role = "member", "participant"
	}
	room := s.e.roomAddr(k)
	if sh.rooms == nil {
		sh.rooms = map[roomKey]map[int64]*occupant{}
	}
	members := sh.rooms[k]
	if members == nil {
		members = map[int64]*occupant{}
	}
	mine := members[s.userID]
	if !mine.has(s) {
		if !s.e.rooms.track(s, k) {
			s.Send(joinError(el, s.jid, xmpp.ResourceConstraint, "Too many rooms joined").Encode())
			return
		}
		sh.rooms[k] = members
		if mine == nil {
			occ.sessions = map[*Session]struct{}{}
			mine = occ
			members[s.userID] = mine
			s.e.tellOthers(s.appID, room, members, s.userID, mine, false)
		}
		mine.sessions[s] = struct{}{}
	}
	me := s.jid.String()
	for uid, o := range members {
		// Not the presence of a user the joiner may not see (a block).
		if uid != s.userID && s.e.chat.SeesPresence(ctx, s.appID, s.userID, uid) {
			s.Send(occupantPresence(room, uid, o, me, false))
		}
	}
	s.Send(selfPresence(el.Attr("id"), room+"/"+j.Resource, me, mine, false))
}

// joinCondition maps the domain's refusal of a join to its condition and
// text (§15.1, §15.3).
func joinCondition(s *Session, err error) (cond, text string) {
	switch apperr.KindOf(err) {
	case apperr.KindNotFound, apperr.KindInvalid, apperr.KindMalformed:
		return xmpp.ItemNotFound, "Dialog not found"
	case apperr.KindForbidden:
		return xmpp.RegistrationRequired, err.Error()
	}
	s.log.Error("room join", "err", err)
	return xmpp.InternalServerError, ""
}

// has reports whether s is among o's sessions (o may be nil).
func (o *occupant) has(s *Session) bool {
	if o == nil {
		return false
	}
	_, ok := o.sessions[s]
	return ok
}

// selfPresence is the answer to a join or a leave, the only shape that
// settles the SDK's promise (§15.2, §15.4): the request's id echoed, the
// muc#user <x> first, with both <status code="110"/> and <xmlns><code>.
func selfPresence(id, from, to string, occ *occupant, leaving bool) []byte {
	p := xmpp.NewElement("presence", "xmlns", xmpp.NSClient)
	if id != "" {
		p.SetAttr("id", id)
	}
	if leaving {
		p.SetAttr("type", "unavailable")
	}
	p.SetAttr("from", from)
	p.SetAttr("to", to)
	x := p.AppendChild(xmpp.NewElement("x", "xmlns", xmpp.NSMUCUser))
	if leaving {
		x.AppendChild(xmpp.NewElement("item", "affiliation", occ.affiliation, "role", "none"))
	} else {
		x.AppendChild(xmpp.NewElement("item", "affiliation", occ.affiliation, "role", occ.role, "jid", to))
	}
	statusFor(x, "110")
	return p.Encode()
}

// leave handles a leave (§15.4). It is answered whether or not the
// session had joined, and for any address in the room domain: the SDK's
// leave() waits for the answer and never rejects, so an error would only
// leave it hanging.
func (s *Session) leave(el *xmpp.Element, j xmpp.JID) {
	self := &occupant{affiliation: "none"}
	from := j.Bare().String() + "/" + strconv.FormatInt(s.userID, 10)
	k, ok := s.roomOf(j)
	if !ok {
		s.Send(selfPresence(el.Attr("id"), from, s.jid.String(), self, true))
		return
	}
	room := s.e.roomAddr(k)
	sh := s.e.rooms.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	occ, gone := s.e.rooms.remove(sh, k, s)
	if occ != nil {
		self = occ
	}
	s.Send(selfPresence(el.Attr("id"), room+"/"+strconv.FormatInt(s.userID, 10), s.jid.String(), self, true))
	if gone {
		s.e.tellOthers(s.appID, room, sh.rooms[k], s.userID, occ, true)
	}
}

// leaveRooms ends the session's joined state when the session ends (not
// when a resumable one only lost its connection): the others see it leave
// each room where its user has no other session joined (§15.4, §20.6).
func (s *Session) leaveRooms() {
	for _, k := range s.e.rooms.take(s) {
		sh := s.e.rooms.shard(k)
		sh.mu.Lock()
		occ, gone := s.e.rooms.remove(sh, k, s)
		if gone {
			s.e.tellOthers(s.appID, s.e.roomAddr(k), sh.rooms[k], s.userID, occ, true)
		}
		sh.mu.Unlock()
	}
}
