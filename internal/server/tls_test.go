package server_test

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/config"
	"github.com/parley-chat/parley/internal/servertest"
)

// With a certificate configured the REST listener serves https.
func TestHTTPServesTLSWithACertificate(t *testing.T) {
	certFile, keyFile, pool := servertest.SelfSignedCert(t)
	env := servertest.Start(t, func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	url := strings.Replace(env.URL, "http://", "https://", 1) + "/health"
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("GET %s: status %d, TLS %v", url, resp.StatusCode, resp.TLS != nil)
	}
	// Plain HTTP on the TLS port is refused.
	if r, err := (&http.Client{Timeout: 5 * time.Second}).Get(env.URL + "/health"); err == nil {
		r.Body.Close()
		if r.StatusCode == http.StatusOK {
			t.Fatal("plain http answered 200 on the TLS listener")
		}
	}
}
