package xmpp

import (
	"errors"
	"strings"
	"testing"
)

func TestParseJID(t *testing.T) {
	long := strings.Repeat("a", MaxJIDPartBytes)
	label := strings.Repeat("d", 63)
	domain1023 := strings.Repeat(label+".", 16)[:MaxJIDPartBytes-1] + "x" // 16 labels
	tests := []struct {
		in                      string
		local, domain, resource string
		str                     string // String() when it differs from in
		bad                     bool
	}{
		{in: "29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe", local: "29085-1", domain: "chat.example.com", resource: "pk3QZ8vT0aLr6wYx2cNe"},
		{in: "29086-1@chat.example.com", local: "29086-1", domain: "chat.example.com"},
		{in: "1_65a1f0c2e4b0a1b2c3d4e5f7@muc.chat.example.com/29085", local: "1_65a1f0c2e4b0a1b2c3d4e5f7", domain: "muc.chat.example.com", resource: "29085"},
		{in: "chat.example.com", domain: "chat.example.com"},
		{in: "chat.example.com/res", domain: "chat.example.com", resource: "res"},
		{in: "localhost", domain: "localhost"},
		{in: "127.0.0.1", domain: "127.0.0.1"},
		{in: "[::1]", domain: "[::1]"},
		{in: "u@[2001:DB8::1]/r", local: "u", domain: "[2001:db8::1]", resource: "r", str: "u@[2001:db8::1]/r"},
		{in: "User@Chat.Example.COM", local: "User", domain: "chat.example.com", str: "User@chat.example.com"},
		{in: "a@example.com.", local: "a", domain: "example.com", str: "a@example.com"},
		{in: "a@b/c/d@e f", local: "a", domain: "b", resource: "c/d@e f"},
		{in: "a@b/ spaces ok ", local: "a", domain: "b", resource: " spaces ok "},
		{in: "ñ@例え.jp/ресурс", local: "ñ", domain: "例え.jp", resource: "ресурс"},
		{in: "a#b$c%d@x_y-z", local: "a#b$c%d", domain: "x_y-z"},
		{in: long + "@" + domain1023 + "/" + long, local: long, domain: domain1023, resource: long},
		{in: label + "." + label, domain: label + "." + label},

		{in: "", bad: true},
		{in: "@example.com", bad: true},
		{in: "a@", bad: true},
		{in: "example.com/", bad: true},
		{in: "a@b@c", bad: true},
		{in: "/r", bad: true},
		{in: ".", bad: true},
		{in: "a..b", bad: true},
		{in: ".a", bad: true},
		{in: "a..", bad: true},
		{in: "a@b../r", bad: true},
		{in: "a b@c", bad: true},
		{in: `a"b@c`, bad: true},
		{in: "a&b@c", bad: true},
		{in: "a'b@c", bad: true},
		{in: "a:b@c", bad: true},
		{in: "a<b@c", bad: true},
		{in: "a>b@c", bad: true},
		{in: "a\x00@c", bad: true},
		{in: "a@c/\x07", bad: true},
		{in: "a@c/\u0085", bad: true},
		{in: "a@c/\uFFFF", bad: true},
		{in: "a@c d", bad: true},
		{in: "a@c:5222", bad: true},
		{in: "a@[::1", bad: true},
		{in: "a@[]", bad: true},
		{in: "a@[zz]", bad: true},
		{in: "a@\xff", bad: true},
		{in: "a@b\u3000c", bad: true},
		{in: strings.Repeat("a", MaxJIDPartBytes+1) + "@b", bad: true},
		{in: "a@b/" + strings.Repeat("r", MaxJIDPartBytes+1), bad: true},
		{in: strings.Repeat("d", MaxJIDPartBytes+1), bad: true},
		{in: strings.Repeat("d", 64), bad: true},
		{in: long + "@" + domain1023 + "/" + long + "x", bad: true}, // 3072 bytes
	}
	for _, tt := range tests {
		j, err := ParseJID(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseJID(%q) = %#v, want error", tt.in, j)
			} else if !errors.Is(err, ErrJIDMalformed) {
				t.Errorf("ParseJID(%q) error %v is not ErrJIDMalformed", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseJID(%q): %v", tt.in, err)
			continue
		}
		if j.Local != tt.local || j.Domain != tt.domain || j.Resource != tt.resource {
			t.Errorf("ParseJID(%q) = %#v", tt.in, j)
		}
		want := tt.str
		if want == "" {
			want = tt.in
		}
		if got := j.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		if b := j.Bare(); b.Resource != "" || b.Local != j.Local || b.Domain != j.Domain || !b.IsBare() {
			t.Errorf("Bare() = %#v", b)
		}
	}
}

func TestJIDMethods(t *testing.T) {
	j := JID{Local: "29085-1", Domain: "chat.example.com"}
	full := j.WithResource("r1")
	if full.String() != "29085-1@chat.example.com/r1" || full.IsBare() || full.Bare() != j || j.IsZero() || !(JID{}).IsZero() {
		t.Errorf("methods: %v", full)
	}
	if (JID{Domain: "d"}).String() != "d" {
		t.Error("domain-only String")
	}
}

func TestUserJID(t *testing.T) {
	j := UserJID(29085, 1, "chat.example.com")
	if j.String() != "29085-1@chat.example.com" {
		t.Errorf("UserJID = %s", j)
	}
	tests := []struct {
		local     string
		user, app int64
		ok        bool
	}{
		{"29085-1", 29085, 1, true},
		{"1-1", 1, 1, true},
		{"9223372036854775807-9223372036854775807", 9223372036854775807, 9223372036854775807, true},
		{"9223372036854775808-1", 0, 0, false},
		{"29085", 0, 0, false},
		{"29085-", 0, 0, false},
		{"-1", 0, 0, false},
		{"0-1", 0, 0, false},
		{"029085-1", 0, 0, false},
		{"29085-01", 0, 0, false},
		{"+1-1", 0, 0, false},
		{"1--1", 0, 0, false},
		{"1-1-1", 0, 0, false},
		{"1-1a", 0, 0, false},
		{"a-1", 0, 0, false},
		{"1_1", 0, 0, false},
		{"", 0, 0, false},
		{"١-١", 0, 0, false}, // Arabic-Indic digits
	}
	for _, tt := range tests {
		u, a, ok := ParseUserLocal(tt.local)
		if u != tt.user || a != tt.app || ok != tt.ok {
			t.Errorf("ParseUserLocal(%q) = %d, %d, %v", tt.local, u, a, ok)
		}
		if ok {
			if got := UserJID(u, a, "d").Local; got != tt.local {
				t.Errorf("UserJID round trip: %q", got)
			}
		}
	}
}

func TestRoomJID(t *testing.T) {
	j := RoomJID(1, "65a1f0c2e4b0a1b2c3d4e5f7", "chat.example.com")
	if j.String() != "1_65a1f0c2e4b0a1b2c3d4e5f7@muc.chat.example.com" {
		t.Errorf("RoomJID = %s", j)
	}
	tests := []struct {
		local  string
		app    int64
		dialog string
		ok     bool
	}{
		{"1_65a1f0c2e4b0a1b2c3d4e5f7", 1, "65a1f0c2e4b0a1b2c3d4e5f7", true},
		{"42_a_b", 42, "a_b", true},
		{"1_", 0, "", false},
		{"_abc", 0, "", false},
		{"01_abc", 0, "", false},
		{"x_abc", 0, "", false},
		{"1abc", 0, "", false},
		{"", 0, "", false},
	}
	for _, tt := range tests {
		a, d, ok := ParseRoomLocal(tt.local)
		if a != tt.app || d != tt.dialog || ok != tt.ok {
			t.Errorf("ParseRoomLocal(%q) = %d, %q, %v", tt.local, a, d, ok)
		}
	}
}
