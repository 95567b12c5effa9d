package rest

// ChatQuerySeeds lends the parser fuzz target's seeds to the HTTP ones
// (package rest_test, which can start a server).
var ChatQuerySeeds = chatQuerySeeds
