package imports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/csvimport"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// suggestBatchRows is how many file rows ImportSuggestions matches and
// proposes at a time: one key lookup and one proposal per batch.
const suggestBatchRows = 2000

// maxReportedKeys is how many unmatched keys a report lists.
const maxReportedKeys = 20

// SuggestionReport says what ImportSuggestions did.
type SuggestionReport struct {
	// Rows is how many data rows the file had (rejected ones included).
	Rows int `json:"rows"`
	// Matched is how many rows matched a record on the key.
	Matched int `json:"matched"`
	// Cells is how many suggestions for cells were proposed; Records how
	// many records they touch.
	Cells   int `json:"cells"`
	Records int `json:"records"`
	// Unmatched counts rows whose key matched no record; UnmatchedKeys lists
	// the first of those keys.
	Unmatched     int      `json:"unmatched"`
	UnmatchedKeys []string `json:"unmatched_keys"`
	// Created is how many unmatched rows were proposed as new records.
	Created int `json:"created"`
	// Rejected counts rows the reader rejected and rows without a key.
	Rejected int `json:"rejected"`
	// IgnoredColumns are file columns that match no writable column.
	IgnoredColumns []string  `json:"ignored_columns"`
	Problems       []Problem `json:"problems"`
}

// suggestRow is one file row waiting for its batch.
type suggestRow struct {
	number   int
	key      string // in the text form fields ->> column gives
	keyValue any    // as stored
	cells    []string
}

// ImportSuggestions reads a CSV file and proposes, as suggestions with the
// csv_import source, every non-empty cell that differs from the value of the
// record whose keyColumn value equals the row's. Rows matching no record are
// reported, or proposed as new records when createUnmatched is set. File
// columns are matched to table columns by name (or id); others, and
// read-only columns, are ignored and reported. Each batch of rows commits on
// its own. Errors: NotFound, Invalid (an unknown key column, a file that is
// not CSV or lacks the key column).
func (s *Service) ImportSuggestions(ctx context.Context, ownerID, workbookID, tableID string, r io.Reader, keyColumn string, createUnmatched bool) (SuggestionReport, error) {
	t, err := s.workbooks.FindTable(ctx, ownerID, workbookID, tableID)
	if err != nil {
		return SuggestionReport{}, err
	}
	key, ok := t.Columns.Lookup(keyColumn)
	if strings.TrimSpace(keyColumn) == "" || !ok {
		return SuggestionReport{}, apperr.InvalidFields("Choose the key column, a column of the table.",
			apperr.FieldError{Field: "key_column", Message: fmt.Sprintf("is not a column of this table: %q", keyColumn)})
	}
	sniffed, replay, err := csvimport.Sniff(r)
	if err != nil {
		return SuggestionReport{}, errFileUnreadable(err)
	}
	rd, err := csvimport.NewReader(replay, csvimport.Options{Delimiter: sniffed.Delimiter})
	if err != nil {
		return SuggestionReport{}, errFileUnreadable(err)
	}
	rep := SuggestionReport{UnmatchedKeys: []string{}, IgnoredColumns: []string{}, Problems: []Problem{}}
	header := rd.Header()
	keyIndex := -1
	var cols []column
	for i, name := range header {
		c, ok := t.Columns.Lookup(name)
		switch {
		case ok && c.ID == key.ID:
			keyIndex = i
		case ok && !c.ReadOnly:
			cols = append(cols, column{index: i, col: c})
		default:
			rep.IgnoredColumns = append(rep.IgnoredColumns, name)
		}
	}
	if keyIndex < 0 {
		return SuggestionReport{}, apperr.InvalidFields(fmt.Sprintf("The file has no column %s, the key column.", key.Name),
			apperr.FieldError{Field: "key_column", Message: "is not a column of the file"})
	}
	batch := make([]suggestRow, 0, suggestBatchRows)
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if prob, ok := problemOf(err); ok {
			rep.Rows++
			rep.Rejected++
			rep.addProblem(prob)
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("imports: read file: %w", err)
		}
		rep.Rows++
		k, kv, msg := keyText(key, row.Cells[keyIndex])
		if msg != "" || k == "" {
			if msg == "" {
				msg = "the key is empty"
			}
			rep.Rejected++
			rep.addProblem(Problem{Row: row.Number, Column: keyIndex + 1, Name: header[keyIndex], Message: msg})
			continue
		}
		batch = append(batch, suggestRow{number: row.Number, key: k, keyValue: kv, cells: row.Cells})
		if len(batch) == suggestBatchRows {
			if err := s.proposeBatch(ctx, ownerID, t, key, cols, header, batch, createUnmatched, &rep); err != nil {
				return rep, err
			}
			batch = batch[:0]
		}
	}
	if err := s.proposeBatch(ctx, ownerID, t, key, cols, header, batch, createUnmatched, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

func (rep *SuggestionReport) addProblem(p Problem) {
	if len(rep.Problems) < maxProblems {
		rep.Problems = append(rep.Problems, p)
	}
}

// keyText is a key cell in the text form records.fields ->> column gives.
func keyText(c workbooks.Column, cell string) (string, any, string) {
	v, msg := convert(column{col: c}, strings.TrimSpace(cell))
	if msg != "" || v == nil {
		return "", nil, msg
	}
	if c.Type == values.MultiSelect || c.Type == values.JSON {
		return "", nil, "cannot match on a " + string(c.Type) + " column"
	}
	return c.Text(v), v, ""
}

func (s *Service) proposeBatch(ctx context.Context, ownerID string, t workbooks.Table, key workbooks.Column, cols []column,
	header []string, batch []suggestRow, createUnmatched bool, rep *SuggestionReport) error {
	if len(batch) == 0 {
		return nil
	}
	keys := make([]string, 0, len(batch))
	for _, r := range batch {
		keys = append(keys, r.key)
	}
	found, err := s.q.FindRecordsByKey(ctx, db.FindRecordsByKeyParams{WorkbookID: t.WorkbookID, TableID: t.ID, Field: key.ID, Keys: keys})
	if err != nil {
		return fmt.Errorf("imports: match keys: %w", err)
	}
	type match struct {
		id     string
		fields map[string]any
	}
	byKey := map[string][]match{}
	for _, f := range found {
		fields, err := decodeFields(f.Fields)
		if err != nil {
			return err
		}
		byKey[f.Key] = append(byKey[f.Key], match{id: f.ID, fields: fields})
	}

	updates := map[string]map[string]any{}
	var order []string
	var creates []workbooks.RecordFields
	for _, r := range batch {
		values := map[string]any{}
		for _, c := range cols {
			v, msg := convert(c, r.cells[c.index])
			if msg != "" {
				rep.addProblem(Problem{Row: r.number, Column: c.index + 1, Name: header[c.index], Message: msg})
				continue
			}
			if v != nil {
				values[c.col.ID] = v
			}
		}
		matches := byKey[r.key]
		if len(matches) == 0 {
			rep.Unmatched++
			if len(rep.UnmatchedKeys) < maxReportedKeys {
				rep.UnmatchedKeys = append(rep.UnmatchedKeys, r.key)
			}
			if createUnmatched {
				values[key.ID] = r.keyValue
				creates = append(creates, workbooks.RecordFields{Fields: values})
			}
			continue
		}
		rep.Matched++
		for _, m := range matches {
			for _, c := range cols {
				id := c.col.ID
				v, ok := values[id]
				if !ok || workbooks.SameValue(c.col, m.fields[id], v) {
					continue
				}
				if updates[m.id] == nil {
					updates[m.id] = map[string]any{}
					order = append(order, m.id)
				}
				updates[m.id][id] = v
			}
		}
	}
	p := workbooks.Proposal{Source: workbooks.SourceCSVImport}
	for _, id := range order {
		p.Updates = append(p.Updates, workbooks.RecordUpdate{RecordID: id, Fields: updates[id]})
		rep.Cells += len(updates[id])
	}
	p.Creates = creates
	if len(p.Updates)+len(p.Creates) == 0 {
		return nil
	}
	counts, err := s.workbooks.ProposeSuggestions(ctx, ownerID, t.WorkbookID, t.ID, p)
	if err != nil {
		return err
	}
	rep.Records += counts.Updates
	rep.Created += counts.Creates
	return nil
}

func decodeFields(b []byte) (map[string]any, error) {
	out := map[string]any{}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		return nil, fmt.Errorf("imports: decode record: %w", err)
	}
	return out, nil
}
