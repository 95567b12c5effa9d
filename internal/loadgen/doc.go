// Package loadgen is Parley's load and benchmark engine: it seeds a store
// with a realistic data set (Seed), measures the chat operations on it
// (MeasureChat), and drives a running XMPP server with real sessions over
// WebSocket or TCP (RunXMPP): Parley, or any standard server with existing
// accounts, which is how Parley is measured beside ejabberd and Prosody,
// optionally with every user holding a default block list
// (XMPPConfig.PrivacyItems), or with every recipient away and subscribed
// to Web Push at a counting sink in the load tool, so that every message
// also calls for a chat alert (XMPPConfig.PushAlerts, PushSink); and it
// measures the status streaming fan-out
// of a running Parley server (RunStatus).
// `parley bench` drives it; the figures in the README come from it.
//
// Seeding goes through the domain services, not raw SQL, so the data obeys
// every rule (counters, last messages, memberships) that the server keeps.
package loadgen
