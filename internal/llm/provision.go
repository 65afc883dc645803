package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Provisioner manages per-user keys through OpenRouter's key-provisioning
// API (POST/GET/PATCH/DELETE {base}/keys, authorised by a management key,
// LLM_PROVISIONING_KEY), so each user spends from a key of their own with a
// monthly credit limit an admin can change.
type Provisioner struct {
	baseURL string
	key     string
	http    *http.Client
}

// NewProvisioner returns a provisioning client for baseURL (LLM_BASE_URL,
// https://openrouter.ai/api/v1) authorised by provisioningKey. hc may be
// nil.
func NewProvisioner(baseURL, provisioningKey string, hc *http.Client) *Provisioner {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Provisioner{baseURL: strings.TrimRight(baseURL, "/"), key: provisioningKey, http: hc}
}

// MonthlyReset is the limit_reset value of provisioned keys: their credit
// limit starts over on the first of each month (midnight UTC).
const MonthlyReset = "monthly"

// ProvisionedKey is a key as the provisioning API describes it. Its secret
// is returned once, by Create.
type ProvisionedKey struct {
	// Hash identifies the key in the provisioning API; it is not the secret.
	Hash     string
	Name     string
	Label    string
	Disabled bool
	// Limit is the credit limit in US dollars per LimitReset period; nil
	// means none.
	Limit *float64
	// LimitRemaining is what is left of it this period.
	LimitRemaining *float64
	LimitReset     string
	// Usage is all credit spent, UsageMonthly this month's, in US dollars.
	Usage        float64
	UsageMonthly float64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

type wireKey struct {
	Hash           string   `json:"hash"`
	Name           string   `json:"name"`
	Label          string   `json:"label"`
	Disabled       bool     `json:"disabled"`
	Limit          *float64 `json:"limit"`
	LimitRemaining *float64 `json:"limit_remaining"`
	LimitReset     *string  `json:"limit_reset"`
	Usage          float64  `json:"usage"`
	UsageMonthly   float64  `json:"usage_monthly"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      *string  `json:"updated_at"`
}

func (w wireKey) key() ProvisionedKey {
	k := ProvisionedKey{
		Hash: w.Hash, Name: w.Name, Label: w.Label, Disabled: w.Disabled,
		Limit: w.Limit, LimitRemaining: w.LimitRemaining, Usage: w.Usage, UsageMonthly: w.UsageMonthly,
	}
	if w.LimitReset != nil {
		k.LimitReset = *w.LimitReset
	}
	k.CreatedAt, _ = time.Parse(time.RFC3339, w.CreatedAt)
	if w.UpdatedAt != nil {
		k.UpdatedAt, _ = time.Parse(time.RFC3339, *w.UpdatedAt)
	}
	return k
}

// Create makes a key named name with a monthly credit limit in US dollars,
// and returns it with its secret, which the provisioning API never shows
// again: seal it (SealUserKey) before storing it.
func (p *Provisioner) Create(ctx context.Context, name string, monthlyLimit float64) (ProvisionedKey, string, error) {
	if err := checkLimit(monthlyLimit); err != nil {
		return ProvisionedKey{}, "", err
	}
	if strings.TrimSpace(name) == "" {
		return ProvisionedKey{}, "", errors.New("llm: a provisioned key needs a name")
	}
	var out struct {
		Data wireKey `json:"data"`
		Key  string  `json:"key"`
	}
	body := map[string]any{"name": name, "limit": monthlyLimit, "limit_reset": MonthlyReset}
	if err := p.do(ctx, http.MethodPost, "/keys", body, &out); err != nil {
		return ProvisionedKey{}, "", err
	}
	if out.Key == "" || out.Data.Hash == "" {
		return ProvisionedKey{}, "", &Error{Kind: KindOther, Op: opProvision, Message: "the provisioning API created a key but returned no secret or hash"}
	}
	return out.Data.key(), out.Key, nil
}

// Get describes the key hash names.
func (p *Provisioner) Get(ctx context.Context, hash string) (ProvisionedKey, error) {
	var out struct {
		Data wireKey `json:"data"`
	}
	if err := p.do(ctx, http.MethodGet, "/keys/"+url.PathEscape(hash), nil, &out); err != nil {
		return ProvisionedKey{}, err
	}
	return out.Data.key(), nil
}

// SetLimit changes a key's monthly credit limit (US dollars).
func (p *Provisioner) SetLimit(ctx context.Context, hash string, monthlyLimit float64) (ProvisionedKey, error) {
	if err := checkLimit(monthlyLimit); err != nil {
		return ProvisionedKey{}, err
	}
	return p.update(ctx, hash, map[string]any{"limit": monthlyLimit, "limit_reset": MonthlyReset})
}

// SetDisabled disables a key, or enables it again.
func (p *Provisioner) SetDisabled(ctx context.Context, hash string, disabled bool) (ProvisionedKey, error) {
	return p.update(ctx, hash, map[string]any{"disabled": disabled})
}

func (p *Provisioner) update(ctx context.Context, hash string, body map[string]any) (ProvisionedKey, error) {
	var out struct {
		Data wireKey `json:"data"`
	}
	if err := p.do(ctx, http.MethodPatch, "/keys/"+url.PathEscape(hash), body, &out); err != nil {
		return ProvisionedKey{}, err
	}
	return out.Data.key(), nil
}

// Delete removes a key for good. Deleting a key that is already gone is
// not an error.
func (p *Provisioner) Delete(ctx context.Context, hash string) error {
	err := p.do(ctx, http.MethodDelete, "/keys/"+url.PathEscape(hash), nil, nil)
	if errors.Is(err, ErrKeyNotFound) {
		return nil
	}
	return err
}

func checkLimit(limit float64) error {
	if limit < 0 || math.IsNaN(limit) || math.IsInf(limit, 0) {
		return fmt.Errorf("llm: a monthly credit limit must be zero or more US dollars, not %v", limit)
	}
	return nil
}

const opProvision = "provision"

// do sends one provisioning request and decodes a 2xx answer into out.
func (p *Provisioner) do(ctx context.Context, method, path string, body, out any) error {
	if p.key == "" {
		return &Error{Kind: KindNoKey, Op: opProvision}
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.baseURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+p.key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := p.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e := unavailable(err, "")
		e.Op = opProvision
		return e
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		e := unavailable(err, "")
		e.Op = opProvision
		return e
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		msg, code := parseWireError(data)
		e := classify(res.StatusCode, res.Header, msg, code, "")
		if res.StatusCode == http.StatusNotFound {
			e.Kind = KindKeyNotFound
		}
		e.Op = opProvision
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Kind: KindOther, Op: opProvision, Status: res.StatusCode, Message: "the provisioning API answered with something other than JSON", Err: err}
	}
	return nil
}
