package cli

import "github.com/parley-chat/parley/internal/apperr"

func asInvalid(err error) (*apperr.Error, bool) {
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid {
		return nil, false
	}
	return e, true
}
