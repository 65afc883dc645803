package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
)

// maxPageLimit is the largest ?limit= any list accepts (API.md).
const maxPageLimit = 500

// apiAdminUserView is a user as admins see it.
type apiAdminUserView struct {
	apiUser
	Disabled  bool   `json:"disabled"`
	CreatedAt string `json:"created_at"`
}

func newAPIAdminUser(u accounts.User) apiAdminUserView {
	return apiAdminUserView{apiUser: newAPIUser(u), Disabled: u.Disabled(), CreatedAt: apiTime(u.CreatedAt)}
}

// apiUserList is one page of the admin user list.
type apiUserList struct {
	Items      []apiAdminUserView `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

// apiAdminUsers lists users, newest first, optionally filtered by ?q=.
func (s *Server) apiAdminUsers(c echo.Context) error {
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	page, err := s.Accounts.FindUsers(c.Request().Context(), accounts.UserFilter{
		Query: c.QueryParam("q"), Cursor: c.QueryParam("cursor"), Limit: limit,
	})
	if err != nil {
		return err
	}
	out := apiUserList{Items: make([]apiAdminUserView, 0, len(page.Users))}
	for _, u := range page.Users {
		out.Items = append(out.Items, newAPIAdminUser(u))
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return apiJSON(c, http.StatusOK, out)
}

// pageLimit reads ?limit=: absent means the default page size (0); anything
// but a whole number from 1 to maxPageLimit is refused rather than quietly
// clamped, so a client's mistake is visible.
func pageLimit(c echo.Context) (int, error) {
	return optionalLimit(c, "limit", 0, maxPageLimit)
}

// optionalLimit reads an optional whole-number query parameter between 1
// and most, def when absent. Errors: Invalid.
func optionalLimit(c echo.Context, name string, def, most int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, apperr.InvalidFields("The "+name+" is not valid.",
			apperr.FieldError{Field: name, Message: "must be a whole number from 1 to " + strconv.Itoa(most)})
	}
	return n, nil
}

// apiAdminUser shows one user.
func (s *Server) apiAdminUser(c echo.Context) error {
	u, err := s.Accounts.FindUserByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPIAdminUser(u))
}

// updateUserRequest is the body of PATCH /api/v1/admin/users/{id}; absent
// fields stay as they are.
type updateUserRequest struct {
	Role     *accounts.Role `json:"role"`
	Disabled *bool          `json:"disabled"`
}

// apiAdminUpdateUser changes a user's role and/or disabled state.
//
// The two changes are separate accounts calls. Disabling goes first: its
// refusals (disabling yourself, or the last admin) are the ones that could
// otherwise strike after a role change had already been saved, while a role
// change after a successful disable can only be refused if other admins
// change at the same moment.
func (s *Server) apiAdminUpdateUser(c echo.Context) error {
	var in updateUserRequest
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Role == nil && in.Disabled == nil {
		return apperr.InvalidFields("Send role, disabled, or both.",
			apperr.FieldError{Field: "role", Message: "or disabled is required"})
	}
	if in.Role != nil && !in.Role.Valid() {
		return apperr.InvalidFields("Unknown role.", apperr.FieldError{Field: "role", Message: "must be user or admin"})
	}
	ctx, actor, target := c.Request().Context(), mustUser(c).ID, c.Param("id")
	var u accounts.User
	var err error
	if in.Disabled != nil {
		if u, err = s.Accounts.SetDisabled(ctx, actor, target, *in.Disabled); err != nil {
			return err
		}
	}
	if in.Role != nil {
		if u, err = s.Accounts.ChangeRole(ctx, actor, target, *in.Role); err != nil {
			return err
		}
	}
	return apiJSON(c, http.StatusOK, newAPIAdminUser(u))
}
