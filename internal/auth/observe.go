package auth

// LoginObserver is told about every login that did not succeed (REST
// and XMPP alike, through the guard); internal/server counts them for
// /metrics. It is called after the attempt settled, outside the guard's
// lock.
type LoginObserver interface {
	// LoginFailed reports a failed or refused login: via is "rest" or
	// "xmpp"; reason is "unknown_user", "wrong_password" or "limited" (turned
	// away unverified by the guessing limits).
	LoginFailed(via, reason string)
}

type noLoginObserver struct{}

func (noLoginObserver) LoginFailed(string, string) {}

// SetLoginObserver attaches o; call it before the service is used.
func (s *Service) SetLoginObserver(o LoginObserver) {
	if o == nil {
		o = noLoginObserver{}
	}
	s.guard.observe = o
}
