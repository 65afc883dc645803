// Package assets keeps prompt assets: Markdown documents people write or
// import from a web page (style guides, reference text) for the agent to
// follow. An asset belongs to its owner: another user's asset is not found.
// The agent includes the assets picked for a message plus the ones marked
// auto-include (ForMessage), within a byte budget.
package assets

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/db"
	"github.com/scratchpad/scratchpad/internal/ids"
	"github.com/scratchpad/scratchpad/internal/webfetch"
)

// Limits.
const (
	// MaxBody caps an asset's Markdown, in bytes.
	MaxBody = 200 << 10
	// MaxName caps an asset's name, in characters.
	MaxName = 200
	// MaxPerOwner caps how many assets one user keeps.
	MaxPerOwner = 500
	// MaxURL caps a source URL, in bytes.
	MaxURL = 2048
)

var errNotFound = apperr.New(apperr.NotFound, "Prompt asset not found.")

// Asset is a prompt asset.
type Asset struct {
	ID          string
	OwnerID     string
	Name        string
	Body        string
	AutoInclude bool
	// SourceURL is the page it was imported from, or "".
	SourceURL string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Fetcher loads a web page as text; *webfetch.Fetcher is one.
type Fetcher interface {
	Load(ctx context.Context, rawURL string) (webfetch.Page, error)
}

// Service is the prompt assets domain.
type Service struct {
	q     *db.Queries
	fetch Fetcher
}

// NewService returns the assets domain; fetch loads pages for Import.
func NewService(pool *pgxpool.Pool, fetch Fetcher) *Service {
	return &Service{q: db.New(pool), fetch: fetch}
}

func fromRow(r db.PromptAsset) Asset {
	a := Asset{ID: r.ID, OwnerID: r.OwnerID, Name: r.Name, Body: r.Body, AutoInclude: r.AutoInclude,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.SourceUrl != nil {
		a.SourceURL = *r.SourceUrl
	}
	return a
}

// Input is an asset's editable content.
type Input struct {
	Name        string
	Body        string
	AutoInclude bool
}

func (in Input) clean() (Input, error) {
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	in.Body = strings.ReplaceAll(in.Body, "\r\n", "\n")
	var fields []apperr.FieldError
	switch {
	case in.Name == "":
		fields = append(fields, apperr.FieldError{Field: "name", Message: "is required"})
	case !utf8.ValidString(in.Name) || utf8.RuneCountInString(in.Name) > MaxName:
		fields = append(fields, apperr.FieldError{Field: "name", Message: fmt.Sprintf("must be at most %d characters", MaxName)})
	}
	switch {
	case !utf8.ValidString(in.Body) || strings.ContainsRune(in.Body, 0):
		fields = append(fields, apperr.FieldError{Field: "body", Message: "must be text"})
	case len(in.Body) > MaxBody:
		fields = append(fields, apperr.FieldError{Field: "body", Message: fmt.Sprintf("must be at most %d KB (it is %d KB)", MaxBody>>10, (len(in.Body)+1023)>>10)})
	}
	if len(fields) > 0 {
		return in, apperr.InvalidFields("Check the asset: "+fields[0].Field+" "+fields[0].Message+".", fields...)
	}
	return in, nil
}

// owned is the one ownership check.
func (s *Service) owned(ctx context.Context, ownerID, id string) (db.PromptAsset, error) {
	if !ids.ValidUUID(id) || !ids.ValidUUID(ownerID) {
		return db.PromptAsset{}, errNotFound
	}
	r, err := s.q.GetPromptAsset(ctx, db.GetPromptAssetParams{ID: id, OwnerID: ownerID})
	if errors.Is(err, pgx.ErrNoRows) {
		return db.PromptAsset{}, errNotFound
	}
	return r, err
}

// Get returns the owner's asset id.
func (s *Service) Get(ctx context.Context, ownerID, id string) (Asset, error) {
	r, err := s.owned(ctx, ownerID, id)
	if err != nil {
		return Asset{}, err
	}
	return fromRow(r), nil
}

// List returns the owner's assets by name.
func (s *Service) List(ctx context.Context, ownerID string) ([]Asset, error) {
	rows, err := s.q.ListPromptAssets(ctx, db.ListPromptAssetsParams{OwnerID: ownerID, MaxCount: MaxPerOwner})
	if err != nil {
		return nil, err
	}
	out := make([]Asset, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out, nil
}

// Create adds an asset.
func (s *Service) Create(ctx context.Context, ownerID string, in Input) (Asset, error) {
	return s.create(ctx, ownerID, in, "")
}

func (s *Service) create(ctx context.Context, ownerID string, in Input, sourceURL string) (Asset, error) {
	in, err := in.clean()
	if err != nil {
		return Asset{}, err
	}
	n, err := s.q.CountPromptAssets(ctx, ownerID)
	if err != nil {
		return Asset{}, err
	}
	if n >= MaxPerOwner {
		return Asset{}, apperr.New(apperr.Conflict, "You have %d prompt assets, the most one person can keep: delete one first.", MaxPerOwner)
	}
	var src *string
	if sourceURL != "" {
		src = &sourceURL
	}
	r, err := s.q.CreatePromptAsset(ctx, db.CreatePromptAssetParams{OwnerID: ownerID, Name: in.Name, Body: in.Body, AutoInclude: in.AutoInclude, SourceUrl: src})
	if err != nil {
		return Asset{}, err
	}
	return fromRow(r), nil
}

// Patch is a partial change; nil fields stay as they are.
type Patch struct {
	Name        *string
	Body        *string
	AutoInclude *bool
}

// Update changes the owner's asset id.
func (s *Service) Update(ctx context.Context, ownerID, id string, p Patch) (Asset, error) {
	cur, err := s.owned(ctx, ownerID, id)
	if err != nil {
		return Asset{}, err
	}
	in := Input{Name: cur.Name, Body: cur.Body, AutoInclude: cur.AutoInclude}
	if p.Name != nil {
		in.Name = *p.Name
	}
	if p.Body != nil {
		in.Body = *p.Body
	}
	if p.AutoInclude != nil {
		in.AutoInclude = *p.AutoInclude
	}
	if in, err = in.clean(); err != nil {
		return Asset{}, err
	}
	r, err := s.q.UpdatePromptAsset(ctx, db.UpdatePromptAssetParams{ID: id, OwnerID: ownerID, Name: in.Name, Body: in.Body, AutoInclude: in.AutoInclude})
	if errors.Is(err, pgx.ErrNoRows) {
		return Asset{}, errNotFound
	}
	if err != nil {
		return Asset{}, err
	}
	return fromRow(r), nil
}

// Delete removes the owner's asset id.
func (s *Service) Delete(ctx context.Context, ownerID, id string) error {
	if !ids.ValidUUID(id) || !ids.ValidUUID(ownerID) {
		return errNotFound
	}
	n, err := s.q.DeletePromptAsset(ctx, db.DeletePromptAssetParams{ID: id, OwnerID: ownerID})
	if err != nil {
		return err
	}
	if n == 0 {
		return errNotFound
	}
	return nil
}

// ImportInput is a page to import as an asset; an empty Name takes the
// page's title.
type ImportInput struct {
	URL         string
	Name        string
	AutoInclude bool
}

// Import loads a web page as text and keeps it as a new asset. A page that
// cannot be loaded is an Invalid error on the url field that says why.
func (s *Service) Import(ctx context.Context, ownerID string, in ImportInput) (Asset, error) {
	raw := strings.TrimSpace(in.URL)
	if raw == "" {
		return Asset{}, apperr.InvalidFields("Give the address of the page to import.", apperr.FieldError{Field: "url", Message: "is required"})
	}
	if len(raw) > MaxURL {
		return Asset{}, apperr.InvalidFields("That address is too long.", apperr.FieldError{Field: "url", Message: fmt.Sprintf("must be at most %d characters", MaxURL)})
	}
	if u, err := url.Parse(raw); err == nil && u.Scheme == "" && !strings.Contains(raw, " ") {
		raw = "https://" + raw
	}
	page, err := s.fetch.Load(ctx, raw)
	if err != nil {
		var fe *webfetch.Error
		if errors.As(err, &fe) {
			return Asset{}, &apperr.Error{Kind: apperr.Invalid, Message: "The page could not be imported. " + fe.Message,
				Fields: []apperr.FieldError{{Field: "url", Message: fe.Message}}, Cause: err}
		}
		return Asset{}, err
	}
	if strings.TrimSpace(page.Text) == "" {
		return Asset{}, apperr.InvalidFields("The page could not be imported: it has no text.", apperr.FieldError{Field: "url", Message: "has no text"})
	}
	body := page.Text
	if len(body) > MaxBody {
		body = cut(body, MaxBody)
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = page.Title
	}
	if name == "" {
		if u, err := url.Parse(page.URL); err == nil {
			name = u.Host + u.Path
		}
	}
	if utf8.RuneCountInString(name) > MaxName {
		name = string([]rune(name)[:MaxName])
	}
	src := page.URL
	if len(src) > MaxURL {
		src = raw
	}
	return s.create(ctx, ownerID, Input{Name: name, Body: body, AutoInclude: in.AutoInclude}, src)
}

// Included is an asset's text as the agent receives it.
type Included struct {
	ID   string
	Name string
	Body string
	// Auto reports an auto-included asset (not picked for the message).
	Auto bool
	// Truncated reports that Body was cut to fit the budget.
	Truncated bool
}

// ForMessage returns the texts of the owner's assets picked for a message
// (ids; unknown and other users' ids are ignored) and of the owner's
// auto-included ones, picked ones first, within budget bytes of Body in
// all: the asset that crosses the budget is cut on a line boundary where it
// can be, and the ones after it are left out. Omitted counts the assets
// left out.
func (s *Service) ForMessage(ctx context.Context, ownerID string, picked []string, budget int) (out []Included, omitted int, err error) {
	valid := make([]string, 0, len(picked))
	for _, id := range picked {
		if ids.ValidUUID(id) {
			valid = append(valid, id)
		}
	}
	rows, err := s.q.PromptAssetsForMessage(ctx, db.PromptAssetsForMessageParams{OwnerID: ownerID, Ids: valid})
	if err != nil {
		return nil, 0, err
	}
	pickedSet := make(map[string]bool, len(valid))
	for _, id := range valid {
		pickedSet[id] = true
	}
	left := budget
	for _, r := range rows {
		if left <= 0 {
			omitted++
			continue
		}
		inc := Included{ID: r.ID, Name: r.Name, Body: r.Body, Auto: !pickedSet[r.ID]}
		if len(inc.Body) > left {
			// The budget ends here, whatever the cut at a line saved.
			inc.Body, inc.Truncated, left = cutAtLine(inc.Body, left), true, 0
		} else {
			left -= len(inc.Body)
		}
		out = append(out, inc)
	}
	return out, omitted, nil
}

// cut shortens s to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cutAtLine cuts s to at most n bytes, at the last line break when one is
// in the second half.
func cutAtLine(s string, n int) string {
	s = cut(s, n)
	if i := strings.LastIndexByte(s, '\n'); i > len(s)/2 {
		return s[:i]
	}
	return s
}

// PromptText lays out what ForMessage returned as one block of the agent's
// context: each asset under its name, marked when it was cut, and a last
// line saying how many were left out. It is empty when there is nothing.
func PromptText(inc []Included, omitted int) string {
	if len(inc) == 0 && omitted == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Prompt assets (the user's style guides and reference text; follow them):\n")
	for _, a := range inc {
		b.WriteString("\n=== ")
		b.WriteString(a.Name)
		if a.Auto {
			b.WriteString(" (always included)")
		}
		b.WriteString(" ===\n")
		b.WriteString(a.Body)
		if a.Truncated {
			b.WriteString("\n[… the rest of this asset was cut to fit]")
		}
		b.WriteString("\n")
	}
	if omitted > 0 {
		fmt.Fprintf(&b, "\n[%d more %s left out to fit]\n", omitted, map[bool]string{true: "asset was", false: "assets were"}[omitted == 1])
	}
	return b.String()
}
