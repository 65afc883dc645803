package agent

import (
	"context"
	"time"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
)

// Usage periods a person can choose on the usage page, in days.
var UsagePeriods = []int{7, 30, 90}

// maxUsageRows caps the model, session and user lists of a usage report.
const maxUsageRows = 200

// UsageTotals are the tokens and cost of a set of turns.
type UsageTotals struct {
	TokensIn  int64
	TokensOut int64
	Cost      float64
	Turns     int64
}

func (u *UsageTotals) add(o UsageTotals) {
	u.TokensIn += o.TokensIn
	u.TokensOut += o.TokensOut
	u.Cost += o.Cost
	u.Turns += o.Turns
}

// UsageDay is one UTC day of a report; days without turns are there too.
type UsageDay struct {
	Day time.Time
	UsageTotals
}

// UsageModel is one model's share of a report.
type UsageModel struct {
	Model string
	UsageTotals
}

// UsageSession is one session's share of a report.
type UsageSession struct {
	ID           string
	Title        string
	WorkbookID   string
	WorkbookName string
	OwnerEmail   string
	LastAt       time.Time
	UsageTotals
}

// UsageUser is one user's share of an everyone report.
type UsageUser struct {
	ID    string
	Email string
	UsageTotals
}

// UsageQuery asks for a report: the days ending with Until's UTC day, of
// one owner's turns, or of everyone's when OwnerID is "" and All is set
// (admins only: the handlers decide).
type UsageQuery struct {
	OwnerID string
	All     bool
	Days    int
	Until   time.Time
}

// UsageReport is the tokens and cost of the agent's turns over a period,
// by day, model and session (and user, for everyone's).
type UsageReport struct {
	From, To time.Time // [From, To), UTC midnights
	Total    UsageTotals
	Days     []UsageDay
	Models   []UsageModel
	Sessions []UsageSession
	Users    []UsageUser
}

// Usage sums the agent's turns started in the period. The work is done by
// PostgreSQL; the lists are capped at 200 rows each, the biggest first.
func (s *Service) Usage(ctx context.Context, q UsageQuery) (UsageReport, error) {
	if q.Days < 1 || q.Days > 366 {
		return UsageReport{}, apperr.New(apperr.Invalid, "Choose a period of 1 to 366 days.")
	}
	if q.OwnerID == "" && !q.All {
		return UsageReport{}, apperr.New(apperr.Invalid, "Whose usage?")
	}
	until := q.Until
	if until.IsZero() {
		until = time.Now()
	}
	u := until.UTC()
	to := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	r := UsageReport{From: to.AddDate(0, 0, -q.Days), To: to}
	var owner *string
	if q.OwnerID != "" {
		owner = &q.OwnerID
	}
	days, err := s.q.AgentUsageByDay(ctx, db.AgentUsageByDayParams{FromAt: r.From, ToAt: r.To, OwnerID: owner})
	if err != nil {
		return UsageReport{}, err
	}
	byDay := make(map[time.Time]UsageTotals, len(days))
	for _, d := range days {
		t := UsageTotals{TokensIn: d.TokensIn, TokensOut: d.TokensOut, Cost: d.Cost, Turns: d.Turns}
		day := d.Day.Time
		byDay[time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)] = t
		r.Total.add(t)
	}
	for day := r.From; day.Before(r.To); day = day.AddDate(0, 0, 1) {
		r.Days = append(r.Days, UsageDay{Day: day, UsageTotals: byDay[day]})
	}
	models, err := s.q.AgentUsageByModel(ctx, db.AgentUsageByModelParams{FromAt: r.From, ToAt: r.To, OwnerID: owner, MaxRows: maxUsageRows})
	if err != nil {
		return UsageReport{}, err
	}
	for _, m := range models {
		r.Models = append(r.Models, UsageModel{Model: m.Model, UsageTotals: UsageTotals{TokensIn: m.TokensIn, TokensOut: m.TokensOut, Cost: m.Cost, Turns: m.Turns}})
	}
	sessions, err := s.q.AgentUsageBySession(ctx, db.AgentUsageBySessionParams{FromAt: r.From, ToAt: r.To, OwnerID: owner, MaxRows: maxUsageRows})
	if err != nil {
		return UsageReport{}, err
	}
	for _, x := range sessions {
		r.Sessions = append(r.Sessions, UsageSession{ID: x.ID, Title: x.Title, WorkbookID: x.WorkbookID, WorkbookName: x.WorkbookName,
			OwnerEmail: x.OwnerEmail, LastAt: x.LastAt,
			UsageTotals: UsageTotals{TokensIn: x.TokensIn, TokensOut: x.TokensOut, Cost: x.Cost, Turns: x.Turns}})
	}
	if q.All && q.OwnerID == "" {
		users, err := s.q.AgentUsageByUser(ctx, db.AgentUsageByUserParams{FromAt: r.From, ToAt: r.To, MaxRows: maxUsageRows})
		if err != nil {
			return UsageReport{}, err
		}
		for _, x := range users {
			r.Users = append(r.Users, UsageUser{ID: x.ID, Email: x.Email, UsageTotals: UsageTotals{TokensIn: x.TokensIn, TokensOut: x.TokensOut, Cost: x.Cost, Turns: x.Turns}})
		}
	}
	return r, nil
}
