// Package auth owns applications, users, sessions and tokens, and password
// hashing: everything that answers "who is calling, and for which app".
//
// It declares the Store it needs (store.go) and imports only the standard
// library and internal/apperr; backends in internal/store implement Store.
package auth
