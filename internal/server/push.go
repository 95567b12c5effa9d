package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/push/apns"
	"github.com/parley-chat/parley/internal/push/fcm"
	"github.com/parley-chat/parley/internal/push/webpush"

	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// pushDirectory gives chat alerts their names and badge (push.Directory)
// from the auth and chat services.
type pushDirectory struct {
	auth *auth.Service
	chat *chat.Service
}

func (d pushDirectory) UserName(ctx context.Context, appID, userID int64) (string, error) {
	u, err := d.auth.User(ctx, appID, userID)
	if apperr.KindOf(err) == apperr.KindNotFound {
		return "Someone", nil // deleted since: the alert still says a message came
	}
	if err != nil {
		return "", err
	}
	return u.DisplayName(), nil
}

func (d pushDirectory) DialogName(ctx context.Context, appID int64, dialogID string, viewer int64) (string, error) {
	v, err := d.chat.GetDialog(ctx, chat.Caller{AppID: appID, UserID: viewer}, dialogID)
	if k := apperr.KindOf(err); k == apperr.KindNotFound || k == apperr.KindForbidden {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return v.Title, nil // a private dialog: the other participant, as the recipient sees it
}

func (d pushDirectory) UnreadTotal(ctx context.Context, appID, userID int64) (int, error) {
	_, total, err := d.chat.UnreadCount(ctx, chat.Caller{AppID: appID, UserID: userID}, nil)
	return total, err
}

// pushClient is the HTTP client of the push providers: HTTP/2 where the
// provider speaks it (APNs requires it), the system's roots plus
// --push-ca-file, and a bound per request on top of each try's context.
func pushClient(cfg config.Config) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if cfg.PushCAFile != "" {
		pem, err := os.ReadFile(cfg.PushCAFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Source("push-ca-file"), err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s %s: no PEM certificate in it", cfg.Source("push-ca-file"), cfg.PushCAFile)
		}
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: cfg.PushWorkers,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: cfg.PushTimeout}, nil
}

// pushProviders builds one provider per channel.
func pushProviders(cfg config.Config) (map[push.Channel]push.Provider, error) {
	client, err := pushClient(cfg)
	if err != nil {
		return nil, err
	}
	a := apns.New(apns.Config{Production: cfg.PushAPNsURL, Development: cfg.PushAPNsSandboxURL, Client: client})
	return map[push.Channel]push.Provider{
		push.APNs:     a,
		push.APNsVoIP: a,
		push.GCM:      fcm.New(fcm.Config{Endpoint: cfg.PushFCMURL, Client: client}),
		push.Web:      webpush.New(webpush.Config{Client: client}),
	}, nil
}
