package ids_test

import (
	"testing"

	"github.com/scratchpad/scratchpad/internal/ids"
)

func TestValidUUID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"0b7e4c2a-9f1d-4e3b-8a6c-5d2f1e0c9b8a", true},
		{"0B7E4C2A-9F1D-4E3B-8A6C-5D2F1E0C9B8A", true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"", false},
		{"not-a-uuid", false},
		{"0b7e4c2a9f1d4e3b8a6c5d2f1e0c9b8a", false},       // no hyphens
		{"{0b7e4c2a-9f1d-4e3b-8a6c-5d2f1e0c9b8a}", false}, // braces
		{"0b7e4c2a-9f1d-4e3b-8a6c-5d2f1e0c9b8", false},    // one digit short
		{"0b7e4c2a-9f1d-4e3b-8a6c-5d2f1e0c9b8a0", false},  // one digit long
		{"0b7e4c2a-9f1d-4e3b-8a6c_5d2f1e0c9b8a", false},   // wrong separator
		{"0b7e4c2a-9f1d-4e3b-8a6c-5d2f1e0c9b8g", false},   // not hex
		{"0b7e4c2a-9f1d-4e3b-8a6c-5d2f1e0c9bé", false},    // 36 bytes, not hex
		{"0b7e4c2a-9f1d-4e3b-8a6c--d2f1e0c9b8a", false},   // hyphen in a group
		{"' OR 1=1 --                         ", false},
	}
	for _, tt := range tests {
		if got := ids.ValidUUID(tt.in); got != tt.want {
			t.Errorf("ValidUUID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
