package auth

import (
	"fmt"
	"strings"
	"testing"
)

func TestHashAndVerifyPassword(t *testing.T) {
	h, err := HashPassword("awesomepwd", DefaultPasswordIterations)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "pbkdf2-sha256$8192$") {
		t.Fatalf("hash %q lacks its scheme and cost", h)
	}
	if strings.Contains(h, "awesomepwd") {
		t.Fatal("hash contains the password")
	}
	if ok, err := VerifyPassword(h, "awesomepwd"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := VerifyPassword(h, "awesomepwD"); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := HashPassword("awesomepwd", DefaultPasswordIterations)
	if h2 == h {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	// A cost below the floor is raised to it.
	low, _ := HashPassword("x", 10)
	if !strings.HasPrefix(low, "pbkdf2-sha256$4096$") {
		t.Fatalf("low-cost hash %q", low)
	}
	for _, bad := range []string{"", "plain", "pbkdf2-sha256$1$AAAA$AAAA", "pbkdf2-sha256$4096$!!$AAAA",
		"md5$4096$AAAA$AAAA", "pbkdf2-sha256$x$AAAA$AAAA", "pbkdf2-sha256$4096$AAAA$"} {
		if ok, err := VerifyPassword(bad, "x"); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want false and an error", bad, ok, err)
		}
	}
}

// BenchmarkVerifyPassword is the cost of one password check, which every
// password login (REST session or XMPP SASL PLAIN) pays.
func BenchmarkVerifyPassword(b *testing.B) {
	for _, iter := range []int{4096, DefaultPasswordIterations, 10000, 100000} {
		h, err := HashPassword("awesomepwd", iter)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("iter=%d", iter), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, _ := VerifyPassword(h, "awesomepwd"); !ok {
					b.Fatal("mismatch")
				}
			}
		})
	}
}
