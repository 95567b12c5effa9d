// Package rest serves the ConnectyCube REST API (shared/spec/REST.md) over
// the domain services. Handlers are thin: decode parameters, call the domain,
// encode the result. Domain errors become HTTP statuses and ConnectyCube
// error bodies in one place (errors.go). One file per resource.
//
// It imports the domain packages (auth), internal/apperr and rest/form.
package rest
