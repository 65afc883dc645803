package sessionstore_test

import (
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"

	"github.com/scratchpad/scratchpad/internal/sessionstore"
)

// counting is scs's in-memory store, counting the writes that reach it.
type counting struct {
	*memstore.MemStore
	commits int
}

func (c *counting) Commit(token string, b []byte, expiry time.Time) error {
	c.commits++
	return c.MemStore.Commit(token, b, expiry)
}

func TestWritesOnlyChangesAndExpiriesPastTheSlack(t *testing.T) {
	inner := &counting{MemStore: memstore.NewWithCleanupInterval(0)}
	s := sessionstore.New(inner, scs.GobCodec{}, time.Minute)
	now := time.Now().Add(time.Hour)
	commit := func(data string, expiry time.Time) {
		t.Helper()
		if err := s.Commit("tok", []byte(data), expiry); err != nil {
			t.Fatal(err)
		}
	}
	find := func() string {
		t.Helper()
		b, found, err := s.Find("tok")
		if err != nil || !found {
			t.Fatalf("find: %v %v", found, err)
		}
		return string(b)
	}

	commit("a", now)
	commit("a", now.Add(30*time.Second)) // only the expiry, within the slack
	if inner.commits != 1 {
		t.Fatalf("%d writes after an expiry-only commit within the slack, want 1", inner.commits)
	}
	commit("a", now.Add(61*time.Second)) // the expiry moved past the slack
	if inner.commits != 2 {
		t.Fatalf("%d writes after the expiry moved a minute, want 2", inner.commits)
	}
	commit("b", now.Add(62*time.Second)) // the data changed
	if inner.commits != 3 || find() != "b" {
		t.Fatalf("%d writes after a change, stored %q; want 3, b", inner.commits, find())
	}

	// Another process writes different data: this one does not know the
	// stored expiry any more and writes on its next commit, even of the
	// data it wrote before.
	if err := inner.MemStore.Commit("tok", []byte("c"), now.Add(63*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := find(); got != "c" {
		t.Fatalf("found %q, want c", got)
	}
	before := inner.commits
	commit("c", now.Add(64*time.Second))
	if inner.commits != before+1 {
		t.Fatal("a commit after another process's write was skipped")
	}
	commit("b", now.Add(65*time.Second)) // back to older data: a change, written
	if got := find(); got != "b" {
		t.Fatalf("found %q after writing b again, want b", got)
	}

	// A deleted session is written afresh.
	if err := s.Delete("tok"); err != nil {
		t.Fatal(err)
	}
	before = inner.commits
	commit("b", now.Add(66*time.Second))
	if inner.commits != before+1 || find() != "b" {
		t.Fatal("a session committed after its deletion was not written")
	}
}

// scs's gob codec writes a map's entries in random order: the same session
// encoded twice is, to the store, the same data.
func TestSameSessionInAnotherByteOrderIsNotWritten(t *testing.T) {
	inner := &counting{MemStore: memstore.NewWithCleanupInterval(0)}
	s := sessionstore.New(inner, scs.GobCodec{}, time.Minute)
	deadline := time.Now().Add(24 * time.Hour).UTC()
	values := map[string]any{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		values[k] = "value of " + k
	}
	first, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	var again []byte
	for range 100 {
		if again, err = (scs.GobCodec{}).Encode(deadline, values); err != nil {
			t.Fatal(err)
		}
		if string(again) != string(first) {
			break
		}
	}
	if string(again) == string(first) {
		t.Fatal("a map of eight entries encoded to the same bytes 100 times: the codec's order is not random any more; this test needs another way to vary the bytes")
	}
	expiry := time.Now().Add(time.Hour)
	if err := s.Commit("tok", first, expiry); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit("tok", again, expiry.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if inner.commits != 1 {
		t.Errorf("%d writes of one session in two byte orders, want 1", inner.commits)
	}
	values["a"] = "changed"
	changed, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit("tok", changed, expiry.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if inner.commits != 2 {
		t.Errorf("%d writes after a change, want 2", inner.commits)
	}
}

func TestSlackFor(t *testing.T) {
	for idle, want := range map[time.Duration]time.Duration{
		168 * time.Hour: 5 * time.Minute, 20 * time.Minute: 2 * time.Minute, 2 * time.Second: 200 * time.Millisecond,
	} {
		if got := sessionstore.SlackFor(idle); got != want {
			t.Errorf("SlackFor(%s) = %s, want %s", idle, got, want)
		}
	}
}
