package auth

// OnVerify makes f see the encoded hash of every password verification s
// makes (tests count them and read their cost).
func OnVerify(s *Service, f func(encoded string)) { s.onVerify.Store(&f) }
