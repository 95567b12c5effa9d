package chat

import (
	"github.com/parley-chat/parley/internal/apperr"
	"github.com/parley-chat/parley/internal/limit"
)

// SetSearchRate bounds how often one user may search (the zero Rate: no
// bound). A search walks the full-text index and costs milliseconds of a
// reader (tens for a rare phrase): a client searching as fast as it can
// would take a processor from everyone. Call it before the service is used.
func (s *Service) SetSearchRate(r limit.Rate) {
	s.searches = limit.NewKeyed[Caller](r, 0, s.now)
}

// allowSearch takes one search from the caller's budget.
func (s *Service) allowSearch(c Caller) error {
	if ok, wait := s.searches.Allow(c); !ok {
		return apperr.RateLimited(wait, "Too many searches, try again in %d seconds", apperr.RetrySeconds(wait))
	}
	return nil
}
