// Package recordindex holds the indexes the record store builds on demand
// so that the grid stays fast on big tables. PostgreSQL cannot sort or
// filter a million JSONB values in a hundred milliseconds without an index,
// and indexing every column of every table up front would make writes and
// imports pay for indexes nobody uses. So when a listing
// (workbooks.FindRecords) sorts a big table (Manager.Threshold) by a
// column, or filters it by equality, range or text search on one, and no
// index exists yet (Wanted), Manager.Request registers one in record_indexes
// and enqueues a River job (BuildArgs) that builds it with CREATE INDEX
// CONCURRENTLY (writes go on meanwhile). Until the index is ready that
// listing is slow but correct. A bulk write (an import, a pull) that makes a
// table big asks for a few of them up front (Ready) and waits for them
// before its job ends (Manager.Wait, from workbooks.PrepareTableForReads),
// so that the first sorted or filtered page after it does not have to be
// that listing.
//
// Each index is partial, over one table's records only, and built on the
// partition of records that holds the table (records is partitioned by hash
// of its two ids, migration 00021; Manager.PartitionOf):
//
//	CREATE INDEX CONCURRENTLY ri_… ON records_pNN ((<value expr>) [DESC NULLS LAST], seq)
//	    WHERE workbook_id = '<uuid>' AND table_id = '<uuid>'
//
// with the value expression from filter.ValueExpr, the same text the filter
// compiler and ORDER BY produce, so the planner matches them. The planner
// only uses a partial index when the query carries the same predicate as
// literals, so a big table's listings write its workbook and table ids into
// the SQL text (recordsql.TablePredicate). That does not let user text reach
// SQL: both ids come from the table row PostgreSQL returned (its canonical
// uuid text) and are checked against the UUID pattern again right before
// they are written; column ids match ^[a-z][a-z0-9_]{0,62}$ (filter.ValueExpr
// panics otherwise), and index names are hashes of those ids.
//
// A statement naming a table's ids is pruned to its partition before the
// planner looks at indexes, so one table's indexes cost other tables'
// statements nothing, and a build, its statistics and ANALYZE read one
// partition (README, "Many big tables in one database").
//
// The indexes have no foreign key to their table: a deleted table or column
// marks its rows in record_indexes 'dropping' (triggers of migration 00007)
// and Manager.DropStale, run by the DropArgs job, removes them with DROP
// INDEX CONCURRENTLY, which cannot run inside the deleting transaction.
//
// The package knows tables only as recordsql.Table (ids and filter
// columns), so it does not import the record store that uses it.
package recordindex
