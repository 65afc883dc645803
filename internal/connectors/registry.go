package connectors

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
)

// Service describes one kind of data source: what a person types to connect
// it, and how to open a connector with that.
type Service struct {
	// ID names the service in data sources and the API: "postgres".
	ID string
	// Name is what people call it: "PostgreSQL".
	Name string
	// Description is one line under the name in the service picker.
	Description string
	// Fields are the credentials a person types, in form order.
	Fields []CredentialField
	// Validate checks credentials before anything is stored or contacted;
	// it returns an *Error of kind Invalid whose Field names the bad one.
	Validate func(Credentials) error
	// Open returns a connector for creds. It need not contact the service
	// (Test does); the caller closes it.
	Open func(ctx context.Context, creds Credentials, cfg Config) (Connector, error)
}

// CredentialField is one input of a service's credential form.
type CredentialField struct {
	Key   string
	Label string
	// Help says where to find the value, in one line.
	Help        string
	Placeholder string
	// Secret fields are typed into password inputs; no field's value is
	// ever shown again once stored.
	Secret   bool
	Optional bool
}

// Config is what a connector gets from the app besides credentials.
type Config struct {
	// HTTPClient is the client for HTTP APIs; tests point it at fakes.
	HTTPClient *http.Client
	// SaveCredentials stores credentials the connector refreshed (an OAuth
	// token that expired), sealed, in place of the old ones.
	SaveCredentials func(ctx context.Context, creds Credentials) error
	Logger          *slog.Logger
}

// Registry is the set of services the app offers.
type Registry struct {
	services []Service
}

// NewRegistry returns a registry of services, in picker order.
func NewRegistry(services ...Service) *Registry {
	return &Registry{services: slices.Clone(services)}
}

// Services lists the services in picker order.
func (r *Registry) Services() []Service { return slices.Clone(r.services) }

// Service returns the service with id.
func (r *Registry) Service(id string) (Service, bool) {
	for _, s := range r.services {
		if s.ID == id {
			return s, true
		}
	}
	return Service{}, false
}
