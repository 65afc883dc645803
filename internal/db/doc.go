// Package db is Scratchpad's PostgreSQL access: the code sqlc generates from
// queries/ (do not edit those files by hand), plus pool and transaction
// helpers. Only domain packages import it.
package db
