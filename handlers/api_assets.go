package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/assets"
)

// apiAsset is a prompt asset. Body is present on one asset and absent from
// lists, where size says how long it is.
type apiAsset struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	AutoInclude bool    `json:"auto_include"`
	SourceURL   *string `json:"source_url"`
	// Size is the body's length in bytes.
	Size      int     `json:"size"`
	Body      *string `json:"body,omitempty"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
}

func newAPIAsset(a assets.Asset, withBody bool) apiAsset {
	out := apiAsset{ID: a.ID, Name: a.Name, AutoInclude: a.AutoInclude, SourceURL: nullString(a.SourceURL),
		Size: len(a.Body), CreatedAt: apiTime(a.CreatedAt), UpdatedAt: apiTime(a.UpdatedAt)}
	if withBody {
		body := a.Body
		out.Body = &body
	}
	return out
}

// apiAssetList is the caller's assets, all on one page: one person keeps
// at most assets.MaxPerOwner.
type apiAssetList struct {
	Items      []apiAsset `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

// apiListAssets lists the caller's prompt assets by name, without bodies.
func (s *Server) apiListAssets(c echo.Context) error {
	list, err := s.Assets.List(c.Request().Context(), mustUser(c).ID)
	if err != nil {
		return err
	}
	out := apiAssetList{Items: make([]apiAsset, 0, len(list))}
	for _, a := range list {
		out.Items = append(out.Items, newAPIAsset(a, false))
	}
	return apiJSON(c, http.StatusOK, out)
}

// createAssetRequest is the body of POST /assets.
type createAssetRequest struct {
	Name        string `json:"name" required:"true"`
	Body        string `json:"body" required:"true"`
	AutoInclude bool   `json:"auto_include"`
}

// apiCreateAsset stores a new asset. It honours Idempotency-Key.
func (s *Server) apiCreateAsset(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var in createAssetRequest
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		a, err := s.Assets.Create(c.Request().Context(), mustUser(c).ID, assets.Input{Name: in.Name, Body: in.Body, AutoInclude: in.AutoInclude})
		if err != nil {
			return err
		}
		return apiJSON(c, http.StatusCreated, newAPIAsset(a, true))
	})(c)
}

// importAssetRequest is the body of POST /assets/import.
type importAssetRequest struct {
	URL         string `json:"url" required:"true"`
	Name        string `json:"name"`
	AutoInclude bool   `json:"auto_include"`
}

// apiImportAsset loads a public web page as text and stores it as a new
// asset. A page that cannot be loaded is a 422 whose url field says why.
// It honours Idempotency-Key.
func (s *Server) apiImportAsset(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var in importAssetRequest
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		a, err := s.Assets.Import(c.Request().Context(), mustUser(c).ID, assets.ImportInput{URL: in.URL, Name: in.Name, AutoInclude: in.AutoInclude})
		if err != nil {
			return err
		}
		return apiJSON(c, http.StatusCreated, newAPIAsset(a, true))
	})(c)
}

// apiGetAsset shows one asset with its body.
func (s *Server) apiGetAsset(c echo.Context) error {
	a, err := s.Assets.Get(c.Request().Context(), mustUser(c).ID, c.Param("asset"))
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPIAsset(a, true))
}

// updateAssetRequest is the body of PATCH /assets/{asset}; absent fields
// stay as they are.
type updateAssetRequest struct {
	Name        *string `json:"name"`
	Body        *string `json:"body"`
	AutoInclude *bool   `json:"auto_include"`
}

// apiUpdateAsset changes an asset.
func (s *Server) apiUpdateAsset(c echo.Context) error {
	var in updateAssetRequest
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Name == nil && in.Body == nil && in.AutoInclude == nil {
		return apperr.InvalidFields("Send name, body or auto_include.", apperr.FieldError{Field: "name", Message: "or body or auto_include is required"})
	}
	a, err := s.Assets.Update(c.Request().Context(), mustUser(c).ID, c.Param("asset"), assets.Patch{Name: in.Name, Body: in.Body, AutoInclude: in.AutoInclude})
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, newAPIAsset(a, true))
}

// apiDeleteAsset deletes an asset.
func (s *Server) apiDeleteAsset(c echo.Context) error {
	if err := s.Assets.Delete(c.Request().Context(), mustUser(c).ID, c.Param("asset")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
