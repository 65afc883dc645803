package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
	"github.com/scratchpad/scratchpad/views"
)

// This file serves review: the record panel beside the grid (every field,
// pending suggestions side by side, previous/next, save) and the bulk
// actions of the toolbar (accept/reject by table, column, selection, record
// or cell; find & replace as suggestions; fill a column as edits).

// bulkTrigger tells the grid to reload its rows and counters after a change
// made through the toolbar or the panel's suggestion buttons.
const bulkTrigger = `{"grid-refresh": true, "counters-changed": true}`

// reviewTableURL is the grid of a table.
func reviewTableURL(workbookID, tableID string) string {
	return "/workbooks/" + url.PathEscape(workbookID) + "/tables/" + url.PathEscape(tableID)
}

// reviewListing reads the grid's listing (filter, sort, quick filter) from
// the query string or the form.
func reviewListing(c echo.Context) workbooks.RecordQuery {
	return workbooks.RecordQuery{Filter: c.FormValue("filter"), Sort: c.FormValue("sort"), Has: c.FormValue("has")}
}

// reviewListingQuery encodes a listing for links, leaving out what is empty.
func reviewListingQuery(q workbooks.RecordQuery) string {
	v := url.Values{}
	for k, s := range map[string]string{"filter": q.Filter, "sort": q.Sort, "has": q.Has} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// recordPanel shows one record in the panel: the whole <aside> for htmx,
// or a page of its own when opened as a link.
func (s *Server) recordPanel(c echo.Context) error {
	t, rec, err := s.routeRecord(c)
	if err != nil {
		return err
	}
	panel, err := s.panelView(c, t, rec, reviewListing(c))
	if err != nil {
		return err
	}
	if isHTMX(c) {
		return render(c, http.StatusOK, views.RecordPanelAside(panel))
	}
	p := s.page(c, panel.Heading, "workbooks")
	p.Wide = true
	return render(c, http.StatusOK, views.RecordPanelView(p, panel))
}

// saveRecordPanel saves the panel's form as a person's edit of the fields
// that changed, on the version the form was rendered from. A stale version
// is refused (409) with the current values and what the person typed; a
// value the column cannot hold is shown on its field (422).
func (s *Server) saveRecordPanel(c echo.Context) error {
	ctx := c.Request().Context()
	u := mustUser(c)
	t, rec, err := s.routeRecord(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read.")
	}
	version, ok := parseVersion(form.Get("version"))
	if !ok {
		return apperr.InvalidFields("The form is missing the record's version; reload the record.",
			apperr.FieldError{Field: "version", Message: "is required"})
	}
	fields, typed, clashes := panelChanges(t.Columns, rec, form)
	listing := reviewListing(c)
	if len(clashes) > 0 {
		// Someone changed a field the person changed too: the stale
		// version makes the store refuse, naming who changed it.
		typed = clashes
	} else if version != rec.Version && hasBaseValues(form) {
		// The record moved on (the person's own grid edit, another field
		// changed elsewhere) but not in any field changed here: save on
		// the latest version, changing only those fields.
		version = rec.Version
	}

	saved, err := s.Workbooks.UpdateRecord(ctx, u.ID, t.WorkbookID, t.ID, rec.ID, fields, version)
	if err == nil {
		panel, err := s.panelView(c, t, saved, listing)
		if err != nil {
			return err
		}
		panel.Notice = "Saved."
		c.Response().Header().Set("HX-Trigger", recordSavedTrigger(saved.ID))
		return render(c, http.StatusOK, views.RecordPanelAside(panel))
	}
	switch apperr.KindOf(err) {
	case apperr.StaleVersion, apperr.Conflict:
		// Show what the record holds now, never overwriting it, and keep
		// what the person typed so they can enter it again.
		current, ferr := s.Workbooks.FindRecordIn(ctx, u.ID, t, rec.ID)
		if ferr != nil {
			return ferr
		}
		panel, perr := s.panelView(c, t, current, listing)
		if perr != nil {
			return perr
		}
		panel.Conflict = &views.PanelConflict{Message: apperr.MessageOf(err), Yours: typed}
		return render(c, http.StatusConflict, views.RecordPanelAside(panel))
	case apperr.Invalid:
		panel, perr := s.panelView(c, t, rec, listing)
		if perr != nil {
			return perr
		}
		panel.Error = apperr.MessageOf(err)
		byName := map[string]string{}
		for _, fe := range apperr.FieldsOf(err) {
			byName[strings.ToLower(fe.Field)] = fe.Message
		}
		for i, f := range panel.Fields {
			if msg, ok := byName[strings.ToLower(f.Name)]; ok {
				panel.Fields[i].Error = msg
			} else if msg, ok := byName[strings.ToLower(f.ID)]; ok {
				panel.Fields[i].Error = msg
			}
			// Keep what was typed in every field, not only the wrong ones.
			if vals, ok := form["f."+f.ID]; ok && !f.ReadOnly {
				panel.Fields[i].Value, panel.Fields[i].Selected = typedValue(vals)
			}
		}
		return render(c, http.StatusUnprocessableEntity, views.RecordPanelAside(panel))
	}
	return err
}

func recordSavedTrigger(recordID string) string {
	b, _ := json.Marshal(map[string]any{"counters-changed": true, "record-saved": map[string]string{"id": recordID}})
	return string(b)
}

func parseVersion(s string) (int, bool) {
	n := 0
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

// typedValue is what a person typed into a field, as the editor shows it.
func typedValue(vals []string) (string, []string) {
	var selected []string
	for _, v := range vals {
		if v != "" {
			selected = append(selected, v)
		}
	}
	if len(vals) == 0 {
		return "", nil
	}
	return vals[len(vals)-1], selected
}

// panelChanges reads the panel's form into the fields the person changed:
// those whose value differs from what the field showed (its b.<id> value),
// or, for a form without those, from the record's current value, read as
// the column reads it. Unchanged fields are left out, so saving never
// rewrites them (a multi select submits its options in list order, for
// one). Values the column cannot hold are passed on for the record store
// to refuse per field. It also returns the changed values as typed, for a
// conflict message, and clashes: the changed fields that rec no longer
// holds as the panel showed them, with their current value.
func panelChanges(cols workbooks.Columns, rec workbooks.Record, form url.Values) (map[string]any, []views.ConflictValue, []views.ConflictValue) {
	fields := map[string]any{}
	var typed, clashes []views.ConflictValue
	for _, col := range cols {
		vals, ok := form["f."+col.ID]
		if !ok || col.ReadOnly || len(vals) == 0 {
			continue
		}
		raw := workbooks.ParseForm(col, vals)
		base, hasBase := form["b."+col.ID]
		if hasBase && sameFormValue(col, vals, base) {
			continue // not changed here
		}
		if v, err := workbooks.NormalizeValue(col, raw); err == nil && workbooks.SameValue(col, v, rec.Fields[col.ID]) {
			continue // already what the record holds
		}
		fields[col.ID] = raw
		shown, selected := typedValue(vals)
		if len(selected) > 1 || col.Type == values.MultiSelect {
			shown = strings.Join(selected, ", ")
		}
		cv := views.ConflictValue{Name: col.Name, Value: shown}
		typed = append(typed, cv)
		if hasBase {
			b, err := workbooks.NormalizeValue(col, workbooks.ParseForm(col, base))
			if err != nil || !workbooks.SameValue(col, b, rec.Fields[col.ID]) {
				cv.Theirs, cv.HasTheirs = col.Text(rec.Fields[col.ID]), true
				clashes = append(clashes, cv)
			}
		}
	}
	return fields, typed, clashes
}

// sameFormValue reports whether two submissions of a field mean the same:
// the same strings, or the same value once read as the column reads it.
func sameFormValue(col workbooks.Column, a, b []string) bool {
	if slices.Equal(a, b) {
		return true
	}
	va, errA := workbooks.NormalizeValue(col, workbooks.ParseForm(col, a))
	vb, errB := workbooks.NormalizeValue(col, workbooks.ParseForm(col, b))
	return errA == nil && errB == nil && workbooks.SameValue(col, va, vb)
}

// hasBaseValues reports whether the form says what its fields showed.
func hasBaseValues(form url.Values) bool {
	for k := range form {
		if strings.HasPrefix(k, "b.") {
			return true
		}
	}
	return false
}

func stringsOf(list []any) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = fmt.Sprint(v)
	}
	return out
}

// panelView builds the panel's view model for rec.
func (s *Server) panelView(c echo.Context, t workbooks.Table, rec workbooks.Record, listing workbooks.RecordQuery) (views.RecordPanel, error) {
	u := mustUser(c)
	base := reviewTableURL(t.WorkbookID, t.ID)
	p := views.RecordPanel{
		CSRFToken: csrfToken(c), WorkbookID: t.WorkbookID, TableID: t.ID, TableName: t.Name,
		RecordID: rec.ID, Heading: "Record", Version: rec.Version, State: string(rec.State),
		SuggestedAction: rec.SuggestedAction,
		Query:           views.PanelQuery{Filter: listing.Filter, Sort: listing.Sort, Has: listing.Has},
		GridURL:         base + reviewListingQuery(listing),
	}
	prev, next, err := s.Workbooks.Neighbours(c.Request().Context(), u.ID, t.WorkbookID, t.ID, rec.ID, listing)
	switch {
	case apperr.Is(err, apperr.Invalid):
		// A listing that no longer parses (a column renamed meanwhile)
		// costs the panel its neighbours, not the record.
	case err != nil:
		return views.RecordPanel{}, err
	}
	if prev != "" {
		p.PrevURL = base + "/records/" + prev + reviewListingQuery(listing)
	}
	if next != "" {
		p.NextURL = base + "/records/" + next + reviewListingQuery(listing)
	}
	for _, col := range t.Columns {
		v := rec.Fields[col.ID]
		if p.Heading == "Record" && col.Type == values.Text && col.Format != values.FormatMarkdown && col.Format != values.FormatHTML {
			if text := col.Text(v); strings.TrimSpace(text) != "" {
				p.Heading = truncateText(text, 80)
			}
		}
		_, hasSuggestion := rec.Suggestions[col.ID]
		f := views.PanelField{
			ID: col.ID, Name: col.Name, Input: inputKind(col, v), Options: col.Options,
			ReadOnly: col.ReadOnly, Required: col.Required, HasSuggestion: hasSuggestion,
			Edited: slices.Contains(rec.EditedFields, col.ID),
		}
		f.Value, f.Selected = editorValue(col, v)
		p.Fields = append(p.Fields, f)
		if hasSuggestion {
			p.Suggestions = append(p.Suggestions, views.PanelSuggestion{
				FieldID: col.ID, FieldName: col.Name, Before: col.Text(v), After: col.Text(rec.Suggestions[col.ID]),
			})
		}
	}
	return p, nil
}

func truncateText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// inputKind picks the editor for a column and its current value.
func inputKind(col workbooks.Column, v any) string {
	switch col.Type {
	case values.Text:
		switch col.Format {
		case values.FormatMarkdown:
			return "markdown"
		case values.FormatHTML:
			return "textarea"
		case values.FormatURL:
			return "url"
		case values.FormatEmail:
			return "email"
		case values.FormatPhone:
			return "tel"
		}
		if s, _ := v.(string); len(s) > 80 || strings.Contains(s, "\n") {
			return "textarea"
		}
		return "text"
	case values.Number:
		return "number"
	case values.Boolean:
		return "boolean"
	case values.Date:
		return "date"
	case values.Datetime:
		return "datetime"
	case values.Select:
		if len(col.Options) > 0 {
			return "select"
		}
	case values.MultiSelect:
		if len(col.Options) > 0 {
			return "multiselect"
		}
	case values.JSON:
		return "json"
	}
	return "text"
}

// editorValue is the text an editor starts with, and a multi select's choices.
func editorValue(col workbooks.Column, v any) (string, []string) {
	switch col.Type {
	case values.Datetime:
		// datetime-local has no zone; the label says UTC.
		s, _ := v.(string)
		return strings.TrimSuffix(s, "Z"), nil
	case values.MultiSelect:
		var selected []string
		if list, ok := v.([]any); ok {
			selected = stringsOf(list)
		}
		return strings.Join(selected, ", "), selected
	}
	return col.Text(v), nil
}

// acceptSuggestions accepts the suggestions the form selects.
func (s *Server) acceptSuggestions(c echo.Context) error { return s.decideSuggestions(c, true) }

// rejectSuggestions rejects the suggestions the form selects.
func (s *Server) rejectSuggestions(c echo.Context) error { return s.decideSuggestions(c, false) }

// decideSuggestions accepts or rejects suggestions. The toolbar names its
// scope (table, column or selection); the panel and other callers send
// selectors directly: all=true, field, record_id (repeated), cells
// (repeated, "<record id>:<column id>").
func (s *Server) decideSuggestions(c echo.Context, accept bool) error {
	u := mustUser(c)
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read.")
	}
	wb, tid := c.Param("wb"), c.Param("t")
	panel := form.Get("view") == "panel"
	sel, err := selectorFrom(form)
	if err != nil {
		return s.bulkError(c, err, panel)
	}
	var counts workbooks.SuggestionCounts
	if accept {
		counts, err = s.Workbooks.AcceptSuggestions(ctx, u.ID, wb, tid, sel)
	} else {
		counts, err = s.Workbooks.RejectSuggestions(ctx, u.ID, wb, tid, sel)
	}
	if err != nil {
		return s.bulkError(c, err, panel)
	}
	verb := "Rejected"
	if accept {
		verb = "Accepted"
	}
	msg := fmt.Sprintf("%s %d %s.", verb, counts.Total(), pluralWord(counts.Total(), "suggestion", "suggestions"))
	if counts.Total() == 0 {
		msg = "There were no pending suggestions to " + strings.ToLower(verb[:len(verb)-2]) + "."
	}
	c.Response().Header().Set("HX-Trigger", bulkTrigger)
	if panel {
		return s.refreshPanel(c, wb, tid, form.Get("panel_record"), msg)
	}
	kind := "success"
	if counts.Total() == 0 {
		kind = "info"
	}
	return s.bulkDone(c, views.BulkResult{Kind: kind, Message: msg, Count: counts.Total()})
}

// refreshPanel re-renders the panel after an action on its record, or
// closes it when the record is gone (a rejected suggested create).
func (s *Server) refreshPanel(c echo.Context, workbookID, tableID, recordID, notice string) error {
	u := mustUser(c)
	ctx := c.Request().Context()
	t, err := s.Workbooks.FindTable(ctx, u.ID, workbookID, tableID)
	if err != nil {
		return err
	}
	rec, err := s.Workbooks.FindRecordIn(ctx, u.ID, t, recordID)
	if apperr.Is(err, apperr.NotFound) {
		return render(c, http.StatusOK, views.ClosedRecordPanel())
	}
	if err != nil {
		return err
	}
	p, err := s.panelView(c, t, rec, reviewListing(c))
	if err != nil {
		return err
	}
	p.Notice = notice
	return render(c, http.StatusOK, views.RecordPanelAside(p))
}

// selectorFrom reads the suggestions a form selects. Errors: Invalid.
func selectorFrom(form url.Values) (workbooks.Selector, error) {
	var sel workbooks.Selector
	switch form.Get("scope") {
	case "table":
		sel.All = true
	case "column":
		if sel.Field = form.Get("field"); sel.Field == "" {
			return sel, apperr.InvalidFields("Choose a column first.", apperr.FieldError{Field: "column", Message: "is required"})
		}
	case "selection":
		if sel.RecordIDs = nonEmpty(form["record_id"]); len(sel.RecordIDs) == 0 {
			return sel, apperr.InvalidFields("Select some rows first.", apperr.FieldError{Field: "record_id", Message: "no rows are selected"})
		}
	case "":
		sel.All = form.Get("all") == "true"
		sel.Field = form.Get("field")
		sel.RecordIDs = nonEmpty(form["record_id"])
		for _, cell := range nonEmpty(form["cells"]) {
			rid, col, ok := strings.Cut(cell, ":")
			if !ok || rid == "" || col == "" {
				return sel, apperr.InvalidFields("A cell is named <record id>:<column id>.", apperr.FieldError{Field: "cells", Message: "is not a cell"})
			}
			sel.Cells = append(sel.Cells, workbooks.Cell{RecordID: rid, Field: col})
		}
	default:
		return sel, apperr.InvalidFields("Unknown scope.", apperr.FieldError{Field: "scope", Message: "must be table, column or selection"})
	}
	return sel, nil
}

func nonEmpty(list []string) []string {
	out := []string{}
	for _, v := range list {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// findReplace previews (mode=preview) or applies (mode=apply) a find &
// replace over the chosen column of the filtered records, as suggestions.
func (s *Server) findReplace(c echo.Context) error {
	u := mustUser(c)
	fr := workbooks.FindReplace{
		Column: c.FormValue("field"), Find: c.FormValue("find"), Replace: c.FormValue("replace"),
		Regex: truthy(c.FormValue("regex")), CaseSensitive: truthy(c.FormValue("case_sensitive")),
		KeepCase: truthy(c.FormValue("keep_case")),
		Query:    workbooks.RecordQuery{Filter: c.FormValue("filter"), Has: c.FormValue("has")},
		Preview:  c.FormValue("mode") != "apply",
	}
	n, err := s.Workbooks.FindReplace(c.Request().Context(), u.ID, c.Param("wb"), c.Param("t"), fr)
	if err != nil {
		return s.bulkError(c, err, false)
	}
	records := pluralWord(n, "record", "records")
	if fr.Preview {
		r := views.BulkResult{Kind: "info", Count: n, Message: fmt.Sprintf("%d %s would change.", n, records)}
		if n == 0 {
			r.Message = "No records would change."
		}
		return s.bulkDone(c, r)
	}
	c.Response().Header().Set("HX-Trigger", bulkTrigger)
	r := views.BulkResult{Kind: "success", Count: n, Message: fmt.Sprintf("Suggested replacements in %d %s; review them in the grid.", n, records)}
	if n == 0 {
		r.Kind, r.Message = "info", "Nothing matched; no suggestions were made."
	}
	return s.bulkDone(c, r)
}

// fillColumn sets the chosen column of the selected rows (fill_scope=
// selection) or of all filtered rows (fill_scope=filter) to one value, as
// edits.
func (s *Server) fillColumn(c echo.Context) error {
	u := mustUser(c)
	form, err := c.FormParams()
	if err != nil {
		return apperr.New(apperr.Invalid, "The form could not be read.")
	}
	var scope workbooks.Scope
	switch form.Get("fill_scope") {
	case "filter":
		scope.Query = workbooks.RecordQuery{Filter: form.Get("filter"), Has: form.Get("has")}
	case "selection", "":
		// Never fall back to "everything" when nothing is selected.
		if scope.RecordIDs = nonEmpty(form["record_id"]); len(scope.RecordIDs) == 0 {
			return s.bulkError(c, apperr.InvalidFields("Select some rows first, or choose all filtered rows.",
				apperr.FieldError{Field: "record_id", Message: "no rows are selected"}), false)
		}
	default:
		return s.bulkError(c, apperr.InvalidFields("Unknown scope.", apperr.FieldError{Field: "fill_scope", Message: "must be selection or filter"}), false)
	}
	n, err := s.Workbooks.FillColumn(c.Request().Context(), u.ID, c.Param("wb"), c.Param("t"), form.Get("field"), form.Get("value"), scope)
	if err != nil {
		return s.bulkError(c, err, false)
	}
	c.Response().Header().Set("HX-Trigger", bulkTrigger)
	r := views.BulkResult{Kind: "success", Count: n, Message: fmt.Sprintf("Filled %d %s.", n, pluralWord(n, "record", "records"))}
	if n == 0 {
		r.Kind, r.Message = "info", "Every record in scope already holds that value."
	}
	return s.bulkDone(c, r)
}

func truthy(s string) bool { return s == "true" || s == "on" || s == "1" }

// bulkDone answers a bulk action: the result fragment for htmx, or a flash
// and the grid again for a plain form post.
func (s *Server) bulkDone(c echo.Context, r views.BulkResult) error {
	if !isHTMX(c) {
		kind := r.Kind
		if kind != "error" && kind != "success" {
			kind = "info"
		}
		s.flash(c, kind, r.Message)
		return redirect(c, reviewTableURL(c.Param("wb"), c.Param("t"))+reviewListingQuery(reviewListing(c)))
	}
	return render(c, http.StatusOK, views.BulkResultView(r))
}

// bulkLabels name the toolbar's inputs in error messages.
var bulkLabels = map[string]string{
	"column": "Column", "find": "Find", "replace": "Replace", "filter": "Filter", "has": "Quick filter",
	"value": "Value", "record_id": "Selection", "cells": "Cell", "scope": "Scope", "fill_scope": "Scope",
}

// bulkError shows a refused bulk action where the toolbar shows results
// (422, or 413 for a change too big for one request, with the problems per
// input); other errors, and every error of the panel, go to the one error
// handler.
func (s *Server) bulkError(c echo.Context, err error, panel bool) error {
	kind := apperr.KindOf(err)
	if panel || (kind != apperr.Invalid && kind != apperr.TooLarge) {
		return err
	}
	r := views.BulkResult{Kind: "error", Message: apperr.MessageOf(err), Count: -1}
	for _, fe := range apperr.FieldsOf(err) {
		if fe.Message == "is required" && !strings.HasPrefix(r.Message, "Please correct") {
			// The message already asks for the input ("Choose a column
			// first."): "Column: is required" would say it twice.
			continue
		}
		label, ok := bulkLabels[fe.Field]
		if !ok {
			label = fe.Field
		}
		r.Problems = append(r.Problems, label+": "+fe.Message)
	}
	if !isHTMX(c) {
		s.flash(c, "error", r.Message)
		return redirect(c, reviewTableURL(c.Param("wb"), c.Param("t"))+reviewListingQuery(reviewListing(c)))
	}
	return render(c, statusOf(kind), views.BulkResultView(r))
}
