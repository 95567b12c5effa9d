package xmpp

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JID limits (RFC 7622 §3.1, §3.3, §3.4).
const (
	MaxJIDPartBytes = 1023
	MaxJIDBytes     = 3071
)

// ErrJIDMalformed is the error ParseJID wraps for every malformed JID; a
// stanza carrying one is answered with the jid-malformed condition.
var ErrJIDMalformed = errors.New("xmpp: malformed JID")

// JID is an XMPP address, local@domain/resource; Local and Resource may be
// empty. JIDs are comparable with ==; ParseJID lower-cases ASCII letters of
// the domain, the only normalization it applies.
type JID struct {
	Local    string
	Domain   string
	Resource string
}

// ParseJID parses s per RFC 7622 without PRECIS profiles: the resource is
// everything after the first '/', the localpart everything before the
// first '@' that precedes it. Rules:
//
//   - localpart: 1-1023 bytes when an '@' is present, none of
//     " & ' / : < > @, no space or control character;
//   - domainpart: required, at most 1023 bytes, one trailing dot removed,
//     dot-separated non-empty labels of at most 63 bytes made of ASCII
//     letters, digits, '-', '_' or non-ASCII characters, or an IP literal
//     in brackets; ASCII letters lower-cased;
//   - resourcepart: 1-1023 bytes when a '/' is present, any printable
//     characters (spaces, '@' and '/' included), no control character;
//   - the whole at most 3071 bytes, valid UTF-8, every character allowed
//     in XML.
func ParseJID(s string) (JID, error) {
	if len(s) > MaxJIDBytes {
		return JID{}, jidError("too long")
	}
	if !utf8.ValidString(s) {
		return JID{}, jidError("invalid UTF-8")
	}
	var j JID
	rest := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		rest, j.Resource = s[:i], s[i+1:]
		if j.Resource == "" || len(j.Resource) > MaxJIDPartBytes {
			return JID{}, jidError("bad resourcepart length")
		}
		if !printable(j.Resource) {
			return JID{}, jidError("bad character in resourcepart")
		}
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		j.Local, rest = rest[:i], rest[i+1:]
		if j.Local == "" || len(j.Local) > MaxJIDPartBytes {
			return JID{}, jidError("bad localpart length")
		}
		if !validLocal(j.Local) {
			return JID{}, jidError("bad character in localpart")
		}
	}
	domain, err := parseDomain(rest)
	if err != nil {
		return JID{}, err
	}
	j.Domain = domain
	return j, nil
}

func jidError(detail string) error {
	return &jidErr{detail}
}

type jidErr struct{ detail string }

func (e *jidErr) Error() string { return ErrJIDMalformed.Error() + ": " + e.detail }
func (e *jidErr) Unwrap() error { return ErrJIDMalformed }

// printable reports whether s (valid UTF-8) has no control character and
// nothing XML cannot carry.
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || !isXMLChar(r) {
			return false
		}
	}
	return true
}

// validLocal reports whether s (valid UTF-8) is a permitted localpart.
func validLocal(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '&', '\'', '/', ':', '<', '>', '@', ' ':
			return false
		}
	}
	return printable(s)
}

// parseDomain checks and normalizes a domainpart.
func parseDomain(s string) (string, error) {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > MaxJIDPartBytes {
		return "", jidError("bad domainpart length")
	}
	if s[0] == '[' {
		if len(s) < 3 || s[len(s)-1] != ']' {
			return "", jidError("bad IP literal")
		}
		for i := 1; i < len(s)-1; i++ {
			c := s[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
				return "", jidError("bad IP literal")
			}
		}
		return lowerASCII(s), nil
	}
	label := 0
	for _, r := range s {
		switch {
		case r == '.':
			if label == 0 {
				return "", jidError("empty domain label")
			}
			label = 0
			continue
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		case r >= 0xA0 && isXMLChar(r) && r != 0x3000 && r != 0xFEFF:
		default:
			return "", jidError("bad character in domainpart")
		}
		label += utf8.RuneLen(r)
		if label > 63 {
			return "", jidError("domain label too long")
		}
	}
	if label == 0 { // "a..": one trailing dot removed, the next is an empty label
		return "", jidError("empty domain label")
	}
	return lowerASCII(s), nil
}

// lowerASCII lower-cases ASCII letters, allocating only when there is one.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for k := i; k < len(b); k++ {
				if b[k] >= 'A' && b[k] <= 'Z' {
					b[k] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// String returns the JID in its textual form.
func (j JID) String() string {
	n := len(j.Domain)
	if j.Local != "" {
		n += len(j.Local) + 1
	}
	if j.Resource != "" {
		n += len(j.Resource) + 1
	}
	b := make([]byte, 0, n)
	if j.Local != "" {
		b = append(append(b, j.Local...), '@')
	}
	b = append(b, j.Domain...)
	if j.Resource != "" {
		b = append(append(b, '/'), j.Resource...)
	}
	return string(b)
}

// Bare returns j without its resource.
func (j JID) Bare() JID { return JID{Local: j.Local, Domain: j.Domain} }

// IsBare reports whether j has no resource.
func (j JID) IsBare() bool { return j.Resource == "" }

// IsZero reports whether j is the zero JID.
func (j JID) IsZero() bool { return j == JID{} }

// WithResource returns j with its resource replaced by resource.
func (j JID) WithResource(resource string) JID {
	j.Resource = resource
	return j
}

// UserJID returns the bare JID of a Parley user: {userID}-{appID}@{domain}.
func UserJID(userID, appID int64, domain string) JID {
	return JID{Local: strconv.FormatInt(userID, 10) + "-" + strconv.FormatInt(appID, 10), Domain: domain}
}

// ParseUserLocal parses the localpart of a user JID, {userID}-{appID}:
// two positive decimal integers without sign or leading zeros (exactly the
// form UserJID writes), separated by one '-'.
func ParseUserLocal(local string) (userID, appID int64, ok bool) {
	i := strings.IndexByte(local, '-')
	if i < 0 {
		return 0, 0, false
	}
	userID, ok1 := parseID(local[:i])
	appID, ok2 := parseID(local[i+1:])
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	return userID, appID, true
}

// RoomJID returns the bare JID of a dialog's room:
// {appID}_{dialogID}@muc.{domain}.
func RoomJID(appID int64, dialogID, domain string) JID {
	return JID{Local: strconv.FormatInt(appID, 10) + "_" + dialogID, Domain: "muc." + domain}
}

// ParseRoomLocal parses the localpart of a room JID, {appID}_{dialogID}:
// a positive decimal application id without sign or leading zeros, '_',
// and a non-empty dialog id (everything after the first '_', not checked
// further).
func ParseRoomLocal(local string) (appID int64, dialogID string, ok bool) {
	i := strings.IndexByte(local, '_')
	if i < 0 || i == len(local)-1 {
		return 0, "", false
	}
	appID, ok = parseID(local[:i])
	if !ok {
		return 0, "", false
	}
	return appID, local[i+1:], true
}

// parseID parses a canonical positive decimal int64.
func parseID(s string) (int64, bool) {
	if s == "" || len(s) > 19 || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}
