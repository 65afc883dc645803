package agent_test

import (
	"context"
	"testing"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
)

// TestCostWarningIsEachPersonsOwn: a person's own amount replaces the
// server's default for them alone, is kept to the cent, goes back to the
// default when emptied, and a nonsense amount is refused with the field
// named.
func TestCostWarningIsEachPersonsOwn(t *testing.T) {
	t.Parallel()
	f := mustFixture(t, fixtureOpts{noWorkers: true})
	ctx := context.Background()
	if got, own, err := f.agent.CostWarning(ctx, f.owner, 1); err != nil || own || got != 1 {
		t.Fatalf("before any setting: %v %v %v, want the default 1", got, own, err)
	}
	if err := f.agent.SetCostWarning(ctx, f.owner, " $0.255 "); err != nil {
		t.Fatal(err)
	}
	if got, own, err := f.agent.CostWarning(ctx, f.owner, 1); err != nil || !own || got != 0.26 {
		t.Fatalf("after $0.255: %v %v %v, want 0.26 of their own", got, own, err)
	}
	other := mustOtherUser(t, f, "other-warning@example.com")
	if got, own, _ := f.agent.CostWarning(ctx, other, 1); own || got != 1 {
		t.Fatalf("another person's warning moved to %v", got)
	}
	if err := f.agent.SetCostWarning(ctx, f.owner, "0"); err != nil {
		t.Fatal(err)
	}
	if got, own, _ := f.agent.CostWarning(ctx, f.owner, 1); !own || got != 0 {
		t.Fatalf("0 (never warn) read back as %v %v", got, own)
	}
	for _, bad := range []string{"-1", "lots", "1e9", "NaN"} {
		err := f.agent.SetCostWarning(ctx, f.owner, bad)
		if !apperr.Is(err, apperr.Invalid) || len(apperr.FieldsOf(err)) != 1 || apperr.FieldsOf(err)[0].Field != "cost_warning" {
			t.Errorf("%q: %v, want Invalid naming cost_warning", bad, err)
		}
	}
	if err := f.agent.SetCostWarning(ctx, f.owner, ""); err != nil {
		t.Fatal(err)
	}
	if got, own, _ := f.agent.CostWarning(ctx, f.owner, 1); own || got != 1 {
		t.Fatalf("emptied: %v %v, want the default again", got, own)
	}
}

func mustOtherUser(t *testing.T, f *fixture, email string) string {
	t.Helper()
	u, err := accounts.NewService(f.pool).SignUp(context.Background(), accounts.SignUpInput{Email: email, Name: "Other", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
