package push

import "errors"

// ErrNotFound is returned by a Store for a subscription that does not
// exist in the application asked about.
var ErrNotFound = errors.New("push: not found")
