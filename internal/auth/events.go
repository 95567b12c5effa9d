package auth

import "crypto/sha256"

// SessionEvents is how the auth domain tells the real-time side that
// credentials stopped being valid, so that the chat connections that
// authenticated with them end too. Which credentials end, and when, is
// decided here; the XMPP engine implements it and only closes connections.
// A Service always has one (a no-op until the engine is attached). Calls
// happen after the change is committed and return once the connections
// are closed.
type SessionEvents interface {
	// CredentialsEnded ends the connections of a user that authenticated
	// with one of creds (see Credential).
	CredentialsEnded(appID, userID int64, creds [][]byte)
	// UserDeleted ends every connection of a deleted user.
	UserDeleted(appID, userID int64)
}

type noSessionEvents struct{}

func (noSessionEvents) CredentialsEnded(int64, int64, [][]byte) {}
func (noSessionEvents) UserDeleted(int64, int64)                {}

// SetSessionEvents attaches the real-time side (nil detaches it).
func (s *Service) SetSessionEvents(ev SessionEvents) {
	if ev == nil {
		ev = noSessionEvents{}
	}
	s.events = ev
}

// A credential is what a chat connection authenticated with, as an opaque
// key that ending it names: for a session token its stored hash
// (HashToken), for the user's password a hash of the stored password hash,
// so that a new password (a new salt) is a new credential and connections
// made with the old one can be told apart from those made with the new.

// passwordCredential is the credential of a password login against the
// stored hash h.
func passwordCredential(h string) []byte {
	sum := sha256.Sum256([]byte("password\x00" + h))
	return sum[:]
}
