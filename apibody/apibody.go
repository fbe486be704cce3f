// Package apibody decodes the bodies of API calls as strictly as the config
// file is decoded: every key must name a field, and each error names the key
// by its full path (filters.blocked_hashtags, rules[0].when.hashtags), all
// errors at once. It reads JSON, and HTML forms for calls whose body is flat
// (what `curl -d reason=...` sends), so no field a caller sent is silently
// dropped. Patch applies a JSON merge patch (RFC 7396): a partial update
// changes only what it names, and null clears a value.
package apibody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Error is a body the server refuses: Status is 400 (bad content) or 415
// (a media type the call does not take).
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// Decode decodes data, sent with contentType, into v (a pointer to a
// struct). JSON is taken with any JSON content type or none; a form
// (application/x-www-form-urlencoded or multipart/form-data) when v's
// fields are all plain values or lists of them. An empty body leaves v as
// it is.
func Decode(contentType string, data []byte, v any) error {
	t := structType(v)
	kind, err := kindOf(contentType, data, formable(t))
	if err != nil || kind == empty {
		return err
	}
	if kind == jsonBody {
		doc, err := parse(data)
		if err != nil {
			return err
		}
		if err := check(doc, t); err != nil {
			return err
		}
		return unmarshal(data, v)
	}
	doc, err := fromForm(contentType, data, t)
	if err != nil {
		return err
	}
	if err := check(doc, t); err != nil {
		return err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return badRequest("body: %v", err)
	}
	return unmarshal(raw, v)
}

// Patch applies data, a JSON merge patch (RFC 7396), to v (a pointer to a
// struct): an object changes only the keys it names, down to nested
// objects; a list replaces the list; null clears the value (back to its
// default). v changes only when the whole patch is valid.
func Patch(contentType string, data []byte, v any) error {
	t := structType(v)
	kind, err := kindOf(contentType, data, false)
	if err != nil || kind == empty {
		return err
	}
	patch, err := parse(data)
	if err != nil {
		return err
	}
	if err := check(patch, t); err != nil {
		return err
	}
	current, err := json.Marshal(v)
	if err != nil {
		return err
	}
	doc, err := parse(current)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(mergePatch(doc, patch))
	if err != nil {
		return err
	}
	fresh := reflect.New(t)
	if err := unmarshal(raw, fresh.Interface()); err != nil {
		return err
	}
	reflect.ValueOf(v).Elem().Set(fresh.Elem())
	return nil
}

// mergePatch is RFC 7396's MergePatch(target, patch).
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
		} else {
			t[k] = mergePatch(t[k], v)
		}
	}
	return t
}

func structType(v any) reflect.Type {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("apibody: want a pointer to a struct, got %T", v)) // a programming error
	}
	return t.Elem()
}

type bodyKind int

const (
	empty bodyKind = iota
	jsonBody
	formBody
)

// kindOf tells how to read a body of contentType. A form whose body is a
// JSON object is read as JSON: that is what `curl -d '{...}'` sends.
func kindOf(contentType string, data []byte, formOK bool) (bodyKind, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return empty, nil
	}
	if contentType == "" {
		return jsonBody, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return empty, badRequest("Content-Type %q cannot be read: %v", contentType, err)
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return jsonBody, nil
	case mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data":
		if trimmed[0] == '{' && mt != "multipart/form-data" {
			return jsonBody, nil
		}
		if formOK {
			return formBody, nil
		}
		return empty, &Error{Status: http.StatusUnsupportedMediaType,
			Msg: "this call takes a JSON body (Content-Type: application/json), not a form"}
	}
	accepted := "application/json"
	if formOK {
		accepted += ", application/x-www-form-urlencoded or multipart/form-data"
	}
	return empty, &Error{Status: http.StatusUnsupportedMediaType,
		Msg: fmt.Sprintf("Content-Type %s is not accepted; send %s", mt, accepted)}
}

// parse reads exactly one JSON object, keeping numbers exact.
func parse(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, badRequest("body is not valid JSON: %s", syntaxError(err, data))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("body must be one JSON object; more follows it")
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, badRequest("body must be a JSON object, like {\"reason\": \"...\"}")
	}
	return obj, nil
}

func syntaxError(err error, data []byte) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Sprintf("it ends too early (after %d bytes)", len(data))
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// unmarshal decodes checked JSON; an error left here comes from a type's
// own decoding and is reported as bad input.
func unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return badRequest("body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

var unmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// check compares doc with type t and reports every unknown key and every
// value of the wrong kind, by path.
func check(doc map[string]any, t reflect.Type) error {
	var errs []string
	walk(doc, t, "", &errs)
	if len(errs) == 0 {
		return nil
	}
	return badRequest("%s", strings.Join(errs, "; "))
}

func walk(v any, t reflect.Type, path string, errs *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil { // null: the zero value, or in a patch, clear it
		return
	}
	bad := func(want string) {
		*errs = append(*errs, fmt.Sprintf("%s: expected %s, got %s", label(path), want, show(v)))
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		raw, _ := json.Marshal(v)
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			*errs = append(*errs, fmt.Sprintf("%s: %s", label(path), strings.TrimPrefix(err.Error(), "json: ")))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			ft, ok := fields[k]
			if !ok {
				*errs = append(*errs, fmt.Sprintf("%s: unknown key; known keys here: %s", join(path, k), strings.Join(slices.Sorted(maps.Keys(fields)), ", ")))
				continue
			}
			walk(obj[k], ft, join(path, k), errs)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			bad("an object")
			return
		}
		for k, e := range obj {
			walk(e, t.Elem(), join(path, k), errs)
		}
	case reflect.Slice, reflect.Array:
		list, ok := v.([]any)
		if !ok {
			bad("a list")
			return
		}
		for i, e := range list {
			walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			bad("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			bad("true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			bad("a whole number")
			return
		}
		raw, _ := json.Marshal(n)
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			bad(fmt.Sprintf("a whole number that fits %s", t.Kind()))
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			bad("a number")
		}
	}
}

// jsonFields are the keys of struct type t as encoding/json sees them,
// with the fields of embedded structs promoted.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := fields[k]; !ok {
						fields[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	return fields
}

// formable reports whether every field of t can come from a form: plain
// values, and lists of them.
func formable(t reflect.Type) bool {
	for _, ft := range jsonFields(t) {
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if !plain(ft) {
			return false
		}
	}
	return true
}

func plain(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// fromForm turns a form into the JSON object it stands for: a list field
// takes every value of its key, a plain field exactly one.
func fromForm(contentType string, data []byte, t reflect.Type) (map[string]any, error) {
	values, err := formValues(contentType, data)
	if err != nil {
		return nil, err
	}
	fields := jsonFields(t)
	doc := map[string]any{}
	var errs []string
	for key, vals := range values {
		ft, ok := fields[key]
		if !ok {
			doc[key] = vals // check names it as unknown
			continue
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice {
			list := make([]any, len(vals))
			for i, s := range vals {
				list[i] = formValue(s, ft.Elem())
			}
			doc[key] = list
			continue
		}
		if len(vals) != 1 {
			errs = append(errs, fmt.Sprintf("%s: given %d times; give it once", key, len(vals)))
			continue
		}
		doc[key] = formValue(vals[0], ft)
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return nil, badRequest("%s", strings.Join(errs, "; "))
	}
	return doc, nil
}

// formValue reads s as the kind t wants; what does not read stays a
// string, so check reports it with its key.
func formValue(s string, t reflect.Type) any {
	switch t.Kind() {
	case reflect.Bool:
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	case reflect.String:
		return s
	default:
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return json.Number(s)
		}
	}
	return s
}

func formValues(contentType string, data []byte) (url.Values, error) {
	mt, params, _ := mime.ParseMediaType(contentType)
	if mt != "multipart/form-data" {
		values, err := url.ParseQuery(string(data))
		if err != nil {
			return nil, badRequest("body is not a valid form: %v", err)
		}
		return values, nil
	}
	form, err := multipart.NewReader(bytes.NewReader(data), params["boundary"]).ReadForm(int64(len(data)) + 1)
	if err != nil {
		return nil, badRequest("body is not a valid multipart form: %v", err)
	}
	defer form.RemoveAll()
	if len(form.File) > 0 {
		return nil, badRequest("files are not accepted here")
	}
	return form.Value, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func label(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

func show(v any) string {
	switch v := v.(type) {
	case string:
		if r := []rune(v); len(r) > 40 {
			v = string(r[:40]) + "..."
		}
		return strconv.Quote(v)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprint(v)
}
