// Package recordsql builds the SQL of a table's record listings: the one
// place where the record store's listing SQL is written at run time
// (DESIGN §3). Given a table's ids and columns and a Query (filter, quick
// filter, sort, cursor, limit) it returns SQL text and bind arguments: the
// page query of a keyset-paginated listing, the count and the estimate of
// its records, and the query of a record's neighbours in it. It also
// resolves sorts and encodes and decodes the cursors pages carry.
//
// It runs nothing: the record store (package workbooks) runs what it builds
// and scans the rows. No user text reaches the SQL: filter literals and
// cursor values are bind parameters, the only identifiers are column ids
// from the table's specs, which filter.ValueExpr checks, and the table's ids
// enter SQL text only as TablePredicate writes them.
//
// The SQL is written for the on-demand indexes of package recordindex: on a
// big table the page query repeats their partial-index predicate and reads
// a page after a cursor as index ranges (see PageQuery).
package recordsql
