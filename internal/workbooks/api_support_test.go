package workbooks_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/workbooks"
)

func TestBatchRecordsAppliesEverythingTogether(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	edited := f.MustRecord(t, map[string]any{"Title": "Lamp", "Price": 10})
	gone := f.MustPulled(t, "r-1", map[string]any{"Title": "Old chair"})

	res, err := f.svc.BatchRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.Batch{
		Creates: []workbooks.RecordFields{{Fields: map[string]any{"Title": "Desk"}}},
		Updates: []workbooks.BatchUpdate{{RecordID: edited.ID, Fields: map[string]any{"Price": "12.5"}, Version: edited.Version}},
		Deletes: []string{gone.ID},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 1 || res.Created[0].State != workbooks.StateCreated || res.Created[0].Fields[f.col(t, "Title")] != "Desk" {
		t.Errorf("created = %+v", res.Created)
	}
	if len(res.Updated) != 1 || res.Updated[0].Version != edited.Version+1 || res.Updated[0].Fields[f.col(t, "Price")] != json.Number("12.5") {
		t.Errorf("updated = %+v", res.Updated)
	}
	if len(res.Deleted) != 1 || f.MustFind(t, gone.ID).State != workbooks.StateDeleted {
		t.Errorf("deleted = %v", res.Deleted)
	}
}

func TestBatchRecordsWritesNothingWhenOneChangeFails(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	ctx := context.Background()
	rec := f.MustRecord(t, map[string]any{"Title": "Lamp"})

	cases := []struct {
		name      string
		batch     workbooks.Batch
		kind      apperr.Kind
		wantField string
	}{
		{"stale version", workbooks.Batch{
			Creates: []workbooks.RecordFields{{Fields: map[string]any{"Title": "Desk"}}},
			Updates: []workbooks.BatchUpdate{{RecordID: rec.ID, Fields: map[string]any{"Title": "Lamp 2"}, Version: rec.Version + 5}},
		}, apperr.StaleVersion, ""},
		{"invalid value", workbooks.Batch{
			Creates: []workbooks.RecordFields{{Fields: map[string]any{"Title": "Desk"}}, {Fields: map[string]any{"Title": "Chair", "Price": "cheap"}}},
		}, apperr.Invalid, "creates[1].Price"},
		{"unknown record", workbooks.Batch{
			Creates: []workbooks.RecordFields{{Fields: map[string]any{"Title": "Desk"}}},
			Deletes: []string{"00000000-0000-0000-0000-000000000000"},
		}, apperr.NotFound, ""},
		{"empty", workbooks.Batch{}, apperr.Invalid, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.BatchRecords(ctx, f.owner, f.wb.ID, f.table.ID, tc.batch)
			wantKind(t, err, tc.kind)
			if tc.wantField != "" {
				fields := apperr.FieldsOf(err)
				if len(fields) != 1 || fields[0].Field != tc.wantField {
					t.Errorf("fields = %+v, want %s", fields, tc.wantField)
				}
			}
		})
	}
	page, err := f.svc.FindRecords(ctx, f.owner, f.wb.ID, f.table.ID, workbooks.RecordQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 1 || f.MustFind(t, rec.ID).Version != rec.Version {
		t.Errorf("a failed batch left changes: %d records", len(page.Records))
	}
}

func TestBatchRecordsOfAnotherUsersTableIsNotFound(t *testing.T) {
	t.Parallel()
	f := MustFixture(t)
	stranger := MustUser(t, f.pool)
	_, err := f.svc.BatchRecords(context.Background(), stranger, f.wb.ID, f.table.ID, workbooks.Batch{
		Creates: []workbooks.RecordFields{{Fields: map[string]any{"Title": "Desk"}}},
	})
	wantKind(t, err, apperr.NotFound)
}
