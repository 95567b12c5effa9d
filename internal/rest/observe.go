package rest

import "time"

// RequestObserver is told about every answered request; internal/server
// counts them for /metrics. The route is the ServeMux pattern that served
// the request ("GET /chat/Dialog/{id}"), never the raw path, so that ids
// do not make a series each; "" when no route matched (a 404 or 405, or
// an OPTIONS preflight, which the middleware answers itself).
type RequestObserver interface {
	Request(route string, status int, took time.Duration)
}

type noRequestObserver struct{}

func (noRequestObserver) Request(string, int, time.Duration) {}

// WithRequestObserver attaches o.
func WithRequestObserver(o RequestObserver) Option {
	return func(a *API) {
		if o != nil {
			a.observe = o
		}
	}
}
