package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scratchpad/scratchpad/internal/apperr"
)

// TestUploadFileReportsTheBodyLimitAsTooLarge checks that the domain reads
// a body past its limit as a TooLarge error, and everything else unchanged.
func TestUploadFileReportsTheBodyLimitAsTooLarge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		want    apperr.Kind
		wantErr bool
	}{
		{"within the limit", "a\n1\n", "", false},
		{"past the limit", strings.Repeat("x", 2048), apperr.TooLarge, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(tt.body)), 1024)
			got, err := io.ReadAll(uploadFile{r: body, limit: 1024})
			if !tt.wantErr {
				if err != nil || string(got) != tt.body {
					t.Fatalf("read %q, %v", got, err)
				}
				return
			}
			if !apperr.Is(err, tt.want) || apperr.MessageOf(err) != "The file is larger than the limit of 1 KiB." {
				t.Fatalf("err = %v (%q), want %s", err, apperr.MessageOf(err), tt.want)
			}
		})
	}
}
