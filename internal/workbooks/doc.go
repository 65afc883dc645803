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
package workbooks
