// Package accounts owns identity: users and their roles, built-in sign-up and
// sign-in with argon2id passwords and throttled failures, accounts linked to
// Clerk, API tokens with scopes, a user's browser sessions (listed and ended
// here; internal/sessionstore stores them for scs), and the audit log of
// changes made to users.
//
// Every change that matters to a signed-in person (a role change, a disabled
// account) commits together with its audit entry and a live event. A
// password change ends every session of the user; disabling an account ends
// its sessions and revokes its API tokens for good.
package accounts
