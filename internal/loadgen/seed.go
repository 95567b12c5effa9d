package loadgen

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/auth"
	"github.com/parley-chat/parley/internal/chat"
)

// SeedConfig sizes a data set.
type SeedConfig struct {
	Users    int
	Dialogs  int
	Messages int
	// HeavyDialogs is how many dialogs the benchmark user (the first user)
	// is in; the rest are spread over all users.
	HeavyDialogs int
	// Seed makes the data set reproducible.
	Seed uint64
}

// DefaultSeed is the data set of the README figures.
var DefaultSeed = SeedConfig{Users: 1000, Dialogs: 10000, Messages: 1000000, HeavyDialogs: 500, Seed: 1}

// SeedResult names what the benchmarks use.
type SeedResult struct {
	AppID     int64
	UserIDs   []int64
	HeavyUser int64
	// HeavyDialog is the benchmark user's busiest group dialog.
	HeavyDialog string
	Password    string
	Took        time.Duration
}

// words is the vocabulary message bodies are drawn from (the seeder's and
// the load tool's).
var words = strings.Fields(`the a to and of in is it you that for on with this be are was have not at
	what so can do we but my your all just me if about will get out up when there how like one now no
	time know see good more today meet call later tomorrow dinner lunch coffee office home work project
	deadline review meeting photo video trip weekend party music movie game team plan idea question answer
	thanks sorry great cool nice love happy busy late early morning evening night week month year`)

// Seed fills an empty app of the store with cfg's data set through the
// domain services, printing progress to w. Messages are stored in batches
// through chat.Service.PostBatch, the group-commit path live senders use.
func Seed(ctx context.Context, authSvc *auth.Service, chatSvc *chat.Service, cfg SeedConfig, w io.Writer) (*SeedResult, error) {
	start := time.Now()
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	app, err := authSvc.CreateApp(ctx, fmt.Sprintf("bench-%d", start.Unix()), []string{"location"})
	if err != nil {
		return nil, err
	}
	res := &SeedResult{AppID: app.ID, Password: "bench-password"}
	// Users: hashing dominates; a cheap hash cost is fine for a bench set.
	for i := 0; i < cfg.Users; i++ {
		login, pw := fmt.Sprintf("bench%06d", i), res.Password
		u, err := authSvc.SignUp(ctx, app.ID, auth.UserInput{Login: &login, Password: &pw})
		if err != nil {
			return nil, fmt.Errorf("seed user %d: %w", i, err)
		}
		res.UserIDs = append(res.UserIDs, u.ID)
		if (i+1)%200 == 0 || i+1 == cfg.Users {
			fmt.Fprintf(w, "\rusers    %7d/%d", i+1, cfg.Users)
		}
	}
	fmt.Fprintln(w)
	res.HeavyUser = res.UserIDs[0]
	users := res.UserIDs
	type dialog struct {
		id      string
		members []int64
		weight  int
	}
	var dialogs []dialog
	for i := 0; i < cfg.Dialogs; i++ {
		heavy := i < cfg.HeavyDialogs
		owner := users[1+rng.IntN(len(users)-1)]
		if heavy {
			owner = res.HeavyUser
		}
		var in chat.DialogInput
		var members []int64
		switch r := rng.IntN(100); {
		case r < 60: // private
			other := users[1+rng.IntN(len(users)-1)]
			for other == owner {
				other = users[1+rng.IntN(len(users)-1)]
			}
			in = chat.DialogInput{Type: chat.Private, Occupants: []int64{other}}
			members = []int64{owner, other}
		case r < 95: // group of 3 to 20
			n := min(2+rng.IntN(19), len(users)-1) // never more members than users
			set := map[int64]bool{owner: true}
			for len(set) < n+1 {
				set[users[rng.IntN(len(users))]] = true
			}
			for id := range set {
				members = append(members, id)
			}
			name := fmt.Sprintf("%s %s group %d", words[rng.IntN(len(words))], words[rng.IntN(len(words))], i)
			in = chat.DialogInput{Type: chat.Group, Name: &name, Occupants: members,
				Extensions: []chat.KV{{Key: "location", Value: words[rng.IntN(len(words))]}}}
		default: // public
			name := fmt.Sprintf("public %s channel %d", words[rng.IntN(len(words))], i)
			in = chat.DialogInput{Type: chat.Public, Name: &name}
			members = []int64{owner}
		}
		v, _, err := chatSvc.CreateDialog(ctx, chat.Caller{AppID: app.ID, UserID: owner}, in)
		if err != nil {
			return nil, fmt.Errorf("seed dialog %d: %w", i, err)
		}
		dialogs = append(dialogs, dialog{id: v.ID, members: members, weight: 1 + rng.IntN(20)})
		if (i+1)%500 == 0 || i+1 == cfg.Dialogs {
			fmt.Fprintf(w, "\rdialogs  %7d/%d", i+1, cfg.Dialogs)
		}
	}
	fmt.Fprintln(w)
	// The heavy dialog, a long history: the heavy user's first group.
	for _, d := range dialogs[:max(1, cfg.HeavyDialogs)] {
		if len(d.members) > 2 {
			res.HeavyDialog = d.id
			break
		}
	}
	cum := make([]int, len(dialogs))
	total := 0
	for i, d := range dialogs {
		if d.id == res.HeavyDialog {
			d.weight = 2000 // about 2% of all messages
		}
		total += d.weight
		cum[i] = total
	}
	pick := func() dialog {
		x := rng.IntN(total)
		lo, hi := 0, len(cum)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cum[mid] > x {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return dialogs[lo]
	}
	const batch = 500
	base := time.Now().Add(-90 * 24 * time.Hour).Unix()
	span := int64(90 * 24 * 3600)
	msgStart := time.Now()
	for done := 0; done < cfg.Messages; {
		n := min(batch, cfg.Messages-done)
		posts := make([]chat.Post, n)
		for i := range posts {
			d := pick()
			sender := d.members[rng.IntN(len(d.members))]
			k := 3 + rng.IntN(12)
			body := make([]string, k)
			for j := range body {
				body[j] = words[rng.IntN(len(words))]
			}
			posts[i] = chat.Post{Caller: chat.Caller{AppID: app.ID, UserID: sender},
				In: chat.MessageInput{DialogID: d.id, Body: strings.Join(body, " "),
					DateSent: base + int64(done+i)*span/int64(cfg.Messages)}}
		}
		_, errs, err := chatSvc.PostBatch(ctx, posts)
		if err != nil {
			return nil, fmt.Errorf("seed messages: %w", err)
		}
		for i, e := range errs {
			if e != nil {
				return nil, fmt.Errorf("seed message %d: %w", done+i, e)
			}
		}
		done += n
		if done%20000 == 0 || done == cfg.Messages {
			rate := float64(done) / time.Since(msgStart).Seconds()
			fmt.Fprintf(w, "\rmessages %7d/%d  %6.0f msg/s", done, cfg.Messages, rate)
		}
	}
	fmt.Fprintln(w)
	res.Took = time.Since(start)
	return res, nil
}
