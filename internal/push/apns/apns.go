// Package apns sends pushes of the apns and apns_voip channels to Apple's
// Push Notification service over HTTP/2 with token authentication (a
// .p8 key, its key id and the team id), on github.com/sideshow/apns2.
package apns

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/internal/push"
	"github.com/sideshow/apns2"
)

// Config says where APNs is and how to reach it.
type Config struct {
	// Production and Development are the two APNs hosts (defaults
	// https://api.push.apple.com and https://api.sandbox.push.apple.com);
	// a subscription's environment picks one.
	Production, Development string
	// Client sends the requests; nil means apns2's own HTTP/2 client (one
	// per key, as Apple asks connections to be kept and reused). Tests
	// pass one trusting their local endpoint.
	Client *http.Client
}

// Provider sends APNs pushes. It is safe for concurrent use.
type Provider struct {
	cfg     Config
	clients *clientCache
}

// New returns a Provider for cfg.
func New(cfg Config) *Provider {
	if cfg.Production == "" {
		cfg.Production = apns2.HostProduction
	}
	if cfg.Development == "" {
		cfg.Development = apns2.HostDevelopment
	}
	return &Provider{cfg: cfg, clients: newClientCache(cfg.Client)}
}

var _ push.Provider = (*Provider)(nil)

// Send pushes d to its device; see push.Provider for what the error means.
func (p *Provider) Send(ctx context.Context, d push.Delivery) error {
	if d.Sub.Channel != push.APNs && d.Sub.Channel != push.APNsVoIP {
		return fmt.Errorf("apns: channel %q is not an APNs channel", d.Sub.Channel)
	}
	c := d.Creds
	if c == nil || len(c.APNsKey) == 0 || c.APNsKeyID == "" || c.APNsTeamID == "" {
		return push.ErrNoCredentials
	}
	topic := d.Sub.Bundle
	if topic == "" {
		topic = c.APNsTopic
	}
	if topic == "" {
		return errors.New("apns: no topic: the subscription names no bundle and the application has no APNs topic")
	}
	if d.Sub.Channel == push.APNsVoIP && !strings.HasSuffix(topic, ".voip") {
		topic += ".voip"
	}
	m, err := build(d)
	if err != nil {
		return err
	}
	cl, err := p.clients.get(c.APNsKey, c.APNsKeyID, c.APNsTeamID)
	if err != nil {
		return err
	}
	host := p.cfg.Production
	if d.Sub.Environment == push.Development {
		host = p.cfg.Development
	}

	n := &apns2.Notification{
		DeviceToken: d.Sub.Token,
		Topic:       topic,
		Payload:     m.payload,
		PushType:    m.pushType,
		Priority:    m.priority,
		Expiration:  m.expiration,
	}
	if d.ID != 0 {
		// The same on every try of this outbox row, so a copy sent twice
		// replaces the first on the device.
		n.CollapseID = "parley-" + strconv.FormatInt(d.ID, 10)
	}
	res, sent, err := cl.push(ctx, host, n)
	if err != nil {
		return &push.RetryError{Err: fmt.Errorf("apns: %w", err)}
	}
	return cl.answer(res, sent)
}
