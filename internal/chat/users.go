package chat

import (
	"context"
	"slices"
)

// RemoveUser takes a deleted account out of the chat domain (REST.md
// §4.6), in one transaction: it leaves every dialog, and the messages kept
// for it while offline are dropped. The messages it sent stay in their
// dialogs' history. Per dialog type:
//
//   - group: it leaves as with "delete for me" (REST.md §5.4): out of
//     occupants_ids and admins_ids, an owner hands the dialog on, and a
//     dialog nobody remains in is deleted with its messages;
//   - public: its subscription ends (and it stops being an admin); an
//     owner hands the dialog on to its longest-standing admin, if any
//     (otherwise owner_id keeps the deleted id, which is never given to
//     anyone again, so nobody inherits the owner's rights);
//   - private: the dialog stays with its whole history for the other
//     participant, who can still read it; the deleted user is no longer
//     among its occupants, and 1-1 messages to it are refused as to any
//     unknown user. A private dialog whose other participant is gone too
//     is deleted;
//   - broadcast: its per-user state (hidden, notifications) is dropped.
//
// The caller deletes the account first and ends its sessions and
// connections (auth.Service.DeleteUser), so nothing of it can join or
// post meanwhile.
func (s *Service) RemoveUser(ctx context.Context, appID, userID int64) error {
	var privates []*Dialog
	err := s.store.Tx(ctx, func(tx Tx) error {
		privates = privates[:0]
		ids, err := tx.MemberDialogs(ctx, appID, userID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		for _, id := range ids {
			d, err := tx.Dialog(ctx, appID, id)
			if err != nil {
				return err
			}
			m, err := tx.Member(ctx, id, userID)
			if err != nil {
				return err
			}
			switch d.Type {
			case Group:
				if !m.IsMember {
					// A left occupant can keep no state here, but be safe.
					if err := tx.DeleteMember(ctx, id, userID); err != nil {
						return err
					}
					continue
				}
				deleted, err := s.leave(ctx, tx, d, userID, now)
				if err != nil {
					return err
				}
				if !deleted {
					d.UpdatedAt = now
					if err := tx.UpdateDialog(ctx, d); err != nil {
						return err
					}
				}
			case Public:
				if err := tx.DeleteMember(ctx, id, userID); err != nil {
					return err
				}
				if m.IsMember {
					d.Subscribers--
				}
				d.Admins = slices.DeleteFunc(d.Admins, func(x int64) bool { return x == userID })
				if d.OwnerID == userID {
					if err := s.handOnToAdmin(ctx, tx, d); err != nil {
						return err
					}
				}
				d.UpdatedAt = now
				if err := tx.UpdateDialog(ctx, d); err != nil {
					return err
				}
			case Private:
				if err := tx.DeleteMember(ctx, id, userID); err != nil {
					return err
				}
				d.Occupants = slices.DeleteFunc(d.Occupants, func(x int64) bool { return x == userID })
				if len(d.Occupants) == 0 {
					if err := tx.DeleteDialog(ctx, id); err != nil {
						return err
					}
				}
				privates = append(privates, d)
			default: // Broadcast
				if err := tx.DeleteMember(ctx, id, userID); err != nil {
					return err
				}
			}
		}
		return tx.DeleteOffline(ctx, appID, userID)
	})
	// Forgotten whatever the outcome: the account itself is gone already.
	for _, d := range privates {
		s.forgetPair(d)
	}
	s.ForgetUser(appID, userID)
	return err
}

// handOnToAdmin makes the longest-standing admin of d its owner (ties: the
// lowest id); with no admin the owner stays.
func (s *Service) handOnToAdmin(ctx context.Context, tx Tx, d *Dialog) error {
	var next *Member
	for _, id := range d.Admins {
		m, err := tx.Member(ctx, d.ID, id)
		if err != nil {
			return err
		}
		if next == nil || m.AdminSince < next.AdminSince || m.AdminSince == next.AdminSince && m.UserID < next.UserID {
			next = m
		}
	}
	if next == nil {
		return nil
	}
	d.OwnerID = next.UserID
	d.Admins = slices.DeleteFunc(d.Admins, func(x int64) bool { return x == next.UserID })
	next.AdminSince = 0
	return s.putOrDrop(ctx, tx, next)
}
