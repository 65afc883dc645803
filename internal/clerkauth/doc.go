// Package clerkauth verifies Clerk session tokens and looks up Clerk user
// profiles for Scratchpad's optional Clerk sign-in.
//
// When Clerk is configured, ClerkJS runs on our own sign-in page and the
// browser then carries Clerk's short-lived "__session" cookie, an RS256 JWT.
// The web layer takes that token with SessionFromRequest, verifies it with
// Client.VerifySession and, for a user it has not seen before, loads the
// profile with Client.FetchUser before upserting its own user row by Clerk
// user id.
//
// Everything goes through clerk-sdk-go with a per-Client backend
// configuration, so the package keeps no global state and two Clients with
// different keys can live in one process (as they do in tests).
package clerkauth
