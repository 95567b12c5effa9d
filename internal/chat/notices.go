package chat

import "context"

// Audience says who gets a dialog's live notices (reactions, REALTIME.md
// §12): its members' available resources (group and private dialogs:
// occupants; public: subscribers), or, for a broadcast dialog, which has
// no member rows, every available user of the application (everyone).
// The rule is the domain's, as for messages (StartDialog); the front end
// only routes.
func (s *Service) Audience(ctx context.Context, d *Dialog) (users []int64, everyone bool, err error) {
	if d.Type == Broadcast {
		return nil, true, nil
	}
	limit := MaxOccupants
	if d.Type == Public {
		limit = MaxOccupants * 100
	}
	users, err = s.store.Members(ctx, d.ID, 0, limit)
	return users, false, err
}
