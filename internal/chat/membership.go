package chat

import (
	"context"
	"errors"

	"github.com/parley-chat/parley/internal/apperr"
)

// DeleteReport is the outcome of a multi-id delete (REST.md §5.4, §6.4).
type DeleteReport struct {
	Deleted, NotFound, WrongPermissions []string
}

// DeleteDialogs deletes dialogs for the caller, or with force for everyone.
// With one id the outcome is an error (400, 404, 403); with several it is a
// report and malformed, unknown and invisible ids are all NotFound.
func (s *Service) DeleteDialogs(ctx context.Context, c Caller, ids []string, force bool) (*DeleteReport, error) {
	rep := &DeleteReport{}
	for _, id := range ids {
		err := s.deleteDialog(ctx, c, id, force)
		if len(ids) == 1 {
			if err != nil {
				return nil, err
			}
			rep.Deleted = append(rep.Deleted, id)
			return rep, nil
		}
		switch apperr.KindOf(err) {
		case apperr.KindInternal:
			if err != nil {
				return nil, err
			}
			rep.Deleted = append(rep.Deleted, id)
		case apperr.KindForbidden:
			rep.WrongPermissions = append(rep.WrongPermissions, id)
		default:
			rep.NotFound = append(rep.NotFound, id)
		}
	}
	return rep, nil
}

func (s *Service) deleteDialog(ctx context.Context, c Caller, id string, force bool) error {
	var gone *Dialog
	defer func() {
		if gone != nil {
			s.forgetPair(gone)
		}
	}()
	return s.store.Tx(ctx, func(tx Tx) error {
		d, m, ro, err := loadVisible(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if force {
			if !ro.canDeleteForAll() {
				return errForbidden()
			}
			gone = d
			return tx.DeleteDialog(ctx, d.ID)
		}
		switch d.Type {
		case Private:
			// Hidden, and its history so far hidden too, until a new message.
			m.Hidden, m.ClearedSeq = true, d.LastSeq
			if err := tx.PutMember(ctx, m); err != nil {
				return err
			}
			return tx.AddUnread(ctx, d.ID, c.UserID, -m.Unread)
		case Group:
			return s.leaveGroup(ctx, tx, ro)
		case Public:
			return s.unsubscribePublic(ctx, tx, d, m)
		default: // Broadcast
			m = orNew(m, d.ID, c.UserID)
			m.Hidden = true
			return tx.PutMember(ctx, m)
		}
	})
}

// leaveGroup is "delete for me" of a group: the caller leaves it (and an
// owner hands it on); the dialog is written back unless nobody remains.
func (s *Service) leaveGroup(ctx context.Context, tx Tx, ro role) error {
	if !ro.member() {
		return errForbidden()
	}
	d, now := ro.d, s.now().UTC()
	if _, err := s.leave(ctx, tx, d, ro.user, now); err != nil {
		return err
	}
	if len(d.Occupants) == 0 {
		return nil // leave deleted it
	}
	d.UpdatedAt = now
	return tx.UpdateDialog(ctx, d)
}

func orNew(m *Member, dialogID string, user int64) *Member {
	if m != nil {
		return m
	}
	return &Member{DialogID: dialogID, UserID: user, Notifications: true}
}

// ClearHistory hides every message stored so far for the caller, or with
// force deletes them for everyone.
func (s *Service) ClearHistory(ctx context.Context, c Caller, id string, force bool) error {
	return s.store.Tx(ctx, func(tx Tx) error {
		d, m, ro, err := loadVisible(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if force {
			if !ro.canDeleteForAll() {
				return errForbidden()
			}
			if err := tx.DeleteDialogMessages(ctx, d.ID); err != nil {
				return err
			}
			d.Pinned = nil
			d.UpdatedAt = s.now().UTC()
			if err := tx.UpdateDialog(ctx, d); err != nil {
				return err
			}
			return tx.SetLast(ctx, d.ID, nil, d.LastSeq, d.UpdatedAt)
		}
		if !ro.member() {
			return errForbidden()
		}
		m = orNew(m, d.ID, c.UserID)
		m.ClearedSeq = d.LastSeq
		if err := tx.PutMember(ctx, m); err != nil {
			return err
		}
		return tx.AddUnread(ctx, d.ID, c.UserID, -m.Unread)
	})
}

// Subscribe makes the caller a subscriber (type 4) or occupant (type 2),
// or un-hides a broadcast. It is the one call that accepts a dialog the
// caller cannot see yet (REST.md §5.6).
func (s *Service) Subscribe(ctx context.Context, c Caller, id string) (*View, error) {
	// Read before the transaction, so as not to hold the writer for it.
	groupSubscribe, err := s.apps.GroupSubscribe(ctx, c.AppID)
	if err != nil {
		return nil, err
	}
	var view *View
	err = s.store.Tx(ctx, func(tx Tx) error {
		d, m, err := load(ctx, tx, c, id)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		switch d.Type {
		case Private:
			if m != nil && m.IsMember {
				return errForbidden()
			}
			return errNoDialog()
		case Public:
			if m == nil || !m.IsMember {
				if err := s.checkJoined(ctx, tx, c.AppID, "base", []int64{c.UserID}); err != nil {
					return err
				}
				m = orNew(m, d.ID, c.UserID)
				m.IsMember, m.MemberSince = true, micros(now)
				if err := tx.PutMember(ctx, m); err != nil {
					return err
				}
				d.Subscribers++
				d.UpdatedAt = now
				if err := tx.UpdateDialog(ctx, d); err != nil {
					return err
				}
			}
		case Group:
			if m == nil || !m.IsMember {
				removed, err := tx.Removed(ctx, d.ID, c.UserID)
				if err != nil {
					return err
				}
				if err := (role{d: d, m: m, user: c.UserID}).subscribeGroup(groupSubscribe, removed); err != nil {
					return err
				}
				if err := s.checkJoined(ctx, tx, c.AppID, "base", []int64{c.UserID}); err != nil {
					return err
				}
				if len(d.Occupants)+1 > MaxOccupants {
					return apperr.Invalid("occupants_ids", "is too long (maximum is %d users)", MaxOccupants)
				}
				if err := s.join(ctx, tx, d, c.UserID, now); err != nil {
					return err
				}
				d.UpdatedAt = now
				if err := tx.UpdateDialog(ctx, d); err != nil {
					return err
				}
			}
		case Broadcast:
			if m != nil && m.Hidden {
				m.Hidden = false
				if err := tx.PutMember(ctx, m); err != nil {
					return err
				}
			}
		}
		view, err = s.reloadView(ctx, tx, c, id)
		return err
	})
	return view, err
}

// Unsubscribe ends a subscription (type 4), leaves a group (type 2) or
// hides a broadcast (type 1).
func (s *Service) Unsubscribe(ctx context.Context, c Caller, id string) error {
	return s.store.Tx(ctx, func(tx Tx) error {
		d, m, ro, err := loadVisible(ctx, tx, c, id)
		if err != nil {
			return err
		}
		switch d.Type {
		case Private:
			return errForbidden()
		case Public:
			return s.unsubscribePublic(ctx, tx, d, m)
		case Group:
			return s.leaveGroup(ctx, tx, ro)
		default:
			m = orNew(m, d.ID, c.UserID)
			m.Hidden = true
			return tx.PutMember(ctx, m)
		}
	})
}

func (s *Service) unsubscribePublic(ctx context.Context, tx Tx, d *Dialog, m *Member) error {
	if m == nil || !m.IsMember {
		return nil
	}
	m.IsMember = false
	if err := s.putOrDrop(ctx, tx, m); err != nil {
		return err
	}
	d.Subscribers--
	d.UpdatedAt = s.now().UTC()
	return tx.UpdateDialog(ctx, d)
}

// Occupants lists the members of a dialog: subscribers of a public dialog
// (anyone who sees it), occupants of a group or private dialog (members
// only).
func (s *Service) Occupants(ctx context.Context, c Caller, id string, skip, limit int) ([]int64, error) {
	d, _, ro, err := loadVisible(ctx, s.store, c, id)
	if err != nil {
		return nil, err
	}
	switch d.Type {
	case Broadcast:
		return nil, apperr.Invalid("type", "a broadcast dialog has no occupants list")
	case Group, Private:
		if !ro.member() {
			return nil, errForbidden()
		}
	}
	return s.store.Members(ctx, d.ID, skip, limit)
}

// SetAdmins is PUT /chat/Dialog/{id}/admins (owner only).
func (s *Service) SetAdmins(ctx context.Context, c Caller, id string, push, pull []int64) (*View, error) {
	var view *View
	err := s.store.Tx(ctx, func(tx Tx) error {
		d, _, ro, err := loadVisible(ctx, tx, c, id)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if err := s.changeAdmins(ctx, tx, ro, push, pull, now); err != nil {
			return err
		}
		d.UpdatedAt = now
		if err := tx.UpdateDialog(ctx, d); err != nil {
			return err
		}
		view, err = s.reloadView(ctx, tx, c, id)
		return err
	})
	return view, err
}

// Notifications reports whether chat alerts are on for the caller.
func (s *Service) Notifications(ctx context.Context, c Caller, id string) (bool, error) {
	_, m, ro, err := loadVisible(ctx, s.store, c, id)
	if err != nil {
		return false, err
	}
	if !ro.member() {
		return false, errForbidden()
	}
	return m == nil || m.Notifications, nil
}

// SetNotifications turns chat alerts on or off for the caller.
func (s *Service) SetNotifications(ctx context.Context, c Caller, id string, enabled bool) error {
	return s.store.Tx(ctx, func(tx Tx) error {
		d, m, ro, err := loadVisible(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if !ro.member() {
			return errForbidden()
		}
		m = orNew(m, d.ID, c.UserID)
		m.Notifications = enabled
		return s.putOrDrop(ctx, tx, m)
	})
}

// NotificationsEnabled is what the push side asks: does user want chat
// alerts for dialog? (Default yes.)
func (s *Service) NotificationsEnabled(ctx context.Context, dialogID string, user int64) (bool, error) {
	m, err := s.store.Member(ctx, dialogID, user)
	if errors.Is(err, ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return m.Notifications, nil
}
