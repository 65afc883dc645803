// Package accounts owns identity: users and their roles, built-in sign-up and
// sign-in with argon2id passwords and throttled failures, accounts linked to
// Clerk, API tokens with scopes, a user's browser sessions (listed and ended
// here; internal/sessionstore stores them for scs), and the audit log of
// changes made to users.
//
// Every change that matters to a signed-in person (a role change, a disabled
// account) commits together with its audit entry and a live event. A
// credential that ends (a revoked token, ended sessions after a password
// change or "sign out everywhere else", a disabled account, whose sessions
// and tokens end for good) also sends events.TypeAuthChanged in the same
// transaction, so the person's open event streams end at once; the Check
// methods answer whether a stream's credential still holds.
package accounts
