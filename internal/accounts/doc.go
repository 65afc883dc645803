// Package accounts owns identity: users and their roles, built-in sign-up and
// sign-in with argon2id passwords and throttled failures, accounts linked to
// Clerk, API tokens with scopes, and the audit log of changes made to users.
//
// Every change that matters to a signed-in person (a role change, a disabled
// account) commits together with its audit entry and a live event.
package accounts
