package cli

import (
	"flag"
	"fmt"
	"os"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/push"
	"github.com/parley-chat/parley/internal/store/sqlite"
)

// appPushFlags are the push flags of `parley app update`.
type appPushFlags struct {
	alerts                           *bool
	template, vapidSubject           *string
	vapidGenerate                    *bool
	fcmFile, apnsFile                *string
	apnsKeyID, apnsTeamID, apnsTopic *string
}

func pushFlags(fs *flag.FlagSet) *appPushFlags {
	return &appPushFlags{
		alerts:        fs.Bool("chat-alerts", true, "push chat alerts to users who are offline (--chat-alerts=false turns them off)"),
		template:      fs.String("push-template", "", "chat alert text: {sender}, {dialog}, {body}; {{ and }} for braces (default "+push.DefaultTemplate+")"),
		vapidGenerate: fs.Bool("vapid-generate", false, "generate the Web Push (VAPID) key pair; replacing one makes browsers subscribe again"),
		vapidSubject:  fs.String("vapid-subject", "", `VAPID contact: "mailto:ops@example.com" or an https URL`),
		fcmFile:       fs.String("fcm-service-account", "", "FILE: the Firebase service-account JSON key (FCM HTTP v1)"),
		apnsFile:      fs.String("apns-key", "", "FILE: the APNs auth key (.p8)"),
		apnsKeyID:     fs.String("apns-key-id", "", "the APNs key's id (10 characters)"),
		apnsTeamID:    fs.String("apns-team-id", "", "the Apple developer team id (10 characters)"),
		apnsTopic:     fs.String("apns-topic", "", "the bundle id pushed to when a device gives none"),
	}
}

// input turns the flags given (set) into a push change, reading the key
// files; ok is false when no push flag was given.
func (f *appPushFlags) input(set map[string]bool) (in push.SettingsInput, ok bool, err error) {
	str := func(name string, v *string) *string {
		if !set[name] {
			return nil
		}
		ok = true
		return v
	}
	if set["chat-alerts"] {
		in.Alerts, ok = f.alerts, true
	}
	in.Template = str("push-template", f.template)
	in.VAPIDSubject = str("vapid-subject", f.vapidSubject)
	in.APNsKeyID = str("apns-key-id", f.apnsKeyID)
	in.APNsTeamID = str("apns-team-id", f.apnsTeamID)
	in.APNsTopic = str("apns-topic", f.apnsTopic)
	if set["vapid-generate"] && *f.vapidGenerate {
		in.VAPIDGenerate, ok = true, true
	}
	for _, file := range []struct {
		name string
		path *string
		out  *[]byte
	}{{"fcm-service-account", f.fcmFile, &in.FCMServiceAccount}, {"apns-key", f.apnsFile, &in.APNsKey}} {
		if !set[file.name] {
			continue
		}
		b, err := os.ReadFile(*file.path)
		if err != nil {
			return in, false, fmt.Errorf("--%s: %w", file.name, err)
		}
		if b == nil {
			b = []byte{} // an empty file is refused by the check, not taken as "unchanged"
		}
		*file.out, ok = b, true
	}
	return in, ok, nil
}

// openPush is the push domain on db, with the data directory's sealing
// key (created on first use, as the server does).
func openPush(cfg config.Config, db *sqlite.DB) (*push.Service, error) {
	seal, err := push.OpenSealer(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	return push.NewService(db, seal, nil, nil, push.Limits{}), nil
}

// pushFlagError names the flag a push refusal is about.
func pushFlagError(err error) error {
	if e, ok := asInvalid(err); ok && e.Field == "template" {
		return fmt.Errorf("--push-template: %s", e.Message)
	}
	return flagError(err)
}
