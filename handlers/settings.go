package handlers

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/views"
)

// tokenExpiries are the lifetimes offered for new API tokens, in display
// order; a zero duration never expires.
var tokenExpiries = []struct {
	value, label string
	lifetime     time.Duration
}{
	{"never", "Never", 0},
	{"7d", "7 days", 7 * 24 * time.Hour},
	{"30d", "30 days", 30 * 24 * time.Hour},
	{"90d", "90 days", 90 * 24 * time.Hour},
	{"1y", "1 year", 365 * 24 * time.Hour},
}

// New tokens default to a finite lifetime and the least scope, so the
// quickest path through the form is also the safest.
const (
	defaultTokenExpiry = "90d"
	defaultTokenScope  = string(accounts.ScopeRead)
)

func (s *Server) settingsPage(c echo.Context) error {
	page, err := s.settingsView(c, mustUser(c))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SettingsView(s.page(c, "Settings", "settings"), page))
}

func (s *Server) updateProfile(c echo.Context) error {
	u := mustUser(c)
	form := views.ProfileForm{CSRFToken: csrfToken(c), Email: u.Email, Name: c.FormValue("name")}
	updated, err := s.Accounts.UpdateProfile(c.Request().Context(), u.ID, form.Name)
	if apperr.Is(err, apperr.Invalid) {
		form.Error, form.Fields = apperr.MessageOf(err), fieldMap(apperr.FieldsOf(err))
		return s.renderSettingsCard(c, http.StatusUnprocessableEntity, views.ProfileCard(form), func(p *views.SettingsPage) { p.Profile = form })
	}
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		s.flash(c, "success", "Profile saved.")
		return redirect(c, "/settings")
	}
	form.Name, form.Saved = updated.Name, true
	return render(c, http.StatusOK, views.ProfileCard(form))
}

func (s *Server) changePassword(c echo.Context) error {
	u := mustUser(c)
	ctx := c.Request().Context()
	form := views.PasswordForm{CSRFToken: csrfToken(c), HasPassword: true}
	err := s.Accounts.ChangePassword(ctx, u.ID, c.FormValue("current_password"), c.FormValue("new_password"))
	if apperr.Is(err, apperr.Invalid) {
		form.Error, form.Fields = apperr.MessageOf(err), fieldMap(apperr.FieldsOf(err))
		return s.renderSettingsCard(c, http.StatusUnprocessableEntity, views.PasswordCard(form), func(p *views.SettingsPage) { p.Password = form })
	}
	if err != nil {
		return err
	}
	// The change ended every session of the user, this one too: this
	// browser goes on with a fresh session token, as after a sign-in.
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	if !isHTMX(c) {
		s.flash(c, "success", "Password changed.")
		return redirect(c, "/settings")
	}
	form.Changed = true
	return render(c, http.StatusOK, views.PasswordCard(form))
}

func (s *Server) createToken(c echo.Context) error {
	u := mustUser(c)
	ctx := c.Request().Context()
	params, err := c.FormParams()
	if err != nil {
		return apperr.Wrap(apperr.Invalid, err, "The form could not be read.")
	}
	name, checked, expiry := params.Get("name"), params["scopes"], params.Get("expires_in")
	in := accounts.TokenInput{Name: name}
	for _, v := range checked {
		in.Scopes = append(in.Scopes, accounts.Scope(v))
	}
	lifetime, ok := tokenLifetime(expiry)
	in.ExpiresIn = lifetime
	var secret string
	if ok {
		_, secret, err = s.Accounts.CreateToken(ctx, u, in)
	} else {
		err = apperr.InvalidFields("Please correct the highlighted fields.",
			apperr.FieldError{Field: "expires_in", Message: "choose one of the offered lifetimes"})
	}

	list, lerr := s.tokenList(ctx, u.ID)
	if lerr != nil {
		return lerr
	}
	card := tokensCard(c, u, list)
	switch apperr.KindOf(err) {
	case apperr.Invalid, apperr.Forbidden:
		// Keep what was typed so the person only fixes what is wrong.
		card.Name, card.Scopes, card.Expiries = name, scopeChoices(u, checked), expiryChoices(expiry)
		card.Error, card.Fields = apperr.MessageOf(err), fieldMap(apperr.FieldsOf(err))
		return s.renderSettingsCard(c, statusOf(apperr.KindOf(err)), views.TokensSection(card), func(p *views.SettingsPage) { p.Tokens = card })
	}
	if err != nil {
		return err
	}
	// The secret cannot survive a redirect without being stored, so even
	// the plain-form fallback answers with the page itself.
	card.Secret = secret
	return s.renderSettingsCard(c, http.StatusOK, views.TokensSection(card), func(p *views.SettingsPage) { p.Tokens = card })
}

func (s *Server) revokeToken(c echo.Context) error {
	u := mustUser(c)
	ctx := c.Request().Context()
	if err := s.Accounts.RevokeToken(ctx, u.ID, c.Param("id")); err != nil {
		return err
	}
	if !isHTMX(c) {
		s.flash(c, "success", "Token revoked.")
		return redirect(c, "/settings")
	}
	list, err := s.tokenList(ctx, u.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.TokenTable(list))
}

// endSession signs one of the user's other browsers out from the list.
func (s *Server) endSession(c echo.Context) error {
	u := mustUser(c)
	if err := s.Accounts.EndSession(c.Request().Context(), u.ID, c.Param("id")); err != nil {
		return err
	}
	if !isHTMX(c) {
		s.flash(c, "success", "Signed out that browser.")
		return redirect(c, "/settings")
	}
	card, err := s.sessionsCard(c, u)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SessionsSection(card))
}

// endOtherSessions signs out every browser of the user but this one.
func (s *Server) endOtherSessions(c echo.Context) error {
	u := mustUser(c)
	ctx := c.Request().Context()
	n, err := s.Accounts.EndOtherSessions(ctx, u.ID, s.Sessions.Token(ctx))
	if err != nil {
		return err
	}
	notice := "Signed out " + itoa(n) + " other " + pluralWord(n, "session", "sessions") + "."
	if !isHTMX(c) {
		s.flash(c, "success", notice)
		return redirect(c, "/settings")
	}
	card, err := s.sessionsCard(c, u)
	if err != nil {
		return err
	}
	card.Notice = notice
	return render(c, http.StatusOK, views.SessionsSection(card))
}

// renderSettingsCard answers an htmx request with just the card, and a plain
// form post with the whole settings page, with the card's state set by set.
func (s *Server) renderSettingsCard(c echo.Context, status int, card templ.Component, set func(*views.SettingsPage)) error {
	if isHTMX(c) {
		return render(c, status, card)
	}
	page, err := s.settingsView(c, mustUser(c))
	if err != nil {
		return err
	}
	set(&page)
	return render(c, status, views.SettingsView(s.page(c, "Settings", "settings"), page))
}

// settingsView is the settings page in its resting state.
func (s *Server) settingsView(c echo.Context, u accounts.User) (views.SettingsPage, error) {
	list, err := s.tokenList(c.Request().Context(), u.ID)
	if err != nil {
		return views.SettingsPage{}, err
	}
	sessions, err := s.sessionsCard(c, u)
	if err != nil {
		return views.SettingsPage{}, err
	}
	llmCard, err := s.llmKeyCard(c, u.ID)
	if err != nil {
		return views.SettingsPage{}, err
	}
	spending, err := s.spendingCard(c, u.ID)
	if err != nil {
		return views.SettingsPage{}, err
	}
	return views.SettingsPage{
		Spending: spending,
		Profile:  views.ProfileForm{CSRFToken: csrfToken(c), Email: u.Email, Name: u.Name},
		Password: views.PasswordForm{CSRFToken: csrfToken(c), HasPassword: u.HasPassword},
		Sessions: sessions,
		Tokens:   tokensCard(c, u, list),
		LLMKey:   llmCard,
	}, nil
}

// llmKeyCard is the model key card of u.
func (s *Server) llmKeyCard(c echo.Context, userID string) (views.LLMKeyCard, error) {
	hint, err := s.LLMKeys.OwnKeyHint(c.Request().Context(), userID)
	if err != nil {
		return views.LLMKeyCard{}, err
	}
	card := views.LLMKeyCard{CSRFToken: csrfToken(c), Hint: hint}
	switch {
	case s.LLMKeys.Provisioning():
		card.Fallback = "provisioned"
	case s.LLMKeys.HasServerKey():
		card.Fallback = "server"
	}
	return card, nil
}

// saveLLMKey stores the user's own model key, sealed; the card shows only
// its hint from then on.
func (s *Server) saveLLMKey(c echo.Context) error {
	u := mustUser(c)
	_, err := s.LLMKeys.SetOwnKey(c.Request().Context(), u.ID, c.FormValue("api_key"))
	card, cerr := s.llmKeyCard(c, u.ID)
	if cerr != nil {
		return cerr
	}
	if apperr.Is(err, apperr.Invalid) {
		card.Error, card.Fields = apperr.MessageOf(err), fieldMap(apperr.FieldsOf(err))
		return s.renderSettingsCard(c, http.StatusUnprocessableEntity, views.LLMKeySection(card), func(p *views.SettingsPage) { p.LLMKey = card })
	}
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		s.flash(c, "success", "Model key saved.")
		return redirect(c, "/settings")
	}
	card.Saved = true
	return render(c, http.StatusOK, views.LLMKeySection(card))
}

// deleteLLMKey deletes the user's own model key.
func (s *Server) deleteLLMKey(c echo.Context) error {
	u := mustUser(c)
	if err := s.LLMKeys.DeleteOwnKey(c.Request().Context(), u.ID); err != nil {
		return err
	}
	if !isHTMX(c) {
		s.flash(c, "success", "Model key deleted.")
		return redirect(c, "/settings")
	}
	card, err := s.llmKeyCard(c, u.ID)
	if err != nil {
		return err
	}
	card.Deleted = true
	return render(c, http.StatusOK, views.LLMKeySection(card))
}

// sessionsCard lists the browsers signed in as u. People who sign in
// through Clerk have no sessions here: Clerk keeps them.
func (s *Server) sessionsCard(c echo.Context, u accounts.User) (views.SessionsCard, error) {
	ctx := c.Request().Context()
	card := views.SessionsCard{CSRFToken: csrfToken(c)}
	if s.Sessions.GetString(ctx, SessionUserKey) != u.ID {
		card.ManagedByClerk = true
		return card, nil
	}
	sessions, err := s.Accounts.FindSessions(ctx, u.ID, s.Sessions.Token(ctx))
	if err != nil {
		return views.SessionsCard{}, err
	}
	card.Rows = make([]views.SessionRow, 0, len(sessions))
	for _, sess := range sessions {
		card.Rows = append(card.Rows, views.SessionRow{
			ID: sess.ID, Device: describeUserAgent(sess.UserAgent), IP: sess.IP,
			CreatedAt: sess.CreatedAt, LastSeenAt: sess.LastSeenAt, Current: sess.Current,
		})
	}
	return card, nil
}

// tokensCard is the token card with an empty form and list.
func tokensCard(c echo.Context, u accounts.User, list views.TokenList) views.TokensCard {
	return views.TokensCard{
		CSRFToken: csrfToken(c),
		Scopes:    scopeChoices(u, []string{defaultTokenScope}),
		Expiries:  expiryChoices(defaultTokenExpiry),
		List:      list,
	}
}

func (s *Server) tokenList(ctx context.Context, userID string) (views.TokenList, error) {
	tokens, err := s.Accounts.ListTokens(ctx, userID)
	if err != nil {
		return views.TokenList{}, err
	}
	now := time.Now()
	list := views.TokenList{Rows: make([]views.TokenRow, 0, len(tokens))}
	for _, t := range tokens {
		row := views.TokenRow{
			ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt,
			LastUsedAt: t.LastUsedAt, ExpiresAt: t.ExpiresAt, Expired: t.Expired(now),
		}
		for _, sc := range t.Scopes {
			row.Scopes = append(row.Scopes, string(sc))
		}
		list.Rows = append(list.Rows, row)
	}
	return list, nil
}

// scopeChoices offers every scope the user may grant; only admins see the
// admin scope (the service refuses it to others regardless).
func scopeChoices(u accounts.User, checked []string) []views.ScopeChoice {
	var out []views.ScopeChoice
	for _, sc := range accounts.AllScopes {
		if sc == accounts.ScopeAdmin && !u.IsAdmin() {
			continue
		}
		out = append(out, views.ScopeChoice{Value: string(sc), Checked: slices.Contains(checked, string(sc))})
	}
	return out
}

func expiryChoices(selected string) []views.ExpiryChoice {
	out := make([]views.ExpiryChoice, 0, len(tokenExpiries))
	for _, e := range tokenExpiries {
		out = append(out, views.ExpiryChoice{Value: e.value, Label: e.label, Selected: e.value == selected})
	}
	return out
}

// tokenLifetime maps an expiry choice to a lifetime; an empty choice means
// never, as a form without the select would.
func tokenLifetime(value string) (time.Duration, bool) {
	if value == "" {
		return 0, true
	}
	for _, e := range tokenExpiries {
		if e.value == value {
			return e.lifetime, true
		}
	}
	return 0, false
}

// spendingCard is the chat cost warning card of userID.
func (s *Server) spendingCard(c echo.Context, userID string) (views.SpendingCard, error) {
	card := views.SpendingCard{CSRFToken: csrfToken(c), Default: s.Config.AgentCostWarning}
	usd, own, err := s.Agent.CostWarning(c.Request().Context(), userID, s.Config.AgentCostWarning)
	if err != nil {
		return card, err
	}
	if own {
		card.Amount = strconv.FormatFloat(usd, 'f', 2, 64)
	}
	return card, nil
}

// saveSpending keeps the cost past which the chat panel warns the user.
func (s *Server) saveSpending(c echo.Context) error {
	u := mustUser(c)
	typed := c.FormValue("cost_warning")
	err := s.Agent.SetCostWarning(c.Request().Context(), u.ID, typed)
	if apperr.Is(err, apperr.Invalid) {
		card := views.SpendingCard{CSRFToken: csrfToken(c), Default: s.Config.AgentCostWarning, Amount: typed,
			Error: apperr.MessageOf(err), Fields: fieldMap(apperr.FieldsOf(err))}
		return s.renderSettingsCard(c, http.StatusUnprocessableEntity, views.SpendingSection(card), func(p *views.SettingsPage) { p.Spending = card })
	}
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		s.flash(c, "success", "Spending warning saved.")
		return redirect(c, "/settings")
	}
	card, err := s.spendingCard(c, u.ID)
	if err != nil {
		return err
	}
	card.Saved = true
	return render(c, http.StatusOK, views.SpendingSection(card))
}
