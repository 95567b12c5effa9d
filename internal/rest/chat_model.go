package rest

import (
	"strconv"

	"github.com/parley-chat/parley/internal/chat"
)

// dialogJSON is the Dialog model of REST.md §2.3.
type dialogJSON struct {
	ID                  string            `json:"_id"`
	Type                chat.Type         `json:"type"`
	Name                *string           `json:"name"`
	Description         *string           `json:"description"`
	Photo               *string           `json:"photo"`
	UserID              int64             `json:"user_id"`
	OccupantsIDs        []int64           `json:"occupants_ids"`
	OccupantsCount      *int              `json:"occupants_count"`
	AdminsIDs           []int64           `json:"admins_ids"`
	PinnedMessagesIDs   []string          `json:"pinned_messages_ids"`
	LastMessage         *string           `json:"last_message"`
	LastMessageID       *string           `json:"last_message_id"`
	LastMessageUserID   *int64            `json:"last_message_user_id"`
	LastMessageDateSent *int64            `json:"last_message_date_sent"`
	LastMessageStatus   *string           `json:"last_message_status"`
	UnreadMessagesCount *int              `json:"unread_messages_count"`
	XMPPRoomJID         *string           `json:"xmpp_room_jid"`
	Extensions          map[string]string `json:"extensions"`
	Permissions         permissionsJSON   `json:"permissions"`
	CreatedAt           string            `json:"created_at"`
	UpdatedAt           string            `json:"updated_at"`
}

type permissionsJSON struct {
	AllowPreview bool `json:"allow_preview"`
}

// RoomJID is the XMPP room address of a dialog (spec README §2).
func RoomJID(appID int64, dialogID, domain string) string {
	return strconv.FormatInt(appID, 10) + "_" + dialogID + "@muc." + domain
}

func (a *API) toDialogJSON(v *chat.View) *dialogJSON { return dialogModel(v, a.cfg.Domain) }

// DialogJSON renders a dialog view in the REST model; the command line
// prints dialogs with it too.
func DialogJSON(v *chat.View, domain string) any { return dialogModel(v, domain) }

func dialogModel(v *chat.View, domain string) *dialogJSON {
	d := v.Dialog
	out := &dialogJSON{
		ID: d.ID, Type: d.Type, Description: optStr(d.Description), Photo: optStr(d.Photo), UserID: d.OwnerID,
		OccupantsIDs: d.Occupants, AdminsIDs: d.Admins, PinnedMessagesIDs: d.Pinned,
		UnreadMessagesCount: v.Unread, Extensions: d.Extensions, Permissions: permissionsJSON{d.AllowPreview},
		CreatedAt: isoTime(d.CreatedAt), UpdatedAt: isoTime(d.UpdatedAt), LastMessageStatus: optStr(v.LastStatus),
	}
	if d.Type != chat.Private {
		jid := RoomJID(d.AppID, d.ID, domain)
		out.XMPPRoomJID = &jid
	}
	// Named for the caller (chat.View.Title): a private dialog after the
	// other participant, null once that user is gone.
	if v.Title != "" || d.Type != chat.Private {
		title := v.Title
		out.Name = &title
	}
	if d.Type == chat.Public || d.Type == chat.Broadcast {
		out.OccupantsIDs = []int64{}
	}
	if d.Type == chat.Public {
		n := d.Subscribers
		out.OccupantsCount = &n
	}
	if out.OccupantsIDs == nil {
		out.OccupantsIDs = []int64{}
	}
	if out.AdminsIDs == nil {
		out.AdminsIDs = []int64{}
	}
	if out.PinnedMessagesIDs == nil {
		out.PinnedMessagesIDs = []string{}
	}
	if len(out.Extensions) == 0 {
		out.Extensions = nil
	}
	if l := d.Last; l != nil {
		body, id, user, date := l.Body, l.ID, l.UserID, l.DateSent
		out.LastMessage, out.LastMessageID, out.LastMessageUserID, out.LastMessageDateSent = &body, &id, &user, &date
	}
	return out
}

// messageFields are the keys of the Message model; custom keys that
// collide with them are dropped (REST.md §2.4).
var messageFields = map[string]bool{"_id": true, "chat_dialog_id": true, "message": true, "date_sent": true,
	"sender_id": true, "recipient_id": true, "attachments": true, "read_ids": true, "delivered_ids": true,
	"views_count": true, "read": true, "reactions": true, "created_at": true, "updated_at": true}

// toMessageJSON renders the Message model of REST.md §2.4 for the caller.
func toMessageJSON(m *chat.Message, caller int64) map[string]any {
	out := make(map[string]any, 16+len(m.Custom))
	for k, v := range m.Custom {
		if !messageFields[k] {
			out[k] = v
		}
	}
	atts := make([]map[string]any, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		o := make(map[string]any, len(a))
		for k, v := range a {
			o[k] = v
			if k == "size" {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					o[k] = n
				}
			}
		}
		atts = append(atts, o)
	}
	readIDs := append([]int64{m.SenderID}, m.ReadIDs...)
	delivered := append([]int64{m.SenderID}, m.DeliveredIDs...)
	views, read := 0, 0
	if m.DialogType == chat.Broadcast || m.DialogType == chat.Public {
		views = len(m.ReadIDs)
	}
	if len(m.ReadIDs) > 0 {
		read = 1
	}
	var reactions any
	if len(m.Reactions) > 0 {
		own := []string{}
		total := map[string]int{}
		for r, users := range m.Reactions {
			total[r] = len(users)
			for _, u := range users {
				if u == caller {
					own = append(own, r)
				}
			}
		}
		reactions = map[string]any{"own": own, "total": total}
	}
	out["_id"] = m.ID
	out["chat_dialog_id"] = m.DialogID
	out["message"] = m.Body
	out["date_sent"] = m.DateSent
	out["sender_id"] = m.SenderID
	out["recipient_id"] = m.RecipientID
	out["attachments"] = atts
	out["read_ids"] = readIDs
	out["delivered_ids"] = delivered
	out["views_count"] = views
	out["read"] = read
	out["reactions"] = reactions
	out["created_at"] = isoTime(m.CreatedAt)
	out["updated_at"] = isoTime(m.UpdatedAt)
	return out
}

func toMessagesJSON(msgs []*chat.Message, caller int64) []map[string]any {
	out := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		out[i] = toMessageJSON(m, caller)
	}
	return out
}
