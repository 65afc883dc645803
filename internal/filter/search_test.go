package filter

import (
	"strings"
	"testing"
)

func TestSearch(t *testing.T) {
	cols := []Column{{ID: "title", Name: "Title", Type: "text"}, {ID: "notes", Name: `Odd "name"`, Type: "text"}}
	got := Search([]string{"Title", `Odd "name"`}, "  it's 100%  ")
	want := `(contains("Title", 'it''s 100%') OR contains("Odd ""name""", 'it''s 100%'))`
	if got != want {
		t.Fatalf("Search = %s, want %s", got, want)
	}
	// What it builds is a filter the language compiles, alone and with
	// another.
	for _, src := range []string{got, And("Title = 'x' OR Title = 'y'", got)} {
		if _, err := Compile(src, cols, "r.fields", 0); err != nil {
			t.Errorf("compile %s: %v", src, err)
		}
	}
	if s := Search([]string{"Title"}, "   "); s != "" {
		t.Errorf("blank search = %q", s)
	}
	if s := Search(nil, "x"); s != "" {
		t.Errorf("search without columns = %q", s)
	}
	long := Search([]string{"Title"}, strings.Repeat("é", MaxSearchLength+50))
	if n := strings.Count(long, "é"); n != MaxSearchLength {
		t.Errorf("long search kept %d runes, want %d", n, MaxSearchLength)
	}
	if got := And("", "b"); got != "b" {
		t.Errorf("And(\"\", b) = %q", got)
	}
	if got := And("a", ""); got != "a" {
		t.Errorf("And(a, \"\") = %q", got)
	}
	if got := And("a OR b", "c"); got != "(a OR b) AND c" {
		t.Errorf("And = %q", got)
	}
}
