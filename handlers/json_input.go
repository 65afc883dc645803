package handlers

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/scratchpad/scratchpad/internal/apperr"
)

// rawJSONType is a value kept as JSON text, such as a record field's value,
// which may be any JSON value, null included.
var rawJSONType = reflect.TypeFor[json.RawMessage]()

// checkJSONInput finds what encoding/json would let through a request body
// silently, given the decoded body v and the type t it is bound into:
//
//   - null where the field cannot be null. encoding/json leaves the field as
//     if it were absent, so {"role": null, "disabled": true} would quietly
//     disable a user. A field that may be null says so with the struct tag
//     nullable:"true"; values kept as raw JSON (record fields) or as any may
//     always be null.
//   - a missing field that the request cannot do without: encoding/json
//     leaves it zero, so a batch update without "fields" would be applied
//     as an edit of nothing. Such fields carry the struct tag
//     required:"true", as the document lists them under required.
//   - NUL characters in strings and object keys, which PostgreSQL can store
//     neither in text nor in jsonb: they would fail the statement as an
//     internal error.
//
// Wrong types and unknown fields are left to the decoder, which reports
// them. The error names the field at fault, as a path such as
// creates[0].fields.
func checkJSONInput(v any, t reflect.Type, path string, nullable bool) *apperr.Error {
	if t == rawJSONType || t != nil && t.Kind() == reflect.Interface {
		t, nullable = nil, true
	}
	if v == nil {
		if t == nil || nullable {
			return nil
		}
		if path == "" {
			return apperr.New(apperr.Invalid, "The JSON body must be an object, not null.")
		}
		return invalidJSONField(path, "must not be null")
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	// Inside a value of no known type (raw JSON, or a field the decoder will
	// refuse as unknown) only NUL characters are looked for.
	untyped := t == nil
	switch x := v.(type) {
	case string:
		if strings.ContainsRune(x, 0) {
			return invalidJSONField(path, "must not contain NUL characters")
		}
	case []any:
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i, item := range x {
			if err := checkJSONInput(item, elem, path+"["+strconv.Itoa(i)+"]", untyped); err != nil {
				return err
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if name := missingRequired(t, x); name != "" {
			return invalidJSONField(joinJSONPath(path, name), "is required")
		}
		for _, k := range keys {
			if strings.ContainsRune(k, 0) {
				return invalidJSONField(path, "must not have a key with a NUL character")
			}
			child, childNullable := jsonFieldType(t, k)
			if err := checkJSONInput(x[k], child, joinJSONPath(path, k), childNullable || untyped); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonFieldType returns the type that the key of an object is decoded into
// when the object is decoded into t, and whether the field may be null. It
// matches keys to fields as encoding/json does: the exact name first, then
// one that differs only in case.
func jsonFieldType(t reflect.Type, key string) (reflect.Type, bool) {
	if t == nil {
		return nil, false
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem(), false
	case reflect.Struct:
	default:
		return nil, false
	}
	var folded *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f.Type, f.Tag.Get("nullable") == "true"
		}
		if folded == nil && strings.EqualFold(name, key) {
			folded = &f
		}
	}
	if folded != nil {
		return folded.Type, folded.Tag.Get("nullable") == "true"
	}
	return nil, false
}

// missingRequired returns the JSON name of the first field of the struct t
// tagged required:"true" that obj lacks, or "".
func missingRequired(t reflect.Type, obj map[string]any) string {
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("required") != "true" {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		if _, ok := obj[name]; ok {
			continue
		}
		found := false
		for k := range obj {
			found = found || strings.EqualFold(k, name)
		}
		if !found {
			return name
		}
	}
	return ""
}

func joinJSONPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func invalidJSONField(path, msg string) *apperr.Error {
	return apperr.InvalidFields("The JSON body is not valid: "+path+" "+msg+".",
		apperr.FieldError{Field: path, Message: msg})
}
