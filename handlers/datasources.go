package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/datasources"
	"github.com/scratchpad/scratchpad/views"
)

// serviceName is what people call a data source's service; the id when
// this server no longer offers it.
func (s *Server) serviceName(id string) string {
	if svc, ok := s.DataSources.Registry().Service(id); ok {
		return svc.Name
	}
	return id
}

// dataSourcesPage lists the person's data sources with their health.
func (s *Server) dataSourcesPage(c echo.Context) error {
	list, err := s.DataSources.List(c.Request().Context(), mustUser(c).ID)
	if err != nil {
		return err
	}
	l := views.DataSourceList{}
	for _, d := range list {
		l.Items = append(l.Items, views.DataSourceItem{Source: d, ServiceName: s.serviceName(d.Service)})
	}
	return render(c, http.StatusOK, views.DataSourcesPage(s.page(c, "Data sources", "data-sources"), l))
}

// newDataSourcePage shows the service picker, or with ?service= that
// service's credential form.
func (s *Server) newDataSourcePage(c echo.Context) error {
	f := views.NewDataSourceForm{Services: s.DataSources.Registry().Services(), CSRFToken: csrfToken(c)}
	if id := c.QueryParam("service"); id != "" {
		svc, ok := s.DataSources.Registry().Service(id)
		if !ok {
			return apperr.New(apperr.NotFound, "This server offers no such service.")
		}
		f.Service = &svc
	}
	return render(c, http.StatusOK, views.NewDataSourcePage(s.page(c, "Add data source", "data-sources"), f))
}

// credentialsForm reads a service's credentials from a form, where each
// is named cred_<key>. Empty optional fields are left out.
func credentialsForm(c echo.Context, svc connectors.Service) (creds connectors.Credentials, shown map[string]string) {
	creds, shown = connectors.Credentials{}, map[string]string{}
	for _, f := range svc.Fields {
		v := c.FormValue("cred_" + f.Key)
		if v == "" {
			continue
		}
		creds[f.Key] = v
		if !f.Secret {
			shown[f.Key] = v
		}
	}
	return creds, shown
}

// createDataSource stores a data source from the add form, checks it at
// once, and opens its page, which shows how the check went.
func (s *Server) createDataSource(c echo.Context) error {
	svc, ok := s.DataSources.Registry().Service(c.FormValue("service"))
	if !ok {
		return apperr.New(apperr.Invalid, "Pick one of the services offered.")
	}
	creds, shown := credentialsForm(c, svc)
	ctx, owner := c.Request().Context(), mustUser(c).ID
	d, err := s.DataSources.Create(ctx, owner, datasources.CreateInput{Service: svc.ID, Name: c.FormValue("name"), Credentials: creds})
	if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.Conflict) {
		f := views.NewDataSourceForm{Service: &svc, CSRFToken: csrfToken(c), Name: c.FormValue("name"), Values: shown,
			Error: apperr.MessageOf(err), Errors: fieldMap(apperr.FieldsOf(err))}
		return render(c, http.StatusUnprocessableEntity, views.NewDataSourcePage(s.page(c, "Add data source", "data-sources"), f))
	}
	if err != nil {
		return err
	}
	if d, err = s.DataSources.Test(ctx, owner, d.ID); err != nil {
		return err
	}
	s.flash(c, flashOfHealth(d), "Data source “"+d.Name+"” added. "+healthSentence(d))
	return redirect(c, "/data-sources/"+d.ID)
}

func flashOfHealth(d datasources.DataSource) string {
	if d.Health == datasources.HealthOK {
		return "success"
	}
	return "error"
}

func healthSentence(d datasources.DataSource) string {
	if d.Health == datasources.HealthOK {
		return "The connection works."
	}
	return "The connection test failed: " + d.HealthError
}

// dataSourceDetail is the view of one data source, with what uses it.
func (s *Server) dataSourceDetail(c echo.Context, d datasources.DataSource) (views.DataSourceDetail, error) {
	used, err := s.DataSources.UsedBy(c.Request().Context(), mustUser(c).ID, d.ID)
	if err != nil {
		return views.DataSourceDetail{}, err
	}
	svc, _ := s.DataSources.Registry().Service(d.Service)
	return views.DataSourceDetail{Source: d, Service: svc, ServiceName: s.serviceName(d.Service), UsedBy: used, CSRFToken: csrfToken(c)}, nil
}

func (s *Server) renderDataSource(c echo.Context, status int, v views.DataSourceDetail) error {
	return render(c, status, views.DataSourcePage(s.page(c, v.Source.Name, "data-sources"), v))
}

// dataSourcePage shows one data source.
func (s *Server) dataSourcePage(c echo.Context) error {
	d, err := s.DataSources.Get(c.Request().Context(), mustUser(c).ID, c.Param("ds"))
	if err != nil {
		return err
	}
	v, err := s.dataSourceDetail(c, d)
	if err != nil {
		return err
	}
	return s.renderDataSource(c, http.StatusOK, v)
}

// renameDataSource renames a data source from its page.
func (s *Server) renameDataSource(c echo.Context) error {
	ctx, owner := c.Request().Context(), mustUser(c).ID
	d, err := s.DataSources.Rename(ctx, owner, c.Param("ds"), c.FormValue("name"))
	if apperr.Is(err, apperr.Invalid) {
		refused := err
		if d, err = s.DataSources.Get(ctx, owner, c.Param("ds")); err != nil {
			return err
		}
		v, verr := s.dataSourceDetail(c, d)
		if verr != nil {
			return verr
		}
		v.Name, v.RenameErrors = c.FormValue("name"), fieldMap(apperr.FieldsOf(refused))
		return s.renderDataSource(c, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", "Renamed to “"+d.Name+"”.")
	return redirect(c, "/data-sources/"+d.ID)
}

// replaceDataSourceCredentials stores new credentials and checks them at
// once.
func (s *Server) replaceDataSourceCredentials(c echo.Context) error {
	ctx, owner := c.Request().Context(), mustUser(c).ID
	d, err := s.DataSources.Get(ctx, owner, c.Param("ds"))
	if err != nil {
		return err
	}
	svc, ok := s.DataSources.Registry().Service(d.Service)
	if !ok {
		return apperr.New(apperr.Conflict, "This server no longer offers the %q service.", d.Service)
	}
	creds, shown := credentialsForm(c, svc)
	_, err = s.DataSources.ReplaceCredentials(ctx, owner, d.ID, creds)
	if apperr.Is(err, apperr.Invalid) {
		v, verr := s.dataSourceDetail(c, d)
		if verr != nil {
			return verr
		}
		v.CredentialsError, v.CredentialsErrors, v.CredentialValues = apperr.MessageOf(err), fieldMap(apperr.FieldsOf(err)), shown
		return s.renderDataSource(c, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	if d, err = s.DataSources.Test(ctx, owner, d.ID); err != nil {
		return err
	}
	s.flash(c, flashOfHealth(d), "Credentials replaced. "+healthSentence(d))
	return redirect(c, "/data-sources/"+d.ID)
}

// testDataSource checks a data source and answers with its health card
// (htmx) or its page.
func (s *Server) testDataSource(c echo.Context) error {
	d, err := s.DataSources.Test(c.Request().Context(), mustUser(c).ID, c.Param("ds"))
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		s.flash(c, flashOfHealth(d), healthSentence(d))
		return redirect(c, "/data-sources/"+d.ID)
	}
	return render(c, http.StatusOK, views.HealthCard(d, csrfToken(c)))
}

// remoteTablesShown is how many remote tables the page lists at once.
const remoteTablesShown = 100

// dataSourceTables answers the search of a data source's tables with the
// list (an htmx fragment); a service that fails is said in place.
func (s *Server) dataSourceTables(c echo.Context) error {
	search := c.QueryParam("search")
	tables, err := s.DataSources.Tables(c.Request().Context(), mustUser(c).ID, c.Param("ds"), search, remoteTablesShown)
	r := views.RemoteTables{Tables: tables, Search: search, Limit: remoteTablesShown}
	switch {
	case apperr.Is(err, apperr.Unavailable), apperr.Is(err, apperr.Invalid), apperr.Is(err, apperr.Conflict):
		r.Error = apperr.MessageOf(err)
	case err != nil:
		return err
	}
	return render(c, http.StatusOK, views.RemoteTableList(r))
}

// deleteDataSource deletes a data source after its page's confirmation.
func (s *Server) deleteDataSource(c echo.Context) error {
	ctx, owner := c.Request().Context(), mustUser(c).ID
	d, err := s.DataSources.Get(ctx, owner, c.Param("ds"))
	if err != nil {
		return err
	}
	if err := s.DataSources.Delete(ctx, owner, d.ID); err != nil {
		return err
	}
	s.flash(c, "success", "Data source “"+d.Name+"” deleted.")
	return redirect(c, "/data-sources")
}
