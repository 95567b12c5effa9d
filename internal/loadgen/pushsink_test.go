package loadgen_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/loadgen"
	"github.com/parley-chat/parley/internal/servertest"
)

// The sink answers every POST 201 and counts it with its body bytes;
// anything else is refused and not counted.
func TestPushSinkCounts(t *testing.T) {
	sink, err := loadgen.StartPushSink(0)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if !strings.HasPrefix(sink.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q; want loopback", sink.URL())
	}
	for _, body := range []string{"0123456789", strings.Repeat("x", 4096)} {
		resp, err := http.Post(sink.URL()+"/17", "application/octet-stream", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("POST: status %d; want 201", resp.StatusCode)
		}
	}
	resp, err := http.Get(sink.URL() + "/17")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d; want 405", resp.StatusCode)
	}
	if sink.Requests() != 2 || sink.Bytes() != 4106 {
		t.Errorf("counted %d requests, %d bytes; want 2 and 4106", sink.Requests(), sink.Bytes())
	}
}

// With a delay the sink counts a POST on arrival but holds its answer;
// Close releases what it holds and returns once the sink is down.
func TestPushSinkDelayHoldsAnswers(t *testing.T) {
	sink, err := loadgen.StartPushSink(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := http.Post(sink.URL()+"/1", "application/octet-stream", strings.NewReader("payload"))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	servertest.Eventually(t, 10*time.Second, "the POST counted", func() bool { return sink.Requests() == 1 })
	select {
	case err := <-done:
		t.Fatalf("answered at once (%v); want the answer held for an hour", err)
	default:
	}
	sink.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the held POST did not end after Close")
	}
	if _, err := http.Post(sink.URL()+"/1", "text/plain", strings.NewReader("x")); err == nil {
		t.Error("the sink still answers after Close")
	}
}

// Push alerts need users signed up over REST (their subscriptions are
// created with their own sessions), and a sink delay needs the sink: both
// are refused before anything connects (the addresses would not answer).
func TestRunXMPPPushAlertsRefused(t *testing.T) {
	for _, bad := range []loadgen.XMPPConfig{
		{Accounts: loadgen.PeerAccounts(2, "localhost", "pass"), PushAlerts: true},
		{PushSinkDelay: time.Second},
		{PushAlerts: true, PushSinkDelay: -time.Second},
	} {
		bad.APIURL, bad.XMPPAddr, bad.Transport, bad.Conns, bad.Pairs, bad.Messages = "http://127.0.0.1:1", "127.0.0.1:1", "tcp", 2, 1, 1
		if _, err := loadgen.RunXMPP(bounded(t), bad, io.Discard); err == nil || !strings.Contains(err.Error(), "push") {
			t.Errorf("config %+v: err %v; want a refusal naming push", bad, err)
		}
	}
}
