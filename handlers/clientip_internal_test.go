package handlers

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIPExtractor(t *testing.T) {
	t.Parallel()
	prefixes := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     string
		realIP  string
		want    string
	}{
		{name: "no proxies: the header is ignored", peer: "127.0.0.1:4000", xff: "203.0.113.9", want: "127.0.0.1"},
		{name: "no proxies: X-Real-IP is ignored", peer: "198.51.100.1:4000", realIP: "203.0.113.9", want: "198.51.100.1"},
		{name: "no proxies, IPv6 peer", peer: "[2001:db8::5]:4000", xff: "203.0.113.9", want: "2001:db8::5"},
		{name: "trusted peer: its client", trusted: prefixes("127.0.0.1/32"), peer: "127.0.0.1:4000", xff: "203.0.113.9", want: "203.0.113.9"},
		{name: "trusted peer: a spoofed entry on the left is skipped", trusted: prefixes("127.0.0.1/32"), peer: "127.0.0.1:4000", xff: "192.0.2.1, 203.0.113.9", want: "203.0.113.9"},
		{name: "trusted chain of proxies", trusted: prefixes("10.0.0.0/8"), peer: "10.0.0.2:4000", xff: "192.0.2.1, 203.0.113.9, 10.0.0.5", want: "203.0.113.9"},
		{name: "trusted peer without the header", trusted: prefixes("127.0.0.1/32"), peer: "127.0.0.1:4000", want: "127.0.0.1"},
		{name: "trusted peer, garbage header: the peer", trusted: prefixes("127.0.0.1/32"), peer: "127.0.0.1:4000", xff: strings.Repeat("x", 3000), want: "127.0.0.1"},
		{name: "trusted peer: X-Real-IP is ignored", trusted: prefixes("127.0.0.1/32"), peer: "127.0.0.1:4000", realIP: "203.0.113.9", want: "127.0.0.1"},
		{name: "untrusted peer: the header is ignored", trusted: prefixes("192.0.2.0/24"), peer: "198.51.100.1:4000", xff: "203.0.113.9", want: "198.51.100.1"},
		{name: "loopback is not trusted unless configured", trusted: prefixes("192.0.2.0/24"), peer: "127.0.0.1:4000", xff: "203.0.113.9", want: "127.0.0.1"},
		{name: "private ranges are not trusted unless configured", trusted: prefixes("192.0.2.0/24"), peer: "10.0.0.1:4000", xff: "203.0.113.9", want: "10.0.0.1"},
		{name: "link-local is not trusted unless configured", trusted: prefixes("192.0.2.0/24"), peer: "[fe80::1]:4000", xff: "203.0.113.9", want: "fe80::1"},
		{name: "IPv6 proxy range", trusted: prefixes("fd00::/8"), peer: "[fd00::7]:4000", xff: "2001:db8::9", want: "2001:db8::9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest("POST", "/signin", nil)
			req.RemoteAddr = tc.peer
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			if tc.realIP != "" {
				req.Header.Set("X-Real-IP", tc.realIP)
			}
			if got := clientIPExtractor(tc.trusted)(req); got != tc.want {
				t.Errorf("client IP %q, want %q", got, tc.want)
			}
		})
	}
}
