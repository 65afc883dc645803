package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/agent"
)

// TestUsageSums is issue 10's usage page: the agent's turns summed by UTC
// day, model, session and user over a period, owner-scoped, with the
// user's own messages, turns outside the period and other users' turns
// left out. Costs are binary fractions so the sums are exact.
func TestUsageSums(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, fixtureOpts{noWorkers: true})
	ctx := context.Background()
	other, err := accounts.NewService(f.pool).SignUp(ctx, accounts.SignUpInput{Email: "other-usage@example.com", Name: "O", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	owb, err := f.store.CreateWorkbook(ctx, other.ID, "Theirs")
	if err != nil {
		t.Fatal(err)
	}
	mine1, err := f.agent.CreateSession(ctx, f.owner, f.wb.ID, "Titles")
	if err != nil {
		t.Fatal(err)
	}
	mine2, err := f.agent.CreateSession(ctx, f.owner, f.wb.ID, "Bodies")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := f.agent.CreateSession(ctx, other.ID, owb.ID, "Theirs")
	if err != nil {
		t.Fatal(err)
	}
	until := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	day := func(d int, h int) time.Time { return time.Date(2026, 3, d, h, 30, 0, 0, time.UTC) }
	msg := func(session, role, model string, in, out int64, cost float64, at time.Time) {
		t.Helper()
		if _, err := f.pool.Exec(ctx, `INSERT INTO agent_messages (session_id, role, model, tokens_in, tokens_out, cost, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'done', $7)`, session, role, model, in, out, cost, at); err != nil {
			t.Fatal(err)
		}
	}
	msg(mine1.ID, "assistant", "fake/model", 1000, 100, 0.25, day(10, 1))
	msg(mine1.ID, "assistant", "fake/big", 2000, 50, 0.5, day(10, 23))
	msg(mine1.ID, "user", "fake/model", 7, 7, 7, day(10, 2)) // a question costs nothing
	msg(mine2.ID, "assistant", "fake/model", 300, 30, 0.125, day(8, 0))
	msg(mine2.ID, "assistant", "fake/model", 999, 999, 9, day(3, 23)) // before a 7-day period
	msg(mine2.ID, "assistant", "fake/model", 999, 999, 9, day(11, 0)) // after it
	msg(theirs.ID, "assistant", "fake/model", 40, 4, 1.5, day(9, 12))

	r, err := f.agent.Usage(ctx, agent.UsageQuery{OwnerID: f.owner, Days: 7, Until: until})
	if err != nil {
		t.Fatal(err)
	}
	want := agent.UsageTotals{TokensIn: 3300, TokensOut: 180, Cost: 0.875, Turns: 3}
	if r.Total != want {
		t.Errorf("total = %+v, want %+v", r.Total, want)
	}
	if !r.From.Equal(day(4, 0).Truncate(24*time.Hour)) || !r.To.Equal(time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("period = %s..%s", r.From, r.To)
	}
	if len(r.Days) != 7 {
		t.Fatalf("%d days, want 7 (days without turns included)", len(r.Days))
	}
	if d := r.Days[6]; d.TokensIn != 3000 || d.TokensOut != 150 || d.Cost != 0.75 || d.Turns != 2 {
		t.Errorf("10 March = %+v", d)
	}
	if d := r.Days[4]; d.TokensIn != 300 || d.Cost != 0.125 {
		t.Errorf("8 March = %+v", d)
	}
	if d := r.Days[5]; d.Turns != 0 || d.Cost != 0 {
		t.Errorf("9 March (someone else's turn only) = %+v", d)
	}
	if len(r.Models) != 2 || r.Models[0].Model != "fake/big" || r.Models[0].Cost != 0.5 ||
		r.Models[1].Model != "fake/model" || r.Models[1].TokensIn != 1300 || r.Models[1].Cost != 0.375 {
		t.Errorf("models = %+v", r.Models)
	}
	if len(r.Sessions) != 2 || r.Sessions[0].ID != mine1.ID || r.Sessions[0].Cost != 0.75 || r.Sessions[0].WorkbookID != f.wb.ID ||
		r.Sessions[0].WorkbookName != "Shop" || r.Sessions[1].ID != mine2.ID || r.Sessions[1].TokensOut != 30 {
		t.Errorf("sessions = %+v", r.Sessions)
	}
	if r.Users != nil {
		t.Errorf("an owner's report lists users: %+v", r.Users)
	}

	// Everyone's: the other user's turn counts, and users are listed.
	all, err := f.agent.Usage(ctx, agent.UsageQuery{All: true, Days: 7, Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if want := (agent.UsageTotals{TokensIn: 3340, TokensOut: 184, Cost: 2.375, Turns: 4}); all.Total != want {
		t.Errorf("everyone's total = %+v, want %+v", all.Total, want)
	}
	if len(all.Users) != 2 || all.Users[0].ID != other.ID || all.Users[0].Cost != 1.5 || all.Users[1].Cost != 0.875 {
		t.Errorf("users = %+v", all.Users)
	}
	// One user picked by an admin is that user's report.
	one, err := f.agent.Usage(ctx, agent.UsageQuery{OwnerID: other.ID, All: true, Days: 7, Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if one.Total.Cost != 1.5 || len(one.Sessions) != 1 || one.Sessions[0].OwnerEmail != "other-usage@example.com" {
		t.Errorf("one user's report = %+v", one)
	}
	// A 30-day period takes in the 3 March turn.
	month, err := f.agent.Usage(ctx, agent.UsageQuery{OwnerID: f.owner, Days: 30, Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if month.Total.Cost != 9.875 || len(month.Days) != 30 {
		t.Errorf("30 days: cost %v, %d days", month.Total.Cost, len(month.Days))
	}
	for _, bad := range []agent.UsageQuery{{OwnerID: f.owner, Days: 0}, {OwnerID: f.owner, Days: 367}, {Days: 7}} {
		if _, err := f.agent.Usage(ctx, bad); err == nil {
			t.Errorf("Usage(%+v) did not fail", bad)
		}
	}
}
