package push

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultTemplate is the chat-alert text when an app sets none (REST.md
// §10.5).
const DefaultTemplate = "{sender}: {body}"

// MaxTemplate is the longest template, in characters.
const MaxTemplate = 500

// Template is a parsed chat-alert text: literal parts and placeholders.
type Template struct{ parts []part }

type part struct {
	lit string
	ph  string // "sender", "dialog" or "body" when not a literal
}

var placeholders = map[string]bool{"sender": true, "dialog": true, "body": true}

// ParseTemplate parses s: {sender} is the sender's full name (else login),
// {dialog} the dialog's name, {body} the message text ("Attachment" when
// empty); "{{" and "}}" are literal braces.
func ParseTemplate(s string) (*Template, error) {
	if n := utf8.RuneCountInString(s); n > MaxTemplate {
		return nil, fmt.Errorf("template is %d characters, the limit is %d", n, MaxTemplate)
	}
	t := &Template{}
	var lit strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{{"):
			lit.WriteByte('{')
			i += 2
		case strings.HasPrefix(s[i:], "}}"):
			lit.WriteByte('}')
			i += 2
		case s[i] == '}':
			return nil, fmt.Errorf("unmatched } at offset %d (write }} for a brace)", i)
		case s[i] == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed placeholder %q (write {{ for a brace)", s[i:])
			}
			name := s[i+1 : i+end]
			if !placeholders[name] {
				return nil, fmt.Errorf("unknown placeholder {%s} (known: {sender}, {dialog}, {body})", name)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, part{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, part{ph: name})
			i += end + 1
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, part{lit: lit.String()})
	}
	return t, nil
}

// Render fills the template in.
func (t *Template) Render(sender, dialog, body string) string {
	if body == "" {
		body = "Attachment"
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch p.ph {
		case "":
			b.WriteString(p.lit)
		case "sender":
			b.WriteString(sender)
		case "dialog":
			b.WriteString(dialog)
		case "body":
			b.WriteString(body)
		}
	}
	return b.String()
}

// Uses reports whether the template has the placeholder name (the
// dispatcher reads a dialog's name only for templates that show it).
func (t *Template) Uses(name string) bool {
	for _, p := range t.parts {
		if p.ph == name {
			return true
		}
	}
	return false
}
