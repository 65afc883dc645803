package textdiff

import (
	"strconv"
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

func TestCompare(t *testing.T) {
	t.Parallel()
	long := "The quick brown fox jumps over the lazy dog near the river bank."
	cases := []struct {
		name, before, after, want string
		blocks                    bool
	}{
		{"number", "9.09", "10.0", "[-9.09-]{+10.0+}", false},
		{"thousands", "1,250", "1,300.5", "[-1,250-]{+1,300.5+}", false},
		{"negative", "-3", "4", "[--3-]{+4+}", false},
		{"number in text", "costs 9.09 now", "costs 10.0 now", "costs [-9.09-]{+10.0+} now", false},
		{"small edit", long, strings.Replace(long, "lazy", "sleepy", 1), strings.Replace(long, "lazy", "[-lazy-]{+sleepy+}", 1), false},
		{"rewrite", long, "A completely different sentence about cats sleeping on warm windowsills.", "[-" + long + "-]{+A completely different sentence about cats sleeping on warm windowsills.+}", true},
		{"short words", "red", "blue", "[-red-]{+blue+}", false},
		{"empty before", "", "new text", "{+new text+}", false},
		{"words not numbers", "NaN", "Inf", "[-NaN-]{+Inf+}", false},
	}
	for _, tc := range cases {
		d := Compare(tc.before, tc.after)
		if got := render(d.Spans); got != tc.want || d.Blocks != tc.blocks {
			t.Errorf("%s: Compare(%q, %q) = %q blocks=%v, want %q blocks=%v", tc.name, tc.before, tc.after, got, d.Blocks, tc.want, tc.blocks)
		}
	}
	// Confetti: many scattered changes in a long text become blocks.
	var before, after []string
	for i := range 30 {
		before = append(before, "word"+strconv.Itoa(i), "same")
		after = append(after, "other"+strconv.Itoa(i), "same")
	}
	if d := Compare(strings.Join(before, " "), strings.Join(after, " ")); !d.Blocks {
		t.Errorf("30 scattered changes should be shown as blocks")
	}
	big := strings.Repeat("x ", blockSize)
	if d := Compare(big, big+"y"); !d.Blocks || len(d.Spans) != 2 {
		t.Errorf("values above %d bytes should be shown as blocks", blockSize)
	}
}
