// Package webfetch loads a web page as readable text, safely: for prompt
// assets imported from a URL and for the agent's load-URL tool, both of
// which fetch addresses a person or a model chose.
//
// Only http and https are fetched. Every address the fetcher connects to is
// checked after DNS resolution, in the dialer itself, so neither a redirect
// nor a name that resolves to a private address (DNS rebinding included)
// reaches loopback, private, link-local (cloud metadata services),
// unspecified, multicast or other special-purpose addresses. Redirects are
// bounded and each one is checked the same way; the body is read up to a
// size limit within a total time limit; HTML becomes text with its headings
// and paragraphs kept and its scripts, styles and navigation dropped.
package webfetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

// Page is a loaded page as text.
type Page struct {
	// URL is the page's address after redirects.
	URL   string
	Title string
	// Text is the page's readable text: Markdown-like for HTML (headings
	// as "#" lines, list items as "- " lines), as served for plain text
	// and Markdown.
	Text string
	// Truncated reports that Text was cut at Options.MaxText.
	Truncated bool
}

// Options tunes a Fetcher. The zero value is usable.
type Options struct {
	// MaxBytes is the most of a body read; a larger page is refused.
	// Default 2 MiB.
	MaxBytes int64
	// MaxText caps Page.Text in bytes (cut on a rune boundary, Truncated
	// set). Default 256 KiB.
	MaxText int
	// Timeout bounds a whole Load: resolving, connecting, redirects and
	// reading the body. Default 20 s.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed. Default 5.
	MaxRedirects int
	// UserAgent is sent with every request.
	UserAgent string

	// AllowLoopback lets tests fetch from httptest servers on 127.0.0.1
	// and [::1]. Every other refused range stays refused. Never set it
	// outside tests.
	AllowLoopback bool
	// LookupIP replaces DNS resolution, for tests (a name that resolves
	// to loopback). nil uses the system resolver.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
}

// Defaults of Options.
const (
	DefaultMaxBytes     = 2 << 20
	DefaultMaxText      = 256 << 10
	DefaultTimeout      = 20 * time.Second
	DefaultMaxRedirects = 5
	DefaultUserAgent    = "Scratchpad/1 (+page loader)"
)

// Fetcher loads pages. It is safe for concurrent use.
type Fetcher struct {
	opts   Options
	client *http.Client
}

// Error is a failed Load, worded for the person (or model) that asked:
// Error() is fit to show.
type Error struct {
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// Reasons a Load fails, for errors.Is.
var (
	ErrBlockedAddress  = errors.New("webfetch: address not allowed")
	ErrBadURL          = errors.New("webfetch: not an http(s) URL")
	ErrTooLarge        = errors.New("webfetch: page too large")
	ErrUnsupportedType = errors.New("webfetch: content type not supported")
	ErrTooManyRedirect = errors.New("webfetch: too many redirects")
	ErrTimeout         = errors.New("webfetch: timed out")
	ErrStatus          = errors.New("webfetch: the server answered with an error")
	ErrUnreachable     = errors.New("webfetch: could not connect")
)

// New returns a Fetcher with opts, defaults filled in.
func New(opts Options) *Fetcher {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxText <= 0 {
		opts.MaxText = DefaultMaxText
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	f := &Fetcher{opts: opts}
	dialer := &net.Dialer{
		Timeout: 10 * time.Second,
		// Control sees the address actually connected to, after every
		// resolution: the last word on what is reachable.
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &Error{Message: "The page's address could not be checked.", Err: ErrBlockedAddress}
			}
			return f.checkAddr(ap.Addr())
		},
	}
	transport := &http.Transport{
		// No proxy from the environment: a proxy would connect on our
		// behalf, past the dialer's check.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return f.dial(ctx, dialer, network, addr)
		},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	f.client = &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > f.opts.MaxRedirects {
				return &Error{Message: fmt.Sprintf("The page redirected more than %d times.", f.opts.MaxRedirects), Err: ErrTooManyRedirect}
			}
			return checkURL(req.URL)
		},
	}
	return f
}

// dial resolves addr's host itself, refuses it if any of its addresses is
// refused (a name pointing at both a public and a private address is not
// to be trusted), and connects to the checked addresses, so the address
// connected to is the one checked.
func (f *Fetcher) dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else if f.opts.LookupIP != nil {
		ips, err = f.opts.LookupIP(ctx, host)
		if err != nil {
			return nil, &Error{Message: fmt.Sprintf("The name %s could not be resolved.", host), Err: errors.Join(ErrUnreachable, err)}
		}
	} else {
		ips, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, &Error{Message: fmt.Sprintf("The name %s could not be resolved.", host), Err: errors.Join(ErrUnreachable, err)}
		}
	}
	if len(ips) == 0 {
		return nil, &Error{Message: fmt.Sprintf("The name %s has no address.", host), Err: ErrUnreachable}
	}
	for _, ip := range ips {
		if err := f.checkAddr(ip); err != nil {
			return nil, err
		}
	}
	var last error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// special are ranges no page is loaded from beyond what netip's predicates
// name: shared (carrier-grade NAT), IETF protocol assignments,
// documentation, benchmarking, reserved, broadcast, and IPv6 translation
// and tunnelling prefixes that embed IPv4 addresses.
var special = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
		"198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
		"64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32", "2002::/16",
		"fec0::/10",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// checkAddr refuses every address that is not a public unicast one
// (loopback too, unless AllowLoopback).
func (f *Fetcher) checkAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	if ip.IsLoopback() && f.opts.AllowLoopback {
		return nil
	}
	if Blocked(ip) {
		return &Error{Message: fmt.Sprintf("Pages on private or special network addresses (%s) cannot be loaded.", ip), Err: ErrBlockedAddress}
	}
	return nil
}

// Blocked reports whether ip is an address no page is loaded from:
// loopback, private, link-local, unspecified, multicast or another
// special-purpose range.
func Blocked(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsMulticast() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || !ip.IsGlobalUnicast() {
		return true
	}
	for _, p := range special {
		if p.Contains(ip) {
			return true
		}
	}
	return ip == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// checkURL allows http and https URLs with a host and no credentials.
func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return &Error{Message: "Only http:// and https:// pages can be loaded.", Err: ErrBadURL}
	}
	if u.Hostname() == "" {
		return &Error{Message: "The URL has no host.", Err: ErrBadURL}
	}
	if u.User != nil {
		return &Error{Message: "URLs with a user name or password cannot be loaded.", Err: ErrBadURL}
	}
	return nil
}

// Load fetches rawURL and returns it as text.
func (f *Fetcher) Load(ctx context.Context, rawURL string) (Page, error) {
	rawURL = strings.TrimSpace(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil || rawURL == "" {
		return Page{}, &Error{Message: "That is not a URL.", Err: ErrBadURL}
	}
	if err := checkURL(u); err != nil {
		return Page{}, err
	}
	u.Fragment = ""
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Page{}, &Error{Message: "That is not a URL.", Err: errors.Join(ErrBadURL, err)}
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,text/markdown,text/plain;q=0.9,*/*;q=0.1")
	res, err := f.client.Do(req)
	if err != nil {
		return Page{}, f.wrap(ctx, err)
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return Page{}, &Error{Message: fmt.Sprintf("The server answered %s.", res.Status), Err: ErrStatus}
	}
	limitMsg := fmt.Sprintf("The page is larger than %s.", sizeText(f.opts.MaxBytes))
	if res.ContentLength > f.opts.MaxBytes {
		return Page{}, &Error{Message: limitMsg, Err: ErrTooLarge}
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, f.opts.MaxBytes+1))
	if err != nil {
		return Page{}, f.wrap(ctx, err)
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return Page{}, &Error{Message: limitMsg, Err: ErrTooLarge}
	}

	ctype := res.Header.Get("Content-Type")
	if ctype == "" {
		ctype = http.DetectContentType(body)
	}
	mediaType, params, _ := mime.ParseMediaType(ctype)
	page := Page{URL: res.Request.URL.String()}
	switch mediaType {
	case "text/html", "application/xhtml+xml":
		text, err := decode(body, ctype)
		if err != nil {
			return Page{}, &Error{Message: "The page's character set could not be read.", Err: err}
		}
		page.Title, page.Text = HTMLText(text)
	case "text/plain", "text/markdown", "text/x-markdown":
		text, err := decode(body, ctype)
		if err != nil {
			return Page{}, &Error{Message: "The page's character set could not be read.", Err: err}
		}
		page.Text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
		if mediaType != "text/plain" {
			page.Title = markdownTitle(page.Text)
		}
	default:
		_ = params
		if mediaType == "" {
			mediaType = "unknown"
		}
		return Page{}, &Error{Message: fmt.Sprintf("Only HTML, Markdown and plain-text pages can be loaded; this one is %s.", mediaType), Err: ErrUnsupportedType}
	}
	if strings.ContainsRune(page.Text, 0) {
		return Page{}, &Error{Message: "The page is not text.", Err: ErrUnsupportedType}
	}
	if len(page.Text) > f.opts.MaxText {
		page.Text, page.Truncated = cut(page.Text, f.opts.MaxText), true
	}
	page.Title = cut(strings.Join(strings.Fields(page.Title), " "), 300)
	return page, nil
}

// wrap turns a client error into an *Error, keeping one the dialer or
// CheckRedirect made.
func (f *Fetcher) wrap(ctx context.Context, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Message: fmt.Sprintf("The page did not load within %s.", f.opts.Timeout.Round(time.Millisecond)), Err: errors.Join(ErrTimeout, err)}
	}
	return &Error{Message: "The page could not be loaded: the server did not answer.", Err: errors.Join(ErrUnreachable, err)}
}

// decode converts body to UTF-8 by the charset its Content-Type or content
// declares.
func decode(body []byte, ctype string) (string, error) {
	if utf8.Valid(body) && !strings.Contains(strings.ToLower(ctype), "charset=") {
		return string(body), nil
	}
	r, err := charset.NewReader(bytes.NewReader(body), ctype)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), nil
}

// markdownTitle is the text of a Markdown document's first "# " heading.
func markdownTitle(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if t, ok := strings.CutPrefix(line, "# "); ok {
			return strings.TrimSpace(t)
		}
	}
	return ""
}

// cut shortens s to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
