// Package workbooks is the record store: workbooks owned by a user, their
// tables with column specs, the records of each table with their values,
// original values, state and version, and the suggestions waiting to be
// accepted or rejected.
//
// Every method takes the acting user's id and behaves as if another user's
// workbooks, tables and records did not exist (NotFound). Every change commits
// together with its audit entries (record_changes) and one live event on the
// workbook's topic.
//
// Records keep their values as a JSON object keyed by column id. Values are
// stored in one canonical form per column type (see NormalizeValue), which is
// what filters, sorts and the expression indexes rely on. An empty value is
// stored as the absence of the key.
//
// Two packages do part of the work for it. Package recordsql writes the SQL
// of record listings (filter, sort, keyset cursor, counts, neighbours)
// without running it; FindRecords and the bulk tools run that SQL here.
// Package recordindex manages the on-demand indexes of big tables (which a
// listing wants, their DDL and build jobs, statistics, the partition holding
// a table); the Service asks it for indexes (indexes.go) and exposes it to
// the jobs as Indexes.
package workbooks
