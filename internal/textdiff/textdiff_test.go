package textdiff

import (
	"strings"
	"testing"
)

func render(spans []Span) string {
	var b strings.Builder
	for _, s := range spans {
		switch s.Op {
		case Equal:
			b.WriteString(s.Text)
		case Delete:
			b.WriteString("[-" + s.Text + "-]")
		case Insert:
			b.WriteString("{+" + s.Text + "+}")
		}
	}
	return b.String()
}

func TestWords(t *testing.T) {
	t.Parallel()
	cases := []struct{ before, after, want string }{
		{"", "", ""},
		{"same text", "same text", "same text"},
		{"", "new", "{+new+}"},
		{"old", "", "[-old-]"},
		{"The quick brown fox", "The slow brown fox", "The [-quick-]{+slow+} brown fox"},
		{"Hello world", "Hello, brave world", "Hello{+, brave+} world"},
		{"a b c", "a c", "a [-b -]c"},
		{"café au lait", "café noir", "café [-au lait-]{+noir+}"},
		{"<script>x</script>", "<b>x</b>", "<[-script-]{+b+}>x</[-script-]{+b+}>"},
	}
	for _, tc := range cases {
		if got := render(Words(tc.before, tc.after)); got != tc.want {
			t.Errorf("Words(%q, %q) = %q, want %q", tc.before, tc.after, got, tc.want)
		}
	}
}

// TestWordsReassembles checks the invariant every view relies on: equal and
// deleted spans rebuild before; equal and inserted spans rebuild after.
func TestWordsReassembles(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("lorem ipsum dolor sit amet ", 2000)
	pairs := [][2]string{
		{"one two three", "three two one"},
		{long, strings.Replace(long, "dolor", "color", 700)},
		{long + "x", "y" + long}, // forces the coarse path: no common prefix or suffix
		{"\xff\xfe broken", "broken \xff"},
	}
	for _, p := range pairs {
		var before, after strings.Builder
		for _, s := range Words(p[0], p[1]) {
			if s.Op != Insert {
				before.WriteString(s.Text)
			}
			if s.Op != Delete {
				after.WriteString(s.Text)
			}
		}
		if before.String() != p[0] || after.String() != p[1] {
			t.Errorf("spans do not rebuild the inputs for %.30q → %.30q", p[0], p[1])
		}
	}
}

func BenchmarkWordsLongBody(b *testing.B) {
	body := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 80)
	edited := strings.Replace(body, "lazy", "sleepy", 20)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		Words(body, edited)
	}
}
