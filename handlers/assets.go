package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/assets"
	"github.com/scratchpad/scratchpad/views"
)

// assetsPage lists the person's prompt assets, with the import form.
func (s *Server) assetsPage(c echo.Context) error {
	return s.renderAssets(c, http.StatusOK, views.AssetImportForm{})
}

func (s *Server) renderAssets(c echo.Context, status int, imp views.AssetImportForm) error {
	list, err := s.Assets.List(c.Request().Context(), mustUser(c).ID)
	if err != nil {
		return err
	}
	l := views.AssetList{Items: list, CSRFToken: csrfToken(c), Import: imp}
	return render(c, status, views.AssetsPage(s.page(c, "Prompt assets", "assets"), l))
}

func (s *Server) renderAsset(c echo.Context, status int, f views.AssetForm) error {
	title := f.Name
	if f.ID == "" {
		title = "New prompt asset"
	}
	f.CSRFToken = csrfToken(c)
	return render(c, status, views.AssetPage(s.page(c, title, "assets"), f))
}

func assetFromForm(c echo.Context) assets.Input {
	return assets.Input{Name: c.FormValue("name"), Body: c.FormValue("body"), AutoInclude: c.FormValue("auto_include") == "on"}
}

// newAssetPage is the empty editor.
func (s *Server) newAssetPage(c echo.Context) error {
	return s.renderAsset(c, http.StatusOK, views.AssetForm{})
}

// createAsset stores a new asset and opens it.
func (s *Server) createAsset(c echo.Context) error {
	in := assetFromForm(c)
	a, err := s.Assets.Create(c.Request().Context(), mustUser(c).ID, in)
	if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.Conflict) {
		return s.renderAsset(c, http.StatusUnprocessableEntity, views.AssetForm{Name: in.Name, Body: in.Body, AutoInclude: in.AutoInclude,
			Error: apperr.MessageOf(err), Errors: fieldMap(apperr.FieldsOf(err))})
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", "Prompt asset “"+a.Name+"” created.")
	return redirect(c, "/assets/"+a.ID)
}

// assetPage is the editor of one asset.
func (s *Server) assetPage(c echo.Context) error {
	a, err := s.Assets.Get(c.Request().Context(), mustUser(c).ID, c.Param("asset"))
	if err != nil {
		return err
	}
	return s.renderAsset(c, http.StatusOK, views.AssetForm{ID: a.ID, Name: a.Name, Body: a.Body, AutoInclude: a.AutoInclude, SourceURL: a.SourceURL})
}

// updateAsset saves the editor.
func (s *Server) updateAsset(c echo.Context) error {
	ctx, owner := c.Request().Context(), mustUser(c).ID
	in := assetFromForm(c)
	a, err := s.Assets.Update(ctx, owner, c.Param("asset"), assets.Patch{Name: &in.Name, Body: &in.Body, AutoInclude: &in.AutoInclude})
	if apperr.Is(err, apperr.Invalid) {
		cur, gerr := s.Assets.Get(ctx, owner, c.Param("asset"))
		if gerr != nil {
			return gerr
		}
		return s.renderAsset(c, http.StatusUnprocessableEntity, views.AssetForm{ID: cur.ID, Name: in.Name, Body: in.Body, AutoInclude: in.AutoInclude,
			SourceURL: cur.SourceURL, Error: apperr.MessageOf(err), Errors: fieldMap(apperr.FieldsOf(err))})
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", "Saved.")
	return redirect(c, "/assets/"+a.ID)
}

// deleteAsset deletes an asset after its page's confirmation.
func (s *Server) deleteAsset(c echo.Context) error {
	ctx, owner := c.Request().Context(), mustUser(c).ID
	a, err := s.Assets.Get(ctx, owner, c.Param("asset"))
	if err != nil {
		return err
	}
	if err := s.Assets.Delete(ctx, owner, a.ID); err != nil {
		return err
	}
	s.flash(c, "success", "Prompt asset “"+a.Name+"” deleted.")
	return redirect(c, "/assets")
}

// importAsset imports a web page as a new asset; a page that cannot be
// loaded is said on the list page, with what was typed.
func (s *Server) importAsset(c echo.Context) error {
	in := assets.ImportInput{URL: c.FormValue("url"), Name: c.FormValue("name"), AutoInclude: c.FormValue("auto_include") == "on"}
	a, err := s.Assets.Import(c.Request().Context(), mustUser(c).ID, in)
	if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.Conflict) {
		f := views.AssetImportForm{URL: in.URL, Name: in.Name, AutoInclude: in.AutoInclude,
			Error: apperr.MessageOf(err), Errors: fieldMap(apperr.FieldsOf(err))}
		if isHTMX(c) {
			return render(c, http.StatusUnprocessableEntity, views.AssetImportCard(csrfToken(c), f))
		}
		return s.renderAssets(c, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", "Imported “"+a.Name+"”. Check the text and edit it as you like.")
	return redirect(c, "/assets/"+a.ID)
}

// previewAsset renders the editor's Markdown (an htmx fragment).
func (s *Server) previewAsset(c echo.Context) error {
	body := c.FormValue("body")
	if len(body) > assets.MaxBody {
		body = strings.ToValidUTF8(body[:assets.MaxBody], "")
	}
	return render(c, http.StatusOK, views.AssetPreview(body))
}
