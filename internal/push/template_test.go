package push_test

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/push"
)

func TestTemplateRender(t *testing.T) {
	for _, tc := range []struct{ tmpl, sender, dialog, body, want string }{
		{push.DefaultTemplate, "Mira Holm", "", "How are you?", "Mira Holm: How are you?"},
		{push.DefaultTemplate, "mira", "", "", "mira: Attachment"},
		{"{{{sender}}} in {dialog}: {body}", "A", "Team", "hi", "{A} in Team: hi"},
		{"no placeholders", "A", "B", "C", "no placeholders"},
		{"", "A", "B", "C", ""},
	} {
		tp, err := push.ParseTemplate(tc.tmpl)
		if err != nil {
			t.Fatalf("ParseTemplate(%q): %v", tc.tmpl, err)
		}
		if got := tp.Render(tc.sender, tc.dialog, tc.body); got != tc.want {
			t.Errorf("%q.Render = %q, want %q", tc.tmpl, got, tc.want)
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, tc := range []struct{ tmpl, mention string }{
		{"{sender}: {text}", "{text}"},
		{"{Sender}", "{Sender}"},
		{"hello {body", `"{body"`},
		{"a } b", "unmatched }"},
		{strings.Repeat("x", 501), "501 characters"},
	} {
		_, err := push.ParseTemplate(tc.tmpl)
		if err == nil || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("ParseTemplate(%.20q) = %v, want an error naming %s", tc.tmpl, err, tc.mention)
		}
	}
	if _, err := push.ParseTemplate(strings.Repeat("é", 500)); err != nil {
		t.Errorf("500 two-byte characters refused: %v", err)
	}
}
