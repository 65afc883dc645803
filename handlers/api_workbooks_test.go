package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apptest"
	"github.com/scratchpad/scratchpad/internal/values"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

// The bodies of the workbook API, as a client decodes them.
type (
	columnBody struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Type     string   `json:"type"`
		Format   *string  `json:"format"`
		ReadOnly bool     `json:"read_only"`
		Required bool     `json:"required"`
		Options  []string `json:"options"`
		Scratch  bool     `json:"scratch"`
	}
	tableBody struct {
		ID            string       `json:"id"`
		Name          string       `json:"name"`
		Hidden        bool         `json:"hidden"`
		Columns       []columnBody `json:"columns"`
		HiddenColumns []string     `json:"hidden_columns"`
	}
	workbookBody struct {
		ID        string      `json:"id"`
		Name      string      `json:"name"`
		CreatedAt string      `json:"created_at"`
		UpdatedAt string      `json:"updated_at"`
		Tables    []tableBody `json:"tables"`
	}
	workbookListBody struct {
		Items      []workbookBody `json:"items"`
		NextCursor *string        `json:"next_cursor"`
	}
	recordBody struct {
		ID              string            `json:"id"`
		RemoteID        *string           `json:"remote_id"`
		Version         int               `json:"version"`
		State           string            `json:"state"`
		Fields          map[string]any    `json:"fields"`
		EditedFields    []string          `json:"edited_fields"`
		Suggestions     map[string]any    `json:"suggestions"`
		SuggestedAction *string           `json:"suggested_action"`
		Errors          map[string]string `json:"errors"`
	}
	recordListBody struct {
		Items      []recordBody `json:"items"`
		NextCursor *string      `json:"next_cursor"`
		Total      int64        `json:"total"`
		Pending    int64        `json:"pending"`
	}
	batchBody struct {
		Created []recordBody `json:"created"`
		Updated []recordBody `json:"updated"`
		Deleted []string     `json:"deleted"`
	}
	countsBody struct {
		Updates int `json:"updates"`
		Creates int `json:"creates"`
		Deletes int `json:"deletes"`
		Total   int `json:"total"`
	}
)

// wbSession is one user's API session against one instance.
type wbSession struct {
	t     testing.TB
	api   *apiClient
	token string
}

// call sends a request that matches the document.
func (s wbSession) call(method, path, body string) *apiResponse {
	s.t.Helper()
	return s.api.Do(s.t, apiCall{method: method, path: path, token: s.token, body: body})
}

// MustJSON sends a request and decodes its answer, which must have status.
func (s wbSession) MustJSON(method, path, body string, status int, v any) {
	s.t.Helper()
	r := s.call(method, path, body)
	if v == nil {
		if r.Status != status {
			s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, status, r.Body)
		}
		return
	}
	MustDecode(s.t, r, status, v)
}

// wbFixture is a user with a read-write token, a workbook and a products
// table created through the record store (CSV upload belongs to csv_api.go).
type wbFixture struct {
	inst  *apptest.Instance
	user  accounts.User
	s     wbSession
	wb    workbookBody
	table workbooks.Table
}

func (f *wbFixture) tablePath() string {
	return "/api/v1/workbooks/" + f.wb.ID + "/tables/" + f.table.ID
}

// MustWorkbookFixture starts an instance with one user who has a "Shop"
// workbook (made through the API) holding a "Products" table.
func MustWorkbookFixture(t testing.TB, email string) *wbFixture {
	t.Helper()
	inst := apptest.MustStart(t, apptest.Options{})
	u, token := MustUserWithToken(t, inst, email, false, accounts.ScopeRead, accounts.ScopeWrite)
	f := &wbFixture{inst: inst, user: u, s: wbSession{t: t, api: newAPIClient(t, inst), token: token}}
	f.s.MustJSON(http.MethodPost, "/api/v1/workbooks", `{"name": "Shop"}`, http.StatusCreated, &f.wb)
	var err error
	f.table, err = inst.App.Workbooks.CreateTable(context.Background(), u.ID, f.wb.ID, workbooks.TableInput{
		Name: "Products",
		Columns: []workbooks.ColumnInput{
			{Name: "Title", Type: values.Text, Required: true},
			{Name: "Price", Type: values.Number},
			{Name: "Status", Type: values.Select, Options: []string{"Draft", "Published"}},
			{Name: "Link", Type: values.Text, Format: values.FormatURL},
		},
	})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	return f
}

// MustCreateRecord creates a record through the API.
func (f *wbFixture) MustCreateRecord(fields string) recordBody {
	f.s.t.Helper()
	var rec recordBody
	f.s.MustJSON(http.MethodPost, f.tablePath()+"/records", `{"fields": `+fields+`}`, http.StatusCreated, &rec)
	return rec
}

// MustRecord reads a record through the API.
func (f *wbFixture) MustRecord(id string) recordBody {
	f.s.t.Helper()
	var rec recordBody
	f.s.MustJSON(http.MethodGet, f.tablePath()+"/records/"+id, "", http.StatusOK, &rec)
	return rec
}

func TestAPIWorkbooksCRUD(t *testing.T) {
	t.Parallel()
	f := MustWorkbookFixture(t, "crud@example.com")
	s := f.s
	if f.wb.Name != "Shop" || f.wb.Tables == nil || len(f.wb.Tables) != 0 {
		t.Errorf("created workbook = %+v", f.wb)
	}
	mustUTC(t, "created_at", f.wb.CreatedAt)

	var wb workbookBody
	s.MustJSON(http.MethodPatch, "/api/v1/workbooks/"+f.wb.ID, `{"name": "Shop 2024"}`, http.StatusOK, &wb)
	if wb.Name != "Shop 2024" || len(wb.Tables) != 1 || wb.Tables[0].Name != "Products" {
		t.Errorf("renamed workbook = %+v", wb)
	}
	s.MustJSON(http.MethodGet, "/api/v1/workbooks/"+f.wb.ID, "", http.StatusOK, &wb)
	cols := wb.Tables[0].Columns
	if len(cols) != 4 || cols[0].Name != "Title" || !cols[0].Required || cols[2].Options[1] != "Published" ||
		cols[3].Format == nil || *cols[3].Format != "url" || cols[1].Format != nil {
		t.Errorf("columns = %+v", cols)
	}

	// Lists page by cursor.
	for _, name := range []string{"Archive", "Blog"} {
		s.MustJSON(http.MethodPost, "/api/v1/workbooks", `{"name": "`+name+`"}`, http.StatusCreated, &wb)
	}
	var page workbookListBody
	s.MustJSON(http.MethodGet, "/api/v1/workbooks?limit=2", "", http.StatusOK, &page)
	if len(page.Items) != 2 || page.Items[0].Name != "Archive" || page.NextCursor == nil {
		t.Fatalf("first page = %+v", page)
	}
	s.MustJSON(http.MethodGet, "/api/v1/workbooks?limit=2&cursor="+url.QueryEscape(*page.NextCursor), "", http.StatusOK, &page)
	if len(page.Items) != 1 || page.Items[0].Name != "Shop 2024" || page.NextCursor != nil {
		t.Errorf("second page = %+v", page)
	}
	for _, bad := range []string{"limit=0", "limit=501", "limit=x", "sort=size"} {
		r := s.api.Do(t, apiCall{method: http.MethodGet, path: "/api/v1/workbooks?" + bad, token: s.token, offSpec: true})
		MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")
	}
	r := s.call(http.MethodGet, "/api/v1/workbooks?cursor=bogus", "")
	if p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input"); len(p.Errors) != 1 || p.Errors[0].Field != "cursor" {
		t.Errorf("bad cursor errors = %+v", p.Errors)
	}
	r = s.api.Do(t, apiCall{method: http.MethodPost, path: "/api/v1/workbooks", token: s.token, body: `{"name": ""}`, offSpec: true})
	if p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input"); len(p.Errors) != 1 || p.Errors[0].Field != "name" {
		t.Errorf("empty name errors = %+v", p.Errors)
	}

	// Tables and columns.
	var tbl tableBody
	s.MustJSON(http.MethodPatch, f.tablePath(), `{"name": "Items", "hidden_columns": ["Price"]}`, http.StatusOK, &tbl)
	if tbl.Name != "Items" || len(tbl.HiddenColumns) != 1 || tbl.HiddenColumns[0] != "Price" {
		t.Errorf("patched table = %+v", tbl)
	}
	s.MustJSON(http.MethodPost, f.tablePath()+"/columns", `{"name": "Memo", "type": "text"}`, http.StatusCreated, &tbl)
	if last := tbl.Columns[len(tbl.Columns)-1]; last.Name != "Memo" || !last.Scratch {
		t.Errorf("added column = %+v", last)
	}
	r = s.api.Do(t, apiCall{method: http.MethodPost, path: f.tablePath() + "/columns", token: s.token, body: `{"name": "X", "type": "colour"}`, offSpec: true})
	MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")
	s.MustJSON(http.MethodGet, f.tablePath(), "", http.StatusOK, &tbl)

	s.MustJSON(http.MethodDelete, f.tablePath(), "", http.StatusNoContent, nil)
	MustProblem(t, s.call(http.MethodGet, f.tablePath(), ""), http.StatusNotFound, "not_found")
	s.MustJSON(http.MethodDelete, "/api/v1/workbooks/"+f.wb.ID, "", http.StatusNoContent, nil)
	MustProblem(t, s.call(http.MethodGet, "/api/v1/workbooks/"+f.wb.ID, ""), http.StatusNotFound, "not_found")
}

func TestAPIRecords(t *testing.T) {
	t.Parallel()
	f := MustWorkbookFixture(t, "records@example.com")
	s := f.s
	price := f.table.Columns[1].ID

	lamp := f.MustCreateRecord(`{"Title": "Lamp", "Price": 10, "Status": "draft"}`)
	if lamp.State != "created" || lamp.Version != 1 || lamp.Fields["Title"] != "Lamp" || lamp.Fields["Price"] != 10.0 ||
		lamp.Fields["Status"] != "Draft" || lamp.RemoteID != nil || lamp.SuggestedAction != nil {
		t.Errorf("created record = %+v", lamp)
	}
	// Fields may be named by column id too; answers always use names.
	desk := f.MustCreateRecord(`{"Title": "Desk", "` + price + `": "250"}`)
	if desk.Fields["Price"] != 250.0 {
		t.Errorf("record created by column id = %+v", desk)
	}
	r := s.call(http.MethodPost, f.tablePath()+"/records", `{"fields": {"Price": "cheap", "Link": "nope", "Colour": "red"}}`)
	p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")
	if got := fieldNames(p); got != "Colour,Link,Price,Title" {
		t.Errorf("invalid record fields = %s", got)
	}

	var rec recordBody
	s.MustJSON(http.MethodPatch, f.tablePath()+"/records/"+lamp.ID, `{"fields": {"Price": 12.5}, "version": 1}`, http.StatusOK, &rec)
	if rec.Version != 2 || rec.Fields["Price"] != 12.5 {
		t.Errorf("patched record = %+v", rec)
	}
	r = s.call(http.MethodPatch, f.tablePath()+"/records/"+lamp.ID, `{"fields": {"Price": 1}, "version": 1}`)
	MustProblem(t, r, http.StatusConflict, "stale_version")
	r = s.api.Do(t, apiCall{method: http.MethodPatch, path: f.tablePath() + "/records/" + lamp.ID, token: s.token, body: `{"fields": {"Price": 1}}`, offSpec: true})
	if p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input"); fieldNames(p) != "version" {
		t.Errorf("missing version errors = %+v", p.Errors)
	}
	if got := f.MustRecord(lamp.ID); got.Fields["Price"] != 12.5 || got.Version != 2 {
		t.Errorf("refused edits changed the record: %+v", got)
	}

	s.MustJSON(http.MethodDelete, f.tablePath()+"/records/"+desk.ID, "", http.StatusNoContent, nil)
	MustProblem(t, s.call(http.MethodGet, f.tablePath()+"/records/"+desk.ID, ""), http.StatusNotFound, "not_found")

	// A batch is one transaction: a stale update undoes its creates.
	r = s.call(http.MethodPost, f.tablePath()+"/records/batch",
		`{"creates": [{"fields": {"Title": "Chair"}}], "updates": [{"record_id": "`+lamp.ID+`", "fields": {"Title": "Lamp 2"}, "version": 1}]}`)
	MustProblem(t, r, http.StatusConflict, "stale_version")
	r = s.call(http.MethodPost, f.tablePath()+"/records/batch", `{"creates": [{"fields": {"Title": "Chair"}}, {"fields": {"Price": "x"}}]}`)
	if p := MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input"); fieldNames(p) != "creates[1].Price,creates[1].Title" {
		t.Errorf("batch errors = %+v", p.Errors)
	}
	var list recordListBody
	s.MustJSON(http.MethodGet, f.tablePath()+"/records", "", http.StatusOK, &list)
	if len(list.Items) != 1 || list.Total != 1 {
		t.Fatalf("failed batches left records: %+v", list)
	}

	var batch batchBody
	s.MustJSON(http.MethodPost, f.tablePath()+"/records/batch",
		`{"creates": [{"fields": {"Title": "Chair", "Price": 40}}, {"fields": {"Title": "Sofa", "Price": 300}}],
		  "updates": [{"record_id": "`+lamp.ID+`", "fields": {"Title": "Lamp 2"}, "version": 2}],
		  "deletes": []}`, http.StatusOK, &batch)
	if len(batch.Created) != 2 || len(batch.Updated) != 1 || batch.Updated[0].Version != 3 || batch.Updated[0].Fields["Title"] != "Lamp 2" {
		t.Errorf("batch = %+v", batch)
	}
	sofa := batch.Created[1]
	s.MustJSON(http.MethodPost, f.tablePath()+"/records/batch", `{"deletes": ["`+sofa.ID+`"]}`, http.StatusOK, &batch)

	// Filter, sort, paging.
	s.MustJSON(http.MethodGet, f.tablePath()+"/records?sort=-Price", "", http.StatusOK, &list)
	if titles(list) != "Chair,Lamp 2" {
		t.Errorf("sorted by -Price: %s", titles(list))
	}
	s.MustJSON(http.MethodGet, f.tablePath()+"/records?filter="+url.QueryEscape("Price > 20"), "", http.StatusOK, &list)
	if titles(list) != "Chair" {
		t.Errorf("filtered: %s", titles(list))
	}
	s.MustJSON(http.MethodGet, f.tablePath()+"/records?limit=1", "", http.StatusOK, &list)
	if len(list.Items) != 1 || list.NextCursor == nil || list.Total != 2 {
		t.Fatalf("first page: %+v", list)
	}
	first := list.Items[0].ID
	s.MustJSON(http.MethodGet, f.tablePath()+"/records?limit=1&cursor="+url.QueryEscape(*list.NextCursor), "", http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID == first || list.NextCursor != nil {
		t.Errorf("second page: %+v", list)
	}
	r = s.call(http.MethodGet, f.tablePath()+"/records?filter="+url.QueryEscape("Price > 10 and Colour = 1"), "")
	p = MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")
	if len(p.Errors) != 1 || p.Errors[0].Field != "filter" || !strings.HasPrefix(p.Errors[0].Message, "at 15: ") {
		t.Errorf("filter error = %+v", p.Errors)
	}
	r = s.api.Do(t, apiCall{method: http.MethodGet, path: f.tablePath() + "/records?has=everything", token: s.token, offSpec: true})
	MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")
}

func TestAPISuggestions(t *testing.T) {
	t.Parallel()
	f := MustWorkbookFixture(t, "suggest@example.com")
	s := f.s
	lamp := f.MustCreateRecord(`{"Title": "Lamp", "Price": 10}`)
	desk := f.MustCreateRecord(`{"Title": "Desk", "Price": 250}`)
	chair := f.MustCreateRecord(`{"Title": "Chair", "Price": 40}`)

	var counts countsBody
	s.MustJSON(http.MethodPost, f.tablePath()+"/suggestions", `{
		"updates": [
			{"record_id": "`+lamp.ID+`", "fields": {"Title": "Lamp XL", "Price": 99}},
			{"record_id": "`+desk.ID+`", "fields": {"Title": "Desk XL", "Price": 250}},
			{"record_id": "`+chair.ID+`", "fields": {"Title": "Chair XL"}}],
		"creates": [{"fields": {"Title": "Sofa"}}],
		"deletes": ["`+desk.ID+`"]}`, http.StatusCreated, &counts)
	// The desk's price equals its value, so it is no suggestion.
	if counts != (countsBody{Updates: 4, Creates: 1, Deletes: 1, Total: 6}) {
		t.Errorf("proposed = %+v", counts)
	}
	r := s.call(http.MethodPost, f.tablePath()+"/suggestions", `{"updates": [{"record_id": "00000000-0000-0000-0000-000000000000", "fields": {"Title": "x"}}]}`)
	MustProblem(t, r, http.StatusNotFound, "not_found")
	r = s.call(http.MethodPost, f.tablePath()+"/suggestions", `{}`)
	MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")

	var list recordListBody
	s.MustJSON(http.MethodGet, f.tablePath()+"/suggestions", "", http.StatusOK, &list)
	if len(list.Items) != 4 || list.Pending != 6 {
		t.Fatalf("suggestions list: %d items, pending %d", len(list.Items), list.Pending)
	}
	got := f.MustRecord(lamp.ID)
	if got.Suggestions["Title"] != "Lamp XL" || got.Suggestions["Price"] != 99.0 || got.Fields["Title"] != "Lamp" {
		t.Errorf("lamp with suggestions = %+v", got)
	}
	if got := f.MustRecord(desk.ID); got.SuggestedAction == nil || *got.SuggestedAction != "delete" {
		t.Errorf("desk = %+v", got)
	}

	// Accept one cell, reject a record, accept a column, then the rest.
	s.MustJSON(http.MethodPost, f.tablePath()+"/suggestions/accept",
		`{"cells": [{"record_id": "`+lamp.ID+`", "field": "Title"}]}`, http.StatusOK, &counts)
	if counts.Updates != 1 || counts.Total != 1 {
		t.Errorf("accept cell = %+v", counts)
	}
	s.MustJSON(http.MethodPost, f.tablePath()+"/suggestions/reject", `{"record_ids": ["`+lamp.ID+`"]}`, http.StatusOK, &counts)
	if counts.Updates != 1 || counts.Total != 1 {
		t.Errorf("reject record = %+v", counts)
	}
	got = f.MustRecord(lamp.ID)
	if got.Fields["Title"] != "Lamp XL" || got.Fields["Price"] != 10.0 || len(got.Suggestions) != 0 {
		t.Errorf("lamp after accept+reject = %+v", got)
	}
	s.MustJSON(http.MethodPost, f.tablePath()+"/suggestions/accept", `{"field": "Title"}`, http.StatusOK, &counts)
	if counts.Updates != 2 {
		t.Errorf("accept column = %+v", counts)
	}
	if d, c := f.MustRecord(desk.ID), f.MustRecord(chair.ID); d.Fields["Title"] != "Desk XL" || c.Fields["Title"] != "Chair XL" {
		t.Errorf("after accepting the column: desk %v, chair %v", d.Fields, c.Fields)
	}
	r = s.call(http.MethodPost, f.tablePath()+"/suggestions/accept", `{"field": "Colour"}`)
	MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")
	s.MustJSON(http.MethodPost, f.tablePath()+"/suggestions/accept", `{"all": true}`, http.StatusOK, &counts)
	if counts != (countsBody{Creates: 1, Deletes: 1, Total: 2}) {
		t.Errorf("accept all = %+v", counts)
	}
	s.MustJSON(http.MethodGet, f.tablePath()+"/suggestions", "", http.StatusOK, &list)
	if len(list.Items) != 0 || list.Pending != 0 {
		t.Errorf("left after accepting all: %+v", list)
	}
	s.MustJSON(http.MethodGet, f.tablePath()+"/records?sort=Title", "", http.StatusOK, &list)
	if titles(list) != "Chair XL,Lamp XL,Sofa" {
		t.Errorf("final records: %s", titles(list))
	}
}

func TestAPIWorkbooksScopesAndOwnership(t *testing.T) {
	t.Parallel()
	f := MustWorkbookFixture(t, "owner@example.com")
	rec := f.MustCreateRecord(`{"Title": "Lamp"}`)
	ownReadToken := MustToken(t, f.inst, f.user, accounts.TokenInput{Name: "read", Scopes: []accounts.Scope{accounts.ScopeRead}})
	_, strangerToken := MustUserWithToken(t, f.inst, "stranger@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)

	reader := wbSession{t: t, api: f.s.api, token: ownReadToken}
	reader.MustJSON(http.MethodGet, f.tablePath()+"/records/"+rec.ID, "", http.StatusOK, &recordBody{})

	writes := []struct{ method, path, body string }{
		{http.MethodPost, "/api/v1/workbooks", `{"name": "x"}`},
		{http.MethodPatch, "/api/v1/workbooks/" + f.wb.ID, `{"name": "x"}`},
		{http.MethodDelete, "/api/v1/workbooks/" + f.wb.ID, ""},
		{http.MethodPost, f.tablePath() + "/records", `{"fields": {"Title": "x"}}`},
		{http.MethodPatch, f.tablePath() + "/records/" + rec.ID, `{"fields": {"Title": "x"}, "version": 1}`},
		{http.MethodDelete, f.tablePath() + "/records/" + rec.ID, ""},
		{http.MethodPost, f.tablePath() + "/records/batch", `{"deletes": ["` + rec.ID + `"]}`},
		{http.MethodPost, f.tablePath() + "/suggestions", `{"deletes": ["` + rec.ID + `"]}`},
		{http.MethodPost, f.tablePath() + "/suggestions/accept", `{"all": true}`},
		{http.MethodPost, f.tablePath() + "/suggestions/reject", `{"all": true}`},
	}
	for _, w := range writes {
		t.Run("read token "+w.method+" "+w.path, func(t *testing.T) {
			MustProblem(t, f.s.api.Do(t, apiCall{method: w.method, path: w.path, token: ownReadToken, body: w.body}), http.StatusForbidden, "forbidden")
		})
	}

	stranger := wbSession{t: t, api: f.s.api, token: strangerToken}
	foreign := append(writes[1:],
		struct{ method, path, body string }{http.MethodGet, "/api/v1/workbooks/" + f.wb.ID, ""},
		struct{ method, path, body string }{http.MethodGet, f.tablePath(), ""},
		struct{ method, path, body string }{http.MethodGet, f.tablePath() + "/records", ""},
		struct{ method, path, body string }{http.MethodGet, f.tablePath() + "/records/" + rec.ID, ""},
		struct{ method, path, body string }{http.MethodGet, f.tablePath() + "/suggestions", ""},
		struct{ method, path, body string }{http.MethodGet, "/api/v1/workbooks/" + f.wb.ID + "/events", ""},
		struct{ method, path, body string }{http.MethodPost, f.tablePath() + "/columns", `{"name": "x", "type": "text"}`},
		struct{ method, path, body string }{http.MethodPatch, f.tablePath(), `{"name": "x"}`},
		struct{ method, path, body string }{http.MethodDelete, f.tablePath(), ""},
	)
	for _, w := range foreign {
		t.Run("stranger "+w.method+" "+w.path, func(t *testing.T) {
			MustProblem(t, stranger.call(w.method, w.path, w.body), http.StatusNotFound, "not_found")
		})
	}
	var list workbookListBody
	stranger.MustJSON(http.MethodGet, "/api/v1/workbooks", "", http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Errorf("stranger sees %d workbooks", len(list.Items))
	}
	if got := f.MustRecord(rec.ID); got.Version != 1 || got.Fields["Title"] != "Lamp" || got.SuggestedAction != nil {
		t.Errorf("refused requests changed the record: %+v", got)
	}
}

func TestAPIIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := MustWorkbookFixture(t, "idem@example.com")
	s := f.s
	send := func(token, path, key, body string) *apiResponse {
		t.Helper()
		return s.api.Do(t, apiCall{method: http.MethodPost, path: path, token: token, body: body,
			header: http.Header{"Idempotency-Key": {key}}})
	}

	first := send(s.token, "/api/v1/workbooks", "wb-1", `{"name": "Once"}`)
	again := send(s.token, "/api/v1/workbooks", "wb-1", `{"name": "Once"}`)
	if first.Status != http.StatusCreated || again.Status != http.StatusCreated || string(first.Body) != string(again.Body) {
		t.Fatalf("replay: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	if again.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
		t.Error("Idempotent-Replayed should mark the replay only")
	}
	p := MustProblem(t, send(s.token, "/api/v1/workbooks", "wb-1", `{"name": "Twice"}`), http.StatusUnprocessableEntity, "invalid_input")
	if !strings.Contains(p.Detail, "Idempotency-Key reused with a different body") {
		t.Errorf("reuse detail = %q", p.Detail)
	}
	var list workbookListBody
	s.MustJSON(http.MethodGet, "/api/v1/workbooks", "", http.StatusOK, &list)
	if len(list.Items) != 2 {
		t.Errorf("%d workbooks after a replay, want 2", len(list.Items))
	}
	// Keys are per user: another user's same key creates their own.
	_, otherToken := MustUserWithToken(t, f.inst, "idem2@example.com", false, accounts.ScopeRead, accounts.ScopeWrite)
	if r := send(otherToken, "/api/v1/workbooks", "wb-1", `{"name": "Once"}`); r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("other user's key: %d %s", r.Status, r.Body)
	}

	rec1 := send(s.token, f.tablePath()+"/records", "rec-1", `{"fields": {"Title": "Lamp"}}`)
	rec2 := send(s.token, f.tablePath()+"/records", "rec-1", `{"fields": {"Title": "Lamp"}}`)
	if rec1.Status != http.StatusCreated || string(rec1.Body) != string(rec2.Body) {
		t.Errorf("record replay: %s / %s", rec1.Body, rec2.Body)
	}
	var lamp recordBody
	MustDecode(t, rec1, http.StatusCreated, &lamp)

	batch := `{"creates": [{"fields": {"Title": "Desk"}}], "updates": [{"record_id": "` + lamp.ID + `", "fields": {"Price": 5}, "version": 1}]}`
	b1, b2 := send(s.token, f.tablePath()+"/records/batch", "batch-1", batch), send(s.token, f.tablePath()+"/records/batch", "batch-1", batch)
	if b1.Status != http.StatusOK || b2.Status != http.StatusOK || string(b1.Body) != string(b2.Body) {
		t.Errorf("batch replay: %d %s / %d %s", b1.Status, b1.Body, b2.Status, b2.Body)
	}
	propose := `{"updates": [{"record_id": "` + lamp.ID + `", "fields": {"Title": "Lamp XL"}}], "creates": [{"fields": {"Title": "Sofa"}}]}`
	p1, p2 := send(s.token, f.tablePath()+"/suggestions", "sug-1", propose), send(s.token, f.tablePath()+"/suggestions", "sug-1", propose)
	if p1.Status != http.StatusCreated || string(p1.Body) != string(p2.Body) || p2.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("propose replay: %d %s / %d %s", p1.Status, p1.Body, p2.Status, p2.Body)
	}

	var records recordListBody
	s.MustJSON(http.MethodGet, f.tablePath()+"/records", "", http.StatusOK, &records)
	if titles(records) != "Lamp,Desk,Sofa" || records.Items[0].Version != 2 {
		t.Errorf("records after replays: %s (lamp version %d)", titles(records), records.Items[0].Version)
	}

	// A failed request keeps no key: fixing the body and retrying works.
	r := send(s.token, f.tablePath()+"/records", "rec-2", `{"fields": {"Price": 1}}`)
	MustProblem(t, r, http.StatusUnprocessableEntity, "invalid_input")
	if r := send(s.token, f.tablePath()+"/records", "rec-2", `{"fields": {"Title": "Fixed"}}`); r.Status != http.StatusCreated {
		t.Errorf("retry after a failure: %d %s", r.Status, r.Body)
	}
}

func TestAPIWorkbookEvents(t *testing.T) {
	t.Parallel()
	f := MustWorkbookFixture(t, "events@example.com")
	path := "/api/v1/workbooks/" + f.wb.ID + "/events"

	req, err := http.NewRequest(http.MethodGet, f.inst.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.s.token)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	MustMatchDocumentHead(t, f.s.api, req, resp)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}

	// The subscription is live once the response started; a change now
	// must arrive as a JSON event.
	rec := f.MustCreateRecord(`{"Title": "Lamp"}`)
	// SSE messages end at a blank line; the order of their fields varies.
	lines := bufio.NewScanner(resp.Body)
	var name, data string
	for lines.Scan() {
		line := lines.Text()
		if v, ok := strings.CutPrefix(line, "event:"); ok {
			name = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "data:"); ok {
			data = strings.TrimSpace(v)
		}
		if line != "" {
			continue
		}
		if name != "record.created" {
			name, data = "", ""
			continue
		}
		var ev struct {
			Topic string `json:"topic"`
			Type  string `json:"type"`
			Data  struct {
				Kind      string   `json:"kind"`
				TableID   string   `json:"table_id"`
				RecordIDs []string `json:"record_ids"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event data %q: %v", data, err)
		}
		if ev.Topic != "workbook:"+f.wb.ID || ev.Type != "record.created" || ev.Data.TableID != f.table.ID ||
			len(ev.Data.RecordIDs) != 1 || ev.Data.RecordIDs[0] != rec.ID {
			t.Errorf("event = %+v", ev)
		}
		return
	}
	t.Fatalf("no record.created event before the timeout: %v", lines.Err())
}

// MustMatchDocumentHead checks a streamed response's status and headers
// against openapi.json, leaving its body to the caller.
func MustMatchDocumentHead(t testing.TB, api *apiClient, req *http.Request, resp *http.Response) {
	t.Helper()
	route, params, err := api.spec.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not in openapi.json: %v", req.Method, req.URL.Path, err)
	}
	opts := validationOptions()
	opts.ExcludeResponseBody = true
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		t.Errorf("request does not match openapi.json: %v", err)
	}
	rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		t.Errorf("%d response does not match openapi.json: %v", resp.StatusCode, err)
	}
}

// fieldNames lists a problem's error fields, comma-separated, in order.
func fieldNames(p problemBody) string {
	names := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		names[i] = e.Field
	}
	return strings.Join(names, ",")
}

// titles lists the records' titles in order, comma-separated.
func titles(l recordListBody) string {
	out := make([]string, len(l.Items))
	for i, r := range l.Items {
		out[i], _ = r.Fields["Title"].(string)
	}
	return strings.Join(out, ",")
}
