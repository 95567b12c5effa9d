package push

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/url"
	"strings"

	"github.com/parley-chat/parley/internal/apperr"
)

// SettingsInput is a change of an app's push settings (`parley app
// update`); nil and empty fields are left as they are.
type SettingsInput struct {
	Alerts                *bool
	Template              *string
	VAPIDGenerate         bool
	VAPIDSubject          *string
	FCMServiceAccount     []byte
	APNsKey               []byte
	APNsKeyID, APNsTeamID *string
	APNsTopic             *string
}

// SettingsView is an app's push settings as shown: never a secret. FCM
// and APNs say whether those credentials are set.
type SettingsView struct {
	AppID          int64  `json:"id"`
	Alerts         bool   `json:"chat_alerts"`
	Template       string `json:"push_template"`
	VAPIDPublicKey string `json:"vapid_public_key"`
	VAPIDSubject   string `json:"vapid_subject"`
	FCM            bool   `json:"fcm"`
	APNs           bool   `json:"apns"`
	FCMProject     string `json:"fcm_project"`
	APNsKeyID      string `json:"apns_key_id"`
	APNsTeamID     string `json:"apns_team_id"`
	APNsTopic      string `json:"apns_topic"`
}

var errNoVAPID = &apperr.Error{Kind: apperr.KindNotFound, Message: "Web Push is not configured for this application"}

// VAPIDPublicKey is the key web clients subscribe with (base64url).
func (s *Service) VAPIDPublicKey(ctx context.Context, appID int64) (string, error) {
	st, err := s.st.AppSettings(ctx, appID)
	if err != nil {
		return "", err
	}
	if st.VAPIDPublic == "" {
		return "", errNoVAPID
	}
	return st.VAPIDPublic, nil
}

// Settings returns an app's push settings.
func (s *Service) Settings(ctx context.Context, appID int64) (*SettingsView, error) {
	st, err := s.st.AppSettings(ctx, appID)
	if err != nil {
		return nil, err
	}
	creds, err := s.open(st)
	if err != nil {
		return nil, err
	}
	return view(st, creds), nil
}

func view(st *StoredSettings, c *Credentials) *SettingsView {
	v := &SettingsView{AppID: st.AppID, Alerts: !st.AlertsOff, Template: st.Template, VAPIDPublicKey: st.VAPIDPublic}
	if v.Template == "" {
		v.Template = DefaultTemplate
	}
	if c != nil {
		v.VAPIDSubject = c.VAPIDSubject
		v.FCM, v.APNs = len(c.FCMServiceAccount) > 0, len(c.APNsKey) > 0
		if v.FCM {
			v.FCMProject = parseServiceAccount(c.FCMServiceAccount).ProjectID
		}
		v.APNsKeyID, v.APNsTeamID, v.APNsTopic = c.APNsKeyID, c.APNsTeamID, c.APNsTopic
	}
	return v
}

// UpdateSettings validates every change, then writes them together:
// one bad value changes nothing.
func (s *Service) UpdateSettings(ctx context.Context, appID int64, in SettingsInput) (*SettingsView, error) {
	st, err := s.st.AppSettings(ctx, appID)
	if err != nil {
		return nil, err
	}
	// A key that does not open the stored secrets must not overwrite them.
	old, err := s.open(st)
	if err != nil {
		return nil, err
	}
	var c Credentials
	if old != nil {
		c = *old
	}
	if in.Alerts != nil {
		st.AlertsOff = !*in.Alerts
	}
	if in.Template != nil {
		if _, err := ParseTemplate(*in.Template); err != nil {
			return nil, apperr.Invalid("template", "%v", err)
		}
		st.Template = *in.Template
	}
	if in.VAPIDSubject != nil {
		if !validSubject(*in.VAPIDSubject) {
			return nil, apperr.Invalid("vapid-subject", "must be a mailto: address or an https URL")
		}
		c.VAPIDSubject = *in.VAPIDSubject
	}
	if in.FCMServiceAccount != nil {
		if err := checkServiceAccount(in.FCMServiceAccount); err != nil {
			return nil, err
		}
		c.FCMServiceAccount = in.FCMServiceAccount
	}
	if in.APNsKey != nil {
		if err := checkAPNsKey(in.APNsKey); err != nil {
			return nil, err
		}
		c.APNsKey = in.APNsKey
	}
	for _, f := range []struct {
		name string
		in   *string
		out  *string
	}{{"apns-key-id", in.APNsKeyID, &c.APNsKeyID}, {"apns-team-id", in.APNsTeamID, &c.APNsTeamID}} {
		if f.in == nil {
			continue
		}
		if !appleID(*f.in) {
			return nil, apperr.Invalid(f.name, "must be 10 letters or digits, as Apple's developer account shows it")
		}
		*f.out = *f.in
	}
	if in.APNsTopic != nil {
		if len(*in.APNsTopic) > 255 || !printable(*in.APNsTopic) {
			return nil, apperr.Invalid("apns-topic", "must be a bundle id (printable ASCII, at most 255 characters)")
		}
		c.APNsTopic = *in.APNsTopic
	}
	if in.VAPIDGenerate && c.VAPIDSubject == "" {
		// Push services want a contact in every VAPID JWT; keys without
		// one would only fail later, at every push.
		return nil, apperr.Invalid("vapid-subject", "is required with --vapid-generate: a mailto: address or an https URL push services can reach you at")
	}
	if in.VAPIDGenerate {
		key, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		c.VAPIDPrivateKey = base64.RawURLEncoding.EncodeToString(key.Bytes())
		c.VAPIDPublicKey = base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes())
		st.VAPIDPublic = c.VAPIDPublicKey
	}
	if c.VAPIDPrivateKey != "" || c.VAPIDSubject != "" || len(c.FCMServiceAccount) > 0 || len(c.APNsKey) > 0 ||
		c.APNsKeyID != "" || c.APNsTeamID != "" || c.APNsTopic != "" {
		if s.seal == nil {
			return nil, errors.New("push: no sealing key to store credentials with")
		}
		plain, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		if st.Secrets, err = s.seal.Seal(plain); err != nil {
			return nil, err
		}
	}
	if err := s.st.PutAppSettings(ctx, st); err != nil {
		return nil, err
	}
	s.forget(appID)
	return view(st, &c), nil
}

func validSubject(s string) bool {
	if addr, ok := strings.CutPrefix(s, "mailto:"); ok {
		at := strings.IndexByte(addr, '@')
		return at > 0 && at < len(addr)-1 && printable(addr)
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && printable(s)
}

func appleID(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

type serviceAccount struct {
	Type        string `json:"type"`
	ProjectID   string `json:"project_id"`
	ClientEmail string `json:"client_email"`
	PrivateKey  string `json:"private_key"`
}

func parseServiceAccount(b []byte) serviceAccount {
	var sa serviceAccount
	_ = json.Unmarshal(b, &sa)
	return sa
}

// checkServiceAccount accepts a Google service-account key file: what
// FCM HTTP v1's OAuth needs, with a private key that parses.
func checkServiceAccount(b []byte) error {
	const field = "fcm-service-account"
	var sa serviceAccount
	if err := json.Unmarshal(b, &sa); err != nil {
		return apperr.Invalid(field, "is not a JSON service-account key file: %v", err)
	}
	switch {
	case sa.Type != "service_account":
		return apperr.Invalid(field, `is not a service-account key (its "type" is %q, want "service_account")`, sa.Type)
	case sa.ProjectID == "":
		return apperr.Invalid(field, "has no project_id")
	case sa.ClientEmail == "":
		return apperr.Invalid(field, "has no client_email")
	}
	blk, _ := pem.Decode([]byte(sa.PrivateKey))
	if blk == nil {
		return apperr.Invalid(field, "has no PEM private_key")
	}
	if _, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err != nil {
		if _, err1 := x509.ParsePKCS1PrivateKey(blk.Bytes); err1 != nil {
			return apperr.Invalid(field, "private_key does not parse: %v", err)
		}
	}
	return nil
}

// checkAPNsKey accepts an APNs auth key (.p8): a PKCS#8 P-256 key in PEM.
func checkAPNsKey(b []byte) error {
	const field = "apns-key"
	blk, _ := pem.Decode(b)
	if blk == nil {
		return apperr.Invalid(field, "is not a PEM file (an APNs .p8 key)")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return apperr.Invalid(field, "is not a PKCS#8 private key: %v", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return apperr.Invalid(field, "is not a P-256 EC key (an APNs .p8 key)")
	}
	return nil
}
