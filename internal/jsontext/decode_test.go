package jsontext

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func stdDecodeObject(b []byte) (map[string]any, error) {
	out := map[string]any{}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	err := d.Decode(&out)
	return out, err
}

// FuzzFastDecodeObject checks that whatever the fast decoder accepts,
// encoding/json decodes to the same values: go test -fuzz FuzzFastDecodeObject
// ./internal/jsontext.
func FuzzFastDecodeObject(f *testing.F) {
	for _, in := range []string{`{}`, `{"a":"x\ny \"z\" \u00e9 é","b":[1,-2.5e3,null,true,{"c":{}}]}`, "{\"a\":\"r\\nr\xff\"}"} {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, ok := DecodeObject(string(in))
		if !ok {
			return
		}
		want, err := stdDecodeObject(in)
		if err != nil {
			t.Fatalf("%q: fast decoded %v, encoding/json fails: %v", in, got, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: fast %#v, encoding/json %#v", in, got, want)
		}
	})
}

func TestFastDecodeObjectMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":"x","b":-0.5e+10,"c":[1,"2",null,true,false,{"d":[]}],"e":{}}`,
		`{"t":"line\nnext \"q\" \\ \/ \b\f\r\t \u00e9 \u0001 \ud83d\ude00 é 漢字"}`,
		`{"a":1,"a":2}`, `{"n":0,"m":-0,"k":1E5,"j":12.50}`,
		`{"a":"\ud800"}`, `{"a":"\udc00x"}`, "{\"a\":\"\xff\"}", "{\"a\":\"x\xffy\\n\"}",
		`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":.5}`, `{"a":1e}`, `{"a":tru}`, `{"a" 1}`, `{"a":1,}`,
		`{"a":[1,]}`, `{"a":1} x`, `{"a":1}{}`, `[1]`, `"s"`, `{"a":"x`, "{\"a\":\"\t\"}", `{"a":"\x"}`,
		`{"a":"\u12"}`, `{"a":[1 2]}`, `{1:2}`,
		`{"a":"long run of prose\nthen more prose, \"quoted\", and é at the end"}`,
		"{\"a\":\"run\\nrun\x01\"}", "{\"a\":\"run\\nrun\xffrun\"}", `{"a":"x\\"}`,
	} {
		got, ok := DecodeObject(in)
		want, err := stdDecodeObject([]byte(in))
		if !ok {
			continue // the caller falls back to encoding/json
		}
		if err != nil {
			t.Errorf("%q: fast decoded %v, encoding/json fails: %v", in, got, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: fast %#v, encoding/json %#v", in, got, want)
		}
	}
	for _, in := range []string{`{}`, `{"a":"\ud83d\ude00","b":[1,{"c":"é"}],"d":"plain"}`, `{"x":"a\nb"}`} {
		if _, ok := DecodeObject(in); !ok {
			t.Errorf("%q: not decoded by the fast path", in)
		}
	}
}
