package handlers

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// apiRecord is a record as API.md's "Record shape" describes it. The store
// keys values by column id; API clients see them keyed by column name, the
// same in fields, edited_fields, suggestions and errors.
type apiRecord struct {
	ID              string            `json:"id"`
	RemoteID        *string           `json:"remote_id"`
	Version         int               `json:"version"`
	State           string            `json:"state"`
	Fields          map[string]any    `json:"fields"`
	EditedFields    []string          `json:"edited_fields"`
	Suggestions     map[string]any    `json:"suggestions"`
	SuggestedAction *string           `json:"suggested_action"`
	Errors          map[string]string `json:"errors"`
	// Problems are what a CSV import or a pull could not read, apart from
	// Errors, which are the last publish's.
	Problems      map[string]string      `json:"problems"`
	Conflicts     map[string]apiConflict `json:"conflicts,omitempty"`
	SourceDeleted bool                   `json:"source_deleted"`
	CreatedAt     string                 `json:"created_at"`
	UpdatedAt     string                 `json:"updated_at"`
}

// apiConflict is a field edited here that the source changed too since the
// pull (API.md's record shape).
type apiConflict struct {
	Mine   any `json:"mine"`
	Theirs any `json:"theirs"`
	Pulled any `json:"pulled"`
}

// columnName names a column id for API clients; an id without a column (a
// value left from a removed column) keeps its id.
func columnName(t workbooks.Table, id string) string {
	if c, ok := t.Columns.ByID(id); ok {
		return c.Name
	}
	return id
}

func newAPIRecord(t workbooks.Table, r workbooks.Record) apiRecord {
	out := apiRecord{
		ID: r.ID, Version: r.Version, State: string(r.State),
		Fields: make(map[string]any, len(r.Fields)), EditedFields: make([]string, 0, len(r.EditedFields)),
		Suggestions: make(map[string]any, len(r.Suggestions)), Errors: make(map[string]string, len(r.PublishErrors)),
		Problems: make(map[string]string, len(r.Problems)), SourceDeleted: r.SourceDeleted,
		CreatedAt: apiTime(r.CreatedAt), UpdatedAt: apiTime(r.UpdatedAt),
	}
	if r.RemoteID != "" {
		out.RemoteID = &r.RemoteID
	}
	if r.SuggestedAction != "" {
		out.SuggestedAction = &r.SuggestedAction
	}
	for id, v := range r.Fields {
		out.Fields[columnName(t, id)] = v
	}
	// Edited fields come in column order, as a person reads the table.
	for _, c := range t.Columns {
		if slices.Contains(r.EditedFields, c.ID) {
			out.EditedFields = append(out.EditedFields, c.Name)
		}
	}
	for id, v := range r.Suggestions {
		out.Suggestions[columnName(t, id)] = v
	}
	for id, msg := range r.PublishErrors {
		out.Errors[columnName(t, id)] = msg
	}
	for id, msg := range r.Problems {
		out.Problems[columnName(t, id)] = msg
	}
	if len(r.Conflicts) > 0 {
		pulled, _ := r.Original()
		out.Conflicts = make(map[string]apiConflict, len(r.Conflicts))
		for id, theirs := range r.Conflicts {
			out.Conflicts[columnName(t, id)] = apiConflict{Mine: r.Fields[id], Theirs: theirs, Pulled: pulled[id]}
		}
	}
	return out
}

func newAPIRecords(t workbooks.Table, recs []workbooks.Record) []apiRecord {
	out := make([]apiRecord, 0, len(recs))
	for _, r := range recs {
		out = append(out, newAPIRecord(t, r))
	}
	return out
}

// apiRecordList is one page of records.
type apiRecordList struct {
	Items      []apiRecord `json:"items"`
	NextCursor *string     `json:"next_cursor"`
	// Total is how many records match, exact unless TotalIsEstimate: big
	// tables get the planner's estimate so a count never holds a page up.
	Total           int64 `json:"total"`
	TotalIsEstimate bool  `json:"total_is_estimate"`
	// TotalIsAtLeast: more records match than were counted (10,000):
	// total is a lower bound.
	TotalIsAtLeast bool `json:"total_is_at_least"`
}

// apiFields are record values in a request, keyed by column name or id.
// Values stay raw JSON until the store normalizes them for their column, so
// numbers keep their digits and json columns keep their text.
type apiFields map[string]json.RawMessage

func (f apiFields) values() map[string]any {
	out := make(map[string]any, len(f))
	for k, raw := range f {
		if len(raw) == 0 {
			out[k] = nil
			continue
		}
		out[k] = raw
	}
	return out
}

// recordQuery reads ?filter=, ?sort=, ?limit= and ?cursor=.
func recordQuery(c echo.Context) (workbooks.RecordQuery, error) {
	limit, err := pageLimit(c)
	if err != nil {
		return workbooks.RecordQuery{}, err
	}
	return workbooks.RecordQuery{
		Filter: c.QueryParam("filter"), Sort: c.QueryParam("sort"), Cursor: c.QueryParam("cursor"), Limit: limit,
	}, nil
}

// apiListRecords lists a page of a table's records by filter, sort and
// quick filter (?has=edits|suggestions).
func (s *Server) apiListRecords(c echo.Context) error {
	q, err := recordQuery(c)
	if err != nil {
		return err
	}
	q.Has = c.QueryParam("has")
	return s.listRecords(c, q)
}

func (s *Server) listRecords(c echo.Context, q workbooks.RecordQuery) error {
	ctx, owner, wbID, tID := c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t")
	t, err := s.Workbooks.FindTable(ctx, owner, wbID, tID)
	if err != nil {
		return err
	}
	page, err := s.Workbooks.FindRecords(ctx, owner, wbID, tID, q)
	if err != nil {
		return err
	}
	out := apiRecordList{Items: newAPIRecords(t, page.Records), Total: page.EstimatedTotal, TotalIsEstimate: page.TotalIsEstimate, TotalIsAtLeast: page.TotalIsAtLeast}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return apiJSON(c, http.StatusOK, out)
}

// createRecordRequest is the body of POST /records and one create of a batch.
type createRecordRequest struct {
	Fields apiFields `json:"fields" required:"true"`
}

// apiCreateRecord creates a record; it honours Idempotency-Key.
func (s *Server) apiCreateRecord(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var in createRecordRequest
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		ctx, owner, wbID, tID := c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t")
		rec, err := s.Workbooks.CreateRecord(ctx, owner, wbID, tID, in.Fields.values())
		if err != nil {
			return err
		}
		return s.recordResponse(c, http.StatusCreated, rec)
	})(c)
}

// recordResponse answers with one record, its fields named by the table.
func (s *Server) recordResponse(c echo.Context, status int, rec workbooks.Record) error {
	t, err := s.Workbooks.FindTable(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"))
	if err != nil {
		return err
	}
	return apiJSON(c, status, newAPIRecord(t, rec))
}

// apiGetRecord shows one record with its pending suggestions.
func (s *Server) apiGetRecord(c echo.Context) error {
	rec, err := s.Workbooks.FindRecord(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), c.Param("r"))
	if err != nil {
		return err
	}
	return s.recordResponse(c, http.StatusOK, rec)
}

// updateRecordRequest is the body of PATCH /records/{r} and one update of a
// batch (which also names the record).
type updateRecordRequest struct {
	RecordID string    `json:"record_id,omitempty" required:"true"`
	Fields   apiFields `json:"fields" required:"true"`
	// Version is required: the version the edit was made on.
	Version *int `json:"version" required:"true"`
}

var errVersionRequired = apperr.InvalidFields("Send the version the edit was made on.",
	apperr.FieldError{Field: "version", Message: "is required"})

// apiUpdateRecord edits a record; a version other than the current one is
// 409 stale_version and changes nothing.
func (s *Server) apiUpdateRecord(c echo.Context) error {
	var in struct {
		Fields  apiFields `json:"fields" required:"true"`
		Version *int      `json:"version" required:"true"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Version == nil {
		return errVersionRequired
	}
	rec, err := s.Workbooks.UpdateRecord(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), c.Param("r"),
		in.Fields.values(), *in.Version)
	if err != nil {
		return err
	}
	return s.recordResponse(c, http.StatusOK, rec)
}

// apiDeleteRecord deletes a record (or marks it deleted until the publish).
func (s *Server) apiDeleteRecord(c echo.Context) error {
	if err := s.Workbooks.DeleteRecord(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), c.Param("r")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// batchRequest is the body of POST /records/batch.
type batchRequest struct {
	Creates []createRecordRequest `json:"creates"`
	Updates []updateRecordRequest `json:"updates"`
	Deletes []string              `json:"deletes"`
}

// apiBatchResult is what a batch did.
type apiBatchResult struct {
	Created []apiRecord `json:"created"`
	Updated []apiRecord `json:"updated"`
	Deleted []string    `json:"deleted"`
}

// apiBatchRecords applies creates, updates and deletes in one transaction:
// all or nothing. It honours Idempotency-Key.
func (s *Server) apiBatchRecords(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var in batchRequest
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		b := workbooks.Batch{Deletes: in.Deletes}
		for _, cr := range in.Creates {
			b.Creates = append(b.Creates, workbooks.RecordFields{Fields: cr.Fields.values()})
		}
		for i, u := range in.Updates {
			if u.Version == nil {
				return apperr.InvalidFields("Send the version each update was made on.",
					apperr.FieldError{Field: "updates[" + strconv.Itoa(i) + "].version", Message: "is required"})
			}
			b.Updates = append(b.Updates, workbooks.BatchUpdate{RecordID: u.RecordID, Fields: u.Fields.values(), Version: *u.Version})
		}
		ctx, owner, wbID, tID := c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t")
		res, err := s.Workbooks.BatchRecords(ctx, owner, wbID, tID, b)
		if err != nil {
			return err
		}
		t, err := s.Workbooks.FindTable(ctx, owner, wbID, tID)
		if err != nil {
			return err
		}
		return apiJSON(c, http.StatusOK, apiBatchResult{
			Created: newAPIRecords(t, res.Created), Updated: newAPIRecords(t, res.Updated), Deleted: res.Deleted,
		})
	})(c)
}

// apiSuggestionList is one page of the records with pending suggestions.
type apiSuggestionList struct {
	Items      []apiRecord `json:"items"`
	NextCursor *string     `json:"next_cursor"`
	// Pending counts the table's pending suggestions (cells, creates and
	// deletes), over all pages.
	Pending int64 `json:"pending"`
}

// apiListSuggestions lists the records that have pending suggestions, each
// in the record shape (its current fields next to its suggestions and
// suggested action), with the same filter, sort and paging as records.
func (s *Server) apiListSuggestions(c echo.Context) error {
	q, err := recordQuery(c)
	if err != nil {
		return err
	}
	q.Has = workbooks.HasSuggestions
	ctx, owner, wbID, tID := c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t")
	t, err := s.Workbooks.FindTable(ctx, owner, wbID, tID)
	if err != nil {
		return err
	}
	page, err := s.Workbooks.FindRecords(ctx, owner, wbID, tID, q)
	if err != nil {
		return err
	}
	counters, err := s.Workbooks.Counters(ctx, owner, wbID, tID)
	if err != nil {
		return err
	}
	out := apiSuggestionList{Items: newAPIRecords(t, page.Records), Pending: counters.PendingSuggestions}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return apiJSON(c, http.StatusOK, out)
}

// proposeRequest is the body of POST /suggestions.
type proposeRequest struct {
	Updates []struct {
		RecordID string    `json:"record_id" required:"true"`
		Fields   apiFields `json:"fields" required:"true"`
	} `json:"updates"`
	Creates []createRecordRequest `json:"creates"`
	Deletes []string              `json:"deletes"`
}

// apiSuggestionCounts says how many suggestions a call stored or decided.
type apiSuggestionCounts struct {
	Updates int `json:"updates"`
	Creates int `json:"creates"`
	Deletes int `json:"deletes"`
	Total   int `json:"total"`
}

func newAPISuggestionCounts(c workbooks.SuggestionCounts) apiSuggestionCounts {
	return apiSuggestionCounts{Updates: c.Updates, Creates: c.Creates, Deletes: c.Deletes, Total: c.Total()}
}

// apiProposeSuggestions stores suggestions without changing any value; it
// honours Idempotency-Key.
func (s *Server) apiProposeSuggestions(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var in proposeRequest
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		if len(in.Updates)+len(in.Creates)+len(in.Deletes) == 0 {
			return apperr.New(apperr.Invalid, "Nothing to propose: send updates, creates or deletes.")
		}
		p := workbooks.Proposal{Source: workbooks.SourceAPI, Deletes: in.Deletes}
		for _, u := range in.Updates {
			p.Updates = append(p.Updates, workbooks.RecordUpdate{RecordID: u.RecordID, Fields: u.Fields.values()})
		}
		for _, cr := range in.Creates {
			p.Creates = append(p.Creates, workbooks.RecordFields{Fields: cr.Fields.values()})
		}
		counts, err := s.Workbooks.ProposeSuggestions(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), p)
		if err != nil {
			return err
		}
		return apiJSON(c, http.StatusCreated, newAPISuggestionCounts(counts))
	})(c)
}

// selectorRequest chooses suggestions to accept or reject.
type selectorRequest struct {
	All       bool     `json:"all"`
	RecordIDs []string `json:"record_ids"`
	Cells     []struct {
		RecordID string `json:"record_id" required:"true"`
		Field    string `json:"field" required:"true"`
	} `json:"cells"`
	Field string `json:"field"`
}

func bindSelector(c echo.Context) (workbooks.Selector, error) {
	var in selectorRequest
	if err := bindJSON(c, &in); err != nil {
		return workbooks.Selector{}, err
	}
	sel := workbooks.Selector{All: in.All, RecordIDs: in.RecordIDs, Field: in.Field}
	for _, cell := range in.Cells {
		sel.Cells = append(sel.Cells, workbooks.Cell{RecordID: cell.RecordID, Field: cell.Field})
	}
	return sel, nil
}

// apiAcceptSuggestions applies the selected suggestions as edits.
func (s *Server) apiAcceptSuggestions(c echo.Context) error {
	sel, err := bindSelector(c)
	if err != nil {
		return err
	}
	counts, err := s.Workbooks.AcceptSuggestions(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), sel)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPISuggestionCounts(counts))
}

// apiRejectSuggestions drops the selected suggestions.
func (s *Server) apiRejectSuggestions(c echo.Context) error {
	sel, err := bindSelector(c)
	if err != nil {
		return err
	}
	counts, err := s.Workbooks.RejectSuggestions(c.Request().Context(), mustUser(c).ID, c.Param("wb"), c.Param("t"), sel)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPISuggestionCounts(counts))
}
