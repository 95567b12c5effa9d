package rest

import (
	"strconv"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/push"
)

// WithPush serves push subscriptions and events (REST.md §10) from svc.
func WithPush(svc *push.Service) Option { return func(a *API) { a.push = svc } }

func (a *API) pushRoutes() {
	a.route("POST /subscriptions", userSession, a.createSubscription)
	a.route("GET /subscriptions", userSession, a.listSubscriptions)
	a.route("DELETE /subscriptions/{id}", userSession, a.deleteSubscription)
	a.route("POST /events", userSession, a.createEvent)
	a.route("GET /push/vapid_public_key", appSession, a.vapidPublicKey)
}

func pushCaller(r *request) push.Caller {
	return push.Caller{AppID: r.sess.AppID, UserID: r.sess.UserID}
}

// subscriptionJSON is the Subscription model (REST.md §2.7).
func subscriptionJSON(s *push.Subscription) map[string]any {
	return map[string]any{"subscription": map[string]any{
		"id":                   s.ID,
		"notification_channel": map[string]any{"name": string(s.Channel)},
		"device":               map[string]any{"udid": s.UDID, "platform": map[string]any{"name": s.Platform}},
	}}
}

// createSubscription is POST /subscriptions (§10.1): the SDK sends the
// channel, device{platform, udid} and push_token{…} as a JSON body.
func (a *API) createSubscription(r *request) (reply, error) {
	device, err := r.params.object("device")
	if err != nil {
		return reply{}, err
	}
	token, err := r.params.object("push_token")
	if err != nil {
		return reply{}, err
	}
	var in push.SubscriptionInput
	for _, f := range []struct {
		p   params
		key string
		out *string
	}{
		{r.params, "notification_channel", &in.Channel},
		{device, "platform", &in.Platform},
		{device, "udid", &in.UDID},
		{token, "environment", &in.Environment},
		{token, "client_identification_sequence", &in.Token},
		{token, "bundle_identifier", &in.Bundle},
		{token, "web_endpoint", &in.WebEndpoint},
		{token, "web_auth", &in.WebAuth},
		{token, "web_p256dh", &in.WebP256dh},
	} {
		if *f.out, err = f.p.text(f.key); err != nil {
			return reply{}, err
		}
	}
	s, err := a.push.Subscribe(r.Context(), pushCaller(r), in)
	if err != nil {
		return reply{}, err
	}
	// An array, as the docs show (§10.1).
	return created([]any{subscriptionJSON(s)})
}

// listSubscriptions is GET /subscriptions (§10.2).
func (a *API) listSubscriptions(r *request) (reply, error) {
	subs, err := a.push.Subscriptions(r.Context(), pushCaller(r))
	if err != nil {
		return reply{}, err
	}
	out := make([]any, len(subs))
	for i := range subs {
		out[i] = subscriptionJSON(&subs[i])
	}
	return ok(out)
}

// deleteSubscription is DELETE /subscriptions/{id} (§10.3): TEXT-typed.
func (a *API) deleteSubscription(r *request) (reply, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return reply{}, apperr.NotFound("Subscription")
	}
	if err := a.push.Unsubscribe(r.Context(), pushCaller(r), id); err != nil {
		return reply{}, err
	}
	return empty()
}

// createEvent is POST /events (§10.4): {"event": {…}}.
func (a *API) createEvent(r *request) (reply, error) {
	ev, err := r.params.object("event")
	if err != nil {
		return reply{}, err
	}
	if ev == nil {
		ev = r.params // the docs' form without the wrapper is cheap to accept
	}
	var in push.EventInput
	for _, f := range []struct {
		key string
		out *string
	}{
		{"notification_type", &in.NotificationType},
		{"push_type", &in.PushType},
		{"environment", &in.Environment},
		{"event_type", &in.EventType},
		{"message", &in.Message},
	} {
		if *f.out, err = ev.text(f.key); err != nil {
			return reply{}, err
		}
	}
	if in.Sel, err = eventSelector(ev); err != nil {
		return reply{}, err
	}
	e, err := a.push.CreateEvent(r.Context(), pushCaller(r), in)
	if err != nil {
		return reply{}, err
	}
	return created([]any{eventJSON(e)})
}

// eventSelector reads user.ids, user.tags.{any,all,exclude} and
// external_user.ids, each a comma string or an array.
func eventSelector(ev params) (push.Selector, error) {
	var sel push.Selector
	user, err := ev.object("user")
	if err != nil {
		return sel, err
	}
	ext, err := ev.object("external_user")
	if err != nil {
		return sel, err
	}
	if sel.IDs, err = pushIDs(user, "user"); err != nil {
		return sel, err
	}
	if sel.ExternalIDs, err = pushIDs(ext, "external_user"); err != nil {
		return sel, err
	}
	tags, err := user.object("tags")
	if err != nil {
		return sel, err
	}
	for _, f := range []struct {
		key string
		out *[]string
	}{{"any", &sel.TagsAny}, {"all", &sel.TagsAll}, {"exclude", &sel.TagsExclude}} {
		l, err := tags.strList(f.key)
		if err != nil {
			return sel, apperr.Invalid("user", "tags.%s must be a list or a comma-separated string", f.key)
		}
		if l != nil {
			*f.out = *l
		}
	}
	return sel, nil
}

func pushIDs(p params, field string) ([]int64, error) {
	l, err := p.strList("ids")
	if err != nil || l == nil {
		if err != nil {
			return nil, apperr.Invalid(field, "ids must be a list or a comma-separated string of user ids")
		}
		return nil, nil
	}
	out := make([]int64, 0, len(*l))
	for _, s := range *l {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, apperr.Invalid(field, "ids: %q is not a user id", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// eventJSON is the Event model (§2.8).
func eventJSON(e *push.Event) map[string]any {
	var channel any
	if e.PushType != "" {
		channel = string(e.PushType)
	}
	at := isoTime(e.CreatedAt)
	return map[string]any{"event": map[string]any{
		"id": e.ID, "event_type": "one_shot", "message": e.Message, "date": nil, "period": nil, "name": nil,
		"occured_count": 0, "end_date": nil, "active": true, "application_id": e.AppID, "user_id": e.UserID,
		"kind": "API", "environment": e.Environment, "tag_query": nil,
		"notification_channel": map[string]any{"name": channel}, "created_at": at, "updated_at": at,
	}}
}

// vapidPublicKey is GET /push/vapid_public_key: the key a web client
// subscribes with (PushManager.subscribe's applicationServerKey).
func (a *API) vapidPublicKey(r *request) (reply, error) {
	k, err := a.push.VAPIDPublicKey(r.Context(), r.sess.AppID)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]string{"vapid_public_key": k})
}
