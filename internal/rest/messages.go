package rest

import (
	"sort"
	"strconv"
	"time"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/rest/form"
	"github.com/parley-chat/parley/internal/sdktime"
)

func (a *API) messageRoutes() {
	a.route("GET /chat/Message", userSession, a.listMessages)
	a.route("POST /chat/Message", userSession, a.createMessage)
	a.route("PUT /chat/Message", userSession, a.updateMessages)
	a.route("PUT /chat/Message/{ids}", userSession, a.updateMessages)
	a.route("DELETE /chat/Message/{ids}", userSession, a.deleteMessages)
	a.route("GET /chat/Message/unread", userSession, a.unreadCount)
	a.route("POST /chat/Message/system", userSession, a.systemMessage)
	a.route("PUT /chat/Message/{id}/reactions", userSession, a.react)
	a.route("GET /chat/Message/{id}/reactions", userSession, a.listReactions)
	a.route("GET /chat/search", userSession, a.search)
}

var messageReserved = map[string]bool{"chat_dialog_id": true, "mark_as_read": true, "preview": true}

type messagePage struct {
	Skip  int              `json:"skip"`
	Limit int              `json:"limit"`
	Items []map[string]any `json:"items"`
}

// listMessages is GET /chat/Message (REST.md §6.1).
func (a *API) listMessages(r *request) (reply, error) {
	p := r.params
	dialogID, err := p.text("chat_dialog_id")
	if err != nil {
		return reply{}, err
	}
	if dialogID == "" {
		return reply{}, apperr.Invalid("chat_dialog_id", "can't be blank")
	}
	markRead := true
	if p.has("mark_as_read") {
		if markRead, err = flag(p, "mark_as_read"); err != nil {
			return reply{}, err
		}
	}
	preview, err := flag(p, "preview")
	if err != nil {
		return reply{}, err
	}
	q, err := chatQuery(p, chat.MessageFields, chat.MessageSorts, messageReserved, chat.DefaultMessagePage, chat.MaxMessagePage)
	if err != nil {
		return reply{}, err
	}
	msgs, err := a.chat.ListMessages(r.Context(), caller(r), dialogID, q, markRead, preview)
	if err != nil {
		return reply{}, err
	}
	return ok(messagePage{Skip: q.Skip, Limit: q.Limit, Items: toMessagesJSON(msgs, r.sess.UserID)})
}

// attachmentsParam reads attachments given as an array of objects or as an
// object keyed by numbers (the docs' form), in numeric key order.
func attachmentsParam(p params) ([]chat.Attachment, error) {
	v, ok := p["attachments"]
	if !ok || v == nil {
		return nil, nil
	}
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case form.Tree:
		keys := make([]int, 0, len(x))
		for k := range x {
			n, err := strconv.Atoi(k)
			if err != nil {
				return nil, apperr.Invalid("attachments", "must be a list of objects")
			}
			keys = append(keys, n)
		}
		sort.Ints(keys)
		for _, k := range keys {
			items = append(items, x[strconv.Itoa(k)])
		}
	default:
		return nil, apperr.Invalid("attachments", "must be a list of objects")
	}
	if len(items) > chat.MaxAttachments {
		return nil, apperr.Invalid("attachments", "is too long (maximum is %d)", chat.MaxAttachments)
	}
	out := make([]chat.Attachment, 0, len(items))
	for _, it := range items {
		obj, ok := it.(form.Tree)
		if !ok {
			return nil, apperr.Invalid("attachments", "must be a list of objects")
		}
		att := chat.Attachment{}
		for k, v := range obj {
			s, err := textValue("attachments", v)
			if err != nil {
				return nil, err
			}
			if len(k) > 64 || len(s) > 4096 {
				return nil, apperr.Invalid("attachments", "attribute %q is too long", k)
			}
			att[k] = s
		}
		out = append(out, att)
	}
	return out, nil
}

// messageKeys are the keys of a message create body that are not custom
// parameters (REALTIME.md §5.4 lists the reserved ones).
var messageKeys = map[string]bool{"chat_dialog_id": true, "recipient_id": true, "message": true, "attachments": true,
	"send_to_chat": true, "save_to_history": true, "dialog_id": true, "silent": true, "date_sent": true,
	"moduleIdentifier": true}

// createMessage is POST /chat/Message (REST.md §6.2).
func (a *API) createMessage(r *request) (reply, error) {
	p := r.params
	var in chat.MessageInput
	var err error
	if in.DialogID, err = p.text("chat_dialog_id"); err != nil {
		return reply{}, err
	}
	if rid, err := p.int("recipient_id"); err != nil {
		return reply{}, err
	} else if rid != nil {
		in.RecipientID = *rid
	}
	if v, ok := p["message"]; ok {
		if in.Body, err = textValue("message", v); err != nil {
			return reply{}, err
		}
	}
	if in.Attachments, err = attachmentsParam(p); err != nil {
		return reply{}, err
	}
	if in.SendToChat, err = flag(p, "send_to_chat"); err != nil {
		return reply{}, err
	}
	for k, v := range p {
		if messageKeys[k] || messageFields[k] {
			continue
		}
		cv, err := customValue(k, v, 0)
		if err != nil {
			return reply{}, err
		}
		if in.Custom == nil {
			in.Custom = map[string]any{}
		}
		in.Custom[k] = cv
	}
	msg, err := a.chat.CreateMessage(r.Context(), caller(r), in)
	if err != nil {
		return reply{}, err
	}
	return created(toMessageJSON(msg, r.sess.UserID))
}

// updateMessages is PUT /chat/Message[/{ids}] (REST.md §6.3), TEXT-typed.
func (a *API) updateMessages(r *request) (reply, error) {
	p := r.params
	var ids []string
	if seg := r.PathValue("ids"); seg != "" {
		var err error
		if ids, err = pathIDs(seg); err != nil {
			return reply{}, err
		}
	}
	dialogID, err := p.text("chat_dialog_id")
	if err != nil {
		return reply{}, err
	}
	var u chat.MessageUpdate
	if u.Read, err = flag(p, "read"); err != nil {
		return reply{}, err
	}
	if u.Delivered, err = flag(p, "delivered"); err != nil {
		return reply{}, err
	}
	if v, ok := p["message"]; ok {
		body, err := textValue("message", v)
		if err != nil {
			return reply{}, err
		}
		u.Body = &body
	}
	if err := a.chat.UpdateMessages(r.Context(), caller(r), dialogID, ids, u); err != nil {
		return reply{}, err
	}
	return empty()
}

// deleteMessages is DELETE /chat/Message/{ids} (REST.md §6.4): a JSON
// report the SDK hands over as text.
func (a *API) deleteMessages(r *request) (reply, error) {
	ids, err := pathIDs(r.PathValue("ids"))
	if err != nil {
		return reply{}, err
	}
	force, err := flag(r.params, "force")
	if err != nil {
		return reply{}, err
	}
	rep, err := a.chat.DeleteMessages(r.Context(), caller(r), ids, force)
	if err != nil {
		return reply{}, err
	}
	return ok(toReportJSON(rep))
}

// unreadCount is GET /chat/Message/unread (REST.md §6.5); the seed's
// dialogs_ids is an exact alias of chat_dialog_ids.
func (a *API) unreadCount(r *request) (reply, error) {
	var ids []string
	for _, key := range []string{"chat_dialog_ids", "dialogs_ids"} {
		list, err := r.params.strList(key)
		if err != nil {
			return reply{}, err
		}
		if list != nil {
			ids = append(ids, *list...)
		}
	}
	counts, total, err := a.chat.UnreadCount(r.Context(), caller(r), ids)
	if err != nil {
		return reply{}, err
	}
	out := make(map[string]int, len(counts)+1)
	for id, n := range counts {
		out[id] = n
	}
	out["total"] = total
	return ok(out)
}

// systemMessage is POST /chat/Message/system (REST.md §6.6).
func (a *API) systemMessage(r *request) (reply, error) {
	to, err := r.params.int("recipientId")
	if err != nil {
		return reply{}, err
	}
	if to == nil {
		return reply{}, apperr.Invalid("recipientId", "can't be blank")
	}
	ext := map[string]any{}
	for k, v := range r.params {
		if k == "recipientId" {
			continue
		}
		cv, err := customValue(k, v, 0)
		if err != nil {
			return reply{}, err
		}
		ext[k] = cv
	}
	id, err := a.chat.SystemMessage(r.Context(), caller(r), *to, ext)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"messageId": id, "recipientId": *to, "extensionParams": ext})
}

// react is PUT /chat/Message/{id}/reactions (REST.md §6.7), TEXT-typed.
func (a *API) react(r *request) (reply, error) {
	add, err := r.params.text("add")
	if err != nil {
		return reply{}, err
	}
	remove, err := r.params.text("remove")
	if err != nil {
		return reply{}, err
	}
	if err := a.chat.React(r.Context(), caller(r), r.PathValue("id"), add, remove); err != nil {
		return reply{}, err
	}
	return empty()
}

// listReactions is GET /chat/Message/{id}/reactions (REST.md §6.8).
func (a *API) listReactions(r *request) (reply, error) {
	m, err := a.chat.Reactions(r.Context(), caller(r), r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return ok(m)
}

// maxSearchSpan is the widest start_date..end_date window (REST.md §7).
const maxSearchSpan = 92 * 24 * time.Hour

// search is GET /chat/search (REST.md §7).
func (a *API) search(r *request) (reply, error) {
	p := r.params
	var s chat.Search
	var err error
	if s.Text, err = p.text("search_text"); err != nil {
		return reply{}, err
	}
	list, err := p.strList("chat_dialog_ids")
	if err != nil {
		return reply{}, err
	}
	if list != nil {
		s.DialogIDs = *list
	}
	limit, err := p.intIn("limit", chat.MaxPageSize, 1, chat.MaxPageSize)
	if err != nil {
		return reply{}, err
	}
	s.Limit = int(limit)
	start, err := p.text("start_date")
	if err != nil {
		return reply{}, err
	}
	end, err := p.text("end_date")
	if err != nil {
		return reply{}, err
	}
	if start != "" {
		if end == "" {
			return reply{}, apperr.Invalid("end_date", "can't be blank when start_date is given")
		}
		later, ok1 := sdktime.Parse(start)
		earlier, ok2 := sdktime.Parse(end)
		if !ok1 {
			return reply{}, apperr.Invalid("start_date", "is not a date")
		}
		if !ok2 {
			return reply{}, apperr.Invalid("end_date", "is not a date")
		}
		if earlier.After(later) || later.Sub(earlier) > maxSearchSpan {
			return reply{}, apperr.Invalid("end_date", "must be at most 3 months before start_date")
		}
		s.To, s.From = later.Unix(), earlier.Unix()
	}
	res, err := a.chat.Search(r.Context(), caller(r), s)
	if err != nil {
		return reply{}, err
	}
	dialogs := make([]*dialogJSON, len(res.Dialogs))
	for i := range res.Dialogs {
		dialogs[i] = a.toDialogJSON(&res.Dialogs[i])
	}
	users, err := a.usersByID(r, res.Users)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"results": map[string]any{
		"dialogs": dialogs, "messages": toMessagesJSON(res.Messages, r.sess.UserID), "users": users}})
}
