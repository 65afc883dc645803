package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/llm"
	"github.com/scratchpad/scratchpad/views"
)

// maxUserPageSize caps the ?limit= of the admin user list.
const maxUserPageSize = 100

// adminUsers lists and searches accounts. The search box asks for the
// results fragment only; everything else gets the whole page.
func (s *Server) adminUsers(c echo.Context) error {
	limit := userPageSize(c.QueryParam("limit"))
	f := accounts.UserFilter{Query: c.QueryParam("q"), Cursor: c.QueryParam("cursor"), Limit: limit}
	page, err := s.Accounts.FindUsers(c.Request().Context(), f)
	if err != nil {
		return err
	}
	list := views.AdminUserList{Query: f.Query, Limit: limit, Cursor: f.Cursor, NextCursor: page.NextCursor, Total: page.Total}
	for _, u := range page.Users {
		list.Rows = append(list.Rows, s.userRow(c, u, c.Request().URL.RequestURI(), ""))
	}
	if isHTMX(c) && !isHistoryRestore(c) {
		return render(c, http.StatusOK, views.AdminUserResults(list))
	}
	return render(c, http.StatusOK, views.AdminUsersPage(s.page(c, "Users", "admin-users"), list))
}

// adminUser shows one account with its controls and audit log.
func (s *Server) adminUser(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.Accounts.FindUserByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	audit, err := s.Accounts.AuditLog(ctx, u.ID, 100)
	if err != nil {
		return err
	}
	d := views.AdminUserDetail{Row: s.userRow(c, u, c.Request().URL.Path, ""), Audit: audit}
	if s.LLMKeys.Provisioning() {
		card, err := s.adminLLMCard(c, u.ID)
		if err != nil {
			return err
		}
		d.LLM = &card
	}
	return render(c, http.StatusOK, views.AdminUserPage(s.page(c, u.Email, "admin-users"), d))
}

// adminChangeRole makes a user an admin or a plain user.
func (s *Server) adminChangeRole(c echo.Context) error {
	role := accounts.Role(c.FormValue("role"))
	u, err := s.Accounts.ChangeRole(c.Request().Context(), mustUser(c).ID, c.Param("id"), role)
	return s.userChanged(c, u, err, func(u accounts.User) string {
		return fmt.Sprintf("%s is now %s.", u.Email, u.Role)
	})
}

// adminSetDisabled disables an account (its sessions end on their next
// request) or enables it again.
func (s *Server) adminSetDisabled(c echo.Context) error {
	disabled, perr := strconv.ParseBool(c.FormValue("disabled"))
	if perr != nil {
		return apperr.InvalidFields("Choose whether to disable the account.", apperr.FieldError{Field: "disabled", Message: "must be true or false"})
	}
	u, err := s.Accounts.SetDisabled(c.Request().Context(), mustUser(c).ID, c.Param("id"), disabled)
	return s.userChanged(c, u, err, func(u accounts.User) string {
		if u.Disabled() {
			return u.Email + " is disabled and signed out."
		}
		return u.Email + " can sign in again."
	})
}

// userChanged answers a role or status change. htmx gets the user's row
// back; when the domain refused the change, the row shows the unchanged
// state with the reason, so the select never claims a role the user does
// not have. Plain forms go back where they came from with a flash.
func (s *Server) userChanged(c echo.Context, u accounts.User, err error, success func(accounts.User) string) error {
	refused := apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.Invalid)
	if err != nil && !refused {
		return err
	}
	next := c.FormValue("next")
	if next == "" {
		next = "/admin/users/" + c.Param("id")
	}
	next = safeNext(next)
	if !isHTMX(c) {
		if refused {
			s.flash(c, "error", apperr.MessageOf(err))
		} else {
			s.flash(c, "success", success(u))
		}
		return redirect(c, next)
	}
	if !refused {
		return render(c, http.StatusOK, templ.Join(views.AdminUserTableRow(s.userRow(c, u, next, "")), views.OOBToast("success", success(u))))
	}
	current, ferr := s.Accounts.FindUserByID(c.Request().Context(), c.Param("id"))
	if ferr != nil {
		return ferr
	}
	return render(c, statusOf(apperr.KindOf(err)), views.AdminUserTableRow(s.userRow(c, current, next, apperr.MessageOf(err))))
}

func (s *Server) userRow(c echo.Context, u accounts.User, next, errMsg string) views.AdminUserRow {
	return views.AdminUserRow{User: u, Self: u.ID == mustUser(c).ID, CSRFToken: csrfToken(c), Next: next, Error: errMsg}
}

// userPageSize reads ?limit=, which tests and curious admins use to page in
// small steps; 0 leaves the domain's default.
func userPageSize(raw string) int {
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 {
		return 0
	}
	return min(n, maxUserPageSize)
}

// isHistoryRestore reports an htmx request for a page missing from its
// history cache, which needs the whole page despite the HX-Request header.
func isHistoryRestore(c echo.Context) bool {
	return c.Request().Header.Get("HX-History-Restore-Request") == "true"
}

// adminLLMCard describes userID's provisioned key; a provisioning API that
// cannot be read is said in the card, not as a failed page.
func (s *Server) adminLLMCard(c echo.Context, userID string) (views.AdminLLMCard, error) {
	card := views.AdminLLMCard{UserID: userID, CSRFToken: csrfToken(c)}
	p, ok, err := s.LLMKeys.ProvisionedKey(c.Request().Context(), userID)
	card.Provisioned, card.Hint = ok, p.Hint
	if err != nil {
		if !ok {
			return card, err
		}
		s.Logger.Warn("reading a provisioned key", "user", userID, "err", err)
		card.Error = "The provisioning API could not be read: " + llmErrorText(err)
		return card, nil
	}
	if p.Limit != nil {
		card.Limit = strconv.FormatFloat(*p.Limit, 'f', 2, 64)
	}
	card.UsageMonthly = strconv.FormatFloat(p.UsageMonthly, 'f', 2, 64)
	card.Disabled = p.Disabled
	return card, nil
}

// llmErrorText words a model service error for people.
func llmErrorText(err error) string {
	var le *llm.Error
	if errors.As(err, &le) {
		return le.UserMessage()
	}
	return "it did not answer."
}

// adminSetLLMLimit changes a user's monthly credit limit (provisioning
// their key when they have none yet).
func (s *Server) adminSetLLMLimit(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.Accounts.FindUserByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(c.FormValue("monthly_limit"))
	limit, perr := strconv.ParseFloat(raw, 64)
	if perr != nil {
		err = apperr.InvalidFields("Enter the monthly limit in US dollars, such as 10 or 12.50.", apperr.FieldError{Field: "monthly_limit", Message: "must be a number of US dollars"})
	} else {
		err = s.LLMKeys.SetMonthlyLimit(ctx, mustUser(c).ID, u.ID, limit)
	}
	var refused string
	var fields map[string]string
	switch {
	case apperr.Is(err, apperr.Invalid), apperr.Is(err, apperr.Conflict):
		refused, fields = apperr.MessageOf(err), fieldMap(apperr.FieldsOf(err))
	case err != nil:
		s.Logger.Warn("setting a monthly limit", "user", u.ID, "err", err)
		refused = "The limit could not be set: " + llmErrorText(err)
	}
	card, cerr := s.adminLLMCard(c, u.ID)
	if cerr != nil {
		return cerr
	}
	status := http.StatusOK
	if refused != "" {
		card.Error, card.Fields, card.Value, status = refused, fields, raw, http.StatusUnprocessableEntity
	} else {
		card.Saved = true
	}
	if !isHTMX(c) {
		if refused != "" {
			s.flash(c, "error", refused)
		} else {
			s.flash(c, "success", "Monthly limit saved.")
		}
		return redirect(c, "/admin/users/"+u.ID)
	}
	return render(c, status, views.AdminLLMSection(card))
}
