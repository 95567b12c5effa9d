package chat

import (
	"slices"

	"github.com/parley-chat/parley/internal/apperr"
)

// This file is the permission table of REST.md §5.0, in one place. Every
// check takes the dialog, the caller and the caller's member row (nil when
// the caller has none).

// Caller identifies who acts: a user of an app.
type Caller struct {
	AppID  int64
	UserID int64
}

type role struct {
	d    *Dialog
	m    *Member
	user int64
}

func (r role) owner() bool { return r.d.OwnerID == r.user && r.user != 0 }
func (r role) admin() bool { return slices.Contains(r.d.Admins, r.user) }

// member: occupant (2, 3), subscriber (4), everyone (1).
func (r role) member() bool {
	if r.d.Type == Broadcast {
		return true
	}
	return r.m != nil && r.m.IsMember
}

// visible is the visibility rule of §5.0: who may learn the dialog exists.
func (r role) visible() bool {
	switch r.d.Type {
	case Broadcast:
		return true
	case Private:
		return r.member()
	case Group:
		return r.member() || r.d.AllowPreview
	case Public:
		return r.member() || r.owner() || r.admin() || r.d.AllowPreview
	}
	return false
}

// canPost: read/send row.
func (r role) canPost() bool {
	if r.d.Type == Broadcast {
		return r.owner() || r.admin()
	}
	return r.member()
}

// canJoin: who may join the dialog's room (REALTIME.md §15.1): the
// members of group and private dialogs; anyone of the app for public and
// broadcast dialogs, which anyone may read. Joining only brings presences
// (and never the right to post), so it follows reading, not posting.
func (r role) canJoin() bool {
	switch r.d.Type {
	case Public, Broadcast:
		return true
	}
	return r.member()
}

// canEditInfo: name, photo, description, extensions, permissions.
func (r role) canEditInfo() bool {
	switch r.d.Type {
	case Group:
		return r.member()
	case Public, Broadcast:
		return r.owner() || r.admin()
	}
	return false
}

// canPin: pinned_messages_ids (type 3: both participants, server's choice).
func (r role) canPin() bool {
	if r.d.Type == Private {
		return r.member()
	}
	return r.owner() || r.admin()
}

// canDeleteForAll: force delete of the dialog, or clear history for all.
func (r role) canDeleteForAll() bool {
	if r.d.Type == Private {
		return r.member()
	}
	return r.owner()
}

// canEditMessage: changing the body of a message sent by sender (REST
// PUT with a body, or a real-time edit, REALTIME.md §10): its author
// only, while still in the dialog (a left member who can preview a group
// sees it but no longer speaks in it).
func (r role) canEditMessage(sender int64) bool {
	return sender == r.user && r.user != 0 && (r.member() || r.owner() || r.admin())
}

// canDeleteMessage: force delete of message sent by sender.
func (r role) canDeleteMessage(sender int64) bool {
	if r.d.Type == Broadcast {
		return r.owner() || r.admin()
	}
	if sender == r.user {
		return r.member() || r.owner() || r.admin()
	}
	if r.d.Type == Private {
		return false
	}
	return r.owner() || r.admin()
}

// canReadd: adding back to a group a user its owner removed (issue 10).
// The owner and admins may; other occupants, who may add anyone else, may
// not, or any of them could undo the owner's decision.
func (r role) canReadd() bool { return r.owner() || r.admin() }

// subscribeGroup decides a non-member's subscribe to a group dialog
// (REST.md §5.6): allowed where the app allows subscribing to groups
// (appAllows), unless the owner removed the caller and no owner or admin
// added them back (removed). A user who left by themselves carries no
// mark and may come back: leaving was their choice, not the group's. A
// refusal answers as anything else about the dialog does: 404 unless the
// caller can see it (allow_preview), then 403.
func (r role) subscribeGroup(appAllows, removed bool) error {
	if appAllows && !removed {
		return nil
	}
	if r.visible() {
		return errForbidden()
	}
	return errNoDialog()
}

// errNoDialog is the answer for unknown and invisible dialogs alike.
func errNoDialog() error { return apperr.NotFound("Dialog") }

func errNoUser() error { return apperr.NotFound("User") }

func errForbidden() error { return apperr.Forbidden("Forbidden") }
