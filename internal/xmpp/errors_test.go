package xmpp

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestStanzaError(t *testing.T) {
	tests := []struct {
		name, stanza, cond, text, want string
	}{
		{
			"message forbidden",
			`<message from="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe" to="1_65a1f0c2e4b0a1b2c3d4e5f7@muc.chat.example.com" type="groupchat" id="65a1f45bc81a4f0e2b000000" xmlns="jabber:client"><body>How are you today?</body></message>`,
			Forbidden, "You are not allowed to post",
			`<message to="29085-1@chat.example.com/pk3QZ8vT0aLr6wYx2cNe" from="1_65a1f0c2e4b0a1b2c3d4e5f7@muc.chat.example.com" type="error" id="65a1f45bc81a4f0e2b000000" xmlns="jabber:client"><error code="403" type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">You are not allowed to post</text></error></message>`,
		},
		{
			"iq without type or from, no text",
			`<iq id="p1" to="chat.example.com"><ping xmlns="urn:xmpp:ping"/></iq>`,
			ServiceUnavailable, "",
			`<iq id="p1" from="chat.example.com" type="error"><error code="503" type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
		},
		{
			"presence join error",
			`<presence id="j:join" from="29085-1@chat.example.com/r" to="1_d@muc.chat.example.com/29085" xmlns="jabber:client"><x xmlns="http://jabber.org/protocol/muc"/></presence>`,
			RegistrationRequired, "You are not a member of this dialog",
			`<presence id="j:join" to="29085-1@chat.example.com/r" from="1_d@muc.chat.example.com/29085" xmlns="jabber:client" type="error"><error code="407" type="auth"><registration-required xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">You are not a member of this dialog</text></error></presence>`,
		},
		{
			"unknown condition and escaped text",
			`<message id="m" type="chat"/>`,
			"no-such-condition", `a < b & "c"`,
			`<message id="m" type="error"><error code="500" type="cancel"><undefined-condition xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">a &lt; b &amp; "c"</text></error></message>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mustParse(t, tt.stanza)
			got := StanzaError(in, tt.cond, tt.text).String()
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if in.String() != tt.stanza {
				t.Error("StanzaError modified its input")
			}
		})
	}
}

func TestStanzaConditions(t *testing.T) {
	want := map[string]string{ // REALTIME.md §19 plus RFC 6120 §8.3.3
		BadRequest:            "400 modify",
		Conflict:              "409 cancel",
		FeatureNotImplemented: "501 cancel",
		Forbidden:             "403 auth",
		Gone:                  "302 cancel",
		InternalServerError:   "500 wait",
		ItemNotFound:          "404 cancel",
		JIDMalformed:          "400 modify",
		NotAcceptable:         "406 modify",
		NotAllowed:            "405 cancel",
		NotAuthorized:         "401 auth",
		PolicyViolation:       "406 modify",
		RecipientUnavailable:  "404 wait",
		Redirect:              "302 modify",
		RegistrationRequired:  "407 auth",
		RemoteServerNotFound:  "404 cancel",
		RemoteServerTimeout:   "504 wait",
		ResourceConstraint:    "500 wait",
		ServiceUnavailable:    "503 cancel",
		SubscriptionRequired:  "407 auth",
		UndefinedCondition:    "500 cancel",
		UnexpectedRequest:     "400 wait",
	}
	if len(want) != len(stanzaConds) {
		t.Errorf("%d conditions, test covers %d", len(stanzaConds), len(want))
	}
	for cond, w := range want {
		code, typ, ok := StanzaCondition(cond)
		if got := fmt.Sprintf("%d %s", code, typ); !ok || got != w {
			t.Errorf("%s = %s %v, want %s", cond, got, ok, w)
		}
	}
	if _, _, ok := StanzaCondition("nope"); ok {
		t.Error("unknown condition reported known")
	}
}

func TestStreamError(t *testing.T) {
	tests := []struct {
		cond, text string
		declare    bool
		want       string
	}{
		{StreamConflict, "", true, `<stream:error xmlns:stream="http://etherx.jabber.org/streams"><conflict xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>`},
		{StreamNotWellFormed, "", false, `<stream:error><not-well-formed xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></stream:error>`},
		{StreamPolicyViolation, "stanza too large", true, `<stream:error xmlns:stream="http://etherx.jabber.org/streams"><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"/><text xmlns="urn:ietf:params:xml:ns:xmpp-streams" xml:lang="en">stanza too large</text></stream:error>`},
	}
	for _, tt := range tests {
		if got := StreamError(tt.cond, tt.text, tt.declare).String(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestStreamErrorCondition(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{io.EOF, ""},
		{io.ErrUnexpectedEOF, ""},
		{errors.New("connection reset"), ""},
		{ErrComment, "restricted-xml"},
		{&Error{Kind: ErrTooDeep}, "policy-violation"},
		{fmt.Errorf("read stanza: %w", &Error{Kind: ErrSyntax}), "not-well-formed"},
		{&Error{Kind: ErrStreamText}, "invalid-xml"},
		{&Error{Kind: ErrEncoding}, "unsupported-encoding"},
		{&Error{Kind: ErrInvalidChar}, "not-well-formed"},
	}
	for _, tt := range tests {
		if got := StreamErrorCondition(tt.err); got != tt.want {
			t.Errorf("StreamErrorCondition(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	kinds := []*kind{ErrSyntax, ErrInvalidChar, ErrComment, ErrCDATA, ErrDTD, ErrProcInst, ErrEntity, ErrTooLarge, ErrTooDeep, ErrTooManyAttrs, ErrEncoding, ErrStreamText}
	for _, k := range kinds {
		if StreamErrorCondition(k) == "" || k.Error() == "" {
			t.Errorf("%v has no condition", k)
		}
	}
}
