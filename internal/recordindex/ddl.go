package recordindex

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/filter"
	"github.com/scratchpad/scratchpad/internal/recordsql"
	"github.com/scratchpad/scratchpad/internal/values"
)

// The kinds of on-demand index.
const (
	// indexAsc serves ascending sorts and equality and range filters.
	indexAsc = "asc"
	// indexDesc serves descending sorts: ties stay in ascending seq order, so
	// a backward scan of the ascending index would not do.
	indexDesc = "desc"
	// indexTrigram is a trigram index on lower(value): it serves ILIKE,
	// contains and starts_with on text, which the filter compiles to
	// lower(value) LIKE lower(pattern) (filter.Compile). A case-sensitive
	// LIKE reads the sort's index or the table instead.
	indexTrigram = "trgm"
)

// The states of an on-demand index in record_indexes.
const (
	indexPending  = "pending"
	indexReady    = "ready"
	indexFailed   = "failed"
	indexDropping = "dropping"
)

// indexName derives an index's name from the ids it covers: "ri_" and 24 hex
// digits of their SHA-256, well inside PostgreSQL's 63-byte names.
func indexName(workbookID, tableID, columnID, kind string) string {
	sum := sha256.Sum256([]byte(workbookID + "/" + tableID + "/" + columnID + "/" + kind))
	return "ri_" + hex.EncodeToString(sum[:12])
}

// statisticsName derives the name of a column's statistics object, shared
// by its ordered indexes (rs_…), or with lowered, the name of the one on
// lower(value) that its trigram index comes with (rl_…).
func statisticsName(workbookID, tableID, columnID string, lowered bool) string {
	sum := sha256.Sum256([]byte(workbookID + "/" + tableID + "/" + columnID))
	prefix := "rs_"
	if lowered {
		prefix = "rl_"
	}
	return prefix + hex.EncodeToString(sum[:12])
}

// indexExpr returns the value expression of a registered index's column.
func indexExpr(ri db.RecordIndex) (string, error) {
	col := filter.Column{ID: ri.ColumnID, Name: ri.ColumnID, Type: values.Type(ri.ColumnType)}
	if err := col.Validate(); err != nil {
		return "", fmt.Errorf("recordindex: index %s has an invalid column %q (%s)", ri.Name, ri.ColumnID, ri.ColumnType)
	}
	return filter.ValueExpr("fields", col), nil
}

// statisticsDDL returns the CREATE STATISTICS statement of the column of a
// registered index. PostgreSQL ignores the statistics of partial indexes, so
// without these the planner guesses how many records a filter on the column
// matches (a fixed fraction for LIKE), and a badly wrong guess picks the
// wrong index: a trigram search matching 3% of a table, estimated at 0.03%,
// reads and sorts 30,000 records instead of walking the sort index.
// Statistics on the expression cover the table's partition, where other
// tables' records read as NULL, so they stay estimates, but close ones. A trigram
// index gets statistics on lower(value), the expression the filters it
// serves are written in (filter.Compile): with only the value's, the planner
// guessed a word in 4% of a million titles at 320 records, read all 39,000
// through the trigram index and sorted them (190 ms) instead of walking the
// sort index for 2 ms.
func statisticsDDL(ri db.RecordIndex, partition string) (string, error) {
	expr, err := indexExpr(ri)
	if err != nil {
		return "", err
	}
	lowered := ri.Kind == indexTrigram
	if lowered {
		expr = "lower(" + expr + ")"
	}
	return "CREATE STATISTICS IF NOT EXISTS " + statisticsName(ri.WorkbookID, ri.TableID, ri.ColumnID, lowered) +
		" ON (" + expr + ") FROM " + partition, nil
}

// indexDDL returns the CREATE INDEX statement of a registered index, on the
// partition of records holding its table (PartitionOf).
func indexDDL(ri db.RecordIndex, partition string) (string, error) {
	expr, err := indexExpr(ri)
	if err != nil {
		return "", err
	}
	pred, err := recordsql.TablePredicate("", ri.WorkbookID, ri.TableID)
	if err != nil {
		return "", err
	}
	var def string
	switch ri.Kind {
	case indexAsc:
		def = "((" + expr + "), seq)"
	case indexDesc:
		def = "((" + expr + ") DESC NULLS LAST, seq)"
	case indexTrigram:
		def = "USING gin (lower(" + expr + ") gin_trgm_ops)"
	default:
		return "", fmt.Errorf("recordindex: index %s has unknown kind %q", ri.Name, ri.Kind)
	}
	return "CREATE INDEX CONCURRENTLY IF NOT EXISTS " + ri.Name + " ON " + partition + " " + def + " WHERE " + pred, nil
}

// indexNamePattern reports whether name has the form indexName produces.
func indexNamePattern(name string) bool {
	if len(name) != 27 || !strings.HasPrefix(name, "ri_") {
		return false
	}
	_, err := hex.DecodeString(name[3:])
	return err == nil && strings.ToLower(name) == name
}
