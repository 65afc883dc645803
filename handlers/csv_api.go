package handlers

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/imports"
)

// apiImport is the state of a CSV import as the API shows it.
type apiImport struct {
	ID           string       `json:"id"`
	Status       string       `json:"status"`
	TableID      string       `json:"table_id"`
	JobID        string       `json:"job_id"`
	Filename     string       `json:"filename"`
	SizeBytes    int64        `json:"size_bytes"`
	RowsImported int64        `json:"rows_imported"`
	RowsRejected int64        `json:"rows_rejected"`
	CellErrors   int64        `json:"cell_errors"`
	Problems     []apiProblem `json:"problems"`
}

// apiProblem is a row or cell of a file that could not be taken as it was.
type apiProblem struct {
	Row     int    `json:"row"`
	Column  int    `json:"column,omitempty"`
	Name    string `json:"column_name,omitempty"`
	Message string `json:"message"`
}

func newAPIProblems(ps []imports.Problem) []apiProblem {
	out := make([]apiProblem, 0, len(ps))
	for _, p := range ps {
		out = append(out, apiProblem{Row: p.Row, Column: p.Column, Name: p.Name, Message: p.Message})
	}
	return out
}

func newAPIImport(u imports.Upload) apiImport {
	return apiImport{
		ID: u.ID, Status: u.Status, TableID: u.TableID, JobID: strconv.FormatInt(u.JobID, 10), Filename: u.Filename, SizeBytes: u.SizeBytes,
		RowsImported: u.RowsImported, RowsRejected: u.RowsRejected, CellErrors: u.CellErrors, Problems: newAPIProblems(u.Problems),
	}
}

// apiCreateTableResponse is the table created from a CSV and its import,
// which runs in the background: the workbook's event stream
// (GET /api/v1/workbooks/{wb}/events) reports its progress and end as
// import.progress, import.done, import.failed and import.cancelled events.
type apiCreateTableResponse struct {
	Table  apiTable     `json:"table"`
	Import apiImport    `json:"import"`
	Job    apiImportJob `json:"job"`
}

// apiImportJob names the job filling the table, which GET /api/v1/jobs/{job}
// shows with its progress and result.
type apiImportJob struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
}

// apiCreateTable adds a table to a workbook from a multipart CSV upload
// (file, name, optional key_column; fields before the file): the columns
// and their types come from the file, and the rows are imported by a job.
// The data-source form ({"data_source_id", "remote_table_id"}) adds a table
// of a data source and starts its pull (syncs_api.go).
func (s *Server) apiCreateTable(c echo.Context) error {
	if strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) {
		// This route takes uploads, so its body limit is the upload limit;
		// a JSON body is held to the ordinary one.
		c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, s.Config.MaxBodyBytes)
		return s.apiAddTableFromSource(c)
	}
	ctx := c.Request().Context()
	var out apiCreateTableResponse
	err := s.uploadForm(c, func(fields map[string]string, filename string, file io.Reader) error {
		up, t, err := s.Imports.CreateTableFromCSV(ctx, mustUser(c).ID, c.Param("wb"), filename, file, s.Config.MaxUploadBytes,
			imports.ImportInput{TableName: fields["name"], KeyColumn: fields["key_column"]})
		if err != nil {
			return err
		}
		imp := newAPIImport(up)
		out = apiCreateTableResponse{Table: newAPITable(t), Import: imp,
			Job: apiImportJob{ID: imp.JobID, Kind: imports.ImportCSVArgs{}.Kind()}}
		return nil
	})
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusAccepted, out)
}

// apiExportCSV streams a table, or its filtered view, as CSV.
func (s *Server) apiExportCSV(c echo.Context) error { return s.streamExport(c) }

// apiSuggestionImport is the report of apiImportSuggestions.
type apiSuggestionImport struct {
	Rows           int          `json:"rows"`
	Matched        int          `json:"matched"`
	Suggestions    int          `json:"suggestions"`
	Records        int          `json:"records"`
	Unmatched      int          `json:"unmatched"`
	UnmatchedKeys  []string     `json:"unmatched_keys"`
	Created        int          `json:"created"`
	Rejected       int          `json:"rejected"`
	IgnoredColumns []string     `json:"ignored_columns"`
	Problems       []apiProblem `json:"problems"`
}

// apiImportSuggestions proposes the differing cells of a multipart CSV
// (key_column, optional create_unmatched, then file) as suggestions.
func (s *Server) apiImportSuggestions(c echo.Context) error {
	rep, err := s.readSuggestionImport(c)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, apiSuggestionImport{
		Rows: rep.Rows, Matched: rep.Matched, Suggestions: rep.Cells, Records: rep.Records, Unmatched: rep.Unmatched,
		UnmatchedKeys: rep.UnmatchedKeys, Created: rep.Created, Rejected: rep.Rejected,
		IgnoredColumns: rep.IgnoredColumns, Problems: newAPIProblems(rep.Problems),
	})
}
