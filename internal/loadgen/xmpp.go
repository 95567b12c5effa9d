package loadgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/xmpp"
)

// XMPPConfig drives a real-time load run against a running server.
type XMPPConfig struct {
	APIURL  string // REST base URL, for creating the users
	WSURL   string // XMPP over WebSocket
	AppID   int64
	AuthKey string
	Domain  string

	Conns    int           // connections to open and hold
	Pairs    int           // of those, pairs that chat (2 per pair)
	Messages int           // messages each sender sends
	Window   int           // messages a sender may have in flight
	Drain    time.Duration // how long to wait for stragglers
	// ServerPID, when set, is read for the server's memory (VmRSS) before
	// and after the connections open.
	ServerPID int
	// Settle is how long the connections are held idle before the
	// server's memory is read: the garbage of the login burst (password
	// checks, queries) is in RSS until the Go runtime returns it to the
	// OS, which takes tens of seconds.
	Settle time.Duration
}

// XMPPReport is what a run measured.
type XMPPReport struct {
	Conns          int
	ConnectRate    float64 // logins per second
	RSSPerConnKiB  float64 // server memory per held connection, 0 when not measured
	Sent           int64
	Delivered      int64
	Lost           int64
	DeliveredRate  float64 // messages per second
	P50, P99       time.Duration
	ConnectSeconds float64
	ChatSeconds    float64
}

// wsClient is a minimal SDK-shaped XMPP client.
type wsClient struct {
	c   *websocket.Conn
	jid string
}

func (w *wsClient) send(ctx context.Context, s string) error {
	return w.c.Write(ctx, websocket.MessageText, []byte(s))
}

func (w *wsClient) recv(ctx context.Context) (*xmpp.Element, error) {
	_, b, err := w.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	return xmpp.ParseElement(b, xmpp.Limits{})
}

func (w *wsClient) expect(ctx context.Context, name string) (*xmpp.Element, error) {
	el, err := w.recv(ctx)
	if err != nil {
		return nil, err
	}
	if el.Name != name {
		return nil, fmt.Errorf("got <%s>, want <%s>", el.Name, name)
	}
	return el, nil
}

// login runs the SDK's exchange (REALTIME.md §2.1) up to an answered ping.
func login(ctx context.Context, cfg XMPPConfig, userID int64, password string) (*wsClient, error) {
	c, _, err := websocket.Dial(ctx, cfg.WSURL, &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	w := &wsClient{c: c}
	open := `<open version="1.0" xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="` + cfg.Domain + `"/>`
	local := fmt.Sprintf("%d-%d", userID, cfg.AppID)
	auth := `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">` +
		base64.StdEncoding.EncodeToString([]byte("\x00"+local+"\x00"+password)) + `</auth>`
	bind := `<iq type="set" id="b" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`
	ping := `<iq type="get" id="p" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`
	steps := []struct {
		send []string
		want []string
	}{
		{[]string{open}, []string{"open", "stream:features"}},
		{[]string{auth}, []string{"success"}},
		{[]string{open}, []string{"open", "stream:features"}},
		{[]string{bind}, []string{"iq"}},
		// The ping's answer after the presence proves the resource available.
		{[]string{`<presence xmlns="jabber:client"/>`, ping}, []string{"iq"}},
	}
	for _, st := range steps {
		for _, out := range st.send {
			if err := w.send(ctx, out); err != nil {
				c.CloseNow()
				return nil, err
			}
		}
		for _, want := range st.want {
			el, err := w.expect(ctx, want)
			if err != nil {
				c.CloseNow()
				return nil, fmt.Errorf("login %s: %w", local, err)
			}
			if el.Attr("id") == "b" {
				w.jid = el.Child("bind", xmpp.NSBind).Child("jid", "").Text()
			}
		}
	}
	return w, nil
}

// signUp creates n users through REST with the app's auth key.
func signUp(ctx context.Context, cfg XMPPConfig, n int, progress io.Writer) ([]int64, string, error) {
	password := "load-password-1"
	prefix := fmt.Sprintf("load%d_", time.Now().UnixNano()%1e9)
	ids := make([]int64, n)
	var next atomic.Int64
	var done atomic.Int64
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				body, _ := json.Marshal(map[string]any{"user": map[string]any{"login": prefix + strconv.Itoa(i), "password": password}})
				req, _ := http.NewRequestWithContext(ctx, "POST", cfg.APIURL+"/users.json", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("CB-AuthKey", cfg.AuthKey)
				resp, err := client.Do(req)
				if err != nil {
					errc <- err
					return
				}
				var out struct {
					User struct{ ID int64 } `json:"user"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusCreated {
					errc <- fmt.Errorf("sign up: status %d, %v", resp.StatusCode, err)
					return
				}
				ids[i] = out.User.ID
				if d := done.Add(1); d%500 == 0 || int(d) == n {
					fmt.Fprintf(progress, "\rusers       %6d/%d", d, n)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Fprintln(progress)
	select {
	case err := <-errc:
		return nil, "", err
	default:
	}
	return ids, password, nil
}

func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// RunXMPP creates the users, opens the connections (measuring the login
// rate and, with a server PID, the server memory they hold), then lets the
// pairs chat with save_to_history=1 and measures delivery rate, latency and
// losses. Progress goes to progress once a second.
func RunXMPP(ctx context.Context, cfg XMPPConfig, progress io.Writer) (*XMPPReport, error) {
	if cfg.Pairs*2 > cfg.Conns {
		return nil, errors.New("pairs need two connections each: --pairs at most --conns/2")
	}
	if cfg.Window <= 0 {
		cfg.Window = 10
	}
	ids, password, err := signUp(ctx, cfg, cfg.Conns, progress)
	if err != nil {
		return nil, err
	}
	rep := &XMPPReport{Conns: cfg.Conns}
	rss0 := rssKiB(cfg.ServerPID)
	clients := make([]*wsClient, cfg.Conns)
	start := time.Now()
	var next, done atomic.Int64
	errc := make(chan error, 16)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Conns {
					return
				}
				lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				c, err := login(lctx, cfg, ids[i], password)
				cancel()
				if err != nil {
					errc <- err
					return
				}
				clients[i] = c
				if d := done.Add(1); d%500 == 0 || int(d) == cfg.Conns {
					fmt.Fprintf(progress, "\rconnections %6d/%d  %6.0f/s", d, cfg.Conns, float64(d)/time.Since(start).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	fmt.Fprintln(progress)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.c.CloseNow()
			}
		}
	}()
	select {
	case err := <-errc:
		return nil, err
	default:
	}
	rep.ConnectSeconds = time.Since(start).Seconds()
	rep.ConnectRate = float64(cfg.Conns) / rep.ConnectSeconds
	if cfg.ServerPID > 0 {
		settle := cfg.Settle
		if settle <= 0 {
			settle = 2 * time.Second
		}
		time.Sleep(settle) // held idle: let the server's heap settle before reading its RSS
		if rss1 := rssKiB(cfg.ServerPID); rss1 > rss0 && cfg.Conns > 0 {
			rep.RSSPerConnKiB = float64(rss1-rss0) / float64(cfg.Conns)
		}
	}
	if cfg.Pairs == 0 {
		return rep, nil
	}

	// Chat: sender i → receiver i+Pairs, bodies carry the send time.
	var sent, delivered atomic.Int64
	lat := make([][]time.Duration, cfg.Pairs)
	chatStart := time.Now()
	chatCtx, stop := context.WithCancel(ctx)
	defer stop()
	var rwg, swg sync.WaitGroup
	credits := make([]chan struct{}, cfg.Pairs)
	for p := 0; p < cfg.Pairs; p++ {
		credits[p] = make(chan struct{}, cfg.Window)
		for k := 0; k < cfg.Window; k++ {
			credits[p] <- struct{}{}
		}
		recv := clients[p+cfg.Pairs]
		rwg.Add(1)
		go func(p int) {
			defer rwg.Done()
			for n := 0; n < cfg.Messages; {
				el, err := recv.recv(chatCtx)
				if err != nil {
					return
				}
				if el.Name != "message" {
					continue
				}
				ns, err := strconv.ParseInt(el.Child("body", "").Text(), 10, 64)
				if err != nil {
					continue
				}
				lat[p] = append(lat[p], time.Since(time.Unix(0, ns)))
				delivered.Add(1)
				n++
				credits[p] <- struct{}{}
			}
		}(p)
	}
	ticker := time.NewTicker(time.Second)
	go func() {
		for {
			select {
			case <-ticker.C:
				fmt.Fprintf(progress, "\rchat        sent %8d  delivered %8d  %7.0f msg/s", sent.Load(), delivered.Load(),
					float64(delivered.Load())/time.Since(chatStart).Seconds())
			case <-chatCtx.Done():
				return
			}
		}
	}()
	for p := 0; p < cfg.Pairs; p++ {
		snd, to := clients[p], fmt.Sprintf("%d-%d@%s", ids[p+cfg.Pairs], cfg.AppID, cfg.Domain)
		swg.Add(1)
		go func(p int) {
			defer swg.Done()
			for m := 0; m < cfg.Messages; m++ {
				select {
				case <-credits[p]:
				case <-chatCtx.Done():
					return
				}
				stanza := `<message type="chat" to="` + to + `" xmlns="jabber:client"><body>` +
					strconv.FormatInt(time.Now().UnixNano(), 10) +
					`</body><extraParams xmlns="jabber:client"><save_to_history>1</save_to_history></extraParams></message>`
				if err := snd.send(chatCtx, stanza); err != nil {
					return
				}
				sent.Add(1)
			}
		}(p)
	}
	swg.Wait()
	waitDone := make(chan struct{})
	go func() { rwg.Wait(); close(waitDone) }()
	select {
	case <-waitDone:
	case <-time.After(cfg.Drain):
		stop()
		<-waitDone
	}
	ticker.Stop()
	rep.ChatSeconds = time.Since(chatStart).Seconds()
	fmt.Fprintln(progress)
	rep.Sent, rep.Delivered = sent.Load(), delivered.Load()
	rep.Lost = rep.Sent - rep.Delivered
	rep.DeliveredRate = float64(rep.Delivered) / rep.ChatSeconds
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) > 0 {
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		rep.P50, rep.P99 = all[len(all)/2], all[min(len(all)-1, len(all)*99/100)]
	}
	return rep, nil
}
