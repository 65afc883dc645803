package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/accounts"
	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/views"
)

func (s *Server) signUpPage(c echo.Context) error {
	if _, ok := currentUser(c); ok {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	if s.Clerk != nil {
		return c.Redirect(http.StatusSeeOther, "/signin")
	}
	return render(c, http.StatusOK, views.SignUpPage(s.page(c, "Sign up", ""), views.AuthForm{}))
}

func (s *Server) signUp(c echo.Context) error {
	if s.Clerk != nil {
		return apperr.New(apperr.NotFound, "Accounts are created through the sign-in page.")
	}
	in := accounts.SignUpInput{Email: c.FormValue("email"), Name: c.FormValue("name"), Password: c.FormValue("password")}
	u, err := s.Accounts.SignUp(c.Request().Context(), in)
	if apperr.Is(err, apperr.Invalid) {
		form := views.AuthForm{Email: in.Email, Name: in.Name, Error: apperr.MessageOf(err), Fields: fieldMap(apperr.FieldsOf(err))}
		return render(c, http.StatusUnprocessableEntity, views.SignUpPage(s.page(c, "Sign up", ""), form))
	}
	if err != nil {
		return err
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	s.flash(c, "success", "Welcome to Scratchpad!")
	return redirect(c, "/")
}

func (s *Server) signInPage(c echo.Context) error {
	if _, ok := currentUser(c); ok {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	if s.Clerk != nil {
		return render(c, http.StatusOK, views.ClerkSignInPage(s.page(c, "Sign in", "")))
	}
	return render(c, http.StatusOK, views.SignInPage(s.page(c, "Sign in", ""), views.AuthForm{Next: safeNext(c.QueryParam("next"))}))
}

func (s *Server) signIn(c echo.Context) error {
	if s.Clerk != nil {
		return apperr.New(apperr.NotFound, "Sign in through the sign-in page.")
	}
	email, next := c.FormValue("email"), safeNext(c.FormValue("next"))
	u, err := s.Accounts.Authenticate(c.Request().Context(), email, c.FormValue("password"), c.RealIP())
	switch apperr.KindOf(err) {
	case apperr.Unauthorized, apperr.Forbidden, apperr.RateLimited:
		form := views.AuthForm{Email: email, Next: next, Error: apperr.MessageOf(err)}
		return render(c, statusOf(apperr.KindOf(err)), views.SignInPage(s.page(c, "Sign in", ""), form))
	}
	if err != nil {
		return err
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return redirect(c, next)
}

// startSession signs u in on this browser with a fresh session token and a
// fresh CSRF token, so tokens planted before sign-in are worthless
// afterwards.
func (s *Server) startSession(c echo.Context, u accounts.User) error {
	ctx := c.Request().Context()
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.rotateCSRFToken(c)
	s.Sessions.Put(ctx, SessionUserKey, u.ID)
	s.Sessions.Put(ctx, sessionRoleKey, string(u.Role))
	return nil
}

func (s *Server) signOut(c echo.Context) error {
	if err := s.Sessions.Destroy(c.Request().Context()); err != nil {
		return err
	}
	return redirect(c, "/signin")
}
