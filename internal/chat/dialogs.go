package chat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/internal/apperr"
)

// KV is one extensions entry, in request order.
type KV struct{ Key, Value string }

// DialogInput is a dialog creation (REST.md §5.2).
type DialogInput struct {
	Type         Type
	Name         *string
	Description  *string
	Photo        *string
	Occupants    []int64
	Admins       []int64
	Extensions   []KV
	AllowPreview *bool
}

func checkText(field string, v *string, max int) error {
	if v == nil {
		return nil
	}
	if !utf8.ValidString(*v) || strings.ContainsRune(*v, 0) {
		return apperr.Invalid(field, "must be valid UTF-8 text")
	}
	if utf8.RuneCountInString(*v) > max {
		return apperr.Invalid(field, "is too long (maximum is %d characters)", max)
	}
	return nil
}

// extensions keeps the allowed keys of kvs (REST.md §5.2): the app's list,
// or any first MaxExtensions keys when the app configured none.
func (s *Service) extensions(ctx context.Context, appID int64, kvs []KV) (map[string]string, error) {
	allowed, err := s.apps.DialogExtensions(ctx, appID)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, kv := range kvs {
		if len(allowed) > 0 && !slices.Contains(allowed, kv.Key) {
			continue
		}
		if len(allowed) == 0 && len(out) >= MaxExtensions {
			break
		}
		if err := checkText("extensions", &kv.Value, MaxExtensionLen); err != nil {
			return nil, err
		}
		out[kv.Key] = kv.Value
	}
	return out, nil
}

func uniqueIDs(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id > 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (s *Service) checkUsers(ctx context.Context, r Reader, appID int64, field string, ids []int64) error {
	missing, err := r.MissingUsers(ctx, appID, ids)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		parts := make([]string, len(missing))
		for i, id := range missing {
			parts[i] = fmt.Sprint(id)
		}
		return apperr.Invalid(field, "contain unknown users: %s", strings.Join(parts, ", "))
	}
	return nil
}

// CreateDialog creates a dialog for the caller. For a private dialog that
// already exists it returns that one (created false) and un-hides it.
func (s *Service) CreateDialog(ctx context.Context, c Caller, in DialogInput) (*View, bool, error) {
	if !in.Type.Valid() {
		return nil, false, apperr.Invalid("type", "must be 1, 2, 3 or 4")
	}
	if in.Type == Broadcast {
		return nil, false, apperr.Forbidden("Broadcast dialogs are created by the administrator")
	}
	if err := s.allowCreate(c); err != nil {
		return nil, false, err
	}
	return s.createDialog(ctx, c, in)
}

// CreateBroadcast creates a type 1 dialog: the administrative path
// (`parley dialog create-broadcast`). owner may be 0 (no user owns it).
func (s *Service) CreateBroadcast(ctx context.Context, appID, owner int64, name string, admins []int64) (*Dialog, error) {
	v, _, err := s.createDialog(ctx, Caller{AppID: appID, UserID: owner}, DialogInput{Type: Broadcast, Name: &name, Admins: admins})
	if err != nil {
		return nil, err
	}
	return v.Dialog, nil
}

func (s *Service) createDialog(ctx context.Context, c Caller, in DialogInput) (*View, bool, error) {
	now := s.now().UTC()
	d := &Dialog{ID: NewID(now), AppID: c.AppID, Type: in.Type, OwnerID: c.UserID, CreatedAt: now, UpdatedAt: now}
	if in.Type != Private {
		if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
			return nil, false, apperr.Invalid("name", "can't be blank")
		}
		if err := checkText("name", in.Name, MaxNameLen); err != nil {
			return nil, false, err
		}
		d.Name = *in.Name
		if err := checkText("photo", in.Photo, MaxPhotoLen); err != nil {
			return nil, false, err
		}
		if in.Photo != nil {
			d.Photo = *in.Photo
		}
	}
	if err := checkText("description", in.Description, MaxDescriptionLen); err != nil {
		return nil, false, err
	}
	if in.Description != nil {
		d.Description = *in.Description
	}
	if in.AllowPreview != nil {
		d.AllowPreview = *in.AllowPreview
	}
	var err error
	if d.Extensions, err = s.extensions(ctx, c.AppID, in.Extensions); err != nil {
		return nil, false, err
	}
	others := uniqueIDs(slices.DeleteFunc(slices.Clone(in.Occupants), func(id int64) bool { return id == c.UserID }))
	switch in.Type {
	case Private:
		if len(others) != 1 {
			return nil, false, apperr.Invalid("occupants_ids", "must name exactly one other user for a private dialog")
		}
	case Group:
		if len(others) == 0 {
			return nil, false, apperr.Invalid("occupants_ids", "must name at least one other user")
		}
		if len(others)+1 > MaxOccupants {
			return nil, false, apperr.Invalid("occupants_ids", "is too long (maximum is %d users)", MaxOccupants)
		}
	default:
		others = nil
	}
	admins := uniqueIDs(slices.DeleteFunc(slices.Clone(in.Admins), func(id int64) bool { return id == c.UserID }))
	if len(admins) > MaxAdmins {
		return nil, false, apperr.Invalid("admins_ids", "Max %d admins allowed", MaxAdmins)
	}
	if in.Type == Private {
		admins = nil
	}
	if in.Type == Group {
		for _, a := range admins {
			if !slices.Contains(others, a) {
				return nil, false, apperr.Invalid("admins_ids", "must be occupants of the dialog")
			}
		}
	}
	var view *View
	created := true
	err = s.store.Tx(ctx, func(tx Tx) error {
		if err := s.checkUsers(ctx, tx, c.AppID, "occupants_ids", others); err != nil {
			return err
		}
		if err := s.checkUsers(ctx, tx, c.AppID, "admins_ids", admins); err != nil {
			return err
		}
		switch in.Type {
		case Group:
			if err := s.checkJoined(ctx, tx, c.AppID, "occupants_ids", append([]int64{c.UserID}, others...)); err != nil {
				return err
			}
		case Public:
			if err := s.checkJoined(ctx, tx, c.AppID, "base", []int64{c.UserID}); err != nil {
				return err
			}
		}
		if in.Type == Private {
			existing, err := tx.PrivateDialog(ctx, c.AppID, PairKey(c.UserID, others[0]))
			if err == nil {
				m, err := tx.Member(ctx, existing.ID, c.UserID)
				if err != nil {
					return err
				}
				if m.Hidden {
					m.Hidden = false
					if err := tx.PutMember(ctx, m); err != nil {
						return err
					}
				}
				created = false
				d = existing
				view, err = s.view(ctx, tx, c, d, m)
				return err
			}
			if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		if in.Type == Private || in.Type == Group {
			d.Occupants = append([]int64{c.UserID}, others...)
		}
		d.Admins = admins
		if err := tx.InsertDialog(ctx, d); err != nil {
			return err
		}
		since := micros(now)
		var mine *Member
		for _, u := range d.Occupants {
			m := &Member{DialogID: d.ID, UserID: u, IsMember: true, MemberSince: since, Notifications: true}
			if slices.Contains(admins, u) {
				m.AdminSince = since
			}
			if err := tx.PutMember(ctx, m); err != nil {
				return err
			}
			if u == c.UserID {
				mine = m
			}
		}
		if in.Type == Public {
			mine = &Member{DialogID: d.ID, UserID: c.UserID, IsMember: true, MemberSince: since, Notifications: true}
			if err := tx.PutMember(ctx, mine); err != nil {
				return err
			}
			d.Subscribers = 1
		}
		if in.Type == Public || in.Type == Broadcast {
			for _, a := range admins {
				if err := tx.PutMember(ctx, &Member{DialogID: d.ID, UserID: a, AdminSince: since, Notifications: true}); err != nil {
					return err
				}
			}
		}
		if err := tx.UpdateDialog(ctx, d); err != nil {
			return err
		}
		var err error
		view, err = s.view(ctx, tx, c, d, mine)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if created && in.Type == Private {
		s.pairs.forget(newPairKey(c.AppID, c.UserID, others[0]))
	}
	return view, created, nil
}

// ListDialogs returns the caller's listed dialogs (REST.md §5.1).
func (s *Service) ListDialogs(ctx context.Context, c Caller, q Query) ([]View, int, error) {
	if err := checkConds(q); err != nil {
		return nil, 0, err
	}
	ds, ms, total, err := s.store.ListDialogs(ctx, c.AppID, c.UserID, q)
	if err != nil {
		return nil, 0, err
	}
	views, err := s.views(ctx, s.store, c, ds, ms)
	return views, total, err
}

// GetDialog returns one visible dialog.
func (s *Service) GetDialog(ctx context.Context, c Caller, id string) (*View, error) {
	d, m, _, err := loadVisible(ctx, s.store, c, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, s.store, c, d, m)
}

// DialogUpdate is PUT /chat/Dialog/{id} (REST.md §5.3). Nil and empty
// fields are absent from the request.
type DialogUpdate struct {
	Name, Description, Photo *string
	Extensions               []KV
	ExtensionsSet            bool // extensions given (null or {} clears)
	AllowPreview             *bool
	PushOccupants            []int64
	PullOccupants            []int64
	PushAdmins               []int64
	PullAdmins               []int64
	PushPinned               []string
	PullPinned               []string
}

func (u DialogUpdate) infoChange() bool {
	return u.Name != nil || u.Description != nil || u.Photo != nil || u.ExtensionsSet || u.AllowPreview != nil
}

// UpdateDialog applies an update with the permission rules of §5.0.
func (s *Service) UpdateDialog(ctx context.Context, c Caller, id string, u DialogUpdate) (*View, error) {
	for _, p := range append(slices.Clone(u.PushPinned), u.PullPinned...) {
		if err := checkID(p); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"name", u.Name, MaxNameLen}, {"description", u.Description, MaxDescriptionLen}, {"photo", u.Photo, MaxPhotoLen}} {
		if err := checkText(f.name, f.v, f.max); err != nil {
			return nil, err
		}
	}
	if u.Name != nil && strings.TrimSpace(*u.Name) == "" {
		return nil, apperr.Invalid("name", "can't be blank")
	}
	var exts map[string]string
	if u.ExtensionsSet {
		var err error
		if exts, err = s.extensions(ctx, c.AppID, u.Extensions); err != nil {
			return nil, err
		}
	}
	var view *View
	var kicked []int64
	var dialog *Dialog
	err := s.store.Tx(ctx, func(tx Tx) error {
		d, _, ro, err := loadVisible(ctx, tx, c, id)
		if err != nil {
			return err
		}
		dialog = d
		now := s.now().UTC()
		// Info fields: ignored for private dialogs.
		if u.infoChange() && d.Type != Private {
			if !ro.canEditInfo() {
				return errForbidden()
			}
			if u.Name != nil {
				d.Name = *u.Name
			}
			if u.Description != nil {
				d.Description = *u.Description
			}
			if u.Photo != nil {
				d.Photo = *u.Photo
			}
			if u.ExtensionsSet {
				d.Extensions = exts
			}
			if u.AllowPreview != nil {
				d.AllowPreview = *u.AllowPreview
			}
		}
		if len(u.PushPinned)+len(u.PullPinned) > 0 {
			if !ro.canPin() {
				return errForbidden()
			}
			if err := s.pin(ctx, tx, d, u.PushPinned, u.PullPinned, now); err != nil {
				return err
			}
		}
		if len(u.PushAdmins)+len(u.PullAdmins) > 0 {
			if err := s.changeAdmins(ctx, tx, ro, u.PushAdmins, u.PullAdmins, now); err != nil {
				return err
			}
		}
		if len(u.PushOccupants)+len(u.PullOccupants) > 0 {
			var deleted bool
			kicked, deleted, err = s.changeOccupants(ctx, tx, ro, uniqueIDs(u.PushOccupants), uniqueIDs(u.PullOccupants), now)
			if err != nil {
				return err
			}
			if deleted {
				return nil
			}
		}
		d.UpdatedAt = now
		if err := tx.UpdateDialog(ctx, d); err != nil {
			return err
		}
		view, err = s.reloadView(ctx, tx, c, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(kicked) > 0 {
		s.notifier.OccupantsRemoved(ctx, dialog, kicked)
	}
	if view == nil { // the last occupant left: the dialog is gone
		return nil, errNoDialog()
	}
	return view, nil
}

func (s *Service) pin(ctx context.Context, tx Tx, d *Dialog, push, pull []string, now time.Time) error {
	if len(push) > 0 {
		msgs, err := tx.MessagesByID(ctx, d.AppID, push)
		if err != nil {
			return err
		}
		for _, id := range push {
			found := false
			for _, m := range msgs {
				if m.ID == id && m.DialogID == d.ID {
					found = true
				}
			}
			if !found {
				return apperr.Invalid("pinned_messages_ids", "contain unknown messages: %s", id)
			}
		}
	}
	d.Pinned = slices.DeleteFunc(d.Pinned, func(id string) bool { return slices.Contains(pull, id) })
	for _, id := range push {
		if !slices.Contains(d.Pinned, id) {
			d.Pinned = append(d.Pinned, id)
		}
	}
	if len(d.Pinned) > MaxPinned {
		return apperr.Invalid("pinned_messages_ids", "is too long (maximum is %d)", MaxPinned)
	}
	return nil
}

// changeAdmins: owner only; at most MaxAdmins; type 2 admins must be
// occupants.
func (s *Service) changeAdmins(ctx context.Context, tx Tx, ro role, push, pull []int64, now time.Time) error {
	d := ro.d
	if d.Type == Private || !ro.owner() {
		return errForbidden()
	}
	push = slices.DeleteFunc(uniqueIDs(push), func(id int64) bool { return id == d.OwnerID || slices.Contains(d.Admins, id) })
	result := slices.DeleteFunc(slices.Clone(d.Admins), func(id int64) bool { return slices.Contains(pull, id) })
	result = append(result, push...)
	if len(result) > MaxAdmins {
		return apperr.Invalid("admins_ids", "Max %d admins allowed", MaxAdmins)
	}
	if d.Type == Group {
		for _, a := range push {
			if !slices.Contains(d.Occupants, a) {
				return apperr.Invalid("admins_ids", "must be occupants of the dialog")
			}
		}
	} else if err := s.checkUsers(ctx, tx, d.AppID, "admins_ids", push); err != nil {
		return err
	}
	for _, id := range pull {
		if !slices.Contains(d.Admins, id) {
			continue
		}
		m, err := tx.Member(ctx, d.ID, id)
		if err != nil {
			return err
		}
		m.AdminSince = 0
		if err := s.putOrDrop(ctx, tx, m); err != nil {
			return err
		}
	}
	for _, id := range push {
		m, err := tx.Member(ctx, d.ID, id)
		if errors.Is(err, ErrNotFound) {
			m = &Member{DialogID: d.ID, UserID: id, Notifications: true}
		} else if err != nil {
			return err
		}
		m.AdminSince = now.UnixMicro()
		if err := tx.PutMember(ctx, m); err != nil {
			return err
		}
	}
	d.Admins = result
	return nil
}

// putOrDrop writes a member row, or deletes it when it carries no state.
func (s *Service) putOrDrop(ctx context.Context, tx Tx, m *Member) error {
	if !m.IsMember && m.AdminSince == 0 && !m.Hidden && m.ClearedSeq == 0 && m.Notifications {
		return tx.DeleteMember(ctx, m.DialogID, m.UserID)
	}
	return tx.PutMember(ctx, m)
}

// changeOccupants applies pull_all then push_all of occupants_ids. It
// returns the users removed by someone else (to kick) and whether the
// dialog was deleted because nobody remained.
func (s *Service) changeOccupants(ctx context.Context, tx Tx, ro role, push, pull []int64, now time.Time) ([]int64, bool, error) {
	d := ro.d
	switch d.Type {
	case Private:
		return nil, false, errForbidden()
	case Public, Broadcast:
		return nil, false, apperr.Invalid("occupants_ids", "cannot be changed for this dialog type; use subscribe")
	}
	if !ro.member() {
		return nil, false, errForbidden()
	}
	var kicked []int64
	for _, id := range pull {
		if id != ro.user && !ro.owner() {
			return nil, false, errForbidden()
		}
	}
	if len(push) > 0 {
		if err := s.checkUsers(ctx, tx, d.AppID, "occupants_ids", push); err != nil {
			return nil, false, err
		}
	}
	var joining []int64 // pushed users who are not occupants yet
	for _, id := range push {
		if !slices.Contains(d.Occupants, id) {
			joining = append(joining, id)
		}
	}
	if len(joining) > 0 {
		if err := s.mayReadd(ctx, tx, ro, joining); err != nil {
			return nil, false, err
		}
		if err := s.checkJoined(ctx, tx, d.AppID, "occupants_ids", joining); err != nil {
			return nil, false, err
		}
	}
	leaveSelf := false
	for _, id := range pull {
		if !slices.Contains(d.Occupants, id) {
			continue
		}
		if id == ro.user {
			leaveSelf = true
			continue
		}
		if err := tx.DeleteMember(ctx, d.ID, id); err != nil {
			return nil, false, err
		}
		// Removed by the owner: no subscribing back (role.subscribeGroup).
		if err := tx.SetRemoved(ctx, d.ID, id, true, now); err != nil {
			return nil, false, err
		}
		d.Occupants = slices.DeleteFunc(d.Occupants, func(x int64) bool { return x == id })
		d.Admins = slices.DeleteFunc(d.Admins, func(x int64) bool { return x == id })
		kicked = append(kicked, id)
	}
	for _, id := range push {
		if slices.Contains(d.Occupants, id) {
			continue
		}
		if len(d.Occupants)+1 > MaxOccupants {
			return nil, false, apperr.Invalid("occupants_ids", "is too long (maximum is %d users)", MaxOccupants)
		}
		if err := s.join(ctx, tx, d, id, now); err != nil {
			return nil, false, err
		}
	}
	if leaveSelf {
		deleted, err := s.leave(ctx, tx, d, ro.user, now)
		if err != nil || deleted {
			return kicked, deleted, err
		}
	}
	return kicked, false, nil
}

// mayReadd refuses to add back users the group's owner removed, unless
// the caller may (role.canReadd).
func (s *Service) mayReadd(ctx context.Context, tx Tx, ro role, users []int64) error {
	if ro.canReadd() {
		return nil
	}
	for _, u := range users {
		removed, err := tx.Removed(ctx, ro.d.ID, u)
		if err != nil {
			return err
		}
		if removed {
			return errForbidden()
		}
	}
	return nil
}

// join makes user an occupant of group d. Its unread counter starts at the
// derived count, so the counters keep their definition.
func (s *Service) join(ctx context.Context, tx Tx, d *Dialog, user int64, now time.Time) error {
	m, err := tx.Member(ctx, d.ID, user)
	if errors.Is(err, ErrNotFound) {
		m = &Member{DialogID: d.ID, UserID: user, Notifications: true}
	} else if err != nil {
		return err
	}
	m.IsMember, m.MemberSince, m.Hidden = true, now.UnixMicro(), false
	if err := tx.PutMember(ctx, m); err != nil {
		return err
	}
	// Back in: an owner's removal no longer bars anything.
	if err := tx.SetRemoved(ctx, d.ID, user, false, now); err != nil {
		return err
	}
	n, err := tx.Recount(ctx, d.ID, user)
	if err != nil {
		return err
	}
	if err := tx.AddUnread(ctx, d.ID, user, n-m.Unread); err != nil {
		return err
	}
	d.Occupants = append(d.Occupants, user)
	return nil
}

// leave removes user from group d (REST.md §5.4): an owner hands ownership
// to the longest-standing admin, else the longest-standing occupant; a
// dialog nobody remains in is deleted with its messages.
func (s *Service) leave(ctx context.Context, tx Tx, d *Dialog, user int64, now time.Time) (bool, error) {
	if err := tx.DeleteMember(ctx, d.ID, user); err != nil {
		return false, err
	}
	d.Occupants = slices.DeleteFunc(d.Occupants, func(x int64) bool { return x == user })
	d.Admins = slices.DeleteFunc(d.Admins, func(x int64) bool { return x == user })
	if len(d.Occupants) == 0 {
		return true, tx.DeleteDialog(ctx, d.ID)
	}
	if d.OwnerID == user {
		next, err := s.successor(ctx, tx, d)
		if err != nil {
			return false, err
		}
		d.OwnerID = next
		d.Admins = slices.DeleteFunc(d.Admins, func(x int64) bool { return x == next })
		m, err := tx.Member(ctx, d.ID, next)
		if err != nil {
			return false, err
		}
		m.AdminSince = 0
		if err := tx.PutMember(ctx, m); err != nil {
			return false, err
		}
	}
	return false, nil
}

// successor picks the next owner: the admin with the oldest AdminSince, else
// the occupant with the oldest MemberSince; ties go to the lowest user id.
func (s *Service) successor(ctx context.Context, tx Tx, d *Dialog) (int64, error) {
	type cand struct {
		id    int64
		since int64
	}
	var admins, occupants []cand
	for _, id := range d.Occupants {
		m, err := tx.Member(ctx, d.ID, id)
		if err != nil {
			return 0, err
		}
		occupants = append(occupants, cand{id, m.MemberSince})
		if m.AdminSince != 0 {
			admins = append(admins, cand{id, m.AdminSince})
		}
	}
	pick := admins
	if len(pick) == 0 {
		pick = occupants
	}
	sort.Slice(pick, func(i, j int) bool {
		if pick[i].since != pick[j].since {
			return pick[i].since < pick[j].since
		}
		return pick[i].id < pick[j].id
	})
	return pick[0].id, nil
}
