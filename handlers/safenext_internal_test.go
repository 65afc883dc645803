package handlers

import (
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	t.Parallel()
	tests := []struct{ next, want string }{
		{"", "/"},
		{"/", "/"},
		{"/workbooks/abc", "/workbooks/abc"},
		{"/workbooks/abc/tables/t?filter=a%3Db&page=2#row-3", "/workbooks/abc/tables/t?filter=a%3Db&page=2#row-3"},
		{"/admin/users?q=ada%40example.com", "/admin/users?q=ada%40example.com"},
		{"/caf%C3%A9", "/caf%C3%A9"},
		// Control characters, raw or percent-encoded, anywhere.
		{"/\t/127.0.0.1:39304/x", "/"},
		{"/%09/127.0.0.1:39304/x", "/"},
		{"/\n/evil.example", "/"},
		{"/%0a/evil.example", "/"},
		{"/%0D%0ALocation:%20https://evil.example", "/"},
		{"/x?next=%00", "/"},
		{"/x#%7F", "/"},
		{"/\u0085evil", "/"},
		{"/%C2%85evil", "/"},
		{"\t//evil.example", "/"},
		// Backslashes, which browsers read as slashes.
		{"/\\evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%5cevil.example", "/"},
		{"/x/..\\..\\evil", "/"},
		// Another host, by any spelling.
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%2f%2fevil.example", "/"},
		{"https://evil.example/", "/"},
		{"HTTPS://evil.example", "/"},
		{"//user@evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"JavaScript:alert(1)", "/"},
		{"data:text/html,<script>alert(1)</script>", "/"},
		{"evil.example", "/"},
		{"./evil", "/"},
		{" /x", "/"},
		// Malformed escapes and very long values.
		{"/%zz", "/"},
		{"/%", "/"},
		{"/" + strings.Repeat("a", 4096), "/"},
		{"/?" + strings.Repeat("q=1&", 1100), "/"},
	}
	for _, tc := range tests {
		if got := safeNext(tc.next); got != tc.want {
			t.Errorf("safeNext(%.60q) = %.60q, want %q", tc.next, got, tc.want)
		}
	}
}
