package handlers

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/events"
	"github.com/scratchpad/scratchpad/internal/imports"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

// uploadRoutes are the routes whose bodies are files: limitBody holds them
// to MAX_UPLOAD_BYTES instead of the ordinary limit, and CSRF reads their
// token from the header only.
var uploadRoutes = map[string]bool{
	"/workbooks/:wb/imports":                             true,
	"/workbooks/:wb/tables/:t/import-suggestions":        true,
	"/api/v1/workbooks/:wb/tables":                       true,
	"/api/v1/workbooks/:wb/tables/:t/import-suggestions": true,
}

// multipartOverhead is what an upload's body may hold besides the file: the
// part headers and the small form fields.
const multipartOverhead = 1 << 20

// maxFieldBytes bounds a form field read from a multipart body.
const maxFieldBytes = 4 << 10

// uploadForm streams a multipart body: the small fields before the file are
// collected, and the file part is handed to fn as a stream, never buffered
// or written to a temporary file (ParseMultipartForm would do both).
func (s *Server) uploadForm(c echo.Context, fn func(fields map[string]string, filename string, file io.Reader) error) error {
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, s.Config.MaxUploadBytes+multipartOverhead)
	mr, err := req.MultipartReader()
	if err != nil {
		return apperr.Wrap(apperr.Invalid, err, "Send the file as multipart/form-data in a field named file.")
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return apperr.New(apperr.Invalid, "Choose a CSV file to upload (the file field is missing).")
		}
		if err != nil {
			return uploadReadError(err)
		}
		if part.FormName() == "file" {
			return fn(fields, part.FileName(), uploadFile{r: part, limit: s.Config.MaxUploadBytes})
		}
		v, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			return uploadReadError(err)
		}
		if len(v) > maxFieldBytes {
			return apperr.New(apperr.Invalid, "The form field %s is too long.", strconv.Quote(part.FormName()))
		}
		fields[part.FormName()] = string(v)
	}
}

// uploadFile is the file part of an upload as the domain reads it: a read
// that passes the body's limit fails with a TooLarge error rather than
// net/http's *http.MaxBytesError, so the domain gets a classified error and
// needs to know nothing of HTTP. A body that ends before the file part's
// closing boundary (a client that stopped mid-upload) fails as Invalid: the
// multipart reader reports it as io.ErrUnexpectedEOF, which is also what
// io.ReadFull, as the importers use it, says of a file's short last chunk,
// so passed on as it is a cut-off file would be taken for a whole one.
type uploadFile struct {
	r     io.Reader
	limit int64
}

// errUploadCutOff is the cause of an upload whose body ended inside the file.
var errUploadCutOff = errors.New("multipart body ended inside the file part")

func (f uploadFile) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	var mbe *http.MaxBytesError
	switch {
	case err == nil || errors.Is(err, io.EOF):
	case errors.As(err, &mbe):
		return n, apperr.Wrap(apperr.TooLarge, err, "The file is larger than the limit of %s.", imports.ByteSize(f.limit))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return n, apperr.Wrap(apperr.Invalid, errUploadCutOff, "The upload was cut off before the end of the file; please send it again.")
	}
	return n, err
}

func uploadReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.Wrap(apperr.TooLarge, err, "The file is too large.")
	}
	return apperr.Wrap(apperr.Invalid, err, "The upload could not be read; please try again.")
}

// uploadPage shows the form that uploads a CSV file into a workbook.
func (s *Server) uploadPage(c echo.Context) error {
	wb, err := s.Workbooks.FindWorkbook(c.Request().Context(), mustUser(c).ID, c.Param("wb"))
	if err != nil {
		return err
	}
	v := views.ImportUploadView{WorkbookID: wb.ID, WorkbookName: wb.Name, MaxSize: imports.ByteSize(s.Config.MaxUploadBytes)}
	return render(c, http.StatusOK, views.ImportUploadPage(s.page(c, "Import a CSV file", "workbooks"), v))
}

// uploadCSV stores an uploaded file in chunks and opens its preview. The
// form posts it with htmx, so upload.js can show the upload's progress;
// errors come back as a fragment next to the form.
func (s *Server) uploadCSV(c echo.Context) error {
	ctx := c.Request().Context()
	wbID := c.Param("wb")
	var up imports.Upload
	err := s.uploadForm(c, func(_ map[string]string, filename string, file io.Reader) error {
		var err error
		up, err = s.Imports.CreateUpload(ctx, mustUser(c).ID, wbID, filename, file, s.Config.MaxUploadBytes)
		return err
	})
	if err != nil {
		kind := apperr.KindOf(err)
		if isHTMX(c) && (kind == apperr.Invalid || kind == apperr.TooLarge) {
			return render(c, statusOf(kind), views.ImportFormError(apperr.MessageOf(err)))
		}
		return err
	}
	return redirect(c, importURL(wbID, up.ID))
}

func importURL(wb, upload string) string { return "/workbooks/" + wb + "/imports/" + upload }

// importPreview shows an uploaded file's preview and import form, or, once
// the import has started, its progress.
func (s *Server) importPreview(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	wb, err := s.Workbooks.FindWorkbook(ctx, u.ID, c.Param("wb"))
	if err != nil {
		return err
	}
	up, err := s.Imports.FindUpload(ctx, u.ID, wb.ID, c.Param("upload"))
	if err != nil {
		return err
	}
	if up.Status != imports.StatusUploaded {
		v := progressView(up.Progress(), csrfToken(c))
		if c.QueryParam("fragment") == "progress" {
			return render(c, http.StatusOK, views.ImportProgress(v))
		}
		v.Problems = problemTexts(up.Problems)
		return render(c, http.StatusOK, views.ImportStatusPage(s.page(c, "Import "+up.Filename, "workbooks"), wb.Name, v))
	}
	p, err := s.Imports.Preview(ctx, u.ID, wb.ID, up.ID)
	if err != nil {
		return err
	}
	return s.renderPreview(c, http.StatusOK, wb, p, nil, nil)
}

// renderPreview renders the preview page; choices and err redisplay a
// refused form.
func (s *Server) renderPreview(c echo.Context, status int, wb workbooks.Workbook, p imports.Preview, form *imports.ImportInput, err error) error {
	v := views.ImportPreviewView{
		WorkbookID: wb.ID, WorkbookName: wb.Name, UploadID: p.Upload.ID, Filename: p.Upload.Filename,
		Size: imports.ByteSize(p.Upload.SizeBytes), FileError: p.FileError, Delimiter: delimiterName(p.Delimiter),
		BOM: p.BOM, Rows: p.Rows, SampledRows: p.SampledRows, TableName: imports.TableNameFromFilename(p.Upload.Filename),
		Problems: problemTexts(p.Problems),
	}
	choices := imports.DefaultChoices(p)
	if form != nil {
		choices, v.TableName = form.Columns, form.TableName
	}
	for i, ch := range choices {
		header := ""
		if i < len(p.Columns) {
			header = p.Columns[i].Name
		}
		v.Columns = append(v.Columns, views.ImportColumnView{Index: ch.Index, Header: header, Name: ch.Name,
			Type: typeOption(ch.Type, ch.Format), Skip: ch.Skip})
	}
	if err != nil {
		v.FormError = apperr.MessageOf(err)
		v.Errors = fieldMap(apperr.FieldsOf(err))
	}
	return render(c, status, views.ImportPreviewPage(s.page(c, "Import "+p.Upload.Filename, "workbooks"), v))
}

// startImport creates the table chosen on the preview and starts the job
// that fills it, then shows its progress.
func (s *Server) startImport(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	wb, err := s.Workbooks.FindWorkbook(ctx, u.ID, c.Param("wb"))
	if err != nil {
		return err
	}
	p, err := s.Imports.Preview(ctx, u.ID, wb.ID, c.Param("upload"))
	if err != nil {
		return err
	}
	if p.Upload.Status != imports.StatusUploaded {
		return redirect(c, importURL(wb.ID, p.Upload.ID)) // started already: show its progress
	}
	in := imports.ImportInput{TableName: c.FormValue("table_name")}
	for i, g := range p.Columns {
		n := strconv.Itoa(i)
		typ, format := parseTypeOption(c.FormValue("col_type_" + n))
		if typ == "" {
			typ, format = values.Type(g.Type), g.Format
		}
		in.Columns = append(in.Columns, imports.ColumnChoice{Index: i, Name: c.FormValue("col_name_" + n),
			Type: typ, Format: format, Skip: c.FormValue("col_skip_"+n) != ""})
	}
	_, _, err = s.Imports.StartImport(ctx, u.ID, wb.ID, p.Upload.ID, in)
	switch {
	case apperr.Is(err, apperr.Invalid):
		return s.renderPreview(c, http.StatusUnprocessableEntity, wb, p, &in, err)
	case apperr.Is(err, apperr.Conflict):
		return redirect(c, importURL(wb.ID, p.Upload.ID))
	case err != nil:
		return err
	}
	return redirect(c, importURL(wb.ID, p.Upload.ID))
}

// cancelImport stops a running import; htmx gets the progress back.
func (s *Server) cancelImport(c echo.Context) error {
	ctx := c.Request().Context()
	up, err := s.Imports.CancelImport(ctx, mustUser(c).ID, c.Param("wb"), c.Param("upload"))
	if err != nil && !apperr.Is(err, apperr.Conflict) {
		return err
	}
	if err == nil && isHTMX(c) {
		return render(c, http.StatusOK, views.ImportProgress(progressView(up.Progress(), csrfToken(c))))
	}
	return redirect(c, importURL(c.Param("wb"), c.Param("upload")))
}

// exportCSV downloads a table, or the records its filter, sort and quick
// filter select, as CSV.
func (s *Server) exportCSV(c echo.Context) error {
	return s.streamExport(c)
}

// streamExport writes the export of the table in the route as an
// attachment: formula-like cells neutralized, or with values=exact every
// value as stored. Errors (an unknown table, a bad filter) are reported
// before the first byte; the CSV then streams page by page.
func (s *Server) streamExport(c echo.Context) error {
	ctx := c.Request().Context()
	q := workbooks.RecordQuery{Filter: c.QueryParam("filter"), Sort: c.QueryParam("sort"), Has: c.QueryParam("has")}
	values := imports.ExportValues(c.QueryParam("values"))
	e, err := s.Imports.PrepareExport(ctx, mustUser(c).ID, c.Param("wb"), c.Param("t"), q, values)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, attachmentDisposition(e.Filename))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	if err := e.WriteTo(ctx, c.Response(), c.Response().Flush); err != nil {
		// The status is sent; all that is left is to stop and log.
		s.Logger.ErrorContext(ctx, "export interrupted", "table", e.Table.ID, "err", err)
	}
	return nil
}

// attachmentDisposition is the Content-Disposition of a download named
// filename, as RFC 6266 advises: a plain ASCII filename for old clients
// (other characters, quotes and backslashes replaced by _) and the UTF-8 name
// in filename* (RFC 8187), which current browsers prefer.
func attachmentDisposition(filename string) string {
	var ascii, encoded strings.Builder
	for _, r := range filename {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(filename) {
		if isAttrChar(b) {
			encoded.WriteByte(b)
		} else {
			fmt.Fprintf(&encoded, "%%%02X", b)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + encoded.String()
}

// isAttrChar reports whether b may stand unencoded in an RFC 8187 value.
func isAttrChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}

// importSuggestions reads a CSV posted with its key column and proposes its
// differing cells as suggestions; htmx gets the report.
func (s *Server) importSuggestions(c echo.Context) error {
	rep, err := s.readSuggestionImport(c)
	if err != nil {
		if isHTMX(c) && apperr.KindOf(err) != apperr.Internal && apperr.KindOf(err) != apperr.NotFound {
			return render(c, statusOf(apperr.KindOf(err)), views.ImportFormError(apperr.MessageOf(err)))
		}
		return err
	}
	v := views.SuggestionImportView{Matched: rep.Matched, Cells: rep.Cells, Records: rep.Records,
		Unmatched: rep.Unmatched, UnmatchedKeys: rep.UnmatchedKeys, Created: rep.Created, Rejected: rep.Rejected,
		IgnoredColumns: rep.IgnoredColumns, Problems: problemTexts(rep.Problems)}
	if isHTMX(c) {
		return render(c, http.StatusOK, views.SuggestionImportResult(v))
	}
	s.flash(c, "success", views.SuggestionImportSummary(v))
	return redirect(c, "/workbooks/"+c.Param("wb")+"/tables/"+c.Param("t"))
}

// readSuggestionImport streams the multipart body of an import as
// suggestions: key_column and create_unmatched (form fields before the
// file, or query parameters), then file.
func (s *Server) readSuggestionImport(c echo.Context) (imports.SuggestionReport, error) {
	ctx := c.Request().Context()
	var rep imports.SuggestionReport
	err := s.uploadForm(c, func(fields map[string]string, _ string, file io.Reader) error {
		key := cmp.Or(fields["key_column"], c.QueryParam("key_column"))
		create, err := formBool("create_unmatched", cmp.Or(fields["create_unmatched"], c.QueryParam("create_unmatched")))
		if err != nil {
			return err
		}
		rep, err = s.Imports.ImportSuggestions(ctx, mustUser(c).ID, c.Param("wb"), c.Param("t"), file, key, create)
		return err
	})
	return rep, err
}

// formBool reads a boolean form field: absent or empty is false, and the
// values a checkbox or a client sends for true and false are understood.
// Anything else is invalid input rather than a quiet false, so a typo in
// a client does not run the import it did not ask for.
func formBool(field, s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "off", "no":
		return false, nil
	case "1", "true", "on", "yes":
		return true, nil
	}
	return false, apperr.InvalidFields("Please correct the highlighted fields.",
		apperr.FieldError{Field: field, Message: "must be true or false"})
}

// RenderImportEvent renders an import's progress event ("import.*" on a
// workbook's topic) as the SSE message import-{upload id}, whose data is the
// ImportProgress fragment; a finished import also tells grids of its table
// to reload. It reports false for other events. Plug it into
// EventRendererDeps.Extra.
func RenderImportEvent(ctx context.Context, ev events.Event) ([]events.Message, bool) {
	if !strings.HasPrefix(ev.Type, "import.") {
		return nil, false
	}
	p, err := imports.ProgressFromEvent(ev.Data)
	if err != nil || p.UploadID == "" {
		return nil, true
	}
	var buf bytes.Buffer
	// Live fragments carry no CSRF token; the cancel form's htmx request
	// sends the page's token in its headers.
	if err := views.ImportProgress(progressView(p, "")).Render(ctx, &buf); err != nil {
		return nil, true
	}
	msgs := []events.Message{{Name: views.ImportEventName(p.UploadID), Data: buf.Bytes()}}
	if ev.Type == imports.EventDone && p.TableID != "" {
		msgs = append(msgs, events.Message{Name: "grid-refresh-" + p.TableID, Data: []byte(ev.Type)})
	}
	return msgs, true
}

// renderImportEvent is RenderImportEvent for a Server.
func (s *Server) renderImportEvent(ctx context.Context, ev events.Event) ([]events.Message, bool) {
	return RenderImportEvent(ctx, ev)
}

func progressView(p imports.Progress, csrf string) views.ImportProgressView {
	v := views.ImportProgressView{
		WorkbookID: p.WorkbookID, UploadID: p.UploadID, TableID: p.TableID, Filename: p.Filename, Status: p.Status,
		Rows: p.Rows, Rejected: p.Rejected, CellErrors: p.CellErrors, Error: p.Error, CSRF: csrf,
	}
	if p.Total > 0 {
		v.Percent = int(min(100, p.Bytes*100/p.Total))
	}
	if p.Status == imports.StatusDone {
		v.Percent = 100
	}
	v.Progress = imports.ByteSize(p.Bytes) + " of " + imports.ByteSize(p.Total)
	return v
}

func problemTexts(ps []imports.Problem) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func delimiterName(d rune) string {
	switch d {
	case ';':
		return "semicolons"
	case '\t':
		return "tabs"
	}
	return "commas"
}

// typeOption is the type select's value for a column type and format.
func typeOption(t values.Type, format string) string {
	if t == values.Text {
		if format == "" {
			format = values.FormatPlain
		}
		return "text:" + format
	}
	return string(t)
}

func parseTypeOption(v string) (values.Type, string) {
	typ, format, _ := strings.Cut(v, ":")
	t := values.Type(typ)
	if !t.Valid() {
		return "", ""
	}
	return t, format
}
