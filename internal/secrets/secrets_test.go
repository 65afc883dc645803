package secrets_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/scratchpad/scratchpad/internal/secrets"
)

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := secrets.ParseKey(secrets.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpensOnlyForItsPurposeAndUnaltered(t *testing.T) {
	r, err := secrets.NewKeyring(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"password":"hunter2"}`)
	a, b := r.Seal("data_source:1", plain), r.Seal("data_source:1", plain)
	if bytes.Equal(a, b) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if bytes.Contains(a, []byte("hunter2")) {
		t.Error("the sealed value holds the plaintext")
	}
	got, err := r.Open("data_source:1", a)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := r.Open("data_source:2", a); !errors.Is(err, secrets.ErrCorrupt) {
		t.Errorf("opened for another purpose: %v", err)
	}
	for i := range a {
		c := bytes.Clone(a)
		c[i] ^= 0x01
		if _, err := r.Open("data_source:1", c); err == nil {
			t.Fatalf("opened with byte %d flipped", i)
		}
	}
	if _, err := r.Open("data_source:1", a[:5]); !errors.Is(err, secrets.ErrCorrupt) {
		t.Errorf("short value: %v", err)
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := mustKey(t), mustKey(t)
	oldRing, _ := secrets.NewKeyring(oldKey)
	sealed := oldRing.Seal("p", []byte("s"))

	onlyNew, _ := secrets.NewKeyring(newKey)
	if _, err := onlyNew.Open("p", sealed); !errors.Is(err, secrets.ErrUnknownKey) {
		t.Fatalf("a keyring without the old key: %v", err)
	}
	both, err := secrets.NewKeyring(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if both.Current(sealed) {
		t.Error("a value sealed by the old key counts as current")
	}
	resealed, err := both.Reseal("p", sealed)
	if err != nil || !both.Current(resealed) {
		t.Fatalf("reseal: %v", err)
	}
	if got, err := onlyNew.Open("p", resealed); err != nil || string(got) != "s" {
		t.Fatalf("the new key alone opens the resealed value: %q %v", got, err)
	}
}

func TestParseKey(t *testing.T) {
	for _, bad := range []string{"", "not base64!", "c2hvcnQ=", secrets.NewKey() + "AAAA"} {
		if _, err := secrets.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	if _, err := secrets.ParseKey(" " + secrets.NewKey() + "\n"); err != nil {
		t.Error(err)
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "encryption.key")
	k1, created, err := secrets.LoadOrCreateKeyFile(path)
	if err != nil || !created || len(k1) != secrets.KeySize {
		t.Fatalf("create: %v %v", created, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	k2, created, err := secrets.LoadOrCreateKeyFile(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v %v", created, err)
	}
	os.WriteFile(path, []byte("garbage"), 0o600)
	if _, _, err := secrets.LoadOrCreateKeyFile(path); err == nil {
		t.Error("a damaged key file was accepted")
	}
}
