// Package chat is the chat domain: dialogs of the four types, per-user dialog
// state (membership, admin role, hidden, cleared history, unread counter,
// notifications), messages, receipts, reactions, search, and every rule about
// who may do what (permissions.go). REST and XMPP are front ends of this
// package and hold no chat rule of their own.
//
// It declares the Store it needs (store.go) and the Delivery hook the
// real-time side implements; it imports only the standard library and
// internal/apperr — never net/http, the XMPP engine or an SQL driver.
package chat
