package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scratchpad/scratchpad/internal/apperr"
	"github.com/scratchpad/scratchpad/internal/connectors"
	"github.com/scratchpad/scratchpad/internal/datasources"
)

// apiDataSource is a data source as the API shows it: never its
// credentials, which are write-only.
type apiDataSource struct {
	ID      string `json:"id"`
	Service string `json:"service"`
	Name    string `json:"name"`
	// Health is unknown, ok or failing, from the last check.
	Health      string  `json:"health"`
	HealthError *string `json:"health_error"`
	CheckedAt   *string `json:"checked_at"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	// UsedBy lists the workbooks with tables from the data source; present
	// on one data source, absent from lists.
	UsedBy *[]apiWorkbookRef `json:"used_by,omitempty"`
}

// apiWorkbookRef names a workbook.
type apiWorkbookRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func newAPIDataSource(d datasources.DataSource) apiDataSource {
	return apiDataSource{
		ID: d.ID, Service: d.Service, Name: d.Name, Health: d.Health, HealthError: nullString(d.HealthError),
		CheckedAt: apiTimeOrNull(d.CheckedAt), CreatedAt: apiTime(d.CreatedAt), UpdatedAt: apiTime(d.UpdatedAt),
	}
}

// apiDataSourceList is the caller's data sources, all on one page: one
// person keeps at most datasources.MaxPerOwner.
type apiDataSourceList struct {
	Items      []apiDataSource `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

// withUsedBy answers one data source with the workbooks that use it.
func (s *Server) withUsedBy(ctx context.Context, ownerID string, d datasources.DataSource) (apiDataSource, error) {
	refs, err := s.DataSources.UsedBy(ctx, ownerID, d.ID)
	if err != nil {
		return apiDataSource{}, err
	}
	used := make([]apiWorkbookRef, len(refs))
	for i, r := range refs {
		used[i] = apiWorkbookRef{ID: r.ID, Name: r.Name}
	}
	out := newAPIDataSource(d)
	out.UsedBy = &used
	return out, nil
}

// apiListDataSources lists the caller's data sources by name.
func (s *Server) apiListDataSources(c echo.Context) error {
	list, err := s.DataSources.List(c.Request().Context(), mustUser(c).ID)
	if err != nil {
		return err
	}
	out := apiDataSourceList{Items: make([]apiDataSource, 0, len(list))}
	for _, d := range list {
		out.Items = append(out.Items, newAPIDataSource(d))
	}
	return apiJSON(c, http.StatusOK, out)
}

// createDataSourceRequest is the body of POST /data-sources.
type createDataSourceRequest struct {
	Service     string            `json:"service" required:"true"`
	Name        string            `json:"name" required:"true"`
	Credentials map[string]string `json:"credentials" required:"true"`
}

// apiCreateDataSource stores a new data source; it does not contact the
// service (POST /test does). It honours Idempotency-Key.
func (s *Server) apiCreateDataSource(c echo.Context) error {
	return s.idempotent(func(c echo.Context) error {
		var in createDataSourceRequest
		if err := bindJSON(c, &in); err != nil {
			return err
		}
		ctx, owner := c.Request().Context(), mustUser(c).ID
		d, err := s.DataSources.Create(ctx, owner, datasources.CreateInput{
			Service: in.Service, Name: in.Name, Credentials: connectors.Credentials(in.Credentials),
		})
		if err != nil {
			return err
		}
		out := newAPIDataSource(d)
		out.UsedBy = &[]apiWorkbookRef{}
		return apiJSON(c, http.StatusCreated, out)
	})(c)
}

// apiGetDataSource shows one data source with the workbooks that use it.
func (s *Server) apiGetDataSource(c echo.Context) error {
	ctx, owner := c.Request().Context(), mustUser(c).ID
	d, err := s.DataSources.Get(ctx, owner, c.Param("ds"))
	if err != nil {
		return err
	}
	out, err := s.withUsedBy(ctx, owner, d)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, out)
}

// updateDataSourceRequest is the body of PATCH /data-sources/{ds}; absent
// fields stay as they are.
type updateDataSourceRequest struct {
	Name        *string            `json:"name"`
	Credentials *map[string]string `json:"credentials"`
}

// apiUpdateDataSource renames a data source and/or replaces its
// credentials; new credentials leave its health unknown until the next
// check.
func (s *Server) apiUpdateDataSource(c echo.Context) error {
	var in updateDataSourceRequest
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Name == nil && in.Credentials == nil {
		return apperr.InvalidFields("Send name, credentials or both.",
			apperr.FieldError{Field: "name", Message: "or credentials is required"})
	}
	upd := datasources.UpdateInput{Name: in.Name}
	if in.Credentials != nil {
		upd.Credentials = connectors.Credentials(*in.Credentials)
		if upd.Credentials == nil {
			upd.Credentials = connectors.Credentials{}
		}
	}
	ctx, owner := c.Request().Context(), mustUser(c).ID
	d, err := s.DataSources.Update(ctx, owner, c.Param("ds"), upd)
	if err != nil {
		return err
	}
	out, err := s.withUsedBy(ctx, owner, d)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, out)
}

// apiDeleteDataSource deletes a data source. The tables pulled from it stay
// in their workbooks but can no longer pull or publish.
func (s *Server) apiDeleteDataSource(c echo.Context) error {
	if err := s.DataSources.Delete(c.Request().Context(), mustUser(c).ID, c.Param("ds")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiTestDataSource checks the credentials against the service and answers
// with the data source and its new health. A failed check is a 200 whose
// health is failing, with the reason in health_error.
func (s *Server) apiTestDataSource(c echo.Context) error {
	ctx, owner := c.Request().Context(), mustUser(c).ID
	d, err := s.DataSources.Test(ctx, owner, c.Param("ds"))
	if err != nil {
		return err
	}
	out, err := s.withUsedBy(ctx, owner, d)
	if err != nil {
		return err
	}
	return apiJSON(c, http.StatusOK, out)
}

// apiRemoteTable is one table a data source offers.
type apiRemoteTable struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Description is a schema, a base, or null.
	Description *string `json:"description"`
	// ReadOnly says why the table cannot be written, when the service tells
	// while listing; null otherwise.
	ReadOnly *string `json:"read_only"`
}

// apiRemoteTableList is the tables of a data source that match a search.
type apiRemoteTableList struct {
	Items      []apiRemoteTable `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

// defaultRemoteTables is how many remote tables a listing returns when the
// client does not say.
const defaultRemoteTables = 50

// apiDataSourceTables lists the remote tables of a data source whose name
// contains ?search=, at most ?limit=.
func (s *Server) apiDataSourceTables(c echo.Context) error {
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = defaultRemoteTables
	}
	tables, err := s.DataSources.Tables(c.Request().Context(), mustUser(c).ID, c.Param("ds"), c.QueryParam("search"), limit)
	if err != nil {
		return err
	}
	out := apiRemoteTableList{Items: make([]apiRemoteTable, 0, len(tables))}
	for _, t := range tables {
		out.Items = append(out.Items, apiRemoteTable{ID: t.ID, Name: t.Name, Description: nullString(t.Description), ReadOnly: nullString(t.ReadOnly)})
	}
	return apiJSON(c, http.StatusOK, out)
}

// apiService is a service data sources can use, with the credentials its
// form asks for.
type apiService struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Description string               `json:"description"`
	Fields      []apiCredentialField `json:"fields"`
}

// apiCredentialField is one credential a service takes, by its key in
// POST /data-sources' credentials.
type apiCredentialField struct {
	Key         string `json:"key"`
	Label       string `json:"label"`
	Help        string `json:"help"`
	Placeholder string `json:"placeholder"`
	Secret      bool   `json:"secret"`
	Optional    bool   `json:"optional"`
}

// apiServiceList is every service this server offers, in picker order.
type apiServiceList struct {
	Items      []apiService `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

// apiListServices lists the services a data source can be created for.
func (s *Server) apiListServices(c echo.Context) error {
	out := apiServiceList{Items: []apiService{}}
	for _, svc := range s.DataSources.Registry().Services() {
		item := apiService{ID: svc.ID, Name: svc.Name, Description: svc.Description, Fields: make([]apiCredentialField, 0, len(svc.Fields))}
		for _, f := range svc.Fields {
			item.Fields = append(item.Fields, apiCredentialField{Key: f.Key, Label: f.Label, Help: f.Help,
				Placeholder: f.Placeholder, Secret: f.Secret, Optional: f.Optional})
		}
		out.Items = append(out.Items, item)
	}
	return apiJSON(c, http.StatusOK, out)
}
